"""The dealer's list of recovery tickets."""

from zoneinfo import ZoneInfo

import pytest
from aftersales_complaints.opening import ticket_id_for
from aftersales_contracts import Scores
from aftersales_runtime.kafka import publish_event
from faststream.kafka import TestKafkaBroker

pytestmark = pytest.mark.stack
SH = ZoneInfo("Asia/Shanghai")


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


SATURDAY_17 = "2026-11-28T17:00:00+08:00"  # a working Saturday (Mon-Sat hours), 1 h to close


@pytest.mark.parametrize("feedback_by", ["calendar_day", "working_day"])
async def test_not_fixed_first_time_on_a_saturday_shows_its_deadlines_across_the_weekend(
    service_settings, tokens, result, feedback_by
):
    # D16/D18: every score 9, "fixed right the first time?" no → a C ticket; D20 deadlines as
    # the API returns them, the feedback on the calendar day (default) or on working days.
    from datetime import datetime

    import httpx
    from aftersales_complaints.app import build
    from aftersales_complaints.settings import ComplaintsSettings
    from aftersales_runtime.clock import FixedClock

    settings = service_settings(ComplaintsSettings, deadlines={"feedback_by": feedback_by})
    built = build(settings, FixedClock(datetime.fromisoformat(SATURDAY_17)))
    answer = result(7, yes_no={"fixed_first_time": False})
    try:
        async with TestKafkaBroker(built.runtime.broker):
            await publish_event(built.runtime.broker, settings, answer)
        transport = httpx.ASGITransport(app=built.app)
        headers = tokens.header("service_manager", dealers=["dealer-sz-001"])
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as http:
            got = await http.get(f"/v1/complaints/{ticket_id_for(answer.task_id)}", headers=headers)
    finally:
        await built.runtime.mongo.close()
    ticket = got.json()
    deadlines = {d["step"]: (d["due_at"], d["holder"], d["owners"]) for d in ticket["deadlines"]}
    print(f"\n--- GET /v1/complaints/{{id}} (feedback_by={feedback_by}, opened Sat 17:00)")
    print({k: ticket[k] for k in ("grade", "rule", "yes_no", "scores", "owner_role", "source")})
    for step, row in deadlines.items():
        print(f"  {step:<10} due {row[0]}  holder={row[1]} owners={row[2]}")
    assert (ticket["grade"], ticket["rule"]) == ("C", "no:fixed_first_time")
    assert ticket["yes_no"] == {"fixed_first_time": False}
    assert ticket["source"] == "follow_up"
    shanghai = {
        step: datetime.fromisoformat(row[0]).astimezone(SH).isoformat()
        for step, row in deadlines.items()
    }
    assert shanghai["gm_notice"] == "2026-11-30T12:15:00+08:00"  # 1 h Sat + 3 h 45 min Mon
    assert shanghai["reply"] == "2026-11-30T17:00:00+08:00"  # one working day: Monday 17:00
    assert (
        shanghai["feedback"]
        == {
            "calendar_day": "2026-11-30T00:00:00+08:00",  # the end of Sunday, the next calendar day
            "working_day": "2026-11-30T18:00:00+08:00",  # the close of Monday, the next working day
        }[feedback_by]
    )
    assert deadlines["feedback"][2] == ["service_supervisor"]  # D20: C's person
