"""Batch consumption on the real Kafka: poison parked one by one while its neighbours flow, a
failing record found by taking the batch apart, outages retried without a commit, a graceful
shutdown that finishes the batch in flight (ARCHITECTURE: Delivery), and passes paced under load
but not after a quiet spell."""

import asyncio
import itertools
import json
import logging
from collections.abc import Sequence

import pytest
from aftersales_contracts.topics import DEAD_LETTER
from aftersales_runtime.batches import BatchSettings, Received, Refused, batch_subscriber
from aftersales_runtime.deadletter import PoisonMessage
from aftersales_runtime.kafka import make_broker
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.settings import ServiceSettings
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo.errors import AutoReconnect

pytestmark = pytest.mark.stack

BATCH = BatchSettings(batch_max_records=100, batch_timeout_ms=100)


@pytest.fixture
def settings(stack, isolation, monkeypatch):
    for name, value in stack.kafka_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AFTERSALES_TOPIC_PREFIX", isolation.topic_prefix)
    monkeypatch.setenv("AFTERSALES_RETRY_BACKOFF_SECONDS", "0.01")
    return ServiceSettings()


async def publish(settings: ServiceSettings, topic: str, values: list[bytes]) -> None:
    await ensure_topics(kafka_client_options(settings), [topic, settings.topic(DEAD_LETTER)], 1)
    producer = AIOKafkaProducer(**kafka_client_options(settings))
    await producer.start()
    for value in values:
        await producer.send_and_wait(topic, value, key=b"dealer-1", headers=[("origin", b"test")])
    await producer.stop()


async def read_all(kafka: dict, topic: str, expected: int, timeout: float = 20.0) -> list:
    consumer = AIOKafkaConsumer(
        topic, **kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < expected:
                for items in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(items)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return records


async def committed(settings: ServiceSettings, topic: str, group: str) -> int | None:
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings),
        group_id=settings.consumer_group(group),
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()


async def until(condition, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def numbers(records: Sequence[Received]) -> list[int | None]:
    found: list[int | None] = []
    for record in records:
        try:
            found.append(int(json.loads(record.value)["n"]))
        except (ValueError, KeyError, TypeError):
            found.append(None)
    return found


async def test_poison_inside_a_batch_is_parked_alone_and_its_neighbours_flow(settings):
    topic = settings.topic("runtime.batched")
    values = [b'{"n": 1}', b'{"n": 2}', b"not json", b'{"n": 3}', b'{"n": 13}', b'{"n": 4}']
    await publish(settings, topic, values)
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    batches: list[list[int | None]] = []
    done: list[int] = []

    @batch_subscriber(broker, settings, "runtime.batched", group="batched", batch=BATCH)
    async def handle(records: Sequence[Received]) -> list[Refused]:
        batches.append(numbers(records))
        refused = []
        for record, n in zip(records, numbers(records), strict=True):
            if n is None:
                refused.append(Refused(record, ValueError("not a ping")))
            elif n == 13:
                refused.append(Refused(record, PoisonMessage("unknown dealer")))
            else:
                done.append(n)
        return refused

    async with broker:
        await broker.start()
        await until(lambda: 4 in done)
        await until(lambda: len(batches) and sum(map(len, batches)) == 6)

    assert done == [1, 2, 3, 4]
    assert max(len(b) for b in batches) > 1  # it really came as a batch
    parked = await read_all(kafka_client_options(settings), settings.topic(DEAD_LETTER), 2)
    assert [r.value for r in parked] == [b"not json", b'{"n": 13}']
    headers = [dict(r.headers) for r in parked]
    assert [h["dlq-error-type"] for h in headers] == [b"ValueError", b"PoisonMessage"]
    assert [h["dlq-offset"] for h in headers] == [b"2", b"4"]
    assert all(h["origin"] == b"test" and h["dlq-topic"] == topic.encode() for h in headers)
    assert await committed(settings, topic, "batched") == 6


async def test_a_record_that_breaks_the_handler_is_found_and_parked_alone(settings):
    topic = settings.topic("runtime.buggy")
    await publish(settings, topic, [json.dumps({"n": n}).encode() for n in (1, 13, 2)])
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    calls: list[list[int | None]] = []
    done: set[int] = set()

    @batch_subscriber(broker, settings, "runtime.buggy", group="buggy", batch=BATCH)
    async def handle(records: Sequence[Received]) -> list[Refused]:
        calls.append(numbers(records))
        if 13 in numbers(records):
            raise RuntimeError("a bug that no retry fixes")
        done.update(n for n in numbers(records) if n is not None)
        return []

    async with broker:
        await broker.start()
        await until(lambda: done == {1, 2})

    assert calls[: settings.max_attempts] == [[1, 13, 2]] * settings.max_attempts
    assert calls[settings.max_attempts :] == [[1], [13], [13], [13], [2]]  # apart, then alone
    [parked] = await read_all(kafka_client_options(settings), settings.topic(DEAD_LETTER), 1)
    assert parked.value == b'{"n": 13}'
    assert dict(parked.headers)["dlq-error-type"] == b"RuntimeError"
    assert await committed(settings, topic, "buggy") == 3


async def test_an_outage_retries_the_batch_without_committing_or_parking(settings):
    topic = settings.topic("runtime.outage")
    await publish(settings, topic, [json.dumps({"n": n}).encode() for n in (1, 2, 3)])
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    calls: list[list[int | None]] = []
    offsets_seen_committed: list[int | None] = []
    done = asyncio.Event()

    @batch_subscriber(broker, settings, "runtime.outage", group="outage", batch=BATCH)
    async def handle(records: Sequence[Received]) -> list[Refused]:
        calls.append(numbers(records))
        if len(calls) <= settings.max_attempts + 1:  # more failures than attempts: never parked
            offsets_seen_committed.append(await committed(settings, topic, "outage"))
            raise AutoReconnect("database restarting")
        done.set()
        return []

    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), 60)
        await until(lambda: len(calls) == settings.max_attempts + 2)

    assert all(c == [1, 2, 3] for c in calls)  # the same batch, from its first record, each time
    assert set(offsets_seen_committed) == {None}  # nothing committed while it failed
    assert await read_all(kafka_client_options(settings), settings.topic(DEAD_LETTER), 1, 3) == []
    assert await committed(settings, topic, "outage") == 3


