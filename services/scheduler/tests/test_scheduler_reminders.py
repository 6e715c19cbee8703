"""D8 delivery, D9 maintenance, D10 care, D11 lapsed, D12 monthly list (and its one-replica job)."""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_contracts import (
    ContactPurpose,
    Customer,
    Staff,
    Vehicle,
    VehicleDelivered,
    correlation_id_for,
    deterministic_id,
)
from aftersales_runtime.kafka import publish_event
from aftersales_scheduler import filing
from aftersales_scheduler.domain.reminders import km_per_day, maintenance_due, next_anniversary
from aftersales_scheduler.filing import month_days_passed, read_person
from aftersales_scheduler.periodic import PeriodicJobs, days_between
from aftersales_scheduler.planning.contacts import vehicle_key

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTLED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # as in conftest


def local(day: date, at: time = time(10, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI)


async def timers_by_step(mongo_db) -> dict[str, dict]:
    return {t["step"]: t for t in await stored_timers(mongo_db)}


async def stored_timers(mongo_db) -> list[dict]:
    return [filing.read_packed(t) for t in await mongo_db[filing.TIMERS].find().to_list()]


def test_mileage_turns_into_a_date_with_the_vehicles_km_per_day():
    visits = [(date(2026, 1, 1), 10_000), (date(2026, 11, 1), 40_000)]  # ~98.7 km a day
    rate = km_per_day(visits)
    assert rate == pytest.approx(30_000 / 304)
    by_km = maintenance_due(None, 45_000, visits)
    assert by_km == date(2026, 11, 1) + timedelta(days=int(5_000 / rate))
    # Whichever comes first (D9).
    assert maintenance_due(date(2026, 11, 10), 45_000, visits) == date(2026, 11, 10)
    assert maintenance_due(None, 45_000, visits[:1]) is None  # no rate from one visit
    assert next_anniversary(date(1988, 2, 29), date(2027, 1, 5)) == date(2027, 2, 28)
    assert next_anniversary(date(1985, 3, 14), date(2027, 3, 15)) == date(2028, 3, 14)


def test_a_vehicles_visits_between_its_first_and_last_change_no_maintenance_date():
    """D9 reads the first and the last visit: those a file drops (`filing.visits_between`,
    when it archives) change no date, whatever the visits (corrections add some out of order,
    or on one day). A file's visits are a set (`$addToSet`)."""
    rng = random.Random(19)

    def pairs(visits: list[dict]) -> list[tuple[date, int]]:
        return [(date.fromisoformat(v["day"]), v["km"]) for v in visits]

    for _ in range(200):
        days = [date(2024, 1, 1) + timedelta(days=rng.randrange(900)) for _ in range(12)]
        unique = {(rng.choice(days).isoformat(), rng.randrange(90_000)) for _ in range(12)}
        visits = [{"day": day, "km": km} for day, km in list(unique)[: rng.randrange(1, 12)]]
        dropped = filing.visits_between({"visits": visits})
        kept = [v for v in visits if v not in dropped]
        assert len(kept) == min(len(visits), 2)
        for due_date in (None, date(2027, 3, 1)):
            for due_km in (None, 50_000, 120_000):
                assert maintenance_due(due_date, due_km, pairs(kept)) == maintenance_due(
                    due_date, due_km, pairs(visits)
                )


async def test_a_delivery_plans_the_sales_call_and_the_first_maintenance_reminder(
    service, settings, due_events, mongo_db, clock
):
    delivered_at = local(date(2026, 11, 18), time(15, 30))
    event = VehicleDelivered(
        event_id=deterministic_id("delivery", "DL-1"),
        occurred_at=delivered_at,
        dealer_id="dealer-sz-001",
        correlation_id=correlation_id_for("dealer-sz-001", "DL-1"),
        delivery_id="DL-1",
        delivered_at=delivered_at,
        vehicle=Vehicle(vin="LGXCE4CB2N0123456", brand="比亚迪", model="海豹"),
        customer=Customer(
            customer_id="C-9",
            name="杨帆",
            phone="+8613900000000",
            is_owner=True,
            contact_consent=True,
        ),
        sales_consultant=Staff(id="SC-015", name="杨帆"),
    )
    await publish_event(service.runtime.broker, settings, event)
    await publish_event(service.runtime.broker, settings, event)

    timers = await timers_by_step(mongo_db)
    # D8: counted from the delivery event: day 2 at calling-hours start, timely for 3 days;
    # the run-in reminder on day 14.
    assert timers["sales_call_day3"]["due_at"] == local(date(2026, 11, 20), time(9))
    assert timers["sales_call_day3"]["timely_until"] == local(date(2026, 11, 22), time(0))
    assert timers["first_maintenance_reminder"]["due_at"] == local(date(2026, 12, 2), time(9))
    clock.set(delivered_at + timedelta(days=22))
    await service.dispatcher.tick()
    assert [e.purposes for e in due_events] == [
        [ContactPurpose.SALES_CALL_DAY3],
        [ContactPurpose.FIRST_MAINTENANCE_REMINDER],
    ]
    # D24: the consultant travels as the consultant, not as the service advisor.
    assert {e.sales_consultant for e in due_events} == {Staff(id="SC-015", name="杨帆")}
    assert {e.service_advisor for e in due_events} == {None}


async def test_a_maintenance_reminder_is_cancelled_when_the_customer_comes_first(
    service, settings, work_order, due_events, mongo_db, clock
):
    first = work_order(1).model_copy(update={"next_maintenance_due_date": date(2027, 5, 20)})
    await publish_event(service.runtime.broker, settings, first)
    reminder = (await timers_by_step(mongo_db))["maintenance_reminder"]
    assert reminder["due_at"] == local(date(2027, 5, 13))  # D9: 7 days' lead, 10:00 local

    clock.set(datetime(2027, 4, 2, 2, 0, tzinfo=UTC))
    came_early = work_order(2, settled_at=clock.now())
    await publish_event(service.runtime.broker, settings, came_early)

    reminder = await service.store.timer(reminder["_id"])
    assert reminder["state"] == "cancelled"
    assert reminder["trail"][-1]["detail"] == "cancelled by a visit (WO-0002)"
    lapsed_first = await service.store.timer("dealer-sz-001/WO-0001/lapsed_recall")
    assert lapsed_first["state"] == "cancelled"  # D11: the customer is back
    lapsed_second = await service.store.timer("dealer-sz-001/WO-0002/lapsed_recall")
    assert lapsed_second["due_at"] == local(date(2027, 4, 2) + timedelta(days=180))


async def test_care_contacts_come_their_lead_time_before_the_date(
    service, settings, work_order, due_events, mongo_db
):
    order = work_order(birthday=date(1985, 3, 14)).model_copy(
        update={"insurance_expiry": date(2027, 3, 1), "licence_expiry": date(2031, 6, 30)}
    )
    await publish_event(service.runtime.broker, settings, order)
    await publish_event(service.runtime.broker, settings, order)

    timers = await timers_by_step(mongo_db)
    assert timers["birthday_2027"]["due_at"] == local(date(2027, 3, 13))  # 1 day before
    assert timers["insurance_2027-03-01"]["due_at"] == local(date(2027, 1, 30))  # 30 days
    assert timers["licence_2031-06-30"]["due_at"] == local(date(2031, 5, 31))
    assert timers["birthday_2027"]["_id"] == "dealer-sz-001/customer-C-1/birthday_2027"


def test_a_daily_care_run_looks_up_the_birthdays_that_passed_since_the_last_one():
    assert days_between(date(2026, 11, 25), date(2026, 11, 27)) == [
        date(2026, 11, 25),
        date(2026, 11, 26),
    ]
    assert days_between(date(2026, 11, 27), date(2026, 11, 27)) == []
    assert month_days_passed(date(2027, 2, 28)) == ["02-28", "02-29"]  # no 29th in 2027
    assert month_days_passed(date(2028, 2, 28)) == ["02-28"]
    assert month_days_passed(date(2028, 2, 29)) == ["02-29"]


async def test_the_daily_care_run_plans_next_years_birthday_of_those_whose_birthday_passed(
    service, settings, work_order, due_events, clock, mongo_db, caplog
):
    """D10: the day after a birthday, next year's is planned; the run reads the birthday index
    of the days that passed, not every customer (the first run reads them all once)."""
    clock.set(datetime(2026, 11, 21, 1, 0, tzinfo=UTC))
    first = work_order(1, customer_id="C-1", birthday=date(1985, 11, 25))
    second = work_order(2, customer_id="C-2", vin="LSVAU218XN2183295", birthday=date(1990, 12, 10))
    for order in (first, second):
        await publish_event(service.runtime.broker, settings, order)
    buckets, _ = await service.store.timeline.read("birthdays/dealer-sz-001/11-25", 0)
    assert buckets == [["customer/dealer-sz-001/C-1"]]

    caplog.set_level(logging.INFO)
    await service.jobs.yearly_care("dealer-sz-001")  # the first run: every customer, once
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))  # C-1's birthday has passed
    await service.jobs.yearly_care("dealer-sz-001")

    planned = [r.customers for r in caplog.records if r.getMessage() == "yearly care planned"]
    assert planned == [2, 1]  # the second run looked up only the days 21-26 November
    timers = await stored_timers(mongo_db)
    births = sorted(t["_id"] for t in timers if t["step"].startswith("birthday_"))
    assert births == [
        "dealer-sz-001/customer-C-1/birthday_2026",
        "dealer-sz-001/customer-C-1/birthday_2027",
        "dealer-sz-001/customer-C-2/birthday_2026",
    ]


