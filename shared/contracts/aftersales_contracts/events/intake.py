"""Events intake publishes about the DMS's work orders and the vehicle file (D1, D2, D5, D30)."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from aftersales_contracts import topics
from aftersales_contracts.dms import WorkOrderType
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import Amount, NonEmptyStr, Vin

from .values import Customer, Part, Staff, Vehicle


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


class IntakeRejectionReason(Part):
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
