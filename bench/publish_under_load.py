"""Publish and rollback under a load of bot turns: failures and latency against a quiet window.

Starts the whole system (a private Redis and PostgreSQL, Rasa with the trained model in
bot/models, the action server, two service replicas) with the demo data. Web customers
(``--seats``, new visitors one after another, spread over the replicas, a think time between
turns) ask demo FAQ questions the whole time. After a quiet window of ``--quiet`` seconds an
editor, through the API, publishes a new version (one entry's answer changed, so the answers
tell the versions apart; the build runs inside replica 0), waits until customers get the new
answer, rolls back to the version before and waits until they get the old one again.

The turns are split by when they were sent: ``quiet`` (before the publish was asked),
``publish`` (from the publish's POST until customers got the new answer, plus ``SETTLE``
seconds: the build and every process loading the new version), ``between``, ``rollback`` (from
the activation until customers got the old answer, plus ``SETTLE``) and ``after``. Per window:
turns, failed turns (any non-200 in the end, or any 5xx met on the way), p50/p95 latency, and
their ratio to the quiet window of the same run. Also checked from the database: every customer
message stored once, marked done, with exactly the replies the customer got.

    .venv/bin/python -m bench.publish_under_load [--seats 10] [--quiet 90] [--think 1,3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.message_path import percentile, warm_up
from bench.output import write_results
from bench.soak import MACHINE_NOTE
from tests.support import publishing
from tests.support.customers import Customers, Question, Turn
from tests.support.processes import create_database, postgres_server, redis_server
from tests.support.stack import Stack, running_stack

CHANGED = "gift-wrapping-zh"
PROBE = Question("zh", "可以提供礼品包装吗？")  # CHANGED's own question
QUESTIONS = [
    PROBE,
    Question("zh", "退款多久能到账？"),
    Question("zh", "怎么开发票？"),
    Question("zh", "支持哪些支付方式？"),
    Question("en", "How long does a refund take?"),
    Question("en", "How do I cancel an order?"),
]
SETTLE = 10.0  # seconds after customers first saw a switch that still count to it
WINDOWS = ("quiet", "publish", "between", "rollback", "after")


def window_of(turn: Turn, bounds: Sequence[float]) -> str:
    """``bounds``: when publish, between, rollback and after begin (time.monotonic())."""
    return WINDOWS[sum(1 for b in bounds if turn.sent >= b)]


def summary(turns: Sequence[Turn], quiet: dict[str, Any] | None = None) -> dict[str, Any]:
    latencies = [t.latency_ms for t in turns if t.ok] or [0.0]
    row: dict[str, Any] = {
        "turns": len(turns),
        "failed": sum(1 for t in turns if not t.ok or t.server_errors),
        "retried": sum(1 for t in turns if len(t.statuses) > 1),
        "p50_ms": round(percentile(latencies, 0.50)),
        "p95_ms": round(percentile(latencies, 0.95)),
    }
    if quiet is not None and quiet["p50_ms"] and quiet["p95_ms"]:
        row["p50_vs_quiet"] = round(row["p50_ms"] / quiet["p50_ms"], 2)
        row["p95_vs_quiet"] = round(row["p95_ms"] / quiet["p95_ms"], 2)
    return row


def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    url = stack.service_url
    editor = stack.staff("bench-editor", role="editor")
    before = publishing.versions(url, editor)["active"]
    low, high = (float(x) for x in args.think.split(","))
    with (
        publishing.changed_answer(url, editor, CHANGED) as marker,
        Customers(stack.service_urls, QUESTIONS, seats=args.seats, turns=3, think=(low, high)) as load,
    ):
        time.sleep(args.quiet)
        print(f"quiet window: {len(load.turns())} turns; publishing", flush=True)
        published = publishing.publish(url, editor)
        print(
            f"published version {published.version} in {published.done - published.asked:.0f} s", flush=True
        )
        new = publishing.wait_for_answer(load.turns, PROBE, marker, present=True, after=published.done)
        assert new is not None, "the customers never got the new version's answer"
        time.sleep(SETTLE)
        rollback = publishing.activate(url, editor, before)
        old = publishing.wait_for_answer(load.turns, PROBE, marker, present=False, after=rollback)
        assert old is not None, "the customers never got the old answer again after the rollback"
        time.sleep(SETTLE + args.after)
    turns = load.turns()
    bounds = (published.asked, new.answered + SETTLE, rollback, old.answered + SETTLE)
    split = {name: [t for t in turns if window_of(t, bounds) == name] for name in WINDOWS}
    quiet = summary(split["quiet"])
    probes = [t for t in turns if t.question == PROBE]
    return {
        "windows": {name: summary(split[name], quiet) for name in WINDOWS},
        "publish": {
            "seconds": round(published.done - published.asked, 1),
            "new_answer_seen_after_s": round(new.answered - published.done, 1),
            "progress_seen": list(published.progress),
        },
        "rollback": {"old_answer_seen_after_s": round(old.answered - rollback, 1)},
        "transcript_problems": publishing.transcript_problems(stack, turns),
        "wrong_version_answers": {
            "before_publish": len(
                publishing.mixed_answers(probes, marker, present=False, start=0, end=published.asked)
            ),
            "after_new_seen": len(
                publishing.mixed_answers(probes, marker, present=True, start=new.answered, end=rollback)
            ),
            "after_old_seen": len(
                publishing.mixed_answers(probes, marker, present=False, start=old.answered, end=float("inf"))
            ),
        },
        "handed_off": sum(1 for t in turns if t.ok and t.state != "bot"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    # every simulated customer comes from 127.0.0.1: the per-address limit is off
    extra_env = {"KEFU_RATE_IP_PER_MIN": "0", "KEFU_RATE_VISITOR_PER_MIN": "60"}
    pg_dir = Path(tempfile.mkdtemp(prefix="kefu-pg-"))  # postgres runs as its own user
    try:
        with (
            tempfile.TemporaryDirectory(prefix="kefu-publish-load-") as tmp,
            redis_server(Path(tmp) / "redis", fsync="everysec") as redis_url,
            postgres_server(pg_dir) as pg_url,
        ):
            database = create_database(pg_url, "kefu_bench")
            with running_stack(
                Path(tmp), redis_url, replicas=args.replicas, extra_env=extra_env, database_url=database
            ) as stack:
                asyncio.run(warm_up(stack, 1))
                started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                print(f"{started}: {args.seats} customers, quiet window {args.quiet:.0f} s", flush=True)
                measured = measure(stack, args)
    finally:
        shutil.rmtree(pg_dir, ignore_errors=True)
    return {
        "started_at": started,
        "machine": {"cores": os.cpu_count(), "note": MACHINE_NOTE},
        "parameters": {**{k: v for k, v in vars(args).items() if k != "output"}, "settle_s": SETTLE},
        **measured,
    }


def print_report(result: dict[str, Any]) -> None:
    print(f"\n{'window':<10} {'turns':>6} {'failed':>6} {'retried':>7}", end="")
    print(f" {'p50 ms':>7} {'p95 ms':>7} {'p50 x':>6} {'p95 x':>6}")
    for name, w in result["windows"].items():
        print(
            f"{name:<10} {w['turns']:>6} {w['failed']:>6} {w['retried']:>7} {w['p50_ms']:>7} {w['p95_ms']:>7}"
            f" {w.get('p50_vs_quiet', '-'):>6} {w.get('p95_vs_quiet', '-'):>6}"
        )
    pub = result["publish"]
    print(
        f"publish {pub['seconds']} s ({len(pub['progress_seen'])} progress steps seen), new answer"
        f" {pub['new_answer_seen_after_s']} s later; rollback: old answer"
        f" {result['rollback']['old_answer_seen_after_s']} s after the activation"
    )
    print(
        f"transcript problems {len(result['transcript_problems'])}, answers from the wrong version"
        f" {result['wrong_version_answers']}, handed off {result['handed_off']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seats", type=int, default=10, help="concurrent web customers")
    parser.add_argument("--quiet", type=float, default=90.0, help="seconds of load before the publish")
    parser.add_argument(
        "--after", type=float, default=30.0, help="seconds of load after the rollback settled"
    )
    parser.add_argument("--think", default="1,3", help="customer think time, seconds: low,high")
    parser.add_argument("--replicas", type=int, default=2, help="service replicas (customers spread)")
    parser.add_argument("--output", default="publish_under_load.json", help="file name under bench/results/")
    args = parser.parse_args()
    result = run(args)
    print_report(result)
    write_results(result, args.output)


if __name__ == "__main__":
    main()
