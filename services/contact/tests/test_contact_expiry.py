"""Follow-ups not made in time leave the queue and are published as expired (issue 10)."""

from datetime import timedelta

import pytest
from aftersales_contact.domain.tasks import task_id_for
from aftersales_contact.expiry_sweep import expire_overdue, expire_task
from aftersales_contact.results import is_published
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack

DEALER = "dealer-sz-001"
DAY3_KEEPS = timedelta(days=13)  # due on day 2 after settlement, kept until day 15 (default)


async def sweep(service):
    return await expire_overdue(
        service.desk, service.runtime.publish, [DEALER], service.runtime.logger
    )


async def claim(client, agent):
    return await client.post(f"/v1/dealers/{DEALER}/tasks/claim", json={"agent_id": agent})


async def test_a_day3_call_not_made_by_its_deadline_expires_once(
    client, service, settings, clock, due, spied, mongo_db
):
    event = due(1)
    await publish_event(service.runtime.broker, settings, event)
    deadline = event.due_at + DAY3_KEEPS

    clock.set(deadline - timedelta(minutes=1))
    before = await sweep(service)
    clock.set(deadline + timedelta(minutes=1))
    expired = await sweep(service)
    again = await sweep(service)

    assert (before, expired, again) == (0, 1, 0)
    [gone] = spied.expired
    print("expired:", gone.model_dump_json(include={"task_id", "purposes", "due_at", "expires_at"}))
    assert gone.task_id == task_id_for(event.contact_id, 1)
    assert gone.expires_at == deadline
    assert gone.due_at == event.due_at
    assert gone.purposes == event.purposes
    assert spied.results == []  # not a contact made
    assert (await claim(client, "agent-1")).status_code == 204
    assert [e async for e in service.desk.queue.entries(DEALER)] == []
    # Once its hour has passed, a swept hour's index document goes: sweeps stay small.
    clock.advance(timedelta(hours=1))
    assert await sweep(service) == 0
    assert await mongo_db["queue"].count_documents({"_id": {"$regex": "^expiry/"}}) == 0


async def test_an_expiry_whose_sweep_died_before_marking_the_task_done_is_published_by_the_next(
    client, service, settings, clock, due, spied, monkeypatch
):
    """The sweep stored the expiry and died before marking the task done (so before publishing):
    the next sweep finds the task open, its own expiry collides with the stored one, and it
    publishes the stored one (the same event id), once."""
    event = due(1)
    await publish_event(service.runtime.broker, settings, event)
    task_id = task_id_for(event.contact_id, 1)
    clock.set(event.due_at + DAY3_KEEPS + timedelta(minutes=1))

    async def died(_task_id):
        raise ConnectionError("the process died here")

    with monkeypatch.context() as patched:
        patched.setattr(service.desk.store, "mark_done", died)
        with pytest.raises(ConnectionError):
            await sweep(service)
    stored = await service.desk.store.result(task_id)
    assert stored["expired"]
    assert not (await service.desk.store.task(task_id)).get("done")
    assert spied.expired == []
    clock.advance(timedelta(minutes=5))  # a later sweep, with a later moment of its own

    expired, again = await sweep(service), await sweep(service)

    assert (expired, again) == (1, 0)
    assert [e.event_id for e in spied.expired] == [stored["event"]["event_id"]]
    assert await is_published(service.desk, task_id)
    assert [e async for e in service.desk.queue.entries(DEALER)] == []


async def test_a_sweep_that_read_the_task_before_another_expired_it_publishes_nothing(
    service, settings, clock, due, spied
):
    """Two sweeps (replicas) read the task open; one expires it and publishes. The other's
    expiry collides with the stored one, whose pending entry is gone (it is out): it publishes
    nothing and leaves no entry for the relay."""
    event = due(1)
    await publish_event(service.runtime.broker, settings, event)
    task_id = task_id_for(event.contact_id, 1)
    clock.set(event.due_at + DAY3_KEEPS + timedelta(minutes=1))
    read_before = await service.desk.store.task(task_id)
    assert await sweep(service) == 1

    late = await expire_task(service.desk, service.runtime.publish, read_before, clock.now())

    assert late is False
    assert [e.task_id for e in spied.expired] == [task_id]
    assert await service.desk.pending.entries.count_documents({}) == 0


