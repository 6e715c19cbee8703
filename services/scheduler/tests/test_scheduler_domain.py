"""Pure rules: plans, calling windows (D13), caps and merges (D13), retries (D15), policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aftersales_contracts import Channel, ContactPurpose, WorkOrderType
from aftersales_scheduler.domain.plan import (
    OtherContact,
    PlannedContact,
    Verdict,
    decide,
    plan_steps,
    retry_at,
)
from aftersales_scheduler.domain.policy import PolicyBook, PolicyError, SchedulerPolicy
from aftersales_scheduler.domain.slots import day_end, day_start
from hypothesis import given, settings
from hypothesis import strategies as st

POLICY = SchedulerPolicy()
CALENDAR = POLICY.calling_hours.calendar("Asia/Shanghai")
OPENS = POLICY.calling_hours.opens_at
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
)


@given(start=instants, preferred=st.sampled_from([None, *Channel]))
@settings(max_examples=200, deadline=None)
def test_planned_contacts_are_never_early_and_always_inside_calling_hours(start, preferred):
    planned = plan_steps(
        POLICY.after_service, start, WorkOrderType.REPAIR, preferred, CALENDAR, OPENS
    )

    assert [p.step for p in planned] == ["call_day3", "sms_survey_day7", "call_day30"]
    settled_day = start.astimezone(CALENDAR.tz).date()
    for contact, days in zip(planned, (2, 7, 30), strict=True):
        # D6/D7: day N at calling-hours start, in the dealer's zone.
        nominal = contact.nominal_at.astimezone(CALENDAR.tz)
        assert (nominal.date() - settled_day).days == days
        assert nominal.time() == OPENS
        assert contact.due_at >= contact.nominal_at > start  # never early
        assert CALENDAR.is_open(contact.due_at)  # D13
        # The first allowed moment: one minute earlier is either closed or before nominal.
        earlier = contact.due_at - timedelta(minutes=1)
        assert earlier < contact.nominal_at or not CALENDAR.is_open(earlier)
        assert contact.channel == (preferred or contact.channel)  # D14


def test_steps_apply_by_work_order_type():
    policy = SchedulerPolicy.model_validate(
        {
            "after_service": [
                {
                    "step": "call_day3",
                    "purpose": "service_call_day3",
                    "days": 3,
                    "channel": "phone",
                },
                {
                    "step": "survey",
                    "purpose": "sms_survey_day7",
                    "days": 7,
                    "channel": "sms",
                    "work_order_types": ["maintenance", "repair"],
                },
            ]
        }
    )
    start = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
    internal = plan_steps(policy.after_service, start, WorkOrderType.OTHER, None, CALENDAR, OPENS)
    repair = plan_steps(policy.after_service, start, WorkOrderType.REPAIR, None, CALENDAR, OPENS)

    assert [p.step for p in internal] == ["call_day3"]
    assert [p.step for p in repair] == ["call_day3", "survey"]


def contact_at(at: datetime) -> PlannedContact:
    return PlannedContact("s", (ContactPurpose.MAINTENANCE_REMINDER,), Channel.PHONE, at, at)


def assert_cap_as_brute_force(offsets: list[int], new: int, cap: int, unit: timedelta) -> None:
    base = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    others = [OtherContact(f"t{i}", base + n * unit, False) for i, n in enumerate(offsets)]
    at = base + new * unit
    decision = decide(contact_at(at), others, base, cap, merge=False, calendar=CALENDAR)

    # Brute force: every 7-day window (hour grid) that contains the new contact.
    times = [o.due_at for o in others] + [at]
    worst = max(
        sum(1 for t in times if start <= t < start + timedelta(days=7))
        for start in (at - timedelta(hours=h) for h in range(0, 7 * 24))
    )
    assert (decision.verdict is Verdict.SUPPRESS_CAP) == (worst > cap)


@given(
    offsets=st.lists(st.integers(min_value=-20 * 24, max_value=20 * 24), max_size=6),
    new=st.integers(min_value=-20 * 24, max_value=20 * 24),
    cap=st.integers(min_value=1, max_value=4),
)
@settings(max_examples=300, deadline=None)
def test_the_weekly_cap_matches_a_brute_force_count(offsets, new, cap):
    assert_cap_as_brute_force(offsets, new, cap, timedelta(hours=1))


@given(
    offsets=st.lists(st.integers(min_value=-9, max_value=9), max_size=8),
    new=st.integers(min_value=-9, max_value=9),
    cap=st.integers(min_value=1, max_value=4),
)
@settings(max_examples=300, deadline=None)
def test_the_weekly_cap_counts_a_window_s_edges_as_a_brute_force_count(offsets, new, cap):
    """Whole days apart: contacts exactly 7 days apart are often on a window's edges, where a
    window holds its start and not its end."""
    assert_cap_as_brute_force(offsets, new, cap, timedelta(days=1))


@pytest.mark.parametrize(
    ("apart", "capped"),
    [(timedelta(days=7), False), (timedelta(days=7) - timedelta(microseconds=1), True)],
)
def test_the_weekly_cap_counts_moments_whatever_their_zone(apart, capped):
    """Stored contacts come back in UTC, new ones are planned in the dealer's zone: the cap
    counts the moments, to the microsecond, on either side of a window's end."""
    first = datetime(2026, 6, 1, 9, 0, 0, 250_000, tzinfo=CALENDAR.tz)
    others = [OtherContact("t", first.astimezone(UTC), True)]
    later = contact_at((first + apart).astimezone(CALENDAR.tz))

    decision = decide(later, others, first - timedelta(days=1), 1, False, CALENDAR)

    assert (decision.verdict is Verdict.SUPPRESS_CAP) is capped


