from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from tests.tickets.schedules import BERLIN, EVERY_DAY, OFFICE_DAY, SHANGHAI, office, sh
from tickets.cn_calendar import known_years
from tickets.errors import BeyondHorizon, HolidayDataMissing, NaiveDatetime, ScheduleError
from tickets.hours import (
    Schedule,
    TimeRange,
    add_business_time,
    business_time_between,
    hours_on,
    is_open,
    next_change,
)
from tickets.schedule_file import schedule_from_dict


def weekdays_only(**extra: object) -> Schedule:
    """The office without China's holidays: plain Monday-Friday."""
    weekly = {day: OFFICE_DAY for day in ("mon", "tue", "wed", "thu", "fri")}
    return schedule_from_dict({"weekly": weekly, **extra})


# --- 2025 National Day: Oct 1-8 off; Sun Sep 28 and Sat Oct 11 are 调休 working days ---


def test_open_at_10_exactly_on_the_days_china_works_around_national_day() -> None:
    schedule = office()
    for day in chinese_calendar.get_dates(date(2025, 9, 20), date(2025, 10, 19)):
        at = datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI)
        assert is_open(schedule, at) == chinese_calendar.is_workday(day), day


def test_known_facts_of_national_day_2025() -> None:
    schedule = office()
    assert not any(is_open(schedule, sh(2025, 10, day, 10)) for day in range(1, 9))
    assert is_open(schedule, sh(2025, 9, 28, 10))  # Sunday make-up day
    assert is_open(schedule, sh(2025, 10, 11, 10))  # Saturday make-up day
    assert not is_open(schedule, sh(2025, 10, 12, 10))  # an ordinary Sunday
    assert is_open(weekdays_only(), sh(2025, 10, 1, 10))  # without holidays it is a Wednesday


def test_a_message_on_the_eve_of_the_holiday_waits_until_october_9() -> None:
    assert next_change(office(), sh(2025, 9, 30, 20)) == sh(2025, 10, 9, 9)


def test_next_change_closes_at_lunch_then_at_evening() -> None:
    schedule = office()
    assert next_change(schedule, sh(2025, 10, 9, 9)) == sh(2025, 10, 9, 12)
    assert next_change(schedule, sh(2025, 10, 9, 12)) == sh(2025, 10, 9, 13)
    assert next_change(schedule, sh(2025, 10, 9, 15, 30)) == sh(2025, 10, 9, 18)


def test_next_change_result_is_in_the_schedule_timezone() -> None:
    change = next_change(office(), datetime(2025, 9, 30, 12, tzinfo=UTC))  # 20:00 in Shanghai
    assert change == sh(2025, 10, 9, 9)
    assert change is not None and change.tzinfo == SHANGHAI


def test_make_up_saturday_opens_with_monday_hours_by_default() -> None:
    schedule = office()
    assert next_change(schedule, sh(2025, 10, 10, 19)) == sh(2025, 10, 11, 9)
    assert not is_open(schedule, sh(2025, 10, 11, 12, 30))  # Monday's lunch break
    assert hours_on(schedule, date(2025, 10, 11)) == hours_on(schedule, date(2025, 10, 13))


def test_make_up_day_hours_are_configurable() -> None:
    schedule = office(weekly={"mon": OFFICE_DAY, "fri": ["10:00-16:00"]}, makeup_day_hours="fri")
    assert not is_open(schedule, sh(2025, 10, 11, 9, 30))
    assert is_open(schedule, sh(2025, 10, 11, 12, 30))
    assert next_change(schedule, sh(2025, 10, 11, 12, 30)) == sh(2025, 10, 11, 16)


def test_add_business_time_spans_the_holiday() -> None:
    schedule = office()
    start = sh(2025, 9, 30, 17)
    assert add_business_time(schedule, start, timedelta(hours=1)) == sh(2025, 9, 30, 18)
    # one hour before closing, then the office is shut until Oct 9; an exact fit ends at lunch
    assert add_business_time(schedule, start, timedelta(hours=4)) == sh(2025, 10, 9, 12)
    assert add_business_time(schedule, start, timedelta(hours=5)) == sh(2025, 10, 9, 14)
    assert business_time_between(schedule, start, sh(2025, 10, 9, 14)) == timedelta(hours=5)


