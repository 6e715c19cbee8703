"""Dead-lettering and commit-after-effect on the real Kafka (ARCHITECTURE: Delivery)."""

import asyncio
import json
import logging

import pytest
from aftersales_contracts.topics import DEAD_LETTER
from aftersales_runtime.kafka import make_broker
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.settings import ServiceSettings
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel
from pymongo.errors import AutoReconnect

pytestmark = pytest.mark.stack


class Ping(BaseModel):
    n: int


async def read_all(kafka: dict, topic: str, expected: int, timeout: float = 20.0) -> list:
    consumer = AIOKafkaConsumer(
        topic, **kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for items in batch.values():
                    records.extend(items)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def settings(stack, isolation, monkeypatch):
    for name, value in stack.kafka_env().items():  # the deadletter command reads them too
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AFTERSALES_TOPIC_PREFIX", isolation.topic_prefix)
    monkeypatch.setenv("AFTERSALES_RETRY_BACKOFF_SECONDS", "0.01")
    return ServiceSettings()


async def test_bad_input_is_parked_with_its_reason_and_the_partition_keeps_flowing(settings):
    topic = settings.topic("runtime.pings")
    await ensure_topics(kafka_client_options(settings), [topic, settings.topic(DEAD_LETTER)], 1)
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    seen: list[int] = []
    attempts: dict[int, int] = {}

    @broker.subscriber(topic, group_id="runtime-test", auto_offset_reset="earliest")
    async def handle(ping: Ping) -> None:
        attempts[ping.n] = attempts.get(ping.n, 0) + 1
        if ping.n == 13:
            raise RuntimeError("a bug that no retry fixes")
        seen.append(ping.n)

    producer = AIOKafkaProducer(**kafka_client_options(settings))
    await producer.start()
    for value in [b"not json at all", b'{"n": "twelve"}', b'{"n": 13}', b'{"n": 14}']:
        await producer.send_and_wait(topic, value, key=b"dealer-1", headers=[("origin", b"test")])
    await producer.stop()

    async with broker:
        await broker.start()
        async with asyncio.timeout(30):
            while 14 not in seen:
                await asyncio.sleep(0.1)

    parked = await read_all(kafka_client_options(settings), settings.topic(DEAD_LETTER), 3)
    assert [r.value for r in parked] == [b"not json at all", b'{"n": "twelve"}', b'{"n": 13}']
    headers = [dict(r.headers) for r in parked]
    assert all(
        h["dlq-service"] == b"runtime-test" and h["dlq-topic"] == topic.encode() for h in headers
    )
    assert all(h["origin"] == b"test" for h in headers)  # the original headers are kept
    assert headers[1]["dlq-error-type"] == b"ValidationError"
    assert headers[2]["dlq-attempts"] == b"3"  # a failing handler is retried, then parked
    assert attempts[13] == settings.max_attempts
    assert all(r.key == b"dealer-1" for r in parked)
    assert seen == [14]


async def test_unavailable_dependency_is_redelivered_not_parked(settings):
    topic = settings.topic("runtime.flaky")
    await ensure_topics(kafka_client_options(settings), [topic, settings.topic(DEAD_LETTER)], 1)
    broker = make_broker(settings, "runtime-test", logging.getLogger("runtime-test"))
    calls: list[int] = []

    @broker.subscriber(topic, group_id="runtime-flaky", auto_offset_reset="earliest")
    async def handle(ping: Ping) -> None:
        calls.append(ping.n)
        if len(calls) <= 4:  # more failures than max_attempts: still not parked
            raise AutoReconnect("database restarting")

    producer = AIOKafkaProducer(**kafka_client_options(settings))
    await producer.start()
    await producer.send_and_wait(topic, json.dumps({"n": 1}).encode(), key=b"d")
    await producer.stop()

    async with broker:
        await broker.start()
        async with asyncio.timeout(60):
            while len(calls) < 5:
                await asyncio.sleep(0.1)

    assert calls == [1, 1, 1, 1, 1]
    parked = await read_all(kafka_client_options(settings), settings.topic(DEAD_LETTER), 1, 3)
    assert parked == []


async def test_replay_sends_parked_messages_back_to_their_source_topic(settings, capsys):
    from aftersales_runtime.deadletter import main as deadletter_command

    source = settings.topic("runtime.replayed")
    parked_topic = settings.topic(DEAD_LETTER)
    await ensure_topics(kafka_client_options(settings), [source, parked_topic], 1)
    producer = AIOKafkaProducer(**kafka_client_options(settings))
    await producer.start()
    for service, value in [("intake", b'{"n": 1}'), ("scheduler", b'{"n": 2}')]:
        await producer.send_and_wait(
            parked_topic,
            value,
            key=b"dealer-1",
            headers=[
                ("dlq-service", service.encode()),
                ("dlq-topic", source.encode()),
                ("dlq-error", b"boom"),
                ("trace", b"kept"),
            ],
        )
    await producer.stop()
    args = [
        "--bootstrap",
        settings.kafka_bootstrap_servers,
        "--topic-prefix",
        settings.topic_prefix,
    ]

    await asyncio.to_thread(deadletter_command, ["list", *args])
    await asyncio.to_thread(deadletter_command, ["replay", "--service", "intake", *args])

    out = capsys.readouterr().out
    assert "2 parked message(s)" in out
    assert "replayed 1 parked message(s)" in out
    replayed = await read_all(kafka_client_options(settings), source, 1)
    assert [(r.value, r.key) for r in replayed] == [(b'{"n": 1}', b"dealer-1")]
    assert dict(replayed[0].headers) == {"trace": b"kept"}
