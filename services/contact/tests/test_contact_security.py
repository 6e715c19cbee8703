"""The agent is who the token says; the whole phone goes only to the lease holder, audited (D3)."""

import pytest
from aftersales_runtime.kafka import publish_event
from faststream.kafka import TestKafkaBroker

pytestmark = pytest.mark.stack


@pytest.fixture(autouse=True)
async def broker(service):
    async with TestKafkaBroker(service.runtime.broker):
        yield


async def test_a_claim_reveals_the_phone_and_the_cr_manager_reads_who_saw_it(
    client, service, settings, due, tokens
):
    event = due(1)
    await publish_event(service.runtime.broker, settings, event)

    claimed = await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={})

    assert claimed.json()["customer"]["phone"] == event.customer.phone
    audit = await client.get(
        "/v1/dealers/dealer-sz-001/audit/reveals", headers=tokens.header("cr_manager")
    )
    [entry] = audit.json()["reveals"]
    assert entry["who"] == "agent-1"
    assert entry["what"] == {
        "task_id": claimed.json()["task_id"],
        "customer_id": event.customer.customer_id,
        "field": "customer.phone",
    }
    assert entry["why"] == "claimed the task"
    assert event.customer.phone.removeprefix("+86") not in audit.text
    agents_cannot = await client.get("/v1/dealers/dealer-sz-001/audit/reveals")
    assert agents_cannot.status_code == 403


async def test_an_agent_cannot_act_as_another_or_for_another_dealer(
    client, service, settings, due, tokens
):
    await publish_event(service.runtime.broker, settings, due(1))
    task_id = (await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={})).json()[
        "task_id"
    ]
    result = {"agent_id": "agent-1", "outcome": "busy"}
    elsewhere = tokens.header("agent", sub="agent-1", dealers=["dealer-gz-003"])

    posing = await client.post(
        f"/v1/tasks/{task_id}/result", json=result, headers=tokens.header("agent", sub="agent-2")
    )
    foreign = await client.post(f"/v1/tasks/{task_id}/result", json=result, headers=elsewhere)
    foreign_queue = await client.get("/v1/dealers/dealer-sz-001/tasks", headers=elsewhere)

    assert posing.status_code == 403
    assert "token's subject" in posing.json()["detail"]
    assert foreign.status_code == 404
    assert foreign_queue.status_code == 404
    assert (await client.post(f"/v1/tasks/{task_id}/result", json=result)).status_code == 200
