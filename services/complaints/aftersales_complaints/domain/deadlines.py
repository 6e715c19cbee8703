"""Deadlines of a ticket's steps on the shared working calendar (D20), and when to warn.

Working time is the dealer's business hours and holiday calendar (`aftersales_workcalendar`);
this module only says which span each step gets and measures the warning point in the same
kind of time as the deadline itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from aftersales_contracts import ComplaintStep
from aftersales_workcalendar import CalendarConfig, WorkingCalendar
from pydantic import BaseModel, ConfigDict, Field


class FeedbackBy(StrEnum):
    CALENDAR_DAY = "calendar_day"  # D20 (default): 次日内反馈, the end of the next calendar day
    WORKING_DAY = "working_day"  # the close of the next working day


class DeadlinePolicy(BaseModel):
    """The spans of D20, every one configurable (per dealer through the directory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gm_notice_working_days: float = Field(0.5, gt=0, le=5)  # D20: half a working day
    reply_working_days: int = Field(1, ge=1, le=10)  # D20: one working day
    feedback_by: FeedbackBy = FeedbackBy.CALENDAR_DAY
    feedback_days: int = Field(1, ge=1, le=10)  # D20: "the next day"
    warn_at_fraction: float = Field(0.75, gt=0, lt=1)  # warning at 75 % of the step's time
    confirm_after_working_days: int = Field(1, ge=0, le=30)  # D22: the confirmation call


@lru_cache(maxsize=64)
def working_calendar(time_zone: str) -> WorkingCalendar:
    # The shared calendar's default working time (business hours, China's holidays and make-up
    # working days) in the dealer's zone.
    return WorkingCalendar(CalendarConfig(timezone=time_zone))


def to_ms(moment: datetime) -> datetime:
    """BSON keeps milliseconds: cut every stored instant there, so a reload compares equal."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class StepTiming:
    step: ComplaintStep
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    working: bool  # measured in working time (else elapsed calendar time)


class DeadlineClock:
    """One dealer's deadlines: its calendar and its policy."""

    def __init__(self, calendar: WorkingCalendar, policy: DeadlinePolicy) -> None:
        self.calendar = calendar
        self.policy = policy

    def working_day(self) -> timedelta:
        """A normal working day's open time (08:30-18:00 → 9 h 30 min)."""
        total = 0
        for hours in self.calendar.config.hours:
            end = 24 * 60 if hours.ends_at_midnight else _minutes(hours.end)
            total += end - _minutes(hours.start)
        return timedelta(minutes=total)

    def _feedback_due(self, start: datetime) -> datetime:
        """D20 次日内反馈: by the end of the next calendar day (midnight after it) in the dealer's
        zone, holiday or not; or, configured per dealer, by the close of the next working day
        after the working day the ticket reaches (a ticket of Saturday night: Tuesday's close,
        as Monday is the first working day it meets)."""
        tz = self.calendar.tz
        if self.policy.feedback_by is FeedbackBy.CALENDAR_DAY:
            day = start.astimezone(tz).date() + timedelta(days=self.policy.feedback_days + 1)
            return datetime.combine(day, time(0), tz).astimezone(start.tzinfo)
        anchor = self.calendar.add_working_days(start, self.policy.feedback_days)
        day = anchor.astimezone(tz).date()
        closing = self.calendar.hours_on(day)[-1]
        end = time(0) if closing.ends_at_midnight else closing.end
        closing_day = day + timedelta(days=1) if closing.ends_at_midnight else day
        return datetime.combine(closing_day, end, tz).astimezone(start.tzinfo)

    def first(self, step: ComplaintStep, start: datetime) -> StepTiming:
        """The step's deadline for a round that starts at `start` (opening or reopening)."""
        if step is ComplaintStep.GM_NOTICE:
            span = self.working_day() * self.policy.gm_notice_working_days
            return self._timing(step, start, self.calendar.add_working_time(start, span), True)
        if step is ComplaintStep.REPLY:
            due = self.calendar.add_working_days(start, self.policy.reply_working_days)
            return self._timing(step, start, due, True)
        working = self.policy.feedback_by is FeedbackBy.WORKING_DAY
        return self._timing(step, start, self._feedback_due(start), working)

    def again(self, previous: StepTiming, start: datetime) -> StepTiming:
        """D21: after an escalation the new holder gets the step's time again, from `start`."""
        return self.first(previous.step, start)

    def _timing(
        self, step: ComplaintStep, start: datetime, due: datetime, working: bool
    ) -> StepTiming:
        warn = to_ms(self.warn_at(start, due, working))
        return StepTiming(step, to_ms(start), to_ms(due), warn, working)

    def warn_at(self, start: datetime, due: datetime, working: bool) -> datetime:
        """The moment `warn_at_fraction` of the step's time is used, in the step's own time."""
        fraction = self.policy.warn_at_fraction
        if not working:
            return start + (due - start) * fraction
        span = self.calendar.working_time_between(start, due)
        return self.calendar.add_working_time(start, span * fraction)
