"""FAQ answer quality on public intent sets, through the product's path.

For each set the intents become FAQ entries (question = readable intent name, similar =
training utterances, answer = a fixed text naming the intent), written to YAML, read back with
``knowledge.importer.parse_file``, built with ``build_index``, loaded with ``load_index`` and
searched one query at a time. A dense-only MiniLM nearest-neighbour baseline runs in the same
process on the same data. Thresholds are chosen on val / oos_val only; banking77 reports
top-1 on its test split (the KB is built from train.csv only).

    .venv/bin/python -m bench.answer_quality [--sets zh_shop,clinc150,banking77] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.output import write_results
from knowledge.config import IndexConfig
from knowledge.encoders import forget_vectors, get_encoder
from knowledge.fusion import DecisionRule
from knowledge.importer import dump_file, parse_file
from knowledge.index import KnowledgeIndex, Manifest, build_index, load_index
from knowledge.learning import merge
from knowledge.normalise import normalise
from knowledge.types import FaqEntry

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "answer_quality.json"
BATCH = 128
THRESHOLDS = np.round(np.arange(0.02, 0.96, 0.01), 2)
Query = tuple[str, str | None]  # text, gold key (None = out of scope)


@dataclass(frozen=True)
class BenchSet:
    name: str
    entries: list[FaqEntry]
    tune: list[Query]  # val + oos_val: thresholds are chosen here
    report: list[Query]  # what the table reports (val for zh_shop/clinc150, test for banking77)
    report_split: str


def datasets_dir() -> Path:
    return Path(os.environ.get("KEFU_DATASETS", str(ROOT.parent / "shared" / "datasets")))


def _entry(intent: str, texts: list[str]) -> FaqEntry:
    name = intent.replace("_", " ")
    return FaqEntry(intent, "en", name, tuple(dict.fromkeys(texts)), f"[answer for intent: {name}]")


def _per_intent(rows: list[tuple[str, str]], limit: int | None, seed: int = 0) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for text, intent in rows:
        grouped[intent].append(text)
    if limit:
        rng = random.Random(seed)
        grouped = defaultdict(list, {k: rng.sample(v, min(limit, len(v))) for k, v in grouped.items()})
    return grouped


def _sample(rows: list[Any], limit: int | None, seed: int = 1) -> list[Any]:
    return rows if not limit or len(rows) <= limit else random.Random(seed).sample(rows, limit)


def load_zh_shop(quick: bool) -> BenchSet:
    data = json.loads((datasets_dir() / "zh_shop" / "faq.json").read_text(encoding="utf-8"))
    entries = [
        FaqEntry(e["id"], e["lang"], e["question"], tuple(e["similar"]), e["answer"], tuple(e["tags"]))
        for e in data["entries"]
    ]
    queries: list[Query] = [(t, k) for t, k in data["val"]] + [(t, None) for t in data["oos_val"]]
    return BenchSet("zh_shop", entries, queries, queries, "val+oos_val")


def load_clinc(quick: bool) -> BenchSet:
    data = json.loads((datasets_dir() / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    train = _per_intent([(t, i) for t, i in data["train"]], 20 if quick else None)
    entries = [_entry(intent, texts) for intent, texts in sorted(train.items())]
    val = _sample([(t, i) for t, i in data["val"]], 450 if quick else None)
    queries: list[Query] = [(t, i) for t, i in val] + [(t, None) for t, _ in data["oos_val"]]
    return BenchSet("clinc150", entries, queries, queries, "val+oos_val")


def load_banking(quick: bool) -> BenchSet:
    folder = datasets_dir() / "banking77"

    def rows(name: str) -> list[tuple[str, str]]:
        with (folder / name).open(encoding="utf-8") as handle:
            return [(r["text"], r["category"]) for r in csv.DictReader(handle)]

    # the whole train.csv and test.csv; --quick: 20 texts per intent and 500 test questions
    train = _per_intent(rows("train.csv"), 20 if quick else None)
    entries = [_entry(intent, texts) for intent, texts in sorted(train.items())]
    test: list[Query] = [(t, c) for t, c in _sample(rows("test.csv"), 500 if quick else None)]
    return BenchSet("banking77", entries, [], test, "test (top-1)")


LOADERS = {"zh_shop": load_zh_shop, "clinc150": load_clinc, "banking77": load_banking}


@dataclass(frozen=True)
class Ranked:
    gold: str | None
    keys: tuple[str, ...]  # best first (top two)
    scores: tuple[float, ...]


def outcome(r: Ranked, rule: DecisionRule) -> str:
    """A clarify is correct when the gold entry is one of the two offered (the customer picks it)."""
    decision = rule.decide(np.array(r.scores))
    if decision == "decline":
        return "declined"
    if decision == "clarify":
        return "clarified" if r.gold in r.keys[:2] else "wrong"
    return "correct" if r.gold is not None and r.keys[0] == r.gold else "wrong"


def _rates(outcomes: list[str], prefix: str) -> dict[str, float]:
    n = max(len(outcomes), 1)
    good = outcomes.count("correct") + outcomes.count("clarified")
    return {
        f"{prefix}_correct": good / n,  # includes correct clarifies
        f"{prefix}_clarified": outcomes.count("clarified") / n,  # reported separately as well
        f"{prefix}_declined": outcomes.count("declined") / n,
        f"{prefix}_wrong": outcomes.count("wrong") / n,
    }


def figures(ranked: list[Ranked], rule: DecisionRule) -> dict[str, float]:
    ins = [outcome(r, rule) for r in ranked if r.gold is not None]
    oos = [outcome(r, rule) for r in ranked if r.gold is None]
    out = _rates(ins, "in") | _rates(ins + oos, "all")
    out |= {
        "oos_declined": oos.count("declined") / max(len(oos), 1),
        "oos_wrong": (len(oos) - oos.count("declined")) / max(len(oos), 1) if oos else 0.0,
    }
    out["top1"] = sum(r.keys[0] == r.gold for r in ranked if r.gold) / max(len(ins), 1)
    return out


def choose_threshold(ranked: list[Ranked], margin: float, floor: float) -> float:
    """Most in-scope correct (a correct clarify counts) with >= 80 % OOS declined and <= 5 % wrong;
    if nothing meets both, the best correct - 3 * wrong among those declining >= 80 % OOS."""
    best, best_score, fallback, fallback_score = None, -1e9, 0.5, -1e9
    for t in THRESHOLDS:
        f = figures(ranked, DecisionRule(float(t), margin, floor))
        score = f["in_correct"]
        if f["oos_declined"] >= 0.8 and f["all_wrong"] <= 0.05 and score > best_score:
            best, best_score = float(t), score
        loose = score - 3 * f["all_wrong"] - (0 if f["oos_declined"] >= 0.8 else 1)
        if loose > fallback_score:
            fallback, fallback_score = float(t), loose
    return best if best is not None else fallback


def build_through_import(
    bench: BenchSet, config: IndexConfig, work: Path
) -> tuple[Manifest, KnowledgeIndex, int, float]:
    """The product's path: the entries written as an FAQ file, imported, built and loaded.
    Returns the manifest, the loaded index, the imported entry count and the build seconds."""
    faq = work / f"{bench.name}.yaml"
    dump_file(bench.entries, faq)
    entries = parse_file(faq)
    start = time.perf_counter()
    manifest = build_index(entries, work / bench.name, config)
    build_s = time.perf_counter() - start
    return manifest, load_index(work / bench.name, config), len(entries), build_s


def run_kefu(bench: BenchSet, config: IndexConfig, work: Path) -> dict[str, Any]:
    manifest, index, entry_count, build_s = build_through_import(bench, config, work)
    queries = list(dict.fromkeys(bench.tune + bench.report))
    start = time.perf_counter()
    found = {text: (r.keys, r.scores) for (text, _), r in zip(queries, rank(index, queries), strict=True)}
    ms = (time.perf_counter() - start) * 1000 / max(len(queries), 1)
    single = single_latency(index, [t for t, _ in queries])

    def ranked(split: list[Query]) -> list[Ranked]:
        return [Ranked(g, *found[t]) for t, g in split]

    margin, floor = config.clarify_margin, config.clarify_floor
    tuned = choose_threshold(ranked(bench.tune), margin, floor) if bench.tune else manifest.threshold
    report = ranked(bench.report)
    return {
        "threshold_default": manifest.threshold,
        "threshold_tuned": tuned,
        "at_default": figures(report, DecisionRule(manifest.threshold, margin, floor)),
        "at_tuned": figures(report, DecisionRule(tuned, margin, floor)),
        "at_tuned_no_clarify": figures(report, DecisionRule(tuned, 0.0, 1.0)),
        "ms_per_query": ms,
        "single_search_ms": single,
        "build_s": build_s,
        "entries": entry_count,
        "encoders": manifest.encoders,
    }


def rank(index: KnowledgeIndex, queries: list[Query]) -> list[Ranked]:
    """Search every query (``search_many`` == ``search``, with batched encoding); top two each."""
    texts = [t for t, _ in queries]
    found = []
    for i in range(0, len(texts), BATCH):
        found += index.search_many(texts[i : i + BATCH], k=2)
    return [
        Ranked(g, tuple(c.key for c in r.candidates), tuple(c.score for c in r.candidates))
        for (_, g), r in zip(queries, found, strict=True)
    ]


def run_learning(bench: BenchSet, config: IndexConfig, work: Path, seed: int = 7) -> dict[str, Any]:
    """Learning from use, simulated: half of the in-scope questions are "traffic" that editors
    filed under their entry (or agents answered with the unedited suggestion); they are merged
    with ``knowledge.learning.merge`` as the next publish does. The other half and every
    out-of-scope question are reported, against the KB without them, at the default threshold."""
    inscope = [q for q in bench.report if q[1] is not None]
    random.Random(seed).shuffle(inscope)
    traffic, held = inscope[: len(inscope) // 2], inscope[len(inscope) // 2 :]
    report = held + [q for q in bench.report if q[1] is None]
    learned: dict[str, list[str]] = defaultdict(list)
    for text, key in traffic:
        learned[str(key)].append(text)
    out: dict[str, Any] = {"learned": len(traffic), "reported_in_scope": len(held)}
    for label, entries in (("before", list(bench.entries)), ("after", merge(bench.entries, learned))):
        manifest = build_index(entries, work / f"{bench.name}-{label}", config)
        index = load_index(work / f"{bench.name}-{label}", config)
        rule = DecisionRule(manifest.threshold, config.clarify_margin, config.clarify_floor)
        out[label] = figures(rank(index, report), rule)
        out["threshold"] = manifest.threshold
    return out


def print_learning(result: dict[str, Any]) -> None:
    print(
        f"\n-- learning from use: {result['learned']} in-scope questions learned, "
        f"the other {result['reported_in_scope']} + OOS reported (default threshold)"
    )
    print(HEADER)
    for label in ("before", "after"):
        print(_row(f"kefu, {label} learning", result[label], result["threshold"], None))


def single_latency(index: KnowledgeIndex, texts: list[str], n: int = 40) -> dict[str, float]:
    """``search`` one question at a time (the live action path), on questions not seen before."""
    sample = _sample(texts, n, seed=2)
    for encoder in index.manifest.encoders:
        get_encoder(encoder).forget(normalise(t) for t in sample)
    times = []
    for text in sample:
        start = time.perf_counter()
        index.search(text)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95))}


def run_baseline(bench: BenchSet) -> dict[str, Any]:
    """Dense-only: MiniLM cosine nearest neighbour over all KB texts, own threshold on val."""
    encoder = get_encoder("minilm")
    texts = [(e.key, normalise(t)) for e in bench.entries for t in e.texts()]
    kb = encoder.encode([t for _, t in texts])
    keys = [k for k, _ in texts]
    queries = list(dict.fromkeys(bench.tune + bench.report))
    start = time.perf_counter()
    vectors = encoder.encode([normalise(t) for t, _ in queries])
    ms = (time.perf_counter() - start) * 1000 / max(len(queries), 1)
    sims = vectors @ kb.T
    top = sims.argmax(axis=1)
    found = {t: ((keys[top[i]],), (float(sims[i, top[i]]),)) for i, (t, _) in enumerate(queries)}

    def ranked(split: list[Query]) -> list[Ranked]:
        return [Ranked(g, *found[t]) for t, g in split]

    tuned = choose_threshold(ranked(bench.tune), 0.0, 1.0) if bench.tune else 0.0
    return {
        "threshold_tuned": tuned,
        "at_tuned": figures(ranked(bench.report), DecisionRule(tuned, 0.0, 1.0)),
        "ms_per_query_batched": ms,
    }


def _row(label: str, f: dict[str, float], threshold: float, ms: float | None) -> str:
    cells = [
        f["in_correct"],
        f["in_clarified"],
        f["in_declined"],
        f["in_wrong"],
        f["oos_declined"],
        f["oos_wrong"],
        f["all_correct"],
        f["all_wrong"],
        f["top1"],
    ]
    ms_text = f"{ms:7.1f}" if ms is not None else "      -"
    return f"{label:<28}" + "".join(f"{c * 100:7.1f}" for c in cells) + f"{threshold:7.2f}{ms_text}"


HEADER = f"{'':<28}" + "".join(
    f"{h:>7}"
    for h in (
        "in_ok",
        "in_clr",
        "in_dec",
        "in_bad",
        "oos_dec",
        "oos_bad",
        "all_ok",
        "all_bad",
        "top1",
        "thr",
        "ms/q",
    )
)


def print_set(name: str, split: str, kefu: dict[str, Any], base: dict[str, Any]) -> None:
    lat = kefu["single_search_ms"]
    print(
        f"\n== {name} ({split}); encoders {', '.join(kefu['encoders'])}; build {kefu['build_s']:.0f}s; "
        f"single search p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms"
    )
    print(HEADER)
    print(_row("kefu, val-tuned threshold", kefu["at_tuned"], kefu["threshold_tuned"], kefu["ms_per_query"]))
    print(_row("kefu, same, no clarify", kefu["at_tuned_no_clarify"], kefu["threshold_tuned"], None))
    print(_row("kefu, product default", kefu["at_default"], kefu["threshold_default"], None))
    print(_row("baseline MiniLM NN", base["at_tuned"], base["threshold_tuned"], None))
    k, b = kefu["at_tuned_no_clarify"], base["at_tuned"]
    print(
        f"ratios kefu/baseline: in-scope correct x{k['in_correct'] / max(b['in_correct'], 1e-9):.2f}, "
        f"all wrong x{k['all_wrong'] / max(b['all_wrong'], 1e-9):.2f}, "
        f"top1 x{k['top1'] / max(b['top1'], 1e-9):.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="zh_shop,clinc150,banking77")
    parser.add_argument("--quick", action="store_true", help="subsample the English sets (< 3 minutes)")
    parser.add_argument("--config", default="{}", help="IndexConfig overrides as JSON (experiments)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    overrides = json.loads(args.config)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    config = IndexConfig(**fields)
    results: dict[str, Any] = {"quick": args.quick, "config": overrides, "sets": {}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kefu-aq-") as tmp:
        for name in args.sets.split(","):
            bench = LOADERS[name](args.quick)
            kefu = run_kefu(bench, config, Path(tmp))
            base = run_baseline(bench)
            forget_vectors()
            results["sets"][name] = {"split": bench.report_split, "kefu": kefu, "baseline": base}
            print_set(name, bench.report_split, kefu, base)
            if name == "zh_shop":
                learned = run_learning(bench, config, Path(tmp))
                results["sets"][name]["learning"] = learned
                print_learning(learned)
    results["seconds"] = time.perf_counter() - started
    print(f"\ntotal {results['seconds']:.0f}s")
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
