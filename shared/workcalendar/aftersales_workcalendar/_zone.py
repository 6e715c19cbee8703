"""Wall-clock ↔ instant conversion, the only place that deals with DST edges.

China has no DST, but dealers' zones are configurable, so opening and closing times are
converted with explicit rules instead of relying on whatever ``fold`` happens to be.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import NaiveDatetimeError


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC, refusing naive datetimes with a clear message."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} must be timezone-aware, got naive {value.isoformat()}; "
            "attach a tzinfo (e.g. datetime.UTC or the dealer's ZoneInfo)"
        )
    return value.astimezone(UTC)


def wall_to_utc(wall: datetime, tz: ZoneInfo, *, closing: bool) -> datetime:
    """Convert a naive local wall-clock time to a UTC instant.

    * ordinary time: the one instant showing that wall time;
    * repeated time (clocks set back): the first occurrence for an opening and the second for
      a closing, so an open range never loses time the wall clock shows;
    * skipped time (clocks set forward): the transition instant, i.e. the earliest instant whose
      wall clock reads at least ``wall``.
    """
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:
        return second if closing else first
    # Gap: ``second`` lies before the transition, ``first`` after it. Bisect on whole seconds.
    after_offset = wall.replace(tzinfo=tz, fold=1).utcoffset()
    lo, hi = second, first
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
        if mid.astimezone(tz).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid
    return hi
