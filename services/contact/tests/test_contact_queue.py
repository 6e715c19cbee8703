"""The open queue and its leases: order, filters, heartbeat, release, expiry across processes,
and finished tasks leaving the queue (so claims never read them)."""

import asyncio
from datetime import timedelta

import pytest
from aftersales_contact.domain.tasks import task_id_for
from aftersales_contracts import Channel, ContactPurpose
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack


async def queue(service, settings, *events):
    for event in events:
        await publish_event(service.runtime.broker, settings, event)


async def claim(client, agent, dealer="dealer-sz-001"):
    return await client.post(f"/v1/dealers/{dealer}/tasks/claim", json={"agent_id": agent})


async def test_the_queue_orders_by_due_time_then_purpose_priority_then_attempt(
    client, service, settings, clock, due, published
):
    at = clock.now() - timedelta(hours=1)
    care = due(1, due_at=at, purposes=[ContactPurpose.BIRTHDAY_CARE])
    day3_retry = due(2, due_at=at, attempt=2)
    day3 = due(3, due_at=at)
    merged = due(
        4, due_at=at, purposes=[ContactPurpose.BIRTHDAY_CARE, ContactPurpose.SERVICE_CALL_DAY30]
    )
    earlier_care = due(5, due_at=at - timedelta(minutes=1), purposes=[ContactPurpose.BIRTHDAY_CARE])
    future = due(6, due_at=clock.now() + timedelta(minutes=5))
    await queue(service, settings, care, day3_retry, day3, merged, earlier_care, future)

    order = [(await claim(client, f"agent-{i}")) for i in range(6)]

    expected = [
        task_id_for(earlier_care.contact_id, 1),  # due first
        task_id_for(day3.contact_id, 1),  # same time: day-3 call (priority 10), attempt 1
        task_id_for(day3_retry.contact_id, 2),  # same priority, attempt 2 after attempt 1
        task_id_for(merged.contact_id, 1),  # ranks as its most urgent purpose (day 30: 20)
        task_id_for(care.contact_id, 1),  # care last
    ]
    assert [a.json()["task_id"] for a in order[:5]] == expected
    assert order[5].status_code == 204  # not due yet


async def test_an_agent_can_filter_the_claim_by_purpose_and_channel(
    client, service, settings, due, published
):
    call = due(1)
    sms = due(2, channel=Channel.SMS, purposes=[ContactPurpose.SMS_SURVEY_DAY7])
    care = due(3, purposes=[ContactPurpose.BIRTHDAY_CARE])
    await queue(service, settings, call, sms, care)

    by_channel = await client.post(
        "/v1/dealers/dealer-sz-001/tasks/claim", json={"agent_id": "a1", "channels": ["sms"]}
    )
    by_purpose = await client.post(
        "/v1/dealers/dealer-sz-001/tasks/claim",
        json={"agent_id": "a2", "purposes": ["birthday_care", "insurance_expiry_care"]},
    )
    none_left = await client.post(
        "/v1/dealers/dealer-sz-001/tasks/claim", json={"agent_id": "a3", "channels": ["sms"]}
    )

    assert by_channel.json()["task_id"] == task_id_for(sms.contact_id, 1)
    assert by_purpose.json()["task_id"] == task_id_for(care.contact_id, 1)
    assert none_left.status_code == 204


async def test_a_heartbeat_keeps_the_task_with_its_agent(
    client, service, settings, clock, due, published
):
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    lease = timedelta(seconds=settings.lease_seconds)

    clock.advance(lease - timedelta(seconds=1))
    beat = await client.post(f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-1"})
    clock.advance(lease - timedelta(seconds=1))

    assert beat.status_code == 200
    assert beat.json()["agent_id"] == "agent-1"
    assert (await claim(client, "agent-2")).status_code == 204  # still held: extended
    not_mine = await client.post(f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-2"})
    assert not_mine.status_code == 409
    done = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "busy"}
    )
    assert done.status_code == 200
    finished = await client.post(f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-1"})
    assert finished.status_code == 409
    assert "finished" in finished.json()["detail"]


async def test_a_released_task_is_open_again_at_once_and_the_old_holder_cannot_answer(
    client, service, settings, due, published
):
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]

    refused = await client.request(
        "DELETE", f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-2"}
    )
    released = await client.request(
        "DELETE", f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-1"}
    )
    taken = await claim(client, "agent-2")
    late = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "busy"}
    )
    again = await client.request(
        "DELETE", f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-1"}
    )

    assert refused.status_code == 409
    assert released.status_code == 204
    assert taken.json()["task_id"] == task_id
    assert late.status_code == 409
    assert again.status_code == 409
    missing = await client.post("/v1/tasks/no-such-task/lease", json={"agent_id": "agent-1"})
    assert missing.status_code == 404


