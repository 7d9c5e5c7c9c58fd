"""The after-hours decision: pure, over real schedules and China's real holidays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tickets.schedules import SHANGHAI, office, sh
from tickets.after_hours import decide
from tickets.hours import add_business_time, next_change
from tickets.schedule_file import schedule_from_dict
from tickets.sla import promise_text


def test_open_means_queue() -> None:
    decision = decide(office(), "ticket", sh(2025, 10, 13, 10), "zh")
    assert (decision.kind, decision.next_open, decision.customer_text) == ("queue", None, "")


def test_closed_before_national_day_makes_a_ticket_promising_a_reply() -> None:
    now = sh(2025, 9, 30, 20)
    decision = decide(office(), "ticket", now, "zh", reply_within=timedelta(hours=4))
    assert decision.kind == "ticket"
    assert decision.next_open == sh(2025, 10, 9, 9) == next_change(office(), now)
    text = decision.customer_text.format(ticket_number="T20250930-0001")
    assert "10月9日（周四）09:00（北京时间）上班" in text
    assert "T20250930-0001" in text
    promise = promise_text(add_business_time(office(), now, timedelta(hours=4)), "zh", SHANGHAI)
    assert promise in text and "10月9日（周四）14:00" in promise  # lunch 12-13 does not count


def test_english_ticket_text_without_a_target() -> None:
    decision = decide(office(), "ticket", sh(2025, 9, 30, 20), "en")
    text = decision.customer_text.format(ticket_number="T1")
    assert "We open again on Thu 9 Oct 09:00 (Beijing time)" in text
    assert "ticket T1" in text and "as soon as we open" in text


@pytest.mark.parametrize(
    ("mode", "kind", "zh_words"),
    [("queue", "queue_until_open", "继续留言"), ("bot_only", "bot_only", "智能助手")],
)
def test_other_modes(mode: str, kind: str, zh_words: str) -> None:
    decision = decide(office(), mode, sh(2025, 10, 11, 19), "zh")  # type: ignore[arg-type]
    assert decision.kind == kind
    assert decision.next_open == sh(2025, 10, 13, 9)  # Sat 调休 day closes at 18:00; Monday next
    assert zh_words in decision.customer_text and "{ticket_number}" not in decision.customer_text


def test_never_open_and_unknown_years_do_not_promise_a_time() -> None:
    closed = schedule_from_dict({"weekly": {}})
    decision = decide(closed, "queue", sh(2025, 10, 13, 10), "en")
    assert decision.next_open is None and "as soon as we can" in decision.customer_text
    # The holiday data ends with 2026: the next opening after New Year's Eve is unknown.
    late = decide(office(), "ticket", sh(2026, 12, 31, 19), "zh", reply_within=timedelta(hours=1))
    assert late.next_open is None and "尽快" in late.customer_text


def test_announcement_comes_first_and_keeps_its_braces() -> None:
    decision = decide(office(), "ticket", sh(2025, 9, 30, 20), "zh", announcement="国庆放假 {通知}")
    text = decision.customer_text.format(ticket_number="T9")
    assert text.startswith("国庆放假 {通知}\n") and "T9" in text


def test_other_timezones_show_their_offset() -> None:
    berlin = schedule_from_dict({"timezone": "Europe/Berlin", "weekly": {"mon": ["09:00-17:00"]}})
    decision = decide(berlin, "queue", sh(2025, 10, 13, 3), "en")  # Sun 21:00 in Berlin
    assert "Mon 13 Oct 09:00 (UTC+02:00)" in decision.customer_text