async def test_shutdown_finishes_the_batch_in_flight_and_commits_it(settings):
    topic = settings.topic("runtime.slow")
    await publish(settings, topic, [json.dumps({"n": n}).encode() for n in (1, 2, 3)])
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    started = asyncio.Event()
    finished: list[int | None] = []

    @batch_subscriber(broker, settings, "runtime.slow", group="slow", batch=BATCH)
    async def handle(records: Sequence[Received]) -> list[Refused]:
        started.set()
        await asyncio.sleep(1.0)
        finished.extend(numbers(records))
        return []

    await broker.start()
    await asyncio.wait_for(started.wait(), 30)
    await broker.stop()  # while the batch sleeps

    assert finished == [1, 2, 3]
    assert await committed(settings, topic, "slow") == 3


async def batches_of_a_stream(
    settings: ServiceSettings,
    name: str,
    batch: BatchSettings,
    count: int,
    gap: float,
    paced: bool = True,
) -> list[tuple[float, list[int | None]]]:
    """The batches (and when each pass began, in seconds) a subscriber with `batch`'s bounds,
    joined and idle, is handed when `count` records are published `gap` seconds apart."""
    topic = settings.topic(name)
    await ensure_topics(kafka_client_options(settings), [topic, settings.topic(DEAD_LETTER)], 1)
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    batches: list[tuple[float, list[int | None]]] = []

    @batch_subscriber(broker, settings, name, group="t", batch=batch, paced=paced)
    async def handle(records: Sequence[Received]) -> list[Refused]:
        batches.append((asyncio.get_running_loop().time(), numbers(records)))
        return []

    async with broker:
        await broker.start()
        await asyncio.sleep(1.5)  # the consumer has joined and waits, idle
        producer = AIOKafkaProducer(**kafka_client_options(settings))
        await producer.start()
        try:
            for n in range(count):
                await producer.send_and_wait(topic, json.dumps({"n": n}).encode(), key=b"d")
                await asyncio.sleep(gap)
        finally:
            await producer.stop()
        await until(lambda: sum(len(numbers) for _, numbers in batches) == count)
    return batches