async def test_an_expired_lease_returns_the_task_exactly_once_across_two_processes(
    client, service, settings, clock, due, published, second_instance
):
    """Two service instances share the database but not their memory: only the atomic lease
    insert keeps a task with one agent."""
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-0")).json()["task_id"]
    clock.advance(timedelta(seconds=settings.lease_seconds + 1))
    async with second_instance() as second:
        answers = await asyncio.gather(
            *(claim(client if i % 2 else second, f"agent-{i}") for i in range(1, 11))
        )

    winners = [a for a in answers if a.status_code == 200]
    assert [w.json()["task_id"] for w in winners] == [task_id]
    assert sorted(a.status_code for a in answers).count(204) == 9
    assert await service.store.leases.count_documents({"task_id": task_id}) == 2


async def test_a_finished_task_leaves_the_queue_and_an_empty_hour_leaves_the_head(
    client, service, settings, due, published, mongo_db
):
    await queue(service, settings, due(1), due(2))
    for agent in ("agent-1", "agent-2"):
        task_id = (await claim(client, agent)).json()["task_id"]
        answer = await client.post(
            f"/v1/tasks/{task_id}/result", json={"agent_id": agent, "outcome": "no_answer"}
        )
        assert answer.status_code == 200

    entries = [e async for e in service.desk.queue.entries("dealer-sz-001")]
    assert entries == []
    assert (await service.desk.queue.head("dealer-sz-001")).hours == {}
    assert await mongo_db["queue"].count_documents({"_id": {"$regex": "^open/"}}) == 0


async def test_an_hours_order_is_parsed_once_per_content_and_again_when_a_task_joins_or_leaves(
    client, service, settings, clock, due, published
):
    """Every claim reads its hour's buckets; their parsed order is kept while the buckets' text
    is the same, and made again from the new text when a task is queued or finished."""
    dealer, at = "dealer-sz-001", clock.now() - timedelta(minutes=30)
    care = due(1, due_at=at, purposes=[ContactPurpose.BIRTHDAY_CARE])
    day3 = due(2, due_at=at)
    await queue(service, settings, care, day3)
    open_queue = service.desk.queue
    [hour] = (await open_queue.head(dealer)).hours
    first = await open_queue.hour_entries(dealer, hour, await open_queue.head(dealer))
    assert [e.task_id for e in first] == [
        task_id_for(day3.contact_id, 1),
        task_id_for(care.contact_id, 1),
    ]
    assert await open_queue.hour_entries(dealer, hour, await open_queue.head(dealer)) is first

    earlier = due(3, due_at=at - timedelta(minutes=1))
    await queue(service, settings, earlier)
    taken = (await claim(client, "agent-1")).json()["task_id"]
    assert taken == task_id_for(earlier.contact_id, 1)
    answer = await client.post(
        f"/v1/tasks/{taken}/result", json={"agent_id": "agent-1", "outcome": "no_answer"}
    )
    assert answer.status_code == 200

    now_open = await open_queue.hour_entries(dealer, hour, await open_queue.head(dealer))
    assert [e.task_id for e in now_open] == [e.task_id for e in first]  # the earlier one left
    assert (await claim(client, "agent-2")).json()["task_id"] == task_id_for(day3.contact_id, 1)


class CountedQueue:
    """An OpenQueue of its own (as another process has) that notes the buckets it reads."""

    def __new__(cls, db):
        from aftersales_contact.open_queue import OpenQueue

        class Counted(OpenQueue):
            async def _read(self, doc_ids):
                self.read.extend(i for i in doc_ids if i.startswith("open/"))
                return await super()._read(doc_ids)

        queue = Counted(db)
        queue.read = []
        return queue


def _entries(n, at, first=0):
    from aftersales_contact.domain.queue import QueueEntry

    return [
        QueueEntry(task_id_for(f"c-{i}", 1), at, 10, 1, ("service_call_day3",), "phone")
        for i in range(first, first + n)
    ]


async def _open(queue, dealer):
    return [e.task_id async for e in queue.entries(dealer)]


