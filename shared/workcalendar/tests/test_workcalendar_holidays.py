"""Holiday data: the packaged 2026 notice, provisional 2027, and ops overrides."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from aftersales_workcalendar import HOLIDAYS_FILE_ENV, HolidayDataError, load_holidays


def _days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=i) for i in range((end - start).days + 1)}


def test_2026_matches_state_council_notice():
    h = load_holidays("CN", use_env=False)
    expected = (
        _days(date(2026, 1, 1), date(2026, 1, 3))
        | _days(date(2026, 2, 15), date(2026, 2, 23))
        | _days(date(2026, 4, 4), date(2026, 4, 6))
        | _days(date(2026, 5, 1), date(2026, 5, 5))
        | _days(date(2026, 6, 19), date(2026, 6, 21))
        | _days(date(2026, 9, 25), date(2026, 9, 27))
        | _days(date(2026, 10, 1), date(2026, 10, 7))
    )
    assert {d for d in h.holidays if d.year == 2026} == expected
    makeup = {d for d in h.makeup_workdays if d.year == 2026}
    assert makeup == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert all(d.weekday() >= 5 for d in makeup)  # 调休 days are weekend days
    assert h.holidays[date(2026, 10, 1)] == "国庆节"
    assert 2026 not in h.provisional_years


def test_2027_is_provisional_with_fixed_date_holidays_only():
    h = load_holidays("CN", use_env=False)
    assert h.covers(2027)
    assert 2027 in h.provisional_years
    assert date(2027, 1, 1) in h.holidays
    assert date(2027, 10, 3) in h.holidays


def _write(tmp_path: Path, doc: object, name: str = "h.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


OVERRIDE_2027 = {
    "CN": {
        "2027": {
            "holidays": [{"date": "2027-02-06", "name": "春节"}],
            "makeup_workdays": [{"date": "2027-02-20", "name": "春节调休"}],
        }
    }
}


def test_override_file_replaces_whole_years_only(tmp_path: Path):
    h = load_holidays("CN", _write(tmp_path, OVERRIDE_2027), use_env=False)
    assert date(2027, 2, 6) in h.holidays
    assert date(2027, 1, 1) not in h.holidays  # packaged 2027 replaced as a whole
    assert 2027 not in h.provisional_years
    assert date(2026, 10, 1) in h.holidays  # packaged 2026 kept
    assert h.is_makeup_workday(date(2027, 2, 20))


def test_override_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(HOLIDAYS_FILE_ENV, str(_write(tmp_path, OVERRIDE_2027)))
    assert date(2027, 2, 6) in load_holidays("CN").holidays
    assert date(2027, 2, 6) not in load_holidays("CN", use_env=False).holidays


def test_override_without_packaged_data(tmp_path: Path):
    h = load_holidays("CN", _write(tmp_path, OVERRIDE_2027), include_packaged=False)
    assert h.years == frozenset({2027})


def test_other_region_is_empty_unless_overridden(tmp_path: Path):
    assert not load_holidays("DE", use_env=False).holidays
    doc = {"DE": {"2026": {"holidays": [{"date": "2026-10-03", "name": "Einheit"}]}}}
    assert date(2026, 10, 3) in load_holidays("DE", _write(tmp_path, doc)).holidays


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"CN": {"2026": {"holidays": [{"date": "2027-01-01", "name": "x"}]}}}, "not in 2026"),
        ({"CN": {"26": {}}}, "not YYYY"),
        ({"CN": {"2026": {"holidays": [{"date": "2026-13-01", "name": "x"}]}}}, "date"),
        ({"CN": {"2026": {"holidayz": []}}}, "holidayz"),
        (
            {
                "CN": {
                    "2026": {
                        "holidays": [{"date": "2026-01-01", "name": "a"}],
                        "makeup_workdays": [{"date": "2026-01-01", "name": "b"}],
                    }
                }
            },
            "both holiday and make-up",
        ),
        ([], "top level"),
    ],
)
def test_invalid_data_is_rejected_clearly(tmp_path: Path, doc: object, message: str):
    with pytest.raises(HolidayDataError, match=message):
        load_holidays("CN", _write(tmp_path, doc), use_env=False)


def test_missing_or_broken_override_file(tmp_path: Path):
    with pytest.raises(HolidayDataError, match="cannot read"):
        load_holidays("CN", tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(HolidayDataError, match="invalid JSON"):
        load_holidays("CN", broken)