async def test_the_daily_care_run_reads_the_index_people_held_before_its_buckets(
    service, settings, work_order, due_events, clock, mongo_db, caplog
):
    """A customer indexed in the one document per day of before (`people`) is still planned;
    one indexed nowhere is not: the run reads the index, not every customer."""
    clock.set(datetime(2026, 11, 21, 1, 0, tzinfo=UTC))
    await service.jobs.yearly_care("dealer-sz-001")  # the first run, before any customer
    await publish_event(
        service.runtime.broker,
        settings,
        work_order(1, customer_id="C-1", birthday=date(1985, 11, 24)),
    )
    await publish_event(
        service.runtime.broker,
        settings,
        work_order(2, customer_id="C-2", vin="LSVAU218XN2183295", birthday=date(1990, 11, 25)),
    )
    await mongo_db[filing.DUE].delete_many({"_id": {"$regex": "^birthdays/"}})
    await mongo_db["people"].insert_one(
        {"_id": "birthdays/dealer-sz-001/11-24", "customers": ["customer/dealer-sz-001/C-1"]}
    )

    caplog.set_level(logging.INFO)
    caplog.clear()
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    await service.jobs.yearly_care("dealer-sz-001")

    planned = [r.customers for r in caplog.records if r.getMessage() == "yearly care planned"]
    assert planned == [1]
    timers = {t["_id"] for t in await mongo_db[filing.TIMERS].find().to_list()}
    assert "dealer-sz-001/customer-C-1/birthday_2027" in timers
    assert "dealer-sz-001/customer-C-2/birthday_2027" not in timers


