"""The external DMS contract: the JSON a dealer's DMS publishes on ``dms.*`` topics.

A DMS team integrates from the README and the JSON Schema files alone, in any language. The
models are strict on structure (required fields, types, numbers as numbers) and lenient on how
values are written: Chinese work-order-type labels, any letter case, surrounding blanks, phones
in whatever form the DMS stores them (intake normalises them), times without offset (the
dealer's local time). Unknown fields are ignored, so a DMS may send more than we read and
additive changes on either side never break the other.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from aftersales_contracts import topics
from aftersales_contracts.primitives import (
    Amount,
    DmsDateTime,
    LaborHours,
    MileageKm,
    NonEmptyStr,
)


class WorkOrderType(StrEnum):
    """Kind of repair order (工单类型). The follow-up plan depends on it (D6, D8, D9)."""

    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    WARRANTY = "warranty"
    ACCIDENT = "accident"
    FIRST_MAINTENANCE = "first_maintenance"
    RECALL = "recall"
    OTHER = "other"


#: The Chinese labels DMSs write, mapped onto the canonical values.
WORK_ORDER_TYPE_LABELS: dict[str, WorkOrderType] = {
    "保养": WorkOrderType.MAINTENANCE,
    "维修": WorkOrderType.REPAIR,
    "索赔": WorkOrderType.WARRANTY,
    "事故": WorkOrderType.ACCIDENT,
    "首保": WorkOrderType.FIRST_MAINTENANCE,
    "召回": WorkOrderType.RECALL,
    "其他": WorkOrderType.OTHER,
}


class Channel(StrEnum):
    """Contact channel (D14): phone first, SMS for reminders and call refusers, e-mail."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"


#: The Chinese labels DMSs write for a preferred channel.
CHANNEL_LABELS: dict[str, Channel] = {
    "电话": Channel.PHONE,
    "短信": Channel.SMS,
    "邮件": Channel.EMAIL,
    "电子邮件": Channel.EMAIL,
}


def _label_parser(labels: dict[str, Any]) -> Any:
    def parse(value: Any) -> Any:
        """Map a Chinese label onto its value; otherwise compare English case-insensitively."""
        if isinstance(value, str):
            text = value.strip()
            return labels.get(text, text.lower())
        return value

    return parse


parse_work_order_type = _label_parser(WORK_ORDER_TYPE_LABELS)
parse_channel = _label_parser(CHANNEL_LABELS)