async def test_a_reader_reads_again_only_the_bucket_that_changed_and_never_a_stale_one(
    mongo_db, clock
):
    """Stamps in the head: another process's claims read the head and the one bucket a
    finished task left, not the whole hour, and always see the queue as it is."""
    from aftersales_contact.domain.queue import BUCKET_SIZE
    from aftersales_contact.open_queue import bucket_id

    dealer, at = "dealer-sz-001", clock.now()
    writer, reader = CountedQueue(mongo_db), CountedQueue(mongo_db)
    tasks = _entries(BUCKET_SIZE * 2 + 10, at)  # three buckets in one hour
    await writer.add(dealer, tasks)
    [hour] = (await writer.head(dealer)).hours
    assert await _open(reader, dealer) == sorted(e.task_id for e in tasks)
    assert sorted(reader.read) == [bucket_id(dealer, hour, p) for p in range(3)]

    reader.read.clear()
    assert len(await _open(reader, dealer)) == len(tasks)
    assert reader.read == []  # nothing changed: only the head was read

    gone = tasks[BUCKET_SIZE + 5]  # in the second bucket
    await writer.remove(dealer, gone.task_id, gone.due_at)
    assert writer.read == []  # it wrote the buckets: it knows their text
    assert gone.task_id not in await _open(reader, dealer)
    assert reader.read == [bucket_id(dealer, hour, 1)]

    reader.read.clear()
    other = tasks[3]  # in the first bucket
    await reader.remove(dealer, other.task_id, other.due_at)  # the reader writes in its turn
    assert reader.read == []
    assert other.task_id not in await _open(writer, dealer)
    assert writer.read == [bucket_id(dealer, hour, 0)]


async def test_an_hour_emptied_and_filled_again_is_read_afresh(mongo_db, clock):
    dealer, at = "dealer-sz-001", clock.now()
    writer, reader = CountedQueue(mongo_db), CountedQueue(mongo_db)
    first = _entries(3, at)
    await writer.add(dealer, first)
    assert len(await _open(reader, dealer)) == 3
    for entry in first:
        await writer.remove(dealer, entry.task_id, entry.due_at)
    assert (await reader.head(dealer)).hours == {}

    later = _entries(2, at, first=10)
    await writer.add(dealer, later)

    assert await _open(reader, dealer) == sorted(e.task_id for e in later)


async def test_a_head_written_before_stamps_is_read_whole_until_its_hour_is_written(
    mongo_db, clock
):
    from aftersales_contact.open_queue import head_id

    dealer, at = "dealer-sz-001", clock.now()
    writer, reader = CountedQueue(mongo_db), CountedQueue(mongo_db)
    tasks = _entries(3, at)
    await writer.add(dealer, tasks)
    await mongo_db["queue"].update_one({"_id": head_id(dealer)}, {"$unset": {"stamps": ""}})

    await _open(reader, dealer)
    await _open(reader, dealer)
    assert len(reader.read) == 2  # no stamp: read each time

    await writer.remove(dealer, tasks[0].task_id, tasks[0].due_at)
    reader.read.clear()
    assert await _open(reader, dealer) == sorted(e.task_id for e in tasks[1:])
    assert await _open(reader, dealer) == sorted(e.task_id for e in tasks[1:])
    assert len(reader.read) == 1  # stamped by the write: read once, then kept


async def test_a_claim_does_not_join_a_bucket_read_sent_before_its_head(mongo_db, clock):
    """A claim's read of a bucket, sent before another process rewrote it and answered after,
    is not shared with a claim that read the new head since: its old text would be kept under
    the new stamp, offered to every later claim and rewritten by this process's next writer."""
    from aftersales_contact.open_queue import OpenQueue

    dealer, at = "dealer-sz-001", clock.now()
    gate, held = asyncio.Event(), asyncio.Event()

    class Held(OpenQueue):
        """Holds back the answer of its first read of a bucket (read, not yet returned)."""

        async def _read(self, doc_ids):
            docs = await super()._read(doc_ids)
            if any(i.startswith("open/") for i in doc_ids) and not held.is_set():
                held.set()
                await gate.wait()
            return docs

    writer, claims = OpenQueue(mongo_db), Held(mongo_db)
    tasks = _entries(3, at)
    await writer.add(dealer, tasks)
    first = asyncio.create_task(_open(claims, dealer))
    await held.wait()  # its read of the bucket is done and held back
    gone = tasks[1]
    await writer.remove(dealer, gone.task_id, gone.due_at)

    second = asyncio.create_task(_open(claims, dealer))
    await asyncio.wait([second], timeout=5)  # it does not wait for the held read
    gate.set()
    assert await first == sorted(e.task_id for e in tasks)  # as it was when read
    assert gone.task_id not in await second
    assert gone.task_id not in await _open(claims, dealer)  # and nothing old was kept


def _removal_batches(queue, monkeypatch):
    """The batches of task ids the queue's removals take out from now on, in order."""
    batches = []
    remove_all = queue._remove_all

    async def noted(dealer_id, batch):
        batches.append(sorted(batch))
        await remove_all(dealer_id, batch)

    monkeypatch.setattr(queue, "_remove_all", noted)
    return batches


