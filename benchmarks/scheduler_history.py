"""Synthetic scheduler data for the benchmark and the multi-process tests: timers as the
planner stores them, laid down in bulk through the store (`TimerStore.load`, which files them
with `filing`'s layout), and a dealer group's year of history."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from aftersales_contracts.envelope import correlation_id_for
from aftersales_scheduler.domain.slots import timer_id
from aftersales_scheduler.filing import Doc
from aftersales_scheduler.planning.contacts import customer_key, vehicle_key
from aftersales_scheduler.store import TimerStore


def synthetic_timer(
    dealer_id: str,
    number: int,
    due_at: datetime,
    step: str = "call_day3",
    prefix: str = "BULK",
    state: str = "pending",
    purpose: str = "service_call_day3",
) -> Doc:
    """A timer of a synthetic work order (pending unless told)."""
    work_order_id = f"{prefix}-{number:08d}"
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
        "correlation_id": correlation_id_for(dealer_id, work_order_id),
        "causation_id": f"bulk-{number}",
        "customer_id": f"C-{number}",
        "vin": history_vin(number),
        "revision": 1,
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


def history_dealer(number: int, stores: int, home: str) -> str:
    return home if number % stores == 0 else f"{home}-{number % stores:02d}"


def history_work_order(
    number: int, now: datetime, stores: int, home: str
) -> tuple[list[Doc], list[Doc]]:
    """One work order of the past year: its timers (the past ones done, the rest pending, the
    expiries up to six years ahead) and its customer's and vehicle's files."""
    dealer = history_dealer(number, stores, home)
    settled = now - timedelta(days=365) + timedelta(seconds=(number * 7919) % (365 * 86_400))
    timers = []
    for step, purpose, days in HISTORY_STEPS:
        ahead = timedelta(days=(number * 31 + len(step)) % (6 * 365) + 1)
        due = settled + timedelta(days=days) if days is not None else now + ahead
        state = "pending" if due > now else "done"
        timers.append(synthetic_timer(dealer, number, due, step, "HIST", state, purpose))
    ids = [t["_id"] for t in timers]
    customer = {
        "_id": customer_key(dealer, f"C-{number}"),
        "timer_ids": ids,
        "care_dealer_id": dealer,
        "birthday": "1985-03-14",
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
    return timers, [customer, vehicle]


async def load_history(
    store: TimerStore, work_orders: int, now: datetime, home: str, stores: int = 50
) -> float:
    """A year of a dealer group (`stores` stores, `home` one of them): `work_orders` closed
    work orders with the timers they leave and the people files. Returns the seconds taken."""
    started = time.perf_counter()
    chunk = 10_000
    for first in range(0, work_orders, chunk):
        timers: list[Doc] = []
        people: list[Doc] = []
        for number in range(first, min(work_orders, first + chunk)):
            found, files = history_work_order(number, now, stores, home)
            timers += found
            people += files
        await store.load(timers, first_day=now.date())
        await store.load_people(people)
        print(
            f"  … history: {min(work_orders, first + chunk):,} work orders, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return time.perf_counter() - started
