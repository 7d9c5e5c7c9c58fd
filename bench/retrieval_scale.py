"""Retrieval at scale: 1k, 10k and 100k FAQ questions (KB texts) in the dense channel.

What is measured, per size: the FAISS index type ``knowledge.dense.make_index`` chooses, its
build time and memory (the serialised index plus the text-to-entry labels), the p50/p95 time of
one query *including encoding* (``search`` path: encode one new question with the multilingual
USE encoder, FAISS search, best similarity per entry) and, for an approximate index, the recall
it keeps against exact search (recall@10 of texts, and agreement of the top entry). With
``--publish N`` it also times two publishes of N entries (``knowledge.index.build_index`` with
the product's default encoders and calibration), reporting their progress stages: cold, then
after editing 1 % of the entries, reusing the first one's saved vectors as a publish on the same
host does. With
``--fit-costs 500,1000,2000`` it times, per KB size, each part of one fit of the channels (what
each calibration fold and the final fit repeat: the TF-IDF classifier, the vector classifier,
the adapters, BM25), on USE vectors plus a random projection of them standing in for e5.

The questions: every real question of the local datasets first (zh_shop entries and their
similar questions, clinc150 train, banking77 train: about 26k texts), then, to reach larger
sizes, synthetic questions made by joining two real questions of the same language ("A，B" /
"A and B"); every 5 texts form one entry (so 100k texts = 20k entries). The queries are the
validation questions only (zh_shop val + oos_val, clinc150 val + oos_val), never a test split.

    KEFU_DATASETS=<datasets folder> .venv/bin/python -m bench.retrieval_scale [--sizes 1000,10000,100000]
        [--queries 300] [--publish 0] [--publish-encoders use] [--fit-costs 500,1000,2000]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.answer_quality import datasets_dir
from bench.output import write_results
from knowledge.adapter import LinearAdapter
from knowledge.classifier import TextClassifier, VectorClassifier
from knowledge.config import IndexConfig
from knowledge.dense import EXACT_MAX, FaissDense, index_kind, make_index
from knowledge.encoders import forget_vectors, get_encoder
from knowledge.index import build_index
from knowledge.lexical import Bm25, tokens
from knowledge.normalise import normalise
from knowledge.saved_vectors import SavedVectors
from knowledge.types import FaqEntry

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "retrieval_scale.json"
ENCODER = "use"
TEXTS_PER_ENTRY = 5
TARGET_P95_MS = 15.0
TARGET_MEMORY_MB = 1024.0


def real_questions() -> list[tuple[str, str]]:
    """(lang, text) of every real question in the datasets' training material."""
    root = datasets_dir()
    out: list[tuple[str, str]] = []
    shop = json.loads((root / "zh_shop" / "faq.json").read_text(encoding="utf-8"))
    for e in shop["entries"]:
        out += [(e["lang"], t) for t in (e["question"], *e["similar"])]
    clinc = json.loads((root / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    out += [("en", t) for t, _ in clinc["train"]]
    with (root / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        out += [("en", r["text"]) for r in csv.DictReader(handle)]
    return list(dict.fromkeys(out))


def questions(n: int, seed: int = 0) -> list[str]:
    real = real_questions()
    if n <= len(real):
        return [t for _, t in random.Random(seed).sample(real, n)]
    rng = random.Random(seed)
    by_lang = {lang: [t for lg, t in real if lg == lang] for lang in ("zh", "en")}
    seen = {t for _, t in real}
    out = [t for _, t in real]
    while len(out) < n:
        lang = "zh" if rng.random() < 0.3 else "en"
        a, b = rng.sample(by_lang[lang], 2)
        text = f"{a}，{b}" if lang == "zh" else f"{a} and {b}"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def val_queries(limit: int, seed: int = 1) -> list[str]:
    root = datasets_dir()
    shop = json.loads((root / "zh_shop" / "faq.json").read_text(encoding="utf-8"))
    clinc = json.loads((root / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    rows = [t for t, _ in shop["val"]] + shop["oos_val"] + [t for t, _ in clinc["val"]]
    rows += [t for t, _ in clinc["oos_val"]]
    return random.Random(seed).sample(rows, min(limit, len(rows)))


def encode(texts: list[str]) -> np.ndarray:
    return get_encoder(ENCODER).encode([normalise(t) for t in texts])


def index_bytes(index: faiss.Index) -> int:
    return int(faiss.serialize_index(index).nbytes)


def measure(size: int, queries: list[str], exact_max: int) -> dict[str, Any]:
    texts = questions(size)
    start = time.perf_counter()
    vectors = encode(texts)
    encode_s = time.perf_counter() - start
    labels = np.arange(len(texts), dtype=np.int64) // TEXTS_PER_ENTRY
    n_entries = int(labels[-1]) + 1
    start = time.perf_counter()
    dense = FaissDense(make_index(vectors, exact_max), labels, n_entries)
    build_s = time.perf_counter() - start
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)

    encoder = get_encoder(ENCODER)
    encoder.forget()  # every query is encoded as a new question
    times, encode_ms, search_ms = [], [], []
    for text in queries:
        t0 = time.perf_counter()
        vector = encode([text])
        t1 = time.perf_counter()
        dense.entry_scores(vector)
        t2 = time.perf_counter()
        times.append((t2 - t0) * 1000)
        encode_ms.append((t1 - t0) * 1000)
        search_ms.append((t2 - t1) * 1000)
    query_vectors = encode(queries)
    _, approx_ids = dense.index.search(query_vectors, 10)
    _, exact_ids = exact.search(query_vectors, 10)
    recall = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx_ids, exact_ids, strict=True)]))
    top_entry = float(np.mean(labels[approx_ids[:, 0]] == labels[exact_ids[:, 0]]))
    memory = index_bytes(dense.index) + labels.nbytes
    return {
        "texts": len(texts),
        "entries": n_entries,
        "real_texts": min(len(texts), len(real_questions())),
        "index": index_kind(dense.index),
        "encode_corpus_s": round(encode_s, 1),
        "build_index_s": round(build_s, 2),
        "index_memory_mb": round(memory / 2**20, 1),
        "query_ms_p50": round(float(np.percentile(times, 50)), 2),
        "query_ms_p95": round(float(np.percentile(times, 95)), 2),
        "encode_ms_p50_p95": [round(float(np.percentile(encode_ms, q)), 2) for q in (50, 95)],
        "search_ms_p50_p95": [round(float(np.percentile(search_ms, q)), 2) for q in (50, 95)],
        "recall_at_10_vs_exact": round(recall, 4),
        "top_entry_agreement_vs_exact": round(top_entry, 4),
    }


