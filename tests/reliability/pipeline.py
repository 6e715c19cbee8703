"""One isolated pipeline: its own topics and databases on the shared stack, the five services as
processes on a controlled clock, extra replicas on demand, and the consumer groups' lag."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aftersales_contracts import topics
from aftersales_runtime.auth.issuer import ensure_key_pair
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.testing import Stack
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from deploy.local.services import SERVICES, Fleet, ServiceProcess
from tests.reliability.client import ServiceClient

# What each service's consumer group reads (its handlers' subscriptions).
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "intake": (topics.DMS_WORKORDER_CLOSED, topics.DMS_VEHICLE_DELIVERED, topics.CONTACT_RESULT),
    "scheduler": (
        topics.WORKORDER_CLOSED,
        topics.VEHICLE_DELIVERED,
        topics.CONTACT_RESULT,
        topics.VEHICLE_FILE_CORRECTED,
        topics.COMPLAINT_EVENT,
        topics.APPOINTMENT_EVENT,
    ),
    "contact": (topics.CONTACT_DUE,),
    "complaints": (
        topics.CONTACT_RESULT,
        topics.WORKORDER_CLOSED,  # its customer index (D29)
        topics.VEHICLE_DELIVERED,
        topics.OEM_COMPLAINT_TRANSFERRED,
    ),
    "reporting": (
        topics.CONTACT_RESULT,
        topics.CONTACT_DUE,
        topics.CONTACT_EXPIRED,
        topics.COMPLAINT_EVENT,
        topics.WORKORDER_CLOSED,
        topics.VEHICLE_DELIVERED,
        topics.DELIVERY_SURVEYED,  # D34 coverage
        topics.APPOINTMENT_EVENT,  # D31 arrivals
    ),
    "appointments": (topics.WORKORDER_CLOSED,),  # arrivals (D31)
}
INPUT_TOPICS = tuple(sorted({t for subscribed in SUBSCRIPTIONS.values() for t in subscribed}))
REPLICA_PORT_STEP = 10  # a second replica listens 10 ports above the first


def port_offset() -> int:
    """Several checkouts test on one machine: each sets its own AFTERSALES_TEST_PORT_OFFSET."""
    return int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100"))


@dataclass
class Pipeline:
    stack: Stack
    fleet: Fleet
    clock: ControlledClock
    api: ServiceClient
    topic_prefix: str
    run_dir: Path
    replicas: dict[str, ServiceProcess] = field(default_factory=dict)
    progress: dict[str, int] = field(default_factory=lambda: {"published": 0, "answered": 0})

    @property
    def kafka(self) -> dict[str, Any]:
        """Keyword arguments of an aiokafka client (bootstrap and credentials)."""
        return self.stack.kafka_options()

    @property
    def bootstrap(self) -> str:
        return self.stack.kafka_bootstrap_servers

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def progress_text(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.progress.items())

    async def all_ready(self) -> bool:
        answers = await asyncio.gather(*(self.api.ready(name) for name in SERVICES))
        return all(answers)

    async def wait_all_ready(self, timeout: float = 120) -> float:
        """Seconds until all five answer ready (raises TimeoutError)."""
        began = time.monotonic()
        while not await self.all_ready():
            if time.monotonic() - began > timeout:
                raise TimeoutError(f"not all five services ready within {timeout}s")
            await asyncio.sleep(0.5)
        return time.monotonic() - began

    async def restart(self, name: str) -> None:
        await asyncio.to_thread(self.fleet[name].start)
        await asyncio.to_thread(self.fleet[name].wait_ready, 120)

    def replica(self, name: str) -> ServiceProcess:
        first = self.fleet[name]
        port = first.port + REPLICA_PORT_STEP
        env = {**first.env, f"{name.upper()}_HTTP_PORT": str(port)}
        return ServiceProcess(name, port, env, self.run_dir / "logs" / f"{name}-replica.log")

    async def lag(self) -> dict[str, int]:
        """Messages each service's group has not committed yet, over the topics it reads."""
        admin = AIOKafkaAdminClient(**self.kafka)
        consumer = AIOKafkaConsumer(**self.kafka, enable_auto_commit=False)
        await admin.start()
        await consumer.start()
        try:
            result = {}
            for service, subscribed in SUBSCRIPTIONS.items():
                wanted = {self.topic(t) for t in subscribed}
                partitions = [
                    TopicPartition(t, p) for t in wanted for p in await _partitions(consumer, t)
                ]
                ends = await consumer.end_offsets(partitions) if partitions else {}
                committed = await admin.list_consumer_group_offsets(
                    self.topic_prefix + service, partitions=partitions or None
                )
                result[service] = sum(
                    max(0, end - max(0, committed[tp].offset if tp in committed else 0))
                    for tp, end in ends.items()
                )
            return result
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await consumer.stop()
            await admin.close()

    async def wait_no_lag(self, timeout: float = 120) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            lag = await self.lag()
            if not any(lag.values()) or time.monotonic() > deadline:
                return lag
            await asyncio.sleep(1)

    async def read_topic(self, topic: str) -> list[Any]:
        """Every record of `topic` from offset 0 to its end now (partition by partition)."""
        consumer = AIOKafkaConsumer(**self.kafka, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
            if not partitions:
                return []
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[Any] = []
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for tp, batch in (await consumer.getmany(timeout_ms=1000)).items():
                    records.extend(r for r in batch if r.offset < ends[tp])
            return records
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await consumer.stop()

    def pids(self) -> dict[str, int]:
        found = {}
        for name, process in self.fleet.processes.items():
            if process.process is not None and process.process.poll() is None:
                found[name] = process.process.pid
        return found


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # aiokafka has no public way
    return consumer.partitions_for_topic(topic) or set()


async def _cleanup(stack: Stack, topic_prefix: str, database_prefix: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.mongodb_url, serverSelectionTimeoutMS=20000
    )
    try:
        for name in await client.list_database_names():
            if name.startswith(database_prefix):
                await client.drop_database(name)
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(**stack.kafka_options())
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(topic_prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def isolated_pipeline(
    stack: Stack,
    run_dir: Path,
    *,
    offset: int | None = None,
    extra_env: dict[str, str] | None = None,
    keep: bool = False,
) -> AsyncIterator[Pipeline]:
    """Start the five services in their own topics and databases; stop and remove them after."""
    token = uuid.uuid4().hex[:8]
    topic_prefix, database = f"rel{token}.", f"rel_{token}"
    await asyncio.to_thread(run_dir.mkdir, parents=True, exist_ok=True)
    clock = ControlledClock(run_dir / "clock.json")
    issuer_key, public_key = ensure_key_pair(run_dir / "auth")
    fleet = Fleet.configure(
        kafka=stack.kafka_env(),
        mongodb_url=stack.mongodb_url,
        clock_file=clock.path,
        log_dir=run_dir / "logs",
        topic_prefix=topic_prefix,
        database_prefix=database,
        environment="test",
        port_offset=port_offset() if offset is None else offset,
        extra_env={
            "AFTERSALES_RETRY_BACKOFF_SECONDS": "0.05",
            "LOG_LEVEL": "INFO",
            "CONTACT_LEASE_SECONDS": "30",  # a claim whose answer was lost comes back soon
            "AFTERSALES_AUTH_PUBLIC_KEY_FILE": str(public_key),
            **(extra_env or {}),
        },
    )
    await ensure_topics(
        stack.kafka_options(),
        [topic_prefix + t for t in (*INPUT_TOPICS, topics.DEAD_LETTER)],
    )
    api = ServiceClient.for_fleet(fleet, issuer_key)
    pipeline = Pipeline(stack, fleet, clock, api, topic_prefix, run_dir)
    try:
        await asyncio.to_thread(fleet.start, 120)
        yield pipeline
    finally:
        for replica in pipeline.replicas.values():
            await asyncio.to_thread(replica.stop)
        await asyncio.to_thread(fleet.stop)
        await api.close()
        if not keep:
            await _cleanup(stack, topic_prefix, database)
