"""The recovery ticket (服务失败补救单) as data: its states, deadlines and what may happen next.

Pure: no broker, no database. `transitions` changes a ticket; this module says what a ticket is
and which actions each state allows (D22: opened → acknowledged → investigating → replied →
resolved → confirming → closed; reopened goes back into the loop).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from aftersales_contracts import ComplaintGrade, ComplaintSource, ComplaintStep, Staff
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class State(StrEnum):
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    REPLIED = "replied"
    RESOLVED = "resolved"
    CONFIRMING = "confirming"
    CLOSED = "closed"
    REOPENED = "reopened"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    NOTE = "note"
    REVIEW = "review"  # D20: the responsible person's feedback (A/B: both of the pair)
    REASSIGN = "reassign"
    REPLY = "reply"
    RESOLVE = "resolve"
    COMPENSATION = "compensation"
    CLOSE = "close"
    REOPEN = "reopen"
    CONFIRMATION = "confirmation"  # the customer's answer to the confirmation contact (D22)


_WORKING = {Action.NOTE, Action.REASSIGN, Action.COMPENSATION}
#: What each state allows; anything else is an illegal transition (HTTP 409 naming these).
ALLOWED: dict[State, frozenset[Action]] = {
    State.OPENED: frozenset({Action.ACKNOWLEDGE, *_WORKING}),
    State.REOPENED: frozenset({Action.ACKNOWLEDGE, *_WORKING}),
    State.ACKNOWLEDGED: frozenset({Action.REVIEW, Action.REPLY, *_WORKING}),
    State.INVESTIGATING: frozenset({Action.REVIEW, Action.REPLY, *_WORKING}),
    State.REPLIED: frozenset({Action.RESOLVE, Action.REVIEW, *_WORKING}),
    State.RESOLVED: frozenset({Action.NOTE, Action.COMPENSATION}),
    State.CONFIRMING: frozenset(
        {Action.CLOSE, Action.REOPEN, Action.CONFIRMATION, Action.NOTE, Action.COMPENSATION}
    ),
    State.CLOSED: frozenset({Action.REOPEN, Action.COMPENSATION}),
}


def allowed_actions(state: State) -> list[str]:
    return sorted(a.value for a in ALLOWED[state])


class IllegalTransition(Exception):
    """The action does not fit the ticket now; carries what would (HTTP 409)."""

    def __init__(self, state: State, action: Action, reason: str | None = None) -> None:
        self.state, self.action = state, action
        self.allowed = allowed_actions(state)
        super().__init__(
            reason
            or f"a ticket in state {state.value} cannot {action.value}; allowed: "
            + (", ".join(self.allowed) or "nothing")
        )


class NotTheirs(Exception):
    """The caller's role is not the one this step needs (HTTP 403)."""


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    DUE_SOON = "due_soon"  # the warning went out
    OVERDUE = "overdue"  # breached, still not done
    MET = "met"
    MET_LATE = "met_late"
    WAIVED = "waived"  # the ticket was resolved before the step was needed


OPEN_STATUSES = (DeadlineStatus.PENDING, DeadlineStatus.DUE_SOON, DeadlineStatus.OVERDUE)


class Deadline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: ComplaintStep
    started_at: AwareDatetime
    due_at: AwareDatetime
    warn_at: AwareDatetime
    working: bool
    status: DeadlineStatus = DeadlineStatus.PENDING
    holder: str  # the role it is with now
    # D20: who must do it; the feedback is the grade's person's (D advisor, C supervisor, A/B
    # the service manager and the customer-relations manager together).
    owners: list[str] = Field(default_factory=list)
    escalations: int = 0
    breached: bool = False  # passed at least once (then `met_late` when done)
    done_at: AwareDatetime | None = None

    def wakes_at(self) -> datetime | None:
        """When the sweep must look at it next (None: nothing more to do)."""
        if self.status is DeadlineStatus.PENDING:
            return self.warn_at
        if self.status is DeadlineStatus.DUE_SOON:
            return self.due_at
        return None


class Compensation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal
    approved_by: str  # D22: at the OEM's regional service office
    approved_at: AwareDatetime
    recorded_by: str
    recorded_at: AwareDatetime


class Ticket(BaseModel):
    """One ticket; stored as is (`_id` = ticket_id) with its history of events."""

    model_config = ConfigDict(extra="forbid")

    ticket_id: str
    dealer_id: str
    state: State = State.OPENED
    grade: ComplaintGrade
    rule: str  # D19: the grading rule that fired
    low_items: list[str] = Field(default_factory=list)
    scores: dict[str, int] | None = None
    yes_no: dict[str, bool] | None = None  # D16: e.g. fixed_first_time false (D18)
    complaint_stated: bool = False
    work_order_id: str | None = None
    contact_id: str
    task_id: str
    vin: str
    customer_id: str
    service_advisor: Staff | None = None
    technicians: list[Staff] = Field(default_factory=list)
    correlation_id: str
    cause_event_id: str
    opened_at: AwareDatetime
    round: int = 1  # 1 + times reopened; the ladder restarts each round
    round_started_at: AwareDatetime
    owner_role: str
    owner_person: str
    reviews: list[str] = Field(default_factory=list)  # roles that gave this round's feedback
    deadlines: list[Deadline] = Field(default_factory=list)
    linked_ticket_ids: list[str] = Field(default_factory=list)  # D18: the same vehicle's
    compensations: list[Compensation] = Field(default_factory=list)
    root_cause_category: str | None = None
    action_taken: str | None = None
    confirmation_contact_id: str | None = None
    source: ComplaintSource | None = None  # D29: where it came from (None: before D29)
    logged_by: str | None = None  # D29: who logged it (token subject; "oem" for a transfer)
    inbound_id: str | None = None  # D29: its entry in the register of calls and letters
    version: int = 0  # transitions applied; the key of the next one
    history: list[dict[str, Any]] = Field(default_factory=list)  # the events, as published

    def deadline(self, step: ComplaintStep) -> Deadline:
        return next(d for d in self.deadlines if d.step is step)

    def wakes_at(self) -> datetime | None:
        moments = [m for d in self.deadlines if (m := d.wakes_at()) is not None]
        return min(moments) if moments else None

    @property
    def overdue(self) -> bool:
        return any(d.status is DeadlineStatus.OVERDUE for d in self.deadlines) or any(
            d.breached and d.status in OPEN_STATUSES for d in self.deadlines
        )

    @property
    def due_soon(self) -> bool:
        return any(d.status is DeadlineStatus.DUE_SOON for d in self.deadlines)
