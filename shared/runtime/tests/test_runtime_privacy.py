"""The one phone masking of the whole system (D3): every service shows 138****8000."""

from __future__ import annotations

import pytest
from aftersales_runtime.privacy import mask_id_number, mask_phone
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+8613800138000", "138****8000"),  # a mobile: national form, no +86
        ("+867558888666", "075****8666"),  # a landline keeps its leading 0
        ("+85291234567", "852****4567"),  # outside the mainland: digits without the +
        ("+861234", "*****"),  # too short to show anything
    ],
)
def test_a_phone_is_masked_the_same_way_everywhere(phone, shown):
    assert mask_phone(phone) == shown


@given(st.from_regex(r"\+861[3-9]\d{9}", fullmatch=True))
def test_a_masked_mobile_never_shows_its_middle_digits(phone):
    national = phone.removeprefix("+86")
    masked = mask_phone(phone)
    assert masked == f"{national[:3]}****{national[-4:]}"
    assert sum(c.isdigit() for c in masked) == 7  # four of the eleven digits hidden


def test_an_id_number_keeps_four_and_two():
    assert mask_id_number("440301198503140011") == "4403************11"
    assert mask_id_number(None) is None
