"""D30: a vehicle file corrected on a call — the next contact dials the corrected phone, and the
maintenance reminder (D9) and the monthly due list (D12) follow the corrected data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import (
    CallOutcome,
    Customer,
    Vehicle,
    VehicleFileCorrected,
    deterministic_id,
)
from aftersales_runtime.kafka import publish_event
from aftersales_scheduler.domain.slots import timer_id

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"
VIN = "LSVAU218XN2183294"
NEW_PHONE = "+8613911112222"
CALL = timer_id(DEALER, "WO-0001", "call_day3")


def corrected(
    revision: int,
    at: datetime,
    changed: list[str],
    phone: str = NEW_PHONE,
    mileage_km: int | None = None,
    next_due: date | None = None,
) -> VehicleFileCorrected:
    return VehicleFileCorrected(
        event_id=deterministic_id("vehicle.corrected", DEALER, VIN, str(revision)),
        occurred_at=at,
        dealer_id=DEALER,
        correlation_id=deterministic_id("corr", DEALER, VIN),
        vin=VIN,
        file_revision=revision,
        corrected_at=at,
        corrected_by="agent-1",
        contact_id=CALL,
        changed=changed,
        customer=Customer(
            customer_id="C-1", name="张伟", phone=phone, is_owner=True, contact_consent=True
        ),
        vehicle=Vehicle(
            vin=VIN, plate="粤B12345", brand="大众", model="帕萨特", mileage_km=mileage_km
        ),
        next_maintenance_due_date=next_due,
    )


async def timers_by_step(store, dealer: str = DEALER) -> dict[str, dict]:
    vehicle = await store.person(f"vehicle/{dealer}/{VIN}")
    return {t["_id"]: t for t in await store.timers(vehicle["timer_ids"])}


async def test_a_corrected_phone_is_dialled_by_the_next_contact(
    service, settings, work_order, due_events, clock
):
    await publish_event(service.runtime.broker, settings, work_order())
    fix = corrected(2, clock.now(), ["phone"])
    await publish_event(service.runtime.broker, settings, fix)
    await publish_event(service.runtime.broker, settings, fix)  # redelivered: nothing more
    older = corrected(1, clock.now(), ["phone"], phone="+8613800000001")
    await publish_event(service.runtime.broker, settings, older)  # late: ignored

    clock.set(clock.now() + timedelta(days=3))
    await service.dispatcher.tick()
    [due] = [e for e in due_events if e.contact_id == CALL]
    assert due.customer.phone == NEW_PHONE
    assert due.service_advisor == work_order().service_advisor  # the work order's staff stay
    timer = await service.store.timer(CALL)
    assert [t["event"] for t in timer["trail"]].count("updated") == 1
    assert timer["file_revision"] == 2
    # Slim timers: the correction is new contact data the timer names; the work order's own
    # contact data is never changed (entries filed before keep naming what they named).
    assert timer["contact_id"] == f"contact/{DEALER}/WO-0001/1/file-2"
    original = await service.store.contacts([f"contact/{DEALER}/WO-0001/1"])
    assert original[f"contact/{DEALER}/WO-0001/1"]["customer"]["phone"] == "+8613800138000"


async def test_a_phone_corrected_after_a_call_went_out_is_used_by_its_retry(
    service, settings, work_order, due_events, clock, result_for
):
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(clock.now() + timedelta(days=2))
    await service.dispatcher.tick()
    [first] = due_events
    assert first.customer.phone == "+8613800138000"
    # The agent reached someone who gave the right number, then the call dropped.
    await publish_event(service.runtime.broker, settings, corrected(2, clock.now(), ["phone"]))
    result = result_for(first, CallOutcome.NO_ANSWER, clock.now())
    await publish_event(service.runtime.broker, settings, result)
    clock.set(clock.now() + timedelta(days=1))
    await service.dispatcher.tick()

    [retry] = [e for e in due_events if e.attempt == 2]
    assert retry.customer.phone == NEW_PHONE


async def test_a_mileage_correction_moves_the_maintenance_reminder_and_the_due_list(
    service, settings, work_order, due_events, clock
):
    order = work_order().model_copy(update={"next_maintenance_due_date": date(2027, 5, 20)})
    await publish_event(service.runtime.broker, settings, order)
    before = {t["step"]: t for t in (await timers_by_step(service.store)).values()}
    assert before["maintenance_reminder"]["due_at"] == datetime(2027, 5, 13, 10, tzinfo=SHANGHAI)

    # On the day-3 call: the customer now expects the next maintenance on 1 March 2027.
    fix = corrected(
        2,
        clock.now(),
        ["mileage_km", "next_maintenance_due_date"],
        mileage_km=9000,
        next_due=date(2027, 3, 1),
    )
    await publish_event(service.runtime.broker, settings, fix)
    await publish_event(service.runtime.broker, settings, fix)

    timers = await timers_by_step(service.store)
    reminders = [t for t in timers.values() if t["step"] == "maintenance_reminder"]
    states = sorted((t["state"], t["due_at"]) for t in reminders)
    assert states == [
        ("cancelled", datetime(2027, 5, 13, 10, tzinfo=SHANGHAI)),
        ("pending", datetime(2027, 2, 22, 10, tzinfo=SHANGHAI)),  # D9: 7 days ahead
    ]
    [new] = [t for t in reminders if t["state"] == "pending"]
    [data] = (await service.store.contacts([new["contact_id"]])).values()  # slim timers
    assert data["customer"]["phone"] == NEW_PHONE
    assert data["vehicle"]["mileage_km"] == 9000
    vehicle = await service.store.person(f"vehicle/{DEALER}/{VIN}")
    assert vehicle["next_maintenance_due_date"] == "2027-03-01"  # D12: the March list
    assert vehicle["file_revision"] == 2


async def test_next_years_birthday_call_dials_the_corrected_phone(
    service, settings, work_order, due_events, clock
):
    """D30 with D10: the yearly scan plans from the subject kept for the customer's care; a
    correction on a call refreshes it, so the next years' birthday calls use the new phone."""
    await publish_event(service.runtime.broker, settings, work_order(birthday=date(1985, 3, 14)))
    await publish_event(service.runtime.broker, settings, corrected(2, clock.now(), ["phone"]))

    clock.set(datetime(2027, 3, 15, 0, 5, tzinfo=SHANGHAI))  # after the 2027 birthday
    await service.jobs.yearly_care(DEALER)
    timer = await service.store.timer(f"{DEALER}/customer-C-1/birthday_2028")
    assert timer is not None
    assert timer["state"] == "pending"
    contact = (await service.store.contacts([timer["contact_id"]]))[timer["contact_id"]]
    assert contact["customer"]["phone"] == NEW_PHONE
    assert timer["contact_id"].endswith("/file-2")
