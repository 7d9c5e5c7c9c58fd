from datetime import date

import chinese_calendar
import pytest

from core.errors import KefuError
from tickets.cn_calendar import DayKind, coverage, day_kind, known_years
from tickets.errors import HolidayDataMissing


def test_installed_data_covers_2025_and_2026() -> None:
    assert 2025 in known_years()
    assert 2026 in known_years()


def test_national_day_2025_and_its_makeup_days() -> None:
    assert [day_kind(date(2025, 10, day)) for day in range(1, 9)] == [DayKind.HOLIDAY] * 8
    assert day_kind(date(2025, 9, 28)) is DayKind.MAKEUP  # Sunday worked
    assert day_kind(date(2025, 10, 11)) is DayKind.MAKEUP  # Saturday worked
    assert day_kind(date(2025, 10, 9)) is DayKind.ORDINARY


def test_kinds_agree_with_the_package_for_every_day_of_2025_and_2026() -> None:
    for day in chinese_calendar.get_dates(date(2025, 1, 1), date(2026, 12, 31)):
        kind = day_kind(day)
        is_weekend = day.weekday() >= 5
        if kind is DayKind.HOLIDAY:
            assert not chinese_calendar.is_workday(day)
        elif kind is DayKind.MAKEUP:
            assert chinese_calendar.is_workday(day) and is_weekend
        else:
            assert chinese_calendar.is_workday(day) != is_weekend


def test_a_year_without_data_fails_loudly() -> None:
    missing = known_years().stop
    with pytest.raises(HolidayDataMissing, match=str(missing)) as caught:
        day_kind(date(missing, 3, 2))
    assert isinstance(caught.value, KefuError)
    assert caught.value.status == 503


def test_coverage_warns_in_the_last_weeks_of_the_known_data() -> None:
    last = date(known_years().stop - 1, 12, 31)
    early = coverage(date(last.year, 6, 1))
    assert early.known_through == last and early.days_left == (last - date(last.year, 6, 1)).days
    assert not early.ending_soon and early.warning() is None
    late = coverage(date(last.year, 11, 23))
    assert late.days_left == 38 and late.ending_soon
    warning = late.warning()
    assert warning is not None and f"{last.year + 1}" in warning and "chinese-calendar" in warning


def test_coverage_past_the_end_counts_zero_days_left() -> None:
    last = date(known_years().stop - 1, 12, 31)
    beyond = coverage(date(last.year + 1, 1, 5))
    assert beyond.days_left == -5
    assert "(0 days)" in (beyond.warning() or "")
