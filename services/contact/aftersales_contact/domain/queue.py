"""The open queue's rules: what an entry is, its order, its time bucket, and who may take it.

Pure: no broker, no database. The queue holds open work only (never a finished task), in time
buckets addressed by `_id` (ARCHITECTURE: Storage), so its cost follows the open work.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from aftersales_contracts import ContactPurpose

#: Entries per bucket document: small enough to read on every claim, large enough that a busy
#: dealer's hour fits in one or two documents.
BUCKET_SIZE = 200

#: A bucket keeps its entries packed in one text field, one line per entry (`pack`/`split_lines`).
#: FerretDB converts every value of a document between BSON and SQLite's JSON on each read and
#: write: a bucket of 200 entries as sub-documents cost 7.3 ms to read and 7.9 ms to rewrite,
#: the same entries as one string 0.8 ms and 1.4 ms (measured on the local stack). MongoDB
#: reads either alike; the queue is read whole, never queried by field.
PACKED = "lines"

#: Smaller runs first. A configuration value (ContactSettings.purpose_priority); these are the
#: defaults: the calls whose timeliness is measured (D6, D8) before the later steps and the care.
DEFAULT_PURPOSE_PRIORITY: dict[str, int] = {
    ContactPurpose.SERVICE_CALL_DAY3.value: 10,
    ContactPurpose.SALES_CALL_DAY3.value: 10,
    ContactPurpose.SERVICE_CALL_DAY30.value: 20,
    ContactPurpose.SMS_SURVEY_DAY7.value: 20,
    ContactPurpose.FIRST_MAINTENANCE_REMINDER.value: 30,
    ContactPurpose.MAINTENANCE_REMINDER.value: 30,
    ContactPurpose.LAPSED_CUSTOMER_RECALL.value: 40,
    ContactPurpose.BIRTHDAY_CARE.value: 50,
    ContactPurpose.INSURANCE_EXPIRY_CARE.value: 50,
    ContactPurpose.LICENCE_EXPIRY_CARE.value: 50,
}
UNLISTED_PRIORITY = 100


def task_priority(purposes: Iterable[str], priorities: Mapping[str, int]) -> int:
    """A merged task (D13) ranks as its most urgent purpose."""
    return min((priorities.get(p, UNLISTED_PRIORITY) for p in purposes), default=UNLISTED_PRIORITY)


def hour_of(due_at: datetime) -> str:
    """The bucket of a due time: its UTC hour, `YYYYMMDDHH` (sorts as text in time order)."""
    return due_at.astimezone(UTC).strftime("%Y%m%d%H")


@dataclass(frozen=True)
class QueueEntry:
    task_id: str
    due_at: datetime
    priority: int
    attempt: int
    purposes: tuple[str, ...]
    channel: str

    def order(self) -> tuple[datetime, int, int, str]:
        """Due time, then purpose priority, then attempt (issue 10); the id breaks ties."""
        return (self.due_at, self.priority, self.attempt, self.task_id)

    def matches(self, purposes: frozenset[str], channels: frozenset[str]) -> bool:
        """An agent's filters: any of the purposes asked for, one of the channels asked for."""
        if purposes and not purposes.intersection(self.purposes):
            return False
        return not channels or self.channel in channels

    @classmethod
    def of_task(cls, task: Mapping[str, Any], priority: int) -> QueueEntry:
        """The queue's entry of a stored task."""
        return cls(
            task_id=task["_id"],
            due_at=task["due_at"],
            priority=priority,
            attempt=task["attempt"],
            purposes=tuple(task["purposes"]),
            channel=task["channel"],
        )

    def to_line(self) -> str:
        """One packed line: due time, priority, attempt, task, purposes, channel (tab-separated;
        none of them holds a tab or a line break: ids are uuids, the rest are enum values)."""
        return "\t".join(
            (
                self.due_at.astimezone(UTC).isoformat(),
                str(self.priority),
                str(self.attempt),
                self.task_id,
                ",".join(self.purposes),
                self.channel,
            )
        )

    @classmethod
    def from_line(cls, line: str) -> QueueEntry:
        due, priority, attempt, task_id, purposes, channel = line.split("\t")
        return cls(
            task_id=task_id,
            due_at=datetime.fromisoformat(due),
            priority=int(priority),
            attempt=int(attempt),
            purposes=tuple(purposes.split(",")) if purposes else (),
            channel=channel,
        )

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> QueueEntry:
        """An entry stored as a sub-document (buckets written before packing)."""
        due = doc["d"]
        return cls(
            task_id=doc["t"],
            due_at=due if due.tzinfo else due.replace(tzinfo=UTC),
            priority=int(doc["p"]),
            attempt=int(doc["a"]),
            purposes=tuple(doc["u"]),
            channel=doc["c"],
        )


