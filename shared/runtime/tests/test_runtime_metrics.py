"""`/metrics` of a service: Kafka messages per topic, parked messages, HTTP requests by route."""

from datetime import UTC, datetime
from typing import ClassVar

import httpx
import pytest
from aftersales_contracts.envelope import Event
from aftersales_runtime.service import Runtime
from aftersales_runtime.settings import ServiceSettings
from fastapi import APIRouter
from faststream.kafka import TestKafkaBroker
from prometheus_client.parser import text_string_to_metric_families


class Measured(Event):
    """A test event."""

    TOPIC: ClassVar[str] = "test.measured"
    SCHEMA_VERSION: ClassVar[int] = 1
    n: int


def measured(n: int) -> Measured:
    return Measured(
        event_id=f"e{n}",
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
        dealer_id="dealer-1",
        correlation_id=f"dealer-1/WO-{n}",
        n=n,
    )


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    return sum(
        v
        for (n, found), v in samples(text).items()
        if n == name and set(labels.items()) <= set(found)
    )


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.setenv("AFTERSALES_TOPIC_PREFIX", "m1.")
    monkeypatch.setenv("AFTERSALES_RETRY_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("AFTERSALES_REVISION", "abc1234")
    return Runtime("metrics-test", ServiceSettings())


async def test_messages_consumed_published_and_parked_are_counted_per_topic(runtime):
    runtime.produces(Measured)

    @runtime.broker.subscriber("m1.test.measured", group_id="metrics-test")
    async def consume(body: dict) -> None:
        if body["n"] < 0:
            raise ValueError("negative")

    async with TestKafkaBroker(runtime.broker):
        for n in (1, 2, -1):
            await runtime.publish(measured(n))
        text = (await runtime.metrics.exposition())[0].decode()

    topic = "m1.test.measured"
    assert value(text, "aftersales_published_messages_total", destination=topic) == 3
    assert value(text, "aftersales_received_messages_total", handler=topic) == 3
    assert (
        value(text, "aftersales_received_processed_messages_duration_seconds_count", handler=topic)
        == 3
    )
    assert value(
        text, "aftersales_messages_parked_total", topic=topic, error_type="ValueError"
    ) == pytest.approx(1)
    assert value(text, "aftersales_build_info", revision="abc1234") == 1


async def test_http_requests_are_counted_by_route_template_and_status(runtime):
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app = runtime.http_app(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for thing_id in ("a", "b"):
            assert (await client.get(f"/things/{thing_id}")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
        live = (await client.get("/health/live")).json()
        answer = await client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert (
        value(text, "aftersales_http_requests_total", route="/things/{thing_id}", status="200") == 2
    )
    assert value(text, "aftersales_http_requests_total", route="unmatched", status="404") == 1
    assert live["revision"] == "abc1234"
    assert live["version"]


@pytest.mark.stack
async def test_mongodb_commands_are_counted_by_command_and_collection(stack, isolation):
    runtime = Runtime("metrics-test", ServiceSettings(mongodb_url=stack.mongodb_url))
    db = runtime.mongo[isolation.database]
    try:
        await db["things"].insert_many([{"_id": n} for n in range(3)])
        await db["things"].find_one({"_id": 1})
        await db["things"].update_one({"_id": 1}, {"$set": {"seen": True}})
        text = (await runtime.metrics.exposition())[0].decode()
    finally:
        await runtime.mongo.drop_database(isolation.database)
        await runtime.mongo.close()

    commands, documents = "aftersales_mongodb_commands_total", "aftersales_mongodb_documents_total"
    assert value(text, commands, command="insert", collection="things") == 1
    assert value(text, documents, command="insert", collection="things") == 3
    assert value(text, commands, command="find", collection="things") == 1
    assert value(text, commands, command="update", collection="things") == 1
    duration = "aftersales_mongodb_command_duration_seconds_count"
    assert value(text, duration, command="find", collection="things") == 1
