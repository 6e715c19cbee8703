"""Events of a contact's life: due (scheduler), its attempts' results and expiry (contact), and
its closing as unreachable (scheduler) (D6-D17)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field, model_validator

from aftersales_contracts import topics
from aftersales_contracts.dms import Channel
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import NonEmptyStr, Vin

from .values import (
    FIXED_FIRST_TIME,
    Coded,
    Customer,
    DataCheck,
    ItemId,
    QuestionnaireRef,
    Scores,
    Staff,
    Vehicle,
)


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
