"""D29: complaints from any channel, the register of calls and letters, the customer index
(through TestKafkaBroker on the real FerretDB). Run with -s to see the API's answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aftersales_complaints.customer_index import work_orders_closed
from aftersales_complaints.opening import opened_event_id_for
from aftersales_contracts import (
    ComplaintEvent,
    ComplaintGrade,
    Customer,
    OemComplaintTransferred,
    Staff,
    Vehicle,
    WorkOrderClosed,
    WorkOrderType,
    correlation_id_for,
    deterministic_id,
    topics,
)
from aftersales_runtime.kafka import publish_event
from aftersales_runtime.spy import keep_published
from faststream.kafka import TestKafkaBroker

from .conftest import NOW

pytestmark = pytest.mark.stack
DEALER = "dealer-sz-001"


def work_order(n: int, vin: str, plate: str, phone: str, settled: datetime) -> WorkOrderClosed:
    work_order_id = f"WO-{n:04d}"
    return WorkOrderClosed(
        event_id=deterministic_id("wo", DEALER, work_order_id),
        occurred_at=settled,
        dealer_id=DEALER,
        correlation_id=correlation_id_for(DEALER, work_order_id),
        work_order_id=work_order_id,
        work_order_type=WorkOrderType.REPAIR,
        revision=1,
        opened_at=settled - timedelta(hours=3),
        settled_at=settled,
        vehicle=Vehicle(vin=vin, plate=plate, brand="大众", model="帕萨特", mileage_km=15230),
        customer=Customer(
            customer_id=f"C-{n}", name="张伟", phone=phone, is_owner=True, contact_consent=True
        ),
        service_advisor=Staff(id="SA-007", name="王芳"),
        technicians=[Staff(id="T-1", name="李强")],
        total_amount=580,
    )


VIN_1, VIN_2 = "LSVAU218XN2183294", "LSVAU218XN2183295"


@pytest.fixture
async def published(service, settings):
    seen: list[ComplaintEvent] = []
    keep_published(
        service.runtime.broker,
        settings.topic(topics.COMPLAINT_EVENT),
        seen,
        ComplaintEvent.model_validate_json,
    )
    async with TestKafkaBroker(service.runtime.broker):
        # Two cars of one phone; the first one serviced twice (the later order is kept).
        for event in (
            work_order(1, VIN_1, "粤B12345", "+8613800138000", NOW - timedelta(days=40)),
            work_order(2, VIN_1, "粤B12345", "+8613800138000", NOW - timedelta(days=3)),
            work_order(3, VIN_2, "粤BD67890", "+8613800138000", NOW - timedelta(days=9)),
        ):
            await publish_event(service.runtime.broker, settings, event)
        yield seen


@pytest.fixture
async def http(service, tokens):
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:

        def call(role: str, sub: str) -> dict[str, str]:
            return tokens.header(role, dealers=[DEALER], sub=sub)

        client.call = call  # type: ignore[attr-defined]
        yield client


def show(title: str, answer: Any) -> None:
    print(f"\n--- {title}\n{json.dumps(answer, ensure_ascii=False, indent=1)[:3000]}")


def brief(ticket: dict[str, Any]) -> dict[str, Any]:
    keep = ("ticket_id", "state", "grade", "rule", "source", "logged_by", "owner_role", "vin")
    deadlines = [
        f"{d['step']}: due {d['due_at']} {d['status']} owners={d['owners']}"
        for d in ticket["deadlines"]
    ]
    return {
        **{k: ticket[k] for k in keep},
        "work_order_id": ticket["work_order_id"],
        "deadlines": deadlines,
        "allowed_actions": ticket["allowed_actions"],
    }


async def test_the_customer_is_found_by_plate_phone_or_vin_and_the_phone_is_masked(
    service, published, http, mongo_db
):
    sa = http.call("service_advisor", "SA-009")
    by_plate = (
        await http.get(f"/v1/dealers/{DEALER}/customers?plate=粤b·12345", headers=sa)
    ).json()
    assert [(m["vin"], m["work_order_id"], m["phone"]) for m in by_plate["matches"]] == [
        (VIN_1, "WO-0002", "138****8000")  # the later work order, the phone masked
    ]
    assert by_plate["matches"][0]["service_advisor"] == {"id": "SA-007", "name": "王芳"}
    by_phone = await http.get(f"/v1/dealers/{DEALER}/customers?phone=138 0013 8000", headers=sa)
    assert [m["vin"] for m in by_phone.json()["matches"]] == [VIN_1, VIN_2]  # newest first
    by_vin = await http.get(f"/v1/dealers/{DEALER}/customers?vin={VIN_2}", headers=sa)
    assert by_vin.json()["matches"][0]["plate"] == "粤BD67890"
    assert await mongo_db["reveal_audit"].count_documents({}) == 0

    crm = http.call("cr_manager", "CRM-01")
    whole = await http.get(f"/v1/dealers/{DEALER}/customers?vin={VIN_2}", headers=crm)
    assert whole.json()["matches"][0]["phone"] == "+8613800138000"
    audit = await http.get(f"/v1/dealers/{DEALER}/audit/reveals", headers=crm)
    assert [(r["who"], r["what"]) for r in audit.json()["reveals"]] == [
        ("CRM-01", {"customer_ids": ["C-3"]})
    ]
    other = await http.get(
        "/v1/dealers/dealer-gz-002/customers?vin=" + VIN_2,
        headers=http.call("service_advisor", "SA-009"),
    )
    assert other.status_code == 404  # another dealer's path


async def test_a_walk_in_complaint_logged_by_plate_walks_to_closed(service, published, http, clock):
    reception = http.call("service_advisor", "SA-009")
    body = {
        "source": "walk_in",
        "plate": "粤B 12345",
        "text": "上次修完空调还是不制冷，来店当面投诉",
        "reference": "front-desk-2026-11-23-01",
    }
    logged = await http.post(f"/v1/dealers/{DEALER}/complaints", json=body, headers=reception)
    assert logged.status_code == 201, logged.text
    answer = logged.json()
    ticket = answer["ticket"]
    show(
        "POST /v1/dealers/dealer-sz-001/complaints (walk-in, by plate)",
        {"inbound": answer["inbound"], "ticket": brief(ticket)},
    )
    assert (ticket["grade"], ticket["rule"], ticket["source"]) == (
        "C",
        "stated_complaint",
        "walk_in",
    )
    assert ticket["logged_by"] == "SA-009"
    assert (ticket["vin"], ticket["work_order_id"]) == (VIN_1, "WO-0002")
    assert ticket["service_advisor"] == {"id": "SA-007", "name": "王芳"}
    assert ticket["owner_role"] == "service_supervisor"
    assert {d["step"] for d in ticket["deadlines"]} == {"gm_notice", "feedback", "reply"}
    assert answer["inbound"]["ticket_id"] == ticket["ticket_id"]
    assert answer["inbound"]["is_complaint"] is True

    again = await http.post(f"/v1/dealers/{DEALER}/complaints", json=body, headers=reception)
    assert again.json()["ticket"]["ticket_id"] == ticket["ticket_id"]  # a retry: one ticket
    assert [e.kind for e in published] == ["opened"]
    opened = published[0]
    assert opened.event_id == opened_event_id_for(ticket["ticket_id"])
    assert (opened.source, opened.actor, opened.contact_id) == (
        "walk_in",
        "SA-009",
        answer["inbound"]["entry_id"],
    )

    url = f"/v1/complaints/{ticket['ticket_id']}"
    supervisor = http.call("service_supervisor", "SUP-01")
    manager = http.call("service_manager", "SM-01")
    steps = [
        ("acknowledge", supervisor, {"text": "已通知总经理、服务经理"}),
        ("review", supervisor, {"text": "空调系统复检"}),
        ("reply", supervisor, {"text": "已致电客户，约明天复检"}),
        (
            "resolve",
            supervisor,
            {"root_cause_category": "repair_quality", "action_taken": "更换膨胀阀，免费"},
        ),
        ("close", manager, {"customer_confirmed": True, "text": "客户回电确认满意"}),
    ]
    for action, who, payload in steps:
        clock.advance(timedelta(minutes=30))
        moved = await http.post(f"{url}/{action}", json=payload, headers=who)
        assert moved.status_code == 200, (action, moved.text)
        show(f"POST {url}/{action}", brief(moved.json()))
    closed = moved.json()
    assert closed["state"] == "closed"
    assert [d["status"] for d in closed["deadlines"]] == ["met", "met", "met"]
    assert [e.kind for e in published] == [
        "opened",
        "acknowledged",
        "reviewed",
        "replied",
        "resolved",
        "confirmation_requested",
        "closed",
    ]
    assert {e.source for e in published} == {"walk_in"}

    day = await http.get(f"/v1/dealers/{DEALER}/inbound?day=2026-11-23", headers=supervisor)
    show("GET /v1/dealers/dealer-sz-001/inbound?day=2026-11-23", day.json())
    assert [e["ticket_id"] for e in day.json()["entries"]] == [ticket["ticket_id"]]
    listed = await http.get(f"/v1/dealers/{DEALER}/complaints?state=closed", headers=manager)
    assert [c["source"] for c in listed.json()["complaints"]] == ["walk_in"]


async def test_a_phone_with_two_cars_asks_which_and_an_unknown_plate_is_404(
    service, published, http
):
    hotline = http.call("agent", "AG-3")
    body = {"source": "hotline", "phone": "13800138000", "text": "等了三个小时"}
    several = await http.post(f"/v1/dealers/{DEALER}/complaints", json=body, headers=hotline)
    assert several.status_code == 409
    assert [(m["vin"], m["phone"]) for m in several.json()["matches"]] == [
        (VIN_1, "138****8000"),
        (VIN_2, "138****8000"),
    ]
    chosen = await http.post(
        f"/v1/dealers/{DEALER}/complaints", json={**body, "vin": VIN_2}, headers=hotline
    )
    assert chosen.status_code == 201
    assert chosen.json()["ticket"]["work_order_id"] == "WO-0003"
    unknown = {"source": "letter", "plate": "京A00000", "text": "投诉"}
    missing = await http.post(f"/v1/dealers/{DEALER}/complaints", json=unknown, headers=hotline)
    assert missing.status_code == 404
    nothing = await http.post(
        f"/v1/dealers/{DEALER}/complaints", json={"source": "letter", "text": "x"}, headers=hotline
    )
    assert nothing.status_code == 422
    bad_source = await http.post(
        f"/v1/dealers/{DEALER}/complaints", json={**body, "source": "fax"}, headers=hotline
    )
    assert bad_source.status_code == 422
    assert "source" in bad_source.text


async def test_calls_and_letters_that_are_not_complaints_are_in_the_days_register(
    service, published, http, clock
):
    hotline = http.call("agent", "AG-3")
    enquiry = {"kind": "hotline", "subject": "enquiry", "text": "问保养价格", "plate": "粤B12345"}
    letter = {"kind": "letter", "subject": "praise", "text": "感谢王芳"}
    first = await http.post(f"/v1/dealers/{DEALER}/inbound", json=enquiry, headers=hotline)
    clock.advance(timedelta(minutes=5))
    second = await http.post(f"/v1/dealers/{DEALER}/inbound", json=letter, headers=hotline)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["customer_id"], first.json()["vin"]) == ("C-2", VIN_1)
    assert second.json()["customer_id"] is None
    assert second.json()["unmatched"] is False  # it named nobody
    day = (await http.get(f"/v1/dealers/{DEALER}/inbound", headers=hotline)).json()
    assert day["day"] == "2026-11-23"
    rows = [(e["kind"], e["subject"], e["is_complaint"], e["logged_by"]) for e in day["entries"]]
    assert rows == [("hotline", "enquiry", False, "AG-3"), ("letter", "praise", False, "AG-3")]
    other_day = await http.get(f"/v1/dealers/{DEALER}/inbound?day=2026-11-22", headers=hotline)
    assert other_day.json()["entries"] == []
    assert published == []  # nothing opened


async def test_an_oem_transfer_on_kafka_opens_one_b_ticket_and_an_unknown_one_is_logged(
    service, settings, published, mongo_db
):
    transfer = OemComplaintTransferred(
        oem_complaint_id="OEM-2026-118842",
        dealer_id=DEALER,
        received_at=NOW - timedelta(hours=2),
        vin=VIN_1,
        text="客户致电厂家400热线：三次进站异响未修好",
    )
    topic = settings.topic(topics.OEM_COMPLAINT_TRANSFERRED)
    for _ in range(2):  # delivered and redelivered
        await service.runtime.broker.publish(transfer.model_dump(mode="json"), topic, key=b"d")
    assert [(e.kind, e.grade, e.rule, e.source, e.actor) for e in published] == [
        ("opened", "B", "source:oem", "oem", "oem")
    ]
    crisis = transfer.model_copy(
        update={
            "oem_complaint_id": "OEM-2",
            "vin": VIN_2,  # another car: no repeat
            "text": "客户称要找媒体曝光",
            "oem_grade": ComplaintGrade.C,
        }
    )
    await service.runtime.broker.publish(crisis.model_dump(mode="json"), topic, key=b"d")
    assert (published[-1].grade, published[-1].rule) == ("A", "crisis_word:媒体")
    unknown = transfer.model_copy(update={"oem_complaint_id": "OEM-3", "vin": "LSVAU218XN2999999"})
    await service.runtime.broker.publish(unknown.model_dump(mode="json"), topic, key=b"d")
    assert len(published) == 2
    day = await service.channels.log.day(DEALER, NOW.date())
    rows = sorted((e.kind, e.is_complaint, e.unmatched, e.ticket_id is None) for e in day)
    assert rows == [("oem", True, False, False)] * 2 + [("oem", True, True, True)]


async def test_one_batch_of_work_orders_indexes_as_one_after_the_other(service):
    """D29 in batches: the car sold on (new phone) and re-plated within one batch, then a
    replay of its first work order: each key finds what it would after one-by-one delivery."""
    index = service.channels.index
    first = work_order(1, VIN_1, "粤B12345", "+8613800138000", NOW - timedelta(days=40))
    sold = work_order(2, VIN_1, "粤BD11111", "+8613900139000", NOW - timedelta(days=3))
    other = work_order(3, VIN_2, "粤BD67890", "+8613800138000", NOW - timedelta(days=9))
    await work_orders_closed([first, sold, other, first], index)

    def found(records: list[Any]) -> list[tuple[str, str | None]]:
        return [(r.vin, r.work_order_id) for r in records]

    assert found(await index.find(DEALER, vin=VIN_1)) == [(VIN_1, "WO-0002")]
    assert found(await index.find(DEALER, plate="粤BD11111")) == [(VIN_1, "WO-0002")]
    assert found(await index.find(DEALER, plate="粤B12345")) == []  # re-plated
    assert found(await index.find(DEALER, phone="+8613900139000")) == [(VIN_1, "WO-0002")]
    # The first owner's phone keeps only the other car.
    assert found(await index.find(DEALER, phone="13800138000")) == [(VIN_2, "WO-0003")]
