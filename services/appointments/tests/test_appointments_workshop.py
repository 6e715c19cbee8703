"""The workshop's capacity as configuration, and which slots are 'nearest' (D31). Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from aftersales_appointments.domain.workshop import Workshop
from pydantic import ValidationError

from .conftest import WORKSHOP

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_slots_must_be_ordered_named_by_their_start_and_not_overlap() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        Workshop.model_validate(
            {
                "slots": [
                    {"id": "0900", "start": "09:00", "end": "11:00", "bays": 1},
                    {"id": "1030", "start": "10:30", "end": "12:00", "bays": 1},
                ]
            }
        )
    with pytest.raises(ValidationError, match="hhmm"):
        Workshop.model_validate(
            {"slots": [{"id": "0800", "start": "09:00", "end": "10:00", "bays": 1}]}
        )
    with pytest.raises(ValidationError, match="ends before"):
        Workshop.model_validate(
            {"slots": [{"id": "0900", "start": "09:00", "end": "08:00", "bays": 1}]}
        )


def test_a_dealer_override_replaces_the_default_fields_it_names() -> None:
    default = Workshop()
    mine = default.overridden({"closed_weekdays": [6]})
    assert mine.slots == default.slots
    assert mine.closed_weekdays == [6]
    assert default.overridden({}) is default


def test_nearest_slots_come_nearest_in_time_first_skipping_closed_days_and_the_past() -> None:
    workshop = Workshop.model_validate(WORKSHOP)
    now = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # Friday 09:00 local: its 0900 slot began
    wanted = workshop.slot("1030")
    assert wanted is not None
    pairs = [
        (d.isoformat(), s.id)
        for d, s in workshop.nearest(date(2026, 11, 27), wanted, SHANGHAI, now)
    ]
    # Friday 13:30 is 3 h away; Thursday is past; Saturday 09:00 is 22.5 h away, 10:30 24 h.
    assert pairs[:3] == [("2026-11-27", "1330"), ("2026-11-28", "0900"), ("2026-11-28", "1030")]
    assert ("2026-11-27", "0900") not in pairs  # already begun
    assert all(date.fromisoformat(d).weekday() != 6 for d, _ in pairs)  # Sunday closed
    assert all(date.fromisoformat(d) >= date(2026, 11, 27) for d, _ in pairs)  # never the past
    starts = [
        datetime.combine(date.fromisoformat(d), workshop.slot(s).start, SHANGHAI) for d, s in pairs
    ]  # type: ignore[union-attr]
    wanted_start = datetime(2026, 11, 27, 10, 30, tzinfo=SHANGHAI)
    distances = [abs(s - wanted_start) for s in starts]
    assert distances == sorted(distances)
