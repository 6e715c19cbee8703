"""WorkOrderClosed → the D6-D7 plan as durable timers, and the dispatcher firing them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import Channel, ContactPurpose, deterministic_id
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.kafka import publish_event
from aftersales_runtime.packing import PACKED
from aftersales_scheduler import filing
from aftersales_scheduler.api import contacts_view
from aftersales_scheduler.app import load_policies
from aftersales_scheduler.domain.slots import timer_id
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.plan_work_orders import plan_work_orders
from aftersales_scheduler.planning.ports import Archive, Changes
from aftersales_scheduler.store import TimerStore, customer_key, vehicle_key

from .conftest import DEALER, DIRECTORY, SETTLED

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
STEPS = ("call_day3", "sms_survey_day7", "call_day30")
#: D6/D7: day N after settlement at calling-hours start (09:00 Shanghai); the call is timely
#: until the end of day 3 (Monday 23 November).
DUE = {
    "call_day3": datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI),
    "sms_survey_day7": datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI),
    "call_day30": datetime(2026, 12, 20, 9, 0, tzinfo=SHANGHAI),
}
TIMELY = {"call_day3": datetime(2026, 11, 24, 0, 0, tzinfo=SHANGHAI)}


async def stored_timers(mongo_db) -> list[dict]:
    return [filing.read_packed(t) for t in await mongo_db[filing.TIMERS].find().to_list()]


async def timers(mongo_db, kind="after_service"):
    return {t["_id"]: t for t in await stored_timers(mongo_db) if t["kind"] == kind}


async def filed_once(mongo_db) -> bool:
    """One live entry (not tombstoned) per pending timer, of its current attempt and version."""
    pending = [t for t in await stored_timers(mongo_db) if t["state"] == "pending"]
    buckets = await mongo_db[filing.DUE].find({"_id": {"$regex": "^slot/.*/[0-9]+$"}}).to_list()
    keys = {e["key"] for bucket in buckets for e in filing.bucket_items(bucket)}
    cancelled = {m["_id"] for m in await mongo_db[filing.MARKERS].find().to_list()}
    live = {k for k in keys if filing.cancel_id(k) not in cancelled}
    return live == {t["filed_key"] for t in pending}


async def test_a_work_order_stores_three_timers_once_even_when_redelivered(
    service, settings, work_order, due_events, mongo_db
):
    order = work_order()
    for _ in range(3):  # delivered, redelivered, replayed
        await publish_event(service.runtime.broker, settings, order)

    stored = await timers(mongo_db)
    assert sorted(stored) == sorted(timer_id(DEALER, "WO-0001", s) for s in STEPS)
    for step in STEPS:
        timer = stored[timer_id(DEALER, "WO-0001", step)]
        assert timer["due_at"] == DUE[step]
        assert timer["timely_until"] == TIMELY.get(step)
        assert timer["state"] == "pending"
        assert timer["filed_key"] == f"{timer['_id']}/1/1"
    assert await filed_once(mongo_db)


@pytest.mark.parametrize("settings", [10_000], indirect=True)
async def test_closed_work_orders_are_planned_at_once_whatever_the_service_s_pace(
    service, settings, work_order, due_events, mongo_db
):
    """The scheduler's other subscribers are paced under load (10 s apart here); closed work
    orders are not, someone waits to see them planned: paced, each of these would wait."""
    started = time.monotonic()
    for number in (1, 2, 3):
        await publish_event(service.runtime.broker, settings, work_order(number))

    assert time.monotonic() - started < 5
    assert len(await timers(mongo_db)) == 3 * len(STEPS)


async def test_a_correction_updates_pending_timers_without_a_second_one(
    service, settings, work_order, due_events, mongo_db
):
    await publish_event(service.runtime.broker, settings, work_order())
    await publish_event(service.runtime.broker, settings, work_order(revision=2, name="张伟伟"))
    await publish_event(service.runtime.broker, settings, work_order(revision=1))  # late replay

    stored = await timers(mongo_db)
    assert len(stored) == len(STEPS)
    contacts = {t["contact_id"] for t in stored.values()}  # the contact data, kept once
    found = await mongo_db[filing.CONTACTS].find({"_id": {"$in": list(contacts)}}).to_list()
    [contact] = [filing.read_packed(c) for c in found]
    assert contact["customer"]["name"] == "张伟伟"
    assert {t["revision"] for t in stored.values()} == {2}
    assert await filed_once(mongo_db)


async def test_timers_and_contact_data_are_stored_packed_and_unpacked_ones_still_change(
    service, settings, work_order, due_events, mongo_db
):
    """Timers and contact data are stored as one BSON binary each, a timer's trail at the top
    level (updates push to it); a timer stored before packing is still corrected (D30)."""
    await publish_event(service.runtime.broker, settings, work_order())
    raw = await mongo_db[filing.TIMERS].find().to_list()
    assert len(raw) > len(STEPS)  # the plan's, the reminders and care
    assert all(set(t) == {"_id", "trail", PACKED} for t in raw)
    named = {filing.read_packed(t)["contact_id"] for t in raw}
    contacts = await mongo_db[filing.CONTACTS].find({"_id": {"$in": list(named)}}).to_list()
    assert [set(c) for c in contacts] == [{"_id", PACKED}]  # one revision: one document
    for timer in raw:  # as stored before packing
        await mongo_db[filing.TIMERS].replace_one({"_id": timer["_id"]}, filing.read_packed(timer))

    await publish_event(service.runtime.broker, settings, work_order(revision=2, name="张伟伟"))

    stored = await timers(mongo_db)
    assert {t["revision"] for t in stored.values()} == {2}
    [contact_id] = {t["contact_id"] for t in stored.values()}
    contact = await TimerStore(mongo_db).contacts([contact_id])
    assert contact[contact_id]["customer"]["name"] == "张伟伟"
    assert await filed_once(mongo_db)


async def test_a_customer_without_consent_is_never_scheduled(
    service, settings, work_order, due_events, mongo_db, clock
):
    await publish_event(service.runtime.broker, settings, work_order(contact_consent=False))

    stored = await timers(mongo_db)
    assert {t["state"] for t in stored.values()} == {"suppressed"}  # D4
    assert await mongo_db[filing.DUE].count_documents({}) == 0
    clock.advance(timedelta(days=40))
    await service.dispatcher.tick()
    assert due_events == []


async def test_contacts_fire_when_due_and_never_before(
    service, settings, work_order, due_events, clock
):
    order = work_order()
    await publish_event(service.runtime.broker, settings, order)
    day3 = DUE["call_day3"]

    clock.set(day3 - timedelta(seconds=1))
    await service.dispatcher.tick()
    assert due_events == []

    clock.set(day3)
    await service.dispatcher.tick()
    await service.dispatcher.tick()
    [due] = due_events
    tid = timer_id(DEALER, "WO-0001", "call_day3")
    assert due.contact_id == tid
    assert due.event_id == deterministic_id("contact.due", tid, "1")
    assert due.purposes == [ContactPurpose.SERVICE_CALL_DAY3]
    assert due.channel is Channel.PHONE
    assert due.due_at == day3
    assert due.timely_until == TIMELY["call_day3"]  # D6: carried for the contact's `timely`
    assert due.attempt == 1
    assert due.correlation_id == order.correlation_id
    assert due.causation_id == order.event_id
    assert due.customer == order.customer
    assert due.service_advisor == order.service_advisor

    clock.set(SETTLED + timedelta(days=31))
    await service.dispatcher.tick()
    assert [e.purposes[0] for e in due_events] == [
        ContactPurpose.SERVICE_CALL_DAY3,
        ContactPurpose.SMS_SURVEY_DAY7,
        ContactPurpose.SERVICE_CALL_DAY30,
    ]
    assert due_events[1].channel is Channel.SMS  # D7 survey by SMS
    assert len({e.event_id for e in due_events}) == len(due_events)


async def test_the_preferred_channel_wins(service, settings, work_order, due_events, clock):
    await publish_event(service.runtime.broker, settings, work_order(preferred_channel=Channel.SMS))
    clock.set(SETTLED + timedelta(days=31))
    await service.dispatcher.tick()

    assert {e.channel for e in due_events} == {Channel.SMS}  # D14


async def test_timers_missed_while_down_fire_on_restart(
    service, settings, work_order, due_events, clock
):
    for number in range(1, 6):
        await publish_event(
            service.runtime.broker, settings, work_order(number, customer_id=f"C-{number}")
        )
    # The process was down for 40 days: the first tick after the restart fires everything.
    clock.set(SETTLED + timedelta(days=40))
    await service.dispatcher.tick()

    assert len(due_events) == 5 * len(STEPS)
    assert len({e.event_id for e in due_events}) == 5 * len(STEPS)


async def test_a_timer_filed_after_its_day_was_closed_still_fires(
    service, settings, work_order, due_events, clock, mongo_db
):
    await publish_event(service.runtime.broker, settings, work_order(1))
    clock.set(SETTLED + timedelta(days=10))
    await service.dispatcher.tick()
    assert len(due_events) == 2
    # A work order settled 9 days ago arrives late: its day-3 and day-7 contacts are already
    # due, in days the dispatcher has closed; they must fire now, not be lost.
    await publish_event(
        service.runtime.broker,
        settings,
        work_order(2, settled_at=SETTLED + timedelta(hours=1), customer_id="C-2"),
    )
    await service.dispatcher.tick()

    late = [e for e in due_events if e.work_order_id == "WO-0002"]
    assert sorted(e.purposes[0] for e in late) == sorted(
        [ContactPurpose.SERVICE_CALL_DAY3, ContactPurpose.SMS_SURVEY_DAY7]
    )


async def test_a_returning_customers_files_name_the_timers_settled_since_the_last_visit(
    mongo_db, work_order
):
    """On the real store: the second visit's update of the files names the first visit's
    contacts made long ago, and the one it withdrew (`settled_timer_ids`); the planner reads
    only the others from then on."""
    store = TimerStore(mongo_db)

    def planning_at(at: datetime) -> PlanningContext:
        return PlanningContext(load_policies(DIRECTORY), DIRECTORY, FixedClock(at))

    first = work_order(1)
    await plan_work_orders(planning_at(SETTLED + timedelta(hours=1)), store, [first])
    made = [timer_id(DEALER, "WO-0001", step) for step in STEPS]
    await mongo_db[filing.TIMERS].update_many({"_id": {"$in": made}}, {"$set": {"state": "done"}})

    later = SETTLED + timedelta(days=60)
    again = work_order(2, settled_at=later)
    await plan_work_orders(planning_at(later + timedelta(hours=1)), store, [again])

    day3, day7, day30 = made  # made 57, 53 and 30 days before the second visit
    for key in (customer_key(DEALER, "C-1"), vehicle_key(DEALER, "LSVAU218XN2183294")):
        stored = await mongo_db[filing.PEOPLE].find_one({"_id": key})
        assert set(stored["settled_timer_ids"]) == {
            day3,
            day7,
            timer_id(DEALER, "WO-0001", "lapsed_recall"),  # withdrawn by this visit (D11)
        }
        live = filing.live_timer_ids(filing.read_person(stored))
        assert day3 not in live
        assert day7 not in live
        assert day30 in live  # made 30 days ago: it still counts against a new contact (D13)
        assert timer_id(DEALER, "WO-0002", "call_day3") in live


async def test_a_file_of_many_visits_moves_its_settled_timers_to_its_archive(mongo_db, work_order):
    """On the real store: after 12 visits, each 30 days after the one before and the contacts
    due before it made, both files name at most ARCHIVE_AFTER settled timers; the archive and
    the file together, as the decision trail reads them, name every timer of the customer."""
    store = TimerStore(mongo_db)
    for number in range(1, 13):
        at = SETTLED + timedelta(days=30 * (number - 1))
        made = [
            t["_id"]
            for t in await stored_timers(mongo_db)
            if t["state"] == "pending" and t["due_at"] < at
        ]
        await mongo_db[filing.TIMERS].update_many(
            {"_id": {"$in": made}}, {"$set": {"state": "done"}}
        )
        ctx = PlanningContext(load_policies(DIRECTORY), DIRECTORY, FixedClock(at))
        await plan_work_orders(ctx, store, [work_order(number, settled_at=at)])

    every = {t["_id"] for t in await stored_timers(mongo_db)}
    for key in (customer_key(DEALER, "C-1"), vehicle_key(DEALER, "LSVAU218XN2183294")):
        person = await store.person(key)
        assert person is not None
        assert len(person[filing.SETTLED]) <= filing.ARCHIVE_AFTER
        assert len(person[filing.LINKED]) < len(every) / 2
        linked = await store.linked_timer_ids(person)
        assert len(linked) == len(set(linked))
        # The vehicle's file links all but the customer's birthday greetings (D10).
        assert set(linked) == {t for t in every if key.startswith("customer/") or "/WO-" in t}
    vehicle = await store.person(vehicle_key(DEALER, "LSVAU218XN2183294"))
    assert vehicle is not None
    days = sorted(v["day"] for v in vehicle["visits"])  # D9 reads the first and the last
    assert days[0] == SETTLED.date().isoformat()
    assert days[-1] == (SETTLED + timedelta(days=30 * 11)).date().isoformat()
    assert len(days) < 12 / 2
    trail = await contacts_view(store, DEALER, customer_key(DEALER, "C-1"), True)
    assert {c.contact_id for c in trail.contacts} == every  # the decision trail lists them all


async def test_archiving_pulls_only_the_settled_timers_it_names(mongo_db):
    """A link another use case adds while a batch archives stays: the pull names its ids."""
    store = TimerStore(mongo_db)
    key = customer_key(DEALER, "C-9")
    await mongo_db[filing.PEOPLE].insert_one(
        {"_id": key, filing.LINKED: ["a", "b", "c"], filing.SETTLED: ["a", "b"]}
    )
    batch = Changes(archived={key: Archive(["a", "b"])})
    await mongo_db[filing.PEOPLE].update_one({"_id": key}, {"$addToSet": {filing.LINKED: "d"}})
    await store.apply(batch, SETTLED)

    person = await store.person(key)
    assert person is not None
    assert person[filing.LINKED] == ["c", "d"]
    assert person[filing.SETTLED] == []
    assert await store.linked_timer_ids(person) == ["a", "b", "c", "d"]
