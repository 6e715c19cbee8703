"""The working calendar: open/closed, next opening, and arithmetic in open time.

Used for SLA deadlines in working time (D20: half a working day to the GM, one working day to
reply; overdue steps escalate, D21) and, with a calling-window config, for when a care call may
be placed (D13). All inputs must be timezone-aware; all results are **aware UTC datetimes**
(storage is UTC, ARCHITECTURE "Time"); rules are applied on the dealer's local dates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ._zone import require_aware, wall_to_utc
from .errors import NoOpenTimeError
from .holidays import HolidaySet, load_holidays
from .hours import WEEKDAYS, CalendarConfig, TimeRange, calling_window_config

_ONE_DAY = timedelta(days=1)
Interval = tuple[datetime, datetime]


class WorkingCalendar:
    """Immutable calendar built from a validated :class:`CalendarConfig` and a holiday set.

    ``holidays`` defaults to :func:`load_holidays` for ``config.holiday_region`` (packaged data
    plus any override file); pass a :class:`HolidaySet` to pin the data (tests, replays).
    """

    __slots__ = ("_config", "_day_cache", "_holidays", "_tz")

    def __init__(self, config: CalendarConfig | None = None, holidays: HolidaySet | None = None):
        config = config if config is not None else CalendarConfig()
        if holidays is None:
            region = config.holiday_region
            holidays = load_holidays(region) if region else HolidaySet.empty()
        self._config = config
        self._holidays = holidays
        self._tz = ZoneInfo(config.timezone)
        self._day_cache: dict[date, tuple[Interval, ...]] = {}

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], holidays: HolidaySet | None = None
    ) -> WorkingCalendar:
        """Build from plain config data (JSON/YAML/env); raises pydantic ``ValidationError``."""
        return cls(CalendarConfig.model_validate(data), holidays)

    @classmethod
    def calling_window(cls, holidays: HolidaySet | None = None, **options: Any) -> WorkingCalendar:
        """A D13 calling window; ``options`` as for :func:`calling_window_config`."""
        return cls(calling_window_config(**options), holidays)

    # ----------------------------------------------------------------- read-only state
    @property
    def config(self) -> CalendarConfig:
        return self._config

    @property
    def holidays(self) -> HolidaySet:
        return self._holidays

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__} is immutable")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"WorkingCalendar({self._config!r})"

    # ----------------------------------------------------------------- per-day rules
    def hours_on(self, day: date) -> tuple[TimeRange, ...]:
        """Opening ranges of a local date after closures, holidays and 调休 are applied."""
        cfg = self._config
        if cfg.is_closure(day):
            return ()
        if cfg.observe_public_holidays and self._holidays.is_holiday(day):
            return ()
        weekday = WEEKDAYS[day.weekday()]
        normal = cfg.hours_for_weekday(weekday)
        if not normal and cfg.observe_makeup_workdays and self._holidays.is_makeup_workday(day):
            # A 调休 Sunday is worked like an ordinary working day.
            return tuple(sorted(cfg.hours, key=lambda r: r.start))
        return normal

    def is_working_day(self, day: date) -> bool:
        """True if the local date has any open time."""
        return bool(self._day_intervals(day))

    def _day_intervals(self, day: date) -> tuple[Interval, ...]:
        cached = self._day_cache.get(day)
        if cached is None:
            out: list[Interval] = []
            for r in self.hours_on(day):
                start = wall_to_utc(datetime.combine(day, r.start), self._tz, closing=False)
                end_day = day + _ONE_DAY if r.ends_at_midnight else day
                end = wall_to_utc(datetime.combine(end_day, r.end), self._tz, closing=True)
                if end > start:
                    out.append((start, end))
            cached = tuple(out)
            self._day_cache[day] = cached
        return cached

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self._tz).date()

    def _intervals(self, after: datetime, until: datetime | None = None) -> Iterator[Interval]:
        """Disjoint open intervals ``[s, e)`` in time order with ``e > after`` (UTC).

        Without ``until`` the stream is endless and raises :class:`NoOpenTimeError` after
        ``search_horizon_days`` consecutive closed days; with it, it stops past ``until``.
        """
        day = self._local_date(after) - _ONE_DAY  # a previous day's range may reach past ``after``
        last_day = self._local_date(until) if until is not None else None
        last_end = after
        closed_run = 0
        while last_day is None or day <= last_day:
            intervals = self._day_intervals(day)
            closed_run = 0 if intervals else closed_run + 1
            for start, end in intervals:
                start = max(start, last_end)  # clip DST overlaps and the part before ``after``
                if end > start:
                    yield start, end
                    last_end = end
            if last_day is None and closed_run > self._config.search_horizon_days:
                raise NoOpenTimeError(
                    f"closed for more than {self._config.search_horizon_days} consecutive days "
                    f"after {after.isoformat()}; check the calendar configuration"
                )
            day += _ONE_DAY

    # ----------------------------------------------------------------- public queries
    def is_open(self, at: datetime) -> bool:
        """True if ``at`` lies inside an open range (opening instant in, closing instant out)."""
        at = require_aware(at, "at")
        day = self._local_date(at)
        for d in (day - _ONE_DAY, day):
            if any(s <= at < e for s, e in self._day_intervals(d)):
                return True
        return False

    def next_open_moment(self, at: datetime) -> datetime:
        """``at`` itself (as UTC) if open, else the next opening instant."""
        at = require_aware(at, "at")
        start, _ = next(self._intervals(at))
        return max(start, at)

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant ``t >= start`` with ``working_time_between(start, t) == amount``.

        Only open time counts. ``amount`` zero returns ``start``; a deadline that is used up
        exactly at closing time is that closing instant (not the next morning's opening).
        """
        start = require_aware(start, "start")
        if amount < timedelta(0):
            raise ValueError(f"amount must not be negative, got {amount}")
        if amount == timedelta(0):
            return start
        remaining = amount
        for s, e in self._intervals(start):
            available = e - s
            if remaining <= available:
                return s + remaining
            remaining -= available
        raise AssertionError("unreachable: _intervals is endless")  # pragma: no cover

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Same local clock time on the ``days``-th working day after the start's working day.

        Rule (D20 "reply within one working day"): counting begins at
        ``next_open_moment(start)`` — a ticket arriving at night counts from the next opening.
        Take that moment's local date ``D`` and clock time ``T``; find the ``days``-th local
        date after ``D`` that has open time; the result is ``T`` on that date, clamped into
        its hours: before its opening → its opening, after its closing → its closing, inside
        a break → the end of the break. ``days == 0`` returns the counting start.
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {type(days).__name__}")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        anchor = self.next_open_moment(start)
        if days == 0:
            return anchor
        local = anchor.astimezone(self._tz)
        clock: time = local.time().replace(tzinfo=None)
        day = local.date()
        found = closed_run = 0
        while found < days:
            day += _ONE_DAY
            if self._day_intervals(day):
                found, closed_run = found + 1, 0
            else:
                closed_run += 1
                if closed_run > self._config.search_horizon_days:
                    raise NoOpenTimeError(
                        f"no working day within {self._config.search_horizon_days} days "
                        f"after {day.isoformat()}"
                    )
        intervals = self._day_intervals(day)
        target = wall_to_utc(datetime.combine(day, clock), self._tz, closing=False)
        for s, e in intervals:
            if target < s:
                return s
            if target <= e:
                return target
        return intervals[-1][1]

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time in ``[a, b)``; negative if ``b`` is before ``a`` (SLA lateness reports)."""
        a = require_aware(a, "a")
        b = require_aware(b, "b")
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta(0)
        for s, e in self._intervals(a, until=b):
            if s >= b:
                break
            total += min(e, b) - max(s, a)
        return total


def to_local(calendar: WorkingCalendar, instant: datetime) -> datetime:
    """Show a (UTC) result in the calendar's zone, e.g. in a message to the dealer."""
    return require_aware(instant, "instant").astimezone(calendar.tz)
