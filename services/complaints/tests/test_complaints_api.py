"""The dealer's list of recovery tickets."""

import pytest
from aftersales_complaints.opening import ticket_id_for
from aftersales_contracts import Scores
from aftersales_runtime.kafka import publish_event
from faststream.kafka import TestKafkaBroker

pytestmark = pytest.mark.stack


def scores(**low: int) -> Scores:
    return Scores(**{item: low.get(item, 9) for item in Scores.ITEMS})


async def test_the_listing_shows_the_dealers_tickets_without_personal_data(
    service, settings, client, result
):
    answers = [
        result(1, scores=scores(overall=3)),
        result(2, scores=scores(overall=7)),
        result(3, scores=scores(overall=10)),  # satisfied: no ticket
        result(4, dealer_id="dealer-bj-002", scores=scores(overall=6)),
    ]
    async with TestKafkaBroker(service.runtime.broker):
        for answer in answers:
            await publish_event(service.runtime.broker, settings, answer)

    listing = (await client.get("/v1/dealers/dealer-sz-001/complaints")).json()

    assert listing["dealer_id"] == "dealer-sz-001"
    got = {c["ticket_id"]: c for c in listing["complaints"]}
    assert set(got) == {ticket_id_for(answers[0].task_id), ticket_id_for(answers[1].task_id)}
    first = got[ticket_id_for(answers[0].task_id)]
    assert first["grade"] == "B"
    assert first["owner_role"] == "service_manager"
    assert first["low_items"] == ["overall"]
    assert first["service_advisor"] == {"id": "SA-007", "name": "王芳"}
    assert first["technicians"] == [{"id": "T-1", "name": "李强"}]
    assert first["state"] == "opened"
    assert first["work_order_id"] == answers[0].work_order_id
    assert first["opened_at"] is not None
    assert first["due_at"] is not None
    assert got[ticket_id_for(answers[1].task_id)]["grade"] == "D"
    assert "phone" not in str(listing)
    other = (await client.get("/v1/dealers/dealer-bj-002/complaints")).json()["complaints"]
    assert [c["grade"] for c in other] == ["C"]
    unknown = await client.get("/v1/dealers/dealer-x/complaints")
    assert unknown.status_code == 404  # a dealer the directory does not list
    assert unknown.json()["detail"] == "no dealer dealer-x"


async def test_actions_walk_the_ticket_and_refuse_what_the_state_does_not_allow(
    service, settings, client, result, tokens
):
    low = result(1, scores=scores(overall=6))
    async with TestKafkaBroker(service.runtime.broker):
        await publish_event(service.runtime.broker, settings, low)
        ticket = f"/v1/complaints/{ticket_id_for(low.task_id)}"

        early = await client.post(f"{ticket}/close", json={"customer_confirmed": True})
        assert early.status_code == 409
        assert early.json()["allowed"] == ["acknowledge", "compensation", "note", "reassign"]
        assert early.json()["state"] == "opened"

        assert (await client.post(f"{ticket}/acknowledge", json={})).status_code == 200
        missing = await client.post(f"{ticket}/resolve", json={"action_taken": "x"})
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["field"] == "body.root_cause_category"
        supervisor = tokens.header("service_supervisor", dealers=["dealer-sz-001"], sub="sup-1")
        reviewed = await client.post(f"{ticket}/review", json={}, headers=supervisor)
        assert reviewed.status_code == 200, reviewed.text
        assert (await client.post(f"{ticket}/reply", json={"text": "sorry"})).status_code == 200
        paid = await client.post(
            f"{ticket}/compensation",
            json={
                "amount": 300,
                "approved_by": "region-south",
                "approved_at": "2026-11-23T11:00:00+08:00",
            },
        )
        assert paid.status_code == 200
        body = (await client.get(ticket)).json()

    steps = {d["step"]: d["status"] for d in body["deadlines"]}
    assert steps == {"gm_notice": "met", "feedback": "met", "reply": "met"}
    assert body["state"] == "replied"
    assert body["compensations"][0]["approved_by"] == "region-south"
    assert [h["kind"] for h in body["history"]] == [
        "opened",
        "acknowledged",
        "reviewed",
        "replied",
        "compensation_recorded",
    ]
    listed = await client.get("/v1/dealers/dealer-sz-001/complaints", params={"state": "replied"})
    assert [c["ticket_id"] for c in listed.json()["complaints"]] == [body["ticket_id"]]
    mine = await client.get(
        "/v1/dealers/dealer-sz-001/complaints", params={"owner": "service_supervisor"}
    )
    assert [c["ticket_id"] for c in mine.json()["complaints"]] == [body["ticket_id"]]
    theirs = await client.get("/v1/dealers/dealer-sz-001/complaints", params={"owner": "gm"})
    assert theirs.json()["complaints"] == []
    none = await client.get("/v1/dealers/dealer-sz-001/complaints", params={"overdue": "true"})
    assert none.json()["complaints"] == []
