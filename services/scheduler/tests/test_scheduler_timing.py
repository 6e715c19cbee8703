"""D6/D8 timing: "day N at calling-hours start", the timeliness window, and retries inside it
(D15) — checked against a brute-force minute-by-minute reference that reads China's holidays
from the calendar's own data file, not through the calendar."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import Channel, ContactPurpose, WorkOrderType
from aftersales_scheduler.domain.plan import plan_steps, retry_at
from aftersales_scheduler.domain.policy import PolicyBook, PolicyError, SchedulerPolicy

POLICY = SchedulerPolicy()
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = POLICY.calling_hours.calendar("Asia/Shanghai")
OPENS = POLICY.calling_hours.opens_at
#: Monday 27 April – Sunday 3 May 2026: Labour Day (1–5 May) starts on the Friday.
WEEK_START = datetime(2026, 4, 27, 0, 0, tzinfo=SHANGHAI)


@cache
def cn_holidays() -> frozenset[date]:
    raw = json.loads(
        files("aftersales_workcalendar").joinpath("data/cn_holidays.json").read_text("utf-8")
    )
    return frozenset(
        date.fromisoformat(h["date"]) for year in raw["CN"].values() for h in year["holidays"]
    )


def open_minute(at: datetime) -> bool:
    """D13 by hand: 09:00–20:00 local, every day but public holidays."""
    local = at.astimezone(SHANGHAI)
    return time(9) <= local.time() < time(20) and local.date() not in cn_holidays()


@cache
def first_open_minute(day: date) -> datetime:
    """Brute force: the first open minute at or after 09:00 on `day`."""
    at = datetime.combine(day, time(9), tzinfo=SHANGHAI)
    while not open_minute(at):
        at += timedelta(minutes=1)
    return at


def test_three_holidays_fall_in_the_week_of_the_property_test():
    days = {(WEEK_START + timedelta(days=n)).date() for n in range(7)}
    assert len(days & cn_holidays()) == 3


def test_the_after_service_plan_at_every_minute_of_a_week_with_a_public_holiday():
    """D6: due at the start of calling hours on the second calendar day after settlement (the
    next calling moment when that day is a holiday), timely until the end of the third; D7:
    day 7 and day 30 at calling-hours start; never before settlement."""
    for minute in range(7 * 24 * 60):
        settled = (WEEK_START + timedelta(minutes=minute)).astimezone(UTC)
        day = settled.astimezone(SHANGHAI).date()
        planned = plan_steps(
            POLICY.after_service, settled, WorkOrderType.MAINTENANCE, None, CALENDAR, OPENS
        )
        by_step = {p.step: p for p in planned}
        call = by_step["call_day3"]
        assert call.due_at == first_open_minute(day + timedelta(days=2)), settled
        assert call.timely_until == datetime.combine(day + timedelta(days=4), time(0), SHANGHAI)
        # It can be made in time unless days 2 and 3 have no calling hours (holidays).
        due_day = call.due_at.astimezone(SHANGHAI).date()
        assert (call.due_at < call.timely_until) == (due_day <= day + timedelta(days=3))
        assert by_step["sms_survey_day7"].due_at == first_open_minute(day + timedelta(days=7))
        assert by_step["call_day30"].due_at == first_open_minute(day + timedelta(days=30))
        assert by_step["sms_survey_day7"].timely_until is None
        for contact in planned:
            assert contact.due_at > settled
            assert contact.channel in (Channel.PHONE, Channel.SMS)


@pytest.mark.parametrize(
    ("settled", "due", "timely_until"),
    [
        # Monday 19:40 → Wednesday 09:00, not Thursday 19:40 (issue 16).
        (datetime(2026, 11, 23, 19, 40), datetime(2026, 11, 25, 9, 0), datetime(2026, 11, 27)),
        # Friday 17:55 → Sunday 09:00 (calling hours every day by default).
        (datetime(2026, 11, 27, 17, 55), datetime(2026, 11, 29, 9, 0), datetime(2026, 12, 1)),
        # The day before National Day: days 2 and 3 are holidays, the call falls due on the
        # first calling day after the holidays and can only be made late.
        (datetime(2026, 9, 30, 15, 0), datetime(2026, 10, 8, 9, 0), datetime(2026, 10, 4)),
    ],
)
def test_the_day3_call_of_the_issues_examples(settled, due, timely_until):
    [call] = plan_steps(
        POLICY.after_service[:1],
        settled.replace(tzinfo=SHANGHAI),
        WorkOrderType.REPAIR,
        None,
        CALENDAR,
        OPENS,
    )
    assert call.due_at == due.replace(tzinfo=SHANGHAI)
    assert call.timely_until == timely_until.replace(tzinfo=SHANGHAI)


def test_the_sales_call_counts_from_the_delivery_and_the_run_in_reminder_comes_on_day_14():
    delivered = datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI)
    planned = plan_steps(POLICY.delivery, delivered, None, Channel.SMS, CALENDAR, OPENS)
    by_step = {p.step: p for p in planned}

    assert by_step["sales_call_day3"].due_at == datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
    assert by_step["sales_call_day3"].timely_until == datetime(2026, 11, 27, tzinfo=SHANGHAI)
    run_in = by_step["first_maintenance_reminder"]
    assert run_in.purposes == (ContactPurpose.FIRST_MAINTENANCE_REMINDER,)
    assert run_in.due_at == datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)  # day 14
    assert run_in.channel is Channel.SMS  # D14: the customer's channel wins


def test_day_n_and_its_window_are_configuration():
    book = PolicyBook.build(
        [("d1", "oem-a", {}), ("d2", "oem-a", {"calling_hours": {"hours": ["10:30-19:00"]}})],
        oems={
            "oem-a": {
                "after_service": [
                    {
                        "step": "call_day3",
                        "purpose": "service_call_day3",
                        "days": 1,
                        "timely_days": 2,
                        "channel": "phone",
                    }
                ]
            }
        },
    )
    settled = datetime(2026, 11, 23, 19, 40, tzinfo=SHANGHAI)
    for dealer, opens in (("d1", time(9)), ("d2", time(10, 30))):
        policy = book.for_dealer(dealer)
        calendar = policy.calling_hours.calendar("Asia/Shanghai")
        [call] = plan_steps(
            policy.after_service,
            settled,
            WorkOrderType.REPAIR,
            None,
            calendar,
            policy.calling_hours.opens_at,
        )
        assert call.due_at == datetime.combine(date(2026, 11, 24), opens, SHANGHAI)
        assert call.timely_until == datetime(2026, 11, 26, tzinfo=SHANGHAI)


def test_a_window_ending_before_its_due_day_is_refused():
    step = {"step": "c", "purpose": "service_call_day3", "days": 3, "timely_days": 2}
    with pytest.raises(PolicyError, match=r"dealer d9: .*after_service.0: .*timely_days"):
        PolicyBook.build([("d9", None, {"after_service": [{**step, "channel": "phone"}]})])


AFTER = timedelta(hours=POLICY.retry_after_hours)
SOONEST = timedelta(hours=POLICY.retry_in_window_after_hours)
WINDOW_END = datetime(2026, 11, 27, tzinfo=SHANGHAI)  # of a Monday settlement


def test_retries_stay_inside_the_window_first_at_another_hour_of_the_day():
    first = datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)
    # Wednesday 09:05 no answer: 5 h later, still inside the window.
    second = retry_at(first, first + timedelta(minutes=5), AFTER, CALENDAR, None, WINDOW_END)
    assert second == datetime(2026, 11, 25, 14, 5, tzinfo=SHANGHAI)
    # Thursday 17:10 no answer: 5 h later would be Friday, after the window; an hour later
    # is another hour of the day and still Thursday.
    late = datetime(2026, 11, 26, 17, 0, tzinfo=SHANGHAI)
    third = retry_at(late, late + timedelta(minutes=10), AFTER, CALENDAR, None, WINDOW_END, SOONEST)
    assert third == datetime(2026, 11, 26, 18, 10, tzinfo=SHANGHAI)
    # Thursday 19:30 no answer: nothing left in the window, the retry falls after it.
    last = datetime(2026, 11, 26, 19, 0, tzinfo=SHANGHAI)
    after = retry_at(last, last + timedelta(minutes=30), AFTER, CALENDAR, None, WINDOW_END, SOONEST)
    assert after == datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)


def test_every_retry_inside_a_window_that_has_room_stays_in_it():
    """Brute force over a day of failures: a retry leaves the window only when no open minute
    at another hour is left in it after `soonest`."""
    failed_at = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    for minutes in range(0, 11 * 60, 7):
        now = failed_at + timedelta(minutes=minutes)
        previous = now.replace(minute=0)
        at = retry_at(previous, now, AFTER, CALENDAR, None, WINDOW_END, SOONEST)
        room = [
            m
            for m in (now + SOONEST + timedelta(minutes=k) for k in range(24 * 60))
            if m < WINDOW_END and open_minute(m) and m.hour != previous.hour
        ]
        assert at >= now + SOONEST
        assert CALENDAR.is_open(at)
        assert at.astimezone(SHANGHAI).hour != previous.hour
        assert (at < WINDOW_END) == bool(room), now
