"""Counts every stage through the services' HTTP APIs and compares them with the known input.

A stage's `lost` is what the input should have produced and is missing; its `duplicated` is what
is there more than once (or should not be there at all).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from tests.reliability.client import ServiceClient
from tests.reliability.workload import AFTER_SERVICE_STEPS, DEALERS, REPORT_MONTH, Workload

STAGES = ("work orders", "planned", "tasks", "results", "tickets", "report")


@dataclass
class StageCount:
    expected: int
    found: int = 0
    lost: int = 0
    duplicated: int = 0

    def add(self, found: int, expected: int = 1) -> None:
        self.found += found
        self.lost += max(0, expected - found)
        self.duplicated += max(0, found - expected)


@dataclass
class Counts:
    stages: dict[str, StageCount] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return sum(s.lost for s in self.stages.values())

    @property
    def duplicated(self) -> int:
        return sum(s.duplicated for s in self.stages.values())

    def complete(self, *stages: str) -> bool:
        wanted = stages or tuple(self.stages)
        return all(self.stages[s].lost == 0 and self.stages[s].duplicated == 0 for s in wanted)

    def summary(self) -> str:
        return "  ".join(
            f"{name} {s.found}/{s.expected}"
            + (f" (lost {s.lost}, dup {s.duplicated})" if s.lost or s.duplicated else "")
            for name, s in self.stages.items()
        )


async def count_intake_and_plans(api: ServiceClient, workload: Workload) -> Counts:
    """Stored work orders (each once in its vehicle file) and their after-service contacts."""
    n = len(workload.orders)
    counts = Counts({"work orders": StageCount(n), "planned": StageCount(n * 3)})

    async def one(order_index: int) -> None:
        order = workload.orders[order_index]
        file = await api.vehicle(order.dealer, order.vin)
        history = (file or {}).get("history", [])
        counts.stages["work orders"].add(
            sum(h.get("record_id") == order.work_order_id for h in history)
        )
        planned = Counter(
            c["step"]
            for c in await api.planned_contacts(order.dealer, order.vin)
            if c.get("work_order_id") == order.work_order_id and c["step"] in AFTER_SERVICE_STEPS
        )
        for step in AFTER_SERVICE_STEPS:
            counts.stages["planned"].add(planned.get(step, 0))

    for start in range(0, n, 10):  # a few at a time: the services share two cores
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + 10))))
    return counts


async def count_calls(api: ServiceClient, workload: Workload) -> Counts:
    """Day-3 call tasks, their results, the tickets they opened and the monthly reports."""
    n, by_wo = len(workload.orders), workload.by_work_order()
    counts = Counts(
        {
            "tasks": StageCount(n),
            "results": StageCount(n),
            "tickets": StageCount(workload.tickets),
            "report": StageCount(n + workload.tickets),
        }
    )
    tasks: Counter[str] = Counter()
    done: Counter[str] = Counter()
    tickets: Counter[str] = Counter()
    made = opened = 0
    for dealer in DEALERS:
        # Contact lists open work only: a task still open or claimed counts here, a finished one
        # is read below from the scheduler, whose day-3 contact a result closed ("done").
        for task in await api.tasks(dealer):
            if "service_call_day3" in task["purposes"]:
                tasks[task.get("work_order_id") or "?"] += 1
        for ticket in await api.complaints(dealer):
            tickets[ticket.get("work_order_id") or "?"] += 1
        report = await api.monthly_report(dealer, REPORT_MONTH)
        made += report["contacts_made"]
        opened += report["complaints_opened"]["total"]
    for order in workload.orders:
        for contact in await api.planned_contacts(order.dealer, order.vin):
            if contact.get("work_order_id") == order.work_order_id and (
                contact["step"] == "call_day3" and contact["state"] == "done"
            ):
                done[order.work_order_id] += 1
                tasks[order.work_order_id] += 1  # it was a task, and it left the queue
    for wo, order in by_wo.items():
        counts.stages["tasks"].add(tasks.pop(wo, 0))
        counts.stages["results"].add(done.pop(wo, 0))
        counts.stages["tickets"].add(tickets.pop(wo, 0), int(order.opens_ticket))
    # Anything left belongs to no work order of the input: duplicated by definition.
    counts.stages["tasks"].add(sum(tasks.values()), 0)
    counts.stages["results"].add(sum(done.values()), 0)
    counts.stages["tickets"].add(sum(tickets.values()), 0)
    counts.stages["report"].add(made, n)
    counts.stages["report"].add(opened, workload.tickets)
    return counts


async def count_all(api: ServiceClient, workload: Workload) -> Counts:
    first = await count_intake_and_plans(api, workload)
    second = await count_calls(api, workload)
    return Counts(first.stages | second.stages)
