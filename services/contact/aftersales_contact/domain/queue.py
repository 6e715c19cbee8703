"""The open queue's rules: what an entry is, its order, its time bucket, and who may take it.

Pure: no broker, no database. The queue holds open work only (never a finished task), in time
buckets addressed by `_id` (ARCHITECTURE: Storage), so its cost follows the open work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aftersales_contracts import ContactPurpose

#: Entries per bucket document: small enough to read on every claim, large enough that a busy
#: dealer's hour fits in one or two documents.
BUCKET_SIZE = 200

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

    def to_doc(self) -> dict[str, Any]:
        return {
            "t": self.task_id,
            "d": self.due_at,
            "p": self.priority,
            "a": self.attempt,
            "u": list(self.purposes),
            "c": self.channel,
        }

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

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> QueueEntry:
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
