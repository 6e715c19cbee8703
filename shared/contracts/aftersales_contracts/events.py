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
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, model_validator

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


ItemId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$", examples=["quality"])]
Score = Annotated[int, Field(ge=0, le=10)]

#: D16: the yes/no item "was the fault fixed right the first time?" (一次修复); a "no" opens a
#: recovery ticket (D18) and counts toward the come-back rate (D26).
FIXED_FIRST_TIME = "fixed_first_time"


class Scores(RootModel[dict[ItemId, Score]]):
    """A questionnaire's scored items (D16, D17), item id -> 0..10.

    Which items a result must hold is the questionnaire's business (configuration, checked by
    the service that records the result); the contract only fixes the shape and the scale.
    ``Scores(attitude=9, quality=8)`` builds one; ``ITEMS`` are the after-service CSI items.
    """

    model_config = ConfigDict(frozen=True)

    ITEMS: ClassVar[tuple[str, ...]] = (
        "attitude",
        "environment",
        "service_process",
        "quality",
        "charges",
        "timeliness",
        "overall",
    )

    def __getitem__(self, item: str) -> int:
        return self.root[item]

    def items(self) -> list[tuple[str, int]]:
        return list(self.root.items())

    def low_items(self, threshold: int = 8) -> list[str]:
        """Items scored below ``threshold``; any of them opens a recovery ticket (D18)."""
        return [item for item, score in self.root.items() if score < threshold]


class QuestionnaireRef(_Part):
    """Which questionnaire, in which version, a result answers (D16, D17)."""

    id: NonEmptyStr
    version: int = Field(ge=1)


class Coded(_Part):
    """A value from a configurable list (an issue category, a lapse reason) with free text."""

    code: ItemId  # e.g. "waiting_time"; "other" carries its text
    text: str | None = Field(default=None, max_length=500)


class DataCheck(_Part):
    """D30: what the agent checked at the start of the call (核对客户信息).

    ``confirmed`` says the data on file was read back to the customer. The other fields are set
    only when the customer gave something new: a correction of the phone, the owner or the
    actual user, and the current mileage and the expected next maintenance. Intake applies them
    to the vehicle file (D1, D2) and publishes ``VehicleFileCorrected``.
    """

    confirmed: bool
    phone: Phone | None = None
    owner_name: str | None = Field(default=None, min_length=1, max_length=100)
    actual_user_name: str | None = Field(default=None, min_length=1, max_length=100)
    actual_user_phone: Phone | None = None
    mileage_km: int | None = Field(default=None, ge=0)
    next_maintenance_due_date: date | None = None
    next_maintenance_due_mileage_km: int | None = Field(default=None, ge=0)

    def changes(self) -> dict[str, object]:
        """The fields the customer gave (everything but ``confirmed`` that is set)."""
        return {k: v for k, v in self.model_dump(exclude={"confirmed"}).items() if v is not None}


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
    APPOINTMENT_REMINDER = "appointment_reminder"  # D31: the day before the appointment
    APPOINTMENT_NO_SHOW = "appointment_no_show"  # D31: the customer did not come: why?
    DELIVERY_SURVEY = "delivery_survey"  # D34: face to face at the delivery, not a contact


class ContactDue(Event):
    """A contact fell due; the contact service queues it for an agent or sends the SMS."""

    TOPIC: ClassVar[str] = topics.CONTACT_DUE
    SCHEMA_VERSION: ClassVar[int] = 1

    contact_id: NonEmptyStr  # deterministic (deterministic_id), so a re-fire is recognised
    purposes: list[ContactPurpose] = Field(min_length=1)  # D13: several merged into one
    channel: Channel  # D14
    due_at: AwareDatetime
    # D6/D8: the follow-up is timely when made by then (e.g. three days from settlement); a
    # later call still counts, as late. None when the purposes have no timeliness window.
    timely_until: AwareDatetime | None = None
    attempt: int = Field(ge=1)  # D15 retries
    work_order_id: str | None = None
    vehicle: Vehicle
    customer: Customer
    service_advisor: Staff | None = None
    technicians: list[Staff] = Field(default_factory=list)
    sales_consultant: Staff | None = None  # D8, D24: a delivery's consultant


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
    # D6: made by the contact's `timely_until`; None when the contact has no such window.
    timely: bool | None = None
    questionnaire: QuestionnaireRef | None = None  # D16/D17: what the scores answer
    scores: Scores | None = None  # D16/D17: scored items, 0..10
    yes_no: dict[ItemId, bool] | None = None  # D16/D17: yes/no items (FIXED_FIRST_TIME …)
    comment: str | None = None  # D16: the customer's own words
    complaint_stated: bool = False  # D18
    issues: list[Coded] = Field(default_factory=list)  # D15/D23: the customer's issues
    lapse_reason: Coded | None = None  # D11/D26: why a lapsed customer stayed away
    data_check: DataCheck | None = None  # D30
    work_order_id: str | None = None
    vin: Vin
    customer_id: NonEmptyStr
    service_advisor: Staff | None = None
    technicians: list[Staff] = Field(default_factory=list)
    sales_consultant: Staff | None = None  # D24: SSI results per consultant
    # D4: with `opted_out`, the kinds of contact the customer refuses from now on; None = all.
    opted_out_of: list[ContactPurpose] | None = None

    def not_fixed_first_time(self) -> bool:
        """D16/D18/D26: the customer said the fault was not fixed right the first time."""
        return self.yes_no is not None and self.yes_no.get(FIXED_FIRST_TIME) is False

    @model_validator(mode="after")
    def _consistent_outcome(self) -> ContactResult:
        """Answers exist only when someone answered; a callback time only when one was asked."""
        reached = self.outcome is CallOutcome.REACHED
        for name in ("scores", "yes_no", "lapse_reason", "data_check"):
            if getattr(self, name) is not None and not reached:
                raise ValueError(f"{name} is only allowed when the outcome is 'reached'")
        if self.issues and not reached:
            raise ValueError("issues are only allowed when the outcome is 'reached'")
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


