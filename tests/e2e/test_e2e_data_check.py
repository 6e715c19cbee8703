"""Tier 3, D30: a phone corrected during the day-3 call reaches the next contact, across the
services as processes.

The agent checks the customer's data on Wednesday's call and types the new number in local
form → contact publishes it in E.164 with the result → intake writes revision 2 of the vehicle
file (who, when, which contact) and publishes VehicleFileCorrected → the scheduler gives the
vehicle's pending contacts the new number → the day-7 survey (queued for agents: no SMS provider
here) dials it. The vehicle file's revision history is read back through intake's API.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import pytest
from aftersales_contracts import topics
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics

from deploy.local.demo_data import demo_work_orders
from tests.e2e.one_dealer import DEALER, answer_for, claim, local, publish_orders
from tests.e2e.test_e2e_pipeline import eventually

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]

NEW_PHONE = "139 1111 2222"  # as the agent types it


async def test_a_phone_corrected_on_the_call_is_dialled_next_time(
    stack, isolation, tokens, tmp_path, fleet_of_this_test
):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))
    fleet = fleet_of_this_test(clock, port_shift=40, AFTERSALES_RETRY_BACKOFF_SECONDS="0.05")
    [order] = demo_work_orders(1, [DEALER], datetime(2026, 11, 16, 9, 0), days=1, seed=5)
    assert order["customer"]["contact_consent"]
    dms_topic = isolation.topic(topics.DMS_WORKORDER_CLOSED)
    await ensure_topics(stack.kafka_options(), [dms_topic])
    await asyncio.to_thread(fleet.start)
    agent = tokens.header("agent", sub="agent-7", dealers=[DEALER])
    contact, intake = fleet["contact"].url, fleet["intake"].url
    try:
        await publish_orders(stack.kafka_options(), dms_topic, order)
        async with httpx.AsyncClient(timeout=10) as http:

            async def claimed() -> dict | None:
                return await claim(http, contact, agent)

            clock.set(local("2026-11-18T09:30:00"))
            call = await eventually(claimed, timeout=60)
            old_phone = call["customer"]["phone"]
            assert old_phone != "+8613911112222"
            body = answer_for(call, overall=9) | {
                "data_check": {"confirmed": True, "phone": NEW_PHONE, "mileage_km": 42_000}
            }
            sent = await http.post(
                f"{contact}/v1/tasks/{call['task_id']}/result", json=body, headers=agent
            )
            assert sent.status_code == 200, sent.text
            assert sent.json()["data_check"]["phone"] == "+8613911112222"

            steward = tokens.header("data_steward", dealers=[DEALER])

            async def revised() -> list[dict] | None:
                answer = await http.get(
                    f"{intake}/v1/dealers/{DEALER}/vehicles/{order['vin']}/revisions",
                    headers=steward,
                )
                assert answer.status_code == 200, answer.text
                items = answer.json()["items"]
                return items if len(items) >= 2 else None

            revisions = await eventually(revised, timeout=60)
            print("\nvehicle file revisions:")
            for revision in revisions:
                print(f"  {json.dumps(revision, ensure_ascii=False)}")
            assert revisions[-1]["by"] == "agent-7"
            assert "phone" in revisions[-1]["changed"]
            assert "+8613911112222" not in json.dumps(revisions)  # masked (D3)

            # Day 7: the SMS survey, queued for an agent, dials the corrected number.
            clock.set(local("2026-11-23T10:00:00"))
            survey = await eventually(claimed, timeout=60)
            print(f"next contact: {survey['purposes']} dials {survey['customer']['phone']}")
            assert survey["purposes"] == ["sms_survey_day7"]
            assert survey["customer"]["phone"] == "+8613911112222"
    finally:
        await asyncio.to_thread(fleet.stop)
