"""Validated configuration: opening hours, rest days, holiday policy and closures.

One config type describes both a dealer's business hours (SLA deadlines, D20) and a calling
window (D13) — the interval logic in ``calendar.py`` is shared, only the data differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Index = ``date.weekday()``."""

MIDNIGHT = time(0)


class TimeRange(BaseModel):
    """An opening range within one local day, ``[start, end)``.

    ``end`` 00:00 (also written ``"24:00"``) means midnight at the end of the day, so
    ``00:00-24:00`` is a whole day. Ranges never cross midnight: split them over two days.
    Accepts the shorthand string ``"08:30-18:00"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            start, sep, end = data.partition("-")
            if not sep:
                raise ValueError(f"time range {data!r} must look like 'HH:MM-HH:MM'")
            data = {"start": start.strip(), "end": end.strip()}
        if isinstance(data, dict) and data.get("end") in ("24:00", "24:00:00"):
            data = {**data, "end": MIDNIGHT}
        return data

    @field_validator("start", "end")
    @classmethod
    def _naive_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("opening times are local wall-clock times; drop the tzinfo")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end != MIDNIGHT and self.end <= self.start:
            raise ValueError(
                f"end {self.end:%H:%M} must be after start {self.start:%H:%M} "
                "(ranges cannot cross midnight; use 24:00 for end of day)"
            )
        return self

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == MIDNIGHT

    def __str__(self) -> str:
        end = "24:00" if self.ends_at_midnight else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


class DateRange(BaseModel):
    """Inclusive range of local dates (a dealer closure, a customer's quiet dates).

    Accepts ``"2026-03-01"`` (one day) or ``"2026-03-01/2026-03-05"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: date
    end: date

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, date):
            return {"start": data, "end": data}
        if isinstance(data, str):
            start, _, end = data.partition("/")
            return {"start": start.strip(), "end": (end or start).strip()}
        if isinstance(data, dict) and "end" not in data and "start" in data:
            return {**data, "end": data["start"]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"closure end {self.end} is before its start {self.start}")
        return self

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _default_hours() -> tuple[TimeRange, ...]:
    return (TimeRange(start=time(8, 30), end=time(18, 0)),)


def _check_ranges(ranges: Iterable[TimeRange], where: str) -> None:
    ordered = sorted(ranges, key=lambda r: r.start)
    for before, after in pairwise(ordered):
        if before.ends_at_midnight or after.start < before.end:
            raise ValueError(f"{where}: ranges {before} and {after} overlap")


class CalendarConfig(BaseModel):
    """Everything that decides when a calendar is open. Immutable once validated.

    Precedence on a local date: a ``closures`` date is closed; else a public holiday is closed
    (if ``observe_public_holidays``); else a make-up working day (调休) that falls on a rest day
    is open with the normal ``hours`` (if ``observe_makeup_workdays``); else the weekday's hours
    (``weekday_hours[day]`` or ``hours``), or closed on a ``rest_days`` weekday.

    Default = the dealer's working time for SLAs (D20): Monday–Saturday 08:30–18:00, Sunday
    closed, in Asia/Shanghai, China's holidays and 调休 observed. Dealers' workshops are usually
    open on Saturdays, so Saturday counts as working time unless a dealer configures otherwise.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "Asia/Shanghai"
    hours: tuple[TimeRange, ...] = Field(default_factory=_default_hours)
    rest_days: frozenset[Weekday] = frozenset({"sun"})
    weekday_hours: dict[Weekday, tuple[TimeRange, ...]] = Field(default_factory=dict)
    holiday_region: str | None = "CN"
    observe_public_holidays: bool = True
    observe_makeup_workdays: bool = True
    closures: tuple[DateRange, ...] = ()
    search_horizon_days: int = Field(default=366, ge=1, le=3660)
    """Longest run of closed days tolerated before giving up (guards against a never-open
    configuration looping forever)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like 'Asia/Shanghai'"
            ) from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CalendarConfig:
        _check_ranges(self.hours, "hours")
        for day, ranges in self.weekday_hours.items():
            if not ranges:
                raise ValueError(f"weekday_hours[{day}] is empty; put {day} in rest_days instead")
            _check_ranges(ranges, f"weekday_hours[{day}]")
        clash = self.rest_days & set(self.weekday_hours)
        if clash:
            raise ValueError(f"{sorted(clash)} are rest days and also have weekday_hours")
        if not any(self.hours_for_weekday(d) for d in WEEKDAYS):
            raise ValueError("calendar is never open: every weekday is a rest day or has no hours")
        return self

    def hours_for_weekday(self, weekday: Weekday) -> tuple[TimeRange, ...]:
        """Normal hours of a weekday (empty on a rest day), before holidays and closures."""
        if weekday in self.rest_days:
            return ()
        return tuple(sorted(self.weekday_hours.get(weekday, self.hours), key=lambda r: r.start))

    def is_closure(self, day: date) -> bool:
        return any(day in closure for closure in self.closures)


def calling_window_config(
    *,
    timezone: str = "Asia/Shanghai",
    hours: Iterable[TimeRange | str] = ("09:00-20:00",),
    quiet_weekdays: Iterable[Weekday] = (),
    quiet_dates: Iterable[DateRange | date | str] = (),
    holidays_quiet: bool = True,
    holiday_region: str | None = "CN",
) -> CalendarConfig:
    """Config of a calling window (D13: calls only inside calling hours, never on quiet days).

    Default: 09:00–20:00 local every day. Public holidays are quiet by default (a care call on
    春节 reads as harassment); pass ``holidays_quiet=False`` to call on them. Make-up working
    days are ignored: a customer's quiet weekday stays quiet even when it is a 调休 workday.
    """
    return CalendarConfig.model_validate(
        {
            "timezone": timezone,
            "hours": tuple(hours),
            "rest_days": frozenset(quiet_weekdays),
            "holiday_region": holiday_region,
            "observe_public_holidays": holidays_quiet,
            "observe_makeup_workdays": False,
            "closures": tuple(quiet_dates),
        }
    )
