"""Use case: the daily D10 scan — next year's birthday of every customer who gave one (timer
ids carry the year, so planning twice changes nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from aftersales_scheduler.planning.care import care_timer_ids, plan_care
from aftersales_scheduler.planning.contacts import Subject
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet


@dataclass(frozen=True)
class Birthday:
    subject: Subject
    birthday: date


async def plan_birthdays(
    ctx: PlanningContext, store: PlanningStore, birthdays: Sequence[Birthday]
) -> None:
    ws = WorkingSet(store, ctx.clock.now())
    await ws.load(
        [
            tid
            for b in birthdays
            for tid in care_timer_ids(ctx, ws.now, b.subject, b.birthday, None, None)
        ],
        [b.subject.customer_key for b in birthdays],
    )
    for b in birthdays:
        plan_care(ws, ctx, b.subject, b.birthday, None, None)
    await ws.write()
