"""`kefu db upgrade`: apply Alembic migrations."""

from __future__ import annotations

import argparse
import asyncio

from core.settings import Settings
from store.migrate import upgrade


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("db", help="database schema")
    ds = parser.add_subparsers(dest="action", required=True)
    ds.add_parser("upgrade", help="apply all migrations")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.database_url)
    print("database schema is up to date")
    return 0
