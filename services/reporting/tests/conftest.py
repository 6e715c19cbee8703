"""Fixtures of the reporting service's tests: a service on the isolated database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_reporting.app import ReportingService, build
from aftersales_reporting.settings import ReportingSettings
from aftersales_reporting.subscribers import feeds
from aftersales_runtime.batches import Received
from aftersales_runtime.clock import FixedClock

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = {"dealer-sz-001": SHANGHAI, "dealer-bj-002": SHANGHAI}
DEALER = "dealer-sz-001"


@pytest.fixture
def settings(service_settings) -> ReportingSettings:
    # Unpaced: a handler test publishes a record at a time through the in-memory broker, each
    # its own pass, and paced passes would each wait out the interval (pacing is the runtime's,
    # tested there on the real Kafka and measured by the pipeline benchmark).
    return service_settings(ReportingSettings, batch_min_interval_ms=0)


@pytest.fixture
async def service(settings) -> AsyncIterator[ReportingService]:
    built = build(settings, FixedClock(NOW))
    try:
        yield built
    finally:
        await built.runtime.mongo.close()


@pytest.fixture
async def client(service, tokens) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    manager = tokens.header("cr_manager", dealers=["*"])
    async with httpx.AsyncClient(
        transport=transport, base_url="http://reporting", headers=manager
    ) as http:
        yield http


class Feeder:
    """Hands events to the service's projectors as Kafka records, with offsets per topic."""

    def __init__(self, service) -> None:
        self.projectors = {f.topic: f.projector for f in feeds(service.ledger, ZONES.get)}
        self.offsets: dict[str, int] = {}

    def records(self, events) -> dict[str, list[Received]]:
        batches: dict[str, list[Received]] = {}
        for event in events:
            offset = self.offsets.get(event.TOPIC, 0)
            self.offsets[event.TOPIC] = offset + 1
            record = Received(
                event.model_dump_json().encode(), event.key(), (), event.TOPIC, 0, offset
            )
            batches.setdefault(event.TOPIC, []).append(record)
        return batches

    async def feed(self, batches: dict[str, list[Received]], size: int = 25) -> None:
        for topic, records in batches.items():
            for start in range(0, len(records), size):
                assert await self.projectors[topic].run(records[start : start + size]) == []
