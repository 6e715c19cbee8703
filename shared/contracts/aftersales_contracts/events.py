"""Internal events on the ``aftersales.*`` topics.

Values here are already normalised by their producer (E.164 phones, upper-case VINs, aware
times), so consumers never repeat intake's clean-up. Every event is frozen, refuses unknown
fields and is keyed by dealer id (see ``Event``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from aftersales_contracts import topics
from aftersales_contracts.dms import Channel, WorkOrderType
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import Amount, NonEmptyStr, Phone, Vin

# --- small shared parts ----------------------------------------------------------------------


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Staff(_Part):
    """A dealer employee; carried so complaints and reports credit the right person (D18, D24)."""

    id: NonEmptyStr
    name: str


class Customer(_Part):
    """The person to contact (D4), with what the contact rules need."""

    customer_id: NonEmptyStr
    name: str
    phone: Phone  # E.164, normalised by intake
    is_owner: bool
    birthday: date | None = None  # D10 birthday care
    contact_consent: bool  # D4: False = never contacted
    preferred_channel: Channel | None = None  # D14: wins over the default channel


class Vehicle(_Part):
    """The vehicle whose file (D1) an event concerns."""

    vin: Vin
    plate: str | None = None  # None for a new car not yet registered (D8)
    brand: str
    model: str
    mileage_km: int | None = Field(default=None, ge=0)


class Scores(_Part):
    """The 3-day CSI questionnaire (D16): each item scored 0..10."""

    ITEMS: ClassVar[tuple[str, ...]] = (
        "attitude",
        "quality",
        "charges",
        "timeliness",
        "environment",
        "overall",
    )

    attitude: int = Field(ge=0, le=10)
    quality: int = Field(ge=0, le=10)
    charges: int = Field(ge=0, le=10)
    timeliness: int = Field(ge=0, le=10)
    environment: int = Field(ge=0, le=10)
    overall: int = Field(ge=0, le=10)

    def low_items(self, threshold: int = 8) -> list[str]:
        """Items scored below ``threshold``; any of them opens a recovery ticket (D18)."""
        return [item for item in self.ITEMS if getattr(self, item) < threshold]


# --- intake ----------------------------------------------------------------------------------


class WorkOrderClosed(Event):
    """A DMS work order, validated and normalised by intake; the scheduler plans from it."""

    TOPIC: ClassVar[str] = topics.WORKORDER_CLOSED
    SCHEMA_VERSION: ClassVar[int] = 1

    work_order_id: NonEmptyStr
    work_order_type: WorkOrderType
    revision: int = Field(ge=1)  # 1 = first settlement, >1 = a correction of the same order
    opened_at: AwareDatetime
    settled_at: AwareDatetime  # D6/D7 count from here
    vehicle: Vehicle
    customer: Customer
    service_advisor: Staff
    technicians: list[Staff] = Field(default_factory=list)
    total_amount: Amount
    next_maintenance_due_date: date | None = None  # D9
    next_maintenance_due_mileage_km: int | None = Field(default=None, ge=0)  # D9
    insurance_expiry: date | None = None  # D10
    licence_expiry: date | None = None  # D10
    warnings: list[str] = Field(default_factory=list)  # D5: what intake corrected


class VehicleDelivered(Event):
    """A new car was handed over (D8): sales call within 3 days, first-maintenance reminder."""

    TOPIC: ClassVar[str] = topics.VEHICLE_DELIVERED
    SCHEMA_VERSION: ClassVar[int] = 1

    delivery_id: NonEmptyStr
    delivered_at: AwareDatetime
    vehicle: Vehicle
    customer: Customer
    sales_consultant: Staff
    first_maintenance_due_date: date | None = None  # D8
    insurance_expiry: date | None = None  # D10


class IntakeRejectionReason(_Part):
    """Why an input was refused, so someone can fix and replay it (D5)."""

    code: NonEmptyStr  # stable, machine-readable, e.g. "vin.check_digit"
    field: str | None = None  # dotted path into the input, None for the whole message
    message: str


class IntakeRejected(Event):
    """An input intake could not accept, kept with its reasons and its raw form (D5).

    For input so broken that no dealer can be read from it, ``dealer_id`` is ``UNKNOWN_DEALER``.
    """

    TOPIC: ClassVar[str] = topics.INTAKE_REJECTED
    SCHEMA_VERSION: ClassVar[int] = 1
    UNKNOWN_DEALER: ClassVar[str] = "unknown"

    rejection_id: NonEmptyStr
    source: Literal["kafka", "http", "csv"]
    reasons: list[IntakeRejectionReason] = Field(min_length=1)
    raw: str
    raw_encoding: Literal["utf-8", "base64"] = "utf-8"

    @staticmethod
    def encode_raw(data: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
        """Text as-is when the bytes are UTF-8, base64 otherwise: nothing is lost."""
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return base64.b64encode(data).decode("ascii"), "base64"

    def raw_bytes(self) -> bytes:
        """The original input, for a replay after the fix."""
        if self.raw_encoding == "base64":
            return base64.b64decode(self.raw, validate=True)
        return self.raw.encode("utf-8")

    @model_validator(mode="after")
    def _raw_decodes(self) -> IntakeRejected:
        if self.raw_encoding == "base64":
            try:
                base64.b64decode(self.raw, validate=True)
            except binascii.Error as exc:
                raise ValueError("raw is not valid base64") from exc
        return self


# --- scheduler and contact -------------------------------------------------------------------


class ContactPurpose(StrEnum):
    """Why a contact is due (D6-D11)."""

    SERVICE_CALL_DAY3 = "service_call_day3"  # D6
    SMS_SURVEY_DAY7 = "sms_survey_day7"  # D7
    SERVICE_CALL_DAY30 = "service_call_day30"  # D7
    SALES_CALL_DAY3 = "sales_call_day3"  # D8
    FIRST_MAINTENANCE_REMINDER = "first_maintenance_reminder"  # D8
    MAINTENANCE_REMINDER = "maintenance_reminder"  # D9
    BIRTHDAY_CARE = "birthday_care"  # D10
    INSURANCE_EXPIRY_CARE = "insurance_expiry_care"  # D10
    LICENCE_EXPIRY_CARE = "licence_expiry_care"  # D10
    LAPSED_CUSTOMER_RECALL = "lapsed_customer_recall"  # D11
    COMPLAINT_CONFIRMATION = "complaint_confirmation"  # D22: is the customer satisfied now?


class ContactDue(Event):
    """A contact fell due; the contact service queues it for an agent or sends the SMS."""

    TOPIC: ClassVar[str] = topics.CONTACT_DUE
    SCHEMA_VERSION: ClassVar[int] = 1

    contact_id: NonEmptyStr  # deterministic (deterministic_id), so a re-fire is recognised
    purposes: list[ContactPurpose] = Field(min_length=1)  # D13: several merged into one
    channel: Channel  # D14
    due_at: AwareDatetime
    attempt: int = Field(ge=1)  # D15 retries
    work_order_id: str | None = None
    vehicle: Vehicle
    customer: Customer
    service_advisor: Staff | None = None
    technicians: list[Staff] = Field(default_factory=list)


class CallOutcome(StrEnum):
    """How a contact attempt ended (D15)."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"
    CALL_BACK_LATER = "call_back_later"
    OPTED_OUT = "opted_out"  # D4: stops all future contact of that kind

    @property
    def is_unreached(self) -> bool:
        """Unreached outcomes are retried at another time of day (D15)."""
        return self in UNREACHED_OUTCOMES


