"""Intake benchmark (issues 4.7, 19): intake's sustained throughput from the DMS topic to published
canonical events, against a raw aiokafka passthrough over the same messages, on an empty database
and with a year of history. Prints figures; passes or fails nothing.

    python -m benchmarks.intake [--count 50000] [--history 500000] [--idle-probes 5]
                                [--bootstrap HOST:PORT] [--mongodb-url URL] [--timeout S]

1. N work orders from the demo generator (`deploy/local/demo_data.py`), settled on the days before
   today in the dealers' zone, spread over the configured dealers (key = dealer_id), are published
   to `<prefix>dms.workorder.closed` (a fresh prefix per run) before either consumer starts, so both
   drain the same backlog.
2. Baseline: a raw aiokafka consumer (own group, no auto-commit) → idempotent producer (acks=all)
   to another topic, one record at a time, committing after the output is acknowledged: intake's
   delivery guarantees and its processing model (FastStream hands a subscriber one record at a
   time and commits after the handler returned).
3. Intake: the real service built in-process (`aftersales_intake.app.build`) with its own database,
   started with `runtime.start()`, consuming the same topic. The run ends when N distinct
   canonical `aftersales.workorder.closed` events (counted by event_id on the output topic) are
   there; duplicates on the topic are counted and printed, never counted as progress. Intake
   consumes in batches (INTAKE_BATCH_MAX_RECORDS); each record counts its batch's time. Then
   `--idle-probes` single records are published to the drained service, one every 0.5 s: the time
   from the producer's acknowledgement to the event on the output topic (the idle reaction).
4. With history: `--history` work orders of a 50-store group with their vehicle files are loaded in
   bulk into a second database (`benchmarks/intake_history.py`), the same N orders are published
   under a second prefix, and step 3 runs again against it.

Besides the rates and latencies it prints the rate over each tenth of the run (flat when the rate
is sustained, falling when a cost grows with the data) and intake's MongoDB commands by command
and collection with their driver-side time (pymongo command monitoring), first and last tenth,
and the CPU seconds of intake (this process), FerretDB and Kafka (the local stack's pid files)
during each run: which process holds the CPU.
A run that does not finish within --timeout prints its figures over what was done, marked.

Definitions (both printed with the figures):
- throughput = N / (end of the last record's processing − start of the first's); the consumer
  group's join before the first record is not counted.
- latency per event = from the moment the consumer hands the record to the code (passthrough:
  `getone()` returned; intake: FastStream's middleware stack entered, before decoding) until the
  output is acknowledged by Kafka (passthrough: `send_and_wait` returned; intake: the handler
  returned, i.e. the canonical event was acknowledged and the record marked published in MongoDB).
  The offset commit that follows is in the throughput, not in the latency; time a record waited in
  the consumer's fetch buffer is in neither (the input is a backlog, so that wait would measure the
  backlog, not the service).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales_contracts import WorkOrderClosed, topics
from aftersales_runtime.clock import SystemClock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.testing import tool_kafka_env, tool_kafka_options
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient, monitoring
from tqdm import tqdm

from benchmarks import intake_history
from benchmarks.intake_measures import CpuTimes, MongoTimes, Timed, Timings
from deploy.local.demo_data import demo_work_orders

DEALERS_FILE = Path("deploy/local/dealers.json")
DAYS = 30
SEED = 7
WITH_HISTORY = "intake w/ history"
STACK_RUN_DIR = Path(".cache/stack/run")  # pid files of the local stack, for CPU shares


@dataclass
class Result:
    name: str
    count: int
    timings: Timings
    duplicates: int = 0
    note: str = ""
    complete: bool = True
    details: list[str] = field(default_factory=list)


# --- the stack --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    """One run's own topics and database, removed at the end unless --keep."""

    bootstrap: str
    mongodb_url: str
    prefix: str
    database: str

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def remove(self) -> None:
        admin = AIOKafkaAdminClient(**tool_kafka_options(self.bootstrap))
        await admin.start()
        try:
            doomed = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
            if doomed:
                await admin.delete_topics(doomed)
        finally:
            await admin.close()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongodb_url)
        try:
            await client.drop_database(self.database)
        finally:
            await client.close()


