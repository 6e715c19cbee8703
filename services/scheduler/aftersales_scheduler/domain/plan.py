"""Which contacts a fact plans, when, on which channel, and what D13 makes of them.

`plan_steps` turns a plan's steps (D6-D8) into contacts: "day N at calling-hours start" in the
dealer's zone, moved into the calling window when that day is quiet (D13), with the step's
timeliness window; `decide` applies anti-harassment against the customer's other contacts:
merge into one contact per window, then cap K contacts per rolling 7 days; `retry_at` places
an unreached call's next attempt (D15), inside the timeliness window first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from aftersales_contracts.dms import Channel, WorkOrderType
from aftersales_contracts.events import ContactPurpose
from aftersales_workcalendar import WorkingCalendar

from aftersales_scheduler.domain.policy import PlanStep
from aftersales_scheduler.domain.window import window_key, window_start

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class PlannedContact:
    step: str
    purposes: tuple[ContactPurpose, ...]
    channel: Channel
    nominal_at: datetime  # what the rule says (D6-D12)
    due_at: datetime  # after the calling window (D13)
    timely_until: datetime | None = None  # D6/D8: made by then, the contact was timely
    contact_id: str | None = None  # given by its requester (D22), else the step's timer id

    @property
    def moved(self) -> bool:
        return self.due_at != self.nominal_at


def channel_for(default: Channel, preferred: Channel | None) -> Channel:
    """D14: the customer's preferred channel wins over the step's default."""
    return preferred or default


def local_day(at: datetime, calendar: WorkingCalendar) -> date:
    return at.astimezone(calendar.tz).date()


def end_of_day(day: date, calendar: WorkingCalendar) -> datetime:
    """The end of a local calendar day (the next day's midnight, in the dealer's zone)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.tz)


def plan_steps(
    steps: Iterable[PlanStep],
    start: datetime,
    work_order_type: WorkOrderType | None,
    preferred: Channel | None,
    calendar: WorkingCalendar,
    opens_at: time,
) -> list[PlannedContact]:
    """D6/D8: each step on its calendar day N after `start` (the settlement or the delivery,
    in the dealer's zone) at the start of calling hours (`opens_at`), moved to the next
    calling moment when that day is quiet (D13); timely until the end of day `timely_days`."""
    first_day = local_day(start, calendar)
    planned = []
    for step in steps:
        if work_order_type is not None and not step.applies_to(work_order_type):
            continue
        day = first_day + timedelta(days=step.days)
        nominal = max(datetime.combine(day, opens_at, tzinfo=calendar.tz), start)
        timely = step.timely_days
        planned.append(
            PlannedContact(
                step=step.step,
                purposes=(step.purpose,),
                channel=channel_for(step.channel, preferred),
                nominal_at=nominal,
                due_at=window_start(calendar, nominal),
                timely_until=(
                    None if timely is None else end_of_day(first_day + timedelta(timely), calendar)
                ),
            )
        )
    return planned


class Verdict(StrEnum):
    SCHEDULE = "schedule"  # a contact of its own
    MERGE_INTO_EXISTING = "merge_into_existing"  # its purposes join a later contact
    ABSORB_EXISTING = "absorb_existing"  # it is the later one: the earlier joins it
    SUPPRESS_CAP = "suppress_cap"  # D13: K contacts in 7 days already


@dataclass(frozen=True)
class OtherContact:
    """Another live contact of the same customer (pending or already sent)."""

    timer_id: str
    due_at: datetime
    pending: bool
    purposes: tuple[ContactPurpose, ...] = ()


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    other: OtherContact | None = None
    reason: str = ""
    purposes: tuple[ContactPurpose, ...] = field(default=())


def _max_in_week_windows(times: Sequence[datetime], at: datetime) -> int:
    """Most contacts in any 7-day window that contains `at` (counting `at`): the windows that
    start at a contact after `at - WEEK` and not after `at`, each counted by bisection."""
    points = sorted([*times, at])
    starts = points[bisect_right(points, at - WEEK) : bisect_right(points, at)]
    return max(bisect_left(points, s + WEEK) - bisect_left(points, s) for s in starts)


def decide(
    contact: PlannedContact,
    others: Sequence[OtherContact],
    now: datetime,
    max_per_week: int,
    merge: bool,
    calendar: WorkingCalendar,
) -> Decision:
    """D13 for one new contact against the customer's other live contacts."""
    if merge:
        key = window_key(calendar, contact.due_at)
        for other in others:
            # Only a contact not yet due may change: one being dispatched keeps its purposes.
            if not other.pending or other.due_at <= now:
                continue
            if window_key(calendar, other.due_at) != key:
                continue
            purposes = tuple(dict.fromkeys((*other.purposes, *contact.purposes)))
            if other.due_at >= contact.due_at:
                return Decision(Verdict.MERGE_INTO_EXISTING, other, "same window", purposes)
            return Decision(Verdict.ABSORB_EXISTING, other, "same window", purposes)
    if _max_in_week_windows([o.due_at for o in others], contact.due_at) > max_per_week:
        return Decision(
            Verdict.SUPPRESS_CAP, reason=f"cap: more than {max_per_week} contacts in 7 days"
        )
    return Decision(Verdict.SCHEDULE)


def first_within_cap(
    due_at: datetime,
    others: Sequence[OtherContact],
    max_per_week: int,
    calendar: WorkingCalendar,
    horizon: timedelta = timedelta(days=14),
) -> datetime | None:
    """D13 with D31: the first moment from `due_at` on, at the same time of the next days (moved
    into the calling window), where one more contact stays inside the cap; None when there is
    none within `horizon`. For a contact that must happen (a no-show's follow-up), waiting
    until the cap allows is how it stays no harassment."""
    candidate, last = due_at, due_at + horizon
    times = [o.due_at for o in others]
    while candidate <= last:
        if _max_in_week_windows(times, candidate) <= max_per_week:
            return candidate
        candidate = window_start(calendar, candidate + timedelta(days=1))
    return None


def retry_at(
    previous_due: datetime,
    now: datetime,
    after: timedelta,
    calendar: WorkingCalendar,
    callback_at: datetime | None = None,
    timely_until: datetime | None = None,
    soonest: timedelta = timedelta(hours=1),
) -> datetime:
    """D15: when to try an unreached call again — inside the calling window, `after` from now
    (or at the customer's requested time), and at another hour of the day than the attempt that
    failed, so a customer who never answers mornings is tried in the afternoon.

    D6: a contact with a timeliness window is retried inside it first: when `after` would
    miss the window, the retry comes as soon as `soonest`, at another hour, if that is still
    inside it; only when the window has no such moment left does it fall after the window."""
    candidate = window_start(calendar, max(now + after, callback_at or now))
    if callback_at is not None:
        return candidate  # the customer chose the time
    failed_hour = previous_due.astimezone(calendar.tz).hour
    regular = _at_another_hour(candidate, failed_hour, calendar)
    if timely_until is None or regular < timely_until:
        return regular
    early = _at_another_hour(window_start(calendar, now + soonest), failed_hour, calendar)
    return early if early < timely_until else regular


def _at_another_hour(candidate: datetime, failed_hour: int, calendar: WorkingCalendar) -> datetime:
    for _ in range(48):
        if candidate.astimezone(calendar.tz).hour != failed_hour:
            return candidate
        candidate = window_start(calendar, candidate + timedelta(hours=1))
    return candidate
