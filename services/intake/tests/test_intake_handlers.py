"""Tier 2: the DMS subscribers on TestKafkaBroker with the real database (issue 3, issue 4)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from aftersales_contracts import (
    IntakeRejected,
    VehicleDelivered,
    WorkOrderClosed,
    correlation_id_for,
    deterministic_id,
    topics,
)
from aftersales_intake.store import PACKED_FILE_FIELDS, read_file
from aftersales_runtime.packing import PACKED, pack_fields

pytestmark = pytest.mark.stack

WO = topics.WORKORDER_CLOSED


async def test_a_work_order_is_normalised_filed_and_published(harness, make_workorder):
    order = make_workorder()
    await harness.send(order)

    [event] = [WorkOrderClosed.model_validate(e) for e in harness.events(WO)]
    assert event.event_id == deterministic_id("workorder.closed", "dealer-sz-001", "WO-1", "1")
    assert event.correlation_id == correlation_id_for("dealer-sz-001", "WO-1")
    assert event.causation_id == order["event_id"]
    assert event.revision == 1
    assert event.customer.phone == "+8613800138000"
    assert event.vehicle.vin == order["vin"].upper()
    assert event.vehicle.plate == "粤B12345"
    assert event.work_order_type.value == "maintenance"
    # naive DMS times are the dealer's local time (Asia/Shanghai, +08:00)
    assert event.settled_at.isoformat() == "2026-11-20T08:45:00+00:00"

    file = await harness.service.store.vehicle("dealer-sz-001", order["vin"].upper())
    assert file is not None
    assert [h["record_id"] for h in file["history"]] == ["WO-1"]
    stored = await harness.service.store.record("workorder", "dealer-sz-001/WO-1")
    out = await harness.service.intake.outbox.published_revisions("work_orders", [stored["_id"]])
    assert out == {stored["_id"]: stored["revision"]}


@pytest.mark.parametrize("harness", [10_000], indirect=True)
async def test_the_dms_work_orders_are_taken_in_at_once_whatever_the_service_s_pace(
    harness, make_workorder
):
    """Intake's contact results are paced under load (10 s apart here); the DMS's work orders
    are not, someone waits to see them planned: paced, each of these would wait."""
    started = time.monotonic()
    for number in (1, 2, 3):
        await harness.send(make_workorder(work_order_id=f"WO-{number}", event_id=f"m-{number}"))

    assert time.monotonic() - started < 5
    assert len(harness.events(WO)) == 3


async def test_an_identical_resend_is_a_no_op(harness, make_workorder):
    await harness.send(make_workorder())
    await harness.send(make_workorder(event_id="another-dms-message-id"))
    await harness.send(make_workorder(customer__phone="+86 13800138000"))  # same, written otherwise

    assert len(harness.published[WO]) == 1
    stored = await harness.service.store.record("workorder", "dealer-sz-001/WO-1")
    assert stored["revision"] == 1


async def test_a_changed_resend_is_a_correction_of_the_same_order(harness, make_workorder):
    await harness.send(make_workorder())
    await harness.send(make_workorder(total_amount=620.0, event_id="WO-1-corrected"))
    await harness.send(make_workorder())  # the old version again: already seen

    events = [WorkOrderClosed.model_validate(e) for e in harness.events(WO)]
    assert [e.revision for e in events] == [1, 2]
    assert {e.work_order_id for e in events} == {"WO-1"}
    assert str(events[1].total_amount) == "620.0"
    file = await harness.service.store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    assert len(file["history"]) == 1  # one order, never a second one
    assert file["history"][0]["revision"] == 2


async def test_a_crash_between_store_and_publish_still_publishes(harness, make_workorder):
    outbox = harness.service.intake.outbox
    real_publish = outbox.publish_all

    async def crash(events):
        raise ConnectionError("process died")

    outbox.publish_all = crash
    with pytest.raises(ConnectionError):
        await harness.service.intake.take_in(
            __import__("json").dumps(make_workorder()).encode(), "workorder", "kafka"
        )
    outbox.publish_all = real_publish
    await harness.send(make_workorder())  # the redelivery

    [event] = harness.events(WO)
    assert event["event_id"] == deterministic_id("workorder.closed", "dealer-sz-001", "WO-1", "1")
    stored = await harness.service.store.record("workorder", "dealer-sz-001/WO-1")
    out = await harness.service.intake.outbox.published_revisions("work_orders", [stored["_id"]])
    assert out == {stored["_id"]: stored["revision"]}


async def test_unknown_dealer_is_rejected_and_dead_lettered(harness, make_workorder):
    await harness.send(make_workorder(dealer_id="dealer-nowhere"))
    await harness.send(make_workorder(work_order_id="WO-2"))

    [rejected] = [IntakeRejected.model_validate(e) for e in harness.events(topics.INTAKE_REJECTED)]
    assert [r.code for r in rejected.reasons] == ["dealer.unknown"]
    assert rejected.dealer_id == "dealer-nowhere"
    assert len(harness.published[topics.DEAD_LETTER]) == 1
    assert len(harness.published[WO]) == 1  # the next valid message still flows
    inbox = await harness.service.store.rejection(rejected.rejection_id)
    assert inbox["state"] == "open"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json {", "json.invalid"),
        (b"\xff\xfe\x00", "encoding.invalid"),
        (b"[1, 2]", "json.not_object"),
    ],
)
async def test_malformed_bytes_are_kept_with_their_reason(harness, body, code):
    await harness.send(body)

    [rejected] = [IntakeRejected.model_validate(e) for e in harness.events(topics.INTAKE_REJECTED)]
    assert rejected.reasons[0].code == code
    assert rejected.raw_bytes() == body
    assert rejected.dealer_id == IntakeRejected.UNKNOWN_DEALER
    assert harness.published[topics.DEAD_LETTER] == [body]


async def test_a_business_rule_refusal_is_not_dead_lettered(harness, make_workorder):
    await harness.send(make_workorder(total_amount=-5.0))

    [rejected] = harness.events(topics.INTAKE_REJECTED)
    assert [r["code"] for r in rejected["reasons"]] == ["total_amount.negative"]
    assert harness.published[topics.DEAD_LETTER] == []


async def test_latest_contact_wins_and_history_is_kept(harness, make_workorder):
    await harness.send(make_workorder())
    later = make_workorder(
        work_order_id="WO-2",
        settled_at="2026-11-28 10:00:00",
        opened_at="2026-11-28 09:00:00",
        mileage_km=18000,
        customer__phone="139-1234-5678",
    )
    await harness.send(later)
    older = make_workorder(
        work_order_id="WO-0",
        settled_at="2026-10-01 10:00:00",
        opened_at="2026-10-01 09:00:00",
        mileage_km=9000,
        customer__phone="13700000000",
    )
    await harness.send(older)

    file = await harness.service.store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    assert [h["record_id"] for h in file["history"]] == ["WO-0", "WO-1", "WO-2"]
    assert file["customer"]["phone"] == "+8613912345678"  # WO-2 is the latest settlement
    assert file["mileage_km"] == 18000


@pytest.mark.parametrize("stored_before", ["lists as arrays", "lists as JSON text"])
async def test_a_file_is_stored_packed_and_a_file_stored_the_ways_before_is_read(
    harness, make_workorder, stored_before
):
    vehicles = harness.service.store.db["vehicles"]
    file_id = "dealer-sz-001/LSVAU218XN2183294"
    await harness.send(make_workorder())
    stored = await vehicles.find_one({"_id": file_id})
    assert set(stored) == {"_id", "dealer_id", PACKED}  # one binary: FerretDB reads 3 values
    # As a file stored before: every field at the top level, its lists as arrays or JSON text.
    before = read_file(stored)
    if stored_before == "lists as JSON text":
        before = pack_fields(before, PACKED_FILE_FIELDS)
    await vehicles.replace_one({"_id": file_id}, before)
    stored_history = (await vehicles.find_one({"_id": file_id}))["history"]
    assert isinstance(stored_history, str if stored_before == "lists as JSON text" else list)

    later = {"settled_at": "2026-11-28 10:00:00", "opened_at": "2026-11-28 09:00:00"}
    await harness.send(make_workorder(work_order_id="WO-2", **later))

    file = await harness.service.store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    assert [h["record_id"] for h in file["history"]] == ["WO-1", "WO-2"]
    assert [r["source"]["record_id"] for r in file["revisions"]] == ["WO-1", "WO-2"]
    assert set(await vehicles.find_one({"_id": file_id})) == {"_id", "dealer_id", PACKED}


async def test_lower_mileage_is_kept_but_flagged(harness, make_workorder):
    await harness.send(make_workorder())
    await harness.send(
        make_workorder(
            work_order_id="WO-2",
            settled_at="2026-11-28 10:00:00",
            opened_at="2026-11-28 09:00:00",
            mileage_km=SAMPLE_MILEAGE - 1,
        )
    )
    second = WorkOrderClosed.model_validate(harness.events(WO)[1])
    assert second.warnings == ["mileage_km.lower_than_last"]


SAMPLE_MILEAGE = 15230


async def test_our_opt_out_is_never_lifted_by_the_dms(harness, make_workorder):
    await harness.send(make_workorder())
    store = harness.service.store
    from aftersales_intake.domain.vehicle_file import record_opt_out

    file = await store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    await store.save_vehicle(record_opt_out(file, "C-1", harness.clock.now()))
    await harness.send(
        make_workorder(
            work_order_id="WO-2", settled_at="2026-11-28 10:00:00", opened_at="2026-11-28 09:00"
        )
    )

    second = WorkOrderClosed.model_validate(harness.events(WO)[1])
    assert second.customer.contact_consent is False  # D4
    file = await store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    assert file["opt_out"]["by"] == "aftersales"


async def test_a_new_owner_is_an_ownership_change(harness, make_workorder):
    await harness.send(make_workorder())
    await harness.send(
        make_workorder(
            work_order_id="WO-2",
            settled_at="2026-11-28 10:00:00",
            opened_at="2026-11-28 09:00:00",
            customer__customer_id="C-2",
            customer__name="李娜",
            customer__phone="13911112222",
        )
    )
    file = await harness.service.store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    [change] = file["ownership_changes"]
    assert (change["from"], change["to"]) == ("customer:C-1", "customer:C-2")


async def test_a_settlement_in_the_future_is_rejected(harness, make_workorder):
    ahead = harness.clock.now() + timedelta(days=1)
    await harness.send(make_workorder(settled_at=ahead.isoformat()))
    [rejected] = harness.events(topics.INTAKE_REJECTED)
    assert [r["code"] for r in rejected["reasons"]] == ["settled_at.in_future"]


async def test_a_delivery_is_published(harness, make_workorder):
    delivery = {
        "event_id": "DL-1-delivered",
        "dealer_id": "dealer-sz-001",
        "delivery_id": "DL-1",
        "delivered_at": "2026-11-18T15:30:00+08:00",
        "vin": "LGXCE4CB2N0123456",
        "brand": "比亚迪",
        "model": "海豹",
        "customer": {"customer_id": "C-9", "name": "杨帆", "phone": "13800138000"},
        "sales_consultant": {"id": "SC-1", "name": "周敏"},
    }
    await harness.send(delivery, topics.DMS_VEHICLE_DELIVERED)
    await harness.send(delivery, topics.DMS_VEHICLE_DELIVERED)

    [event] = [VehicleDelivered.model_validate(e) for e in harness.events(topics.VEHICLE_DELIVERED)]
    assert event.event_id == deterministic_id("vehicle.delivered", "dealer-sz-001", "DL-1", "1")
    assert event.correlation_id == correlation_id_for("dealer-sz-001", "DL-1")
    assert event.vehicle.plate is None
    # D24: who sold it travels in its own field, never as a service advisor
    assert event.sales_consultant.model_dump() == {"id": "SC-1", "name": "周敏"}
    [raw] = harness.events(topics.VEHICLE_DELIVERED)
    assert "service_advisor" not in raw
    file = await harness.service.store.vehicle("dealer-sz-001", "LGXCE4CB2N0123456")
    assert file["sales_consultant"] == {"id": "SC-1", "name": "周敏"}
    assert "service_advisor" not in file


async def test_a_correction_stored_but_not_published_is_published_on_the_retry(
    harness, make_workorder
):
    from .results import result

    await harness.send(make_workorder())
    outbox = harness.service.results.outbox
    real_publish = outbox.publish_all
    failures = []

    async def down_once(events):
        if not failures:
            failures.append(events)
            raise ConnectionError("Kafka went away after the file was written")
        await real_publish(events)

    outbox.publish_all = down_once
    contact = result(check={"phone": "+8613911112222"})
    await harness.send(contact.model_dump_json().encode(), topics.CONTACT_RESULT)
    await harness.send(contact.model_dump_json().encode(), topics.CONTACT_RESULT)  # redelivered

    assert len(failures) == 1
    [event] = harness.events(topics.VEHICLE_FILE_CORRECTED)
    assert event["file_revision"] == 2
    file = await harness.service.store.vehicle("dealer-sz-001", "LSVAU218XN2183294")
    assert [r["by"] for r in file["revisions"]] == ["dms", "agent-7"]
    assert file["customer"]["phone"] == "+8613911112222"
