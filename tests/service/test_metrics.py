"""The process's own metrics: histograms in Prometheus' text format, bot calls timed by outcome."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Unavailable
from core.types import BotReply
from service.metrics import Histogram, Metrics, TimedBot


def test_a_histogram_counts_into_every_bucket_at_or_above_the_value() -> None:
    histogram = Histogram("kefu_x_seconds", "X.", "kind", buckets=(1.0, 5.0))
    histogram.observe("a", 0.5)
    histogram.observe("a", 3.0)
    histogram.observe("b", 9.0)
    assert histogram.render() == [
        "# HELP kefu_x_seconds X.",
        "# TYPE kefu_x_seconds histogram",
        'kefu_x_seconds_bucket{kind="a",le="1.0"} 1',
        'kefu_x_seconds_bucket{kind="a",le="5.0"} 2',
        'kefu_x_seconds_bucket{kind="a",le="+Inf"} 2',
        'kefu_x_seconds_sum{kind="a"} 3.500000',
        'kefu_x_seconds_count{kind="a"} 2',
        'kefu_x_seconds_bucket{kind="b",le="1.0"} 0',
        'kefu_x_seconds_bucket{kind="b",le="5.0"} 0',
        'kefu_x_seconds_bucket{kind="b",le="+Inf"} 1',
        'kefu_x_seconds_sum{kind="b"} 9.000000',
        'kefu_x_seconds_count{kind="b"} 1',
    ]


def test_label_values_are_escaped() -> None:
    histogram = Histogram("kefu_y", "Y.", "route", buckets=(1.0,))
    histogram.observe('/a"b\n', 0.1)
    assert 'kefu_y_count{route="/a\\"b\\n"} 1' in histogram.render()


def test_publishes_are_counted_by_outcome() -> None:
    metrics = Metrics()
    metrics.published(42.0, True)
    metrics.published(3.0, False)
    body = metrics.render()
    assert 'kefu_knowledge_publish_duration_seconds_count{outcome="ok"} 1' in body
    assert 'kefu_knowledge_publish_duration_seconds_bucket{outcome="failed",le="5.0"} 1' in body


class FlakyBot:
    def __init__(self) -> None:
        self.up = True

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        if not self.up:
            raise Unavailable("down", code="bot_unavailable")
        return [BotReply(text="hi")]

    async def in_form(self, sender: str) -> bool:
        return False

    async def healthy(self) -> bool:
        return self.up


async def test_bot_calls_are_timed_whether_the_bot_answers_or_not() -> None:
    metrics, bot = Metrics(), FlakyBot()
    timed = TimedBot(bot, metrics)
    assert await timed.send("c1", "hello", {}) == [BotReply(text="hi")]
    bot.up = False
    with pytest.raises(Unavailable):
        await timed.send("c1", "hello", {})
    assert not await timed.healthy()
    body = metrics.render()
    assert 'kefu_bot_request_duration_seconds_count{outcome="ok"} 1' in body
    assert 'kefu_bot_request_duration_seconds_count{outcome="unavailable"} 1' in body
