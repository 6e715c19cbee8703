"""Tier 1: the normalisers of issue 4.2, with hypothesis over the ways DMSs write values."""

from __future__ import annotations

import pytest
from aftersales_intake.domain.labels import map_work_order_type
from aftersales_intake.domain.phones import normalise_phone
from aftersales_intake.domain.plates import PROVINCES, normalise_plate
from aftersales_intake.domain.reasons import Refused
from aftersales_intake.domain.vins import check_digit, normalise_vin
from hypothesis import given
from hypothesis import strategies as st

FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
landlines = st.one_of(
    st.builds(lambda a, n: (f"0{a}", n), st.sampled_from(["10", "20", "21", "28"]),
              st.from_regex(r"\A[2-9][0-9]{7}\Z")),
    st.builds(lambda a, n: (f"0{a}", n), st.sampled_from(["755", "571", "931"]),
              st.from_regex(r"\A[2-9][0-9]{6,7}\Z")),
)  # fmt: skip


def _spread(digits: str, seps: list[str]) -> str:
    return "".join(d + (seps[i % len(seps)] if seps else "") for i, d in enumerate(digits))


@given(
    mobiles,
    st.sampled_from(["", "+86", "0086", "86", "+86 ", "0086-"]),
    st.lists(st.sampled_from(["", " ", "-"]), max_size=4),
    st.booleans(),
)
def test_every_way_of_writing_a_mobile_gives_one_e164(mobile, prefix, seps, fullwidth):
    written = prefix + _spread(mobile, seps)
    if fullwidth:
        written = "".join(FULLWIDTH.get(c, c) for c in written)
    assert normalise_phone(written) == "+86" + mobile


@given(landlines, st.sampled_from(["-", " ", ""]), st.booleans())
def test_landlines_with_or_without_country_code(parts, sep, international):
    area, local = parts
    written = f"+86 {area[1:]}{sep}{local}" if international else f"{area}{sep}{local}"
    assert normalise_phone(written) == "+86" + area[1:] + local


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "12345", "abc13800138000", "1380013800", "+86 123", "0755-1234", "138001380001"],
)
def test_invalid_phones_are_refused_with_a_code(bad):
    with pytest.raises(Refused) as caught:
        normalise_phone(bad)
    assert caught.value.reason.code in {"phone.invalid", "phone.missing"}
    assert caught.value.reason.field == "customer.phone"


PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
ordinary = st.builds(
    lambda p, c, s: p + c + s,
    st.sampled_from(PROVINCES),
    st.sampled_from(PLATE_LETTERS),
    st.text(PLATE_LETTERS + "0123456789", min_size=5, max_size=5),
)
new_energy = st.builds(
    lambda p, c, e, x, s: p + c + e + x + s,
    st.sampled_from(PROVINCES),
    st.sampled_from(PLATE_LETTERS),
    st.sampled_from("DF"),
    st.sampled_from(PLATE_LETTERS + "0123456789"),
    st.text("0123456789", min_size=4, max_size=4),
)


def _fullwidth_letters(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@given(
    st.one_of(ordinary, new_energy),
    st.sampled_from(["", "·", " ", "•", "-"]),
    st.booleans(),
    st.booleans(),
)
def test_every_way_of_writing_a_plate_gives_one_canonical_form(plate, dot, lower, fullwidth):
    written = plate[:2] + dot + plate[2:]
    if lower:
        written = written.lower()
    if fullwidth:
        written = _fullwidth_letters(written)
    assert normalise_plate(written) == plate
    assert len(normalise_plate(written)) in (7, 8)


@pytest.mark.parametrize("bad", ["B12345", "粤B1234", "粤B1234567", "粤I12345", "XXB12345"])
def test_invalid_plates_are_refused(bad):
    with pytest.raises(Refused) as caught:
        normalise_plate(bad)
    assert caught.value.reason.code == "plate.invalid"


VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
vins_without_check = st.text(VIN_CHARS, min_size=17, max_size=17)


@given(vins_without_check, st.booleans())
def test_a_vin_with_its_check_digit_is_accepted_in_any_case(raw, lower):
    vin = raw[:8] + check_digit(raw) + raw[9:]
    normalised, warnings = normalise_vin(vin.lower() if lower else vin)
    assert normalised == vin
    assert warnings == []


@given(vins_without_check)
def test_a_wrong_check_digit_is_a_warning_not_a_refusal(raw):
    wrong = next(c for c in "0123456789X" if c != check_digit(raw))
    vin = raw[:8] + wrong + raw[9:]
    normalised, warnings = normalise_vin(vin)
    assert normalised == vin
    assert [w.code for w in warnings] == ["vin.check_digit"]


@given(vins_without_check, st.sampled_from("IOQ"), st.integers(0, 16))
def test_i_o_q_are_refused(raw, letter, at):
    with pytest.raises(Refused) as caught:
        normalise_vin(raw[:at] + letter + raw[at + 1 :])
    assert caught.value.reason.code == "vin.characters"


@given(st.text(VIN_CHARS, min_size=1, max_size=30).filter(lambda t: len(t) != 17))
def test_a_vin_of_another_length_is_refused(raw):
    with pytest.raises(Refused) as caught:
        normalise_vin(raw)
    assert caught.value.reason.code == "vin.length"


def test_the_contract_examples_carry_valid_check_digits():
    for vin in ("LSVAU218XN2183294", "LFV2A21K8P4012345", "LSGKE54H1PW098765"):
        assert normalise_vin(vin)[1] == []


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("保养", "maintenance"),
        ("定期保养", "maintenance"),
        ("钣喷", "accident"),
        ("三包", "warranty"),
        ("首保", "first_maintenance"),
        (" Recall ", "recall"),
        ("First Maintenance", "first_maintenance"),
        ("召回", "recall"),
    ],
)
def test_work_order_type_labels_map_onto_the_contract(label, value):
    assert map_work_order_type(label) == value


def test_an_unknown_label_is_left_for_the_contract_to_refuse():
    assert map_work_order_type("洗车") == "洗车"
