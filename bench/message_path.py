"""Message path: Kefu's web channel vs bare Rasa's REST channel, same messages, same model, same run.

Starts the whole system (real Redis with `make run`'s fsync setting, Rasa, action server,
service) and measures three things, each against bare Rasa (`/webhooks/rest/webhook`) in the
same run, since absolute times on a shared machine are noise and the ratio is the figure:

1. sequential: one message at a time, a fresh conversation each, Kefu and Rasa interleaved;
2. curve: N conversations at once (closed loop: each sends its next message when answered),
   turns/s and p50/p95 per level, with the CPU seconds each process spent per turn;
3. long: one 300-turn conversation each way, turns 1-10 vs the last 10, and the size of
   Rasa's tracker at the end.

    .venv/bin/python -m bench.message_path [--rounds 30] [--levels 1,2,4,8,16,20,32,64]
        [--seconds 8] [--long-turns 300] [--rasa-workers 2] [--action-workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.output import write_results
from connectors.visitor_token import HEADER
from tests.support.processes import redis_server
from tests.support.stack import Stack, running_stack

QUESTIONS = [
    "退款多久能到账？",
    "how long does a refund take",
    "你们周末上班吗",
    "你好",
    "hello",
    "怎么开发票",
    "can I change my delivery address",
    "会员积分怎么用",
]
RESULTS = Path(__file__).parent / "results"
TRACKER_PREFIX = "kefu:tracker:"  # Rasa's Redis tracker store, key_prefix "kefu" (bot/endpoints.yml)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# One client sends every conversation's messages, faster than any visitor types: the limits stay
# on (their Redis counting is part of the path) but so high that they never refuse a message.
RATE_LIMITS = {"KEFU_RATE_IP_PER_MIN": "1000000", "KEFU_RATE_VISITOR_PER_MIN": "1000000"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values), "p95_ms": percentile(values, 0.95), "n": len(values)}


# --- one turn each way -------------------------------------------------------------------------

Turn = Callable[[httpx.AsyncClient, str, str], Awaitable[str]]


class BotLeftConversation(RuntimeError):
    """A bench question handed the conversation off: later turns would not reach the bot."""


def kefu_turn(stack: Stack) -> Turn:
    tokens: dict[str, str] = {}  # visitor -> the token its first answer carried (later turns need it)

    async def turn(http: httpx.AsyncClient, sender: str, text: str) -> str:
        headers = {HEADER: tokens[sender]} if sender in tokens else {}
        resp = await http.post(
            f"{stack.service_url}/api/web/messages",
            json={"visitor_id": sender, "text": text},
            headers=headers,
        )
        resp.raise_for_status()
        body = resp.json()
        tokens[sender] = body["visitor_token"]
        if body["state"] != "bot":
            raise BotLeftConversation(f"{text!r} moved the conversation to {body['state']}")
        return str(body["conversation_id"])

    return turn


def rasa_turn(stack: Stack) -> Turn:
    async def turn(http: httpx.AsyncClient, sender: str, text: str) -> str:
        resp = await http.post(
            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        resp.raise_for_status()
        if not resp.json():
            raise RuntimeError(f"Rasa gave no reply to {text!r}")
        return sender

    return turn


def client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=120, limits=limits)


async def timed(turn: Turn, http: httpx.AsyncClient, sender: str, text: str) -> tuple[float, str]:
    start = time.perf_counter()
    conversation = await turn(http, sender, text)
    return (time.perf_counter() - start) * 1000, conversation


# --- CPU per process ---------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def process_trees(pids: dict[str, int]) -> dict[str, list[int]]:
    """Each named process with its worker processes (children, grandchildren, ...)."""
    tree = _children()
    found = {}
    for name, root in pids.items():
        todo, members = [root], []
        while todo:
            pid = todo.pop()
            members.append(pid)
            todo.extend(tree.get(pid, []))
        found[name] = members
    return found


def cpu_by_process(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process and its worker processes."""
    return {name: sum(map(_cpu_seconds, members)) for name, members in process_trees(pids).items()}


