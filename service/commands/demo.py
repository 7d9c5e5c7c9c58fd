"""`kefu demo load`: the demo shop's FAQ, orders and staff, into an empty database."""

from __future__ import annotations

import argparse
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Order
from core.settings import ROOT, Settings
from handoff.staff import add_user
from handoff.tables import User
from knowledge.importer import parse_file
from knowledge.store import count_entries, import_entries
from service.commands.common import database
from tickets.group_hours import save_group_hours
from tickets.schedule_file import parse_schedule_yaml
from tickets.tables import BusinessHours

DEMO = ROOT / "demo"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("demo", help="demo data")
    acts = parser.add_subparsers(dest="action", required=True)
    p = acts.add_parser("load", help="load the demo FAQ, orders and staff accounts")
    p.add_argument("--if-empty", action="store_true", help="skip each part that already has data")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async with database(settings) as sessions, sessions.begin() as session:
        if not (args.if_empty and await count_entries(session)):
            counts = await import_entries(session, parse_file(DEMO / "faq.yaml"), replace=False)
            print(f"demo FAQ: {counts['added']} added, {counts['updated']} updated")
        if not (args.if_empty and await _count(session, Order)):
            print(f"demo orders: {await _load_orders(session, DEMO / 'orders.yaml')} loaded")
        if not (args.if_empty and await _count(session, BusinessHours)):
            schedule = parse_schedule_yaml((DEMO / "hours.yaml").read_text(encoding="utf-8"))
            for group in ("general", "vip"):
                await save_group_hours(session, group, schedule, "ticket", "", datetime.now(UTC))
            print("demo business hours: open around the clock (groups general, vip)")
        if not (args.if_empty and await _count(session, User)):
            lines = await _load_staff(session, DEMO / "agents.yaml")
            path = settings.var_dir / "demo_credentials.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write("\n".join(lines) + "\n")
            print(f"demo staff: {len(lines)} accounts (passwords in {path})")
    return 0


async def _count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _when(raw: object) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    return datetime.fromisoformat(str(raw)) if raw else None


async def _load_orders(session: AsyncSession, path: Path) -> int:
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for row in rows:
        owner = row.get("owner") or {}
        order = Order(
            order_no=str(row["order_no"]),
            customer_ref=str(row.get("customer", "")),
            owner_channel=str(owner.get("channel", "")),
            owner_id=str(owner.get("id", "")),
            status=str(row["status"]),
            carrier=str(row.get("carrier", "")),
            tracking_no=str(row.get("tracking_no", "")),
            items=list(row.get("items", [])),
            eta=str(row.get("eta", "") or ""),
        )
        for field in ("placed_at", "updated_at"):
            when = _when(row.get(field))
            if when is not None:
                setattr(order, field, when)
        await session.merge(order)
    return len(rows)


async def _load_staff(session: AsyncSession, path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    people = data.get("agents", data) if isinstance(data, dict) else data
    lines = []
    for person in people:
        password = secrets.token_urlsafe(9)
        await add_user(
            session,
            str(person["username"]),
            password,
            str(person.get("role", "agent")),
            skills=list(person.get("skills", [])),
            max_concurrent=int(person.get("max_concurrent", 5)),
            display_name=str(person.get("display_name", "")),
        )
        lines.append(f"{person.get('role', 'agent'):<10} {person['username']:<10} password: {password}")
    return lines
