"""Report periods in the dealer's local calendar: months `2026-11`, ISO weeks `2026-W48`."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aftersales_contracts.primitives import MONTH_PATTERN

WEEK_PATTERN = r"^2\d{3}-W(0[1-9]|[1-4]\d|5[0-3])$"
_MONTH = re.compile(MONTH_PATTERN)


def local_month(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m")


def local_day(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d")


def local_week(at: datetime, zone: ZoneInfo) -> str:
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def month_of_date(day: date) -> str:
    return day.strftime("%Y-%m")


def week_of_date(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def is_month(text: str) -> bool:
    return bool(_MONTH.match(text))


def month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def month_at(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_months(month: str, count: int) -> list[str]:
    """The `count` months before `month`, the nearest first."""
    index = month_index(month)
    return [month_at(index - n) for n in range(1, count + 1)]


def days_of(month: str) -> list[str]:
    """'01' … '31' (every day a month can have; a missing page reads as empty)."""
    return [f"{d:02d}" for d in range(1, 32)]
