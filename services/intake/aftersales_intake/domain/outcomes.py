"""What intake answers for each input: exactly one outcome (accepted, duplicate, corrected or
rejected), with the ids a caller needs and every reason or warning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Kind

Status = Literal["accepted", "duplicate", "corrected", "rejected"]

#: Refusals of the transport contract itself (issue 3: these also go to the dead-letter topic).
CONTRACT_CODES = ("encoding.", "json.", "schema.", "dealer.unknown")


@dataclass(frozen=True)
class Outcome:
    status: Status
    kind: Kind
    dealer_id: str | None
    record_id: str | None
    revision: int | None = None
    event_id: str | None = None
    rejection_id: str | None = None
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)

    @property
    def breaks_contract(self) -> bool:
        return any(r.code.startswith(CONTRACT_CODES) for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.status,
            "kind": self.kind,
            "dealer_id": self.dealer_id,
            "record_id": self.record_id,
            "revision": self.revision,
            "event_id": self.event_id,
            "rejection_id": self.rejection_id,
            "reasons": [r.as_dict() for r in self.reasons],
            "warnings": [w.as_dict() for w in self.warnings],
        }
