"""A contact result applied to the vehicle file: the agent's corrections (D30) and our opt-out
(D4), each a new revision of the file with who, when and from which contact. Pure: no broker, no
database.

- A correction changes only what differs from the file; a value equal to the file's is a
  confirmation and no revision.
- A call heard before the file's latest DMS record (settled after the call) does not undo what
  that record set, nor a correction heard later; a DMS record settled before the call never puts
  the old value back (`vehicle_file.merge`).
- The `VehicleFileCorrected` event is stored inside the revision that made it, so a redelivery
  (the result applied, its event not yet out) publishes the very same event again.
- Idempotent: a result whose event id a revision already names changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aftersales_contracts import (
    CallOutcome,
    ContactResult,
    Customer,
    Vehicle,
    VehicleFileCorrected,
    deterministic_id,
)

from aftersales_intake.domain.vehicle_file import (
    CHECKED_FIELDS,
    checked_value,
    record_opt_out,
    revise,
    set_checked,
)

Doc = dict[str, Any]
BY_SMS = "sms"
#: D30 fields the DMS also sets: a DMS record settled after the call outranks the call for them.
DMS_FIELDS = frozenset(
    {"phone", "owner_name", "mileage_km", "next_maintenance_due_date",
     "next_maintenance_due_mileage_km"}
)  # fmt: skip


@dataclass(frozen=True)
class Applied:
    """The file after a result, and the correction event it made (None: an opt-out only)."""

    file: Doc
    event: VehicleFileCorrected | None


def corrected_event_id(result: ContactResult) -> str:
    return deterministic_id("vehicle.corrected", result.event_id)


def applied_before(file: Doc, result: ContactResult) -> bool:
    return any(
        r.get("source", {}).get("result_event_id") == result.event_id
        for r in file.get("revisions", [])
    )


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _stamp(file: Doc, name: str) -> datetime | None:
    stamp = (file.get("corrections") or {}).get(name)
    return datetime.fromisoformat(stamp["at"]) if stamp else None


def _corrections(file: Doc, result: ContactResult) -> dict[str, object]:
    """The D30 fields this call changes: given, different, and not outranked by newer data."""
    if result.data_check is None:
        return {}
    heard = result.contacted_at
    latest = file.get("latest_at")
    dms_newer = latest is not None and datetime.fromisoformat(latest) > heard
    changes = {}
    for name, value in result.data_check.changes().items():
        stamped = _stamp(file, name)
        if (name in DMS_FIELDS and dms_newer) or (stamped is not None and stamped > heard):
            continue
        if checked_value(file, name) != _json(value):
            changes[name] = _json(value)
    return {name: changes[name] for name in CHECKED_FIELDS if name in changes}


def apply_result(file: Doc, result: ContactResult, now: datetime) -> Applied | None:
    """The file after ``result``, or None when the result changes nothing on it."""
    if applied_before(file, result):
        return None
    by = result.agent_id or BY_SMS
    source = {"contact_id": result.contact_id, "result_event_id": result.event_id}
    if result.outcome is CallOutcome.OPTED_OUT:
        # D4: an opt-out heard by our agent outlives every later DMS record.
        changed = record_opt_out(file, result.customer_id, result.contacted_at)
        revise(changed, _entry(result, by, source, ["contact_consent", "opt_out"]))
        return Applied(changed, None)
    changes = _corrections(file, result)
    if not changes:
        return None
    changed = dict(file)
    heard = result.contacted_at.isoformat()
    for name, value in changes.items():
        set_checked(changed, name, value)
    revision = int(changed.get("revision") or 0) + 1
    person = (file.get("customer") or {}).get("customer_id")
    changed["corrections"] = {
        **(file.get("corrections") or {}),
        **{
            name: {"value": v, "at": heard, "revision": revision, "customer_id": person}
            for name, v in changes.items()
        },
    }
    event = _event(changed, result, revision, list(changes), now)
    revise(
        changed,
        {**_entry(result, by, source, list(changes)), "values": changes,
         "event": event.model_dump_json()},
    )  # fmt: skip
    return Applied(changed, event)


def _entry(result: ContactResult, by: str, source: Doc, changed: list[str]) -> Doc:
    return {"at": result.contacted_at.isoformat(), "by": by, "source": source, "changed": changed}


def _event(
    file: Doc, result: ContactResult, revision: int, changed: list[str], now: datetime
) -> VehicleFileCorrected:
    person = file["customer"]
    customer = Customer(
        customer_id=person["customer_id"],
        name=person["name"],
        phone=person["phone"],
        is_owner=person["is_owner"],
        birthday=person.get("birthday"),
        contact_consent=bool(file.get("contact_consent")),
        preferred_channel=file.get("preferred_channel"),
    )
    vehicle = Vehicle(
        vin=file["vin"],
        plate=file.get("plate"),
        brand=file["brand"],
        model=file["model"],
        mileage_km=file.get("mileage_km"),
    )
    return VehicleFileCorrected(
        event_id=corrected_event_id(result),
        occurred_at=now,
        dealer_id=file["dealer_id"],
        correlation_id=result.correlation_id,
        causation_id=result.event_id,
        vin=file["vin"],
        file_revision=revision,
        corrected_at=result.contacted_at,
        corrected_by=result.agent_id or BY_SMS,
        contact_id=result.contact_id,
        changed=changed,
        customer=customer,
        vehicle=vehicle,
        next_maintenance_due_date=file.get("next_maintenance_due_date"),
        next_maintenance_due_mileage_km=file.get("next_maintenance_due_mileage_km"),
    )


def unpublished(file: Doc, out: int) -> list[tuple[int, VehicleFileCorrected]]:
    """(revision, event) of the file's corrections above revision ``out``, in order."""
    return [
        (r["revision"], VehicleFileCorrected.model_validate_json(r["event"]))
        for r in file.get("revisions", [])
        if r.get("event") and r["revision"] > out
    ]
