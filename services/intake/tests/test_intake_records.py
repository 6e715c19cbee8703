"""Tier 1: the record rules of issue 4.2 (times, amounts, mileage, dealer) and reason codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_intake.domain.records import Normalised, Refusal, normalise
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def zone_of(dealer_id: str):
    return SHANGHAI if dealer_id.startswith("dealer-") else None


def run(data) -> Normalised | Refusal:
    return normalise(json.dumps(data, ensure_ascii=False).encode(), "workorder", zone_of, NOW)


def codes(found) -> list[str]:
    assert isinstance(found, Refusal), found
    return sorted(r.code for r in found.reasons)


def test_naive_times_are_the_dealers_local_time(make_workorder):
    found = run(make_workorder(settled_at="2026-11-20T16:45"))
    assert isinstance(found, Normalised)
    assert found.happened_at == datetime(2026, 11, 20, 8, 45, tzinfo=UTC)


def test_settlement_before_opening_is_refused(make_workorder):
    found = run(make_workorder(opened_at="2026-11-20T17:00:00+08:00"))
    assert codes(found) == ["settled_at.before_opened"]
    assert found.reasons[0].field == "settled_at"


# make_workorder is a pure factory: sharing it across examples is safe.
pure_fixture = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pure_fixture
@given(minutes=st.integers(min_value=6, max_value=60 * 24 * 400))
def test_settlement_in_the_future_is_refused(make_workorder, minutes):
    workorder = make_workorder
    ahead = (NOW + timedelta(minutes=minutes)).isoformat()
    assert codes(run(workorder(settled_at=ahead, opened_at=ahead))) == ["settled_at.in_future"]


@pure_fixture
@given(amount=st.integers(max_value=-1), km=st.integers(max_value=-1))
def test_negative_amounts_and_mileage_are_refused_together(make_workorder, amount, km):
    workorder = make_workorder
    found = run(workorder(total_amount=float(amount), mileage_km=km))
    assert codes(found) == ["mileage_km.negative", "total_amount.negative"]


def test_a_negative_item_amount_names_the_item(make_workorder):
    order = make_workorder()
    order["items"].append({"code": "X", "name": "x", "amount": -1})
    found = run(order)
    assert [(r.code, r.field) for r in found.reasons] == [("amount.negative", "items.1.amount")]


def test_all_reasons_are_collected_at_once(make_workorder):
    found = run(make_workorder(vin="LSVAU218IN2183294", plate="B1", customer__phone="123"))
    assert codes(found) == ["phone.invalid", "plate.invalid", "vin.characters"]


def test_schema_violations_name_the_field(make_workorder):
    order = make_workorder(mileage_km="15230")
    del order["service_advisor"]
    found = run(order)
    assert {(r.code, r.field) for r in found.reasons} == {
        ("schema.int_type", "mileage_km"),
        ("schema.missing", "service_advisor"),
    }
    assert found.record_id == "WO-1"


def test_an_unknown_dealer_is_refused(make_workorder):
    assert codes(run(make_workorder(dealer_id="shop-x"))) == ["dealer.unknown"]


def test_content_hash_ignores_how_values_were_written(make_workorder):
    a = run(make_workorder())
    b = run(
        make_workorder(event_id="other", customer__phone="+86 138-0013-8000", plate="粤b 12345")
    )
    c = run(make_workorder(total_amount=1.0))
    assert a.content_hash == b.content_hash != c.content_hash


def test_a_wrong_vin_check_digit_is_accepted_with_a_warning(make_workorder):
    found = run(make_workorder(vin="LSVAU2181N2183294"))
    assert isinstance(found, Normalised)
    assert [w.code for w in found.warnings] == ["vin.check_digit"]


@pytest.mark.parametrize("body", [b"", b"{", b"null", b'"x"', b"\x80"])
def test_unreadable_bytes_are_refused(body):
    found = normalise(body, "workorder", zone_of, NOW)
    assert isinstance(found, Refusal)
    assert found.reasons[0].code in {"json.invalid", "json.not_object", "encoding.invalid"}
