"""The ticket's state machine, deadlines, warnings, breaches, escalation and penalties (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_complaints.domain.deadlines import (
    DeadlineClock,
    DeadlinePolicy,
    to_ms,
    working_calendar,
)
from aftersales_complaints.domain.grading import GradingRules, grade_result, raised
from aftersales_complaints.domain.ladder import Ladder
from aftersales_complaints.domain.sweep import tick
from aftersales_complaints.domain.ticket import Action, IllegalTransition, NotTheirs, State, Ticket
from aftersales_complaints.domain.transitions import Command, Rules, decide, opening
from aftersales_contracts import ComplaintGrade, ComplaintStep, Scores, Staff
from aftersales_workcalendar import CalendarConfig, WorkingCalendar, load_holidays
from hypothesis import given, settings
from hypothesis import strategies as st

SH = ZoneInfo("Asia/Shanghai")
RULES = Rules(DeadlineClock(working_calendar("Asia/Shanghai"), DeadlinePolicy()), Ladder())
HOLIDAY_EVE = datetime(2026, 9, 30, 16, 0, tzinfo=SH)  # Wednesday before 国庆节 (Oct 1-7)


def new_ticket(grade: ComplaintGrade, at: datetime = HOLIDAY_EVE) -> Ticket:
    draft = Ticket(
        ticket_id=f"t-{grade.value}",
        dealer_id="dealer-sz-001",
        grade=grade,
        rule="test",
        contact_id="c-1",
        task_id="task-1",
        vin="LSVAU218XN2000001",
        customer_id="C-1",
        service_advisor=Staff(id="SA-007", name="王芳"),
        correlation_id="dealer-sz-001/WO-1",
        cause_event_id="e-1",
        opened_at=at,
        round_started_at=at,
        owner_role="",
        owner_person="",
    )
    return opening(draft, at, RULES, "e-1").ticket


def act(ticket: Ticket, action: Action, at: datetime, **fields: object) -> Ticket:
    return decide(ticket, Command(action, "someone", **fields), at, RULES).ticket  # type: ignore[arg-type]


def test_deadlines_of_d20_across_the_national_day_week():
    ticket = new_ticket(ComplaintGrade.D)
    due = {d.step: d.due_at.astimezone(SH) for d in ticket.deadlines}
    # Half a working day (4 h 45 min): 2 h left on Sep 30, the rest after the holiday week.
    assert due[ComplaintStep.GM_NOTICE] == datetime(2026, 10, 8, 11, 15, tzinfo=SH)
    assert due[ComplaintStep.REPLY] == datetime(2026, 10, 8, 16, 0, tzinfo=SH)
    # D20: feedback by the end of the next CALENDAR day, holiday or not.
    assert due[ComplaintStep.FEEDBACK] == datetime(2026, 10, 2, 0, 0, tzinfo=SH)
    assert ticket.owner_role == "service_advisor"
    assert ticket.owner_person == "SA-007"


def test_feedback_on_working_days_when_configured():
    clock = DeadlineClock(
        working_calendar("Asia/Shanghai"), DeadlinePolicy(feedback_by="working_day")
    )
    timing = clock.first(ComplaintStep.FEEDBACK, HOLIDAY_EVE)
    assert timing.due_at.astimezone(SH) == datetime(2026, 10, 8, 18, 0, tzinfo=SH)


def test_the_ladder_climbs_with_penalties_and_stops_at_the_gm():
    ticket = new_ticket(ComplaintGrade.D)
    result = tick(ticket, datetime(2026, 10, 9, 12, 0, tzinfo=SH), RULES)
    assert result is not None
    kinds = [(e.kind.value, e.step and e.step.value) for e in result.events]
    assert ("breached", "reply") in kinds
    assert "warning" not in [k for k, _ in kinds]  # too late to warn: straight to the breach
    penalties = [
        (e.person, e.role, e.points, e.month) for e in result.events if e.kind == "penalty"
    ]
    assert penalties == [
        ("SA-007", "service_advisor", 10, "2026-10"),
        ("dealer-sz-001/service_supervisor", "service_supervisor", 20, "2026-10"),
        ("dealer-sz-001/service_manager", "service_manager", 25, "2026-10"),
    ]
    escalated = [(e.from_role, e.assigned_role) for e in result.events if e.kind == "escalated"]
    assert escalated == [
        ("service_advisor", "service_supervisor"),
        ("service_supervisor", "service_manager"),
        ("service_manager", "gm"),
    ]
    assert result.ticket.owner_role == "gm"
    assert result.ticket.overdue
    assert tick(result.ticket, datetime(2026, 10, 9, 12, 0, tzinfo=SH), RULES) is None


def test_a_warning_at_75_percent_then_the_breach():
    ticket = new_ticket(ComplaintGrade.C)
    assert tick(ticket, datetime(2026, 10, 1, 15, 59, tzinfo=SH), RULES) is None
    warned = tick(ticket, datetime(2026, 10, 1, 16, 0, tzinfo=SH), RULES)  # 24 h of 32 h
    assert warned is not None
    assert [(e.kind.value, e.step) for e in warned.events] == [("warning", "feedback")]
    assert warned.ticket.due_soon
    breached = tick(warned.ticket, datetime(2026, 10, 2, 0, 0, tzinfo=SH), RULES)
    assert breached is not None
    assert [e.kind.value for e in breached.events] == ["breached", "penalty", "escalated"]


def test_a_b_ticket_needs_the_joint_review_before_the_reply_and_both_pay_when_late():
    ticket = act(new_ticket(ComplaintGrade.B), Action.ACKNOWLEDGE, HOLIDAY_EVE)
    with pytest.raises(IllegalTransition, match="service_manager, cr_manager"):
        act(ticket, Action.REPLY, HOLIDAY_EVE)
    with pytest.raises(NotTheirs):
        act(ticket, Action.REVIEW, HOLIDAY_EVE, role="service_advisor")
    late = tick(ticket, datetime(2026, 10, 2, 0, 0, tzinfo=SH), RULES)
    assert late is not None
    assert [(e.role, e.points) for e in late.events if e.kind == "penalty"] == [
        ("service_manager", 25),
        ("cr_manager", 25),
    ]
    ticket = act(late.ticket, Action.REVIEW, HOLIDAY_EVE, role="service_manager")
    ticket = act(ticket, Action.REVIEW, HOLIDAY_EVE, role="cr_manager")
    ticket = act(ticket, Action.REPLY, HOLIDAY_EVE)
    assert ticket.state is State.REPLIED
    assert ticket.deadline(ComplaintStep.FEEDBACK).status == "met_late"


def test_the_closed_loop_and_illegal_transitions():
    ticket = new_ticket(ComplaintGrade.C)
    with pytest.raises(IllegalTransition) as refused:
        act(ticket, Action.CLOSE, HOLIDAY_EVE, satisfied=True)
    assert refused.value.allowed == ["acknowledge", "compensation", "note", "reassign"]
    ticket = act(ticket, Action.ACKNOWLEDGE, HOLIDAY_EVE)
    ticket = act(ticket, Action.NOTE, HOLIDAY_EVE, text="called the customer")
    assert ticket.state is State.INVESTIGATING
    ticket = act(ticket, Action.REPLY, HOLIDAY_EVE)
    with pytest.raises(ValueError, match="root_cause_category"):
        act(ticket, Action.RESOLVE, HOLIDAY_EVE)
    moved = decide(
        ticket,
        Command(Action.RESOLVE, "sm", root_cause_category="parts", action_taken="replaced"),
        HOLIDAY_EVE,
        RULES,
    )
    assert [e.kind.value for e in moved.events] == ["resolved", "confirmation_requested"]
    assert moved.ticket.state is State.CONFIRMING
    request = moved.events[1].confirmation
    assert request is not None
    assert request.purpose == "complaint_confirmation"
    reopened = act(moved.ticket, Action.CONFIRMATION, HOLIDAY_EVE, satisfied=False)
    assert reopened.state is State.REOPENED
    assert reopened.round == 2
    assert reopened.owner_role == "service_supervisor"  # the ladder restarts
    assert all(d.status == "pending" for d in reopened.deadlines)


def test_event_ids_are_deterministic_and_history_holds_every_event():
    a = new_ticket(ComplaintGrade.D)
    b = new_ticket(ComplaintGrade.D)
    assert a.history == b.history
    later = act(a, Action.ACKNOWLEDGE, HOLIDAY_EVE)
    assert len({e["event_id"] for e in later.history}) == 2


def test_crisis_words_grade_a_and_a_repeat_raises_the_grade():
    scores = Scores(attitude=9, quality=9, charges=9, timeliness=9, environment=9, overall=7)
    verdict = grade_result(scores, False, GradingRules(), comment="我要找律师")
    assert verdict is not None
    assert verdict.grade is ComplaintGrade.A
    assert verdict.rule == "crisis_word:律师"
    assert raised(ComplaintGrade.D) is ComplaintGrade.C
    assert raised(ComplaintGrade.A) is ComplaintGrade.A
    with pytest.raises(ValueError, match="every grade"):
        Ladder(start={ComplaintGrade.A: "ceo"})


# --- the deadline arithmetic against a minute-by-minute walk of the calendar -----------------

HOLIDAYS = load_holidays("CN", use_env=False)
MINUTE = timedelta(minutes=1)


def _open_minute(calendar: WorkingCalendar, at: datetime) -> bool:
    """Independent of the calendar's interval code: the local date's rules, then the hours."""
    local = at.astimezone(SH)
    day = local.date()
    if HOLIDAYS.is_holiday(day):
        return False
    if day.weekday() == 6 and not HOLIDAYS.is_makeup_workday(day):
        return False
    minutes = local.hour * 60 + local.minute
    return 8 * 60 + 30 <= minutes < 18 * 60


def _walk(calendar: WorkingCalendar, start: datetime, minutes: int) -> datetime:
    at, used = start, 0
    while used < minutes:
        if _open_minute(calendar, at):
            used += 1
        at += MINUTE
    return at


starts = st.builds(
    lambda day, minute: datetime.combine(day, datetime.min.time(), SH) + minute * MINUTE,
    st.dates(date(2026, 9, 24), date(2026, 10, 12)),
    st.integers(0, 24 * 60 - 1),
)


@settings(max_examples=60, deadline=None)
@given(start=starts)
def test_gm_notice_and_warning_match_a_minute_walk(start):
    calendar = working_calendar("Asia/Shanghai")
    timing = RULES.clock.first(ComplaintStep.GM_NOTICE, start)
    assert timing.due_at == _walk(calendar, start, 285)  # half of 9 h 30 min
    # 75 % = 213 min 45 s of open time: after the 213th open minute, within the 214th.
    assert _walk(calendar, start, 213) < timing.warn_at < _walk(calendar, start, 214)


@settings(max_examples=60, deadline=None)
@given(start=starts)
def test_reply_deadline_is_one_working_day_by_the_minute_walk(start):
    calendar = working_calendar("Asia/Shanghai")
    timing = RULES.clock.first(ComplaintStep.REPLY, start)
    # Every working day has the same hours by default, so "the same clock time on the next
    # working day" holds exactly one working day (9 h 30 min) of open minutes by the walk.
    counted = sum(
        1
        for i in range(int((timing.due_at - start) / MINUTE))
        if _open_minute(calendar, start + i * MINUTE)
    )
    assert counted == 570
    assert start.astimezone(UTC) <= timing.warn_at <= timing.due_at


def test_calendar_config_is_the_shared_one():
    assert RULES.clock.working_day() == timedelta(hours=9, minutes=30)
    custom = DeadlineClock(
        WorkingCalendar(CalendarConfig(hours=["09:00-12:00", "13:00-17:00"])), DeadlinePolicy()
    )
    assert custom.working_day() == timedelta(hours=7)


def _calendar_day_walk(start: datetime, tz: ZoneInfo, days: int) -> datetime:
    """Brute force of D20's calendar-day feedback: minute by minute until the local date is
    `days + 1` past the start's (the first minute after the next calendar day)."""
    first = start.astimezone(tz).date()
    at = start
    while (at.astimezone(tz).date() - first).days <= days:
        at += MINUTE
    return at


