"""Property tests: the calendar against a brute-force minute-by-minute reference.

The reference re-implements the date rules independently (closure > holiday > 调休 > weekday)
and decides openness per UTC minute from the local wall clock, so it shares no interval code
with the implementation. Opening hours stay on a 30-minute grid from 04:00, clear of the
Europe/Berlin DST switch hours, where the two are defined to agree exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aftersales_workcalendar import WEEKDAYS, CalendarConfig, HolidaySet, WorkingCalendar
from aftersales_workcalendar import load_holidays as _load
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

HOLIDAYS: HolidaySet = _load("CN", use_env=False)
MINUTE = timedelta(minutes=1)
HORIZON_DAYS = 14
# Bases near 2026 holidays/调休 and both Berlin DST switches.
BASES = [
    date(2026, 1, 1),
    date(2026, 2, 12),
    date(2026, 3, 27),
    date(2026, 4, 30),
    date(2026, 9, 18),
    date(2026, 9, 29),
    date(2026, 10, 23),
]
ZONES = ["Asia/Shanghai", "Europe/Berlin", "UTC"]
GRID = [time(h, m) for h in range(4, 24) for m in (0, 30)] + [time(0)]  # time(0) = 24:00


@st.composite
def day_ranges(draw: st.DrawFn) -> list[dict[str, str]]:
    n = draw(st.integers(1, 2))
    points = sorted(draw(st.sets(st.integers(0, len(GRID) - 1), min_size=2 * n, max_size=2 * n)))
    return [
        {"start": GRID[points[2 * i]].strftime("%H:%M"), "end": _fmt(GRID[points[2 * i + 1]])}
        for i in range(n)
    ]


def _fmt(t: time) -> str:
    return "24:00" if t == time(0) else t.strftime("%H:%M")


@st.composite
def configs(draw: st.DrawFn) -> tuple[CalendarConfig, date]:
    base = draw(st.sampled_from(BASES))
    rest = draw(st.sets(st.sampled_from(WEEKDAYS), max_size=5))
    open_days = [d for d in WEEKDAYS if d not in rest]
    special = draw(st.sets(st.sampled_from(open_days), max_size=2))
    closures = []
    for _ in range(draw(st.integers(0, 2))):
        start = base + timedelta(days=draw(st.integers(0, HORIZON_DAYS)))
        closures.append(
            {
                "start": start.isoformat(),
                "end": (start + timedelta(days=draw(st.integers(0, 2)))).isoformat(),
            }
        )
    cfg = CalendarConfig.model_validate(
        {
            "timezone": draw(st.sampled_from(ZONES)),
            "hours": draw(day_ranges()),
            "rest_days": rest,
            "weekday_hours": {d: draw(day_ranges()) for d in special},
            "observe_public_holidays": draw(st.booleans()),
            "observe_makeup_workdays": draw(st.booleans()),
            "closures": closures,
        }
    )
    return cfg, base


class Reference:
    """Open/closed for every UTC minute of the horizon, from independent rules."""

    def __init__(self, cfg: CalendarConfig, base: date) -> None:
        self.tz = ZoneInfo(cfg.timezone)
        self.t0 = datetime.combine(base, time(0), self.tz).astimezone(UTC)
        n = HORIZON_DAYS * 24 * 60
        self.open = [self._open_at(cfg, self.t0 + i * MINUTE) for i in range(n)]

    def _open_at(self, cfg: CalendarConfig, t: datetime) -> bool:
        local = t.astimezone(self.tz)
        d, clock = local.date(), local.time().replace(tzinfo=None)
        if any(c.start <= d <= c.end for c in cfg.closures):
            return False
        if cfg.observe_public_holidays and d in HOLIDAYS.holidays:
            return False
        wd = WEEKDAYS[d.weekday()]
        if wd in cfg.rest_days:
            if not (cfg.observe_makeup_workdays and d in HOLIDAYS.makeup_workdays):
                return False
            ranges = cfg.hours
        else:
            ranges = cfg.weekday_hours.get(wd, cfg.hours)
        return any(r.start <= clock and (r.end == time(0) or clock < r.end) for r in ranges)

    def index(self, t: datetime) -> int:
        return int((t - self.t0) / MINUTE)

    def at(self, i: int) -> datetime:
        return self.t0 + i * MINUTE


PROP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[WorkingCalendar, Reference, int]:
    cfg, base = draw(configs())
    ref = Reference(cfg, base)
    start = draw(st.integers(0, 5 * 24 * 60))
    return WorkingCalendar(cfg, HOLIDAYS), ref, start


@settings(PROP, max_examples=25)
@given(scenario())
def test_is_open_matches_reference_every_minute(sc: tuple[WorkingCalendar, Reference, int]):
    cal, ref, _ = sc
    for i, expected in enumerate(ref.open):
        assert cal.is_open(ref.at(i)) == expected, ref.at(i)


@PROP
@given(scenario())
def test_next_open_moment_matches_reference(sc: tuple[WorkingCalendar, Reference, int]):
    cal, ref, i = sc
    expected = next((j for j in range(i, len(ref.open)) if ref.open[j]), None)
    assume(expected is not None)
    assert cal.next_open_moment(ref.at(i)) == ref.at(expected)


def _run_ends(ref: Reference, i: int) -> list[int]:
    """Open-minute counts from ``i`` up to each closing (the exact-boundary deadlines)."""
    ends, counted = [], 0
    for j in range(i, len(ref.open)):
        counted += ref.open[j]
        if ref.open[j] and (j + 1 == len(ref.open) or not ref.open[j + 1]):
            ends.append(counted)
    return ends


@PROP
@given(scenario(), st.integers(0, 36 * 60), st.booleans(), st.integers(0, 5))
def test_add_working_time_matches_reference(
    sc: tuple[WorkingCalendar, Reference, int], k: int, at_closing: bool, run: int
):
    cal, ref, i = sc
    if at_closing:  # deadlines used up exactly at a closing time are the tricky ones
        ends = _run_ends(ref, i)
        assume(len(ends) > run)
        k = ends[run]
    if k == 0:
        expected: int | None = i
    else:
        counted, expected = 0, None
        for j in range(i, len(ref.open)):
            counted += ref.open[j]
            if counted == k:
                expected = j + 1  # end of the k-th open minute
                break
    assume(expected is not None)
    assert cal.add_working_time(ref.at(i), timedelta(minutes=k)) == ref.at(expected)


@PROP
@given(scenario(), st.integers(0, 8 * 24 * 60))
def test_working_time_between_matches_reference(
    sc: tuple[WorkingCalendar, Reference, int], span: int
):
    cal, ref, i = sc
    j = i + span
    expected = timedelta(minutes=sum(ref.open[i:j]))
    assert cal.working_time_between(ref.at(i), ref.at(j)) == expected
    assert cal.working_time_between(ref.at(j), ref.at(i)) == -expected


@PROP
@given(scenario(), st.integers(0, 20 * 60), st.integers(0, 59))
def test_add_then_measure_round_trips(
    sc: tuple[WorkingCalendar, Reference, int], minutes: int, seconds: int
):
    cal, ref, i = sc
    start = ref.at(i) + timedelta(seconds=seconds)
    amount = timedelta(minutes=minutes, seconds=seconds)
    end = cal.add_working_time(start, amount)
    assert end >= start
    assert cal.working_time_between(start, end) == amount