def publish_time(
    entries: int, encoders: tuple[str, ...] | None = None, edited: float = 0.01
) -> dict[str, Any]:
    """Two builds of ``entries`` entries, as two publishes on one host: cold (nothing encoded
    before), then warm after editing ``edited`` of the entries (a new similar question and a new
    answer each), reusing the first build's saved vectors. The product's calibration, and its
    default encoders unless ``encoders`` names others."""
    texts = questions(entries * TEXTS_PER_ENTRY, seed=3)
    rows = [
        FaqEntry(
            f"e{i}",
            "zh",
            texts[i * TEXTS_PER_ENTRY],
            tuple(texts[i * TEXTS_PER_ENTRY + 1 : (i + 1) * TEXTS_PER_ENTRY]),
            f"answer {i}",
        )
        for i in range(entries)
    ]
    step = max(1, round(1 / edited)) if edited else 0
    changed = [
        dataclasses.replace(e, similar=(*e.similar[:-1], f"请问{e.similar[-1]}"), answer=f"{e.answer} (v2)")
        if step and i % step == 0
        else e
        for i, e in enumerate(rows)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "vectors"
        config = IndexConfig(encoders=encoders)
        runs = {
            name: timed_build(name, kb, Path(tmp) / name, config, saved)
            for name, kb in (("cold", rows), ("warm", changed))
        }
    return {
        "entries": entries,
        "encoders": encoders or "default",
        "edited_entries": sum(a is not b for a, b in zip(rows, changed, strict=True)),
        "seconds": runs["cold"]["seconds"],
        "warm_seconds": runs["warm"]["seconds"],
        **runs,
    }


def timed_build(name: str, kb: list[FaqEntry], out: Path, config: IndexConfig, saved: Path) -> dict[str, Any]:
    """One build as a publish in a new process does it: nothing remembered but the saved vectors."""
    stages: list[dict[str, Any]] = []
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        at = round(time.perf_counter() - start, 1)
        stages.append({"stage": stage, "done": done, "total": total, "at_s": at})
        print(f"  {name} publish: {stage} {done}/{total} at {at} s", flush=True)

    forget_vectors()
    build_index(kb, out, config, progress, saved=SavedVectors(saved))
    return {"seconds": round(time.perf_counter() - start, 1), "progress": stages}


def fit_costs(entries: int) -> dict[str, Any]:
    """Seconds of each part of one fit of the channels on ``entries`` entries."""
    texts = [normalise(t) for t in questions(entries * TEXTS_PER_ENTRY, seed=3)]
    labels = np.arange(len(texts), dtype=np.int64) // TEXTS_PER_ENTRY
    start = time.perf_counter()
    use = encode(texts)
    out: dict[str, Any] = {"entries": entries, "texts": len(texts)}
    out["encode_use_s"] = time.perf_counter() - start
    projection = np.random.default_rng(0).standard_normal((use.shape[1], 384)).astype(np.float32)
    second = use @ projection
    second /= np.linalg.norm(second, axis=1, keepdims=True)
    words = [tokens(t) for t in texts]
    parts: dict[str, Callable[[], object]] = {
        "text_clf_s": lambda: TextClassifier.fit(texts, words, labels, entries),
        "vector_clf_s": lambda: VectorClassifier.fit([use, second], labels, entries),
        "adapters_s": lambda: [LinearAdapter.fit(v, labels) for v in (use, second)],
        "bm25_s": lambda: Bm25.fit(words),
    }
    for name, fit in parts.items():
        start = time.perf_counter()
        fit()
        out[name] = time.perf_counter() - start
    print("  " + "  ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in out.items()))
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--exact-max", type=int, default=EXACT_MAX)
    parser.add_argument("--publish", type=int, default=0, help="also time a full publish of N entries")
    parser.add_argument("--publish-encoders", default="", help="e.g. use: the publish without e5")
    parser.add_argument("--fit-costs", default="", help="KB sizes (entries): time one fit at each")
    parser.add_argument("--out", default=str(RESULTS), help="where to write the JSON")
    args = parser.parse_args(argv)
    queries = val_queries(args.queries)
    encode(queries[:8])  # load the encoder outside the timings
    out: dict[str, Any] = {
        "encoder": ENCODER,
        "exact_max": args.exact_max,
        "queries": len(queries),
        "targets": {"query_ms_p95_at_100k": TARGET_P95_MS, "index_memory_mb": TARGET_MEMORY_MB},
        "sizes": [],
    }
    header = (
        f"{'texts':>8} {'entries':>8} {'index':>6} {'build s':>8} {'MB':>7} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'recall@10':>9} {'top entry':>9} {'encode p95':>10} {'search p95':>10}"
    )
    print(header)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        r = measure(size, queries, args.exact_max)
        out["sizes"].append(r)
        print(
            f"{r['texts']:>8} {r['entries']:>8} {r['index']:>6} {r['build_index_s']:>8}"
            f" {r['index_memory_mb']:>7} {r['query_ms_p50']:>7} {r['query_ms_p95']:>7}"
            f" {r['recall_at_10_vs_exact']:>9.1%} {r['top_entry_agreement_vs_exact']:>9.1%}"
            f" {r['encode_ms_p50_p95'][1]:>10} {r['search_ms_p50_p95'][1]:>10}",
            flush=True,
        )
    if args.publish:
        names = tuple(n for n in args.publish_encoders.split(",") if n) or None
        out["publish"] = publish_time(args.publish, names)
        p = out["publish"]
        print(
            f"publish of {args.publish} entries: cold {p['seconds']} s,"
            f" warm after editing {p['edited_entries']}: {p['warm_seconds']} s"
        )
    if args.fit_costs:
        out["fit_costs"] = [fit_costs(int(n)) for n in args.fit_costs.split(",") if n]
    write_results(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
