from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from tests.tickets.schedules import BERLIN, SHANGHAI, office, sh
from tickets.errors import NaiveDatetime
from tickets.hours import add_business_time, business_time_between
from tickets.sla import (
    DEFAULT_SLA_TABLE,
    TIERS,
    Deadlines,
    Priority,
    SlaPolicy,
    SlaState,
    SlaTable,
    compute_deadlines,
    pauses_as_of,
    promise_text,
    sla_status,
)

NORMAL = SlaPolicy(first_response=timedelta(hours=4), resolution=timedelta(hours=16))
MONDAY = sh(2025, 9, 15, 9)  # an ordinary Monday


# --- the policy table ---


def test_tier_overrides_and_fallbacks() -> None:
    s_urgent = SlaPolicy(timedelta(minutes=5), timedelta(hours=1))
    table = SlaTable(
        by_priority={level: NORMAL for level in Priority}, by_tier={"S": {Priority.URGENT: s_urgent}}
    )
    assert table.policy_for("urgent", "S") == s_urgent
    assert table.policy_for(Priority.LOW, "S") == NORMAL  # S overrides only urgent
    assert table.policy_for("urgent", "B") == NORMAL  # unknown tier: the plain policy
    with pytest.raises(ValueError, match="someday"):
        table.policy_for("someday")


def test_a_table_must_cover_every_priority_and_only_known_tiers() -> None:
    with pytest.raises(ValueError, match="lacks priorities"):
        SlaTable(by_priority={Priority.LOW: NORMAL})
    with pytest.raises(ValueError, match="unknown tiers"):
        SlaTable(by_priority={level: NORMAL for level in Priority}, by_tier={"VIP": {}})


def test_default_table_is_stricter_for_higher_priority_and_better_tiers() -> None:
    order = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
    for tier in TIERS:
        policies = [DEFAULT_SLA_TABLE.policy_for(level, tier) for level in order]
        for looser, stricter in pairwise(policies):
            assert stricter.first_response < looser.first_response
            assert stricter.resolution < looser.resolution
    for level in order:
        s, a, normal = (DEFAULT_SLA_TABLE.policy_for(level, tier) for tier in ("S", "A", "normal"))
        assert s.first_response < a.first_response < normal.first_response
        assert s.resolution < a.resolution < normal.resolution
        assert normal.first_response <= normal.resolution


# --- deadlines ---


def test_deadlines_without_pauses_count_business_time_across_national_day() -> None:
    created = sh(2025, 9, 30, 17, 30)
    deadlines = compute_deadlines(NORMAL, office(), created)
    # half an hour on Sep 30, then Oct 9: 09-12 and 13:00-13:30
    assert deadlines.first_response_due == sh(2025, 10, 9, 13, 30)
    assert deadlines.resolution_due == add_business_time(office(), created, NORMAL.resolution)


def test_a_pause_moves_deadlines_by_the_open_time_it_covered() -> None:
    schedule = office()
    pause = (sh(2025, 9, 15, 10), sh(2025, 9, 15, 14))  # 10-12 and 13-14 were open: 3 hours
    plain = compute_deadlines(NORMAL, schedule, MONDAY)
    paused = compute_deadlines(NORMAL, schedule, MONDAY, [pause])
    assert plain.resolution_due == sh(2025, 9, 16, 18)
    assert paused.resolution_due == sh(2025, 9, 17, 12)
    counted = business_time_between(schedule, MONDAY, paused.resolution_due)
    assert counted - business_time_between(schedule, *pause) == NORMAL.resolution
    # the first response clock was paused too: 1 hour before, 3 hours after 14:00
    assert paused.first_response_due == sh(2025, 9, 15, 17)


def test_a_pause_while_closed_changes_nothing() -> None:
    overnight = (sh(2025, 9, 15, 18, 30), sh(2025, 9, 16, 8, 30))
    assert compute_deadlines(NORMAL, office(), MONDAY, [overnight]) == compute_deadlines(
        NORMAL, office(), MONDAY
    )


def test_overlapping_pauses_count_once() -> None:
    pieces = [(sh(2025, 9, 15, 10), sh(2025, 9, 15, 11)), (sh(2025, 9, 15, 10, 30), sh(2025, 9, 15, 14))]
    whole = [(sh(2025, 9, 15, 10), sh(2025, 9, 15, 14))]
    assert compute_deadlines(NORMAL, office(), MONDAY, pieces) == compute_deadlines(
        NORMAL, office(), MONDAY, whole
    )


