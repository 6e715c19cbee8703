"""A dealer group's history for the benchmarks and the multi-process tests, in the storage
shape, loaded in bulk (not through Kafka): the scheduler's timers as the planner stores them
(through `TimerStore.load`, which files them with `filing`'s layout), the contact data they name,
the people files; and, for the pipeline, intake's vehicle files (`benchmarks.intake_history`).

    await load_history(TimerStore(db), 500_000, now, home="dealer-sz-001")  # a year, 50 stores
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

from aftersales_contracts.envelope import correlation_id_for
from aftersales_scheduler import filing
from aftersales_scheduler.domain.reminders import month_of
from aftersales_scheduler.domain.slots import timer_id
from aftersales_scheduler.filing import Doc
from aftersales_scheduler.planning.contacts import customer_key, vehicle_key
from aftersales_scheduler.store import TimerStore
from pymongo.asynchronous.database import AsyncDatabase


def synthetic_contact(dealer_id: str, number: int, prefix: str = "BULK") -> Doc:
    """The contact data of a synthetic work order (kept once; its timers name it)."""
    work_order_id = f"{prefix}-{number:08d}"
    return {
        "_id": filing.contact_id(dealer_id, work_order_id, 1),
        "customer": {
            "customer_id": f"C-{number}",
            "name": "测试",
            "phone": "+8613800138000",
            "is_owner": True,
            "contact_consent": True,
        },
        "vehicle": {
            "vin": history_vin(number),
            "plate": "粤B12345",
            "brand": "大众",
            "model": "帕萨特",
        },
        "service_advisor": {"id": "SA-1", "name": "王芳"},
        "technicians": [],
        "sales_consultant": None,
    }


def synthetic_timer(
    dealer_id: str,
    number: int,
    due_at: datetime,
    step: str = "call_day3",
    prefix: str = "BULK",
    state: str = "pending",
    purpose: str = "service_call_day3",
) -> Doc:
    """A timer of a synthetic work order (pending unless told); its contact data is
    `synthetic_contact(dealer_id, number, prefix)`."""
    work_order_id = f"{prefix}-{number:08d}"
    correlation_id = correlation_id_for(dealer_id, work_order_id)
    return {
        "_id": timer_id(dealer_id, work_order_id, step),
        "dealer_id": dealer_id,
        "kind": "after_service",
        "source_id": work_order_id,
        "step": step,
        "purposes": [purpose],
        "channel": "phone",
        "nominal_at": due_at,
        "due_at": due_at,
        "attempt": 1,
        "version": 1,
        "state": state,
        "work_order_id": work_order_id,
        "correlation_id": correlation_id,
        "causation_id": f"bulk-{number}",
        "customer_id": f"C-{number}",
        "vin": history_vin(number),
        "revision": 1,
        "contact_id": filing.contact_id(dealer_id, work_order_id, 1),
        "trail": [],
    }


def history_vin(number: int) -> str:
    return f"LSVAU218X{number:08d}"


#: A work order's timers: (step, purpose, days after settlement or None = an expiry ahead).
HISTORY_STEPS = (
    ("call_day3", "service_call_day3", 3),
    ("sms_survey_day7", "sms_survey_day7", 7),
    ("call_day30", "service_call_day30", 30),
    ("maintenance_reminder", "maintenance_reminder", 173),
    ("lapsed_recall", "lapsed_customer_recall", 180),
    ("insurance_care", "insurance_expiry_care", None),
    ("licence_care", "licence_expiry_care", None),
)


def group_stores(configured: list[str], count: int = 50) -> list[str]:
    """The group's stores: the configured dealers first, then the rest (intake's names)."""
    return [*configured, *(f"dealer-grp-{n:03d}" for n in range(len(configured), count))]


def history_work_order(
    number: int, now: datetime, stores: list[str]
) -> tuple[list[Doc], list[Doc], Doc]:
    """One work order of the past year: its timers (the past ones done, the rest pending, the
    expiries up to six years ahead), its customer's and vehicle's files, its contact data."""
    dealer = stores[number % len(stores)]
    settled = now - timedelta(days=365) + timedelta(seconds=(number * 7919) % (365 * 86_400))
    timers = []
    for step, purpose, days in HISTORY_STEPS:
        ahead = timedelta(days=(number * 31 + len(step)) % (6 * 365) + 1)
        due = settled + timedelta(days=days) if days is not None else now + ahead
        state = "pending" if due > now else "done"
        timers.append(synthetic_timer(dealer, number, due, step, "HIST", state, purpose))
    ids = [t["_id"] for t in timers]
    contact = synthetic_contact(dealer, number, "HIST")
    source = f"HIST-{number:08d}"
    customer = {
        "_id": customer_key(dealer, f"C-{number}"),
        "timer_ids": ids,
        "care_dealer_id": dealer,
        "birthday": history_birthday(number).isoformat(),
        "care_subject": {  # what the planner keeps to plan next year's birthday (D10)
            "dealer_id": dealer,
            "source_id": source,
            "correlation_id": correlation_id_for(dealer, source),
            "causation_id": correlation_id_for(dealer, source),
            "revision": 1,
            "file_revision": 0,
            **{k: v for k, v in contact.items() if k != "_id"},
        },
    }
    vehicle = {
        "_id": vehicle_key(dealer, history_vin(number)),
        "dealer_id": dealer,
        "vin": history_vin(number),
        "customer_id": f"C-{number}",
        "timer_ids": ids,
        "last_visit_at": settled,
        "visits": [{"day": settled.date().isoformat(), "km": 10_000 + number % 50_000}],
        "next_maintenance_due_date": (settled + timedelta(days=180)).date().isoformat(),
    }
    return timers, [customer, vehicle], contact


def history_birthday(number: int) -> date:
    """Birthdays spread over the year, so a day's care run meets about 1/365 of them."""
    return date(1985, 1, 1) + timedelta(days=number % 365)


