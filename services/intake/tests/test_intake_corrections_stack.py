"""D30 on the real Kafka and FerretDB: a call's corrected phone becomes a revision of the vehicle
file and one `VehicleFileCorrected`; the result redelivered changes and publishes nothing more; a
DMS work order settled before the call keeps the corrected phone, one settled after it may change
it; the file's revisions as the API returns them."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import httpx
import pytest
from aftersales_contracts import ContactResult, VehicleFileCorrected, topics
from aftersales_intake.app import build
from aftersales_intake.settings import IntakeSettings
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.service import ensure_topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from .conftest import NOW, workorder
from .results import VIN, result

pytestmark = pytest.mark.stack

PHONE = "+8613911112222"
CHECK = {"phone": PHONE, "mileage_km": 16000, "next_maintenance_due_date": date(2027, 5, 20)}


class Topics:
    """Publishes as the DMS and the contact service would; reads what intake published."""

    def __init__(self, settings: IntakeSettings) -> None:
        self.settings = settings
        self.kafka = kafka_client_options(settings)
        self.producer = AIOKafkaProducer(**self.kafka)
        self.seen: dict[str, list[dict[str, Any]]] = {}
        self.consumer = AIOKafkaConsumer(
            settings.topic(topics.VEHICLE_FILE_CORRECTED),
            settings.topic(topics.WORKORDER_CLOSED),
            **self.kafka,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def start(self) -> None:
        await ensure_topics(
            self.kafka,
            [
                self.settings.topic(t)
                for t in (
                    topics.DMS_WORKORDER_CLOSED,
                    topics.CONTACT_RESULT,
                    topics.VEHICLE_FILE_CORRECTED,
                    topics.WORKORDER_CLOSED,
                )
            ],
        )
        await self.producer.start()
        await self.consumer.start()

    async def stop(self) -> None:
        await self.producer.stop()
        await self.consumer.stop()

    async def dms(self, **changes: Any) -> None:
        value = json.dumps(workorder(**changes), ensure_ascii=False).encode()
        topic = self.settings.topic(topics.DMS_WORKORDER_CLOSED)
        await self.producer.send_and_wait(topic, value, key=b"dealer-sz-001")

    async def call(self, contact: ContactResult) -> None:
        topic = self.settings.topic(topics.CONTACT_RESULT)
        await self.producer.send_and_wait(
            topic, contact.model_dump_json().encode(), key=b"dealer-sz-001"
        )

    async def until(self, topic: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The events on `topic` once there are `count` of them (and a second for more)."""
        name = self.settings.topic(topic)
        async with asyncio.timeout(timeout):
            while len(self.seen.get(name, [])) < count:
                await self._read(300)
        await self._read(1000)
        return self.seen[name]

    async def _read(self, timeout_ms: int) -> None:
        for records in (await self.consumer.getmany(timeout_ms=timeout_ms)).values():
            for record in records:
                self.seen.setdefault(record.topic, []).append(json.loads(record.value))


@pytest.fixture
async def running(service_settings):
    settings = service_settings(IntakeSettings, retry_backoff_seconds=0.01)
    bus = Topics(settings)
    await bus.start()
    service = build(settings, FixedClock(NOW))
    await service.runtime.start()
    try:
        yield service, bus
    finally:
        await service.runtime.stop()
        await bus.stop()


async def read(service, tokens, path: str, role: str) -> dict[str, Any]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.http), base_url="http://intake"
    ) as http:
        answer = await http.get(
            f"/v1/dealers/dealer-sz-001/vehicles/{VIN}{path}", headers=tokens.header(role)
        )
    assert answer.status_code == 200
    return answer.json()


async def test_a_corrected_phone_is_filed_published_once_and_kept_against_older_records(
    running, tokens
):
    service, bus = running
    await bus.dms()  # WO-1, settled 2026-11-20 16:45 Shanghai
    await bus.until(topics.WORKORDER_CLOSED, 1)

    await bus.call(result(check=CHECK))  # the day-3 call, 2026-11-22 10:00 Shanghai
    [corrected] = await bus.until(topics.VEHICLE_FILE_CORRECTED, 1)
    event = VehicleFileCorrected.model_validate(corrected)
    assert (event.file_revision, event.corrected_by, event.changed) == (
        2, "agent-7", ["phone", "mileage_km", "next_maintenance_due_date"],
    )  # fmt: skip
    assert event.customer.phone == PHONE

    await bus.call(result(check=CHECK))  # redelivered
    await bus.call(result(2, check={"mileage_km": 16100}))  # after it on the same partition
    published = await bus.until(topics.VEHICLE_FILE_CORRECTED, 2)
    assert [e["file_revision"] for e in published] == [2, 3]  # the redelivery made nothing

    # settled after WO-1 but before the call: history, not the old phone back
    await bus.dms(
        work_order_id="WO-2", opened_at="2026-11-21 08:00:00", settled_at="2026-11-21 09:00:00",
        mileage_km=15500,
    )  # fmt: skip
    _, older = await bus.until(topics.WORKORDER_CLOSED, 2)
    assert older["customer"]["phone"] == PHONE  # the next contact uses the corrected number
    file = await service.store.vehicle("dealer-sz-001", VIN)
    assert file["customer"]["phone"] == PHONE
    assert file["mileage_km"] == 16100

    # settled after the call: the DMS may change it again
    await bus.dms(
        work_order_id="WO-3", opened_at="2026-11-28 08:00:00", settled_at="2026-11-28 09:00:00",
        mileage_km=17000, customer__phone="13700001111",
    )  # fmt: skip
    await bus.until(topics.WORKORDER_CLOSED, 3)
    file = await service.store.vehicle("dealer-sz-001", VIN)
    assert file["customer"]["phone"] == "+8613700001111"

    shown = await read(service, tokens, "", "agent")
    assert shown["revision"] == 5
    assert "revisions" not in shown
    assert "corrections" not in shown
    assert shown["customer"]["phone"] == "137****1111"  # D3
    history = await read(service, tokens, "/revisions", "data_steward")
    assert history["revision"] == 5
    assert [(r["revision"], r["by"], r["at"]) for r in history["items"]] == [
        (1, "dms", "2026-11-20T08:45:00+00:00"),
        (2, "agent-7", "2026-11-22T02:00:00+00:00"),
        (3, "agent-7", "2026-11-22T02:00:00+00:00"),
        (4, "dms", "2026-11-21T01:00:00+00:00"),
        (5, "dms", "2026-11-28T01:00:00+00:00"),
    ]
    second = history["items"][1]
    assert second["source"] == {"contact_id": "contact-1", "result_event_id": "result-1"}
    assert second["values"]["phone"] == "139****2222"  # D3: masked
    assert "event" not in second
