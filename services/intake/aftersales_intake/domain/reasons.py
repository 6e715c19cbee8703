"""Why an input was refused or corrected: a stable code, the field and a readable message (D5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str  # stable and machine-readable, e.g. "phone.invalid"
    field: str | None  # dotted path into the input; None for the whole message
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "message": self.message}


class Refused(ValueError):
    """A normaliser could not make sense of a value."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason
