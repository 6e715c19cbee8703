"""One run: the known workload through the whole pipeline with one fault in the middle, then the
checker's counts. DMS → intake → scheduler → (clock to day 3) → contact → scripted agents →
complaints → reporting."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aftersales_contracts.topics import DEAD_LETTER, DMS_WORKORDER_CLOSED
from aftersales_runtime.testing import Stack

from tests.reliability.checker import STAGES, Counts, count_all, count_calls, count_intake_and_plans
from tests.reliability.client import TRANSIENT, ServiceClient
from tests.reliability.faults import Fault
from tests.reliability.pipeline import Pipeline, isolated_pipeline
from tests.reliability.workload import (
    BEFORE_ANY_DUE,
    DAY3_CALLS_DUE,
    DEALERS,
    DmsProducer,
    Order,
    Workload,
)

log = logging.getLogger("reliability")
CALL_STAGES = ("tasks", "results", "tickets", "report")


@dataclass
class Options:
    rate: float = 10.0  # work orders per second the DMS publishes
    answer_rate: float = 10.0  # answers per second, all agents together
    timeout: float = 180.0  # per stage, for the counts to converge


@dataclass
class RunResult:
    fault: str
    phase: str
    note: str = ""
    counts: Counts | None = None
    recover_seconds: float | None = None
    run_seconds: float = 0.0
    parked: int = 0
    ready_at_end: bool = False
    dms_resends: int = 0
    error: str | None = None
    lag: dict[str, int] = field(default_factory=dict)
    settled_at: float = 0.0

    @property
    def survived(self) -> bool:
        return (
            self.error is None
            and self.counts is not None
            and self.counts.lost == 0
            and self.counts.duplicated == 0
            and self.ready_at_end
            and self.parked == 0
        )


class Strike:
    """The fault, struck when its phase's flow reaches the trigger; the flow waits until the
    fault is engaged (service killed, broker frozen, replica joined), then goes on under it."""

    def __init__(self, fault: Fault, pipeline: Pipeline) -> None:
        self.fault, self.pipeline = fault, pipeline
        self.trigger = asyncio.Event()
        self._engaged = asyncio.Event()
        self.ended = self.ready_at = 0.0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> str:
        await self.trigger.wait()
        log.info("fault %s strikes (%s)", self.fault.name, self.pipeline.progress_text())
        try:
            note = await self.fault.strike(self.pipeline, self)
        finally:
            self._engaged.set()
        self.ended = self.ended or time.monotonic()
        log.info("fault %s repaired: %s", self.fault.name, note)
        await self.pipeline.wait_all_ready()
        self.ready_at = time.monotonic()
        return note

    def engaged(self) -> None:
        self._engaged.set()

    def repaired(self) -> None:
        self.ended = time.monotonic()

    async def strike_now(self) -> None:
        """Fire and let the flow go on once the fault is engaged."""
        self.trigger.set()
        await asyncio.wait(
            {self.task, asyncio.create_task(self._engaged.wait())},
            return_when=asyncio.FIRST_COMPLETED,
        )
        if self.task.done():
            self.task.result()  # a fault that broke: its error ends the run

    def recovery(self, converged_at: float) -> float:
        """Seconds from the repair until all five were ready and the counts had converged."""
        return max(0.0, max(self.ready_at, converged_at) - self.ended)


async def converge(
    count: Callable[[], Awaitable[Counts]], timeout: float, *stages: str
) -> tuple[Counts | None, float]:
    """Poll until nothing of `stages` is missing; the last counts and when they were reached."""
    deadline = time.monotonic() + timeout
    counts = None
    while True:
        try:
            counts = await count()
            if all(counts.stages[s].lost == 0 for s in stages):
                return counts, time.monotonic()
        except (*TRANSIENT, Exception) as error:  # a service may be down right now
            log.debug("counting failed: %r", error)
        if time.monotonic() > deadline:
            return counts, time.monotonic()
        await asyncio.sleep(2)


async def _submit(api: ServiceClient, task_id: str, body: dict, deadline: float) -> bool:
    """Submit until it is recorded (True) or the lease is gone (False): an agent's retry button."""
    while time.monotonic() < deadline:
        try:
            answer = await api.submit(task_id, body)
        except TRANSIENT:
            await asyncio.sleep(1)
            continue
        if answer.status_code == 200:
            return True
        if answer.status_code == 409:
            return False
        if answer.status_code < 500:
            raise AssertionError(f"submit {task_id}: {answer.status_code} {answer.text}")
        await asyncio.sleep(1)
    return False


async def answer_day3_calls(
    api: ServiceClient,
    workload: Workload,
    rate: float,
    deadline: float,
    answered_so_far: Callable[[int], Awaitable[None]],
    go: asyncio.Event,
) -> set[str]:
    """Scripted agents, one per dealer: claim, answer with the workload's scores, again; all of
    them wait while `go` is cleared."""
    by_wo = workload.by_work_order()
    wanted = {d: {o.work_order_id for o in workload.orders if o.dealer == d} for d in DEALERS}
    answered: set[str] = set()

    async def agent(dealer: str) -> None:
        name = f"agent-{dealer}"
        while not wanted[dealer] <= answered and time.monotonic() < deadline:
            await go.wait()
            try:
                claim = await api.claim(dealer, name)
            except TRANSIENT:
                await asyncio.sleep(1)
                continue
            if claim.status_code != 200:
                await asyncio.sleep(0.5 if claim.status_code == 204 else 1)
                continue
            task = claim.json()
            order: Order | None = by_wo.get(task.get("work_order_id") or "")
            body = order.answer(name) if order else Order({}, 10, 10).answer(name)
            if await _submit(api, task["task_id"], body, deadline) and order:
                answered.add(order.work_order_id)
                await answered_so_far(len(answered))
            await asyncio.sleep(len(DEALERS) / rate)

    await asyncio.gather(*(agent(d) for d in DEALERS))
    return answered


