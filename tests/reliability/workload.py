"""The known input: work orders for the DMS topic, the scripted agents' answers, and what the
pipeline must make of them (the checker's expectations).

Every work order settles on one Monday with its own VIN, consent and the phone channel, and with
care dates far from the follow-up days, so each plans exactly the three after-service contacts
(D6, D7) and its day-3 call comes due when the clock moves to the third day.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer

from deploy.local.demo_data import work_order

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALERS = ("dealer-sz-001", "dealer-gz-003", "dealer-bj-002")
SETTLED_DAY = datetime(2026, 11, 16)  # a Monday
BEFORE_ANY_DUE = datetime(2026, 11, 16, 18, 0, tzinfo=SHANGHAI)
DAY3_CALLS_DUE = datetime(2026, 11, 19, 15, 30, tzinfo=SHANGHAI)
REPORT_MONTH = "2026-11"
AFTER_SERVICE_STEPS = frozenset({"call_day3", "sms_survey_day7", "call_day30"})
ITEMS = ("attitude", "environment", "service_process", "quality", "charges", "timeliness")
# The day-3 answers, in turn: (overall, lowest item). Complaints' default grading opens a ticket
# for an overall below 8 or an item at 2 or below (D18).
ANSWER_CYCLE = ((10, 9), (4, 8), (9, 9), (7, 8), (8, 2), (6, 8), (10, 10), (9, 8))

log = logging.getLogger("reliability")


@dataclass(frozen=True)
class Order:
    payload: dict[str, Any]
    overall: int
    lowest_item: int

    @property
    def work_order_id(self) -> str:
        return str(self.payload["work_order_id"])

    @property
    def dealer(self) -> str:
        return str(self.payload["dealer_id"])

    @property
    def vin(self) -> str:
        return str(self.payload["vin"])

    @property
    def opens_ticket(self) -> bool:
        return self.overall < 8 or self.lowest_item <= 2

    def answer(self, agent: str) -> dict[str, Any]:
        scores = {item: max(self.overall, 8) for item in ITEMS} | {"overall": self.overall}
        scores["quality"] = self.lowest_item
        return {
            "agent_id": agent,
            "outcome": "reached",
            "scores": scores,
            "yes_no": {"fixed_first_time": True},  # D16: the CSI's yes/no item
            "comment": "谢谢",
        }


@dataclass(frozen=True)
class Workload:
    orders: tuple[Order, ...]

    @property
    def tickets(self) -> int:
        return sum(o.opens_ticket for o in self.orders)

    def by_work_order(self) -> dict[str, Order]:
        return {o.work_order_id: o for o in self.orders}


def make_workload(size: int, seed: int = 18) -> Workload:
    orders = endless_orders(seed)
    return Workload(tuple(next(orders) for _ in range(size)))


def endless_orders(seed: int = 18) -> Iterator[Order]:
    """The workload's orders, one after the other, for as long as wanted (the soak)."""
    rng = random.Random(seed)
    number = 0
    while True:
        number += 1
        minute = rng.randrange(6 * 60)  # settled 09:00-14:59
        settled = SETTLED_DAY.replace(hour=9 + minute // 60, minute=minute % 60)
        payload = work_order(rng, DEALERS[number % len(DEALERS)], number, settled)
        payload["work_order_type"] = "repair"
        payload["customer"] |= {
            "contact_consent": True,
            "preferred_channel": "phone",
            "birthday": "1980-06-15",
        }
        payload["insurance_expiry"] = "2027-09-30"
        payload["licence_expiry"] = "2030-09-30"
        payload["next_maintenance"] = {"due_date": "2027-05-16", "due_mileage_km": None}
        overall, lowest = ANSWER_CYCLE[number % len(ANSWER_CYCLE)]
        yield Order(payload, overall, lowest)


@dataclass
class DmsProducer:
    """A DMS that retries every work order until the broker acknowledges it (at least once)."""

    kafka: dict[str, Any]  # aiokafka client options (bootstrap and credentials)
    topic: str
    resends: int = 0
    _producer: AIOKafkaProducer | None = field(default=None, repr=False)

    async def _fresh(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                **self.kafka, enable_idempotence=True, request_timeout_ms=10000
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), 10)
            except Exception:  # a broken producer may not stop cleanly
                log.debug("producer did not stop cleanly", exc_info=True)

    async def send(self, value: bytes, key: bytes) -> None:
        while True:
            try:
                producer = await self._fresh()
                await asyncio.wait_for(producer.send_and_wait(self.topic, value, key=key), 15)
                return
            except Exception as error:  # the DMS retries whatever went wrong
                self.resends += 1
                log.info("dms: send failed (%s), retrying", type(error).__name__)
                await self._drop()
                await asyncio.sleep(1)

    async def publish(
        self, orders: tuple[Order, ...], rate: float, sent: Callable[[], None] = lambda: None
    ) -> None:
        began = time.monotonic()
        for number, order in enumerate(orders):
            pause = began + number / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            payload = json.dumps(order.payload, ensure_ascii=False).encode()
            await self.send(payload, order.dealer.encode())
            sent()

    async def close(self) -> None:
        await self._drop()
