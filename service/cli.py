"""The `kefu` command line. Wiring only: each command lives in service.commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from core.errors import KefuError
from core.settings import Settings, SettingsError
from service.commands import agents, db, demo, handoff, hours, knowledge, quality

COMMANDS = {
    "knowledge": knowledge,
    "db": db,
    "demo": demo,
    "agents": agents,
    "hours": hours,
    "handoff": handoff,
    "quality": quality,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description="Kefu customer service")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(require_secret=False)
        code: int = asyncio.run(COMMANDS[args.command].run(args, settings))
        return code
    except (KefuError, SettingsError) as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", []):
            print(f"  - {problem[0]}: {problem[1]}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"kefu: no such file: {exc.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
