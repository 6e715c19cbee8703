"""Pure rules of a contact task: ids, leases, state."""

from datetime import UTC, datetime, timedelta

import pytest
from aftersales_contact.domain.tasks import TaskState, lease_id_for, task_id_for, task_state

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_task_ids_are_deterministic_per_contact_and_attempt():
    assert task_id_for("c-1", 1) == task_id_for("c-1", 1)
    assert len({task_id_for("c-1", 1), task_id_for("c-1", 2), task_id_for("c-2", 1)}) == 3
    assert lease_id_for("t", 1) != lease_id_for("t", 2)


@pytest.mark.parametrize(
    ("done", "expires", "state"),
    [
        (False, None, TaskState.OPEN),
        (False, NOW + timedelta(seconds=1), TaskState.CLAIMED),
        (False, NOW, TaskState.OPEN),  # a lease ends at its expiry instant
        (True, NOW + timedelta(minutes=5), TaskState.DONE),
    ],
)
def test_task_state(done, expires, state):
    assert task_state(done, expires, NOW) is state


def test_a_packed_bucket_gives_back_its_entries_and_an_old_bucket_is_still_read() -> None:
    from aftersales_contact.domain.queue import PACKED, QueueEntry, pack, unpack

    due = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    entries = [
        QueueEntry(task_id_for("c-1", 1), due, 10, 1, ("service_call_day3",), "phone"),
        QueueEntry(
            task_id_for("c-2", 2), due, 30, 2, ("maintenance_reminder", "birthday_care"), "sms"
        ),
    ]
    bucket = {"_id": "open/d/2026112301/0", **pack(entries)}
    assert isinstance(bucket[PACKED], str)
    assert unpack(bucket) == entries
    assert unpack({"_id": "x", **pack([])}) == []
    assert unpack(None) == []
    old = {
        "_id": "open/d/2026112301/0",
        "entries": [
            {
                "t": e.task_id,
                "d": e.due_at,
                "p": e.priority,
                "a": e.attempt,
                "u": list(e.purposes),
                "c": e.channel,
            }
            for e in entries
        ],
    }
    assert unpack(old) == entries
