"""The agents' API: claim, lease and its expiry, concurrent claims, results and their rules."""

import asyncio
from datetime import timedelta

import pytest
from aftersales_contact.domain.tasks import result_event_id_for, task_id_for
from aftersales_contracts import ContactPurpose
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack

SCORES = {
    "attitude": 9,
    "service_process": 9,
    "quality": 6,
    "charges": 8,
    "timeliness": 10,
    "environment": 9,
    "overall": 7,
}
YES_NO = {"fixed_first_time": True}


async def queue(service, settings, *events):
    for event in events:
        await publish_event(service.runtime.broker, settings, event)


async def claim(client, agent, dealer="dealer-sz-001"):
    return await client.post(f"/v1/dealers/{dealer}/tasks/claim", json={"agent_id": agent})


async def test_claim_gives_the_oldest_due_task_then_the_next_then_204(
    client, service, settings, clock, due, published
):
    later, older = due(5), due(2)  # due(n) is due n hours before NOW - 10h: smaller n, older
    await queue(service, settings, later, older)

    first = await claim(client, "agent-1")
    second = await claim(client, "agent-2")
    third = await claim(client, "agent-3")

    assert first.status_code == 200
    body = first.json()
    assert body["task_id"] == task_id_for(older.contact_id, 1)
    assert body["contact_id"] == older.contact_id
    assert body["customer"] == {
        "customer_id": older.customer.customer_id,
        "name": older.customer.name,
        "phone": older.customer.phone,
    }
    assert body["vehicle"] == {
        "vin": older.vehicle.vin,
        "plate": older.vehicle.plate,
        "brand": older.vehicle.brand,
        "model": older.vehicle.model,
    }
    assert body["purposes"] == ["service_call_day3"]
    assert body["channel"] == "phone"
    assert body["attempt"] == 1
    assert body["work_order_id"] == older.work_order_id
    assert body["service_advisor"] == older.service_advisor.model_dump()
    expected_expiry = clock.now() + timedelta(seconds=settings.lease_seconds)
    assert body["lease_expires_at"].replace("Z", "+00:00") == expected_expiry.isoformat()
    assert second.json()["task_id"] == task_id_for(later.contact_id, 1)
    assert third.status_code == 204
    assert (await claim(client, "agent-1", dealer="dealer-bj-002")).status_code == 204


async def test_an_expired_lease_makes_the_task_claimable_again_and_the_late_agent_loses_it(
    client, service, settings, clock, due, published
):
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    assert (await claim(client, "agent-2")).status_code == 204  # still leased

    clock.advance(timedelta(seconds=settings.lease_seconds))
    again = await claim(client, "agent-2")

    assert again.status_code == 200
    assert again.json()["task_id"] == task_id
    late = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "no_answer"}
    )
    assert late.status_code == 409
    ok = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-2", "outcome": "no_answer"}
    )
    assert ok.status_code == 200
    assert [e.agent_id for e in published] == ["agent-2"]


async def test_the_holder_cannot_answer_after_its_lease_ran_out(
    client, service, settings, clock, due, published
):
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    clock.advance(timedelta(seconds=settings.lease_seconds + 1))

    late = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "busy"}
    )

    assert late.status_code == 409
    assert "lease ran out" in late.json()["detail"]
    assert published == []


@pytest.mark.parametrize(("tasks", "agents"), [(1, 10), (3, 8)])
async def test_concurrent_claims_never_give_one_task_to_two_agents(
    client, service, settings, due, published, tasks, agents
):
    await queue(service, settings, *(due(n) for n in range(1, tasks + 1)))

    answers = await asyncio.gather(*(claim(client, f"agent-{i}") for i in range(agents)))

    claimed = [a.json()["task_id"] for a in answers if a.status_code == 200]
    assert len(claimed) == tasks
    assert len(set(claimed)) == tasks
    assert sorted(a.status_code for a in answers).count(204) == agents - tasks
    leases = await service.store.leases.count_documents({})
    assert leases == tasks


