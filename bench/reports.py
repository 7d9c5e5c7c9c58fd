"""The overview report on a large stored history: how long its queries take, and what the
report indexes (migration 0012) are worth.

Builds a SQLite database with the real schema (Alembic) and ``--messages`` stored messages
(default one million) spread over ``--days`` days: conversations of ten messages on average,
a third handed off (queued -> agent -> closed, with CSAT for half), a ticket for one in twenty,
SLA events, suggestion uses. Then times ``supervision.reports.overview`` (every figure, the
by-day series, the agent table, handoff reasons, hot questions, suggestions) for a day, a week,
a month and the whole range, with and without an agent filter, and CSV; each median of
``--repeat`` runs. Then drops the report indexes and times the week and month again.

    .venv/bin/python -m bench.reports [--messages 1000000] [--days 90] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.output import write_results
from store.engine import create_engine, session_factory
from store.migrate import upgrade
from supervision.reports import ReportQuery, overview, to_csv

TZ = ZoneInfo("Asia/Shanghai")
END = date(2026, 11, 30)
REPORT_INDEXES = (
    "ix_conversations_created_at",
    "ix_messages_conversation_sender_created",
    "ix_messages_sender_created",
    "ix_state_transitions_conv_to_created",
)
QUESTIONS = [
    "退货",
    "物流到哪了",
    "怎么开发票",
    "能便宜点吗",
    "人工",
    "修改地址",
    "refund please",
    "where is my order",
]
AGENTS = [f"agent{i:02d}" for i in range(30)]


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def populate(path: Path, messages: int, days: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    start = datetime.combine(END - timedelta(days=days - 1), datetime.min.time(), tzinfo=TZ)
    span = days * 86400
    conversations = max(1, messages // 10)
    customers = max(1, conversations // 3)
    db.executemany(
        "INSERT INTO customers (id, display_name, tier, lang, created_at) VALUES (?, '', 'normal', 'zh', ?)",
        [(f"cu{i}", stamp(start)) for i in range(customers)],
    )
    db.executemany(
        "INSERT INTO users (username, password_hash, role, skills, max_concurrent, created_at) "
        "VALUES (?, 'x', 'agent', '[]', 5, ?)",
        [(name, stamp(start)) for name in AGENTS],
    )
    convs, msgs, moves, ratings, tickets, uses = [], [], [], [], [], []
    left = messages
    for i in range(conversations):
        cid = f"c{i:09d}"
        created = start + timedelta(seconds=rng.randrange(span))
        handed = rng.random() < 1 / 3
        count = min(left, rng.randint(4, 16)) if i < conversations - 1 else left
        left -= count
        convs.append(
            (
                cid,
                f"cu{rng.randrange(customers)}",
                rng.choice(["web", "web", "app", "wecom_kf"]),
                cid,
                "closed" if handed else "bot",
                rng.choice(["zh", "zh", "en"]),
                stamp(created),
                stamp(created),
            )
        )
        at = created
        agent = rng.choice(AGENTS)
        for n in range(count):
            at += timedelta(seconds=rng.randint(5, 90))
            if n == 0:
                sender, text = "customer", rng.choice(QUESTIONS)
            elif handed and n >= 3:
                sender, text = ("agent", "好的，马上处理") if n % 2 else ("customer", "谢谢")
            else:
                sender, text = ("bot", "这是答案") if n % 2 else ("customer", rng.choice(QUESTIONS))
            msgs.append((cid, sender, text, "{}", "none", stamp(at)))
            if handed and n == 1:
                moves.append(
                    (
                        cid,
                        "bot",
                        "queued",
                        rng.choice(["low_confidence", "customer_request"]),
                        "bot",
                        stamp(at),
                    )
                )
            if handed and n == 2:
                moves.append((cid, "queued", "agent", "assigned", f"agent:{agent}", stamp(at)))
        if handed:
            moves.append(
                (cid, "agent", "closed", "closed", f"agent:{agent}", stamp(at + timedelta(seconds=30)))
            )
            if rng.random() < 0.5:
                ratings.append((cid, rng.randint(1, 5), stamp(at + timedelta(seconds=60))))
            if rng.random() < 0.3:
                uses.append((cid, 1, "faq", "k", rng.random() < 0.5, stamp(at)))
        if rng.random() < 0.05:
            tickets.append(
                (
                    f"T{i:09d}",
                    convs[-1][1],
                    cid,
                    convs[-1][2],
                    stamp(created),
                    stamp(created + timedelta(days=1)),
                )
            )
    db.executemany(
        "INSERT INTO conversations (id, customer_id, channel, channel_user_id, entry_point, state, lang, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?)",
        convs,
    )
    db.executemany(
        "INSERT INTO messages (conversation_id, sender, text, payload, bot_status, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        msgs,
    )
    db.executemany(
        "INSERT INTO state_transitions (conversation_id, from_state, to_state, reason, actor, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        moves,
    )
    db.executemany(
        "INSERT INTO csat_ratings (conversation_id, rating, comment, created_at) VALUES (?, ?, '', ?)",
        ratings,
    )
    db.executemany(
        "INSERT INTO suggestion_uses (conversation_id, agent_id, source, key, edited, customer_text, "
        "created_at) "
        "VALUES (?, ?, ?, ?, ?, '', ?)",
        uses,
    )
    db.executemany(
        "INSERT INTO tickets (number, customer_id, conversation_id, channel, subject, status, priority, "
        'tier, "group", tags, first_response_due, paused, created_at, updated_at) '
        "VALUES (?, ?, ?, ?, 's', 'open', 'normal', 'normal', 'general', '[]', ?, '[]', ?, ?)",
        [(n, cu, c, ch, due, at, at) for n, cu, c, ch, at, due in tickets],
    )
    db.execute(
        "INSERT INTO ticket_events (ticket_id, kind, actor, data, created_at) "
        "SELECT id, 'sla_alert', 'system', '{\"level\": \"breached\"}', created_at "
        "FROM tickets WHERE id % 4 = 0"
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {
        "conversations": conversations,
        "messages": messages,
        "transitions": len(moves),
        "tickets": len(tickets),
    }


async def timed(
    sessions: async_sessionmaker[AsyncSession], query: ReportQuery, repeat: int, csv: bool = False
) -> tuple[float, int]:
    runs = []
    conversations = 0
    for _ in range(repeat):
        began = time.perf_counter()
        async with sessions() as session:
            report = await overview(session, query)
        if csv:
            to_csv(report)
        runs.append(time.perf_counter() - began)
        conversations = int(report.overview["conversations"])
    return statistics.median(runs), conversations


async def measure(url: str, repeat: int, cases: list[tuple[str, ReportQuery, bool]]) -> list[dict[str, Any]]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    rows = []
    for name, query, csv in cases:
        seconds, conversations = await timed(sessions, query, repeat, csv)
        rows.append({"case": name, "conversations": conversations, "ms": round(seconds * 1000, 1)})
    await engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kefu-bench-reports-") as tmp:
        path = Path(tmp) / "reports.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        began = time.perf_counter()
        sizes = populate(path, args.messages, args.days)
        build_seconds = time.perf_counter() - began

        def q(days: int, **kw: str) -> ReportQuery:
            return ReportQuery(END - timedelta(days=days - 1), END, TZ, **kw)

        cases = [
            ("1 day", q(1), False),
            ("7 days", q(7), False),
            ("30 days", q(30), False),
            (f"{args.days} days (all)", q(args.days), False),
            ("30 days, one agent", q(30, agent=AGENTS[0]), False),
            ("30 days, channel app", q(30, channel="app"), False),
            ("30 days as CSV", q(30), True),
        ]
        indexed = asyncio.run(measure(url, args.repeat, cases))
        db = sqlite3.connect(path)
        for name in REPORT_INDEXES:
            db.execute(f"DROP INDEX {name}")
        db.execute("ANALYZE")
        db.close()
        bare = asyncio.run(measure(url, 1, [c for c in cases if c[0] in ("7 days", "30 days")]))
    print(f"history: {sizes} (built in {build_seconds:.0f} s), SQLite, median of {args.repeat}")
    print(f"{'report':<24}{'conversations':>14}{'ms':>10}")
    for row in indexed:
        print(f"{row['case']:<24}{row['conversations']:>14}{row['ms']:>10}")
    print("without the report indexes (one run):")
    for row in bare:
        print(f"{row['case']:<24}{row['conversations']:>14}{row['ms']:>10}")
    result = {
        "history": sizes,
        "days": args.days,
        "repeat": args.repeat,
        "database": "sqlite",
        "indexes": list(REPORT_INDEXES),
        "with_indexes": indexed,
        "without_report_indexes": bare,
    }
    write_results(result, "reports.json")


if __name__ == "__main__":
    main()
