"""The rebuild (`python -m aftersales_reporting rebuild`) on the real Kafka and FerretDB: the
read models rebuilt from the topics equal the live service's, document for document."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aftersales_contracts import (
    AppointmentEvent,
    AppointmentEventKind,
    CallOutcome,
    Channel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ComplaintSource,
    ContactDue,
    ContactExpired,
    ContactPurpose,
    ContactResult,
    Customer,
    DeliverySurveyed,
    QuestionnaireRef,
    Scores,
    Staff,
    Vehicle,
    VehicleDelivered,
    WorkOrderClosed,
    WorkOrderType,
    deterministic_id,
)
from aftersales_reporting.app import build
from aftersales_reporting.ledger import COLLECTIONS, unpack_row
from aftersales_reporting.rebuild import POSITIONS, rebuild
from aftersales_reporting.reports.drilldown import Drilldown
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.kafka import publish_event
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.stack

NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
DEALERS = ("dealer-sz-001", "dealer-bj-002")
START = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def vin(n: int) -> str:
    return f"LSVAU218XN2{n:06d}"


def customer(n: int) -> Customer:
    return Customer(
        customer_id=f"C-{n}",
        name="张三",
        phone=f"+86138{n:08d}",
        is_owner=True,
        contact_consent=True,
    )


def inputs() -> list[Any]:
    """A month of every consumed kind, for two dealers."""
    events: list[Any] = []
    advisor, tech = Staff(id="sa-1", name="王芳"), Staff(id="t-1", name="李雷")
    for n in range(40):
        dealer = DEALERS[n % 2]
        at = START + timedelta(hours=13 * n)
        contact_id = deterministic_id("rebuild.contact", str(n))
        common = {"occurred_at": at, "dealer_id": dealer, "correlation_id": f"{dealer}/WO-{n}"}
        events.append(
            WorkOrderClosed(
                event_id=deterministic_id("wo", str(n)),
                work_order_id=f"WO-{n}",
                work_order_type=WorkOrderType.FIRST_MAINTENANCE
                if n % 5 == 0
                else WorkOrderType.REPAIR,
                revision=1,
                opened_at=at,
                settled_at=at,
                vehicle=Vehicle(vin=vin(n % 15), brand="B", model="M"),
                customer=customer(n),
                service_advisor=advisor,
                technicians=[tech],
                total_amount=100,
                next_maintenance_due_date=date(2026, 11, 20) if n < 10 else date(2027, 3, 1),
                **common,
            )
        )
        events.append(
            ContactDue(
                event_id=deterministic_id("due", str(n)),
                contact_id=contact_id,
                purposes=[ContactPurpose.SERVICE_CALL_DAY3],
                channel=Channel.PHONE,
                due_at=at,
                timely_until=at + timedelta(days=1),
                attempt=1,
                work_order_id=f"WO-{n}",
                vehicle=Vehicle(vin=vin(n), brand="B", model="M"),
                customer=customer(n),
                service_advisor=advisor,
                **common,
            )
        )
        if n % 7 == 3:
            events.append(
                ContactExpired(
                    event_id=deterministic_id("expired", str(n)),
                    contact_id=contact_id,
                    task_id=f"task-{n}",
                    channel=Channel.PHONE,
                    purposes=[ContactPurpose.SERVICE_CALL_DAY3],
                    attempt=1,
                    due_at=at,
                    expires_at=at + timedelta(days=1),
                    vin=vin(n),
                    customer_id=f"C-{n}",
                    **common,
                )
            )
            continue
        reached = n % 4 != 1
        events.append(
            ContactResult(
                event_id=deterministic_id("result", str(n)),
                contact_id=contact_id,
                task_id=f"task-{n}",
                agent_id="agent-1",
                channel=Channel.PHONE,
                purposes=[ContactPurpose.SERVICE_CALL_DAY3],
                attempt=1,
                outcome=CallOutcome.REACHED if reached else CallOutcome.NO_ANSWER,
                contacted_at=at,
                timely=(n % 3 != 0) if reached else None,
                scores=Scores(**{i: (n * 3 + k) % 11 for k, i in enumerate(Scores.ITEMS)})
                if reached
                else None,
                yes_no={"fixed_first_time": n % 6 != 0} if reached else None,
                vin=vin(n),
                customer_id=f"C-{n}",
                service_advisor=advisor,
                technicians=[tech],
                **common,
            )
        )
        if n % 10 == 0:
            events.append(
                VehicleDelivered(
                    event_id=deterministic_id("delivery", str(n)),
                    delivery_id=f"D-{n}",
                    delivered_at=at,
                    vehicle=Vehicle(vin=vin(100 + n), brand="B", model="M"),
                    customer=customer(n),
                    sales_consultant=Staff(id="sc-1", name="赵"),
                    first_maintenance_due_date=date(2026, 12, 15),
                    **common,
                )
            )
    return events


def sales_and_workshop_inputs() -> list[Any]:
    """D34 surveys (one before any delivery is projected, one of an unknown delivery), D29
    tickets by channel, D31 appointments."""
    events: list[Any] = []
    for n in (0, 10, 20, 99):
        at = START + timedelta(hours=13 * n + 1)
        events.append(
            DeliverySurveyed(
                event_id=deterministic_id("surveyed", str(n)),
                occurred_at=at,
                dealer_id=DEALERS[0],
                correlation_id=f"survey-{n}",
                delivery_id=f"D-{n}",
                vin=vin(100 + n),
                customer_id=f"C-{n}",
                surveyed_at=at,
                recorded_by="sales-desk",
                questionnaire=QuestionnaireRef(id="delivery-face-to-face", version=1),
                scores=Scores(overall=9 - n % 3),
            )
        )
    sources = [None, *ComplaintSource]
    for n, source in enumerate(sources):
        at = START + timedelta(hours=7 * n)
        events.append(
            ComplaintEvent(
                event_id=deterministic_id("opened", str(n)),
                occurred_at=at,
                dealer_id=DEALERS[n % 2],
                correlation_id=f"ticket-{n}",
                ticket_id=f"T-{n}",
                kind=ComplaintEventKind.OPENED,
                grade=ComplaintGrade.D,
                contact_id=f"K-{n}",
                vin=vin(n),
                customer_id=f"C-{n}",
                assigned_role="service_supervisor",
                opened_at=at,
                source=source,
            )
        )
    kinds = [AppointmentEventKind.BOOKED, AppointmentEventKind.KEPT, AppointmentEventKind.NO_SHOW]
    for n in range(12):
        day = date(2026, 11, 3 + n)
        start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)
        events.append(
            AppointmentEvent(
                event_id=deterministic_id("appointment", str(n)),
                occurred_at=start,
                dealer_id=DEALERS[n % 2],
                correlation_id=f"appointment-{n}",
                appointment_id=f"AP-{n // 3}",
                kind=kinds[n % 3],
                vin=vin(n // 3),
                customer_id=f"C-{n}",
                day=day,
                slot_id="slot-1",
                slot_start=start,
                slot_end=start + timedelta(hours=1),
                service="maintenance",
                actor="system",
            )
        )
    return events


def _survey_days_merged(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deliveries' day rows as one sorted list per day: like a survey's count (below), the
    row that marks a delivery surveyed is written by whichever of the two records comes second,
    so the page it lands in (its record's topic and offset) depends on the order of arrival."""
    days: dict[str, list[Any]] = {}
    kept = []
    for doc in docs:
        if not doc["_id"].startswith("SR/"):
            kept.append(doc)
        elif doc["_id"].count("/") == 3:  # SR/{dealer}/{month}/{day}: the day's index
            days.setdefault(doc["_id"], [])
        else:  # one of its pages: …/{day}/{topic:partition}/{n}
            days.setdefault(doc["_id"].rsplit("/", 2)[0], []).extend(doc["rows"])
    for day_id, rows in days.items():
        rows.sort(key=lambda row: json.dumps(unpack_row(row), sort_keys=True, default=str))
        kept.append({"_id": day_id, "rows": rows})
    return kept


