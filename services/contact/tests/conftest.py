"""Fixtures of the contact service's tests: a service on the isolated database, due contacts."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aftersales_contact.app import ContactService, build
from aftersales_contact.settings import ContactSettings
from aftersales_contracts import (
    Channel,
    ContactDue,
    ContactExpired,
    ContactPurpose,
    ContactResult,
    Customer,
    Staff,
    Vehicle,
    correlation_id_for,
    deterministic_id,
    topics,
)
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.spy import keep_published
from faststream.kafka import TestKafkaBroker

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(service_settings) -> ContactSettings:
    return service_settings(ContactSettings, lease_seconds=900)


@pytest.fixture
async def service(settings, clock) -> AsyncIterator[ContactService]:
    built = build(settings, clock)
    try:
        yield built
    finally:
        await built.runtime.mongo.close()


DEALERS = ("dealer-sz-001", "dealer-bj-002")


class AgentTool(httpx.Auth):
    """Signs each request as the agent its body names (`agent_id`), else as agent-1: the agent's
    tool holds that agent's token. A request that brings its own token keeps it."""

    def __init__(self, tokens: Any) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" in request.headers:
            yield request
            return
        body = json.loads(request.content) if request.content else {}
        agent = body.get("agent_id", "agent-1") if isinstance(body, dict) else "agent-1"
        request.headers.update(self.tokens.header("agent", sub=agent, dealers=DEALERS))
        yield request


def agent_client(service: ContactService, tokens: Any) -> httpx.AsyncClient:
    """An agents' tool talking to one service instance (in process)."""
    transport = httpx.ASGITransport(app=service.app)
    return httpx.AsyncClient(transport=transport, base_url="http://contact", auth=AgentTool(tokens))


@pytest.fixture
async def client(service, tokens) -> AsyncIterator[httpx.AsyncClient]:
    async with agent_client(service, tokens) as http:
        yield http


@pytest.fixture
def second_instance(settings, clock, tokens) -> Callable[[], Any]:
    """Another instance of the service on the same database (another process, in effect: it
    shares nothing in memory), as an async context manager giving its agents' client."""

    @contextlib.asynccontextmanager
    async def make() -> AsyncIterator[httpx.AsyncClient]:
        other = build(settings, clock)
        try:
            async with agent_client(other, tokens) as http:
                yield http
        finally:
            await other.runtime.mongo.close()

    return make


@pytest.fixture
def due() -> Callable[..., ContactDue]:
    """A ContactDue as the scheduler publishes it; keyword arguments override fields."""

    def make(n: int = 1, **overrides: Any) -> ContactDue:
        dealer_id = overrides.pop("dealer_id", "dealer-sz-001")
        work_order_id = f"WO-{n:04d}"
        fields: dict[str, Any] = {
            "event_id": deterministic_id("test.due", dealer_id, work_order_id, str(n)),
            "occurred_at": NOW,
            "dealer_id": dealer_id,
            "correlation_id": correlation_id_for(dealer_id, work_order_id),
            "contact_id": deterministic_id("test.contact", dealer_id, work_order_id),
            "purposes": [ContactPurpose.SERVICE_CALL_DAY3],
            "channel": Channel.PHONE,
            "due_at": NOW - timedelta(hours=10 - n),
            "attempt": 1,
            "work_order_id": work_order_id,
            "vehicle": Vehicle(
                vin=f"LSVAU218XN2{n:06d}", plate=f"粤B{n:05d}", brand="大众", model="帕萨特"
            ),
            "customer": Customer(
                customer_id=f"C-{n}",
                name="张伟",
                phone=f"+86138{n:08d}",
                is_owner=True,
                contact_consent=True,
            ),
            "service_advisor": Staff(id="SA-007", name="王芳"),
            "technicians": [Staff(id="T-1", name="李强")],
        }
        fields.update(overrides)
        return ContactDue(**fields)

    return make


@dataclass
class Published:
    results: list[ContactResult] = field(default_factory=list)
    expired: list[ContactExpired] = field(default_factory=list)


@pytest.fixture
async def spied(service, settings) -> AsyncIterator[Published]:
    """What the service publishes, as its consumers would read it (TestKafkaBroker)."""
    seen = Published()
    broker = service.runtime.broker
    result, expired = settings.topic(topics.CONTACT_RESULT), settings.topic(topics.CONTACT_EXPIRED)
    keep_published(broker, result, seen.results, ContactResult.model_validate_json)
    keep_published(broker, expired, seen.expired, ContactExpired.model_validate_json)
    async with TestKafkaBroker(broker):
        yield seen


@pytest.fixture
def published(spied: Published) -> list[ContactResult]:
    """The contact results the service publishes."""
    return spied.results
