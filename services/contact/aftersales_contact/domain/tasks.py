"""The rules of a contact task: its id, its lease and its state (a valid answer: answers.py).

Pure: no broker, no database. The store and the API apply these rules.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aftersales_contracts import deterministic_id


class TaskState(StrEnum):
    OPEN = "open"  # waiting for an agent (never claimed, or its lease ran out)
    CLAIMED = "claimed"  # an agent holds an unexpired lease
    DONE = "done"  # a result was recorded


def task_id_for(contact_id: str, attempt: int) -> str:
    """One task per (contact, attempt): a redelivered ContactDue finds its task already there."""
    return deterministic_id("task", contact_id, str(attempt))


def lease_id_for(task_id: str, lease_no: int) -> str:
    """Leases are numbered per task; inserting lease n is atomic, so only one agent gets it."""
    return f"lease/{task_id}/{lease_no}"


def result_event_id_for(task_id: str) -> str:
    return deterministic_id("contact.result", task_id)


def task_state(done: bool, lease_expires_at: datetime | None, now: datetime) -> TaskState:
    if done:
        return TaskState.DONE
    if lease_expires_at is not None and lease_expires_at > now:
        return TaskState.CLAIMED
    return TaskState.OPEN
