"""This process's counters and histograms, rendered in Prometheus' text format (0.0.4).

- ``kefu_http_requests_total{route,method,status}``, ``kefu_http_request_duration_seconds{route}``
  and ``kefu_http_errors_total`` (5xx answers);
- ``kefu_bot_request_duration_seconds{outcome}``: each call to Rasa (``ok`` or ``unavailable``),
  so the bot's share of a web message's time is visible beside the route's;
- ``kefu_knowledge_publish_duration_seconds{outcome}``: each publish this replica ran;
- ``kefu_assignments_total{kind}``: conversations this replica gave to an agent (``assigned``,
  or ``sticky``: back to the customer's last agent).

Live gauges read at scrape time (queues, agents, alerts) are added by ``service.observability``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from conversations.botclient import BotClient
from core.types import BotReply
from handoff.model import Assignment

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PUBLISH_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


def esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Histogram:
    """One histogram with one label."""

    def __init__(self, name: str, help_text: str, label: str, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.name, self.help, self.label, self.buckets = name, help_text, label, buckets
        self._counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(buckets) + 1))
        self._sums: dict[str, float] = defaultdict(float)

    def observe(self, value: str, seconds: float) -> None:
        counts = self._counts[value]
        for i, bound in enumerate(self.buckets):
            if seconds <= bound:
                counts[i] += 1
        counts[-1] += 1  # +Inf
        self._sums[value] += seconds

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for value, counts in sorted(self._counts.items()):
            label = f'{self.label}="{esc(value)}"'
            for bound, n in zip((*[str(b) for b in self.buckets], "+Inf"), counts, strict=True):
                lines.append(f'{self.name}_bucket{{{label},le="{bound}"}} {n}')
            lines.append(f"{self.name}_sum{{{label}}} {self._sums[value]:.6f}")
            lines.append(f"{self.name}_count{{{label}}} {counts[-1]}")
        return lines


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.errors = 0
        self.assignments: dict[str, int] = defaultdict(int)
        self.http = Histogram("kefu_http_request_duration_seconds", "HTTP request latency by route.", "route")
        self.bot = Histogram("kefu_bot_request_duration_seconds", "Calls to the bot by outcome.", "outcome")
        self.publish = Histogram(
            "kefu_knowledge_publish_duration_seconds",
            "Knowledge publishes this replica ran, by outcome.",
            "outcome",
            PUBLISH_BUCKETS,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(route, method, str(status))] += 1
        self.http.observe(route, seconds)
        if status >= 500:
            self.errors += 1

    def assigned(self, assignment: Assignment) -> None:
        self.assignments["sticky" if assignment.sticky else "assigned"] += 1

    def published(self, seconds: float, ok: bool) -> None:
        self.publish.observe("ok" if ok else "failed", seconds)

    def render(self) -> list[str]:
        lines = [
            "# HELP kefu_http_requests_total HTTP requests by route, method and status.",
            "# TYPE kefu_http_requests_total counter",
        ]
        for (route, method, status), n in sorted(self.requests.items()):
            lines.append(
                f'kefu_http_requests_total{{route="{esc(route)}",method="{method}",status="{status}"}} {n}'
            )
        return [
            *lines,
            *self.http.render(),
            "# HELP kefu_http_errors_total Responses with a 5xx status.",
            "# TYPE kefu_http_errors_total counter",
            f"kefu_http_errors_total {self.errors}",
            *self.bot.render(),
            *self.publish.render(),
            "# HELP kefu_assignments_total Conversations this replica gave to an agent.",
            "# TYPE kefu_assignments_total counter",
            *(f'kefu_assignments_total{{kind="{kind}"}} {n}' for kind, n in sorted(self.assignments.items())),
        ]


class TimedBot:
    """A ``BotClient`` that times each call into ``Metrics.bot``."""

    def __init__(self, bot: BotClient, metrics: Metrics) -> None:
        self._bot = bot
        self._metrics = metrics

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            replies = await self._bot.send(sender, text, metadata)
            outcome = "ok"
            return replies
        finally:
            self._metrics.bot.observe(outcome, time.perf_counter() - started)

    async def in_form(self, sender: str) -> bool:
        return await self._bot.in_form(sender)

    async def healthy(self) -> bool:
        return await self._bot.healthy()