def redis_pid(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            # "redis-server --port N ..." or, once it has set its title, "redis-server 127.0.0.1:N"
            if b"redis-server" in cmd.split(b" ")[0] and re.search(rb"[ :]%d\b" % port, cmd):
                return int(entry.name)
    return None


# --- the three measurements --------------------------------------------------------------------


async def sequential(stack: Stack, rounds: int) -> dict[str, Any]:
    """One message at a time, a fresh conversation each, Rasa then Kefu for each message."""
    kefu, rasa = kefu_turn(stack), rasa_turn(stack)
    kefu_ms: list[float] = []
    rasa_ms: list[float] = []
    async with client(2) as http:
        for _ in range(rounds):
            for q in QUESTIONS:
                sender = uuid.uuid4().hex
                rasa_ms.append((await timed(rasa, http, sender, q))[0])
                kefu_ms.append((await timed(kefu, http, sender, q))[0])
    rows = {"bare_rasa": latency(rasa_ms), "kefu_web": latency(kefu_ms)}
    return {
        "rounds": rounds,
        "rows": rows,
        "ratio_kefu_over_rasa": {k: rows["kefu_web"][k] / rows["bare_rasa"][k] for k in ("p50_ms", "p95_ms")},
    }


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float]
    cpu_s: dict[str, float]

    def __add__(self, other: LoadResult) -> LoadResult:
        cpu = {name: self.cpu_s[name] + other.cpu_s[name] for name in self.cpu_s}
        return LoadResult(self.seconds + other.seconds, self.latencies + other.latencies, cpu)

    def row(self) -> dict[str, Any]:
        turns = len(self.latencies)
        return {
            "turns_per_s": turns / self.seconds,
            **latency(self.latencies),
            "cpu_ms_per_turn": {name: 1000 * s / turns for name, s in self.cpu_s.items()},
        }


async def closed_loop(turn: Turn, conversations: int, seconds: float, pids: dict[str, int]) -> LoadResult:
    """``conversations`` fresh conversations at once, each sending its next question as soon as
    the last is answered, until ``seconds`` have passed."""
    latencies: list[float] = []
    async with client(conversations) as http:
        deadline = time.perf_counter() + seconds

        async def one(index: int) -> None:
            sender = uuid.uuid4().hex
            n = index
            while time.perf_counter() < deadline:
                latencies.append((await timed(turn, http, sender, QUESTIONS[n % len(QUESTIONS)]))[0])
                n += 1

        before = cpu_by_process(pids)
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(conversations)))
        elapsed = time.perf_counter() - start
        after = cpu_by_process(pids)
    return LoadResult(elapsed, latencies, {k: after[k] - before[k] for k in pids})


async def curve(
    stack: Stack, levels: list[int], seconds: float, pids: dict[str, int]
) -> list[dict[str, Any]]:
    kefu, rasa = kefu_turn(stack), rasa_turn(stack)
    rows = []
    for level in levels:
        # Rasa, Kefu, Kefu, Rasa (half the time each): drift in the shared machine's load hits both.
        runs: dict[str, list[LoadResult]] = {"bare_rasa": [], "kefu_web": []}
        for name, turn in (("bare_rasa", rasa), ("kefu_web", kefu), ("kefu_web", kefu), ("bare_rasa", rasa)):
            runs[name].append(await closed_loop(turn, level, seconds / 2, pids))
        measured = {name: (parts[0] + parts[1]).row() for name, parts in runs.items()}
        rows.append(
            {
                "conversations": level,
                "bare_rasa": measured["bare_rasa"],
                "kefu_web": measured["kefu_web"],
                "throughput_ratio": measured["kefu_web"]["turns_per_s"]
                / measured["bare_rasa"]["turns_per_s"],
                "p95_ratio": measured["kefu_web"]["p95_ms"] / measured["bare_rasa"]["p95_ms"],
            }
        )
        print_curve_row(rows[-1])
    return rows


