"""Periodic jobs (D10 yearly care, D12 monthly due-maintenance list), driven by APScheduler.

APScheduler wakes the job every few minutes of real time; what is due is decided on the
injected clock, in each dealer's zone, so the controlled clock of tests and demos drives it too.
Each run is claimed per dealer and period (`job_runs/{job}/{dealer}/{period}`, an insert): one
replica runs it; a claim whose runner died unfinished is taken over after a lease.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aftersales_scheduler.domain.reminders import month_of
from aftersales_scheduler.filing import birthday_sequence, month_days_passed
from aftersales_scheduler.planning.contacts import Subject
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.plan_yearly_care import Birthday, plan_birthdays
from aftersales_scheduler.store import TimerStore

RUN_LEASE = timedelta(minutes=15)
YEARLY_CARE_BATCH = 200
#: How far back a daily run catches up on days it missed (a year: every birthday once).
MAX_CATCH_UP = timedelta(days=366)


class PeriodicJobs:
    def __init__(
        self,
        store: TimerStore,
        planning: PlanningContext,
        owner: str,
        logger: logging.Logger,
    ) -> None:
        self.store = store
        self.planning = planning
        self.clock = planning.clock
        self.owner = owner
        self.logger = logger

    def scheduler(self, every_seconds: float) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.run_once,
            IntervalTrigger(seconds=every_seconds),
            id="periodic-scans",
            # A run that fell due while the process was busy or down still runs (APScheduler's
            # 1 s default would skip it silently); runs missed in a row collapse into one.
            misfire_grace_time=3600,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),  # the first run at once (catching up), then every…
        )
        return scheduler

    async def run_once(self) -> None:
        try:
            for dealer_id in self.planning.dealer_ids():
                await self.monthly_due_list(dealer_id)
                await self.yearly_care(dealer_id)
        except Exception:
            self.logger.exception("periodic scan failed; the next run retries")

    async def _claim(self, job: str, dealer_id: str, period: str) -> bool:
        return await self.store.claim_job_run(
            f"{job}/{dealer_id}", period, self.owner, self.clock.now(), RUN_LEASE
        )

    async def monthly_due_list(self, dealer_id: str) -> None:
        """D12: on the 1st of each month (dealer's zone), the vehicles whose maintenance falls
        due that month, kept so that reporting can compute the arrival rate later."""
        today = self.clock.now().astimezone(self.planning.zone(dealer_id)).date()
        month = month_of(today)
        if await self.store.due_list(dealer_id, month) is not None:
            return
        if not await self._claim("monthly_due_list", dealer_id, month):
            return
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        vehicles = await self.store.people_matching(
            {
                "dealer_id": dealer_id,
                "next_maintenance_due_date": {
                    "$gte": first.isoformat(),
                    "$lt": following.isoformat(),
                },
            }
        )
        entries = sorted(
            (
                {
                    "vin": v["vin"],
                    "customer_id": v["customer_id"],
                    "due_date": v["next_maintenance_due_date"],
                }
                for v in vehicles
            ),
            key=lambda e: (e["due_date"], e["vin"]),
        )
        await self.store.save_due_list(dealer_id, month, entries, self.clock.now())
        await self.store.finish_job_run(f"monthly_due_list/{dealer_id}", month)
        self.logger.info(
            "monthly due-maintenance list built",
            extra={"dealer_id": dealer_id, "month": month, "vehicles": len(entries)},
        )

    async def yearly_care(self, dealer_id: str) -> None:
        """D10: birthdays come back every year. Once a day, plan the next birthday of every
        customer whose birthday passed since the last run: the birthday index names them, so
        a run costs the customers it plans, not every customer kept (the first run ever reads
        them all once, which also builds the index for people planned before it existed).
        Timer ids carry the year, so planning twice changes nothing."""
        today = self.clock.now().astimezone(self.planning.zone(dealer_id)).date()
        job = f"yearly_care/{dealer_id}"
        if not await self._claim("yearly_care", dealer_id, today.isoformat()):
            return
        last = await self.store.last_run_day(job)
        if last is None:
            customers = await self.store.people_matching(
                {"care_dealer_id": dealer_id, "birthday": {"$ne": None}}
            )
            # Files may hold a birthday from before the index: the next runs read it only.
            index: dict[str, list[str]] = {}
            for doc in customers:
                sequence = birthday_sequence(dealer_id, doc["birthday"][5:])
                index.setdefault(sequence, []).append(doc["_id"])
            await self.store.index_birthdays(index)
        else:
            passed = days_between(max(last, today - MAX_CATCH_UP), today)
            keys = await self.store.birthday_customers(
                dealer_id, [md for day in passed for md in month_days_passed(day)]
            )
            customers = list((await self.store.find_people(keys)).values())
        birthdays = [
            Birthday(
                Subject.from_document(doc["care_subject"]), date.fromisoformat(doc["birthday"])
            )
            for doc in customers
            if doc.get("birthday") and not doc.get("opted_out")
        ]
        for start in range(0, len(birthdays), YEARLY_CARE_BATCH):
            await plan_birthdays(
                self.planning, self.store, birthdays[start : start + YEARLY_CARE_BATCH]
            )
        await self.store.finish_job_run(job, today.isoformat())
        await self.store.record_run_day(job, today)
        self.logger.info(
            "yearly care planned",
            extra={"dealer_id": dealer_id, "day": today.isoformat(), "customers": len(birthdays)},
        )


def days_between(first: date, end: date) -> list[date]:
    """The days from `first` up to the day before `end`."""
    return [first + timedelta(days=n) for n in range((end - first).days)]
