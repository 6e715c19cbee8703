"""Events of the service-failure recovery tickets (D18-D22, D29), published by complaints."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from aftersales_contracts import topics
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import Amount, NonEmptyStr, Vin

from .contacts import ContactPurpose
from .values import Part, Staff


class ComplaintGrade(StrEnum):
    """D19: A crisis, B complaint, C considerable, D ordinary dissatisfaction."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class ComplaintEventKind(StrEnum):
    """Steps in a recovery ticket's life (D20-D22); every transition is one event."""

    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"  # D20: the ticket reached the GM (copy service/business mgr)
    NOTED = "noted"
    REVIEWED = "reviewed"  # D20: the responsible person's feedback (A/B: joint review)
    REASSIGNED = "reassigned"
    REPLIED = "replied"  # D20
    RESOLVED = "resolved"  # D22: root cause category and action taken
    CONFIRMATION_REQUESTED = "confirmation_requested"  # D22: the scheduler plans the call
    COMPENSATION_RECORDED = "compensation_recorded"  # D22: approved by the OEM's region
    WARNING = "warning"  # a step's deadline is near
    BREACHED = "breached"  # a step's deadline passed (D21)
    ESCALATED = "escalated"  # D21: one level up the ladder
    PENALTY = "penalty"  # D21/D27: points against a person, summed per month
    CLOSED = "closed"  # D22
    REOPENED = "reopened"  # D22


class ComplaintSource(StrEnum):
    """Where a complaint came from (D29, 来电来函登记); reporting counts complaints by it."""

    FOLLOW_UP = "follow_up"  # a follow-up call's answer (D18)
    HOTLINE = "hotline"
    WEBSITE = "website"
    EMAIL = "email"
    LETTER = "letter"
    WALK_IN = "walk_in"
    OEM = "oem"  # transferred by the car maker
    COLLEAGUE = "colleague"  # a colleague who was told


class ComplaintStep(StrEnum):
    """The steps of D20 that carry a deadline."""

    GM_NOTICE = "gm_notice"  # half a working day
    FEEDBACK = "feedback"  # the responsible person, by the end of the next day
    REPLY = "reply"  # one working day


class ConfirmationRequest(Part):
    """D22: what the scheduler needs to plan the customer's confirmation contact.

    The contact's purpose is ``complaint_confirmation``; its ``contact_id`` is given here (the
    result's ``contact_id`` names the ticket's round back to complaints). The customer and the
    vehicle are the ticket's (``customer_id``, ``vin``, ``work_order_id`` of the event): the
    scheduler takes phone and consent from its own files, as for any contact.
    """

    contact_id: NonEmptyStr
    purpose: Literal[ContactPurpose.COMPLAINT_CONFIRMATION] = ContactPurpose.COMPLAINT_CONFIRMATION
    due_at: AwareDatetime  # not before this moment
    round: int = Field(ge=1)  # 1 + the times the ticket was reopened


class ComplaintEvent(Event):
    """A service-failure recovery ticket (服务失败补救单) changed (D18-D22)."""

    TOPIC: ClassVar[str] = topics.COMPLAINT_EVENT
    SCHEMA_VERSION: ClassVar[int] = 1

    ticket_id: NonEmptyStr
    kind: ComplaintEventKind
    grade: ComplaintGrade  # D19
    work_order_id: str | None = None  # D18: linked to the work order
    contact_id: NonEmptyStr
    vin: Vin
    customer_id: NonEmptyStr
    low_items: list[str] = Field(default_factory=list)  # D18: items scored below 8
    assigned_role: NonEmptyStr  # D19/D21: who holds the ticket now
    service_advisor: Staff | None = None  # D18
    technicians: list[Staff] = Field(default_factory=list)  # D18
    opened_at: AwareDatetime
    due_at: AwareDatetime | None = None  # D20: deadline of the step (reply, for `opened`)
    # What the transition was about; None where it does not apply to the kind.
    state: str | None = None  # the ticket's state after this event
    actor: str | None = None  # who acted (token subject), "system" for the sweep
    rule: str | None = None  # opened: the grading rule that fired (D19)
    linked_ticket_ids: list[str] = Field(default_factory=list)  # D18: the same vehicle's
    step: ComplaintStep | None = None  # warning, breached, escalated
    from_role: str | None = None  # escalated, reassigned
    person: str | None = None  # penalty: who gets the points; reassigned: the new holder
    role: str | None = None  # penalty: in which role
    points: int | None = Field(default=None, ge=0)  # penalty (D21)
    month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")  # penalty: the month (D27)
    amount: Amount | None = None  # compensation (D22), CNY
    approved_by: str | None = None  # compensation: who approved it at the OEM's region
    approved_at: AwareDatetime | None = None
    root_cause_category: str | None = None  # resolved (D22, D32)
    action_taken: str | None = None  # resolved
    note: str | None = None
    confirmation: ConfirmationRequest | None = None  # confirmation_requested (D22)
    source: ComplaintSource | None = None  # D29: where the complaint came from (None: older)
