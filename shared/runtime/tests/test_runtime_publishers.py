"""Declared publishers: the one way a service publishes a contract event."""

from datetime import UTC, datetime
from typing import ClassVar

import pytest
from aftersales_contracts.envelope import Event
from aftersales_runtime.service import Runtime
from aftersales_runtime.settings import ServiceSettings
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.specification import AsyncAPI


class Pinged(Event):
    """A test event."""

    TOPIC: ClassVar[str] = "test.pinged"
    SCHEMA_VERSION: ClassVar[int] = 1
    n: int


class Undeclared(Pinged):
    TOPIC: ClassVar[str] = "test.undeclared"


def pinged(n: int, cls: type[Pinged] = Pinged) -> Pinged:
    return cls(
        event_id=f"e{n}",
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
        dealer_id="dealer-1",
        correlation_id="dealer-1/WO-1",
        n=n,
    )


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.setenv("AFTERSALES_TOPIC_PREFIX", "run7.")
    return Runtime("publisher-test", ServiceSettings())


async def test_declared_event_is_published_on_its_prefixed_topic_keyed_by_dealer(runtime):
    runtime.produces(Pinged)
    received = []

    @runtime.broker.subscriber("run7.test.pinged")
    async def spy(body: dict, message: KafkaMessage) -> None:
        received.append((body, message.raw_message.key, message.headers))

    async with TestKafkaBroker(runtime.broker):
        await runtime.publish(pinged(3))

    assert len(received) == 1
    body, key, headers = received[0]
    assert body["n"] == 3
    assert key == b"dealer-1"
    assert headers["correlation-id"] == "dealer-1/WO-1"
    assert headers["event-type"] == "Pinged"
    assert "run7.test.pinged" in runtime.topics


async def test_undeclared_event_is_refused(runtime):
    runtime.produces(Pinged)
    async with TestKafkaBroker(runtime.broker):
        with pytest.raises(LookupError, match=r"runtime\.produces"):
            await runtime.publish(pinged(1, Undeclared))


def test_declared_events_appear_in_the_asyncapi_document(runtime):
    runtime.produces(Pinged)
    document = AsyncAPI(runtime.broker, title="t", version="1").to_specification().to_jsonable()
    assert any("run7.test.pinged" in name for name in document["channels"])