def test_a_pause_before_creation_does_not_count() -> None:
    before = [(sh(2025, 9, 12, 9), sh(2025, 9, 15, 9))]
    assert compute_deadlines(NORMAL, office(), MONDAY, before) == compute_deadlines(NORMAL, office(), MONDAY)


def test_a_running_pause_counts_up_to_now() -> None:
    now = sh(2025, 9, 15, 11)
    pauses = pauses_as_of([(sh(2025, 9, 15, 9, 15), sh(2025, 9, 15, 9, 30))], sh(2025, 9, 15, 10), now)
    assert pauses[-1] == (sh(2025, 9, 15, 10), now)
    deadlines = compute_deadlines(NORMAL, office(), MONDAY, pauses)
    assert deadlines.first_response_due == sh(2025, 9, 15, 15, 15)  # 4h + 15min + 1h, lunch skipped
    assert pauses_as_of([], None, now) == []


def test_invalid_inputs() -> None:
    with pytest.raises(NaiveDatetime):
        compute_deadlines(NORMAL, office(), datetime(2025, 9, 15, 9))
    with pytest.raises(ValueError, match="ends before it starts"):
        compute_deadlines(NORMAL, office(), MONDAY, [(sh(2025, 9, 15, 12), sh(2025, 9, 15, 10))])
    with pytest.raises(ValueError, match="negative"):
        SlaPolicy(timedelta(hours=-1), timedelta(hours=1))


# --- status ---

DUE = Deadlines(first_response_due=sh(2025, 9, 15, 13), resolution_due=sh(2025, 9, 16, 18))
WARN = timedelta(minutes=30)


def test_status_before_any_deadline() -> None:
    status = sla_status(DUE, sh(2025, 9, 15, 10), None, None, WARN)
    assert (status.first_response, status.resolution) == (SlaState.OK, SlaState.OK)


def test_status_close_to_and_past_a_deadline() -> None:
    assert sla_status(DUE, sh(2025, 9, 15, 12, 30), None, None, WARN).first_response is SlaState.AT_RISK
    assert sla_status(DUE, sh(2025, 9, 15, 12, 29), None, None, WARN).first_response is SlaState.OK
    assert sla_status(DUE, sh(2025, 9, 15, 13), None, None, WARN).first_response is SlaState.BREACHED
    late = sla_status(DUE, sh(2025, 9, 17, 9), None, None, WARN)
    assert (late.first_response, late.resolution) == (SlaState.BREACHED, SlaState.BREACHED)


def test_status_once_done_is_met_or_breached_for_good() -> None:
    on_time = sla_status(DUE, sh(2025, 9, 20), sh(2025, 9, 15, 13), sh(2025, 9, 16, 17), WARN)
    assert (on_time.first_response, on_time.resolution) == (SlaState.MET, SlaState.MET)
    late_reply = sla_status(DUE, sh(2025, 9, 15, 14), sh(2025, 9, 15, 13, 1), None, WARN)
    assert (late_reply.first_response, late_reply.resolution) == (SlaState.BREACHED, SlaState.OK)


def test_resolving_without_a_reply_counts_as_the_response() -> None:
    status = sla_status(DUE, sh(2025, 9, 15, 15), None, sh(2025, 9, 15, 11), WARN)
    assert (status.first_response, status.resolution) == (SlaState.MET, SlaState.MET)


def test_status_compares_instants_not_wall_clocks() -> None:
    now_utc = datetime(2025, 9, 15, 4, 45, tzinfo=UTC)  # 12:45 in Shanghai
    assert sla_status(DUE, now_utc, None, None, WARN).first_response is SlaState.AT_RISK


# --- the promise to the customer ---


def test_promise_in_chinese_and_english() -> None:
    deadline = sh(2025, 10, 9, 9)
    assert promise_text(deadline, "zh", SHANGHAI) == "我们会在 10月9日（周四）09:00（北京时间）前回复您"
    assert promise_text(deadline, "en", SHANGHAI) == "We will reply by Thu 9 Oct 09:00 (Beijing time)"


def test_promise_in_another_timezone_shows_local_time_and_offset() -> None:
    deadline = datetime(2025, 10, 9, 1, 30, tzinfo=UTC)
    assert promise_text(deadline, "en", BERLIN) == "We will reply by Thu 9 Oct 03:30 (UTC+02:00)"
    assert promise_text(deadline, "zh", BERLIN) == "我们会在 10月9日（周四）03:30（UTC+02:00）前回复您"
    winter = datetime(2026, 1, 5, 23, 5, tzinfo=UTC)
    assert promise_text(winter, "en", BERLIN) == "We will reply by Tue 6 Jan 00:05 (UTC+01:00)"