@pytest.mark.parametrize(("linger", "batches"), [(0.0, 2), (0.05, 1)])
async def test_removals_of_one_moment_leave_the_queue_in_one_write_when_the_first_lingers(
    mongo_db, clock, monkeypatch, linger, batches
):
    """The removal that takes the dealer's lock waits `linger` for the others: two tasks
    finished at once leave in one batch (one head read, one write of head and bucket)."""
    from aftersales_contact.open_queue import OpenQueue

    dealer, at = "dealer-sz-001", clock.now()
    queue = OpenQueue(mongo_db)
    tasks = _entries(3, at)
    await queue.add(dealer, tasks)
    taken = _removal_batches(queue, monkeypatch)

    await asyncio.gather(*(queue.remove(dealer, t.task_id, t.due_at, linger) for t in tasks[:2]))

    assert len(taken) == batches
    assert sorted(t for batch in taken for t in batch) == sorted(t.task_id for t in tasks[:2])
    assert await _open(OpenQueue(mongo_db), dealer) == [tasks[2].task_id]


async def _announced_removal(queue, dealer, entry, linger, after=0.0, comes=True):
    """A submit's removal: announced at once, coming `after` seconds later (or never)."""
    with queue.removal_coming(dealer):
        await asyncio.sleep(after)
        if comes:
            await queue.remove(dealer, entry.task_id, entry.due_at, linger)


@pytest.mark.parametrize("second_comes", [True, False])
async def test_a_lingering_removal_goes_once_every_announced_removal_has_come(
    mongo_db, clock, monkeypatch, second_comes
):
    """The removal that takes the lock lingers for the submits announced (`removal_coming`),
    not its whole `linger`: it goes when the second has come, in one batch with it, or when
    the second ends without a removal (a rejected submit)."""
    from aftersales_contact.open_queue import OpenQueue

    dealer, at = "dealer-sz-001", clock.now()
    queue = OpenQueue(mongo_db)
    tasks = _entries(3, at)
    await queue.add(dealer, tasks)
    taken = _removal_batches(queue, monkeypatch)
    linger = 30.0

    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(
        asyncio.gather(
            _announced_removal(queue, dealer, tasks[0], linger),
            _announced_removal(queue, dealer, tasks[1], linger, 0.2, second_comes),
        ),
        linger / 2,  # a removal that lingered its whole time fails here
    )

    assert asyncio.get_running_loop().time() - started >= 0.2  # it did wait for the second
    gone = [t.task_id for t in (tasks[:2] if second_comes else tasks[:1])]
    assert taken == [sorted(gone)]
    assert sorted(await _open(OpenQueue(mongo_db), dealer)) == sorted(
        t.task_id for t in tasks if t.task_id not in gone
    )


async def test_agents_submitting_together_take_their_tasks_out_of_the_queue_in_one_write(
    client, service, settings, due, published, monkeypatch
):
    """A submit's removal waits (up to `CONTACT_QUEUE_REMOVAL_LINGER_MS`) for the others of the
    moment: two agents' answers sent together leave the dealer's queue in one batch, as soon as
    both have come (each submit announces its removal), not after the whole linger."""
    assert service.desk.removal_linger == settings.queue_removal_linger_ms / 1000 > 0
    service.desk.removal_linger = 30.0
    await queue(service, settings, due(1), due(2), due(3))
    agents = ("agent-1", "agent-2")
    taken = [(await claim(client, agent)).json()["task_id"] for agent in agents]
    batches = _removal_batches(service.desk.queue, monkeypatch)
    answers = await asyncio.wait_for(
        asyncio.gather(
            *(
                client.post(
                    f"/v1/tasks/{task}/result", json={"agent_id": agent, "outcome": "no_answer"}
                )
                for agent, task in zip(agents, taken, strict=True)
            )
        ),
        10,  # a submit that lingered its whole 30 s (unannounced removals) fails here
    )

    assert [a.status_code for a in answers] == [200, 200]
    assert batches == [sorted(taken)]
    left = [e.task_id async for e in service.desk.queue.entries("dealer-sz-001")]
    assert len(left) == 1
    assert not set(left) & set(taken)


async def test_a_removal_batch_that_fails_goes_back_for_the_next_removal_to_take_out(
    mongo_db, clock
):
    """The removals that waited for a batch which failed are not lost: they find their tasks
    back in the dealer's pending removals and take them out (the failed one's too)."""
    from aftersales_contact.open_queue import OpenQueue

    class FailsOnce(OpenQueue):
        failed = False

        async def _remove_all(self, dealer_id, batch):
            if not self.failed:
                self.failed = True
                raise TimeoutError("the database did not answer in time")
            await super()._remove_all(dealer_id, batch)

    dealer, at = "dealer-sz-001", clock.now()
    queue = FailsOnce(mongo_db)
    tasks = _entries(3, at)
    await queue.add(dealer, tasks)

    outcomes = await asyncio.gather(
        *(queue.remove(dealer, t.task_id, t.due_at, 0.05) for t in tasks[:2]),
        return_exceptions=True,
    )

    assert isinstance(outcomes[0], TimeoutError)
    assert outcomes[1] is None
    assert await _open(OpenQueue(mongo_db), dealer) == [tasks[2].task_id]
