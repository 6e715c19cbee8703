"""What the use cases need from storage: a small protocol, so they run against MongoDB in
production and against an in-memory fake in the unit tests."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Doc = dict[str, Any]


@dataclass
class TimerUpdate:
    set: Doc = field(default_factory=dict)
    trail: list[Doc] = field(default_factory=list)


@dataclass
class PersonUpdate:
    set: Doc = field(default_factory=dict)
    add: dict[str, list[Any]] = field(default_factory=dict)  # $addToSet, in order
    new: bool = False  # absent when read: inserted whole (an update if it appeared since)

    def document(self, key: str) -> Doc:
        return {"_id": key, **self.set, **self.add}


@dataclass
class Archive:
    """What a file moves out (`filing.archive_of`, `filing.visits_between`)."""

    timer_ids: list[str]
    visits: list[Doc] = field(default_factory=list)


@dataclass
class Changes:
    """Everything one batch writes, applied in this order so that a batch cut short anywhere
    and delivered again ends in the same state: the `started` marks of its events and the
    contact data its timers name (insert-once, before any entry that names it), tombstones,
    entries, new timers (insert-once), timer updates, the birthday index (before the files:
    a customer whose file holds a birthday is indexed under it, so planning skips the index
    when the birthday is the file's already), people, then what a file moves out (`Archive`:
    its settled timers appended to its archive, then pulled from the file; cut
    short in between, the batch delivered again archives them again, and the trail reads an
    id once). An event without a `started` mark stored none of its timers yet, so a use case
    reads the timers it plans only for events that have one (a redelivery) — the others it
    knows from the people's links.
    Transitions apply only to the state they expect, so a redelivery re-decides the same; an
    entry filed twice (before a crash, and again) fires once."""

    started: list[str] = field(default_factory=list)  # event ids
    contacts: dict[str, Doc] = field(default_factory=dict)  # contact id -> contact data
    tombstones: list[str] = field(default_factory=list)  # entry keys
    entries: list[Doc] = field(default_factory=list)
    new_timers: dict[str, Doc] = field(default_factory=dict)
    timer_updates: dict[str, TimerUpdate] = field(default_factory=dict)
    birthdays: dict[str, list[str]] = field(default_factory=dict)  # sequence -> customer keys
    people: dict[str, PersonUpdate] = field(default_factory=dict)
    archived: dict[str, Archive] = field(default_factory=dict)  # person key -> what moves

    def __bool__(self) -> bool:
        return any(
            (
                self.tombstones,
                self.entries,
                self.new_timers,
                self.timer_updates,
                self.birthdays,
                self.people,
                self.archived,
            )
        )


class PlanningStore(Protocol):
    async def find_timers(self, timer_ids: Collection[str]) -> dict[str, Doc]: ...

    async def find_people(self, keys: Collection[str]) -> dict[str, Doc]: ...

    async def find_sent(self, attempts: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
        """Which (timer, attempt) the dispatcher has published."""
        ...

    async def find_started(self, event_ids: Collection[str]) -> set[str]:
        """Which events a batch applied (perhaps only in part) before."""
        ...

    async def contacts(self, contact_ids: Collection[str]) -> dict[str, Doc]:
        """Contact data by id (`filing.CONTACTS`)."""
        ...

    async def apply(self, changes: Changes, now: datetime) -> None: ...
