"""What the services' stack tests do with the real Kafka: put raw records on a topic (a poison
one among them), read what a topic holds, wait until a consumer group committed. `options` are a
client's (`kafka_access.kafka_client_options(settings)`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from aftersales_runtime.service import ensure_topics


def with_poison(first: bytes, last: bytes, dealer_id: str) -> tuple[list[bytes], list[bytes]]:
    """A batch's records with two poison ones between two good ones: one that is not JSON, one
    JSON that breaks every contract. Returns the records, in order, and the poison ones."""
    poison = [b"not json {", json.dumps({"event_id": "e-1", "dealer_id": dealer_id}).encode()]
    return [first, *poison, last], poison


async def publish_records(
    options: dict[str, Any], topic: str, records: Sequence[bytes], key: bytes
) -> None:
    """Each record, in order, under one key (one partition), acknowledged before the next."""
    await ensure_topics(options, [topic])
    producer = AIOKafkaProducer(**options)
    await producer.start()
    try:
        for raw in records:
            await producer.send_and_wait(topic, raw, key=key)
    finally:
        await producer.stop()


async def committed(options: dict[str, Any], group: str, topic: str) -> int:
    """The group's committed offsets on the topic, summed over its partitions."""
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(o.offset for tp, o in offsets.items() if tp.topic == topic)


async def wait_committed(
    options: dict[str, Any], group: str, topic: str, count: int, within: float = 60
) -> None:
    """Until the group committed `count` records of the topic (TimeoutError after `within`
    seconds)."""
    async with asyncio.timeout(within):
        while await committed(options, group, topic) < count:  # noqa: ASYNC110 (Kafka's, polled)
            await asyncio.sleep(0.25)


async def read_topic(
    options: dict[str, Any], topic: str, expected: int, within: float = 30
) -> list[ConsumerRecord[bytes, bytes]]:
    """The topic's records from the start: until `expected` came (or `within` seconds passed),
    and whatever else comes within a second after (so a test sees what should not be there)."""
    consumer = AIOKafkaConsumer(
        topic, **options, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while len(records) < expected:
                    for items in (await consumer.getmany(timeout_ms=300)).values():
                        records.extend(items)
        for items in (await consumer.getmany(timeout_ms=1000)).values():
            records.extend(items)  # and nothing more should come
    finally:
        await consumer.stop()
    return records
