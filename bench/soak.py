"""Soak: many concurrent web customers and a team of agents against the whole system for minutes.

Starts the whole system as `make run` runs it (a private Redis with `appendfsync everysec`,
Rasa with the trained model in bot/models, the action server, service replicas) in a temporary
directory with the demo data, then for ``--minutes``:

- ``--customers`` web customers, spread over the replicas, each writing through
  ``POST /api/web/messages`` with its visitor token, a random think time between messages
  (seeded): FAQ questions from demo/faq.yaml (zh and en), small talk, and in a share of their
  conversations a request for a person ("转人工", or something out of scope) that hands the
  conversation off. Queued or with an agent they keep writing, more slowly; when the agent
  closes the conversation, or after a few bot turns, the customer leaves and a new one (a new
  visitor) takes their place;
- ``--agents`` agents (skill ``general``) online, each listing their conversations, replying
  where the customer wrote last and closing after a few replies.

It measures, per request kind, the count, the errors (any 5xx or transport error, and any
unexpected 4xx; an agent's 404/409 on a conversation that moved on is counted apart as
expected), p50/p95/p99; and every ``--sample-seconds`` the resident memory (VmRSS, summed
over worker processes) of each service replica, Rasa, the action server and Redis.

The per-address rate limit is switched off (``KEFU_RATE_IP_PER_MIN=0``): every simulated
customer comes from 127.0.0.1. The per-visitor limit is set to 60 messages a minute, twice the
default and above what the think time allows one customer.

    .venv/bin/python -m bench.soak [--customers 200] [--minutes 5] [--agents 10] [--replicas 2]
        [--agent-chats 5] [--think 2,6] [--handoff-share 0.25] [--warm-up 60] [--seed 7]
    make soak
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.message_path import client, percentile, process_trees, redis_pid, warm_up
from bench.output import write_results
from tests.support import visitors
from tests.support.processes import redis_server
from tests.support.stack import Stack, running_stack

FAQ = {
    "zh": [
        "退款多久能到账？",
        "怎么取消订单？",
        "支持哪些支付方式？",
        "下单后多久发货，几天能到？",
        "怎么查物流？",
        "支持七天无理由退货吗？",
        "怎么开发票？",
        "忘记密码怎么办？",
        "积分怎么使用？",
        "优惠券为什么用不了？",
        "商品保修期多久？",
        "可以到门店自提吗？",
    ],
    "en": [
        "How long does a refund take?",
        "How do I cancel an order?",
        "Which payment methods do you accept?",
        "How can I track my order?",
        "Who pays for return shipping?",
        "How do I get an invoice?",
        "Do points expire?",
        "How long is the warranty?",
        "Do you ship internationally?",
    ],
}
SMALL_TALK = {"zh": ["你好", "谢谢", "好的", "在吗"], "en": ["hello", "thanks", "ok", "hi there"]}
ASK_FOR_A_PERSON = {
    "zh": ["转人工", "帮我写一首诗"],
    "en": ["i want to talk to a human", "write me a poem about the sea"],
}
WHILE_WAITING = {
    "zh": ["还在吗？", "好的，我等一下", "订单号是 20261205001", "请尽快处理", "谢谢"],
    "en": ["are you there?", "ok, I'll wait", "my order number is 20261205001", "please hurry", "thanks"],
}
HANDED_OFF = ("queued", "agent")
AGENT_EXPECTED = (404, 409)  # the conversation moved on (closed, transferred) between list and action
AGENT_REPLIES = ["您好，我是客服，请问有什么可以帮您？", "好的，已经为您处理。", "还有其他问题吗？"]
MACHINE_NOTE = "2 cores shared with other jobs (their test stacks and benchmarks ran at the same time)"


# --- what was measured -------------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of request: its latencies and outcomes."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    ok: int = 0
    expected: int = 0
    errors: int = 0

    def row(self, seconds: float) -> dict[str, Any]:
        n = self.ok + self.expected + self.errors
        values = self.latencies or [0.0]
        return {
            "count": n,
            "per_s": n / seconds,
            "ok": self.ok,
            "expected_4xx": self.expected,
            "errors": self.errors,
            "error_rate": self.errors / n if n else 0.0,
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
            "max_ms": max(values),
            "statuses": dict(sorted(self.statuses.items())),
        }


@dataclass
class Soak:
    stack: Stack
    deadline: float
    think: tuple[float, float]
    handoff_share: float
    seed: int
    kinds: dict[str, Kind] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def pause(self, seconds: float) -> None:
        """Sleep, but not past the end."""
        await asyncio.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    async def call(
        self,
        kind: str,
        http: httpx.AsyncClient,
        method: str,
        url: str,
        expected: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response | None:
        """One request, timed and classified; the response when it was a 2xx."""
        stats = self.kinds.setdefault(kind, Kind())
        start = time.perf_counter()
        try:
            resp = await http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            stats.latencies.append((time.perf_counter() - start) * 1000)
            stats.statuses[type(exc).__name__] += 1
            stats.errors += 1
            return None
        stats.latencies.append((time.perf_counter() - start) * 1000)
        stats.statuses[str(resp.status_code)] += 1
        if resp.is_success:
            stats.ok += 1
            return resp
        if resp.status_code in expected:
            stats.expected += 1
        else:
            stats.errors += 1
        return None


# --- customers and agents ----------------------------------------------------------------------


async def customer(soak: Soak, index: int, http: httpx.AsyncClient) -> None:
    """One seat of the shop's web widget: a customer writes, leaves, and the next one arrives."""
    rng = random.Random(soak.seed * 100_003 + index)
    url = soak.stack.service_urls[index % len(soak.stack.service_urls)]
    low, high = soak.think
    await soak.pause(rng.uniform(0, high))  # customers arrive spread out, not all at once
    while soak.running():
        visitor, lang = uuid.uuid4().hex, rng.choice(("zh", "zh", "en"))
        turns = rng.randint(3, 8)
        ask_at = rng.randrange(turns) if rng.random() < soak.handoff_share else -1
        state, turn = "bot", 0
        soak.events["customers"] += 1
        while soak.running():
            if state in HANDED_OFF:
                kind, text = "customer_to_agent", rng.choice(WHILE_WAITING[lang])
            elif turn == ask_at:
                kind, text = "customer_to_bot", rng.choice(ASK_FOR_A_PERSON[lang])
            elif turn >= turns:
                break  # the customer got their answers and leaves
            else:
                kind = "customer_to_bot"
                text = rng.choice(SMALL_TALK[lang] if rng.random() < 0.2 else FAQ[lang])
            turn += 1
            resp = await soak.call(
                kind,
                http,
                "POST",
                f"{url}/api/web/messages",
                json={
                    "visitor_id": visitor,
                    "text": text,
                    "lang": lang,
                    "client_message_id": uuid.uuid4().hex,
                },
                headers=visitors.headers(visitor),
            )
            if resp is None and not visitors.headers(visitor):
                # The first answer, and with it the visitor token, was lost: the widget cannot go
                # on as this visitor (the service now knows it and wants the token).
                soak.events["first_answer_lost"] += 1
                break
            if resp is not None:
                now = str(visitors.remember(visitor, resp.json())["state"])
                soak.states[now] += 1
                if now in HANDED_OFF and state not in HANDED_OFF:
                    soak.events["handoffs"] += 1
                elif state in HANDED_OFF and now not in HANDED_OFF:
                    soak.events["handoffs_ended_seen_by_customer"] += 1
                    break  # closed by the agent: this customer is done
                state = now
            await soak.pause(rng.uniform(low, high) * (2 if state in HANDED_OFF else 1))


