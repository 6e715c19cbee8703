"""Events of the new-car deliveries (D8, D34): the handover intake reads from the DMS and the
buyer's face-to-face questionnaire the sales side records at it."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import AwareDatetime, Field

from aftersales_contracts import topics
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import NonEmptyStr, Vin

from .values import (
    Customer,
    ItemId,
    QuestionnaireRef,
    Scores,
    Staff,
    Vehicle,
)


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
