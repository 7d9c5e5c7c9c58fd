import json
from datetime import date

import pytest

from core.errors import ValidationFailed
from tests.tickets.schedules import SHANGHAI, office
from tickets.hours import TimeRange
from tickets.schedule_file import ScheduleError, parse_schedule_yaml, schedule_from_dict, schedule_to_dict

EXAMPLE = """
timezone: Asia/Shanghai
weekly:
  mon: ["09:00-12:00", "13:00-18:00"]
  Tuesday: ["09:00-18:00"]
  sat: closed
  sun: "10:00-16:00"
holidays: cn
makeup_day_hours: tue
overrides:
  2025-12-24: ["09:00-15:00"]
  "2025-12-31": closed
"""


def test_the_example_file_parses() -> None:
    schedule = parse_schedule_yaml(EXAMPLE)
    assert schedule.timezone == SHANGHAI
    assert schedule.weekly[0] == (TimeRange.parse("09:00-12:00"), TimeRange.parse("13:00-18:00"))
    assert schedule.weekly[1] == (TimeRange.parse("09:00-18:00"),)
    assert schedule.weekly[2] == () and schedule.weekly[5] == ()
    assert schedule.weekly[6] == (TimeRange.parse("10:00-16:00"),)
    assert schedule.holidays == "cn"
    assert schedule.makeup_day_hours == 1
    assert schedule.overrides == {
        date(2025, 12, 24): (TimeRange.parse("09:00-15:00"),),
        date(2025, 12, 31): (),
    }


def test_defaults_when_keys_are_left_out() -> None:
    schedule = parse_schedule_yaml("weekly: {mon: ['09:00-18:00']}")
    assert schedule.timezone == SHANGHAI
    assert schedule.holidays is None
    assert schedule.makeup_day_hours == 0
    assert schedule.overrides == {}


def test_every_problem_is_listed_with_its_key() -> None:
    text = """
timezone: Mars/Olympus
weekly:
  mon: ["09:00-12:00", "11:00-13:00"]
  funday: ["09:00-10:00"]
  wed: ["25:00-26:00", 9]
  thu: 42
holidays: us
makeup_day_hours: someday
overrides:
  2025-13-01: closed
  2025-10-03: ["18:00-09:00"]
colour: blue
"""
    with pytest.raises(ScheduleError) as caught:
        parse_schedule_yaml(text)
    problems = caught.value.problems
    expected_keys = [
        "colour:",
        "timezone:",
        "weekly.mon:",
        "weekly.funday:",
        "weekly.wed[0]:",
        "weekly.wed[1]:",
        "weekly.thu:",
        "holidays:",
        "makeup_day_hours:",
        "overrides.2025-13-01:",
        "overrides.2025-10-03[0]:",
    ]
    assert len(problems) == len(expected_keys), problems
    for key in expected_keys:
        assert sum(problem.startswith(key) for problem in problems) == 1, (key, problems)
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.status == 422
    assert "11 problems" in caught.value.message


def test_a_weekday_given_twice_is_a_problem() -> None:
    with pytest.raises(ScheduleError, match=r"weekly\.monday: mon is given twice"):
        schedule_from_dict({"weekly": {"mon": ["09:00-10:00"], "monday": ["11:00-12:00"]}})


def test_weekly_is_required() -> None:
    with pytest.raises(ScheduleError, match="weekly: required"):
        parse_schedule_yaml("timezone: Asia/Shanghai")


@pytest.mark.parametrize("text", ["weekly: [unclosed", "- just\n- a list", ""])
def test_not_a_schedule_at_all(text: str) -> None:
    with pytest.raises(ScheduleError, match="file:"):
        parse_schedule_yaml(text)


def test_round_trip_through_json() -> None:
    for schedule in (parse_schedule_yaml(EXAMPLE), office(), parse_schedule_yaml("weekly: {}")):
        stored = json.loads(json.dumps(schedule_to_dict(schedule)))
        assert schedule_from_dict(stored) == schedule


def test_the_dict_form_names_every_weekday() -> None:
    stored = schedule_to_dict(parse_schedule_yaml(EXAMPLE))
    assert list(stored["weekly"]) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert stored["weekly"]["mon"] == ["09:00-12:00", "13:00-18:00"]
    assert stored["weekly"]["wed"] == []
    assert stored["overrides"] == {"2025-12-24": ["09:00-15:00"], "2025-12-31": "closed"}
    assert stored["makeup_day_hours"] == "tue"
    assert stored["timezone"] == "Asia/Shanghai"
