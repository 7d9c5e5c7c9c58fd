"""Message path overhead: Kefu's web channel vs bare Rasa's REST channel, in the same run.

Starts the whole system (real Redis, Rasa, action server, service), sends the same questions
through `POST /api/web/messages` and straight to Rasa's `/webhooks/rest/webhook`, interleaved,
and reports p50/p95 latency and the ratio Kefu/Rasa. Absolute times on a shared machine are
noise; the ratio is the figure to watch.

    .venv/bin/python -m bench.message_path [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import redis_server
from tests.support.stack import running_stack

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir / "redis") as redis_url, running_stack(workdir, redis_url) as stack:
            kefu_ms: list[float] = []
            rasa_ms: list[float] = []
            with httpx.Client(timeout=60) as http:
                for q in QUESTIONS:  # warm-up: model loads, first index search
                    http.post(f"{stack.service_url}/api/web/messages", json={"visitor_id": "warm", "text": q})
                for _ in range(rounds):
                    for q in QUESTIONS:
                        sender = uuid.uuid4().hex
                        start = time.perf_counter()
                        http.post(
                            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": q}
                        ).raise_for_status()
                        rasa_ms.append((time.perf_counter() - start) * 1000)
                        start = time.perf_counter()
                        http.post(
                            f"{stack.service_url}/api/web/messages", json={"visitor_id": sender, "text": q}
                        ).raise_for_status()
                        kefu_ms.append((time.perf_counter() - start) * 1000)
    rows = {
        "bare_rasa": {"p50_ms": statistics.median(rasa_ms), "p95_ms": percentile(rasa_ms, 0.95)},
        "kefu_web": {"p50_ms": statistics.median(kefu_ms), "p95_ms": percentile(kefu_ms, 0.95)},
    }
    ratio = {k: rows["kefu_web"][k] / rows["bare_rasa"][k] for k in ("p50_ms", "p95_ms")}
    return {
        "rounds": rounds,
        "messages_each": len(rasa_ms),
        "rows": rows,
        "ratio_kefu_over_rasa": ratio,
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    result = run(args.rounds)
    print(f"{'path':<12} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in result["rows"].items():
        print(f"{name:<12} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}")
    r = result["ratio_kefu_over_rasa"]
    print(f"{'ratio':<12} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f}   (Kefu web channel / bare Rasa)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "message_path.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
