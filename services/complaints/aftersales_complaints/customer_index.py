"""Complaints' own small index of the dealer's customers (D29): a complaint that arrives by
phone, letter or at the counter names a plate, a phone or a VIN, and the ticket needs the
customer, the vehicle, its last work order and advisor (D18).

Fed by `aftersales.workorder.closed` and `aftersales.vehicle.delivered`; stored by `_id` only
(FerretDB indexes nothing else): `{dealer}/vin/{VIN}`, `{dealer}/plate/{PLATE}` and
`{dealer}/phone/{E.164}`, each holding `vehicles.{VIN}` → the vehicle's record (a phone may
have several cars). An older record never replaces a newer one (a replay, a late correction).
"""

from __future__ import annotations

import re
from typing import Any

from aftersales_contracts import Staff, VehicleDelivered, WorkOrderClosed
from pydantic import AwareDatetime, BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
_PLATE_NOISE = re.compile(r"[\s·•.\-_]")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalised_plate(text: str) -> str:
    """粤B·D12345, 粤b d12345 → 粤BD12345 (the events carry intake's canonical form)."""
    return _PLATE_NOISE.sub("", text).upper()


def normalised_phone(text: str) -> str:
    """Any spelling of a Chinese number → E.164 (+8613800138000), as the events carry it."""
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+"):
        return "+" + digits
    if digits.startswith("86") and len(digits) > 11:
        return "+" + digits
    if _MOBILE.fullmatch(digits):
        return "+86" + digits
    return "+86" + digits.lstrip("0")


class VehicleRecord(BaseModel):
    """What a complaint needs of a vehicle: whose it is and who served it last."""

    model_config = ConfigDict(extra="ignore")

    dealer_id: str
    vin: str
    plate: str | None = None
    customer_id: str
    phone: str
    work_order_id: str | None = None  # the last one (None: a delivery only)
    service_advisor: Staff | None = None
    technicians: list[Staff] = []
    sales_consultant: Staff | None = None
    correlation_id: str
    at: AwareDatetime  # settled or delivered


def _key(dealer_id: str, kind: str, value: str) -> str:
    return f"{dealer_id}/{kind}/{value}"


class CustomerIndex:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.entries = db["customer_index"]

    async def remember(self, record: VehicleRecord) -> bool:
        """Index the vehicle under its VIN, plate and phone; False when a newer record is there
        already (nothing changes)."""
        vin_key = _key(record.dealer_id, "vin", record.vin)
        found = await self.entries.find_one({"_id": vin_key})
        known = (found or {}).get("vehicles", {}).get(record.vin)
        before = VehicleRecord.model_validate(known) if known else None
        if before is not None and before.at > record.at:
            return False
        keys = [vin_key, _key(record.dealer_id, "phone", record.phone)]
        if record.plate:
            keys.append(_key(record.dealer_id, "plate", record.plate))
        stale = []
        if before is not None and before.phone != record.phone:
            stale.append(_key(record.dealer_id, "phone", before.phone))
        if before is not None and before.plate and before.plate != record.plate:
            stale.append(_key(record.dealer_id, "plate", before.plate))
        for key in stale:  # the car changed hands or plates: the old key no longer finds it
            await self.entries.update_one({"_id": key}, {"$unset": {f"vehicles.{record.vin}": ""}})
        value = record.model_dump(mode="python")
        for key in keys:
            await self.entries.update_one(
                {"_id": key}, {"$set": {f"vehicles.{record.vin}": value}}, upsert=True
            )
        return True

    async def find(
        self,
        dealer_id: str,
        vin: str | None = None,
        plate: str | None = None,
        phone: str | None = None,
    ) -> list[VehicleRecord]:
        """The vehicles the first given of VIN, plate, phone finds (newest first)."""
        if vin:
            key = _key(dealer_id, "vin", vin.strip().upper())
        elif plate:
            key = _key(dealer_id, "plate", normalised_plate(plate))
        elif phone:
            key = _key(dealer_id, "phone", normalised_phone(phone))
        else:
            return []
        doc = await self.entries.find_one({"_id": key})
        records = [
            VehicleRecord.model_validate(v) for v in (doc or {}).get("vehicles", {}).values()
        ]
        return sorted(records, key=lambda r: r.at, reverse=True)


def record_of_work_order(event: WorkOrderClosed) -> VehicleRecord:
    return VehicleRecord(
        dealer_id=event.dealer_id,
        vin=event.vehicle.vin,
        plate=event.vehicle.plate,
        customer_id=event.customer.customer_id,
        phone=event.customer.phone,
        work_order_id=event.work_order_id,
        service_advisor=event.service_advisor,
        technicians=event.technicians,
        correlation_id=event.correlation_id,
        at=event.settled_at,
    )


def record_of_delivery(event: VehicleDelivered) -> VehicleRecord:
    return VehicleRecord(
        dealer_id=event.dealer_id,
        vin=event.vehicle.vin,
        plate=event.vehicle.plate,
        customer_id=event.customer.customer_id,
        phone=event.customer.phone,
        sales_consultant=event.sales_consultant,
        correlation_id=event.correlation_id,
        at=event.delivered_at,
    )


async def work_order_closed(event: WorkOrderClosed, index: CustomerIndex) -> None:
    """Use case: remember who owns the vehicle and who served it last."""
    await index.remember(record_of_work_order(event))


async def vehicle_delivered(event: VehicleDelivered, index: CustomerIndex) -> None:
    """Use case: a new car's buyer can complain before its first work order."""
    await index.remember(record_of_delivery(event))