async def agent(soak: Soak, index: int, headers: dict[str, str], http: httpx.AsyncClient) -> None:
    """An agent at the desk: look at my conversations, answer whoever wrote last, close after a few."""
    rng = random.Random(soak.seed * 7_919 + index)
    url = soak.stack.service_urls[index % len(soak.stack.service_urls)]
    replies: Counter[str] = Counter()
    enough: dict[str, int] = {}
    while soak.running():
        await soak.pause(rng.uniform(1.0, 3.0))
        listed = await soak.call("agent_list", http, "GET", f"{url}/api/agent/conversations", headers=headers)
        if listed is None:
            continue
        for conv in listed.json()["conversations"]:
            cid, last = conv["id"], (conv.get("last_message") or {}).get("sender")
            if conv["state"] != "agent" or last == "agent" or not soak.running():
                continue  # waiting for the customer
            base = f"{url}/api/agent/conversations/{cid}"
            if replies[cid] >= enough.setdefault(cid, rng.randint(2, 4)):
                if await soak.call(
                    "agent_close", http, "POST", f"{base}/close", AGENT_EXPECTED, headers=headers
                ):
                    soak.events["closes"] += 1
                continue
            body = {"text": rng.choice(AGENT_REPLIES), "client_message_id": uuid.uuid4().hex}
            if await soak.call(
                "agent_reply", http, "POST", f"{base}/messages", AGENT_EXPECTED, json=body, headers=headers
            ):
                replies[cid] += 1