def test_a_contact_in_the_window_of_a_later_pending_one_merges_into_it():
    now = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    at = datetime(2026, 6, 3, 2, 0, tzinfo=UTC)
    host = OtherContact("host", at + timedelta(hours=3), True, (ContactPurpose.BIRTHDAY_CARE,))
    earlier = OtherContact("early", at - timedelta(hours=1), True, (ContactPurpose.BIRTHDAY_CARE,))
    sent = OtherContact("sent", at + timedelta(hours=1), False, (ContactPurpose.BIRTHDAY_CARE,))

    into = decide(contact_at(at), [host], now, 2, True, CALENDAR)
    absorbs = decide(contact_at(at), [earlier], now, 2, True, CALENDAR)
    alone = decide(contact_at(at), [sent], now, 2, True, CALENDAR)

    assert (into.verdict, into.other) == (Verdict.MERGE_INTO_EXISTING, host)
    assert into.purposes == (ContactPurpose.BIRTHDAY_CARE, ContactPurpose.MAINTENANCE_REMINDER)
    assert (absorbs.verdict, absorbs.other) == (Verdict.ABSORB_EXISTING, earlier)
    assert alone.verdict is Verdict.SCHEDULE  # an already-sent contact does not change


@given(previous=instants, delay=st.integers(min_value=0, max_value=72))
@settings(max_examples=200, deadline=None)
def test_a_retry_is_later_inside_hours_and_at_another_hour_of_the_day(previous, delay):
    previous = CALENDAR.next_open_moment(previous)
    now = previous + timedelta(hours=delay)
    after = timedelta(hours=POLICY.retry_after_hours)
    at = retry_at(previous, now, after, CALENDAR)

    assert at >= now + after
    assert CALENDAR.is_open(at)
    assert at.astimezone(CALENDAR.tz).hour != previous.astimezone(CALENDAR.tz).hour


def test_policies_merge_dealer_over_oem_over_defaults():
    book = PolicyBook.build(
        [("d1", "oem-a", {"max_attempts": 5}), ("d2", "oem-a", {}), ("d3", None, {})],
        oems={"oem-a": {"max_attempts": 4, "care_lead_days": {"birthday": 3}}},
    )

    assert book.for_dealer("d1").max_attempts == 5
    assert book.for_dealer("d2").max_attempts == 4
    assert book.for_dealer("d2").care_lead_days.birthday == 3
    assert book.for_dealer("d2").care_lead_days.insurance_expiry == 30
    assert book.for_dealer("d3") == SchedulerPolicy()
    assert book.for_dealer("unknown") == SchedulerPolicy()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_contacts_per_7_days": 0}, "max_contacts_per_7_days"),
        ({"calling_hours": {"hours": ["21:00-09:00"]}}, "calling_hours"),
        ({"calling_hours": {"quiet_weekdays": ["someday"]}}, "quiet_weekdays"),
        ({"retry_after_hours": "soon"}, "retry_after_hours"),
        ({"unknown_knob": 1}, "unknown_knob"),
    ],
)
def test_an_invalid_dealer_policy_is_refused_naming_dealer_and_field(overrides, field):
    with pytest.raises(PolicyError, match=rf"dealer d9: .*{field}"):
        PolicyBook.build([("d9", None, overrides)])


@given(moment=instants)
def test_every_instant_falls_in_its_utc_day(moment):
    day = moment.date()
    assert day_start(day) <= moment < day_end(day)
