"""The complaints service's batch of contact results on the real Kafka and FerretDB (issue 19):
the tickets of a batch open together, a batch cut short in the middle of its writes and delivered
again to a restarted service ends in exactly the state and events of a clean run, and a poison
record inside a batch is parked while its neighbours open their tickets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aftersales_complaints.app import ComplaintsService, build
from aftersales_complaints.contact_results import contact_results_recorded
from aftersales_complaints.opening import ticket_id_for
from aftersales_complaints.settings import ComplaintsSettings
from aftersales_contracts import ComplaintEvent, ContactResult, Event, topics
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.testing_topics import (
    publish_records,
    read_topic,
    wait_committed,
    with_poison,
)
from aiokafka.errors import KafkaConnectionError
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from .conftest import scores

pytestmark = pytest.mark.stack

DEALER = "dealer-sz-001"
#: What a batch of openings writes (the service's other collections it does not touch).
STATE = ("tickets", "transitions", "links", "deadlines", "published", "pending_publications")


def inputs(result: Any) -> list[ContactResult]:
    """One dealer's results meeting inside a batch: a vehicle unhappy twice (D18: the second
    ticket one grade up and linked to the first), a satisfied answer, a stated complaint, and the
    first result delivered twice."""
    first = result(1, scores=scores(overall=7))
    return [
        first,
        result(2),  # satisfied: no ticket
        result(3, scores=scores(overall=7), vin=first.vin),
        result(4, complaint_stated=True, comment="the car pulls to the left"),
        first,
    ]


@pytest.fixture
async def client(stack: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    yield mongo
    await mongo.close()


def kafka(settings: ComplaintsSettings) -> dict[str, Any]:
    return kafka_client_options(settings)


async def publish(settings: ComplaintsSettings, records: Sequence[bytes]) -> None:
    source = settings.topic(topics.CONTACT_RESULT)
    await publish_records(kafka(settings), source, records, DEALER.encode())


async def wait_handled(settings: ComplaintsSettings, count: int) -> None:
    group, source = settings.consumer_group("complaints"), settings.topic(topics.CONTACT_RESULT)
    await wait_committed(kafka(settings), group, source, count)


async def dump(client: AsyncMongoClient[dict[str, Any]], database: str) -> dict[str, list[Any]]:
    db = client[database]
    return {c: await db[c].find({}).sort("_id").to_list(None) for c in STATE}


async def clean_run(
    client: AsyncMongoClient[dict[str, Any]],
    settings: ComplaintsSettings,
    clock: Any,
    results: list[ContactResult],
    database: str,
) -> tuple[dict[str, list[Any]], list[Any]]:
    """The reference: the same results handled one at a time on a database of their own."""
    reference = build(settings.model_copy(update={"mongodb_database": database}), clock)
    published: list[Any] = []

    async def capture(events: Sequence[Event]) -> None:
        published.extend(events)

    reference.desk.outbox.publish_all = capture
    try:
        for one in results:
            await contact_results_recorded([one], reference.desk, reference.channels.grading_for)
        return await dump(client, database), published
    finally:
        await client.drop_database(database)
        await reference.runtime.mongo.close()


async def events_out(settings: ComplaintsSettings, expected: int) -> list[ComplaintEvent]:
    records = await read_topic(kafka(settings), settings.topic(topics.COMPLAINT_EVENT), expected)
    return [ComplaintEvent.model_validate_json(r.value) for r in records]


def by_id(event: Event) -> str:
    return event.event_id


def _die_at(service: ComplaintsService, crash: str, monkeypatch: Any) -> asyncio.Event:
    """Make the service fail, from now on, where `crash` says; the event is set at the first."""
    crashed = asyncio.Event()

    async def kafka_gone(*_: Any) -> None:
        crashed.set()
        raise KafkaConnectionError("Kafka went away before the publish")

    async def database_gone(*_: Any) -> None:
        crashed.set()
        raise AutoReconnect("the database went away between the transitions and the tickets")

    if crash == "stored, not published":
        service.desk.outbox.flush = kafka_gone  # type: ignore[method-assign,assignment]
    else:
        # The transitions inserted, then every bulk replace (tickets, links) fails. An outage:
        # the batch is tried again in the process, whose read rolls the tickets forward (one
        # `replace_one` each) and publishes them before its links fail again.
        monkeypatch.setattr("aftersales_complaints.store.replace_all", database_gone)
    return crashed


@pytest.mark.parametrize("crash", ["stored, not published", "transitions, not tickets"])
async def test_a_half_applied_batch_redelivered_gives_exactly_a_clean_runs_state_and_events(
    crash, client, isolation, settings, clock, result, monkeypatch
):
    results = inputs(result)
    expected_state, expected_events = await clean_run(
        client, settings, clock, results, f"{isolation.database}_ref"
    )
    opened = [e for e in expected_events if e.kind == "opened"]
    assert [(e.grade, e.rule) for e in opened] == [
        ("D", "overall<=7"),
        ("C", "overall<=7+repeat"),
        ("C", "stated_complaint"),
    ]
    # The vehicle's last ticket is its second one, though its first result came again (D18).
    links = {link["_id"]: link["ticket_id"] for link in expected_state["links"]}
    assert links[f"vehicle/{DEALER}/{results[0].vin}"] == ticket_id_for(results[2].task_id)
    await publish(settings, [r.model_dump_json().encode() for r in results])

    first = build(settings, clock)
    with monkeypatch.context() as dying:
        crashed = _die_at(first, crash, dying)
        await first.runtime.start()
        await asyncio.wait_for(crashed.wait(), 60)
        await first.runtime.stop()  # the process dies with the batch uncommitted
    half_applied = await dump(client, isolation.database)
    assert len(half_applied["transitions"]) == 3  # all three were committed
    assert half_applied != expected_state  # and the batch really was cut short

    second = build(settings, clock)  # the restart: the batch is delivered again
    await second.runtime.start()
    try:
        await wait_handled(settings, len(results))
    finally:
        await second.runtime.stop()

    assert await dump(client, isolation.database) == expected_state
    # Each event once, as the clean run published it; the restarted service's relay may get a
    # ticket's leftovers out before the redelivery does, so only each ticket's own order holds.
    out = await events_out(settings, len(expected_events))
    assert sorted(out, key=by_id) == sorted(expected_events, key=by_id)


async def test_a_poison_record_inside_a_batch_is_parked_while_its_neighbours_open_tickets(
    client, isolation, settings, clock, result
):
    good = [result(1, scores=scores(overall=5)), result(2, complaint_stated=True)]
    first, last = (e.model_dump_json().encode() for e in good)
    records, poison = with_poison(first, last, DEALER)
    await publish(settings, records)  # all there before the consumer starts: one batch
    service = build(settings, clock)
    batches: list[list[str]] = []
    store_and_publish_all = service.desk.store_and_publish_all

    async def recording(transitions: Any) -> list[bool]:
        batches.append([t.ticket.ticket_id for t in transitions])
        return await store_and_publish_all(transitions)

    service.desk.store_and_publish_all = recording  # type: ignore[method-assign]
    await service.runtime.start()
    try:
        await wait_handled(settings, len(records))
    finally:
        await service.runtime.stop()

    parked = await read_topic(kafka(settings), settings.topic(topics.DEAD_LETTER), 2)
    assert sorted(r.value for r in parked) == sorted(poison)
    assert batches == [[ticket_id_for(r.task_id) for r in good]]  # together, once
    tickets = await client[isolation.database]["tickets"].find({}).to_list(None)
    assert sorted(t["_id"] for t in tickets) == sorted(ticket_id_for(r.task_id) for r in good)
    assert [e.kind for e in await events_out(settings, 2)] == ["opened", "opened"]
