"""`make soak`: the pipeline at half its measured rate for SOAK_MINUTES (default 30); each
process's memory (RSS), the consumer groups' lag and the APIs' p99 at the start and at the end.
A figure that grew by more than 10 % is a failure (lag: beyond 10 % plus five seconds of input,
since one sample of a flowing queue is noisy).

    SOAK_MINUTES=3 python -m tests.reliability.soak
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aftersales_contracts.topics import DMS_WORKORDER_CLOSED
from aftersales_runtime.testing import resolve_stack

from deploy.local.services import REPO
from tests.reliability.checker import count_intake_and_plans
from tests.reliability.client import TRANSIENT, ServiceClient
from tests.reliability.faults import StackProcesses
from tests.reliability.harness import converge
from tests.reliability.pipeline import Pipeline, isolated_pipeline
from tests.reliability.workload import (
    DAY3_CALLS_DUE,
    DEALERS,
    REPORT_MONTH,
    DmsProducer,
    Order,
    Workload,
    endless_orders,
)

log = logging.getLogger("reliability")
GROWTH_LIMIT = 0.10
PROBE_ROUNDS = 100
PROBE_SECONDS = 30


@dataclass
class Sample:
    rss_mib: dict[str, float]
    lag: dict[str, int]
    p99_ms: dict[str, float]
    probe_rounds: int


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_ids(pipeline: Pipeline) -> dict[str, int]:
    pids = pipeline.pids()
    stack = StackProcesses()
    for component in ("kafka", "ferretdb"):
        try:
            pids[component] = stack.pid(component)
        except RuntimeError:
            log.info("%s is not the local stack's: its memory is not sampled", component)
    return pids


async def p99_per_service(api: ServiceClient, orders: list[Order]) -> tuple[dict[str, float], int]:
    """The 99th percentile of each service's read API: up to PROBE_ROUNDS rounds of one call to
    each service at once, for at most PROBE_SECONDS (list routes slow down as data grows)."""
    rng = random.Random(99)
    probes: dict[str, Callable[[Order], Awaitable[object]]] = {
        "intake": lambda o: api.vehicle(o.dealer, o.vin),
        "scheduler": lambda o: api.planned_contacts(o.dealer, o.vin),
        "contact": lambda o: api.tasks(o.dealer),
        "complaints": lambda o: api.complaints(o.dealer),
        "reporting": lambda o: api.monthly_report(o.dealer, REPORT_MONTH),
    }
    timings: dict[str, list[float]] = {name: [] for name in probes}

    async def timed(name: str, order: Order) -> None:
        began = time.perf_counter()
        try:
            await probes[name](order)
        except (*TRANSIENT, Exception):  # a failed call counts with the time it took
            log.info("probe of %s failed", name, exc_info=True)
        timings[name].append((time.perf_counter() - began) * 1000)

    deadline = time.monotonic() + PROBE_SECONDS
    for _ in range(PROBE_ROUNDS):
        order = rng.choice(orders)
        await asyncio.gather(*(timed(name, order) for name in probes))
        if time.monotonic() > deadline:
            break
    p99 = {n: sorted(t)[max(0, math.ceil(len(t) * 0.99) - 1)] for n, t in timings.items()}
    return p99, len(timings["intake"])


async def sample(pipeline: Pipeline, orders: list[Order]) -> Sample:
    pids = process_ids(pipeline)
    rss = {name: rss_mib(pid) for name, pid in pids.items()}
    lag = await pipeline.lag()
    p99, rounds = await p99_per_service(pipeline.api, orders)
    return Sample(rss, lag, p99, rounds)


@dataclass
class Flow:
    """The DMS publishing at a steady rate and one agent per dealer answering what falls due."""

    pipeline: Pipeline
    rate: float
    published: list[Order] = field(default_factory=list)
    answered: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def publish(self, source: Callable[[], Order]) -> None:
        dms = DmsProducer(self.pipeline.kafka, self.pipeline.topic(DMS_WORKORDER_CLOSED))
        began = time.monotonic()
        try:
            while not self.stop.is_set():
                pause = began + len(self.published) / self.rate - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                order = source()
                await dms.publish((order,), self.rate)
                self.published.append(order)
        finally:
            await dms.close()

    async def agent(self, dealer: str) -> None:
        api, name = self.pipeline.api, f"soak-agent-{dealer}"
        by_wo = {}
        while not self.stop.is_set():
            try:
                claim = await api.claim(dealer, name)
                if claim.status_code != 200:
                    await asyncio.sleep(1)
                    continue
                task = claim.json()
                if len(by_wo) != len(self.published):
                    by_wo = {o.work_order_id: o for o in self.published}
                order = by_wo.get(task.get("work_order_id") or "") or Order({}, 10, 10)
                answer = await api.submit(task["task_id"], order.answer(name))
                self.answered += answer.status_code == 200
            except TRANSIENT:
                await asyncio.sleep(1)

    async def run(self, source: Callable[[], Order]) -> None:
        await asyncio.gather(self.publish(source), *(self.agent(d) for d in DEALERS))


async def measure_rate(pipeline: Pipeline, source: Callable[[], Order], burst: int) -> float:
    """Work orders per second from the DMS topic to stored plans, for a burst of `burst`."""
    orders = tuple(source() for _ in range(burst))
    dms = DmsProducer(pipeline.kafka, pipeline.topic(DMS_WORKORDER_CLOSED))
    began = time.monotonic()
    await dms.publish(orders, rate=1000)
    await dms.close()
    counts, done = await converge(
        lambda: count_intake_and_plans(pipeline.api, Workload(orders)), 300, "planned"
    )
    if counts is None or not counts.complete("planned"):
        raise RuntimeError(f"the rate burst did not complete: {counts and counts.summary()}")
    return burst / (done - began)


def compare(start: Sample, end: Sample, rate: float) -> list[tuple[str, float, float, bool]]:
    rows = []
    for name, value in start.rss_mib.items():
        grown = end.rss_mib.get(name, 0) > value * (1 + GROWTH_LIMIT)
        rows.append((f"rss {name} MiB", value, end.rss_mib.get(name, 0), grown))
    for name, value in start.lag.items():
        allowed = value * (1 + GROWTH_LIMIT) + rate * 5
        rows.append((f"lag {name}", value, end.lag[name], end.lag[name] > allowed))
    for name, value in start.p99_ms.items():
        grown = end.p99_ms[name] > value * (1 + GROWTH_LIMIT)
        rows.append((f"p99 {name} ms", value, end.p99_ms[name], grown))
    return rows


async def soak(minutes: float, burst: int) -> int:
    stack, _ = await asyncio.to_thread(resolve_stack, os.environ)
    run_dir = REPO / ".cache" / "soak" / time.strftime("%Y%m%d-%H%M%S")
    orders = endless_orders(seed=30)
    async with isolated_pipeline(stack, run_dir) as pipeline:
        # The clock stands after every day-3 call: each plan's call falls due at once.
        pipeline.clock.set(DAY3_CALLS_DUE)
        measured = await measure_rate(pipeline, lambda: next(orders), burst)
        flow = Flow(pipeline, measured / 2)
        print(
            f"soak: {minutes:g} min at {flow.rate:.1f} work orders/s (half of the measured "
            f"{measured:.1f}/s, a burst of {burst}); logs under {run_dir.relative_to(REPO)}"
        )
        running = asyncio.create_task(flow.run(lambda: next(orders)))
        warm_up = min(max(minutes * 60 * 0.1, 20), 120)
        await asyncio.sleep(warm_up)
        start = await sample(pipeline, flow.published)
        print(f"soak: start sampled after {warm_up:.0f}s warm-up ({len(flow.published)} published)")
        await asyncio.sleep(max(0.0, minutes * 60 - warm_up))
        end = await sample(pipeline, flow.published)
        flow.stop.set()
        await running
    rows = compare(start, end, flow.rate)
    print(
        f"soak: p99 of {start.probe_rounds} calls per service at the start, "
        f"{end.probe_rounds} at the end"
    )
    print(f"{'figure':<22} {'start':>9} {'end':>9} {'growth':>8}")
    for label, before, after, grew in rows:
        growth = f"{(after - before) / before:+.1%}" if before else "-"
        print(f"{label:<22} {before:>9.1f} {after:>9.1f} {growth:>8}  {'FAIL' if grew else 'ok'}")
    failed = sum(grew for *_, grew in rows)
    print(
        f"soak: {minutes:g} min, published {len(flow.published)}, answered {flow.answered}; "
        f"{failed} of {len(rows)} figures grew more than {GROWTH_LIMIT:.0%}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    for noisy in ("httpx", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    minutes = float(os.environ.get("SOAK_MINUTES", "30"))
    sys.exit(asyncio.run(soak(minutes, int(os.environ.get("SOAK_BURST", "100")))))