def tracker_size(store: redis.Redis, sender: str) -> dict[str, int]:
    """Rasa's tracker of ``sender`` or, when Kefu moved the conversation on to later Rasa
    conversations (``<id>.<n>``, conversations/bot_segments.py), of the latest one."""
    later = [int(key.rsplit(b".", 1)[1]) for key in store.scan_iter(f"{TRACKER_PREFIX}{sender}.*")]
    segment = max(later, default=0)
    raw = store.get(TRACKER_PREFIX + sender + (f".{segment}" if segment else ""))
    if raw is None:
        return {"bytes": 0, "events": 0, "segment": segment}
    return {"bytes": len(raw), "events": len(json.loads(raw).get("events", [])), "segment": segment}


async def long_conversation(stack: Stack, turns: int, window: int, store: redis.Redis) -> dict[str, Any]:
    """One conversation of ``turns`` messages each way, interleaved turn by turn."""
    kefu, rasa = kefu_turn(stack), rasa_turn(stack)
    sender = uuid.uuid4().hex
    kefu_ms: list[float] = []
    rasa_ms: list[float] = []
    kefu_conversation = ""
    async with client(2) as http:
        for n in range(turns):
            q = QUESTIONS[n % len(QUESTIONS)]
            rasa_ms.append((await timed(rasa, http, "long-" + sender, q))[0])
            ms, kefu_conversation = await timed(kefu, http, sender, q)
            kefu_ms.append(ms)
    result: dict[str, Any] = {"turns": turns, "window": window}
    for name, values, rasa_sender in (
        ("bare_rasa", rasa_ms, "long-" + sender),
        ("kefu_web", kefu_ms, kefu_conversation),
    ):
        first, last = latency(values[:window]), latency(values[-window:])
        result[name] = {
            "first": first,
            "last": last,
            "growth_p50": last["p50_ms"] / first["p50_ms"],
            "tracker_at_end": tracker_size(store, rasa_sender),
        }
    result["last_p50_ratio_kefu_over_rasa"] = (
        result["kefu_web"]["last"]["p50_ms"] / result["bare_rasa"]["last"]["p50_ms"]
    )
    return result


# --- running it --------------------------------------------------------------------------------


async def warm_up(stack: Stack, workers: int) -> None:
    """Every Rasa and action-server worker loads its model and index on first use."""
    kefu, rasa = kefu_turn(stack), rasa_turn(stack)
    async with client(8) as http:
        ok = 0
        status = f"{stack.rasa_url}/status?token={stack.env['KEFU_RASA_TOKEN']}"  # Rasa's API needs it
        while ok < 8 * workers:  # several answers in a row, from every worker
            ok = ok + 1 if (await http.get(status)).status_code == 200 else 0
        for _ in range(2):
            await asyncio.gather(
                *(turn(http, uuid.uuid4().hex, q) for q in QUESTIONS for turn in (kefu, rasa))
            )


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        workdir = Path(tmp)
        with (
            redis_server(workdir / "redis", fsync="everysec") as redis_url,
            running_stack(
                workdir,
                redis_url,
                rasa_workers=args.rasa_workers,
                action_workers=args.action_workers,
                extra_env={**RATE_LIMITS, "KEFU_SQLITE_SYNCHRONOUS": args.sqlite_synchronous},
            ) as stack,
        ):
            port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
            pids = {**stack.pids}
            found = redis_pid(port)
            if found is not None:
                pids["redis"] = found
            pids["bench_client"] = os.getpid()
            store = redis.Redis(host="127.0.0.1", port=port, db=int(stack.env["REDIS_DB"]))
            asyncio.run(warm_up(stack, max(args.rasa_workers, args.action_workers)))
            result: dict[str, Any] = {
                "date": time.strftime("%Y-%m-%d"),
                "cores": os.cpu_count(),
                "rasa_workers": args.rasa_workers,
                "action_workers": args.action_workers,
                "questions": QUESTIONS,
                "sqlite_synchronous": args.sqlite_synchronous,
            }
            if args.rounds:
                result["sequential"] = asyncio.run(sequential(stack, args.rounds))
                print_sequential(result["sequential"])
            if args.levels:
                print_curve_head()
                result["curve"] = asyncio.run(curve(stack, args.levels, args.seconds, pids))
                result["curve_seconds_per_level"] = args.seconds
            if args.long_turns:
                result["long"] = asyncio.run(long_conversation(stack, args.long_turns, args.window, store))
                print_long(result["long"])
            store.close()
    return result


