"""Timer identities and the UTC days timers are filed under (see `store`: one collection per
day, because on FerretDB-SQLite every read scans its whole collection)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_end(day: date) -> datetime:
    return day_start(day) + timedelta(days=1)


def timer_id(dealer_id: str, source_id: str, step: str) -> str:
    """Deterministic timer id: a redelivered or corrected input finds the same timer."""
    return f"{dealer_id}/{source_id}/{step}"
