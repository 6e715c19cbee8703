"""The one phone normalisation (E.164), shared by intake and contact's data check (D30)."""

import pytest
from aftersales_contracts.phones import to_e164


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086-139-1234-5678", "+8613912345678"),
        ("１３９１２３４５６７８", "+8613912345678"),
        ("0755-8888 6666", "+8675588886666"),
        ("(010) 6552 9988", "+861065529988"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_local_forms_become_e164(raw, e164):
    assert to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["", None, "12345", "138-0013-800", "phone", "+86 99"])
def test_what_is_not_a_number_is_none(raw):
    assert to_e164(raw) is None
