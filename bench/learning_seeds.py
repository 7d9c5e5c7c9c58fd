"""Learning from use across calibration seeds: how much of a ``bench.learning`` result is noise.

The calibrator of every published version is fit on a random cross-validation split of the KB's
own texts (``IndexConfig.seed``); one more learned wording changes that split, so a single run
of ``bench.learning`` mixes what was learned with which split the new version drew. This runs
the same loop in process (``build_index`` and ``search_many``, no service) once per seed: the
same halves of zh_shop val + oos_val, the first half asked cold, every in-scope question the bot
declined or answered wrongly filed under its entry (what the simulated editor does through the
API), the learned version built with the same seed, the second half asked of both versions.
Validation data only.

    KEFU_DATASETS=<datasets folder> .venv/bin/python -m bench.learning_seeds [--seeds 0,1,2,3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.answer_quality import LOADERS, Query
from bench.learning import Outcome, halves, rates
from bench.output import write_results
from knowledge.config import IndexConfig
from knowledge.index import KnowledgeIndex, build_index, load_index
from knowledge.learning import merge
from knowledge.types import Decision

KEYS = ("in_correct", "in_declined", "all_wrong", "oos_declined", "top1")


def asked(index: KnowledgeIndex, queries: list[Query]) -> list[tuple[Outcome, Decision]]:
    """What a customer gets (scored as ``bench.learning`` does; ``key`` is the top candidate),
    with the index's decision."""
    out = []
    results = index.search_many([t for t, _ in queries], "zh", 5)
    for (text, gold), result in zip(queries, results, strict=True):
        keys = [c.key for c in result.candidates]
        top = keys[0] if keys else None
        if result.decision == "decline":
            verdict = "declined"
        elif result.decision == "clarify":
            verdict = "clarified" if gold in keys[:2] else "wrong"
        else:
            verdict = "correct" if gold is not None and top == gold else "wrong"
        out.append((Outcome(text, gold, verdict, top), result.decision))
    return out


def filed(first: list[tuple[Outcome, Decision]]) -> dict[str, list[str]]:
    """The editor's decisions: each in-scope question declined, or answered wrongly (rated
    unhelpful), filed under its entry; newest first, as ``knowledge.learning`` lists them."""
    learned: dict[str, list[str]] = {}
    for outcome, decision in first:
        if outcome.gold is not None and (
            outcome.result == "declined" or (outcome.result == "wrong" and decision == "answer")
        ):
            learned.setdefault(outcome.gold, []).insert(0, outcome.text)
    return learned


def scored(asked: list[tuple[Outcome, Decision]]) -> dict[str, float]:
    outcomes = [o for o, _ in asked]
    ins = [o for o in outcomes if o.gold is not None]
    return rates(outcomes) | {"top1": sum(o.key == o.gold for o in ins) / max(len(ins), 1)}


def run_seed(seed: int, work: Path, halves_seed: int) -> dict[str, Any]:
    bench = LOADERS["zh_shop"](False)
    first, second = halves(bench.report, halves_seed)
    config = replace(IndexConfig(), seed=seed)
    build_index(bench.entries, work / f"cold-{seed}", config)
    cold = load_index(work / f"cold-{seed}", config)
    asked_first = asked(cold, first)
    learned = filed(asked_first)
    build_index(merge(bench.entries, learned), work / f"learned-{seed}", config)
    after = load_index(work / f"learned-{seed}", config)
    return {
        "learned": sum(len(v) for v in learned.values()),
        "first_half_cold": scored(asked_first),
        "second_half_cold": scored(asked(cold, second)),
        "second_half_after": scored(asked(after, second)),
    }


def mean(runs: list[dict[str, Any]], part: str) -> dict[str, float]:
    return {k: round(sum(r[part][k] for r in runs) / len(runs), 4) for k in KEYS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3", help="calibration seeds (IndexConfig.seed)")
    parser.add_argument("--halves-seed", type=int, default=7, help="bench.learning's --seed")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    start = time.perf_counter()
    runs: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            runs[seed] = run_seed(seed, Path(tmp), args.halves_seed)
            r = runs[seed]
            cold, after = r["second_half_cold"], r["second_half_after"]
            changes = ", ".join(f"{k} {cold[k]:.1%} -> {after[k]:.1%}" for k in KEYS)
            print(f"seed {seed}: {r['learned']} learned; second half {changes}", flush=True)
    listed = list(runs.values())
    out = {
        "set": "zh_shop",
        "split": "val+oos_val",
        "halves_seed": args.halves_seed,
        "seeds": runs,
        "mean": {part: mean(listed, part) for part in ("second_half_cold", "second_half_after")},
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"mean over seeds {seeds}: {json.dumps(out['mean'])}")
    write_results(out, "learning_seeds.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
