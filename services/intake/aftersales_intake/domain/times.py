"""DMS times: a time without offset is the dealer's local time; everything is stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def to_utc(value: datetime, zone: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)
