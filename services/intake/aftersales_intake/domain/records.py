"""From raw DMS bytes to a normalised record, or the reasons it is refused (D5).

Every rule here is pure: the dealer's zone and the current time are passed in. All the reasons
of a record are collected, not only the first, so one fix-and-replay is enough.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from aftersales_contracts.dms import DmsCustomer, DmsVehicleDelivered, DmsWorkOrderClosed
from pydantic import BaseModel, ValidationError

from aftersales_intake.domain.labels import map_channel, map_work_order_type
from aftersales_intake.domain.phones import normalise_phone
from aftersales_intake.domain.plates import normalise_plate
from aftersales_intake.domain.reasons import Reason, Refused
from aftersales_intake.domain.times import to_utc
from aftersales_intake.domain.vins import normalise_vin

Kind = Literal["workorder", "delivery"]
MODELS: dict[Kind, type[BaseModel]] = {
    "workorder": DmsWorkOrderClosed,
    "delivery": DmsVehicleDelivered,
}


@dataclass(frozen=True)
class Normalised:
    """A record that passed every rule: what the vehicle file and the event are built from."""

    kind: Kind
    dealer_id: str
    record_id: str  # work_order_id or delivery_id
    source_event_id: str  # the DMS's event id: the causation of what we publish
    vin: str
    happened_at: datetime  # settlement or handover, UTC
    mileage_km: int | None
    content: dict[str, Any]  # JSON-safe; its hash tells a re-send from a correction (issue 4.5)
    warnings: list[Reason] = field(default_factory=list)

    @property
    def content_text(self) -> str:
        """The content as stored: canonical JSON (sorted keys), whose SHA-256 is the hash. One
        string, not a nested document: FerretDB converts a document value by value on every
        write and read, and nothing reads the content field by field."""
        return json.dumps(self.content, sort_keys=True, ensure_ascii=False, default=str)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content_text.encode()).hexdigest()


@dataclass(frozen=True)
class Refusal:
    reasons: list[Reason]
    dealer_id: str | None = None  # when readable, so the refusal is filed under its dealer
    record_id: str | None = None


def read_json(raw: bytes) -> dict[str, Any] | Refusal:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal([Reason("encoding.invalid", None, "the message is not UTF-8 text")])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Refusal(
            [Reason("json.invalid", None, f"not JSON: {error.msg} at position {error.pos}")]
        )
    if not isinstance(data, dict):
        return Refusal([Reason("json.not_object", None, "the message must be one JSON object")])
    return data


def _text_of(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _premap(data: dict[str, Any]) -> dict[str, Any]:
    """DMS label variants the contract's own table doesn't know."""
    data = dict(data)
    if "work_order_type" in data:
        data["work_order_type"] = map_work_order_type(data["work_order_type"])
    customer = data.get("customer")
    if isinstance(customer, dict) and "preferred_channel" in customer:
        data["customer"] = {
            **customer,
            "preferred_channel": map_channel(customer["preferred_channel"]),
        }
    return data


def schema_reasons(error: ValidationError) -> list[Reason]:
    reasons = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in item["loc"]) or None
        reasons.append(Reason(f"schema.{item['type']}", path, item["msg"]))
    return reasons


@dataclass
class _Collector:
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)

    def run(self, normalise: Callable[[], Any]) -> Any:
        try:
            return normalise()
        except Refused as refused:
            self.reasons.append(refused.reason)
            return None


def _customer(c: DmsCustomer, check: _Collector, path: str) -> dict[str, Any]:
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "phone": check.run(lambda: normalise_phone(c.phone, f"{path}.phone")),
        "is_owner": c.is_owner,
        "birthday": c.birthday.isoformat() if c.birthday else None,
        "contact_consent": c.contact_consent,
        "preferred_channel": c.preferred_channel.value if c.preferred_channel else None,
    }


def _customer_extras(c: DmsCustomer) -> dict[str, Any]:
    return {"id_number": c.id_number, "occupation": c.occupation, "address": c.address}


def _staff(s: Any) -> dict[str, str]:
    return {"id": s.id, "name": s.name}


def _vin(raw: str, check: _Collector) -> str | None:
    found = check.run(lambda: normalise_vin(raw))
    if found is None:
        return None
    vin, warnings = found
    check.warnings.extend(warnings)
    return str(vin)


def _not_future(
    at: datetime, now: datetime, tolerance: timedelta, name: str, check: _Collector
) -> None:
    if at > now + tolerance:
        check.reasons.append(Reason(f"{name}.in_future", name, f"{name} is in the future"))


def _non_negative(value: Decimal | int | None, name: str, check: _Collector) -> None:
    if value is not None and value < 0:
        check.reasons.append(Reason(f"{name.split('.')[-1]}.negative", name, f"{name} is negative"))


def _workorder(
    wo: DmsWorkOrderClosed, zone: tzinfo, now: datetime, tolerance: timedelta, check: _Collector
) -> Normalised | None:
    vin = _vin(wo.vin, check)
    plate = check.run(lambda: normalise_plate(wo.plate))
    if plate is None and not any(r.field == "plate" for r in check.reasons):
        check.warnings.append(Reason("plate.missing", "plate", "no plate given"))
    opened = to_utc(wo.opened_at, zone)
    settled = to_utc(wo.settled_at, zone)
    if settled < opened:
        check.reasons.append(
            Reason("settled_at.before_opened", "settled_at", "settlement is before the opening")
        )
    _not_future(settled, now, tolerance, "settled_at", check)
    _non_negative(wo.total_amount, "total_amount", check)
    for i, item in enumerate(wo.items):
        _non_negative(item.amount, f"items.{i}.amount", check)
    _non_negative(wo.mileage_km, "mileage_km", check)
    _non_negative(
        wo.next_maintenance.due_mileage_km if wo.next_maintenance else None,
        "next_maintenance.due_mileage_km",
        check,
    )
    customer = _customer(wo.customer, check, "customer")
    owner = None
    if wo.owner is not None:
        owner_phone = wo.owner.phone
        owner = {
            "name": wo.owner.name,
            "phone": check.run(lambda: normalise_phone(owner_phone, "owner.phone"))
            if owner_phone
            else None,
            "id_number": wo.owner.id_number,
        }
    if check.reasons or vin is None:
        return None
    nm = wo.next_maintenance
    content = {
        "work_order_type": wo.work_order_type.value,
        "opened_at": opened.isoformat(),
        "settled_at": settled.isoformat(),
        "vehicle": {
            "vin": vin,
            "plate": plate,
            "brand": wo.brand,
            "model": wo.model,
            "mileage_km": wo.mileage_km,
        },
        "customer": customer,
        "customer_extras": _customer_extras(wo.customer),
        "owner": owner,
        "service_advisor": _staff(wo.service_advisor),
        "technicians": [_staff(t) for t in wo.technicians],
        "total_amount": str(wo.total_amount),
        "next_maintenance_due_date": nm.due_date.isoformat() if nm and nm.due_date else None,
        "next_maintenance_due_mileage_km": nm.due_mileage_km if nm else None,
        "insurance_type": wo.insurance_type,
        "insurance_expiry": wo.insurance_expiry.isoformat() if wo.insurance_expiry else None,
        "licence_expiry": wo.licence_expiry.isoformat() if wo.licence_expiry else None,
        "registration_date": wo.registration_date.isoformat() if wo.registration_date else None,
    }
    return Normalised(
        kind="workorder",
        dealer_id=wo.dealer_id,
        record_id=wo.work_order_id,
        source_event_id=wo.event_id,
        vin=vin,
        happened_at=settled,
        mileage_km=wo.mileage_km,
        content=content,
        warnings=list(check.warnings),
    )


def _delivery(
    d: DmsVehicleDelivered, zone: tzinfo, now: datetime, tolerance: timedelta, check: _Collector
) -> Normalised | None:
    vin = _vin(d.vin, check)
    plate = check.run(lambda: normalise_plate(d.plate))
    delivered = to_utc(d.delivered_at, zone)
    _not_future(delivered, now, tolerance, "delivered_at", check)
    customer = _customer(d.customer, check, "customer")
    if check.reasons or vin is None:
        return None
    fm = d.first_maintenance_due
    content = {
        "delivered_at": delivered.isoformat(),
        "vehicle": {"vin": vin, "plate": plate, "brand": d.brand, "model": d.model},
        "customer": customer,
        "customer_extras": _customer_extras(d.customer),
        "owner": None,
        "sales_consultant": _staff(d.sales_consultant),
        "first_maintenance_due_date": fm.due_date.isoformat() if fm and fm.due_date else None,
        "insurance_type": d.insurance_type,
        "insurance_expiry": d.insurance_expiry.isoformat() if d.insurance_expiry else None,
    }
    return Normalised(
        kind="delivery",
        dealer_id=d.dealer_id,
        record_id=d.delivery_id,
        source_event_id=d.event_id,
        vin=vin,
        happened_at=delivered,
        mileage_km=None,
        content=content,
        warnings=list(check.warnings),
    )


def normalise(
    raw: bytes,
    kind: Kind,
    zone_of: Callable[[str], tzinfo | None],
    now: datetime,
    future_tolerance: timedelta = timedelta(minutes=5),
) -> Normalised | Refusal:
    """Apply every intake rule (issue 4.2) to one raw DMS message."""
    data = read_json(raw)
    if isinstance(data, Refusal):
        return data
    dealer_id, record_id = (
        _text_of(data, "dealer_id"),
        _text_of(data, "work_order_id" if kind == "workorder" else "delivery_id"),
    )
    try:
        model = MODELS[kind].model_validate(_premap(data))
    except ValidationError as error:
        return Refusal(schema_reasons(error), dealer_id, record_id)
    zone = zone_of(model.dealer_id)  # type: ignore[attr-defined]
    if zone is None:
        return Refusal(
            [Reason("dealer.unknown", "dealer_id", "this dealer is not in the configuration")],
            dealer_id,
            record_id,
        )
    check = _Collector()
    if isinstance(model, DmsWorkOrderClosed):
        found = _workorder(model, zone, now, future_tolerance, check)
    else:
        assert isinstance(model, DmsVehicleDelivered)
        found = _delivery(model, zone, now, future_tolerance, check)
    if found is None:
        return Refusal(check.reasons, dealer_id, record_id)
    return found
