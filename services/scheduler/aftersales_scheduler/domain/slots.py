"""Timer identities and UTC day boundaries (the dispatcher walks the time line day by day;
the slots inside a day are `filing`'s)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_end(day: date) -> datetime:
    return day_start(day) + timedelta(days=1)


def timer_id(dealer_id: str, source_id: str, step: str) -> str:
    """Deterministic timer id: a redelivered or corrected input finds the same timer."""
    return f"{dealer_id}/{source_id}/{step}"
