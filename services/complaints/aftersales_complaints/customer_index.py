"""Complaints' own small index of the dealer's customers (D29): a complaint that arrives by
phone, letter or at the counter names a plate, a phone or a VIN, and the ticket needs the
customer, the vehicle, its last work order and advisor (D18).

Fed by `aftersales.workorder.closed` and `aftersales.vehicle.delivered`, in batches; stored by
`_id` only (FerretDB indexes nothing else): `{dealer}/vin/{VIN}`, `{dealer}/plate/{PLATE}` and
`{dealer}/phone/{E.164}`, each holding `vehicles.{VIN}` → the vehicle's record (a phone may
have several cars). An older record never replaces a newer one (a replay, a late correction).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aftersales_contracts import Staff, VehicleDelivered, WorkOrderClosed
from aftersales_runtime.bulk import find_by_ids, write_each
from pydantic import AwareDatetime, BaseModel, ConfigDict
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
INDEX = "customer_index"
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


def _record_of(entry: Doc | None, vin: str) -> VehicleRecord | None:
    known = (entry or {}).get("vehicles", {}).get(vin)
    return VehicleRecord.model_validate(known) if known else None


def _key(dealer_id: str, kind: str, value: str) -> str:
    return f"{dealer_id}/{kind}/{value}"


class CustomerIndex:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.entries = db[INDEX]

    async def remember(self, records: Sequence[VehicleRecord]) -> None:
        """Index each vehicle under its VIN, plate and phone, in arrival order; a record older
        than the one kept for its vehicle changes nothing. A batch costs one read of its VINs'
        entries and one write per key it changes (bulk commands), whatever its size."""
        vin_keys = [_key(r.dealer_id, "vin", r.vin) for r in records]
        stored = await find_by_ids(self.db, INDEX, vin_keys)
        kept: dict[str, VehicleRecord | None] = {
            key: _record_of(stored.get(key), record.vin)
            for key, record in zip(vin_keys, records, strict=True)
        }
        changes: dict[str, Doc] = {}  # key -> {"$set": {...}, "$unset": {...}}

        def change(key: str, operator: str, path: str, value: Any) -> None:
            update = changes.setdefault(key, {"$set": {}, "$unset": {}})
            other = "$unset" if operator == "$set" else "$set"
            update[other].pop(path, None)  # the batch's last word on this path wins
            update[operator][path] = value

        for vin_key, record in zip(vin_keys, records, strict=True):
            before = kept[vin_key]
            if before is not None and before.at > record.at:
                continue  # a replay or a late correction: the newer record stays
            path = f"vehicles.{record.vin}"
            # The car changed hands or plates: the old key no longer finds it.
            if before is not None and before.phone != record.phone:
                change(_key(record.dealer_id, "phone", before.phone), "$unset", path, "")
            if before is not None and before.plate and before.plate != record.plate:
                change(_key(record.dealer_id, "plate", before.plate), "$unset", path, "")
            value = record.model_dump(mode="python")
            change(vin_key, "$set", path, value)
            change(_key(record.dealer_id, "phone", record.phone), "$set", path, value)
            if record.plate:
                change(_key(record.dealer_id, "plate", record.plate), "$set", path, value)
            kept[vin_key] = record
        writes = [
            UpdateOne(
                {"_id": key},
                {operator: paths for operator, paths in update.items() if paths},
                upsert=bool(update["$set"]),
            )
            for key, update in changes.items()
        ]
        await write_each(self.db, INDEX, writes)

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


async def work_orders_closed(events: Sequence[WorkOrderClosed], index: CustomerIndex) -> None:
    """Use case: remember who owns each vehicle and who served it last."""
    await index.remember([record_of_work_order(e) for e in events])


async def vehicles_delivered(events: Sequence[VehicleDelivered], index: CustomerIndex) -> None:
    """Use case: a new car's buyer can complain before its first work order."""
    await index.remember([record_of_delivery(e) for e in events])