def _case_insensitive(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


def _label_schema(values: list[str], labels: dict[str, Any], what: str) -> dict[str, Any]:
    """Schema accepting exactly what the parser accepts: the enum documents the spellings, the
    pattern admits the same words in any letter case and with surrounding blanks."""
    words = "|".join([*(_case_insensitive(v) for v in values), *labels])
    return {
        "type": "string",
        "anyOf": [{"enum": [*values, *labels]}, {"pattern": rf"^\s*(?:{words})\s*$"}],
        "description": (
            f"{what}: one of the English values (any letter case) or its Chinese label ("
            + ", ".join(f"{k} = {v}" for k, v in labels.items())
            + ")."
        ),
    }


DmsWorkOrderType = Annotated[
    WorkOrderType,
    BeforeValidator(parse_work_order_type),
    WithJsonSchema(
        _label_schema([t.value for t in WorkOrderType], WORK_ORDER_TYPE_LABELS, "Work-order type")
    ),
]
DmsChannel = Annotated[
    Channel,
    BeforeValidator(parse_channel),
    WithJsonSchema(_label_schema([c.value for c in Channel], CHANNEL_LABELS, "Channel")),
]


class _DmsModel(BaseModel):
    # Unknown fields are ignored (see module docstring); blanks around text are dropped.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class DmsCustomer(_DmsModel):
    """The person who brought the vehicle in (送修人), who is contacted (D4)."""

    customer_id: NonEmptyStr = Field(description="The DMS's customer id.", examples=["C-88012"])
    name: NonEmptyStr = Field(description="Customer name.", examples=["张伟"])
    phone: str = Field(
        description=(
            "Mobile or landline as the DMS stores it (+86, 0086, blanks, dashes and full-width "
            "digits are all fine); intake normalises it."
        ),
        examples=["13800138000", "+86 138 0013 8000", "0755-8888 6666"],
    )
    is_owner: bool = Field(True, description="Whether this customer is the registered owner.")
    birthday: date | None = Field(None, description="For birthday care (D10).")
    contact_consent: bool = Field(
        True, description="Willing to be contacted (愿意接受回访, D4). false = never contacted."
    )
    preferred_channel: DmsChannel | None = Field(
        None,
        description="Preferred channel (wins over the default, D14): English or Chinese label.",
    )
    id_number: str | None = Field(None, description="ID card or company number (D2).")
    occupation: str | None = Field(None, description="Occupation (D2).")
    address: str | None = Field(None, description="Postal address (D2).")


class DmsOwner(_DmsModel):
    """The registered owner, when the customer who brought the car is someone else (D2, D4)."""

    name: NonEmptyStr = Field(description="Owner name (person or company).")
    phone: str | None = Field(None, description="Owner phone, any form (see customer.phone).")
    id_number: str | None = Field(None, description="ID card or company number (D2).")


class DmsStaff(_DmsModel):
    """A dealer employee: service advisor, technician or sales consultant (D18, D24)."""

    id: NonEmptyStr = Field(description="Employee id in the DMS.", examples=["SA-007"])
    name: NonEmptyStr = Field(description="Employee name.", examples=["王芳"])


class DmsItem(_DmsModel):
    """One labour or parts line of the work order (D10: recommended items not done)."""

    code: str = Field(description="Item code in the DMS.", examples=["BY-001"])
    name: str = Field(description="Item name.", examples=["更换机油机滤"])
    # An int default: the JSON Schema shows the number 0 (a Decimal would show the string "0").
    labor_hours: LaborHours = Field(default=0, description="Labour hours, >= 0.")  # type: ignore[assignment]
    amount: Amount = Field(description="Line amount in CNY (yuan), a JSON number.")


class DmsNextMaintenance(_DmsModel):
    """When the next maintenance falls due, whichever comes first (D9)."""

    due_date: date | None = Field(None, description="Next maintenance date.")
    due_mileage_km: MileageKm | None = Field(None, description="Next maintenance odometer km.")


class DmsWorkOrderClosed(_DmsModel):
    """A repair order was settled (结算) in the DMS. Published once per settlement; publishing
    the same work_order_id again is a correction of that work order."""

    TOPIC: ClassVar[str] = topics.DMS_WORKORDER_CLOSED
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: NonEmptyStr = Field(
        description="The DMS's own id of this message; a redelivery carries the same id.",
        examples=["WO-20261120-0042-closed"],
    )
    dealer_id: NonEmptyStr = Field(
        description="Dealer id, also the Kafka key.", examples=["dealer-sz-001"]
    )
    work_order_id: NonEmptyStr = Field(
        description="Repair order number (工单号).", examples=["WO-20261120-0042"]
    )
    work_order_type: DmsWorkOrderType = Field(
        description="Kind of work order: English value (any letter case) or Chinese label."
    )
    opened_at: DmsDateTime = Field(description="When the order was opened (开单).")
    settled_at: DmsDateTime = Field(
        description="Settlement time (结算); the follow-up schedule counts from it (D6, D7)."
    )
    vin: str = Field(
        description="17-character VIN; one vehicle, one file (D1).", examples=["LSVAU218XN2183294"]
    )
    plate: str = Field(description="Plate number as written.", examples=["粤B12345"])
    brand: str = Field(description="Brand.", examples=["大众"])
    model: str = Field(description="Model.", examples=["帕萨特 330TSI"])
    mileage_km: MileageKm = Field(description="Odometer at this visit, whole km (D2).")
    customer: DmsCustomer = Field(description="The person who brought the vehicle in.")
    owner: DmsOwner | None = Field(
        None, description="The registered owner, when not the customer (D4)."
    )
    service_advisor: DmsStaff = Field(description="Service advisor (服务顾问) of the order.")
    technicians: list[DmsStaff] = Field(default_factory=list, description="Technicians.")
    items: list[DmsItem] = Field(default_factory=list, description="Labour and parts lines.")
    total_amount: Amount = Field(description="Settled total in CNY (yuan), a JSON number.")
    next_maintenance: DmsNextMaintenance | None = Field(
        None, description="Next maintenance due (D9)."
    )
    insurance_type: str | None = Field(None, description="Insurance type (D2).")
    insurance_expiry: date | None = Field(None, description="Insurance expiry (D10).")
    licence_expiry: date | None = Field(None, description="Driving-licence expiry (D10).")
    registration_date: date | None = Field(None, description="First registration date (D2).")
    schema_version: Literal[1] = Field(1, description="Version of this contract.")


class DmsVehicleDelivered(_DmsModel):
    """A new vehicle was handed over to its buyer (交车). Starts the sales follow-up and the
    first-maintenance reminder (D8)."""

    TOPIC: ClassVar[str] = topics.DMS_VEHICLE_DELIVERED
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: NonEmptyStr = Field(description="The DMS's own id of this message.")
    dealer_id: NonEmptyStr = Field(
        description="Dealer id, also the Kafka key.", examples=["dealer-sz-001"]
    )
    delivery_id: NonEmptyStr = Field(description="Delivery number in the DMS.")
    delivered_at: DmsDateTime = Field(description="Handover time; D8 counts from it.")
    vin: str = Field(description="17-character VIN (D1).")
    plate: str | None = Field(None, description="Plate, when already registered.")
    brand: str = Field(description="Brand.")
    model: str = Field(description="Model.")
    customer: DmsCustomer = Field(description="The buyer.")
    sales_consultant: DmsStaff = Field(description="Sales consultant (销售顾问).")
    first_maintenance_due: DmsNextMaintenance | None = Field(
        None, description="First maintenance due (首保, D8)."
    )
    insurance_type: str | None = Field(None, description="Insurance type (D2).")
    insurance_expiry: date | None = Field(None, description="Insurance expiry (D10).")
    schema_version: Literal[1] = Field(1, description="Version of this contract.")


#: Topic -> model of every external DMS message.
DMS_MESSAGE_TYPES: dict[str, type[BaseModel]] = {
    DmsWorkOrderClosed.TOPIC: DmsWorkOrderClosed,
    DmsVehicleDelivered.TOPIC: DmsVehicleDelivered,
}
