"""What a vehicle file shows (D3): phones and ID numbers always masked. Whole numbers reach only
the agent holding a task's lease (contact) and the data steward fixing a rejected record."""

from __future__ import annotations

from typing import Any

from aftersales_runtime.privacy import mask_id_number, mask_phone


def present_file(file: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in file.items() if k != "_id"}
    shown["phones"] = [mask_phone(p) for p in file.get("phones", [])]
    for key in ("customer", "owner"):
        person = file.get(key)
        if person:
            shown[key] = {
                **person,
                "phone": mask_phone(person["phone"]) if person.get("phone") else None,
                "id_number": mask_id_number(person.get("id_number")),
            }
    return shown
