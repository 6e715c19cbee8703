"""The vehicle file (客户档案): one per (dealer, VIN) (D1), merged from every accepted record.

- The latest record (by settlement or handover time, not by arrival) sets the contact data (D2);
  an older record that arrives late only adds to the history.
- A new owner on a known VIN is kept as an ownership change (issue 4.4).
- An opt-out we recorded (our agents, D4) is never lifted by a DMS record; one that only came
  from the DMS follows the DMS. Either applies only to the customer who opted out.
- A mileage below the one of an earlier visit is kept but flagged (issue 4.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Normalised

OPT_OUT_BY_US = "aftersales"
OPT_OUT_BY_DMS = "dms"


def file_id(dealer_id: str, vin: str) -> str:
    return f"{dealer_id}/{vin}"


def _owner_key(record: Normalised) -> str | None:
    owner = record.content.get("owner")
    if owner:
        return f"name:{owner['name']}"
    customer = record.content["customer"]
    return f"customer:{customer['customer_id']}" if customer["is_owner"] else None


def _history_entry(record: Normalised, revision: int) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "record_id": record.record_id,
        "revision": revision,
        "happened_at": record.happened_at.isoformat(),
        "mileage_km": record.mileage_km,
        "work_order_type": record.content.get("work_order_type"),
    }


def mileage_warning(file: dict[str, Any] | None, record: Normalised) -> Reason | None:
    """Flag a mileage lower than the last visit before this one (kept, never refused)."""
    if file is None or record.mileage_km is None:
        return None
    earlier = [
        h
        for h in file.get("history", [])
        if h["record_id"] != record.record_id
        and h.get("mileage_km") is not None
        and datetime.fromisoformat(h["happened_at"]) < record.happened_at
    ]
    if not earlier:
        return None
    last = max(earlier, key=lambda h: h["happened_at"])
    if record.mileage_km < last["mileage_km"]:
        return Reason(
            "mileage_km.lower_than_last",
            "mileage_km",
            f"mileage is lower than the {last['mileage_km']} km recorded on {last['record_id']}",
        )
    return None


def opted_out(file: dict[str, Any] | None, customer_id: str) -> bool:
    """Whether our own opt-out covers this customer (D4)."""
    opt_out = (file or {}).get("opt_out")
    return bool(
        opt_out and opt_out["by"] == OPT_OUT_BY_US and opt_out["customer_id"] == customer_id
    )


def merge(file: dict[str, Any] | None, record: Normalised, revision: int) -> dict[str, Any]:
    """The vehicle file after ``record`` (revision ``revision``) is applied. Pure; idempotent."""
    merged: dict[str, Any] = (
        dict(file)
        if file
        else {
            "_id": file_id(record.dealer_id, record.vin),
            "dealer_id": record.dealer_id,
            "vin": record.vin,
            "history": [],
            "ownership_changes": [],
            "plates": [],
            "phones": [],
            "opt_out": None,
            "latest_at": None,
        }
    )
    history = [
        h
        for h in merged["history"]
        if (h["kind"], h["record_id"]) != (record.kind, record.record_id)
    ]
    history.append(_history_entry(record, revision))
    merged["history"] = sorted(history, key=lambda h: (h["happened_at"], h["record_id"]))

    content = record.content
    vehicle = content["vehicle"]
    customer = content["customer"]
    for phone in (customer["phone"], (content.get("owner") or {}).get("phone")):
        if phone and phone not in merged["phones"]:
            merged["phones"] = [*merged["phones"], phone]
    if vehicle.get("plate") and vehicle["plate"] not in merged["plates"]:
        merged["plates"] = [*merged["plates"], vehicle["plate"]]

    latest_at = merged.get("latest_at")
    if latest_at is not None and record.happened_at < datetime.fromisoformat(latest_at):
        return merged  # an older record: history only, the newer contact data stays (D2)

    new_owner = _owner_key(record)
    old_owner = merged.get("owner_key")
    if new_owner and old_owner and new_owner != old_owner:
        merged["ownership_changes"] = [
            *merged["ownership_changes"],
            {
                "from": old_owner,
                "to": new_owner,
                "at": record.happened_at.isoformat(),
                "record_id": record.record_id,
            },
        ]
    if new_owner:
        merged["owner_key"] = new_owner

    merged["latest_at"] = record.happened_at.isoformat()
    merged["plate"] = vehicle.get("plate") or merged.get("plate")
    merged["brand"] = vehicle["brand"]
    merged["model"] = vehicle["model"]
    if record.mileage_km is not None:
        merged["mileage_km"] = record.mileage_km
    merged["customer"] = {**customer, **content.get("customer_extras", {})}
    merged["owner"] = content.get("owner")
    merged["preferred_channel"] = customer["preferred_channel"]
    for key in (
        "insurance_type",
        "insurance_expiry",
        "licence_expiry",
        "registration_date",
        "next_maintenance_due_date",
        "next_maintenance_due_mileage_km",
        "first_maintenance_due_date",
    ):
        if content.get(key) is not None:
            merged[key] = content[key]
    if record.kind == "workorder":
        merged["last_visit_at"] = record.happened_at.isoformat()

    opt_out = merged.get("opt_out")
    ours = opt_out is not None and opt_out["by"] == OPT_OUT_BY_US
    if not ours:
        # D4: the DMS decides only about opt-outs it reported itself.
        merged["opt_out"] = (
            None
            if customer["contact_consent"]
            else {
                "by": OPT_OUT_BY_DMS,
                "customer_id": customer["customer_id"],
                "at": record.happened_at.isoformat(),
            }
        )
    merged["contact_consent"] = customer["contact_consent"] and not opted_out(
        merged, customer["customer_id"]
    )
    return merged


def record_opt_out(file: dict[str, Any], customer_id: str, at: datetime) -> dict[str, Any]:
    """Our own opt-out (an agent heard it, D4): it outlives every later DMS record."""
    merged = dict(file)
    merged["opt_out"] = {"by": OPT_OUT_BY_US, "customer_id": customer_id, "at": at.isoformat()}
    if (merged.get("customer") or {}).get("customer_id") == customer_id:
        merged["contact_consent"] = False
    return merged
