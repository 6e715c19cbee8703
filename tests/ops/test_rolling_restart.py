"""Rolling restarts (issue 14): two replicas of each of the five services (all of them consume),
restarted one process at a time — SIGTERM, wait for it to leave, start it again, wait until it
is ready — round after round while work orders flow in and agents answer the day-3 calls. Then
the reliability checker counts every stage against the known input: one vehicle-file entry and
one plan per work order, one task per due contact, one result, one ticket per low score, one
report entry each; nothing lost, nothing twice, nothing parked.

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
from tests.reliability.checker import count_calls, count_intake_and_plans
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


@dataclass
class Roll:
    """Restarts one process at a time, in rounds, until told to stop after a whole round."""

    pipeline: Pipeline
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[str] = field(default_factory=list)
    restarts: dict[str, int] = field(default_factory=dict)
    not_graceful: list[str] = field(default_factory=list)

    def processes(self) -> list[ServiceProcess]:
        found = []
        for name in SERVICES:
            found += [self.pipeline.fleet[name], self.pipeline.replicas[name]]
        return found

    async def restart(self, process: ServiceProcess) -> None:
        began = time.monotonic()
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

            await answer_day3_calls(
                pipeline.api,
                workload,
                ANSWER_RATE,
                time.monotonic() + options.timeout,
                answered_so_far,
                go,
            )
            await converge(
                lambda: count_calls(pipeline.api, workload), options.timeout, *CALL_STAGES
            )
        finally:
            roll.stop.set()
            await rolling
        await settle(pipeline, workload, options, result)
        result.parked = await parked_messages(pipeline)

    print("\nrestarts, one process at a time:")
    for line in roll.log:
        print("  " + line)
    assert result.counts is not None
    print(f"rolling restart: {sum(roll.restarts.values())} restarts {roll.restarts}")
    print(f"counts: {result.counts.summary()}")
    print(
        f"rolling restart: lost {result.counts.lost}; duplicated {result.counts.duplicated}; "
        f"parked {result.parked}; lag {result.lag}"
    )
    assert all(roll.restarts.get(name, 0) >= 2 for name in SERVICES), roll.restarts
    assert roll.not_graceful == [], f"killed after SIGTERM did not end them: {roll.not_graceful}"
    assert result.counts.lost == 0, result.counts.summary()
    assert result.counts.duplicated == 0, result.counts.summary()
    assert result.parked == 0
    assert result.ready_at_end
