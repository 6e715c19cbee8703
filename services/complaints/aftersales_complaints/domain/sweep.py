"""What time alone does to a ticket: warnings, breaches, escalation and penalties (D20, D21)."""

from __future__ import annotations

from datetime import datetime

from aftersales_contracts import ComplaintEventKind

from aftersales_complaints.domain.deadlines import StepTiming
from aftersales_complaints.domain.ticket import Deadline, DeadlineStatus, Ticket
from aftersales_complaints.domain.transitions import (
    SYSTEM,
    Rules,
    Transition,
    _deadline,
    _Draft,
    hand_to,
    owners_of,
)


def tick(ticket: Ticket, now: datetime, rules: Rules) -> Transition | None:
    """Every warning and breach due by `now`, in time order; None when nothing is due.

    A breach counts the step against the roles it was with, moves the ticket one level up the
    ladder and gives the new holder the step's span again, counted from the missed deadline, so
    a sweep that runs late still climbs the ladder exactly as one that ran on time.
    """
    wake = ticket.wakes_at()
    if wake is None or wake > now:
        return None
    draft = _Draft(ticket, now, None)
    while (moment := draft.ticket.wakes_at()) is not None and moment <= now:
        index, deadline = min(
            ((i, d) for i, d in enumerate(draft.ticket.deadlines) if d.wakes_at() == moment),
            key=lambda pair: pair[0],
        )
        # A sweep that comes only after the deadline (a clock jump, an outage) breaches
        # without a warning that could no longer help anyone.
        if deadline.status is DeadlineStatus.PENDING and now < deadline.due_at:
            deadline.status = DeadlineStatus.DUE_SOON
            draft.emit(
                ComplaintEventKind.WARNING, SYSTEM, step=deadline.step, due_at=deadline.due_at
            )
            continue
        _breach(draft, index, deadline, rules)
    return draft.done()


def _breach(draft: _Draft, index: int, deadline: Deadline, rules: Rules) -> None:
    t, ladder = draft.ticket, rules.ladder
    draft.emit(ComplaintEventKind.BREACHED, SYSTEM, step=deadline.step, due_at=deadline.due_at)
    month = deadline.due_at.astimezone(rules.clock.calendar.tz).strftime("%Y-%m")
    for role in ladder.late(deadline.step, t.grade, deadline.holder, deadline.escalations):
        points = ladder.points.get(role, 0)
        if points:  # D21: counted against the person it was with; D27 sums them per month
            draft.emit(
                ComplaintEventKind.PENALTY,
                SYSTEM,
                step=deadline.step,
                person=_person(t, role, rules),
                role=role,
                points=points,
                month=month,
            )
    above = ladder.above(t.owner_role) if ladder.escalate_on_breach else None
    if above is None:  # the top of the ladder: it stays overdue until done
        deadline.status, deadline.breached = DeadlineStatus.OVERDUE, True
        return
    previous = t.owner_role
    t.owner_role = above
    t.owner_person = ladder.person(above, None, t.dealer_id)
    hand_to(t, above, ladder)
    timing = StepTiming(
        deadline.step, deadline.started_at, deadline.due_at, deadline.warn_at, deadline.working
    )
    again = rules.clock.again(timing, deadline.due_at)
    owners = owners_of(deadline.step, t.grade, above, ladder)
    t.deadlines[index] = _deadline(again, above, owners, deadline.escalations + 1, breached=True)
    draft.emit(
        ComplaintEventKind.ESCALATED,
        SYSTEM,
        step=deadline.step,
        from_role=previous,
        person=t.owner_person,  # D21: the new owner, to be notified
        due_at=again.due_at,
    )


def _person(ticket: Ticket, role: str, rules: Rules) -> str:
    if role == ticket.owner_role:
        return ticket.owner_person
    advisor = ticket.service_advisor.id if ticket.service_advisor else None
    return rules.ladder.person(role, advisor, ticket.dealer_id)