async def test_a_result_is_stored_published_once_and_a_repeat_is_idempotent(
    client, service, settings, clock, due, published
):
    event = due(1)
    await queue(service, settings, event)
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    submission = {
        "agent_id": "agent-1",
        "outcome": "reached",
        "scores": SCORES,
        "yes_no": YES_NO,
        "comment": "等待时间有点长",
        "complaint_stated": False,
    }

    first = await client.post(f"/v1/tasks/{task_id}/result", json=submission)
    repeat = await client.post(f"/v1/tasks/{task_id}/result", json=submission)

    assert first.status_code == 200
    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert len(published) == 1
    result = published[0]
    assert result.event_id == result_event_id_for(task_id) == first.json()["event_id"]
    assert result.task_id == task_id
    assert result.contact_id == event.contact_id
    assert result.causation_id == event.event_id
    assert result.correlation_id == event.correlation_id
    assert result.scores is not None
    assert result.scores.model_dump() == SCORES
    assert result.contacted_at == clock.now()
    assert result.vin == event.vehicle.vin
    assert result.customer_id == event.customer.customer_id
    assert result.service_advisor == event.service_advisor
    assert result.technicians == event.technicians
    different = await client.post(
        f"/v1/tasks/{task_id}/result", json={**submission, "comment": "其实还好"}
    )
    assert different.status_code == 409
    assert len(published) == 1
    assert (await claim(client, "agent-2")).status_code == 204  # done tasks are not handed out


async def answered_but_not_published(client, service, settings, due):
    """A task answered, then its result's pending entry put back: as if the process had died
    between storing the result and publishing it. Returns the task and the submission."""
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    submission = {"agent_id": "agent-1", "outcome": "no_answer"}
    await client.post(f"/v1/tasks/{task_id}/result", json=submission)
    await service.desk.pending.add(task_id)
    return task_id, submission


async def test_a_result_stored_but_not_published_is_published_by_the_repeat(
    client, service, settings, due, published
):
    task_id, submission = await answered_but_not_published(client, service, settings, due)
    published.clear()

    again = await client.post(f"/v1/tasks/{task_id}/result", json=submission)

    assert again.status_code == 200
    assert [e.event_id for e in published] == [result_event_id_for(task_id)]


async def test_a_task_stored_unpacked_before_is_claimed_and_answered(
    client, service, settings, due, published
):
    """Tasks are stored packed (`TASK_TOP_LEVEL` at the top level); those stored before are read
    as they are."""
    event = due(1)
    await queue(service, settings, event)
    task_id = task_id_for(event.contact_id, 1)
    raw = await service.store.tasks.find_one({"_id": task_id})
    assert "packed" in raw
    assert "customer" not in raw
    await service.store.tasks.replace_one({"_id": task_id}, await service.store.task(task_id))

    claimed = await claim(client, "agent-1")
    answered = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "no_answer"}
    )

    assert claimed.json()["customer"]["phone"] == event.customer.phone
    assert answered.status_code == 200
    assert [(e.task_id, e.customer_id) for e in published] == [
        (task_id, event.customer.customer_id)
    ]


async def test_a_result_is_stored_packed_and_one_stored_unpacked_before_answers_its_repeat(
    client, service, settings, due, published
):
    """Results are stored packed but their dealer; those stored before are read as they are."""
    event = due(1)
    await queue(service, settings, event)
    task_id = task_id_for(event.contact_id, 1)
    await claim(client, "agent-1")
    submission = {"agent_id": "agent-1", "outcome": "no_answer"}
    first = await client.post(f"/v1/tasks/{task_id}/result", json=submission)
    raw = await service.store.results.find_one({"_id": task_id})
    assert set(raw) == {"_id", "dealer_id", "packed"}
    await service.store.results.replace_one({"_id": task_id}, await service.store.result(task_id))
    assert "submission" in await service.store.results.find_one({"_id": task_id})
    published.clear()

    again = await client.post(f"/v1/tasks/{task_id}/result", json=submission)
    other = await client.post(f"/v1/tasks/{task_id}/result", json={**submission, "outcome": "busy"})

    assert (again.status_code, again.json()) == (200, first.json())
    assert other.status_code == 409
    assert published == []


async def test_a_result_stored_before_its_task_was_marked_done_answers_its_repeat_late(
    client, service, settings, clock, due, published
):
    """A submit that died between storing the result and marking the task done: the agent's
    retry, after the lease ran out, gets the stored result (and it goes out), not a 409."""
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]
    submission = {"agent_id": "agent-1", "outcome": "no_answer"}
    first = await client.post(f"/v1/tasks/{task_id}/result", json=submission)
    await service.store.tasks.update_one({"_id": task_id}, {"$set": {"done": False}})
    await service.desk.pending.add(task_id)
    published.clear()
    clock.advance(timedelta(seconds=settings.lease_seconds + 1))

    again = await client.post(f"/v1/tasks/{task_id}/result", json=submission)
    other = await client.post(f"/v1/tasks/{task_id}/result", json={**submission, "outcome": "busy"})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert [e.event_id for e in published] == [result_event_id_for(task_id)]
    assert other.status_code == 409
    assert "different result" in other.json()["detail"]


