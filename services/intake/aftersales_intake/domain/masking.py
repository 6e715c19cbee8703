"""What a vehicle file shows (D3): phones and ID numbers always masked. Whole numbers reach only
the agent holding a task's lease (contact) and the data steward fixing a rejected record."""

from __future__ import annotations

from typing import Any

from aftersales_runtime.privacy import mask_id_number, mask_phone

#: Kept for the file's own bookkeeping; the revisions have their own route (`present_revisions`).
NOT_SHOWN = frozenset({"_id", "revisions", "corrections"})


def present_file(file: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in file.items() if k not in NOT_SHOWN}
    shown["phones"] = [mask_phone(p) for p in file.get("phones", [])]
    for key in ("customer", "owner", "actual_user"):
        person = file.get(key)
        if person:
            shown[key] = {
                **person,
                "phone": mask_phone(person["phone"]) if person.get("phone") else None,
                "id_number": mask_id_number(person.get("id_number")),
            }
    return shown


def present_revisions(file: dict[str, Any]) -> list[dict[str, Any]]:
    """A file's revisions, oldest first: when, by whom, from which record or contact, what
    changed; corrected phones masked (D3); the stored events left out."""
    shown = []
    for revision in file.get("revisions", []):
        entry = {k: v for k, v in revision.items() if k != "event"}
        if "values" in entry:
            entry["values"] = {
                name: mask_phone(value) if name.endswith("phone") else value
                for name, value in entry["values"].items()
            }
        shown.append(entry)
    return shown
