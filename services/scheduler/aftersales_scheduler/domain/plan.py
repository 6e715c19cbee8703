"""Which contacts a fact plans, when, on which channel, and what D13 makes of them.

`plan_steps` turns a plan's steps (D6-D8) into contacts at their nominal time moved into the
calling window; `decide` applies anti-harassment against the customer's other contacts: merge
into one contact per window, then cap K contacts per rolling 7 days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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

    @property
    def moved(self) -> bool:
        return self.due_at != self.nominal_at


def channel_for(default: Channel, preferred: Channel | None) -> Channel:
    """D14: the customer's preferred channel wins over the step's default."""
    return preferred or default


def plan_steps(
    steps: Iterable[PlanStep],
    start: datetime,
    work_order_type: WorkOrderType | None,
    preferred: Channel | None,
    calendar: WorkingCalendar,
) -> list[PlannedContact]:
    planned = []
    for step in steps:
        if work_order_type is not None and not step.applies_to(work_order_type):
            continue
        nominal = start + timedelta(days=step.days)
        planned.append(
            PlannedContact(
                step=step.step,
                purposes=(step.purpose,),
                channel=channel_for(step.channel, preferred),
                nominal_at=nominal,
                due_at=window_start(calendar, nominal),
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
    """Most contacts in any 7-day window that contains `at` (counting `at`)."""
    points = sorted([*times, at])
    best = 0
    for start in points:
        if start > at or start + WEEK <= at:
            continue
        best = max(best, sum(1 for t in points if start <= t < start + WEEK))
    return best


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


def retry_at(
    previous_due: datetime,
    now: datetime,
    after: timedelta,
    calendar: WorkingCalendar,
    callback_at: datetime | None = None,
) -> datetime:
    """D15: when to try an unreached call again — inside the calling window, `after` from now
    (or at the customer's requested time), and at another hour of the day than the attempt that
    failed, so a customer who never answers mornings is tried in the afternoon."""
    candidate = window_start(calendar, max(now + after, callback_at or now))
    if callback_at is not None:
        return candidate  # the customer chose the time
    failed_hour = previous_due.astimezone(calendar.tz).hour
    for _ in range(48):
        if candidate.astimezone(calendar.tz).hour != failed_hour:
            return candidate
        candidate = window_start(calendar, candidate + timedelta(hours=1))
    return candidate
