"""Intake benchmark (issue 4.7): intake's sustained throughput from the DMS topic to published
canonical events, against a raw aiokafka passthrough over the same messages. Prints figures;
passes or fails nothing.

    python -m benchmarks.intake [--count 100000] [--bootstrap HOST:PORT] [--mongodb-url URL]

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
   there; duplicates on the topic are counted and printed, never counted as progress.

Besides the rates and latencies it prints the rate over each tenth of the run (flat when the rate
is sustained, falling when a cost grows with the data) and intake's MongoDB commands by command
and collection with their driver-side time (pymongo command monitoring), first and last tenth.
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
import math
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
from faststream import BaseMiddleware
from pymongo import AsyncMongoClient, monitoring
from tqdm import tqdm

from deploy.local.demo_data import demo_work_orders

DEALERS_FILE = Path("deploy/local/dealers.json")
DAYS = 30
SEED = 7


# --- measurements -----------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-record processing intervals (perf_counter seconds), in processing order."""

    latencies: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    first_start: float | None = None
    last_end: float | None = None

    def add(self, started: float, ended: float) -> None:
        if self.first_start is None:
            self.first_start = started
        self.last_end = ended
        self.latencies.append(ended - started)
        self.ends.append(ended)

    def rates_by_tenth(self) -> list[float]:
        """events/s over each tenth of the records, in order: flat when the rate is sustained."""
        if self.first_start is None or len(self.ends) < 10:
            return []
        rates = []
        previous = self.first_start
        for k in range(1, 11):
            first, last = (k - 1) * len(self.ends) // 10, k * len(self.ends) // 10
            end = self.ends[last - 1]
            rates.append((last - first) / (end - previous) if end > previous else math.nan)
            previous = end
        return rates

    def rate(self, count: int) -> float:
        if self.first_start is None or self.last_end is None or self.last_end <= self.first_start:
            return 0.0
        return count / (self.last_end - self.first_start)

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class _Timed(BaseMiddleware):
    """Outermost of the service's own middlewares: from receipt to the handler's return."""

    def __init__(self, msg: Any, /, *, context: Any, timings: Timings) -> None:
        super().__init__(msg, context=context)
        self.timings = timings
        self.started = 0.0

    async def on_receive(self) -> None:
        self.started = time.perf_counter()

    async def after_processed(
        self, exc_type: Any = None, exc_val: Any = None, exc_tb: Any = None
    ) -> bool | None:
        self.timings.add(self.started, time.perf_counter())
        return False