def _working_day_walk(calendar: WorkingCalendar, start: datetime, days: int) -> datetime:
    """Brute force of the working-day variant: the first open minute at or after the start is
    on working day W; the close of the `days`-th date after W that has an open minute."""
    at = start
    while not _open_minute(calendar, at):
        at += MINUTE
    day = at.astimezone(SH).date()
    found = 0
    while found < days:
        day += timedelta(days=1)
        minutes = [
            datetime.combine(day, datetime.min.time(), SH) + i * MINUTE for i in range(24 * 60)
        ]
        open_minutes = [m for m in minutes if _open_minute(calendar, m)]
        if open_minutes:
            found += 1
    return open_minutes[-1] + MINUTE


ZONES = st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"])


@settings(max_examples=80, deadline=None)
@given(
    zone=ZONES,
    day=st.dates(date(2026, 3, 1), date(2026, 11, 10)),
    minute=st.integers(0, 24 * 60 - 1),
    days=st.integers(1, 3),
)
def test_feedback_is_due_at_the_end_of_the_next_calendar_day_by_the_minute_walk(
    zone, day, minute, days
):
    # D20 次日内反馈: every grade, weekend, holiday or summer-time change alike.
    tz = ZoneInfo(zone)
    start = datetime.combine(day, datetime.min.time(), tz) + minute * MINUTE
    calendar = WorkingCalendar(CalendarConfig(timezone=zone))
    clock = DeadlineClock(calendar, DeadlinePolicy(feedback_days=days))
    timing = clock.first(ComplaintStep.FEEDBACK, start)
    assert timing.due_at == _calendar_day_walk(start, tz, days)
    assert not timing.working
    assert timing.warn_at == to_ms(start + (timing.due_at - start) * 0.75)