class ContactClosedReason(StrEnum):
    """Why the scheduler closed a contact without a result that closes it."""

    UNREACHABLE = "unreachable"  # D15: unreached on every one of its attempts


class ContactClosed(Event):
    """D15: the scheduler closed a contact as unreachable after its last attempt (the attempt
    limit reached), so reporting counts it (D23: reached / unreached). Published once per
    contact (deterministic ``event_id``); nothing else follows from it."""

    TOPIC: ClassVar[str] = topics.CONTACT_CLOSED
    SCHEMA_VERSION: ClassVar[int] = 1

    contact_id: NonEmptyStr
    reason: ContactClosedReason
    purposes: list[ContactPurpose] = Field(min_length=1)
    channel: Channel
    attempts: int = Field(ge=1)  # how many attempts were made
    closed_at: AwareDatetime
    last_outcome: CallOutcome  # the last attempt's outcome (an unreached one)
    work_order_id: str | None = None
    vin: Vin
    customer_id: NonEmptyStr


class VehicleFileCorrected(Event):
    """D30: intake applied a correction heard on a call to the vehicle file (D1, D2).

    Carries the file's state after the correction (a new revision, with who and when), so the
    scheduler re-plans the vehicle's reminders (D9, D12) and the next contact uses the new phone.
    """

    TOPIC: ClassVar[str] = topics.VEHICLE_FILE_CORRECTED
    SCHEMA_VERSION: ClassVar[int] = 1

    vin: Vin
    file_revision: int = Field(ge=1)  # the vehicle file's revision this correction created
    corrected_at: AwareDatetime  # when the customer said it (the call's time)
    corrected_by: NonEmptyStr  # the agent (token subject) or "sms"
    contact_id: NonEmptyStr  # the contact on which it was heard
    changed: list[str] = Field(min_length=1)  # DataCheck field names that changed
    customer: Customer  # the person to contact, phone already corrected
    vehicle: Vehicle  # mileage as corrected
    next_maintenance_due_date: date | None = None  # D9
    next_maintenance_due_mileage_km: int | None = Field(default=None, ge=0)  # D9


# --- appointments ----------------------------------------------------------------------------


class AppointmentEventKind(StrEnum):
    """An appointment's life (D31); every change is one event."""

    BOOKED = "booked"  # a seat in the workshop's slot is the customer's
    CANCELLED = "cancelled"  # the seat is free again
    KEPT = "kept"  # a work order for the VIN was opened on the day or the next
    NO_SHOW = "no_show"  # the next day passed without one: a follow-up contact is due


class AppointmentEvent(Event):
    """A workshop appointment (预约) changed (D31): the scheduler reminds the customer the day
    before and follows a no-show up; reporting counts arrivals and no-shows."""

    TOPIC: ClassVar[str] = topics.APPOINTMENT_EVENT
    SCHEMA_VERSION: ClassVar[int] = 1

    appointment_id: NonEmptyStr
    kind: AppointmentEventKind
    vin: Vin
    customer_id: NonEmptyStr
    day: date  # the dealer's local day
    slot_id: NonEmptyStr
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    service: NonEmptyStr  # what the customer wants done, e.g. "maintenance"
    parts_to_prepare: list[str] = Field(default_factory=list)
    contact_id: str | None = None  # the contact on which it was booked
    work_order_id: str | None = None  # kept: the arrival's work order
    actor: NonEmptyStr  # who acted (token subject), "system" for arrivals and no-shows


class DeliverySurveyed(Event):
    """D34: the buyer's face-to-face questionnaire, recorded at the delivery by the sales side.

    One per delivery. Reporting counts each consultant's coverage against 100 % (a delivery of
    the month without one costs its consultant 10 points) and the scores per consultant.
    """

    TOPIC: ClassVar[str] = topics.DELIVERY_SURVEYED
    SCHEMA_VERSION: ClassVar[int] = 1

    delivery_id: NonEmptyStr  # VehicleDelivered.delivery_id
    vin: Vin
    customer_id: NonEmptyStr
    surveyed_at: AwareDatetime
    recorded_by: NonEmptyStr  # who entered it (token subject)
    questionnaire: QuestionnaireRef
    scores: Scores | None = None
    yes_no: dict[ItemId, bool] | None = None
    comment: str | None = Field(default=None, max_length=2000)


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
    source: ComplaintSource | None = None  # D29: where the complaint came from (None: older)


#: Topic -> model of every internal event (the dead-letter topic carries raw messages, no model).
EVENT_TYPES: dict[str, type[Event]] = {
    model.TOPIC: model
    for model in (
        WorkOrderClosed,
        VehicleDelivered,
        ContactDue,
        ContactResult,
        ContactExpired,
        ContactClosed,
        VehicleFileCorrected,
        AppointmentEvent,
        DeliverySurveyed,
        ComplaintEvent,
        IntakeRejected,
    )
}


def decode_event(topic: str, value: bytes | str) -> Event:
    """Validate a Kafka value from an internal topic into its model (KeyError: unknown topic)."""
    return EVENT_TYPES[topic].model_validate_json(value)
