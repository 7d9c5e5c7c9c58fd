import pytest

from tickets.errors import ScheduleError
from tickets.time_range import TimeRange, overlap_problems


def test_parse_and_print_round_trip() -> None:
    parsed = TimeRange.parse("09:00-12:30")
    assert (parsed.start, parsed.end) == (540, 750)
    assert str(parsed) == "09:00-12:30"
    assert TimeRange.parse(" 9:05 - 18:00 ") == TimeRange(545, 1080)


def test_24_00_is_allowed_as_an_end() -> None:
    assert TimeRange.parse("22:00-24:00") == TimeRange(1320, 1440)
    assert str(TimeRange.parse("00:00-24:00")) == "00:00-24:00"


@pytest.mark.parametrize(
    "text", ["24:00-24:00", "22:00-24:30", "18:00-09:00", "09:00-09:00", "9-18", "09:60-10:00"]
)
def test_invalid_ranges_are_rejected(text: str) -> None:
    with pytest.raises(ScheduleError, match=text):
        TimeRange.parse(text)


def test_overlaps_are_named_but_touching_ranges_are_fine() -> None:
    ranges = (TimeRange.parse("09:00-12:00"), TimeRange.parse("12:00-13:00"), TimeRange.parse("12:30-14:00"))
    assert overlap_problems("weekly.mon", ranges) == [
        "weekly.mon: ranges 12:00-13:00 and 12:30-14:00 overlap"
    ]