@settings(max_examples=40, deadline=None)
@given(start=starts, days=st.integers(1, 2))
def test_feedback_on_working_days_is_the_close_of_the_next_working_day_by_the_walk(start, days):
    calendar = working_calendar("Asia/Shanghai")
    clock = DeadlineClock(calendar, DeadlinePolicy(feedback_by="working_day", feedback_days=days))
    timing = clock.first(ComplaintStep.FEEDBACK, start)
    assert timing.due_at == _working_day_walk(calendar, start, days)
    assert timing.working


def test_every_grade_has_the_feedback_step_with_the_grades_people():
    owners = {
        grade: new_ticket(grade).deadline(ComplaintStep.FEEDBACK).owners for grade in ComplaintGrade
    }
    assert owners == {
        ComplaintGrade.D: ["service_advisor"],
        ComplaintGrade.C: ["service_supervisor"],
        ComplaintGrade.B: ["service_manager", "cr_manager"],
        ComplaintGrade.A: ["service_manager", "cr_manager"],
    }


def test_feedback_across_a_weekend():
    saturday = datetime(2026, 11, 28, 17, 0, tzinfo=SH)  # a working Saturday, 1 h before close
    ticket = new_ticket(ComplaintGrade.D, at=saturday)
    due = {d.step: d.due_at.astimezone(SH) for d in ticket.deadlines}
    assert due[ComplaintStep.FEEDBACK] == datetime(2026, 11, 30, 0, 0, tzinfo=SH)  # Sunday's end
    assert due[ComplaintStep.GM_NOTICE] == datetime(2026, 11, 30, 12, 15, tzinfo=SH)  # 1 h + 3 h 45
    assert due[ComplaintStep.REPLY] == datetime(2026, 11, 30, 17, 0, tzinfo=SH)  # Monday 17:00
    working = DeadlineClock(
        working_calendar("Asia/Shanghai"), DeadlinePolicy(feedback_by="working_day")
    )
    assert working.first(ComplaintStep.FEEDBACK, saturday).due_at.astimezone(SH) == datetime(
        2026, 11, 30, 18, 0, tzinfo=SH
    )