def test_started_while_closed_the_clock_waits_for_the_opening() -> None:
    assert add_business_time(office(), sh(2025, 10, 3, 15), timedelta(minutes=30)) == sh(2025, 10, 9, 9, 30)


def test_zero_duration_is_the_start_itself() -> None:
    assert add_business_time(office(), sh(2025, 10, 3, 15), timedelta(0)) == sh(2025, 10, 3, 15)


def test_business_time_between_is_the_inverse_of_add() -> None:
    schedule = office()
    start = sh(2025, 9, 26, 11, 20)
    for minutes in (1, 40, 7 * 60, 8 * 60, 30 * 60, 100 * 60):
        end = add_business_time(schedule, start, timedelta(minutes=minutes))
        assert business_time_between(schedule, start, end) == timedelta(minutes=minutes)
        assert business_time_between(schedule, end, start) == -timedelta(minutes=minutes)


# --- 2026 Spring Festival ---


def spring_festival_2026() -> list[date]:
    return [
        day
        for day in chinese_calendar.get_dates(date(2026, 1, 15), date(2026, 3, 15))
        if chinese_calendar.get_holiday_detail(day) == (True, chinese_calendar.Holiday.spring_festival.value)
    ]


def test_closed_through_spring_festival_2026() -> None:
    holiday = spring_festival_2026()
    assert holiday[0] == date(2026, 2, 15) and holiday[-1] == date(2026, 2, 23)
    schedule = office()
    assert not any(is_open(schedule, sh(day.year, day.month, day.day, 10)) for day in holiday)
    back = holiday[-1] + timedelta(days=1)
    assert next_change(schedule, sh(2026, 2, 14, 18)) == sh(back.year, back.month, back.day, 9)


def test_spring_festival_make_up_saturdays_open() -> None:
    makeup = [day for day in chinese_calendar.workdays if day.year == 2026 and day.month == 2]
    assert sorted(makeup) == [date(2026, 2, 14), date(2026, 2, 28)]
    schedule = office()
    for day in makeup:
        assert day.weekday() == 5
        assert is_open(schedule, sh(day.year, day.month, day.day, 10))


def test_deadline_across_spring_festival() -> None:
    # Sat Feb 14 (worked) 17:00 + 3h: one hour that evening, two after the festival
    assert add_business_time(office(), sh(2026, 2, 14, 17), timedelta(hours=3)) == sh(2026, 2, 24, 11)


def test_past_the_holiday_data_next_change_fails_loudly() -> None:
    last = known_years().stop - 1
    with pytest.raises(HolidayDataMissing):
        next_change(office(), sh(last, 12, 31, 23))
    with pytest.raises(HolidayDataMissing):
        is_open(office(), sh(last + 1, 1, 5, 10))


# --- overrides, closed and always-open schedules, several ranges ---


def test_override_opens_a_holiday_and_closes_a_workday() -> None:
    schedule = office(overrides={"2025-10-03": ["10:00-14:00"], "2025-10-09": "closed"})
    assert is_open(schedule, sh(2025, 10, 3, 11))
    assert not is_open(schedule, sh(2025, 10, 3, 14))
    assert next_change(schedule, sh(2025, 10, 3, 15)) == sh(2025, 10, 10, 9)
    assert next_change(schedule, sh(2025, 10, 1, 8)) == sh(2025, 10, 3, 10)


def test_a_schedule_with_no_ranges_is_always_closed() -> None:
    for schedule in (Schedule(), schedule_from_dict({"weekly": {}, "holidays": "cn"})):
        assert not is_open(schedule, sh(2025, 10, 9, 10))
        assert next_change(schedule, sh(2025, 10, 9, 10)) is None
        assert business_time_between(schedule, sh(2025, 1, 1), sh(2025, 12, 31)) == timedelta(0)
        with pytest.raises(BeyondHorizon):
            add_business_time(schedule, sh(2025, 10, 9, 10), timedelta(minutes=1))
        assert not is_open(schedule, sh(known_years().stop, 2, 1, 10))  # needs no holiday data


