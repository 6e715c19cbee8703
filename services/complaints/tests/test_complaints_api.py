"""The dealer's list of recovery tickets."""

import pytest
from aftersales_complaints.handlers import ticket_id_for
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
    assert first["assigned_role"] == "service_manager"
    assert first["low_items"] == ["overall"]
    assert first["service_advisor"] == {"id": "SA-007", "name": "王芳"}
    assert first["technicians"] == [{"id": "T-1", "name": "李强"}]
    assert first["state"] == "open"
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