# --- memory ------------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory_now(pids: dict[str, int]) -> dict[str, float]:
    """Resident memory (MiB) of each named process with its worker processes."""
    return {name: sum(map(rss_mib, members)) for name, members in process_trees(pids).items()}


async def sample_memory(soak: Soak, pids: dict[str, int], every: float, start: float) -> list[dict[str, Any]]:
    samples = []
    while True:
        samples.append({"t_s": round(time.monotonic() - start, 1), "rss_mib": memory_now(pids)})
        if not soak.running():
            return samples
        await soak.pause(every)


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares growth in MiB per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread if spread else 0.0


def memory_summary(samples: list[dict[str, Any]], warm_up_s: float) -> dict[str, dict[str, float]]:
    after = [s for s in samples if s["t_s"] >= warm_up_s] or samples[-1:]
    summary = {}
    for name in samples[0]["rss_mib"]:
        values = [s["rss_mib"][name] for s in after]
        summary[name] = {
            "start_mib": samples[0]["rss_mib"][name],
            "after_warm_up_mib": values[0],
            "last_mib": values[-1],
            "max_mib": max(values),
            "growth_mib": values[-1] - values[0],
            "slope_mib_per_min": slope_per_minute([(s["t_s"], s["rss_mib"][name]) for s in after]),
        }
    return summary


