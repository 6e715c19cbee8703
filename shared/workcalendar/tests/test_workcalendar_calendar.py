"""Unit tests: 2026 holidays/调休, D20 deadline rules, D13 windows, DST, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_workcalendar import (
    CalendarConfig,
    HolidaySet,
    NaiveDatetimeError,
    NoOpenTimeError,
    WorkingCalendar,
    calling_window_config,
    load_holidays,
    to_local,
)
from pydantic import ValidationError

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CN = load_holidays("CN", use_env=False)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar(CalendarConfig(), CN)


# --------------------------------------------------------------------- 2026 holidays
def test_national_day_closed(cal: WorkingCalendar):
    assert not cal.is_open(sh(2026, 10, 1, 10))
    assert to_local(cal, cal.next_open_moment(sh(2026, 10, 1, 10))) == sh(2026, 10, 8, 8, 30)


def test_makeup_saturday_open_with_normal_hours(cal: WorkingCalendar):
    assert cal.hours_on(date(2026, 10, 10)) == cal.config.hours
    assert cal.is_open(sh(2026, 10, 10, 8, 30))
    assert not cal.is_open(sh(2026, 10, 10, 18, 0))


def test_makeup_sunday_opens_although_sunday_is_a_rest_day(cal: WorkingCalendar):
    assert not cal.is_open(sh(2026, 9, 13, 10))  # ordinary Sunday
    assert cal.is_open(sh(2026, 9, 20, 10))  # 国庆节调休
    assert cal.is_open(sh(2026, 1, 4, 17, 59))  # 元旦调休


def test_spring_festival_week(cal: WorkingCalendar):
    assert cal.is_open(sh(2026, 2, 14, 12))  # makeup Saturday
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert cal.is_working_day(date(2026, 2, 24))
    # Ticket on the eve: one working day later is the first day back, same clock time.
    assert to_local(cal, cal.add_working_days(sh(2026, 2, 14, 15), 1)) == sh(2026, 2, 24, 15)


def test_makeup_days_ignored_when_configured():
    cal = WorkingCalendar(CalendarConfig(observe_makeup_workdays=False), CN)
    assert not cal.is_open(sh(2026, 9, 20, 10))


def test_holidays_ignored_when_configured():
    cal = WorkingCalendar(CalendarConfig(observe_public_holidays=False), CN)
    assert cal.is_open(sh(2026, 10, 1, 10))


def test_dealer_closure_beats_makeup_day():
    cfg = CalendarConfig(closures=("2026-10-09/2026-10-10",))  # type: ignore[arg-type]
    cal = WorkingCalendar(cfg, CN)
    assert not cal.is_open(sh(2026, 10, 10, 10))
    assert to_local(cal, cal.next_open_moment(sh(2026, 10, 9, 9))) == sh(2026, 10, 12, 8, 30)


# --------------------------------------------------------------------- D20 deadline rules
def test_half_and_one_working_day_over_a_weekend(cal: WorkingCalendar):
    friday_5pm = sh(2026, 6, 12, 17)  # Sat open, Sun closed by default
    half_day = timedelta(hours=4, minutes=45)  # half of 08:30-18:00
    assert to_local(cal, cal.add_working_time(friday_5pm, half_day)) == sh(2026, 6, 13, 12, 15)
    assert to_local(cal, cal.add_working_days(friday_5pm, 1)) == sh(2026, 6, 13, 17)
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 13, 17), 1)) == sh(2026, 6, 15, 17)


def test_working_days_start_outside_hours_counts_from_next_opening(cal: WorkingCalendar):
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 9, 22), 1)) == sh(2026, 6, 11, 8, 30)
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 9, 22), 0)) == sh(2026, 6, 10, 8, 30)


def test_working_days_clamp_to_shorter_day():
    cfg = CalendarConfig.model_validate({"weekday_hours": {"sat": ["09:00-12:00", "13:00-15:00"]}})
    cal = WorkingCalendar(cfg, HolidaySet.empty())
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 12, 17), 1)) == sh(2026, 6, 13, 15)
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 12, 8, 30), 1)) == sh(2026, 6, 13, 9)
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 12, 12, 30), 1)) == sh(2026, 6, 13, 13)
    # Exactly at a closing time: that closing instant, not the next opening.
    assert to_local(cal, cal.add_working_days(sh(2026, 6, 12, 12), 1)) == sh(2026, 6, 13, 12)


def test_deadline_used_up_at_closing_is_the_closing_instant(cal: WorkingCalendar):
    assert to_local(cal, cal.add_working_time(sh(2026, 6, 10, 17), timedelta(hours=1))) == sh(
        2026, 6, 10, 18
    )
    assert cal.add_working_time(sh(2026, 6, 10, 20), timedelta(0)) == sh(2026, 6, 10, 20)


def test_results_are_utc(cal: WorkingCalendar):
    result = cal.next_open_moment(sh(2026, 6, 10, 7))
    assert result.tzinfo is UTC
    assert result == datetime(2026, 6, 10, 0, 30, tzinfo=UTC)


def test_sla_report_working_time(cal: WorkingCalendar):
    assert cal.working_time_between(sh(2026, 9, 30, 17), sh(2026, 10, 9)) == timedelta(
        hours=10, minutes=30
    )


# --------------------------------------------------------------------- D13 calling window
def test_calling_window_defaults():
    win = WorkingCalendar(calling_window_config(), CN)
    assert win.is_open(sh(2026, 6, 14, 9))  # Sunday is fine for calls
    assert not win.is_open(sh(2026, 6, 14, 20))
    assert not win.is_open(sh(2026, 10, 1, 10))  # holidays quiet by default
    assert to_local(win, win.next_open_moment(sh(2026, 6, 14, 20, 30))) == sh(2026, 6, 15, 9)


def test_calling_window_quiet_days_and_holidays_allowed():
    win = WorkingCalendar.calling_window(
        CN, quiet_weekdays=["sun"], quiet_dates=["2026-06-16"], holidays_quiet=False
    )
    assert win.is_open(sh(2026, 10, 1, 10))
    assert not win.is_open(sh(2026, 9, 20, 10))  # a 调休 Sunday stays the customer's quiet day
    assert not win.is_open(sh(2026, 6, 16, 10))
    assert to_local(win, win.next_open_moment(sh(2026, 6, 13, 21))) == sh(2026, 6, 15, 9)


# --------------------------------------------------------------------- DST (Europe/Berlin)
def _berlin(hours: list[str], rest_days: tuple[str, ...] = ()) -> WorkingCalendar:
    cfg = CalendarConfig.model_validate(
        {
            "timezone": "Europe/Berlin",
            "hours": hours,
            "rest_days": rest_days,
            "holiday_region": None,
        }
    )
    return WorkingCalendar(cfg)


def test_dst_business_hours_follow_local_clock():
    cal = _berlin(["08:30-18:00"], rest_days=("sat", "sun"))
    winter = datetime(2026, 3, 27, 17, tzinfo=BERLIN)  # Friday, CET; clocks change on Sunday
    summer = cal.add_working_time(winter, timedelta(hours=3))
    assert summer.astimezone(BERLIN) == datetime(2026, 3, 30, 10, 30, tzinfo=BERLIN)
    # Real elapsed UTC hours differ from the wall clock, working time does not.
    assert cal.working_time_between(winter, summer) == timedelta(hours=3)


def test_dst_gap_and_repeated_hour_count_real_time():
    cal = _berlin(["01:00-04:00"])
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    day = timedelta(days=1)

    def open_time(d: date) -> timedelta:
        a = datetime.combine(d, datetime.min.time(), BERLIN)
        return cal.working_time_between(a, datetime.combine(d + day, datetime.min.time(), BERLIN))

    assert open_time(spring) == timedelta(hours=2)  # 02:00-03:00 does not exist
    assert open_time(autumn) == timedelta(hours=4)  # 02:00-03:00 happens twice
    assert open_time(date(2026, 6, 1)) == timedelta(hours=3)
    # A boundary inside the gap moves to the switch instant (03:00 CEST = 01:00 UTC).
    gap = _berlin(["02:30-05:00"])
    opening = gap.next_open_moment(datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN))
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


# --------------------------------------------------------------------- validation
def test_naive_datetime_rejected(cal: WorkingCalendar):
    with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
        cal.is_open(datetime(2026, 6, 10, 10))
    with pytest.raises(NaiveDatetimeError, match="start must be timezone-aware"):
        cal.add_working_time(datetime(2026, 6, 10, 10), timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.working_time_between(sh(2026, 6, 10), datetime(2026, 6, 11))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": ["18:00-08:30"]}, "end 08:30 must be after start 18:00"),
        ({"hours": ["09:00-09:00"]}, "must be after start"),
        ({"hours": ["9-17"]}, "time"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"hours": ["08:00-12:00", "11:00-14:00"]}, "overlap"),
        ({"rest_days": ["sun"], "weekday_hours": {"sun": ["09:00-12:00"]}}, "rest days"),
        ({"rest_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}, "never open"),
        ({"closures": ["2026-10-05/2026-10-01"]}, "before its start"),
        ({"rest_days": ["sunday"]}, "rest_days"),
        ({"opening": "x"}, "opening"),
    ],
)
def test_invalid_config_rejected(data: dict[str, object], message: str):
    with pytest.raises(ValidationError, match=message):
        CalendarConfig.model_validate(data)


def test_negative_amounts_rejected(cal: WorkingCalendar):
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_time(sh(2026, 6, 10), timedelta(minutes=-1))
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(sh(2026, 6, 10), -1)


def test_calendar_is_immutable(cal: WorkingCalendar):
    with pytest.raises(AttributeError, match="immutable"):
        cal._tz = BERLIN  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cal.config.timezone = "UTC"  # type: ignore[misc]


def test_always_closed_stretch_hits_horizon():
    cfg = CalendarConfig.model_validate(
        {"closures": ["2026-01-01/2026-12-31"], "search_horizon_days": 30}
    )
    with pytest.raises(NoOpenTimeError, match="30 consecutive days"):
        WorkingCalendar(cfg, CN).next_open_moment(sh(2026, 6, 1))


def test_whole_day_ranges_join_across_midnight():
    cfg = CalendarConfig.model_validate({"hours": ["00:00-24:00"], "holiday_region": None})
    cal = WorkingCalendar(cfg)
    start = sh(2026, 6, 12, 23)  # Friday 23:00; Saturday open all day, Sunday closed
    assert cal.add_working_time(start, timedelta(hours=2)) == sh(2026, 6, 13, 1)
    # 1 h on Friday + 24 h on Saturday end at Saturday 24:00, i.e. Sunday 00:00 (the closing).
    assert to_local(cal, cal.add_working_time(start, timedelta(hours=25))) == sh(2026, 6, 14)
    assert to_local(cal, cal.add_working_time(start, timedelta(hours=26))) == sh(2026, 6, 15, 1)