async def test_the_first_daily_care_run_indexes_the_birthdays_files_kept_before_the_index(
    service, settings, work_order, due_events, clock, mongo_db
):
    clock.set(datetime(2026, 11, 21, 1, 0, tzinfo=UTC))
    order = work_order(1, customer_id="C-1", birthday=date(1985, 11, 24))
    await publish_event(service.runtime.broker, settings, order)
    await mongo_db[filing.DUE].delete_many({"_id": {"$regex": "^birthdays/"}})  # none then

    await service.jobs.yearly_care("dealer-sz-001")  # reads every customer, indexes them
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    await service.jobs.yearly_care("dealer-sz-001")  # reads the index only

    timers = {t["_id"] for t in await mongo_db[filing.TIMERS].find().to_list()}
    assert "dealer-sz-001/customer-C-1/birthday_2027" in timers


async def test_a_persons_nested_fields_are_stored_packed_and_nested_ones_are_still_read(
    service, settings, work_order, due_events, clock, mongo_db
):
    """The care subject and the vehicle's contact data are stored as one JSON text each; a
    customer stored before (nested) is still planned from by the daily care run (D10)."""
    clock.set(datetime(2026, 11, 21, 1, 0, tzinfo=UTC))
    order = work_order(1, customer_id="C-1", birthday=date(1985, 11, 25))
    await publish_event(service.runtime.broker, settings, order)
    people = mongo_db["people"]
    key = "customer/dealer-sz-001/C-1"
    stored = await people.find_one({"_id": key})
    vehicle = await people.find_one({"_id": vehicle_key("dealer-sz-001", order.vehicle.vin)})
    assert isinstance(stored["care_subject"], str)
    assert isinstance(vehicle["contact_data"], str)
    await people.replace_one({"_id": key}, read_person(stored))  # as stored before packing
    assert isinstance((await people.find_one({"_id": key}))["care_subject"], dict)

    await service.jobs.yearly_care("dealer-sz-001")  # the first run reads every customer
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    await service.jobs.yearly_care("dealer-sz-001")

    timers = {t["_id"] for t in await mongo_db[filing.TIMERS].find().to_list()}
    assert "dealer-sz-001/customer-C-1/birthday_2027" in timers


async def test_the_monthly_due_list_is_built_once_on_the_first(
    tokens, service, settings, work_order, due_events, clock
):
    for number, due in ((1, date(2027, 5, 20)), (2, date(2027, 5, 3)), (3, date(2027, 6, 1))):
        order = work_order(number, customer_id=f"C-{number}", vin=f"LSVAU218XN218329{number}")
        order = order.model_copy(update={"next_maintenance_due_date": due})
        await publish_event(service.runtime.broker, settings, order)
    clock.set(local(date(2027, 5, 1), time(0, 5)))
    other_replica = PeriodicJobs(
        service.store, service.planning, "replica-b", logging.getLogger("test")
    )
    await service.jobs.run_once()
    await other_replica.run_once()

    transport = httpx.ASGITransport(app=service.http)
    advisor = tokens.header("service_advisor")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://scheduler", headers=advisor
    ) as client:
        found = await client.get("/v1/dealers/dealer-sz-001/due-maintenance/2027-05")
        missing = await client.get("/v1/dealers/dealer-sz-001/due-maintenance/2027-06")
    assert found.status_code == 200
    assert [(v["vin"][-1], v["due_date"]) for v in found.json()["vehicles"]] == [
        ("2", "2027-05-03"),
        ("1", "2027-05-20"),
    ]
    assert missing.status_code == 404
    runs = (
        await service.store.db["job_runs"]
        .find({"_id": {"$regex": "^monthly_due_list/dealer-sz-001/"}})
        .to_list()
    )
    assert [(r["owner"], r.get("finished")) for r in runs] == [("replica-a", True)]


def test_the_periodic_job_keeps_runs_that_fell_due_while_busy(service):
    scheduler = service.jobs.scheduler(60)
    [job] = scheduler.get_jobs()
    assert job.misfire_grace_time == 3600
    assert job.coalesce is True
    assert job.max_instances == 1