async def test_an_expiry_whose_sweep_died_before_publishing_is_published_by_the_relay(
    client, service, settings, clock, due, spied
):
    """The sweep stored the expiry and marked the task done, then the bus failed: later sweeps
    pass over a done task, so the expiry's pending entry is what gets it out, once."""
    from aftersales_contact.results import republish_result
    from aiokafka.errors import KafkaConnectionError

    event = due(1)
    await publish_event(service.runtime.broker, settings, event)
    task_id = task_id_for(event.contact_id, 1)
    clock.set(event.due_at + DAY3_KEEPS + timedelta(minutes=1))

    async def bus_down(_event):
        raise KafkaConnectionError()

    with pytest.raises(KafkaConnectionError):
        await expire_overdue(service.desk, bus_down, [DEALER], service.runtime.logger)
    assert (await service.desk.store.task(task_id))["done"]
    assert await sweep(service) == 0  # a done task is not the sweep's any more
    assert spied.expired == []
    assert [e["_id"] async for e in service.desk.pending.entries.find({})] == [task_id]

    def relay(key: str):
        return republish_result(service.desk, service.runtime.publish, key)

    clock.advance(timedelta(seconds=30))  # past the relay's grace
    relayed = await service.desk.pending.relay_once(relay)
    again = await service.desk.pending.relay_once(relay)

    assert (relayed, again) == (1, 0)
    assert [e.task_id for e in spied.expired] == [task_id]
    assert spied.results == []
    assert await service.desk.pending.entries.count_documents({}) == 0
    assert [e async for e in service.desk.queue.entries(DEALER)] == []


async def test_a_call_under_way_at_the_deadline_is_not_expired_and_its_result_counts(
    client, service, settings, clock, due, spied
):
    event = due(1)
    await publish_event(service.runtime.broker, settings, event)
    clock.set(event.due_at + DAY3_KEEPS - timedelta(minutes=5))
    task_id = (await claim(client, "agent-1")).json()["task_id"]

    clock.advance(timedelta(minutes=10))
    swept = await sweep(service)
    answer = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "busy"}
    )
    clock.advance(timedelta(hours=2))
    later = await sweep(service)

    assert (swept, later) == (0, 0)
    assert answer.status_code == 200
    assert spied.expired == []
    assert [r.task_id for r in spied.results] == [task_id]


async def test_an_expired_task_refuses_a_late_result(client, service, settings, clock, due, spied):
    event = due(1)
    await publish_event(service.runtime.broker, settings, event)
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    await client.request("DELETE", f"/v1/tasks/{task_id}/lease", json={"agent_id": "agent-1"})
    clock.set(event.due_at + DAY3_KEEPS + timedelta(hours=1))
    await sweep(service)

    late = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "busy"}
    )

    assert late.status_code == 409
    assert "expired" in late.json()["detail"]
    assert len(spied.expired) == 1


async def test_a_retry_keeps_the_first_deadline_and_one_due_after_it_expires_at_once(
    client, service, settings, clock, due, spied
):
    first = due(1)
    deadline = first.due_at + DAY3_KEEPS
    await publish_event(service.runtime.broker, settings, first)
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "no_answer"}
    )
    retry = due(1, attempt=2, due_at=deadline - timedelta(days=1))
    late_retry = due(1, attempt=3, due_at=deadline + timedelta(hours=1))

    await publish_event(service.runtime.broker, settings, retry)
    clock.set(deadline + timedelta(hours=2))
    await publish_event(service.runtime.broker, settings, late_retry)
    swept = await sweep(service)

    assert sorted((e.attempt, e.expires_at) for e in spied.expired) == [
        (2, deadline),
        (3, deadline),  # expired on arrival: never queued
    ]
    assert swept == 1
    assert (await claim(client, "agent-2")).status_code == 204