UNREACHED_OUTCOMES: frozenset[CallOutcome] = frozenset(
    {CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.CALL_BACK_LATER}
)


class ContactResult(Event):
    """The result of one contact attempt, recorded by the agent or the SMS gateway."""

    TOPIC: ClassVar[str] = topics.CONTACT_RESULT
    SCHEMA_VERSION: ClassVar[int] = 1

    contact_id: NonEmptyStr
    task_id: NonEmptyStr
    agent_id: str | None = None  # None for an automatic channel (SMS)
    channel: Channel
    purposes: list[ContactPurpose] = Field(min_length=1)
    attempt: int = Field(ge=1)
    outcome: CallOutcome
    contacted_at: AwareDatetime
    callback_at: AwareDatetime | None = None  # D15: "call back later (with a time)"
    scores: Scores | None = None  # D16
    comment: str | None = None  # D16: the customer's own words
    complaint_stated: bool = False  # D18
    work_order_id: str | None = None
    vin: Vin
    customer_id: NonEmptyStr
    service_advisor: Staff | None = None
    technicians: list[Staff] = Field(default_factory=list)
    # D4: with `opted_out`, the kinds of contact the customer refuses from now on; None = all.
    opted_out_of: list[ContactPurpose] | None = None

    @model_validator(mode="after")
    def _consistent_outcome(self) -> ContactResult:
        """Scores exist only when someone answered; a callback time only when one was asked."""
        if self.scores is not None and self.outcome is not CallOutcome.REACHED:
            raise ValueError("scores are only allowed when the outcome is 'reached'")
        if self.callback_at is not None and self.outcome is not CallOutcome.CALL_BACK_LATER:
            raise ValueError("callback_at is only allowed when the outcome is 'call_back_later'")
        if self.opted_out_of is not None and self.outcome is not CallOutcome.OPTED_OUT:
            raise ValueError("opted_out_of is only allowed when the outcome is 'opted_out'")
        return self


class ContactExpired(Event):
    """A follow-up was not made in time: its task left the queue unanswered (reporting counts
    the follow-ups not made in time). Nothing else follows from it: the contact is over."""

    TOPIC: ClassVar[str] = topics.CONTACT_EXPIRED
    SCHEMA_VERSION: ClassVar[int] = 1

    contact_id: NonEmptyStr
    task_id: NonEmptyStr
    channel: Channel
    purposes: list[ContactPurpose] = Field(min_length=1)
    attempt: int = Field(ge=1)
    due_at: AwareDatetime  # when the attempt fell due
    expires_at: AwareDatetime  # the deadline it missed
    work_order_id: str | None = None
    vin: Vin
    customer_id: NonEmptyStr


# --- complaints ------------------------------------------------------------------------------


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


class ComplaintStep(StrEnum):
    """The steps of D20 that carry a deadline."""

    GM_NOTICE = "gm_notice"  # half a working day
    FEEDBACK = "feedback"  # the responsible person, by the end of the next day
    REPLY = "reply"  # one working day


class ConfirmationRequest(_Part):
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


#: Topic -> model of every internal event (the dead-letter topic carries raw messages, no model).
EVENT_TYPES: dict[str, type[Event]] = {
    model.TOPIC: model
    for model in (
        WorkOrderClosed,
        VehicleDelivered,
        ContactDue,
        ContactResult,
        ContactExpired,
        ComplaintEvent,
        IntakeRejected,
    )
}


def decode_event(topic: str, value: bytes | str) -> Event:
    """Validate a Kafka value from an internal topic into its model (KeyError: unknown topic)."""
    return EVENT_TYPES[topic].model_validate_json(value)
