"""The vehicle file (客户档案): one per (dealer, VIN) (D1), merged from every accepted record.

- The latest record (by settlement or handover time, not by arrival) sets the contact data (D2);
  an older record that arrives late only adds to the history.
- A new owner on a known VIN is kept as an ownership change (issue 4.4).
- An opt-out we recorded (our agents, D4) is never lifted by a DMS record; one that only came
  from the DMS follows the DMS. Either applies only to the customer who opted out.
- A mileage below the one of an earlier visit is kept but flagged (issue 4.2).
- D30: what an agent corrected on a call (phone, owner, actual user, mileage, next maintenance)
  is kept with the call's time; a DMS record settled before the call never puts the old value
  back, a newer one may (`corrections`).
- Every stored change is a new revision of the file (`revision`, `revisions`: when, by whom,
  from which record or contact, which fields changed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Normalised

OPT_OUT_BY_US = "aftersales"
OPT_OUT_BY_DMS = "dms"
BY_DMS = "dms"
#: Bookkeeping, not file data: left out of a revision's list of changed fields.
UNTRACKED = frozenset(
    {"_id", "dealer_id", "vin", "history", "revision", "revisions", "latest_at", "corrections",
     "owner_key", "ownership_changes"}
)  # fmt: skip
#: D30: the file fields a call's data check can correct (`DataCheck` field names).
CHECKED_FIELDS = (
    "phone",
    "owner_name",
    "actual_user_name",
    "actual_user_phone",
    "mileage_km",
    "next_maintenance_due_date",
    "next_maintenance_due_mileage_km",
)


def file_id(dealer_id: str, vin: str) -> str:
    return f"{dealer_id}/{vin}"


def filed(file: dict[str, Any] | None, record: Normalised) -> bool:
    """Whether the file's history lists this record (any revision of it)."""
    return file is not None and any(
        h["kind"] == record.kind and h["record_id"] == record.record_id
        for h in file.get("history", [])
    )


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


def checked_value(file: dict[str, Any], name: str) -> Any:
    """The file's current value of a D30 field."""
    person = {"phone": "customer", "owner_name": "owner"}.get(name)
    if name.startswith("actual_user_"):
        person, name = "actual_user", name.removeprefix("actual_user_")
    if person is None:
        return file.get(name)
    key = "name" if name == "owner_name" else name
    return (file.get(person) or {}).get(key)


def set_checked(file: dict[str, Any], name: str, value: Any) -> None:
    """Set a D30 field on a file being built (nested parts are copied, never shared)."""
    if name == "phone":
        file["customer"] = {**(file.get("customer") or {}), "phone": value}
    elif name == "owner_name":
        file["owner"] = {
            "phone": None,
            "id_number": None,
            **(file.get("owner") or {}),
            "name": value,
        }
    elif name.startswith("actual_user_"):
        key = name.removeprefix("actual_user_")
        file["actual_user"] = {
            "name": None,
            "phone": None,
            **(file.get("actual_user") or {}),
            key: value,
        }
    else:
        file[name] = value
    if name.endswith("phone") and value not in file.get("phones", []):
        file["phones"] = [*file.get("phones", []), value]


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(
        k
        for k in after.keys() | before.keys()
        if k not in UNTRACKED and before.get(k) != after.get(k)
    )


def revise(file: dict[str, Any], entry: dict[str, Any]) -> int:
    """Record a change of a file being built as its next revision; returns the revision."""
    revision = int(file.get("revision") or 0) + 1
    file["revision"] = revision
    file["revisions"] = [*file.get("revisions", []), {"revision": revision, **entry}]
    return revision


def _keep_newer_corrections(merged: dict[str, Any], record: Normalised) -> None:
    """D30: a correction heard on a call after this record's settlement stays; one from before
    it is superseded by the record (a newer DMS record may change the value again)."""
    if not merged.get("corrections"):
        return
    kept = {}
    person = (merged.get("customer") or {}).get("customer_id")
    for name, stamp in (merged.get("corrections") or {}).items():
        if name == "phone" and stamp.get("customer_id", person) != person:
            continue  # the phone was another customer's: this record names a new one
        if datetime.fromisoformat(stamp["at"]) > record.happened_at:
            set_checked(merged, name, stamp["value"])
            kept[name] = stamp
    merged["corrections"] = kept


def contact_phone(file: dict[str, Any], record: Normalised) -> str | None:
    """The phone an event of ``record`` should carry when a later call corrected it (D30)."""
    stamp = (file.get("corrections") or {}).get("phone")
    same_person = (file.get("customer") or {}).get("customer_id") == record.content["customer"][
        "customer_id"
    ]
    if stamp and same_person and datetime.fromisoformat(stamp["at"]) > record.happened_at:
        return str(stamp["value"])
    return None


def merge(file: dict[str, Any] | None, record: Normalised, revision: int) -> dict[str, Any]:
    """The vehicle file after ``record`` (revision ``revision``) is applied. Pure; idempotent:
    a record revision already merged changes nothing."""
    source = {"kind": record.kind, "record_id": record.record_id, "record_revision": revision}
    if file and any(r.get("source") == source for r in file.get("revisions", [])):
        return dict(file)
    merged: dict[str, Any] = _merged(file, record, revision)
    revise(
        merged,
        {
            "at": record.happened_at.isoformat(),
            "by": BY_DMS,
            "source": source,
            "changed": changed_fields(file or {}, merged),
        },
    )
    return merged


def _merged(file: dict[str, Any] | None, record: Normalised, revision: int) -> dict[str, Any]:
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
    else:
        merged["sales_consultant"] = content["sales_consultant"]  # D24: who sold it
    _keep_newer_corrections(merged, record)

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
    """Our own opt-out (an agent heard it, D4): it outlives every later DMS record. The caller
    records the change as a revision (who, from which contact)."""
    merged = dict(file)
    merged["opt_out"] = {"by": OPT_OUT_BY_US, "customer_id": customer_id, "at": at.isoformat()}
    if (merged.get("customer") or {}).get("customer_id") == customer_id:
        merged["contact_consent"] = False
    return merged
