"""Every change of a ticket: a pure function from (ticket, command, now) to the new ticket and
the events that say what happened (D20-D22). The store persists both; the broker publishes the
events under their deterministic ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales_contracts import (
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ComplaintStep,
    ConfirmationRequest,
    deterministic_id,
)

from aftersales_complaints.domain.deadlines import DeadlineClock, StepTiming, to_ms
from aftersales_complaints.domain.ladder import Ladder
from aftersales_complaints.domain.ticket import (
    ALLOWED,
    Action,
    Compensation,
    Deadline,
    DeadlineStatus,
    IllegalTransition,
    NotTheirs,
    State,
    Ticket,
)

SYSTEM = "system"
CONFIRMATION_PREFIX = "cc-"


def confirmation_contact_id(ticket_id: str, round_: int) -> str:
    """D22: the confirmation contact of one round names its ticket, so the answer finds it."""
    return f"{CONFIRMATION_PREFIX}{ticket_id}-r{round_}"


_STEPS = (ComplaintStep.GM_NOTICE, ComplaintStep.FEEDBACK, ComplaintStep.REPLY)


@dataclass(frozen=True)
class Command:
    """An action on a ticket and what it needs; unused fields stay None."""

    action: Action
    actor: str
    role: str | None = None  # review: the caller's role; reassign: the new holder's role
    person: str | None = None  # reassign: the new holder
    text: str | None = None  # note, reply, reopen: what was said
    root_cause_category: str | None = None
    action_taken: str | None = None
    amount: Decimal | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    satisfied: bool | None = None  # close (the customer confirmed), confirmation


@dataclass
class Transition:
    ticket: Ticket
    events: list[ComplaintEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Rules:
    """One dealer's deadlines and ladder."""

    clock: DeadlineClock
    ladder: Ladder


def event_id_for(ticket_id: str, version: int, index: int) -> str:
    if version == 1 and index == 0:
        return deterministic_id("complaint.opened", ticket_id)
    return deterministic_id("complaint.event", ticket_id, str(version), str(index))


class _Draft:
    """A transition being built: a copy of the ticket and the events it gathers."""

    def __init__(self, ticket: Ticket, now: datetime, causation_id: str | None) -> None:
        self.ticket = ticket.model_copy(deep=True)
        self.ticket.version += 1
        self.now = to_ms(now)
        self.causation_id = causation_id
        self.events: list[ComplaintEvent] = []

    def emit(self, kind: ComplaintEventKind, actor: str, **fields: Any) -> None:
        t = self.ticket
        event = ComplaintEvent(
            event_id=event_id_for(t.ticket_id, t.version, len(self.events)),
            occurred_at=self.now,
            dealer_id=t.dealer_id,
            correlation_id=t.correlation_id,
            causation_id=self.causation_id,
            ticket_id=t.ticket_id,
            kind=kind,
            grade=t.grade,
            work_order_id=t.work_order_id,
            contact_id=t.contact_id,
            vin=t.vin,
            customer_id=t.customer_id,
            low_items=t.low_items,
            assigned_role=t.owner_role,
            service_advisor=t.service_advisor,
            technicians=t.technicians,
            opened_at=t.opened_at,
            actor=actor,
            source=t.source,
            **fields,
        )
        self.events.append(event)

    def done(self) -> Transition:
        # Every event carries the state after the whole transition; the history holds the
        # events exactly as published.
        self.events = [e.model_copy(update={"state": self.ticket.state.value}) for e in self.events]
        self.ticket.history += [e.model_dump(mode="json") for e in self.events]
        return Transition(self.ticket, self.events)


def owners_of(step: ComplaintStep, grade: ComplaintGrade, holder: str, ladder: Ladder) -> list[str]:
    """D20: the feedback is given by the grade's person (A/B: the pair); other steps by the
    ticket's holder."""
    if step is ComplaintStep.FEEDBACK:
        return list(ladder.feedback_roles(grade, holder))
    return [holder]


def hand_to(ticket: Ticket, role: str, ladder: Ladder) -> None:
    """Every step not yet done goes to `role` (a reassignment or an escalation, D21)."""
    for d in ticket.deadlines:
        if d.status in (DeadlineStatus.PENDING, DeadlineStatus.DUE_SOON, DeadlineStatus.OVERDUE):
            d.holder = role
            d.owners = owners_of(d.step, ticket.grade, role, ladder)


