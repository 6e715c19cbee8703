"""What a vehicle file shows to whom (D3): full phones only to roles that may call the customer."""

from __future__ import annotations

from typing import Any

from aftersales_intake.domain.phones import mask_phone


def _mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    return f"{value[:4]}{'*' * max(len(value) - 6, 4)}{value[-2:]}"


def present_file(file: dict[str, Any], full: bool) -> dict[str, Any]:
    shown = {k: v for k, v in file.items() if k != "_id"}
    if full:
        return shown
    shown["phones"] = [mask_phone(p) for p in file.get("phones", [])]
    for key in ("customer", "owner"):
        person = file.get(key)
        if person:
            shown[key] = {
                **person,
                "phone": mask_phone(person["phone"]) if person.get("phone") else None,
                "id_number": _mask_id_number(person.get("id_number")),
            }
    return shown
