"""Events of the workshop appointments (D31), published by the appointments service."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from aftersales_contracts import topics
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import NonEmptyStr, Vin


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
