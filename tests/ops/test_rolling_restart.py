"""Rolling restarts (issue 14): two replicas of each of the six services (all of them consume),
restarted one process at a time — SIGTERM, wait for it to leave, start it again, wait until it
is ready — round after round while work orders flow in, agents answer the day-3 calls and book
workshop appointments (D31, `appointments_flow.py`). Then the reliability checker counts every
stage against the known input: one vehicle-file entry and one plan per work order, one task per
due contact, one result, one ticket per low score, one report entry each; each booking once in
the workshop's list, one reminder planned and one count in the month's and the week's report
for each; nothing lost, nothing twice, nothing parked.

The flow is the reliability harness's (tests/reliability), without a fault: the restarts are the
disturbance. Every restart is logged with what had flowed by then, and a process that did not
leave on SIGTERM within its 30 s (killed instead) fails the test: that is not a graceful stop.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field

import pytest
from aftersales_contracts.topics import DMS_WORKORDER_CLOSED

from deploy.local.services import SERVICES, ServiceProcess
from tests.ops.appointments_flow import STAGES as APPOINTMENT_STAGES
from tests.ops.appointments_flow import Booked, book_all, bookings_for, count_appointments
from tests.reliability.checker import Counts, count_calls, count_intake_and_plans
from tests.reliability.harness import (
    CALL_STAGES,
    Options,
    RunResult,
    answer_day3_calls,
    converge,
    parked_messages,
    settle,
)
from tests.reliability.pipeline import Pipeline, isolated_pipeline
from tests.reliability.workload import BEFORE_ANY_DUE, DAY3_CALLS_DUE, DmsProducer, make_workload

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(900)]

ORDERS = 24
RATE = 0.4  # work orders per second: the publishing lasts a minute, across several restarts
ANSWER_RATE = 0.4
BOOKING_RATE = 0.3  # bookings per second, while the agents answer the calls …
BOOKING_RATE_AT_RESTART = 1.0  # … and while the appointments service's processes restart


@dataclass
class Roll:
    """Restarts one process at a time, in rounds, until told to stop after a whole round."""

    pipeline: Pipeline
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[str] = field(default_factory=list)
    restarts: dict[str, int] = field(default_factory=dict)
    not_graceful: list[str] = field(default_factory=list)
    waiting: dict[str, list[asyncio.Event]] = field(default_factory=dict)

    def next_restart_of(self, name: str) -> asyncio.Event:
        """Set when the roll next begins to stop a process of `name`."""
        event = asyncio.Event()
        self.waiting.setdefault(name, []).append(event)
        return event

    def processes(self) -> list[ServiceProcess]:
        found = []
        for name in SERVICES:
            found += [self.pipeline.fleet[name], self.pipeline.replicas[name]]
        return found

    async def restart(self, process: ServiceProcess) -> None:
        began = time.monotonic()
        for event in self.waiting.pop(process.name, []):
            event.set()
        await asyncio.to_thread(process.stop)  # SIGTERM; SIGKILL only after 30 s
        assert process.process is not None
        if process.process.returncode == -signal.SIGKILL:
            self.not_graceful.append(f"{process.name}:{process.port}")
        left = time.monotonic() - began
        await asyncio.to_thread(process.start)
        await asyncio.to_thread(process.wait_ready, 120)
        self.restarts[process.name] = self.restarts.get(process.name, 0) + 1
        self.log.append(
            f"{process.name}:{process.port} left in {left:.1f}s, ready again after "
            f"{time.monotonic() - began:.1f}s ({self.pipeline.progress_text()})"
        )

    async def run(self) -> None:
        rounds = 0
        while not (self.stop.is_set() and rounds > 0):
            for process in self.processes():
                await self.restart(process)
                await asyncio.sleep(0.5)
            rounds += 1


async def test_rolling_restarts_lose_nothing_and_double_nothing(stack, tmp_path):
    workload = make_workload(ORDERS)
    options = Options(rate=RATE, answer_rate=ANSWER_RATE, timeout=240)
    result = RunResult("rolling-restart", "all")
    bookings = bookings_for(workload)
    async with isolated_pipeline(stack, tmp_path) as pipeline:
        for name in SERVICES:  # the second replica of each
            pipeline.replicas[name] = pipeline.replica(name)
        await asyncio.gather(
            *(asyncio.to_thread(r.start) for r in pipeline.replicas.values()),
        )
        for replica in pipeline.replicas.values():
            await asyncio.to_thread(replica.wait_ready, 120)
        pipeline.clock.set(BEFORE_ANY_DUE)
        roll = Roll(pipeline)
        rolling = asyncio.create_task(roll.run())
        try:
            dms = DmsProducer(pipeline.kafka, pipeline.topic(DMS_WORKORDER_CLOSED))

            def published() -> None:
                pipeline.progress["published"] += 1

            try:
                await dms.publish(workload.orders, RATE, published)
            finally:
                await dms.close()
            await converge(
                lambda: count_intake_and_plans(pipeline.api, workload),
                options.timeout,
                "work orders",
                "planned",
            )
            pipeline.clock.set(DAY3_CALLS_DUE)
            go = asyncio.Event()
            go.set()

            async def answered_so_far(answered: int) -> None:
                pipeline.progress["answered"] = answered

            def one_booked() -> None:
                pipeline.progress["booked"] = pipeline.progress.get("booked", 0) + 1

            async def book_in_two_halves() -> Booked:
                """Half while the consumers restart; the other half as the appointments
                service's own processes restart (each booking retried until it answers)."""
                half, deadline = len(bookings) // 2, time.monotonic() + options.timeout
                first = await book_all(
                    pipeline.api, bookings[:half], BOOKING_RATE, deadline, one_booked
                )
                await roll.next_restart_of("appointments").wait()
                second = await book_all(
                    pipeline.api, bookings[half:], BOOKING_RATE_AT_RESTART, deadline, one_booked
                )
                return first.merged(second)

            _, booked = await asyncio.gather(
                answer_day3_calls(
                    pipeline.api,
                    workload,
                    ANSWER_RATE,
                    time.monotonic() + options.timeout,
                    answered_so_far,
                    go,
                ),
                book_in_two_halves(),
            )
            await converge(
                lambda: count_calls(pipeline.api, workload), options.timeout, *CALL_STAGES
            )
            await converge(
                lambda: count_appointments(pipeline.api, bookings, booked),
                options.timeout,
                *APPOINTMENT_STAGES,
            )
        finally:
            roll.stop.set()
            await rolling
        await settle(pipeline, workload, options, result)
        assert result.counts is not None
        appointments = await count_appointments(pipeline.api, bookings, booked)
        result.counts = Counts(result.counts.stages | appointments.stages)
        result.parked = await parked_messages(pipeline)

    print("\nrestarts, one process at a time:")
    for line in roll.log:
        print("  " + line)
    assert result.counts is not None
    print(f"rolling restart: {sum(roll.restarts.values())} restarts {roll.restarts}")
    print(f"counts: {result.counts.summary()}")
    print(
        f"bookings: {len(booked.ids)} of {len(bookings)} answered; {booked.retries} attempts "
        f"retried while the service was away, {booked.found_on_retry} found by a retry (200)"
    )
    print(
        f"rolling restart: lost {result.counts.lost}; duplicated {result.counts.duplicated}; "
        f"parked {result.parked}; lag {result.lag}"
    )
    assert all(roll.restarts.get(name, 0) >= 2 for name in SERVICES), roll.restarts
    assert set(APPOINTMENT_STAGES) <= set(result.counts.stages)
    assert roll.not_graceful == [], f"killed after SIGTERM did not end them: {roll.not_graceful}"
    assert result.counts.lost == 0, result.counts.summary()
    assert result.counts.duplicated == 0, result.counts.summary()
    assert result.parked == 0
    assert result.ready_at_end
