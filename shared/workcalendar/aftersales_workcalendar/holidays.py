"""Public-holiday data (法定节假日 and 调休 make-up working days), loaded from JSON.

The dates change every year by State Council notice, so they live in data, not code: the
packaged ``data/cn_holidays.json`` can be overridden per year by a file given as an argument or
through the ``AFTERSALES_WORKCALENDAR_HOLIDAYS_FILE`` environment variable, without a release.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import HolidayDataError

HOLIDAYS_FILE_ENV = "AFTERSALES_WORKCALENDAR_HOLIDAYS_FILE"
"""Environment variable naming an override JSON file (same format as the packaged one)."""

_PACKAGED_FILE = "cn_holidays.json"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    date: date
    name: str = Field(min_length=1)


class _Year(BaseModel):
    """One year of one region; keys starting with ``_`` (``_note``, ``_source``) are comments."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    holidays: tuple[_Entry, ...] = ()
    makeup_workdays: tuple[_Entry, ...] = ()
    provisional: bool = False

    @model_validator(mode="before")
    @classmethod
    def _drop_comments(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if not str(k).startswith("_")}
        return data


@dataclass(frozen=True)
class HolidaySet:
    """The holidays and make-up working days of one region, by local date."""

    region: str
    holidays: Mapping[date, str] = field(default_factory=lambda: MappingProxyType({}))
    makeup_workdays: Mapping[date, str] = field(default_factory=lambda: MappingProxyType({}))
    years: frozenset[int] = frozenset()
    provisional_years: frozenset[int] = frozenset()

    @classmethod
    def empty(cls, region: str = "") -> HolidaySet:
        """No holidays at all (for dealers or windows that ignore public holidays)."""
        return cls(region=region)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def is_makeup_workday(self, day: date) -> bool:
        return day in self.makeup_workdays

    def covers(self, year: int) -> bool:
        """True if the data has a (possibly provisional) entry for ``year``."""
        return year in self.years


def _parse_document(raw: Any, source: str) -> dict[str, dict[int, _Year]]:
    if not isinstance(raw, Mapping):
        raise HolidayDataError(f"{source}: top level must be an object of regions")
    regions: dict[str, dict[int, _Year]] = {}
    for region, years in raw.items():
        if str(region).startswith("_"):
            continue
        if not isinstance(years, Mapping):
            raise HolidayDataError(f"{source}: region {region!r} must be an object of years")
        parsed: dict[int, _Year] = {}
        for year_key, body in years.items():
            if str(year_key).startswith("_"):
                continue
            if not (isinstance(year_key, str) and year_key.isdigit() and len(year_key) == 4):
                raise HolidayDataError(f"{source}: {region}: year key {year_key!r} is not YYYY")
            year = int(year_key)
            try:
                entry = _Year.model_validate(body)
            except ValidationError as exc:
                raise HolidayDataError(f"{source}: {region} {year}: {exc}") from exc
            _check_year(entry, region, year, source)
            parsed[year] = entry
        regions[str(region)] = parsed
    return regions


def _check_year(entry: _Year, region: str, year: int, source: str) -> None:
    for kind, entries in (("holidays", entry.holidays), ("makeup_workdays", entry.makeup_workdays)):
        for e in entries:
            if e.date.year != year:
                raise HolidayDataError(
                    f"{source}: {region} {year}: {kind} date {e.date} is not in {year}"
                )
    both = {e.date for e in entry.holidays} & {e.date for e in entry.makeup_workdays}
    if both:
        days = ", ".join(sorted(d.isoformat() for d in both))
        raise HolidayDataError(
            f"{source}: {region} {year}: dates both holiday and make-up workday: {days}"
        )


def _read_file(path: Path) -> dict[str, dict[int, _Year]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HolidayDataError(f"cannot read holiday file {path}: {exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HolidayDataError(f"{path}: invalid JSON: {exc}") from exc
    return _parse_document(raw, str(path))


def _read_packaged() -> dict[str, dict[int, _Year]]:
    text = (
        resources.files("aftersales_workcalendar")
        .joinpath("data", _PACKAGED_FILE)
        .read_text("utf-8")
    )
    return _parse_document(json.loads(text), f"packaged {_PACKAGED_FILE}")


def load_holidays(
    region: str = "CN",
    path: str | os.PathLike[str] | None = None,
    *,
    use_env: bool = True,
    include_packaged: bool = True,
) -> HolidaySet:
    """Load the holiday set of ``region``.

    Sources, later ones replacing earlier ones **per whole year**:
    the packaged data (unless ``include_packaged`` is false), then ``path`` if given, else the
    file named by ``AFTERSALES_WORKCALENDAR_HOLIDAYS_FILE`` (if ``use_env`` and set). So ops can
    ship only a corrected ``2027`` and keep the packaged ``2026``.
    """
    years: dict[int, _Year] = {}
    if include_packaged:
        years.update(_read_packaged().get(region, {}))
    override: str | os.PathLike[str] | None = path
    if override is None and use_env:
        override = os.environ.get(HOLIDAYS_FILE_ENV) or None
    if override is not None:
        years.update(_read_file(Path(override)).get(region, {}))
    return _build(region, years.items())


def _build(region: str, years: Iterable[tuple[int, _Year]]) -> HolidaySet:
    holidays: dict[date, str] = {}
    makeup: dict[date, str] = {}
    seen: set[int] = set()
    provisional: set[int] = set()
    for year, entry in years:
        seen.add(year)
        if entry.provisional:
            provisional.add(year)
        holidays.update((e.date, e.name) for e in entry.holidays)
        makeup.update((e.date, e.name) for e in entry.makeup_workdays)
    return HolidaySet(
        region=region,
        holidays=MappingProxyType(holidays),
        makeup_workdays=MappingProxyType(makeup),
        years=frozenset(seen),
        provisional_years=frozenset(provisional),
    )
