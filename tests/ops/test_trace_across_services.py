"""One work order's path across the five services is one trace (issue 14): the services run as
processes with `AFTERSALES_TRACING=console` (a JSON line per span on stdout, in each service's
log), a work order goes from the DMS topic to a complaint and the report, and the spans of every
service carry the same trace id, the one derived from the work order's correlation id."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_contracts import correlation_id_for
from aftersales_contracts.topics import DEAD_LETTER, DMS_WORKORDER_CLOSED
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.tracing import work_order_trace_id
from aiokafka import AIOKafkaProducer

from deploy.local.demo_data import work_order

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(300)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"
SERVICES = ["intake", "scheduler", "contact", "complaints", "reporting", "appointments"]
EXCERPT = (
    "aftersales_received_messages_total",
    "aftersales_published_messages_total",
    "aftersales_events_published_total",
    "aftersales_messages_parked_total",
    "aftersales_consumer_lag",
    "aftersales_http_requests_total",
    "aftersales_scheduler_timers_due",
    "aftersales_contact_queue_depth",
    "aftersales_build_info",
)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def spans_in(log: Path) -> list[dict[str, Any]]:
    """The console exporter's lines among the JSON log lines."""
    spans = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith('{"span": '):
            spans.append(json.loads(line))
    return spans


async def eventually(probe: Any, timeout: float = 90) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.5)
    return value


async def test_one_work_order_is_one_trace_across_the_five_services(
    stack, isolation, tmp_path, fleet_of_this_test, tokens
):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))
    fleet = fleet_of_this_test(clock, port_shift=40, AFTERSALES_TRACING="console")
    await ensure_topics(
        stack.kafka_options(),
        [isolation.topic(DMS_WORKORDER_CLOSED), isolation.topic(DEAD_LETTER)],
    )
    order = work_order(random.Random(14), DEALER, 1, datetime(2026, 11, 16, 10, 5))
    order["customer"].update(contact_consent=True, preferred_channel="phone")
    order["work_order_type"] = "repair"
    staff = tokens.header("agent", "cr_manager", "service_manager", sub="agent-1", dealers=[DEALER])

    await asyncio.to_thread(fleet.start)
    try:
        producer = AIOKafkaProducer(**stack.kafka_options(), enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(
                isolation.topic(DMS_WORKORDER_CLOSED),
                json.dumps(order, ensure_ascii=False).encode(),
                key=DEALER.encode(),
            )
        finally:
            await producer.stop()

        async with httpx.AsyncClient(timeout=10, headers=staff) as http:
            contact = fleet["contact"].url

            async def day3_task() -> dict[str, Any] | None:
                answer = await http.post(
                    f"{contact}/v1/dealers/{DEALER}/tasks/claim", json={"agent_id": "agent-1"}
                )
                return answer.json() if answer.status_code == 200 else None

            clock.set(local("2026-11-19T15:30:00"))
            task = await eventually(day3_task)
            low = {"attitude": 4, "quality": 4, "charges": 8, "timeliness": 8, "environment": 8}
            low |= {"service_process": 8, "overall": 4}
            answer = await http.post(
                f"{contact}/v1/tasks/{task['task_id']}/result",
                json={
                    "agent_id": "agent-1",
                    "outcome": "reached",
                    "scores": low,
                    "yes_no": {"fixed_first_time": True},
                },
            )
            assert answer.status_code == 200, answer.text

            async def reported() -> dict[str, Any] | None:
                report = await http.get(
                    f"{fleet['reporting'].url}/v1/dealers/{DEALER}/reports/monthly",
                    params={"month": "2026-11"},
                )
                body = report.json()
                return body if body.get("complaints_opened", {}).get("total") == 1 else None

            await eventually(reported)
            scraped = {name: (await http.get(f"{fleet[name].url}/metrics")) for name in SERVICES}
    finally:
        await asyncio.to_thread(fleet.stop)

    correlation_id = correlation_id_for(DEALER, order["work_order_id"])
    trace_id = f"{work_order_trace_id(correlation_id):032x}"
    spans = [s for name in SERVICES for s in spans_in(fleet[name].log_path)]
    in_trace = sorted((s for s in spans if s["trace_id"] == trace_id), key=lambda s: s["start_ns"])
    # A batch consumer's span processes many work orders: it links to each one's trace (the
    # OpenTelemetry convention for batches) instead of belonging to one of them.
    linked = sorted((s for s in spans if trace_id in s["links"]), key=lambda s: s["start_ns"])
    print(f"trace {trace_id} of work order {correlation_id}: {len(in_trace)} spans")
    for span in in_trace:
        print(f"  {span['service']:<22} {span['kind']:<9} {span['span']}")
    print(f"batch spans linking to it: {len(linked)}")
    for span in linked:
        print(f"  {span['service']:<22} {span['kind']:<9} {span['span']} (batch)")
    services = {s["service"] for s in [*in_trace, *linked]}
    assert services == {f"aftersales-{name}" for name in SERVICES}, sorted(services)
    assert len({s["span_id"] for s in in_trace}) == len(in_trace)

    # The same run's /metrics (open: the staff token is not needed, but harmless).
    for name, answer in scraped.items():
        assert answer.status_code == 200, name
        print(f"--- /metrics of {name} (excerpt)")
        for line in answer.text.splitlines():
            if line.startswith(EXCERPT) and not line.endswith(" 0.0"):
                print("  " + line)
    text = {name: answer.text for name, answer in scraped.items()}
    assert 'aftersales_received_messages_total{app_name="scheduler"' in text["scheduler"]
    assert "aftersales_scheduler_timers_due " in text["scheduler"]
    assert f'aftersales_contact_queue_depth{{dealer_id="{DEALER}",state="open"}}' in text["contact"]
    assert 'event_type="ComplaintEvent",kind="opened"} 1.0' in text["complaints"]
    assert 'route="/v1/tasks/{task_id}/result",status="200"} 1.0' in text["contact"]
    assert "aftersales_consumer_lag{" in text["reporting"]