def _deadline(
    timing: StepTiming,
    holder: str,
    owners: list[str],
    escalations: int = 0,
    breached: bool = False,
) -> Deadline:
    return Deadline(
        step=timing.step,
        started_at=timing.started_at,
        due_at=timing.due_at,
        warn_at=timing.warn_at,
        working=timing.working,
        holder=holder,
        owners=owners,
        escalations=escalations,
        breached=breached,
    )


def start_round(ticket: Ticket, start: datetime, rules: Rules) -> None:
    """D20: the three steps' deadlines from `start`; the grade's owner holds the ticket."""
    owner = rules.ladder.start[ticket.grade]
    ticket.owner_role = owner
    ticket.owner_person = rules.ladder.person(owner, _advisor(ticket), ticket.dealer_id)
    ticket.round_started_at = to_ms(start)
    ticket.reviews = []
    ticket.deadlines = [
        _deadline(
            rules.clock.first(step, start),
            owner,
            owners_of(step, ticket.grade, owner, rules.ladder),
        )
        for step in _STEPS
    ]


def _advisor(ticket: Ticket) -> str | None:
    return ticket.service_advisor.id if ticket.service_advisor else None


def opening(
    ticket: Ticket, now: datetime, rules: Rules, causation_id: str, actor: str = SYSTEM
) -> Transition:
    """A new ticket (version 0, no deadlines yet) → opened, with this round's deadlines; the
    actor is whoever logged it (D29), the system for an answer's ticket."""
    draft = _Draft(ticket, now, causation_id)
    start_round(draft.ticket, draft.now, rules)
    draft.emit(
        ComplaintEventKind.OPENED,
        actor,
        due_at=draft.ticket.deadline(ComplaintStep.REPLY).due_at,
        rule=ticket.rule,
        linked_ticket_ids=ticket.linked_ticket_ids,
    )
    return draft.done()


def _finish(draft: _Draft, step: ComplaintStep) -> None:
    deadline = draft.ticket.deadline(step)
    if deadline.status in (DeadlineStatus.MET, DeadlineStatus.MET_LATE, DeadlineStatus.WAIVED):
        return
    deadline.status = DeadlineStatus.MET_LATE if deadline.breached else DeadlineStatus.MET
    deadline.done_at = draft.now


def decide(
    ticket: Ticket, command: Command, now: datetime, rules: Rules, causation_id: str | None = None
) -> Transition:
    """Apply one command; IllegalTransition when the state does not allow it."""
    action = command.action
    if action not in ALLOWED[ticket.state]:
        raise IllegalTransition(ticket.state, action)
    draft = _Draft(ticket, now, causation_id)
    t, kind = draft.ticket, ComplaintEventKind
    if action is Action.ACKNOWLEDGE:
        t.state = State.ACKNOWLEDGED
        _finish(draft, ComplaintStep.GM_NOTICE)  # D20: the GM has it (copy SM/business mgr)
        draft.emit(kind.ACKNOWLEDGED, command.actor, note=command.text)
    elif action is Action.NOTE:
        if t.state is State.ACKNOWLEDGED:
            t.state = State.INVESTIGATING
        draft.emit(kind.NOTED, command.actor, note=command.text)
    elif action is Action.REVIEW:
        _review(draft, command, rules)
    elif action is Action.REASSIGN:
        _reassign(draft, command, rules)
    elif action is Action.REPLY:
        needed = rules.ladder.joint_feedback.get(t.grade, ())
        missing = [r for r in needed if r not in t.reviews]
        if missing:  # D20: A/B are discussed by the pair before the customer hears back
            raise IllegalTransition(
                t.state,
                action,
                f"grade {t.grade.value} needs the review of {', '.join(missing)} first",
            )
        t.state = State.REPLIED
        _finish(draft, ComplaintStep.REPLY)
        draft.emit(kind.REPLIED, command.actor, note=command.text)
    elif action is Action.RESOLVE:
        _resolve(draft, command, rules)
    elif action is Action.COMPENSATION:
        _compensation(draft, command)
    elif action is Action.CLOSE or action is Action.CONFIRMATION:
        _closing(draft, command, rules)
    elif action is Action.REOPEN:
        _reopen(draft, command, rules)
    return draft.done()