async def parked_messages(pipeline: Pipeline) -> int:
    return len(await pipeline.read_topic(pipeline.topic(DEAD_LETTER)))


async def settle(
    pipeline: Pipeline, workload: Workload, options: Options, result: RunResult
) -> None:
    """Wait until every group has consumed everything and the counts are complete; count."""
    await converge(lambda: count_all(pipeline.api, workload), options.timeout, *STAGES)
    result.lag = await pipeline.wait_no_lag(options.timeout)
    result.settled_at = time.monotonic()
    await asyncio.sleep(2)  # what the last committed messages caused, stored
    result.counts = await count_all(pipeline.api, workload)
    result.ready_at_end = await pipeline.all_ready()


async def run_once(
    stack: Stack, workload: Workload, fault: Fault | None, run_dir: Path, options: Options
) -> RunResult:
    """The whole flow with `fault` (None: a clean run) in its phase, in a pipeline of its own;
    never raises: a run that breaks is a row in the table."""
    result = RunResult(fault.name if fault else "none", fault.phase if fault else "-")
    began = time.monotonic()
    try:
        async with isolated_pipeline(stack, run_dir) as pipeline:
            await drive(pipeline, workload, fault, options, result)
            result.parked = await parked_messages(pipeline)
    except Exception as error:
        log.exception("run %s failed", result.fault)
        result.error = f"{type(error).__name__}: {error}"[:300]
    result.run_seconds = time.monotonic() - began
    return result


async def drive(
    pipeline: Pipeline, workload: Workload, fault: Fault | None, options: Options, result: RunResult
) -> None:
    """DMS → intake → scheduler → (clock to day 3) → contact → agents → complaints → reporting,
    with `fault` struck in its phase; fills `result` (counts, recovery, readiness, lag)."""
    name, api, n = result.fault, pipeline.api, len(workload.orders)
    pipeline.clock.set(BEFORE_ANY_DUE)
    strike = Strike(fault, pipeline) if fault else None

    def phase_is(phase: str) -> Strike | None:
        return strike if fault is not None and fault.phase == phase else None

    def published() -> None:
        pipeline.progress["published"] += 1

    # 1. The DMS publishes; intake stores, the scheduler plans.
    dms = DmsProducer(pipeline.kafka, pipeline.topic(DMS_WORKORDER_CLOSED))
    third = n // 3
    try:
        if hit := phase_is("intake"):
            await dms.publish(workload.orders[:third], options.rate, published)
            await hit.strike_now()
            await dms.publish(workload.orders[third:], options.rate, published)
        else:
            await dms.publish(workload.orders, options.rate, published)
    finally:
        await dms.close()
        result.dms_resends = dms.resends
    if hit:
        result.note = await hit.task
    counts, at = await converge(
        lambda: count_intake_and_plans(api, workload), options.timeout, "work orders", "planned"
    )
    if hit:
        result.recover_seconds = hit.recovery(at)
    log.info("%s: intake and plans: %s", name, counts.summary() if counts else "-")

    # 2. Day 3: the calls fall due; the agents answer; tickets and reports follow.
    hit = phase_is("due")
    if hit and hit.fault.joins:
        await hit.strike_now()  # the replica is in the group when the calls fall due
    pipeline.clock.set(DAY3_CALLS_DUE)
    if hit and not hit.fault.joins:
        await asyncio.sleep(1)  # the dispatcher's burst of contact.due is on its way
        await hit.strike_now()
    answers_hit = phase_is("answers")
    go = asyncio.Event()
    go.set()

    async def answered_so_far(answered: int) -> None:
        pipeline.progress["answered"] = answered
        if answers_hit and answered >= third and not answers_hit.trigger.is_set():
            go.clear()  # every agent waits until the fault is engaged
            try:
                await answers_hit.strike_now()
            finally:
                go.set()

    await answer_day3_calls(
        api, workload, options.answer_rate, time.monotonic() + options.timeout, answered_so_far, go
    )
    hit = hit or answers_hit
    if hit:
        hit.trigger.set()  # in case the agents finished before the trigger
        result.note = await hit.task
    counts, at = await converge(lambda: count_calls(api, workload), options.timeout, *CALL_STAGES)
    if hit:
        result.recover_seconds = hit.recovery(at)
    log.info("%s: calls: %s", name, counts.summary() if counts else "-")

    # 3. After everything: replays and the like; then the final count.
    if hit := phase_is("end"):
        hit.trigger.set()
        result.note = await hit.task
    await settle(pipeline, workload, options, result)
    if hit:
        result.recover_seconds = hit.recovery(result.settled_at)
    if strike and not strike.task.done():
        strike.task.cancel()
