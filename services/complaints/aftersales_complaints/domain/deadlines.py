"""Deadlines of a ticket's steps, in the dealer's working time (D20)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from aftersales_workcalendar import CalendarConfig, WorkingCalendar


@lru_cache(maxsize=64)
def working_calendar(time_zone: str) -> WorkingCalendar:
    # The default working time of the shared calendar (business hours, China's holidays and
    # make-up working days) in the dealer's zone; per-dealer hours come with the SLA issue.
    return WorkingCalendar(CalendarConfig(timezone=time_zone))


def reply_due_at(opened_at: datetime, time_zone: str, working_days: int) -> datetime:
    """D20: the customer gets a reply within one working day of the ticket's opening."""
    return working_calendar(time_zone).add_working_days(opened_at, working_days)