def _review(draft: _Draft, command: Command, rules: Rules) -> None:
    t = draft.ticket
    needed = rules.ladder.feedback_roles(t.grade, t.owner_role)
    if command.role not in needed and command.role != t.owner_role:
        raise NotTheirs(f"the feedback of this ticket is given by {' and '.join(needed)}")
    if command.role and command.role not in t.reviews:
        t.reviews.append(command.role)
    if t.state is State.ACKNOWLEDGED:
        t.state = State.INVESTIGATING
    if all(r in t.reviews for r in needed):
        _finish(draft, ComplaintStep.FEEDBACK)
    draft.emit(ComplaintEventKind.REVIEWED, command.actor, role=command.role, note=command.text)


def _reassign(draft: _Draft, command: Command, rules: Rules) -> None:
    t = draft.ticket
    if not command.role:
        raise ValueError("reassign needs the new holder's role")
    previous = t.owner_role
    t.owner_role, t.owner_person = command.role, command.person or f"{t.dealer_id}/{command.role}"
    hand_to(t, command.role, rules.ladder)
    draft.emit(
        ComplaintEventKind.REASSIGNED,
        command.actor,
        from_role=previous,
        person=t.owner_person,
        note=command.text,
    )


def _resolve(draft: _Draft, command: Command, rules: Rules) -> None:
    t = draft.ticket
    if not command.root_cause_category or not command.action_taken:
        raise ValueError("resolve needs root_cause_category and action_taken")  # D22
    t.root_cause_category, t.action_taken = command.root_cause_category, command.action_taken
    for d in t.deadlines:
        if d.status in (DeadlineStatus.PENDING, DeadlineStatus.DUE_SOON, DeadlineStatus.OVERDUE):
            d.status, d.done_at = DeadlineStatus.WAIVED, draft.now
    t.state = State.RESOLVED
    draft.emit(
        ComplaintEventKind.RESOLVED,
        command.actor,
        root_cause_category=t.root_cause_category,
        action_taken=t.action_taken,
    )
    # D22: the customer is called again to confirm; the scheduler plans that contact.
    t.confirmation_contact_id = confirmation_contact_id(t.ticket_id, t.round)
    due = rules.clock.calendar.add_working_days(
        draft.now, rules.clock.policy.confirm_after_working_days
    )
    t.state = State.CONFIRMING
    draft.emit(
        ComplaintEventKind.CONFIRMATION_REQUESTED,
        SYSTEM,
        confirmation=ConfirmationRequest(
            contact_id=t.confirmation_contact_id, due_at=to_ms(due), round=t.round
        ),
    )


def _compensation(draft: _Draft, command: Command) -> None:
    if command.amount is None or not command.approved_by or command.approved_at is None:
        raise ValueError("compensation needs amount, approved_by and approved_at")  # D22
    draft.ticket.compensations.append(
        Compensation(
            amount=command.amount,
            approved_by=command.approved_by,
            approved_at=command.approved_at,
            recorded_by=command.actor,
            recorded_at=draft.now,
        )
    )
    draft.emit(
        ComplaintEventKind.COMPENSATION_RECORDED,
        command.actor,
        amount=command.amount,
        approved_by=command.approved_by,
        approved_at=command.approved_at,
        note=command.text,
    )


def _closing(draft: _Draft, command: Command, rules: Rules) -> None:
    """D22: closed only when the customer confirmed; a "not satisfied" reopens."""
    if command.satisfied:
        draft.ticket.state = State.CLOSED
        draft.emit(ComplaintEventKind.CLOSED, command.actor, note=command.text)
        return
    if command.action is Action.CLOSE:
        raise IllegalTransition(
            draft.ticket.state, command.action, "close needs the customer's confirmation"
        )
    _reopen(draft, command, rules)


def _reopen(draft: _Draft, command: Command, rules: Rules) -> None:
    t = draft.ticket
    t.round += 1
    t.state = State.REOPENED
    t.confirmation_contact_id = None
    start_round(t, draft.now, rules)  # D22: the ladder restarts
    draft.emit(
        ComplaintEventKind.REOPENED,
        command.actor,
        due_at=t.deadline(ComplaintStep.REPLY).due_at,
        note=command.text,
    )