async def dump(
    client: AsyncMongoClient[dict[str, Any]], database: str
) -> dict[str, list[dict[str, Any]]]:
    db = client[database]
    found: dict[str, list[dict[str, Any]]] = {}
    for name in COLLECTIONS:
        docs = [d async for d in db[name].find({}) if d["_id"] != POSITIONS]
        if name == "counters":
            docs = _survey_days_merged(docs)
        for doc in docs:
            if name == "counters" and doc["_id"].startswith("S/"):
                # D34: a survey is counted by whichever of its delivery's and its own record is
                # projected second, so the topic offsets a sales document keeps depend on the
                # order of arrival; its figures do not.
                doc.pop("offsets", None)
            if name == "counters" and "pages" in doc:
                doc["pages"].sort()  # a day's pages are a set (the reader orders them)
        found[name] = sorted(docs, key=lambda d: d["_id"])
    return found


async def test_a_rebuilt_projection_equals_the_live_one(settings, stack, isolation):
    events = [*inputs(), *sales_and_workshop_inputs()]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    live_service = build(settings, FixedClock(NOW))
    await live_service.runtime.start()
    try:
        for event in [*events, *events[:25]]:  # the first 25 published twice (a relay's replay)
            await publish_event(live_service.runtime.broker, settings, event)
        deadline = time.monotonic() + 90
        seen = client[isolation.database]["seen"]
        while await seen.count_documents({}) < len(events):
            assert time.monotonic() < deadline, "the live service did not consume every event"
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # the republished copies: consumed and dropped
        report = await live_service.reports.monthly("dealer-sz-001", "2026-11")
        weeks = [
            await live_service.reports.weekly("dealer-sz-001", f"2026-W{n}") for n in range(44, 50)
        ]
        missed = await Drilldown(live_service.ledger).rows(
            "dealer-sz-001", "2026-11", "face_to_face_missed", "", 0, 100
        )
    finally:
        await live_service.runtime.stop()
    live = await dump(client, isolation.database)

    rebuilt_db = f"{isolation.database}_rebuilt"
    result = await rebuild(settings, rebuilt_db)
    rebuilt = await dump(client, rebuilt_db)
    await client.close()

    assert result.records == len(events) + 25
    assert result.refused == 0
    assert {k: len(v) for k, v in rebuilt.items()} == {k: len(v) for k, v in live.items()}
    for name, docs in live.items():
        differing = [(a, b) for a, b in zip(rebuilt[name], docs, strict=True) if a != b]
        assert not differing, differing[:2]
    # The figures are really there (not two empty databases).
    assert report["followup"]["planned"] == 20
    assert report["retention"]["due_maintenance_arrival_rate"]["denominator"] > 0
    assert report["contacts_made"] > 0
    assert report["sales"]["face_to_face"]["surveyed"] > 0
    assert report["appointments"]["arrival_rate"]["denominator"] > 0
    assert sum(report["followup"]["complaints"]["opened_by_source"].values()) > 0
    # The weeks touching November add up to the month (every input is in November).
    f2f = report["sales"]["face_to_face"]
    for figure in ("deliveries", "surveyed", "missed"):
        assert sum(w["sales"]["face_to_face"][figure] for w in weeks) == f2f[figure], figure
    for kind in ("booked", "kept", "no_show"):
        assert sum(w["appointments"][kind] for w in weeks) == report["appointments"][kind], kind
    assert f2f["missed"] > 0
    assert missed["total"] == f2f["missed"]
