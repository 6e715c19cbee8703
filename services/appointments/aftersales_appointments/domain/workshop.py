"""A dealer's workshop capacity (D31): time slots of a day and the bays that take a car in each.

Configuration, per dealer (dealer directory `settings.appointments.workshop`) over the service's
default. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Slot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[0-2]\d[0-5]\d$", examples=["0900"])  # its start, hhmm
    start: time
    end: time
    bays: int = Field(ge=0, le=200)  # cars the workshop takes in during this slot

    @model_validator(mode="after")
    def _consistent(self) -> Slot:
        if self.end <= self.start:
            raise ValueError(f"slot {self.id} ends before it starts")
        if self.id != self.start.strftime("%H%M"):
            raise ValueError(f"slot id {self.id} must be its start time as hhmm")
        return self


def _default_slots() -> list[Slot]:
    hours = [(time(9), time(10, 30)), (time(10, 30), time(12)), (time(13, 30), time(15))]
    hours += [(time(15), time(16, 30))]
    return [Slot(id=s.strftime("%H%M"), start=s, end=e, bays=4) for s, e in hours]


class Workshop(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slots: list[Slot] = Field(default_factory=_default_slots, min_length=1)
    closed_weekdays: list[int] = Field(default_factory=list)  # 0 = Monday … 6 = Sunday
    horizon_days: int = Field(60, ge=1, le=365)  # how far ahead a booking may be made
    alternatives: int = Field(3, ge=1, le=10)  # nearest free slots offered when one is full
    search_days: int = Field(7, ge=1, le=30)  # how far from the wanted day to look for them

    @model_validator(mode="after")
    def _ordered(self) -> Workshop:
        for before, after in zip(self.slots, self.slots[1:], strict=False):
            if after.start < before.end:
                raise ValueError(f"slots {before.id} and {after.id} overlap or are not in order")
        return self

    def overridden(self, overrides: dict[str, object]) -> Workshop:
        return Workshop.model_validate({**self.model_dump(), **overrides}) if overrides else self

    def slot(self, slot_id: str) -> Slot | None:
        return next((s for s in self.slots if s.id == slot_id), None)

    def is_open(self, day: date) -> bool:
        return day.weekday() not in self.closed_weekdays

    def starts_at(self, day: date, slot: Slot, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, slot.start, zone)

    def ends_at(self, day: date, slot: Slot, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, slot.end, zone)

    def nearest(
        self, day: date, slot: Slot, zone: ZoneInfo, now: datetime
    ) -> Iterator[tuple[date, Slot]]:
        """Bookable (day, slot) pairs around the wanted one, nearest in time first."""
        wanted = self.starts_at(day, slot, zone)
        last = (now.astimezone(zone) + timedelta(days=self.horizon_days)).date()
        pairs = [
            (d, s)
            for offset in range(-self.search_days, self.search_days + 1)
            if self.is_open(d := day + timedelta(days=offset)) and d <= last
            for s in self.slots
            if s.bays > 0 and self.starts_at(d, s, zone) > now and (d, s) != (day, slot)
        ]
        pairs.sort(key=lambda p: (abs(self.starts_at(p[0], p[1], zone) - wanted), p[0]))
        return iter(pairs)
