"""`kefu handoff reconcile`: rebuild the handoff engine's Redis state (queues, assignments, agent
loads) from the database, then assign what can be assigned; prints what it repaired."""

from __future__ import annotations

import argparse

from conversations.reconcile import reconcile_once
from core.settings import Settings
from service.deps import build_deps


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("handoff", help="the handoff engine (queues and assignments in Redis)")
    acts = parser.add_subparsers(dest="action", required=True)
    p = acts.add_parser("reconcile", help="rebuild queues, assignments and loads from the database")
    p.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds between the two looks a difference needs before it is repaired (default 1)",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    deps = build_deps(settings)
    deps.reconcile_settle = args.settle
    try:
        report = await reconcile_once(deps.reconciler(), deps.redis)
    finally:
        await deps.close()
    if report is None:
        print("another process is reconciling right now; try again shortly")
        return 1
    for line in report.lines():
        print(line)
    return 0