@pytest.mark.parametrize(("fetch_min_bytes", "most_batches"), [(64 * 1024, 3), (1, None)])
async def test_records_that_trickle_in_come_a_few_to_a_batch(
    settings, fetch_min_bytes, most_batches
):
    """Kafka holds the fetch until enough bytes are there or the batch's wait passed: ten records
    published 150 ms apart come in a few batches (a fetch and a commit each), not ten. With
    `fetch_min_bytes` 1 (the control) nearly each comes on its own (8 batches here)."""
    held = BatchSettings(
        batch_max_records=100, batch_timeout_ms=1000, batch_fetch_min_bytes=fetch_min_bytes
    )
    batches = [
        numbers
        for _, numbers in await batches_of_a_stream(
            settings, f"runtime.trickle{fetch_min_bytes}", held, 10, 0.15
        )
    ]

    assert [n for batch in batches for n in batch] == list(range(10))
    if most_batches is not None:
        assert len(batches) <= most_batches, batches
    else:
        assert len(batches) >= 5, batches


@pytest.mark.parametrize(("interval_ms", "paced"), [(1000, True), (0, True), (1000, False)])
async def test_paced_passes_take_a_steady_stream_in_fewer_larger_batches(
    settings, interval_ms, paced
):
    """Forty records published 50 ms apart (a steady stream of 2 s or more), each fetch returning
    at once (`fetch_min_bytes` 1): paced a second apart, no pass begins within 0.9 s of the one
    before, so the stream comes in a few batches of many records; the controls, unpaced (an
    interval of 0, or a subscriber that says `paced=False`), take them about a fetch at a time,
    passes a few tens of ms apart. Every record is handled once, in order, either way."""
    bounds = BatchSettings(
        batch_max_records=500,
        batch_timeout_ms=100,
        batch_fetch_min_bytes=1,
        batch_min_interval_ms=interval_ms,
    )
    name = f"runtime.paced{interval_ms}-{paced}"
    batches = await batches_of_a_stream(settings, name, bounds, 40, 0.05, paced)

    assert [n for _, numbers in batches for n in numbers] == list(range(40))
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(batches)]
    if interval_ms and paced:
        assert min(gaps) >= 0.9, gaps
    else:
        assert len(batches) >= 12, gaps
        assert min(gaps) < 0.2, gaps


async def test_a_paced_subscriber_after_a_quiet_spell_takes_the_next_record_at_once(settings):
    """Pacing never delays the first pass after a quiet spell: with passes paced three seconds
    apart, a record published four seconds after the one before is handled within a second."""
    topic = settings.topic("runtime.paced-quiet")
    await ensure_topics(kafka_client_options(settings), [topic, settings.topic(DEAD_LETTER)], 1)
    paced = BatchSettings(batch_timeout_ms=100, batch_fetch_min_bytes=1, batch_min_interval_ms=3000)
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    handled: list[tuple[int | None, float]] = []

    @batch_subscriber(
        broker, settings, topic.removeprefix(settings.topic("")), group="t", batch=paced
    )
    async def handle(records: Sequence[Received]) -> list[Refused]:
        handled.extend((n, asyncio.get_running_loop().time()) for n in numbers(records))
        return []

    loop = asyncio.get_running_loop()
    async with broker:
        await broker.start()
        await asyncio.sleep(1.5)
        producer = AIOKafkaProducer(**kafka_client_options(settings))
        await producer.start()
        try:
            await producer.send_and_wait(topic, json.dumps({"n": 0}).encode(), key=b"d")
            await until(lambda: len(handled) == 1)
            await asyncio.sleep(4.0)  # quiet for longer than the interval
            sent = loop.time()
            await producer.send_and_wait(topic, json.dumps({"n": 1}).encode(), key=b"d")
            await until(lambda: len(handled) == 2)
        finally:
            await producer.stop()

    assert [n for n, _ in handled] == [0, 1]
    assert handled[1][1] - sent < 1.0, handled[1][1] - sent
