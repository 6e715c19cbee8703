"""Every outcome of D15 through the API: recorded once, published at once with what the scheduler
needs (attempt, callback time, opt-out scope), and the task leaves the queue."""

from datetime import timedelta

import pytest
from aftersales_contracts import CallOutcome
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack

SCORES = {
    "attitude": 9,
    "service_process": 9,
    "quality": 9,
    "charges": 9,
    "timeliness": 9,
    "environment": 9,
    "overall": 9,
}
YES_NO = {"fixed_first_time": True}


async def _claimed(client, service, settings, event):
    await publish_event(service.runtime.broker, settings, event)
    answer = await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={"agent_id": "a1"})
    return answer.json()["task_id"]


@pytest.mark.parametrize("outcome", list(CallOutcome))
async def test_each_outcome_is_published_once_and_the_task_leaves_the_queue(
    client, service, settings, clock, due, published, outcome
):
    task_id = await _claimed(client, service, settings, due(1, attempt=2))
    body: dict = {"agent_id": "a1", "outcome": outcome.value}
    if outcome is CallOutcome.REACHED:
        body["scores"], body["yes_no"] = SCORES, YES_NO
    if outcome is CallOutcome.CALL_BACK_LATER:
        body["callback_at"] = (clock.now() + timedelta(hours=26)).isoformat()

    answer = await client.post(f"/v1/tasks/{task_id}/result", json=body)

    assert answer.status_code == 200, answer.text
    assert [(e.task_id, e.outcome, e.attempt) for e in published] == [(task_id, outcome, 2)]
    if outcome is CallOutcome.CALL_BACK_LATER:
        assert published[0].callback_at == clock.now() + timedelta(hours=26)
    assert [e async for e in service.desk.queue.entries("dealer-sz-001")] == []


async def test_an_opt_out_names_what_the_customer_refuses_or_means_everything(
    client, service, settings, due, published
):
    scoped = await _claimed(client, service, settings, due(1))
    await client.post(
        f"/v1/tasks/{scoped}/result",
        json={"agent_id": "a1", "outcome": "opted_out", "opted_out_of": ["birthday_care"]},
    )
    everything = await _claimed(client, service, settings, due(2))
    await client.post(
        f"/v1/tasks/{everything}/result", json={"agent_id": "a1", "outcome": "opted_out"}
    )

    assert [(e.task_id, e.opted_out_of) for e in published] == [
        (scoped, ["birthday_care"]),
        (everything, None),  # D4: all contact
    ]


async def test_call_back_later_without_a_future_time_is_refused(
    client, service, settings, clock, due, published
):
    task_id = await _claimed(client, service, settings, due(1))

    missing = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "a1", "outcome": "call_back_later"}
    )
    past = await client.post(
        f"/v1/tasks/{task_id}/result",
        json={
            "agent_id": "a1",
            "outcome": "call_back_later",
            "callback_at": (clock.now() - timedelta(minutes=1)).isoformat(),
        },
    )

    assert (missing.status_code, past.status_code) == (422, 422)
    assert "callback_at is required" in missing.text
    assert "in the future" in past.text
    assert published == []


async def test_a_result_accepted_while_kafka_is_down_is_published_by_the_relay(
    client, service, settings, clock, due, published
):
    """Issue 18: the agent's tool gets a 503 and never retries; the result was stored, and the
    relay publishes it (same event id) once the bus answers again."""
    from aftersales_contact.results import (
        ResultSubmission,
        is_published,
        record_result,
        republish_result,
    )
    from aiokafka.errors import KafkaConnectionError

    task_id = await _claimed(client, service, settings, due(1))

    async def bus_down(event):
        raise KafkaConnectionError()

    submission = ResultSubmission(
        agent_id="a1", outcome=CallOutcome.REACHED, scores=SCORES, yes_no=YES_NO
    )
    with pytest.raises(KafkaConnectionError):
        await record_result(service.desk, bus_down, service.runtime.logger, task_id, submission)
    assert published == []
    stored = await service.desk.store.result(task_id)
    assert stored is not None
    assert not await is_published(service.desk, task_id)

    relayed = []

    async def bus_back(event):
        relayed.append(event)

    def relay(key: str):
        return republish_result(service.desk, bus_back, key)

    assert await service.desk.pending.relay_once(relay) == 0  # the request may be under way
    clock.advance(timedelta(seconds=30))
    assert await service.desk.pending.relay_once(relay) == 1
    assert [(e.task_id, e.event_id) for e in relayed] == [(task_id, stored["event"]["event_id"])]
    assert await service.desk.pending.relay_once(relay) == 0  # published once, not again
    assert [e async for e in service.desk.queue.entries("dealer-sz-001")] == []


async def test_a_submit_that_raced_a_finished_one_leaves_nothing_for_the_relay(
    client, service, settings, clock, due, published
):
    """Two identical submits: the second read the task before the first marked it done, and
    adds its pending entry after the first removed its own. The result is out, so the second
    answers with it, publishes nothing, and leaves no entry for the relay to publish again."""
    from aftersales_contact.results import ResultSubmission, record_result, republish_result

    task_id = await _claimed(client, service, settings, due(1))
    read_before = await service.desk.store.task(task_id)
    sent = []

    async def bus(event):
        sent.append(event)

    submission = ResultSubmission(
        agent_id="a1", outcome=CallOutcome.REACHED, scores=SCORES, yes_no=YES_NO
    )
    logger = service.runtime.logger
    first = await record_result(service.desk, bus, logger, task_id, submission)

    second = await record_result(service.desk, bus, logger, task_id, submission, read_before)

    assert second.event_id == first.event_id
    assert [e.event_id for e in sent] == [first.event_id]
    assert await service.desk.pending.entries.count_documents({}) == 0
    clock.advance(timedelta(seconds=30))  # past the relay's grace
    relayed = await service.desk.pending.relay_once(
        lambda key: republish_result(service.desk, bus, key)
    )
    assert (relayed, len(sent), published) == (0, 1, [])