def ordered(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    return sorted(entries, key=QueueEntry.order)


def pack(entries: Iterable[QueueEntry]) -> dict[str, str]:
    """A bucket's stored entries (the fields to `$set`)."""
    return pack_lines(entry.to_line() for entry in entries)


def pack_lines(lines: Iterable[str]) -> dict[str, str]:
    return {PACKED: "\n".join(lines)}


def packed_text(bucket: Mapping[str, Any] | None) -> str:
    """A bucket's entries as its packed text (one stored before packing, as sub-documents:
    the text it would have)."""
    if not bucket:
        return ""
    if PACKED in bucket:
        text: str = bucket[PACKED]
        return text
    return "\n".join(QueueEntry.from_doc(e).to_line() for e in bucket.get("entries", []))


def split_lines(text: str) -> list[str]:
    return text.split("\n") if text else []


class ParsedHours:
    """Hours' entries in queue order, kept by the text they were parsed from. Every claim needs
    its hour's buckets, and a busy dealer's hour holds hundreds of tasks: an hour is ordered
    again only when its text changed, and a line (a task queued or finished changes one) is
    parsed once. When tasks only left, the kept order is filtered, not sorted again. Bounded:
    past `limit` lines or hours kept, all go (20,000 lines parsed and ordered took about 12 MB,
    50,000 about 31 MB: tracemalloc)."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._hours: dict[Hashable, tuple[tuple[str, ...], tuple[QueueEntry, ...]]] = {}
        self._lines: dict[str, QueueEntry] = {}

    def ordered(self, hour: Hashable, texts: tuple[str, ...]) -> tuple[QueueEntry, ...]:
        kept = self._hours.get(hour)
        if kept is not None:
            if kept[0] == texts:
                return kept[1]
            left = _only_left(kept[0], texts)
            if left is not None:  # tasks only left: the order stands without them
                order = _without(kept[1], left)
                self._hours[hour] = texts, order
                return order
        if len(self._lines) > self.limit or len(self._hours) > self.limit:
            self._lines.clear()
            self._hours.clear()
        entries = []
        for text in texts:
            for line in split_lines(text):
                entry = self._lines.get(line)
                if entry is None:
                    entry = self._lines[line] = QueueEntry.from_line(line)
                entries.append(entry)
        order = tuple(ordered(entries))
        self._hours[hour] = texts, order
        return order


def _without(order: tuple[QueueEntry, ...], left: set[str]) -> tuple[QueueEntry, ...]:
    """The order without the `left` tasks. They are found by a scan that stops at the last of
    them, and the rest is copied in slices: claims take the queue in order, so the tasks that
    finish are near its front, and a busy hour's thousands of entries are not each looked at.
    A task is queued once (`OpenQueue.add` passes over those already there), so each is cut
    once."""
    if not left:
        return order
    missing, cuts = set(left), []
    for index, entry in enumerate(order):
        if entry.task_id in missing:
            cuts.append(index)
            missing.discard(entry.task_id)
            if not missing:
                break
    pieces, start = [], 0
    for index in cuts:
        pieces.append(order[start:index])
        start = index + 1
    pieces.append(order[start:])
    return tuple(chain.from_iterable(pieces))


def _only_left(before: tuple[str, ...], after: tuple[str, ...]) -> set[str] | None:
    """The tasks that left the buckets when that is all that changed (a task finished: the
    common change), else None. Looks only at the buckets whose text changed."""
    if len(before) != len(after):
        return None
    old_lines: set[str] = set()
    new_lines: set[str] = set()
    for was, now in zip(before, after, strict=True):
        if was is not now and was != now:
            old_lines.update(split_lines(was))
            new_lines.update(split_lines(now))
    if not new_lines <= old_lines:
        return None
    return {task_of(line) for line in old_lines - new_lines}


def task_of(line: str) -> str:
    """The task of a packed line, without reading the rest of it (`QueueEntry.to_line`)."""
    return line.split("\t", 4)[3]


def without_tasks(text: str, gone: Collection[str]) -> tuple[list[str] | None, int]:
    """A bucket's lines (its `packed_text`) but those of the `gone` tasks (the others as
    stored), or None when it held none of them; and how many lines it keeps. Finishing a task
    splits only the bucket that holds it: the others are passed over by a search of their
    text for the task's id (a uuid, found in no other field of a line)."""
    if not any(task_id in text for task_id in gone):
        return None, text.count("\n") + 1 if text else 0
    lines = split_lines(text)
    kept = [line for line in lines if task_of(line) not in gone]
    return (kept if len(kept) != len(lines) else None), len(kept)


@dataclass(frozen=True)
class Expiring:
    """A task filed under the hour it expires (the expiry sweep's index)."""

    task_id: str
    due_at: datetime
    expires_at: datetime


def pack_expiring(items: Iterable[Expiring]) -> dict[str, str]:
    return {
        PACKED: "\n".join(
            f"{i.task_id}\t{i.due_at.astimezone(UTC).isoformat()}\t"
            f"{i.expires_at.astimezone(UTC).isoformat()}"
            for i in items
        )
    }


def unpack_expiring(doc: Mapping[str, Any] | None) -> list[Expiring]:
    """An expiry hour's tasks, packed or (filed before packing) as `{t, d, x}` sub-documents."""
    if not doc:
        return []
    if PACKED in doc:
        found = []
        for line in doc[PACKED].split("\n") if doc[PACKED] else []:
            task_id, due, expires = line.split("\t")
            found.append(Expiring(task_id, datetime.fromisoformat(due), _aware(expires)))
        return found
    return [Expiring(e["t"], _aware(e["d"]), _aware(e["x"])) for e in doc.get("entries", [])]


def _aware(value: datetime | str) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)
