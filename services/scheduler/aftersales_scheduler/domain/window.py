"""D13 calling windows: when a customer may be called, on the shared working calendar."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache

from aftersales_workcalendar import Weekday, WorkingCalendar, calling_window_config
from pydantic import BaseModel, ConfigDict, Field, model_validator


class CallingHours(BaseModel):
    """Default 09:00–20:00 local, every day; public holidays quiet unless configured (D13)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: tuple[str, ...] = Field(("09:00-20:00",), min_length=1)
    quiet_weekdays: frozenset[Weekday] = frozenset()
    holidays_quiet: bool = True

    @model_validator(mode="after")
    def _valid_hours(self) -> CallingHours:
        # Validate now, on load, rather than at the first call of a dealer's calendar.
        calling_window_config(
            hours=self.hours, quiet_weekdays=self.quiet_weekdays, holiday_region=None
        )
        return self

    def calendar(self, time_zone: str) -> WorkingCalendar:
        return _calendar(self, time_zone)

    @property
    def opens_at(self) -> time:
        """The start of calling hours (the same every calling day): "day N at calling-hours
        start" (D6, D8) means this time of day on day N."""
        return time.fromisoformat(min(self.hours).split("-")[0])


@lru_cache(maxsize=256)
def _calendar(hours: CallingHours, time_zone: str) -> WorkingCalendar:
    return WorkingCalendar.calling_window(
        timezone=time_zone,
        hours=hours.hours,
        quiet_weekdays=hours.quiet_weekdays,
        holidays_quiet=hours.holidays_quiet,
    )


def window_start(calendar: WorkingCalendar, at: datetime) -> datetime:
    """The first allowed calling moment at or after `at` (D13: never outside calling hours)."""
    return calendar.next_open_moment(at)


@lru_cache(maxsize=4096)
def window_key(calendar: WorkingCalendar, at: datetime) -> str:
    """The calling window (local calling day) an allowed moment belongs to: contacts of one
    customer in the same window are merged into one (D13). Remembered: each new contact is
    checked against all of the customer's others (13 % of the planner's CPU in a profile)."""
    return calendar.next_open_moment(at).astimezone(calendar.tz).date().isoformat()
