"""Domain errors of business hours and SLA logic."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import KefuError, Unavailable, ValidationFailed


class ScheduleError(ValidationFailed):
    """An invalid schedule; ``problems`` names each bad key and what is wrong with it."""

    code = "invalid_schedule"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid schedule ({count} {noun}): " + "; ".join(self.problems))


class NaiveDatetime(ValidationFailed):
    """A datetime without a timezone: business hours cannot place it in time."""

    code = "naive_datetime"


class HolidayDataMissing(Unavailable):
    """The holiday calendar has no data for a year: upgrade ``chinese-calendar``."""

    code = "holiday_data_missing"


class BeyondHorizon(KefuError):
    """No answer within the search horizon (the schedule is open too rarely)."""

    status = 422
    code = "beyond_horizon"