def test_open_around_the_clock_never_changes() -> None:
    schedule = schedule_from_dict({"weekly": {day: "00:00-24:00" for day in EVERY_DAY}})
    assert is_open(schedule, sh(2025, 10, 1, 3))
    assert next_change(schedule, sh(2025, 10, 1, 3)) is None
    assert add_business_time(schedule, sh(2025, 10, 1, 3), timedelta(days=3)) == sh(2025, 10, 4, 3)


def test_a_night_shift_across_midnight_is_one_open_stretch() -> None:
    schedule = weekdays_only(weekly={"mon": ["22:00-24:00"], "tue": ["00:00-06:00", "09:00-10:00"]})
    monday_night = sh(2025, 9, 22, 23)
    assert is_open(schedule, monday_night)
    assert next_change(schedule, monday_night) == sh(2025, 9, 23, 6)
    assert next_change(schedule, sh(2025, 9, 23, 6)) == sh(2025, 9, 23, 9)


def test_sparse_schedule_beyond_the_horizon() -> None:
    schedule = weekdays_only(weekly={}, overrides={"2027-06-01": ["09:00-10:00"]})
    assert next_change(schedule, sh(2026, 6, 1)) == sh(2027, 6, 1, 9)
    assert next_change(schedule, sh(2026, 6, 1), horizon_days=100) is None


def test_overlapping_ranges_are_rejected() -> None:
    with pytest.raises(ScheduleError, match=r"weekly\.mon: ranges"):
        Schedule(weekly={0: (TimeRange.parse("09:00-12:00"), TimeRange.parse("11:00-13:00"))})


# --- DST and naive datetimes ---


def berlin(month: int, day: int, hour: int) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=BERLIN)


def test_across_berlin_spring_forward_a_day_has_23_hours() -> None:
    every_day = {day: "00:00-24:00" for day in EVERY_DAY}
    schedule = schedule_from_dict({"timezone": "Europe/Berlin", "weekly": every_day})
    # Sunday March 30 2025: clocks jump from 02:00 to 03:00
    assert business_time_between(schedule, berlin(3, 29, 0), berlin(3, 31, 0)) == timedelta(hours=47)
    assert business_time_between(schedule, berlin(10, 25, 0), berlin(10, 27, 0)) == timedelta(hours=49)


def test_berlin_deadline_over_the_dst_weekend_keeps_wall_clock_hours() -> None:
    schedule = schedule_from_dict(
        {"timezone": "Europe/Berlin", "weekly": {"mon": ["09:00-18:00"], "fri": ["09:00-18:00"]}}
    )
    deadline = add_business_time(schedule, berlin(3, 28, 17), timedelta(hours=2))
    assert deadline == berlin(3, 31, 10)
    assert deadline.utcoffset() == timedelta(hours=2)  # summer time on Monday
    assert deadline.astimezone(UTC) == datetime(2025, 3, 31, 8, tzinfo=UTC)
    assert next_change(schedule, berlin(3, 28, 20)) == berlin(3, 31, 9)


def test_a_range_inside_the_fall_back_hour_counts_both_passes() -> None:
    schedule = schedule_from_dict({"timezone": "Europe/Berlin", "weekly": {"sun": ["02:00-03:00"]}})
    sunday = berlin(10, 26, 0)
    assert business_time_between(schedule, sunday, sunday + timedelta(days=1)) == timedelta(hours=2)


@pytest.mark.parametrize(
    "call",
    [
        lambda s, t: is_open(s, t),
        lambda s, t: next_change(s, t),
        lambda s, t: add_business_time(s, t, timedelta(hours=1)),
        lambda s, t: business_time_between(s, t, sh(2025, 10, 9)),
    ],
)
def test_naive_datetimes_are_rejected(call: object) -> None:
    assert callable(call)
    with pytest.raises(NaiveDatetime, match="timezone-aware"):
        call(office(), datetime(2025, 10, 9, 10))


def test_a_range_that_falls_in_the_spring_forward_gap_does_not_open() -> None:
    schedule = schedule_from_dict({"timezone": "Europe/Berlin", "weekly": {"sun": ["02:00-03:00"]}})
    sunday = berlin(3, 30, 0)
    assert business_time_between(schedule, sunday, sunday + timedelta(days=1)) == timedelta(0)
    assert next_change(schedule, berlin(3, 29, 12)) == datetime(2025, 4, 6, 2, tzinfo=BERLIN)