def birthday_index(people: list[Doc]) -> dict[str, list[str]]:
    """The scheduler's birthday index of these customers (D10), as the planner files it."""
    index: dict[str, list[str]] = {}
    for person in people:
        if "birthday" in person:
            key = filing.birthday_sequence(person["care_dealer_id"], person["birthday"][5:])
            index.setdefault(key, []).append(person["_id"])
    return index


async def load_history(
    store: TimerStore,
    work_orders: int,
    now: datetime,
    stores: list[str],
    first_day: date | None = None,
) -> float:
    """A year of a dealer group (`group_stores`): `work_orders` closed
    work orders with the timers they leave, their contact data and the people files, in the
    scheduler's storage shape. Returns the seconds taken."""
    started = time.perf_counter()
    chunk = 10_000
    index: dict[str, list[str]] = {}
    month = month_of(now.date())
    due_this_month: dict[str, list[Doc]] = {dealer: [] for dealer in stores}
    for first in range(0, work_orders, chunk):
        timers: list[Doc] = []
        people: list[Doc] = []
        contacts: list[Doc] = []
        for number in range(first, min(work_orders, first + chunk)):
            found, files, contact = history_work_order(number, now, stores)
            timers += found
            people += files
            contacts.append(contact)
        await store.load(timers, first_day=first_day or now.date(), contacts=contacts)
        await store.load_people(people)
        for key, customers in birthday_index(people).items():
            index.setdefault(key, []).extend(customers)
        for person in people:
            if (person.get("next_maintenance_due_date") or "").startswith(month):
                due_this_month[person["dealer_id"]].append(
                    {
                        "vin": person["vin"],
                        "customer_id": person["customer_id"],
                        "due_date": person["next_maintenance_due_date"],
                    }
                )
        print(
            f"  … history: {min(work_orders, first + chunk):,} work orders, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    await store.finish_load()
    # A running scheduler's state: the time line's hints, the birthday index, each store's
    # daily care run done today (the next one looks up the birthdays of the days after it),
    # and this month's D12 list (built on the 1st; no store scans its people again this month).
    await store.index_birthdays(index)
    for dealer in stores:
        await store.record_run_day(f"yearly_care/{dealer}", now.date())
        entries = sorted(due_this_month[dealer], key=lambda e: (e["due_date"], e["vin"]))
        await store.save_due_list(dealer, month, entries, now)
    return time.perf_counter() - started


async def load_group_history(
    scheduler_db: AsyncDatabase[Doc],
    intake_db: AsyncDatabase[Doc],
    work_orders: int,
    now: datetime,
    dealers: list[str],
    template_orders: list[dict[str, Any]],
    first_day: date | None = None,
) -> dict[str, float]:
    """The whole group's year for the pipeline: intake's work orders and vehicle files (its
    stores: `dealers` first, then the rest of the 50) and the scheduler's timers years ahead,
    contact data and people files. Returns the seconds each took."""
    from benchmarks import intake_history  # intake's shapes: only the pipeline needs them

    started = time.perf_counter()
    stores = group_stores(dealers)
    await intake_history.load(intake_db, work_orders, stores, template_orders, [])
    intake_seconds = time.perf_counter() - started
    scheduler_seconds = await load_history(
        TimerStore(scheduler_db), work_orders, now, stores, first_day
    )
    return {"intake": intake_seconds, "scheduler": scheduler_seconds}
