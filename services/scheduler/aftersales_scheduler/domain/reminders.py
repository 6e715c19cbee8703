"""Date-based reminders: maintenance (D9), care (D10), lapsed customers (D11), the monthly
due-maintenance list (D12). Pure date arithmetic; the planner turns dates into contacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def km_per_day(visits: Sequence[tuple[date, int]]) -> float | None:
    """The vehicle's average daily distance over its visits (None with too little history)."""
    ordered = sorted(visits)
    if len(ordered) < 2:
        return None
    (first_day, first_km), (last_day, last_km) = ordered[0], ordered[-1]
    days = (last_day - first_day).days
    if days <= 0 or last_km <= first_km:
        return None
    return (last_km - first_km) / days


def maintenance_due(
    due_date: date | None,
    due_mileage_km: int | None,
    visits: Sequence[tuple[date, int]],
) -> date | None:
    """D9: the next maintenance falls due at the date or the mileage, whichever comes first;
    the mileage is turned into a date with the vehicle's km per day."""
    candidates = [due_date] if due_date else []
    rate = km_per_day(visits)
    if due_mileage_km is not None and rate and visits:
        last_day, last_km = max(visits)
        remaining = max(due_mileage_km - last_km, 0)
        candidates.append(last_day + timedelta(days=int(remaining / rate)))
    return min(candidates) if candidates else None


def next_anniversary(birthday: date, on_or_after: date) -> date:
    """D10: the next birthday on or after a date (29 February → 28 February off leap years)."""
    for year in (on_or_after.year, on_or_after.year + 1):
        try:
            candidate = birthday.replace(year=year)
        except ValueError:
            candidate = date(year, 2, 28)
        if candidate >= on_or_after:
            return candidate
    raise AssertionError("unreachable: next year always qualifies")


def at_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local date and time of day as an aware instant (rules apply in the dealer's zone)."""
    return datetime.combine(day, at, tzinfo=zone)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