@pytest.mark.parametrize(
    ("submission", "message"),
    [
        ({"outcome": "reached"}, "scores are required"),
        ({"outcome": "no_answer", "scores": SCORES}, "only allowed when the outcome is 'reached'"),
        (
            {
                "outcome": "reached",
                "scores": SCORES,
                "yes_no": YES_NO,
                "callback_at": "2026-11-24T10:00:00+08:00",
            },
            "callback_at is only allowed",
        ),
        ({"outcome": "reached", "scores": {**SCORES, "quality": 11}}, "less than or equal to 10"),
        ({"outcome": "reached", "scores": {**SCORES, "overall": None}}, "overall"),
        ({"outcome": "reached", "scores": SCORES}, "yes_no.fixed_first_time is required"),
        ({"outcome": "hung_up"}, "outcome"),
        ({"outcome": "call_back_later", "callback_at": "2026-11-24T10:00:00"}, "timezone"),
    ],
)
async def test_invalid_results_are_refused_with_a_clear_reason(
    client, service, settings, due, published, submission, message
):
    await queue(service, settings, due(1))
    task_id = (await claim(client, "agent-1")).json()["task_id"]

    answer = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", **submission}
    )

    assert answer.status_code == 422
    assert message in str(answer.json()["detail"])
    assert published == []


async def test_a_reached_reminder_needs_no_scores(client, service, settings, due, published):
    await queue(service, settings, due(1, purposes=[ContactPurpose.MAINTENANCE_REMINDER]))
    task_id = (await claim(client, "agent-1")).json()["task_id"]

    answer = await client.post(
        f"/v1/tasks/{task_id}/result", json={"agent_id": "agent-1", "outcome": "reached"}
    )

    assert answer.status_code == 200
    assert answer.json()["scores"] is None


async def test_unknown_task_is_404_and_a_task_not_leased_to_the_agent_is_409(
    client, service, settings, due, published
):
    event = due(1)
    await queue(service, settings, event)
    task_id = task_id_for(event.contact_id, 1)
    body = {"agent_id": "agent-1", "outcome": "busy"}

    assert (await client.post("/v1/tasks/no-such-task/result", json=body)).status_code == 404
    assert (await client.post(f"/v1/tasks/{task_id}/result", json=body)).status_code == 409
    await claim(client, "agent-2")
    assert (await client.post(f"/v1/tasks/{task_id}/result", json=body)).status_code == 409
    assert published == []


async def test_the_listing_shows_the_open_queue_by_state_and_masks_phones(
    client, service, settings, due, published
):
    events = [due(1), due(2), due(3)]
    await queue(service, settings, *events)
    done_id = (await claim(client, "agent-1")).json()["task_id"]
    await client.post(
        f"/v1/tasks/{done_id}/result", json={"agent_id": "agent-1", "outcome": "wrong_number"}
    )
    claimed_id = (await claim(client, "agent-2")).json()["task_id"]

    listings = {
        state: (await client.get(f"/v1/dealers/dealer-sz-001/tasks?state={state}")).json()
        for state in ("open", "claimed")
    }
    everything = (await client.get("/v1/dealers/dealer-sz-001/tasks")).json()["tasks"]

    # The queue holds open work only: the finished task is not listed (nor read).
    assert done_id not in str(everything)
    assert [t["task_id"] for t in listings["claimed"]["tasks"]] == [claimed_id]
    assert listings["claimed"]["tasks"][0]["lease_agent"] == "agent-2"
    assert [t["task_id"] for t in listings["open"]["tasks"]] == [
        task_id_for(events[2].contact_id, 1)
    ]
    assert len(everything) == 2
    for task, event in zip(everything, events[1:], strict=True):
        national = event.customer.phone.removeprefix("+86")
        assert task["customer"]["phone"] == f"{national[:3]}****{national[-4:]}"
        assert national not in str(task)
    for state in ("lost", "done"):
        bad = await client.get(f"/v1/dealers/dealer-sz-001/tasks?state={state}")
        assert bad.status_code == 422