class MongoTimes(monitoring.CommandListener):
    """Time of each MongoDB command by (command, collection), while `active`: where a record's
    time goes, measured at the driver."""

    def __init__(self) -> None:
        self.active = False
        self._pending: dict[tuple[Any, int], tuple[str, str]] = {}
        self.durations: dict[tuple[str, str], list[float]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            target = event.command.get(event.command_name)
            collection = target if isinstance(target, str) else ""
            key = (event.connection_id, event.request_id)
            self._pending[key] = (event.command_name, collection)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.connection_id, event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.connection_id, event.request_id, event.duration_micros)

    def _done(self, connection: Any, request: int, micros: int) -> None:
        name = self._pending.pop((connection, request), None)
        if name is not None:
            self.durations.setdefault(name, []).append(micros / 1000)

    def lines(self, records: int) -> list[str]:
        out = []
        ranked = sorted(self.durations.items(), key=lambda item: -sum(item[1]))
        for (command, collection), ms in ranked:
            if command in ("ping", "endSessions") or not ms:
                continue
            tenth = max(1, len(ms) // 10)
            out.append(
                f"  {command:13} {collection:12}{len(ms) / max(records, 1):>6.1f}/event"
                f"{sum(ms) / max(records, 1):>9.2f} ms/event   mean {sum(ms) / len(ms):7.2f} ms"
                f"   first tenth {sum(ms[:tenth]) / tenth:7.2f} ms"
                f"   last tenth {sum(ms[-tenth:]) / tenth:7.2f} ms"
            )
        return out


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

    async def run(self) -> None:
        await self.consumer.start()
        try:
            while True:
                batch = await self.consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        self.records += 1
                        self.event_ids.add(json.loads(record.value)["event_id"])
        finally:
            await self.consumer.stop()


async def intake(space: Space, count: int, log_level: str, deadline: float) -> Result:
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
    service.runtime.broker.insert_middleware(functools.partial(_Timed, timings=timings))
    mongo.active = True  # the consumer starts with the broker, inside runtime.start()
    await service.runtime.start()
    output = DistinctEvents(space.bootstrap, settings.topic(WorkOrderClosed.TOPIC))
    reader = asyncio.create_task(output.run())
    try:
        with progress("intake", count) as bar:
            while len(output.event_ids) < count and time.monotonic() < deadline:
                if reader.done():
                    reader.result()  # the reader died: raise its error
                await asyncio.sleep(0.25)
                bar.update(len(output.event_ids) - bar.n)
    finally:
        mongo.active = False
        await service.runtime.stop()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    rejected = await service_rejections(space)
    handled = len(timings.latencies)
    return Result(
        "intake",
        len(output.event_ids),
        timings,
        output.records - len(output.event_ids),
        f"{handled:,} records handled, {rejected} rejected",
        complete=len(output.event_ids) >= count,
        details=["MongoDB commands (driver-side time):", *mongo.lines(handled)],
    )


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
FastStream middleware entered, before decoding) to the output acknowledged by Kafka
(passthrough: send_and_wait returned; intake: handler returned = canonical event acknowledged
and record marked published). It excludes the offset commit and the wait in the fetch buffer.
Both: one record at a time, commit after the output, idempotent producer, acks=all."""


def report(count: int, size: int, results: list[Result]) -> None:
    print(
        f"\nintake benchmark: N = {count:,} DMS work orders ({size / count:,.0f} bytes each), "
        f"{os.cpu_count()} cores (Kafka and MongoDB on the same machine)"
    )
    print(f"{'':13}{'events':>9}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'dupl.':>7}  checks")
    for r in results:
        done = f"{r.count:,}" + ("" if r.complete else "*")
        print(
            f"{r.name:13}{done:>9}{r.timings.rate(r.count):>10,.1f}"
            f"{r.timings.percentile_ms(0.50):>9.2f}{r.timings.percentile_ms(0.99):>9.2f}"
            f"{r.duplicates:>7,}  {r.note}"
        )
    if not all(r.complete for r in results):
        print("* INCOMPLETE: not all N events within --timeout; figures are over those done")
    rates = {r.name: r.timings.rate(r.count) for r in results}
    if rates.get("passthrough") and "intake" in rates:
        print(f"ratio intake / passthrough: {rates['intake'] / rates['passthrough']:.4f}")
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


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.intake")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--mongodb-url", default=os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds for each of the two runs"
    )
    parser.add_argument("--log-level", default="WARNING", help="intake's log level")
    parser.add_argument("--keep", action="store_true", help="keep the topics and the database")
    args = parser.parse_args(argv)

    space = new_space(args.bootstrap, args.mongodb_url, "bench")
    source = space.topic(topics.DMS_WORKORDER_CLOSED)
    print(f"topic prefix {space.prefix}  database {space.database}", file=sys.stderr)
    try:
        await ensure_topics(tool_kafka_options(space.bootstrap), [source])
        size = await publish_input(space, source, args.count)
        baseline = await passthrough(space, source, args.count, time.monotonic() + args.timeout)
        ours = await intake(space, args.count, args.log_level, time.monotonic() + args.timeout)
        report(args.count, size, [baseline, ours])
        return 0 if baseline.complete and ours.complete else 1
    finally:
        if not args.keep:
            await space.remove()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
