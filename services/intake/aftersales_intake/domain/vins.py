"""VINs (ISO 3779): 17 characters, no I, O or Q, upper case; the check digit in position 9.

China's GB 16735 uses the same check digit as North America, so it is verified on every VIN;
a mismatch is only a warning (D5): older imports and some makers don't compute it, and a
vehicle file must not be refused for a digit the customer cannot change.
"""

from __future__ import annotations

import re

from aftersales_intake.domain.reasons import Reason, Refused
from aftersales_intake.domain.text import halfwidth

_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_ALLOWED = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def check_digit(vin: str) -> str:
    """The check digit a well-formed VIN should carry in position 9."""
    total = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return "X" if total == 10 else str(total)


def normalise_vin(raw: str | None, field: str = "vin") -> tuple[str, list[Reason]]:
    """The upper-case VIN and its warnings; raises Refused for a wrong length or letters."""
    text = re.sub(r"[\s\-]", "", halfwidth(raw or "")).upper()
    if not text:
        raise Refused(Reason("vin.missing", field, "a VIN is required"))
    if len(text) != 17:
        raise Refused(
            Reason("vin.length", field, f"a VIN has 17 characters, this one has {len(text)}")
        )
    if not _ALLOWED.match(text):
        raise Refused(
            Reason(
                "vin.characters",
                field,
                "a VIN holds only digits and letters other than I, O and Q",
            )
        )
    warnings: list[Reason] = []
    expected = check_digit(text)
    if text[8] != expected:
        warnings.append(
            Reason(
                "vin.check_digit",
                field,
                f"check digit (9th character) is {text[8]}, the VIN computes to {expected}",
            )
        )
    return text, warnings
