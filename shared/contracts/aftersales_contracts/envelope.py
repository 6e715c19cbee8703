"""The envelope every internal event carries (ARCHITECTURE: Contracts).

Ids are deterministic where they can be, derived from the cause, so that a replayed input
produces the very same events and every idempotent handler downstream recognises them.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from aftersales_contracts.primitives import NonEmptyStr

#: Fixed namespace of this project for uuid5 ids. Never change it: every stored id depends on it.
ID_NAMESPACE = uuid.UUID("b3190852-4974-41e1-a92c-b8d9fdc113fc")


def deterministic_id(*parts: str) -> str:
    """Return a uuid5 of ``"/".join(parts)`` in the project namespace.

    The same parts always give the same id, so a replay re-creates the same event ids. Callers
    pass the parts in a fixed order (e.g. dealer, work order, revision, plan step); a part that
    itself contains "/" could collide with another split, so keep parts to identifiers.
    """
    if not parts:
        raise ValueError("deterministic_id needs at least one part")
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(parts)))


def correlation_id_for(dealer_id: str, work_order_id: str) -> str:
    """The correlation id of everything caused by one DMS work order, carried end to end."""
    return f"{dealer_id}/{work_order_id}"


class Event(BaseModel):
    """Base class of every internal event on an ``aftersales.*`` topic.

    Events are immutable facts (frozen) and refuse unknown fields (extra="forbid"): producers
    and consumers share this package, so an unknown field is a bug to surface, not to ignore.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    TOPIC: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int]

    event_id: NonEmptyStr
    occurred_at: AwareDatetime
    dealer_id: NonEmptyStr
    correlation_id: NonEmptyStr
    causation_id: str | None = None
    # 0 means "not given": the validator fills in the class's SCHEMA_VERSION.
    schema_version: int = Field(default=0, validate_default=True)

    @field_validator("schema_version")
    @classmethod
    def _class_schema_version(cls, value: int) -> int:
        """Default to the class's version and refuse any other: a v2 payload read by the v1
        model would be misread silently (see README, schema versioning)."""
        if value == 0:
            return cls.SCHEMA_VERSION
        if value != cls.SCHEMA_VERSION:
            raise ValueError(
                f"{cls.__name__} reads schema_version {cls.SCHEMA_VERSION}, got {value}"
            )
        return value

    def key(self) -> bytes:
        """Kafka partition key: the dealer id as UTF-8, on every aftersales topic, so that one
        consumer at a time handles a dealer (single writer per dealer)."""
        return self.dealer_id.encode("utf-8")
