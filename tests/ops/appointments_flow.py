"""Workshop appointments (D31) in the rolling restart: agents book half of the workload's vehicles
while the services restart (the appointments service's own processes included), retrying each
booking with its own `request_id` until it answers (an agent's retry button); then the checker
counts what the bookings must have produced:

- `appointments`: each booking once in its dealer's daily list, nothing else listed that day;
- `reminders`: the scheduler planned one `appointment_reminder` per booked vehicle (consumed
  `aftersales.appointment.event`);
- `appointment reports`: reporting counted each booking once, in the month's and in the ISO
  week's report of the appointment's day (consumed the same topic).

The appointment's day is the Saturday of the week of the day-3 calls (the clock stops on
Thursday afternoon: a later week's report would be in the future, 422): its reminder (Friday)
is never due while the test's clock runs, so the calls the checker counts are only the
workload's, and no sweep marks it a no-show.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from tests.reliability.checker import Counts, StageCount
from tests.reliability.client import TRANSIENT, ServiceClient
from tests.reliability.workload import DEALERS, REPORT_MONTH, Workload

DAY = date(2026, 11, 21)
WEEK = "2026-W47"
SLOTS = ("0900", "1030", "1330", "1500")  # the default workshop's, 4 bays each
STAGES = ("appointments", "reminders", "appointment reports")


@dataclass(frozen=True)
class Booking:
    request_id: str
    dealer: str
    vin: str
    customer_id: str
    slot_id: str

    def body(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "vin": self.vin,
            "customer_id": self.customer_id,
            "day": DAY.isoformat(),
            "slot_id": self.slot_id,
            "service": "maintenance",
            "parts_to_prepare": ["机油滤清器"],
        }


def bookings_for(workload: Workload) -> list[Booking]:
    """Every other order's vehicle, spread over the slots (never more than their bays)."""
    chosen = workload.orders[::2]
    return [
        Booking(
            request_id=f"restart-call-{n}",
            dealer=order.dealer,
            vin=order.vin,
            customer_id=str(order.payload["customer"]["customer_id"]),
            slot_id=SLOTS[n % len(SLOTS)],
        )
        for n, order in enumerate(chosen)
    ]


@dataclass
class Booked:
    """What the agents saw: each booking's appointment id, and how many answers were retries."""

    ids: dict[str, str]  # request_id -> appointment_id
    retries: int = 0
    found_on_retry: int = 0  # 200: a retry found the booking an earlier attempt had made

    def merged(self, other: Booked) -> Booked:
        return Booked(
            self.ids | other.ids,
            self.retries + other.retries,
            self.found_on_retry + other.found_on_retry,
        )


async def book_all(
    api: ServiceClient,
    bookings: list[Booking],
    rate: float,
    deadline: float,
    one_booked: Callable[[], None] = lambda: None,
) -> Booked:
    booked = Booked({})
    for booking in bookings:
        while booking.request_id not in booked.ids:
            assert time.monotonic() < deadline, f"{booking.request_id} never answered"
            try:
                answer = await api.call(
                    "appointments",
                    "POST",
                    f"/v1/dealers/{booking.dealer}/appointments",
                    json=booking.body(),
                    sub="agent-booking",
                )
            except TRANSIENT:  # the process is restarting: the agent presses retry
                booked.retries += 1
                await asyncio.sleep(1)
                continue
            if answer.status_code >= 500:
                booked.retries += 1
                await asyncio.sleep(1)
                continue
            assert answer.status_code in (200, 201), f"{answer.status_code} {answer.text}"
            booked.found_on_retry += answer.status_code == 200
            booked.ids[booking.request_id] = answer.json()["appointment_id"]
            one_booked()
        await asyncio.sleep(1 / rate)
    return booked


async def _json(api: ServiceClient, service: str, path: str, **params: str) -> dict[str, Any]:
    found: dict[str, Any] | None = await api.read(service, path, **params)
    assert found is not None, f"{service} {path}: 404"
    return found


async def count_appointments(api: ServiceClient, bookings: list[Booking], booked: Booked) -> Counts:
    n = len(bookings)
    # Each booking is counted in two reports: its month's and its ISO week's.
    counts = Counts(
        {
            "appointments": StageCount(n),
            "reminders": StageCount(n),
            "appointment reports": StageCount(2 * n),
        }
    )
    per_dealer = Counter(b.dealer for b in bookings)
    listed: Counter[str] = Counter()
    for dealer in DEALERS:
        day = await _json(
            api, "appointments", f"/v1/dealers/{dealer}/appointments", day=DAY.isoformat()
        )
        listed.update(str(a["appointment_id"]) for a in day["items"])
        path = f"/v1/dealers/{dealer}/reports"
        monthly = await _json(api, "reporting", f"{path}/monthly", month=REPORT_MONTH)
        weekly = await _json(api, "reporting", f"{path}/weekly", week=WEEK)
        for report in (monthly, weekly):
            counts.stages["appointment reports"].add(
                report["appointments"]["booked"], per_dealer[dealer]
            )
    for booking in bookings:
        counts.stages["appointments"].add(listed.pop(booked.ids.get(booking.request_id, "?"), 0))
        contacts = await api.planned_contacts(booking.dealer, booking.vin)
        reminders = [c for c in contacts if c["step"] == "appointment_reminder"]
        counts.stages["reminders"].add(len(reminders))
    counts.stages["appointments"].add(sum(listed.values()), 0)  # listed, but nobody booked it
    return counts