def logged_errors(workdir: Path) -> dict[str, int]:
    """Error lines the processes logged, counted by process and message."""
    found: Counter[str] = Counter()
    for log in sorted(workdir.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                if entry.get("level") in ("ERROR", "CRITICAL"):
                    exc = [
                        line
                        for line in str(entry.get("exc") or "").strip().splitlines()
                        if not line.startswith("(Background on this error")  # SQLAlchemy's link
                    ]
                    cause = f" | {exc[-1]}" if exc else ""
                    found[f"{log.stem}: {str(entry.get('message'))[:200]}{cause[:200]}"] += 1
            elif " ERROR " in line or line.startswith("ERROR"):
                found[f"{log.stem}: {line[:200]}"] += 1
    return dict(found.most_common(20))


# --- running it --------------------------------------------------------------------------------


async def soak_run(stack: Stack, args: argparse.Namespace, pids: dict[str, int]) -> dict[str, Any]:
    staff = [
        stack.staff(
            f"soak-agent-{i}", skills="general", max_concurrent=args.agent_chats, replica=i % args.replicas
        )
        for i in range(args.agents)
    ]
    low, high = (float(x) for x in args.think.split(","))
    async with client(args.customers + args.agents + 4) as http:
        for i, headers in enumerate(staff):
            url = stack.service_urls[i % args.replicas]
            resp = await http.put(f"{url}/api/agent/status", json={"status": "online"}, headers=headers)
            resp.raise_for_status()
        start = time.monotonic()
        soak = Soak(stack, start + 60 * args.minutes, (low, high), args.handoff_share, args.seed)
        memory = asyncio.create_task(sample_memory(soak, pids, args.sample_seconds, start))
        await asyncio.gather(
            *(customer(soak, i, http) for i in range(args.customers)),
            *(agent(soak, i, headers, http) for i, headers in enumerate(staff)),
        )
        elapsed = time.monotonic() - start
        samples = await memory
    kinds = {name: soak.kinds[name].row(elapsed) for name in sorted(soak.kinds)}
    total = sum(k["count"] for k in kinds.values())
    errors = sum(k["errors"] for k in kinds.values())
    return {
        "seconds": elapsed,
        "requests": total,
        "errors": errors,
        "error_rate": errors / total if total else 0.0,
        "kinds": kinds,
        "events": dict(soak.events),
        "customer_states_seen": dict(soak.states),
        "memory": memory_summary(samples, args.warm_up),
        "memory_samples": samples,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    extra_env = {"KEFU_RATE_IP_PER_MIN": "0", "KEFU_RATE_VISITOR_PER_MIN": "60"}
    with tempfile.TemporaryDirectory(prefix="kefu-soak-") as tmp:
        workdir = Path(tmp)
        with (
            redis_server(workdir / "redis", fsync="everysec") as redis_url,
            running_stack(
                workdir,
                redis_url,
                replicas=args.replicas,
                extra_env=extra_env,
                rasa_workers=args.rasa_workers,
                action_workers=args.action_workers,
            ) as stack,
        ):
            pids = {**stack.pids}
            found = redis_pid(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
            if found is not None:
                pids["redis"] = found
            asyncio.run(warm_up(stack, max(args.rasa_workers, args.action_workers)))
            started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            print(
                f"{started}: {args.customers} customers, {args.agents} agents for {args.minutes} min",
                flush=True,
            )
            measured = asyncio.run(soak_run(stack, args, pids))
            measured["logged_errors"] = logged_errors(workdir)
    return {
        "started_at": started,
        "ended_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cores": os.cpu_count(), "note": MACHINE_NOTE},
        "parameters": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "rate_limits": extra_env,
        },
        **measured,
    }


def print_report(result: dict[str, Any]) -> None:
    print(
        f"\n{result['seconds']:.0f} s, {result['requests']} requests,"
        f" error rate {100 * result['error_rate']:.3f} %"
    )
    print(
        f"{'kind':<18} {'count':>7} {'/s':>6} {'errors':>6} {'4xx ok':>6}"
        f" {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    for name, k in result["kinds"].items():
        print(
            f"{name:<18} {k['count']:>7} {k['per_s']:>6.1f} {k['errors']:>6} {k['expected_4xx']:>6}"
            f" {k['p50_ms']:>8.0f} {k['p95_ms']:>8.0f} {k['p99_ms']:>8.0f}"
        )
    events = result["events"]
    print(
        f"customers {events.get('customers', 0)}, handoffs {events.get('handoffs', 0)},"
        f" closes {events.get('closes', 0)}; states seen {result['customer_states_seen']}"
    )
    for message, n in result["logged_errors"].items():
        print(f"  logged {n} x {message}")
    warm = result["parameters"]["warm_up"]
    print(f"\nresident memory, MiB (after warm-up = first sample at or after {warm:.0f} s)")
    print(f"{'process':<10} {'start':>7} {'warm':>7} {'last':>7} {'max':>7} {'growth':>7} {'MiB/min':>8}")
    for name, m in result["memory"].items():
        print(
            f"{name:<10} {m['start_mib']:>7.0f} {m['after_warm_up_mib']:>7.0f} {m['last_mib']:>7.0f}"
            f" {m['max_mib']:>7.0f} {m['growth_mib']:>+7.1f} {m['slope_mib_per_min']:>+8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=200, help="concurrent web customers")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the load runs")
    parser.add_argument("--agents", type=int, default=10, help="agents online (skill general)")
    parser.add_argument("--agent-chats", type=int, default=5, help="each agent's max concurrent chats")
    parser.add_argument("--replicas", type=int, default=2, help="service replicas (customers spread)")
    parser.add_argument("--think", default="2,6", help="customer think time, seconds: low,high")
    parser.add_argument(
        "--handoff-share", type=float, default=0.25, help="share of conversations asking for a person"
    )
    parser.add_argument("--warm-up", type=float, default=60.0, help="seconds before memory counts as warm")
    parser.add_argument("--sample-seconds", type=float, default=10.0, help="memory sampling interval")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rasa-workers", type=int, default=2, help="as `make run` (RASA_WORKERS)")
    parser.add_argument("--action-workers", type=int, default=1, help="as `make run` (ACTIONS_WORKERS)")
    parser.add_argument("--output", default="soak.json", help="file name under bench/results/")
    args = parser.parse_args()
    result = run(args)
    print_report(result)
    write_results(result, args.output)


if __name__ == "__main__":
    main()