def new_space(bootstrap: str, mongodb_url: str, name: str) -> Space:
    token = f"{time.strftime('%Y%m%d%H%M%S')}{uuid.uuid4().hex[:4]}"
    return Space(bootstrap, mongodb_url, f"{name}{token}.", f"{name}_{token}")


async def count_records(bootstrap: str, topic: str) -> int:
    """Records on a topic (sum of end offsets: the topics here are never compacted)."""
    consumer = AIOKafkaConsumer(**tool_kafka_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # a fresh client knows no topics yet
            partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


def progress(name: str, count: int) -> tqdm:
    return tqdm(total=count, desc=name, unit="ev", file=sys.stderr, mininterval=2)


# --- input --------------------------------------------------------------------------------------


def dms_work_orders(count: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """N generator work orders over the DAYS days before today (dealer's zone): all settled."""
    directory = DealerDirectory.load(DEALERS_FILE)
    dealers = directory.ids()
    zone = next(iter(directory)).zone  # the generator writes one local time for all dealers
    today = SystemClock().now().astimezone(zone).replace(tzinfo=None)
    start = datetime.combine(today.date(), datetime.min.time()) - timedelta(days=DAYS)
    return demo_work_orders(count, dealers, start, DAYS, seed)


async def publish_input(space: Space, topic: str, count: int) -> int:
    """Publish the N orders; returns their total size in bytes."""
    producer = AIOKafkaProducer(
        **tool_kafka_options(space.bootstrap), enable_idempotence=True, acks="all", linger_ms=20
    )
    await producer.start()
    size = 0
    try:
        pending = []
        with progress("publish", count) as bar:
            for order in dms_work_orders(count):
                value = json.dumps(order, ensure_ascii=False).encode()
                size += len(value)
                pending.append(await producer.send(topic, value, key=order["dealer_id"].encode()))
                if len(pending) >= 2000:
                    await asyncio.gather(*pending)
                    bar.update(len(pending))
                    pending.clear()
            await asyncio.gather(*pending)
            bar.update(len(pending))
    finally:
        await producer.stop()
    return size


# --- baseline: raw aiokafka passthrough ---------------------------------------------------------


async def passthrough(space: Space, source: str, count: int, deadline: float) -> Result:
    target = space.topic("bench.passthrough")
    await ensure_topics(tool_kafka_options(space.bootstrap), [target])
    consumer = AIOKafkaConsumer(
        source,
        **tool_kafka_options(space.bootstrap),
        group_id=f"{space.prefix}passthrough",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(
        **tool_kafka_options(space.bootstrap), enable_idempotence=True, acks="all"
    )
    await producer.start()
    await consumer.start()
    timings = Timings()
    seen: set[tuple[int, int]] = set()
    duplicates = 0
    try:
        with progress("passthrough", count) as bar:
            while len(seen) < count:
                try:
                    record = await asyncio.wait_for(
                        consumer.getone(), max(0.0, deadline - time.monotonic())
                    )
                except TimeoutError:
                    break
                started = time.perf_counter()
                await producer.send_and_wait(
                    target, record.value, key=record.key, headers=list(record.headers)
                )
                acknowledged = time.perf_counter()
                await consumer.commit()
                timings.add(started, acknowledged)
                timings.last_end = time.perf_counter()  # the commit belongs to the throughput
                if (record.partition, record.offset) in seen:
                    duplicates += 1
                else:
                    seen.add((record.partition, record.offset))
                    bar.update()
    finally:
        await consumer.stop()
        await producer.stop()
    produced = await count_records(space.bootstrap, target)
    return Result(
        "passthrough",
        len(seen),
        timings,
        duplicates,
        f"{produced:,} records on the output topic",
        complete=len(seen) >= count,
    )


# --- intake -----------------------------------------------------------------------------------


class DistinctEvents:
    """Reads an output topic from the beginning; counts records and distinct event_ids."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic,
            **tool_kafka_options(bootstrap),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self.records = 0
        self.event_ids: set[str] = set()
        self.arrived = asyncio.Event()

    async def run(self) -> None:
        await self.consumer.start()
        try:
            while True:
                batch = await self.consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        self.records += 1
                        self.event_ids.add(json.loads(record.value)["event_id"])
                        self.arrived.set()
        finally:
            await self.consumer.stop()


async def intake(
    name: str, space: Space, count: int, log_level: str, deadline: float, idle_probes: int
) -> Result:
    from aftersales_intake.app import build
    from aftersales_intake.settings import IntakeSettings

    settings = IntakeSettings(
        **tool_kafka_env(space.bootstrap),
        mongodb_url=space.mongodb_url,
        mongodb_database=space.database,
        topic_prefix=space.prefix,
        environment="development",
        dealers_file=DEALERS_FILE,
        log_level=log_level,
    )
    mongo = MongoTimes()
    monitoring.register(mongo)  # before build(): the service's client takes it when created
    service = build(settings)
    timings = Timings()
    service.runtime.broker.insert_middleware(functools.partial(Timed, timings=timings))
    cpu = CpuTimes(STACK_RUN_DIR)
    cpu.start()
    mongo.active = True  # the consumer starts with the broker, inside runtime.start()
    await service.runtime.start()
    output = DistinctEvents(space.bootstrap, settings.topic(WorkOrderClosed.TOPIC))
    reader = asyncio.create_task(output.run())
    idle: list[float] = []
    cpu_line = ""
    try:
        with progress(name, count) as bar:
            while len(output.event_ids) < count and time.monotonic() < deadline:
                if reader.done():
                    reader.result()  # the reader died: raise its error
                await asyncio.sleep(0.25)
                bar.update(len(output.event_ids) - bar.n)
        mongo.active = timings.recording = False
        cpu_line = cpu.line()
        if len(output.event_ids) >= count:
            idle = await idle_reaction(space, count, idle_probes, output)
    finally:
        mongo.active = False
        await service.runtime.stop()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    rejected = await service_rejections(space)
    handled = len(timings.latencies)
    batches = f"{timings.batches:,} batches of {handled / max(timings.batches, 1):,.0f} on average"
    details = [
        f"{name}: {cpu_line}",
        f"{name}: MongoDB commands (driver-side time), {batches}:",
        *mongo.lines(handled),
    ]
    if idle:
        details.append(
            f"{name}: idle reaction, one work order published to an idle intake until its event "
            f"is on the output topic: p50 {1000 * sorted(idle)[len(idle) // 2]:.0f} ms, "
            f"max {1000 * max(idle):.0f} ms over {len(idle)}"
        )
    return Result(
        name,
        min(len(output.event_ids), count),
        timings,
        output.records - len(output.event_ids),
        f"{handled:,} records handled, {rejected} rejected",
        complete=len(output.event_ids) >= count,
        details=details,
    )


async def idle_reaction(
    space: Space, count: int, probes: int, output: DistinctEvents
) -> list[float]:
    """Publish `probes` more work orders one at a time to the drained service; the time each
    takes from the producer's acknowledgement to its event read back from the output topic."""
    source = space.topic(topics.DMS_WORKORDER_CLOSED)
    extra = list(dms_work_orders(count + probes))[count:]
    producer = AIOKafkaProducer(**tool_kafka_options(space.bootstrap), enable_idempotence=True)
    await producer.start()
    times = []
    try:
        for order in extra:
            await asyncio.sleep(0.5)  # idle
            seen = len(output.event_ids)
            value = json.dumps(order, ensure_ascii=False).encode()
            await producer.send_and_wait(source, value, key=order["dealer_id"].encode())
            sent = time.perf_counter()
            async with asyncio.timeout(10):
                while len(output.event_ids) == seen:
                    output.arrived.clear()
                    await output.arrived.wait()
            times.append(time.perf_counter() - sent)
    finally:
        await producer.stop()
    return times


async def service_rejections(space: Space) -> int:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(space.mongodb_url)
    try:
        return await client[space.database].rejections.count_documents({})
    finally:
        await client.close()


# --- report -----------------------------------------------------------------------------------

DEFINITIONS = """\
throughput = events / (end of the last record's processing - start of the first's).
latency = from the consumer handing over the record (passthrough: getone() returned; intake:
FastStream middleware entered for the record's batch, before decoding) to the output acknowledged
by Kafka (passthrough: send_and_wait returned; intake: the batch handler returned = every event of
the batch acknowledged and marked published; each record counts its batch's time). It excludes
the offset commit and the wait in the fetch buffer. Passthrough: one record at a time, commit after
the output; intake: batches (INTAKE_BATCH_MAX_RECORDS), commit after the batch; both idempotent
producers, acks=all. Figures are from a shared machine: compare ratios, not absolute rates."""


def report(count: int, size: int, results: list[Result], history: dict[str, int]) -> None:
    print(
        f"\nintake benchmark: N = {count:,} DMS work orders ({size / count:,.0f} bytes each), "
        f"{os.cpu_count()} cores (Kafka and MongoDB on the same machine)"
    )
    if history:
        stored = ", ".join(f"{k} {v:,}" for k, v in history.items() if k != "seconds")
        print(f"history loaded in {history['seconds']:,} s: {stored}")
    print(f"{'':20}{'events':>9}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'dupl.':>7}  checks")
    for r in results:
        done = f"{r.count:,}" + ("" if r.complete else "*")
        print(
            f"{r.name:20}{done:>9}{r.timings.rate(r.count):>10,.1f}"
            f"{r.timings.percentile_ms(0.50):>9.2f}{r.timings.percentile_ms(0.99):>9.2f}"
            f"{r.duplicates:>7,}  {r.note}"
        )
    if not all(r.complete for r in results):
        print("* INCOMPLETE: not all N events within --timeout; figures are over those done")
    for r in results:
        tenths = r.timings.rates_by_tenth()
        if tenths:
            print(
                f"{r.name} events/s by tenth of the run: " + " ".join(f"{x:,.1f}" for x in tenths)
            )
    for r in results:
        for line in r.details:
            print(line)
    print(DEFINITIONS)
    rates = {r.name: r.timings.rate(r.count) for r in results}
    empty, base, full = rates.get("intake"), rates.get("passthrough"), rates.get(WITH_HISTORY)
    if full and empty:
        print(f"ratio intake with history / empty: {full / empty:.4f}")
    if empty and base:
        print(f"ratio intake / passthrough: {empty / base:.4f}")


async def run_intake(args: argparse.Namespace, name: str, space: Space, source: str) -> Result:
    await ensure_topics(tool_kafka_options(space.bootstrap), [source])
    await publish_input(space, source, args.count)
    deadline = time.monotonic() + args.timeout
    return await intake(name, space, args.count, args.log_level, deadline, args.idle_probes)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.intake")
    parser.add_argument("--count", type=int, default=50_000, help="DMS work orders to take in")
    parser.add_argument(
        "--history",
        type=int,
        default=500_000,
        help="work orders of history (a year of 50 stores) for the second run; 0: no second run",
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--mongodb-url", default=os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for each run")
    parser.add_argument("--idle-probes", type=int, default=5, help="single records at idle")
    parser.add_argument("--log-level", default="WARNING", help="intake's log level")
    parser.add_argument("--keep", action="store_true", help="keep the topics and the databases")
    args = parser.parse_args(argv)

    space = new_space(args.bootstrap, args.mongodb_url, "bench")
    full = new_space(args.bootstrap, args.mongodb_url, "benchhist")
    source = space.topic(topics.DMS_WORKORDER_CLOSED)
    print(f"topic prefixes {space.prefix} {full.prefix}", file=sys.stderr)
    try:
        await ensure_topics(tool_kafka_options(space.bootstrap), [source])
        size = await publish_input(space, source, args.count)
        baseline = await passthrough(space, source, args.count, time.monotonic() + args.timeout)
        ours = await intake("intake", space, args.count, args.log_level,
                            time.monotonic() + args.timeout, args.idle_probes)  # fmt: skip
        results, history = [baseline, ours], {}
        if args.history:
            history = await load_history(full, args.history, args.count)
            source = full.topic(topics.DMS_WORKORDER_CLOSED)
            results.append(await run_intake(args, WITH_HISTORY, full, source))
        report(args.count, size, results, history)
        return 0 if all(r.complete for r in results) else 1
    finally:
        if not args.keep:
            await space.remove()
            await full.remove()


async def load_history(space: Space, work_orders: int, count: int) -> dict[str, int]:
    """A year of a 50-store group in the run's database; a third of the input's vehicles are
    returning ones, on file already."""
    directory = DealerDirectory.load(DEALERS_FILE)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(space.mongodb_url, tz_aware=True)
    try:
        return await intake_history.load(
            client[space.database],
            work_orders,
            intake_history.store_ids(directory.ids()),
            dms_work_orders(intake_history.TEMPLATES, seed=SEED + 1),
            list(dms_work_orders(count))[::3],
        )
    finally:
        await client.close()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
