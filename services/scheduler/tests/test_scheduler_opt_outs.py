"""D4 opt-outs of some kinds of contact, and D15 closure as unreachable published once."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from aftersales_contracts import CallOutcome, ContactClosedReason, ContactPurpose
from aftersales_runtime.kafka import publish_event
from aftersales_scheduler.domain.slots import timer_id

pytestmark = pytest.mark.stack

DEALER = "dealer-sz-001"
CALL = timer_id(DEALER, "WO-0001", "call_day3")


async def customer_view(service, tokens) -> dict:
    transport = httpx.ASGITransport(app=service.http)
    headers = tokens.header("cr_manager", dealers=["*"])
    async with httpx.AsyncClient(transport=transport, base_url="http://s", headers=headers) as c:
        response = await c.get(f"/v1/dealers/{DEALER}/customers/C-1/contacts")
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_last_unreached_attempt_closes_the_contact_and_publishes_it_once(
    service, settings, work_order, due_events, closed_events, clock, result_for
):
    await publish_event(service.runtime.broker, settings, work_order())
    for attempt in (1, 2, 3):
        clock.set(clock.now() + timedelta(days=2))
        await service.dispatcher.tick()
        [due] = [e for e in due_events if e.contact_id == CALL and e.attempt == attempt]
        result = result_for(due, CallOutcome.BUSY, clock.now())
        await publish_event(service.runtime.broker, settings, result)
    await publish_event(service.runtime.broker, settings, result)  # the last one, redelivered

    assert (await service.store.timer(CALL))["state"] == "unreachable"
    [closed] = closed_events
    assert (closed.contact_id, closed.reason, closed.attempts) == (
        CALL,
        ContactClosedReason.UNREACHABLE,
        3,
    )
    assert closed.last_outcome is CallOutcome.BUSY
    assert closed.purposes == [ContactPurpose.SERVICE_CALL_DAY3]
    assert closed.causation_id == result.event_id


async def test_an_opt_out_of_some_kinds_of_contact_stops_only_those(
    service, settings, work_order, due_events, clock, result_for, tokens
):
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(clock.now() + timedelta(days=2))
    await service.dispatcher.tick()
    [due] = due_events
    # "No more text surveys, please": the day-7 survey (and every later one) is withdrawn.
    refusal = result_for(due, CallOutcome.OPTED_OUT, clock.now()).model_copy(
        update={"opted_out_of": [ContactPurpose.SMS_SURVEY_DAY7]}
    )
    await publish_event(service.runtime.broker, settings, refusal)
    await publish_event(service.runtime.broker, settings, work_order(2, vin="LGXCE4CB2N0123456"))

    view = await customer_view(service, tokens)
    assert (view["opted_out"], view["opted_out_of"]) == (False, ["sms_survey_day7"])
    states = {c["contact_id"].split("/", 1)[1]: c["state"] for c in view["contacts"]}
    assert states["WO-0001/call_day3"] == "done"
    assert states["WO-0001/sms_survey_day7"] == "cancelled"
    assert states["WO-0002/sms_survey_day7"] == "suppressed"  # D4: also the later ones
    assert states["WO-0001/call_day30"] == "pending"
    assert states["WO-0002/call_day30"] in ("pending", "merged")
    clock.set(clock.now() + timedelta(days=40))
    await service.dispatcher.tick()
    assert ContactPurpose.SMS_SURVEY_DAY7 not in {p for e in due_events for p in e.purposes}
    assert ContactPurpose.SERVICE_CALL_DAY30 in {p for e in due_events for p in e.purposes}


async def test_a_merged_contact_loses_only_the_refused_purpose(
    service, settings, work_order, due_events, clock, result_for, tokens
):
    # WO-1's day-7 survey and the day-3 call of WO-2 (another car, settled 5 days later) fall
    # due at the same moment: one contact, a call (D13, D14), with both purposes.
    await publish_event(service.runtime.broker, settings, work_order(1))
    second = work_order(2, vin="LGXCE4CB2N0123456", settled_at=clock.now() + timedelta(days=5))
    clock.set(clock.now() + timedelta(days=2))
    await service.dispatcher.tick()
    [due] = due_events
    await publish_event(service.runtime.broker, settings, second)
    view = await customer_view(service, tokens)
    [merged] = [c for c in view["contacts"] if len(c["purposes"]) == 2]
    assert set(merged["purposes"]) == {"sms_survey_day7", "service_call_day3"}

    refusal = result_for(due, CallOutcome.OPTED_OUT, clock.now()).model_copy(
        update={"opted_out_of": [ContactPurpose.SMS_SURVEY_DAY7]}
    )
    await publish_event(service.runtime.broker, settings, refusal)
    view = await customer_view(service, tokens)
    [after] = [c for c in view["contacts"] if c["contact_id"] == merged["contact_id"]]
    assert (after["state"], after["purposes"]) == ("pending", ["service_call_day3"])
