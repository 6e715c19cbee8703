"""D13 merge and cap, D15 retries, D4 opt-out, and the decision trail over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_contracts import (
    CallOutcome,
    ContactPurpose,
    deterministic_id,
)
from aftersales_runtime.kafka import publish_event
from aftersales_scheduler.domain.slots import timer_id

pytestmark = pytest.mark.stack

SETTLED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # as in conftest
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def api_get(service, tokens):
    """GET on the decision-trail API as a group-wide customer-relations manager."""
    manager = tokens.header("cr_manager", dealers=["*"])

    async def get(path: str) -> dict:
        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://scheduler", headers=manager
        ) as client:
            response = await client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    return get


async def test_unreached_calls_are_retried_at_another_hour_up_to_the_limit(
    api_get, service, settings, work_order, due_events, clock, result_for
):
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(SETTLED + timedelta(days=3))
    await service.dispatcher.tick()
    tid = timer_id("dealer-sz-001", "WO-0001", "call_day3")

    for attempt in (1, 2, 3):
        [due] = [e for e in due_events if e.contact_id == tid and e.attempt == attempt]
        assert due.event_id == deterministic_id("contact.due", tid, str(attempt))
        result = result_for(due, CallOutcome.NO_ANSWER, clock.now())
        await publish_event(service.runtime.broker, settings, result)
        await publish_event(service.runtime.broker, settings, result)  # redelivered
        timer = await service.store.timer(tid)
        if attempt < 3:
            assert timer["attempt"] == attempt + 1
            retry = timer["due_at"]
            # D15: another time of day, inside calling hours (D13).
            assert retry.astimezone(SHANGHAI).hour != due.due_at.astimezone(SHANGHAI).hour
            assert 9 <= retry.astimezone(SHANGHAI).hour < 20
            clock.set(retry - timedelta(seconds=1))
            await service.dispatcher.tick()
            assert not [e for e in due_events if e.attempt == attempt + 1]  # never early
            clock.set(retry)
            await service.dispatcher.tick()
        else:
            assert timer["state"] == "unreachable"

    assert [e.attempt for e in due_events if e.contact_id == tid] == [1, 2, 3]
    view = await api_get("/v1/dealers/dealer-sz-001/customers/C-1/contacts")
    [call] = [c for c in view["contacts"] if c["contact_id"] == tid]
    events = [t["event"] for t in call["trail"]]
    assert events == ["planned", "due", "retried", "due", "retried", "due", "closed"]


async def test_an_opt_out_on_a_call_cancels_what_is_pending(
    api_get, service, settings, work_order, due_events, clock, result_for
):
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(SETTLED + timedelta(days=3))
    await service.dispatcher.tick()
    [due] = due_events
    await publish_event(
        service.runtime.broker, settings, result_for(due, CallOutcome.OPTED_OUT, clock.now())
    )
    clock.set(SETTLED + timedelta(days=40))
    await service.dispatcher.tick()

    assert len(due_events) == 1  # D4: the day-7 survey and day-30 call never go out
    view = await api_get("/v1/dealers/dealer-sz-001/customers/C-1/contacts")
    assert view["opted_out"] is True
    states = {c["step"]: c["state"] for c in view["contacts"]}
    assert states == {
        "call_day3": "done",
        "sms_survey_day7": "cancelled",
        "call_day30": "cancelled",
        "lapsed_recall": "cancelled",  # D11 recall, planned with the work order
    }
    # A later work order of the same customer plans nothing either.
    await publish_event(service.runtime.broker, settings, work_order(2))
    clock.set(SETTLED + timedelta(days=80))
    await service.dispatcher.tick()
    assert len(due_events) == 1


async def test_contacts_of_one_customer_in_one_window_are_merged(
    api_get, service, settings, work_order, due_events, clock
):
    # Two cars of one customer, settled the same morning: one call per window, not two.
    await publish_event(service.runtime.broker, settings, work_order(1))
    await publish_event(
        service.runtime.broker,
        settings,
        work_order(2, settled_at=SETTLED + timedelta(minutes=30), vin="LGXCE4CB2N0123456"),
    )
    clock.set(SETTLED + timedelta(days=31))
    await service.dispatcher.tick()

    # D6: both fall due at the same calling-hours start; the second joins the first.
    assert len(due_events) == 3
    assert {e.contact_id.split("/")[1] for e in due_events} == {"WO-0001"}
    assert all(len(e.purposes) == 1 for e in due_events)  # one purpose, two vehicles
    view = await api_get("/v1/dealers/dealer-sz-001/vehicles/LGXCE4CB2N0123456/contacts")
    service_contacts = [c for c in view["contacts"] if c["kind"] == "after_service"]
    assert {c["state"] for c in service_contacts} == {"merged"}
    assert {c["merged_into"].split("/")[1] for c in service_contacts} == {"WO-0001"}


async def test_a_cap_of_contacts_per_week_suppresses_the_extra_one(
    api_get, service, settings, work_order, due_events, clock
):
    # dealer-strict allows 1 contact in 7 days: the day-7 survey comes 4 days after the call.
    await publish_event(service.runtime.broker, settings, work_order(dealer_id="dealer-strict"))
    clock.set(SETTLED + timedelta(days=31))
    await service.dispatcher.tick()

    assert [e.purposes for e in due_events] == [
        [ContactPurpose.SERVICE_CALL_DAY3],
        [ContactPurpose.SERVICE_CALL_DAY30],
    ]
    view = await api_get("/v1/dealers/dealer-strict/customers/C-1/contacts")
    [survey] = [c for c in view["contacts"] if c["step"] == "sms_survey_day7"]
    assert survey["state"] == "suppressed"
    assert "cap" in survey["trail"][-1]["detail"]


async def test_a_due_day_without_calling_hours_moves_to_the_next_allowed_moment(
    api_get, service, settings, work_order, due_events, clock
):
    # Settled Tuesday 29 September after 20:00: day 2 is 1 October, National Day (D13 quiet).
    late_evening = datetime(2026, 9, 29, 21, 15, tzinfo=SHANGHAI)
    clock.set(late_evening)
    await publish_event(service.runtime.broker, settings, work_order(settled_at=late_evening))
    view = await api_get("/v1/dealers/dealer-sz-001/customers/C-1/contacts")
    call = next(c for c in view["contacts"] if c["step"] == "call_day3")

    assert datetime.fromisoformat(call["nominal_at"]) == datetime(2026, 10, 1, 9, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(call["due_at"]) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)
    assert [t["event"] for t in call["trail"]][:2] == ["planned", "moved"]


async def test_worked_example_one_customer_across_a_month(
    api_get, service, settings, work_order, due_events, clock, capsys
):
    """The worked example (README): two work orders, a birthday and the National Day holiday
    week, with the decision trail as the API returns it (printed with -s)."""
    first_settled = datetime(2026, 9, 28, 10, 30, tzinfo=SHANGHAI)  # Monday
    clock.set(first_settled)
    first = work_order(1, settled_at=first_settled, birthday=date(1985, 10, 13))
    await publish_event(service.runtime.broker, settings, first)
    second_settled = datetime(2026, 10, 10, 11, 0, tzinfo=SHANGHAI)  # Saturday
    clock.set(second_settled)
    second = work_order(2, settled_at=second_settled, vin="LGXCE4CB2N0123456")
    await publish_event(service.runtime.broker, settings, second)
    clock.set(datetime(2026, 10, 28, 21, 0, tzinfo=SHANGHAI))
    await service.dispatcher.tick()

    view = await api_get("/v1/dealers/dealer-sz-001/customers/C-1/contacts")
    by_id = {c["contact_id"]: c for c in view["contacts"]}

    def at(contact_id: str, field: str = "due_at") -> datetime:
        return datetime.fromisoformat(by_id[contact_id][field])

    # D6: day 2 at calling-hours start (Wednesday 30 September), timely to the end of day 3.
    call3 = "dealer-sz-001/WO-0001/call_day3"
    assert at(call3) == datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI)
    assert at(call3, "timely_until") == datetime(2026, 10, 2, 0, 0, tzinfo=SHANGHAI)
    # D7/D13: the day-7 survey falls on 5 October, in the holiday week: moved to 8 October.
    survey = by_id["dealer-sz-001/WO-0001/sms_survey_day7"]
    assert at(survey["contact_id"]) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)
    assert [t["event"] for t in survey["trail"]][:2] == ["planned", "moved"]
    # The second order's day-3 call (Monday 12 October 09:00) and the birthday SMS (the same
    # day, 10:00) fall in one calling window: one contact, a call (D14), timely by the call's
    # window (D6), listing both purposes.
    call3b = "dealer-sz-001/WO-0002/call_day3"
    birthday = "dealer-sz-001/customer-C-1/birthday_2026"
    assert by_id[call3b]["state"] == "merged"
    assert by_id[call3b]["merged_into"] == birthday
    assert at(birthday, "timely_until") == datetime(2026, 10, 14, 0, 0, tzinfo=SHANGHAI)
    assert by_id[birthday]["channel"] == "phone"
    [merged] = [e for e in due_events if e.contact_id == birthday]
    assert set(merged.purposes) == {ContactPurpose.BIRTHDAY_CARE, ContactPurpose.SERVICE_CALL_DAY3}
    assert merged.timely_until == datetime(2026, 10, 14, 0, 0, tzinfo=SHANGHAI)
    assert by_id["dealer-sz-001/WO-0002/call_day30"]["state"] == "pending"  # not yet
    with capsys.disabled():
        print_contacts(view)


def print_contacts(view: dict) -> None:
    for contact in view["contacts"]:
        print(
            f"\n{contact['contact_id']}  {contact['state']}  {contact['channel']}  "
            f"due {contact['due_at']}  timely until {contact['timely_until']}  "
            f"{contact['purposes']}"
        )
        for step in contact["trail"]:
            print(f"    {step['at']}  {step['event']:<10} {step['detail']}")


@pytest.mark.parametrize(
    "settled",
    [
        datetime(2026, 11, 23, 19, 40, tzinfo=SHANGHAI),  # Monday 19:40
        datetime(2026, 11, 27, 17, 55, tzinfo=SHANGHAI),  # Friday 17:55
        datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI),  # the day before National Day
    ],
    ids=["monday-19:40", "friday-17:55", "before-a-public-holiday"],
)
async def test_the_issues_timing_examples_as_the_api_returns_them(
    api_get, service, settings, work_order, due_events, clock, capsys, settled
):
    """Issue 16: the planned contacts of three settlements (printed with -s)."""
    clock.set(settled)
    await publish_event(service.runtime.broker, settings, work_order(settled_at=settled))
    view = await api_get("/v1/dealers/dealer-sz-001/vehicles/LSVAU218XN2183294/contacts")
    [call] = [c for c in view["contacts"] if c["step"] == "call_day3"]
    due = datetime.fromisoformat(call["due_at"]).astimezone(SHANGHAI)
    day = settled.date()

    assert due.time() == time(9, 0)  # D6: at the start of calling hours
    assert (due.date() - day).days == (2 if day.month == 11 else 8)  # holidays: 1-7 October
    assert datetime.fromisoformat(call["timely_until"]) == datetime.combine(
        day + timedelta(days=4), time(0), SHANGHAI
    )
    with capsys.disabled():
        print(f"\n--- settled {settled.isoformat()} ({settled:%A})")
        print_contacts(view)
