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


def stored_before_packing(entries):
    """A bucket as stored before packing: its entries as sub-documents."""
    return {
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


def test_a_packed_bucket_gives_back_its_entries_and_an_old_bucket_is_still_read() -> None:
    from aftersales_contact.domain.queue import PACKED, QueueEntry, pack, packed_text, split_lines

    def unpack(bucket):
        return [QueueEntry.from_line(line) for line in split_lines(packed_text(bucket))]

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
    old = stored_before_packing(entries)
    assert unpack(old) == entries


def test_finishing_tasks_keeps_the_bucket_s_other_lines_as_stored() -> None:
    from aftersales_contact.domain.queue import (
        QueueEntry,
        pack,
        packed_text,
        split_lines,
        task_of,
        without_tasks,
    )

    due = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    entries = [
        QueueEntry(task_id_for(f"c-{n}", 1), due, 10, 1, ("service_call_day3",), "phone")
        for n in range(3)
    ]
    text = packed_text({"_id": "open/d/2026112301/0", **pack(entries)})
    assert [task_of(line) for line in split_lines(text)] == [e.task_id for e in entries]

    kept = [entries[0].to_line(), entries[2].to_line()]
    assert without_tasks(text, {entries[1].task_id, "not-queued"}) == (kept, 2)
    # A bucket holding none of them is not rewritten; its lines are counted.
    assert without_tasks(text, {"not-queued"}) == (None, 3)
    assert without_tasks(packed_text(None), {entries[0].task_id}) == (None, 0)
    # An id found in the text but not as a line's task (here inside another id) removes nothing.
    assert without_tasks(text, {entries[1].task_id[:-1]}) == (None, 3)

    old = packed_text(stored_before_packing(entries))  # read as the lines it would have
    assert without_tasks(old, {entries[0].task_id}) == ([e.to_line() for e in entries[1:]], 2)


def test_an_hour_is_ordered_again_only_when_its_text_changes_and_a_line_is_parsed_once() -> None:
    from aftersales_contact.domain.queue import PACKED, ParsedHours, QueueEntry, pack

    due = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    care, call, retry = (
        QueueEntry(task_id_for("c-1", 1), due, 50, 1, ("birthday_care",), "phone"),
        QueueEntry(task_id_for("c-2", 1), due - timedelta(minutes=5), 10, 1, ("x",), "phone"),
        QueueEntry(task_id_for("c-3", 2), due, 10, 2, ("service_call_day3",), "phone"),
    )
    hours = ParsedHours()
    first_bucket, second_bucket = pack([care, call])[PACKED], pack([retry])[PACKED]
    first = hours.ordered("h", (first_bucket, second_bucket))
    assert first == (call, retry, care)
    assert hours.ordered("h", (first_bucket, second_bucket)) is first

    # The call finished: its line left the first bucket; the others are not parsed again.
    second = hours.ordered("h", (pack([care])[PACKED], second_bucket))
    assert second == (retry, care)
    assert second[0] is first[1]
    assert second[1] is first[2]
    assert hours.ordered("other hour", (first_bucket,)) == (call, care)


def test_an_hour_s_order_after_tasks_left_joined_or_moved_is_the_order_of_its_text() -> None:
    """Filtered when tasks only left, sorted again otherwise: always the text's own order."""
    from aftersales_contact.domain.queue import PACKED, ParsedHours, QueueEntry, ordered, pack

    due = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    entries = [
        QueueEntry(
            task_id_for(f"c-{n}", 1), due + timedelta(seconds=n % 7), 10 + n % 3, 1, (), "phone"
        )
        for n in range(40)
    ]
    hours = ParsedHours()

    def check(*buckets: list[QueueEntry]) -> None:
        texts = tuple(pack(bucket)[PACKED] for bucket in buckets)
        expected = tuple(ordered(e for bucket in buckets for e in bucket))
        assert hours.ordered("h", texts) == expected

    check(entries[:20], entries[20:])
    check(entries[:20], entries[20:35])  # five left the second bucket
    check(entries[1:19], entries[20:35])  # two left the first
    check(entries[1:19], [*entries[20:35], entries[0]])  # one left, one joined elsewhere
    check(entries[1:19], [*entries[20:36], entries[0]])  # one joined
    check(entries[1:19], entries[20:36], [entries[0]])  # a bucket more
    check(entries[1:19], entries[20:36])  # a bucket less
    check([], entries[20:36])  # a bucket emptied


def test_an_hour_s_order_without_any_tasks_that_left_is_its_text_s_order() -> None:
    """Tasks leaving from anywhere in the order (not only its front), one or many at a time."""
    import random

    from aftersales_contact.domain.queue import PACKED, ParsedHours, QueueEntry, ordered, pack

    due = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    rng = random.Random(5)
    queued = [
        QueueEntry(
            task_id_for(f"c-{n}", 1),
            due + timedelta(seconds=rng.randrange(600)),
            10,
            1,
            (),
            "phone",
        )
        for n in range(300)
    ]
    hours = ParsedHours()
    hours.ordered("h", (pack(queued)[PACKED],))
    while queued:
        for gone in rng.sample(queued, min(len(queued), rng.choice([1, 2, 7, 40]))):
            queued.remove(gone)
        assert hours.ordered("h", (pack(queued)[PACKED],)) == tuple(ordered(queued))