def print_sequential(s: dict[str, Any]) -> None:
    print(f"\nsequential, a fresh conversation per message ({s['rows']['bare_rasa']['n']} messages each)")
    print(f"{'path':<12} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in s["rows"].items():
        print(f"{name:<12} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}")
    r = s["ratio_kefu_over_rasa"]
    print(f"{'ratio':<12} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f}   (Kefu web channel / bare Rasa)")


def print_curve_head() -> None:
    print("\nconcurrent conversations (closed loop); CPU ms per turn: rasa / actions / service / redis")
    print(
        f"{'conv':>4} | {'rasa t/s':>8} {'p50':>6} {'p95':>6} | {'kefu t/s':>8} {'p50':>6} {'p95':>6} |"
        f" {'tput':>5} {'p95':>5} | cpu ms/turn (kefu run)"
    )


def print_curve_row(row: dict[str, Any]) -> None:
    r, k = row["bare_rasa"], row["kefu_web"]
    cpu = k["cpu_ms_per_turn"]
    cpu_text = " / ".join(f"{cpu.get(n, 0):.0f}" for n in ("rasa", "actions", "service0", "redis"))
    print(
        f"{row['conversations']:>4} | {r['turns_per_s']:>8.1f} {r['p50_ms']:>6.0f} {r['p95_ms']:>6.0f} |"
        f" {k['turns_per_s']:>8.1f} {k['p50_ms']:>6.0f} {k['p95_ms']:>6.0f} |"
        f" {row['throughput_ratio']:>5.2f} {row['p95_ratio']:>5.2f} | {cpu_text}",
        flush=True,
    )


def print_long(long: dict[str, Any]) -> None:
    w, n = long["window"], long["turns"]
    print(f"\none {n}-turn conversation: turns 1-{w} vs {n - w + 1}-{n} (p50 ms), Rasa tracker at the end")
    for name in ("bare_rasa", "kefu_web"):
        row = long[name]
        t = row["tracker_at_end"]
        print(
            f"{name:<12} {row['first']['p50_ms']:>7.0f} -> {row['last']['p50_ms']:>7.0f}"
            f"  x{row['growth_p50']:.2f}   tracker {t['events']} events, {t['bytes'] / 1024:.0f} KiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rounds", type=int, default=30, help="sequential rounds of the 8 questions (0: skip)"
    )
    parser.add_argument(
        "--levels",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1, 2, 4, 8, 16, 20, 32, 64],
        help="concurrent conversations, comma-separated ('' skips the curve)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per level and path")
    parser.add_argument(
        "--long-turns", type=int, default=300, help="turns of the long conversation (0: skip)"
    )
    parser.add_argument("--window", type=int, default=10, help="turns compared at each end of it")
    parser.add_argument("--rasa-workers", type=int, default=2, help="as `make run` (RASA_WORKERS)")
    parser.add_argument("--action-workers", type=int, default=1, help="as `make run` (ACTIONS_WORKERS)")
    parser.add_argument(
        "--sqlite-synchronous",
        default="FULL",
        help="the service's KEFU_SQLITE_SYNCHRONOUS (FULL as `make run`)",
    )
    parser.add_argument("--out", default=str(RESULTS / "message_path.json"), help="where to write the JSON")
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args)
    result["bench_seconds"] = time.perf_counter() - started
    print(f"\n{result['bench_seconds']:.0f}s")
    write_results(result, args.out)


if __name__ == "__main__":
    main()
