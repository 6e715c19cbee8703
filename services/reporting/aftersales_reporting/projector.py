"""The shape every projection pass has: parse a batch, drop what was already consumed, compute
each event's changes (from the entity state read once per batch), store counters, then entities.

A projection is pure (`Projection.changes`): events and state in, changes and new state out,
so the rebuild (`rebuild.py`) and the live subscribers run the very same code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from aftersales_contracts.envelope import Event
from aftersales_runtime.batches import Received, Refused, parse_records

from aftersales_reporting.ledger import Contribution, Doc, Ledger

E = TypeVar("E", bound=Event)
E_contra = TypeVar("E_contra", bound=Event, contravariant=True)
ZoneOf = Callable[[str], ZoneInfo]


@dataclass
class Outcome:
    """What a pass computed: counter contributions and the entities it changed."""

    contributions: list[Contribution] = field(default_factory=list)
    entities: dict[str, Doc] = field(default_factory=dict)
    new_entities: list[Doc] = field(default_factory=list)  # written once, never changed


class Projection(Protocol[E_contra]):
    def entity_ids(self, event: E_contra) -> list[str]:
        """The entities whose state this event's changes depend on."""
        ...

    def project(
        self, record: Received, event: E_contra, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        """Add the event's contribution to `outcome`, updating `state` (the entities) in place."""
        ...


@dataclass
class Projector(Generic[E]):
    model: type[E]
    projection: Projection[E]
    ledger: Ledger
    # Projectors of two topics that share entities (a delivery and its survey, D34) take turns:
    # each pass reads, changes and replaces those entities as a whole.
    serial: asyncio.Lock | None = None

    async def run(self, records: Sequence[Received]) -> list[Refused]:
        async with self.serial or contextlib.nullcontext():
            return await self._run(records)

    async def _run(self, records: Sequence[Received]) -> list[Refused]:
        parsed, refused = parse_records(records, self.model)
        fresh = await self.ledger.first_seen([(r, e.event_id) for r, e in parsed])
        kept = {id(r) for r in fresh}
        events = [(r, e) for r, e in parsed if id(r) in kept]
        wanted = {i for _, e in events for i in self.projection.entity_ids(e)}
        state = await self.ledger.entities(wanted) if wanted else {}
        outcome = Outcome()
        for record, event in events:
            self.projection.project(record, event, state, outcome)
        await self.ledger.apply(outcome.contributions)  # counters first: see ledger.py
        if outcome.new_entities:
            await self.ledger.add_entities(outcome.new_entities)
        if outcome.entities:
            await self.ledger.keep_entities(outcome.entities.values())
        return refused
