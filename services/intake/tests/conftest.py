"""Fixtures of intake's tests: a sample DMS work order and the service on TestKafkaBroker."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aftersales_contracts import topics
from aftersales_intake.app import Service, build
from aftersales_intake.settings import IntakeSettings
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.spy import keep_published
from faststream.kafka import TestKafkaBroker

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)

SAMPLE: dict[str, Any] = {
    "event_id": "WO-1-settled",
    "dealer_id": "dealer-sz-001",
    "work_order_id": "WO-1",
    "work_order_type": "保养",
    "opened_at": "2026-11-20 09:12:00",
    "settled_at": "2026-11-20 16:45:00",
    "vin": "lsvau218xn2183294",
    "plate": "粤B·12345",
    "brand": "大众",
    "model": "帕萨特",
    "mileage_km": 15230,
    "customer": {
        "customer_id": "C-1",
        "name": "张伟",
        "phone": "138 0013 8000",
        "id_number": "440301198503140011",
    },
    "service_advisor": {"id": "SA-7", "name": "王芳"},
    "technicians": [{"id": "T-31", "name": "刘强"}],
    "items": [{"code": "BY-1", "name": "机油", "amount": 458.0}],
    "total_amount": 580.0,
}


def workorder(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    for key, value in changes.items():
        target = data
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return data


@pytest.fixture
def make_workorder() -> Callable[..., dict[str, Any]]:
    """`make_workorder(work_order_id="WO-2", customer__phone="…")`: `__` walks into objects."""
    return workorder


@dataclass
class Harness:
    service: Service
    broker: Any
    settings: IntakeSettings
    clock: FixedClock
    published: dict[str, list[bytes]]

    async def send(self, value: bytes | dict[str, Any], topic: str = topics.DMS_WORKORDER_CLOSED):
        import json

        body = value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode()
        await self.broker.publish(body, topic=self.settings.topic(topic), key=b"dealer-sz-001")

    def events(self, topic: str) -> list[dict[str, Any]]:
        import json

        return [json.loads(b) for b in self.published[topic]]


@pytest.fixture
async def harness(service_settings: Any, request: Any) -> AsyncIterator[Harness]:
    """Passes unpaced (each in-memory publish is a pass of its own), unless a test asks for an
    interval (`indirect` parametrization)."""
    interval = getattr(request, "param", 0)
    settings = service_settings(
        IntakeSettings, retry_backoff_seconds=0, batch_min_interval_ms=interval
    )
    clock = FixedClock(NOW)
    service = build(settings, clock)
    published: dict[str, list[bytes]] = defaultdict(list)
    for topic in (
        topics.WORKORDER_CLOSED,
        topics.VEHICLE_DELIVERED,
        topics.INTAKE_REJECTED,
        topics.VEHICLE_FILE_CORRECTED,
        topics.DEAD_LETTER,
    ):
        keep_published(service.runtime.broker, settings.topic(topic), published[topic])
    async with TestKafkaBroker(service.runtime.broker) as broker:
        yield Harness(service, broker, settings, clock, published)
    await service.runtime.mongo.close()
