"""Phone numbers to E.164 (the internal `Customer.phone` requires it) and masking (D3).

Chinese numbers come as mobiles (1[3-9] + 9 digits) or landlines (0 + area code + local number),
with or without +86 / 0086 / 86, with blanks, dashes, dots, brackets or full-width digits.
A number with another country code is kept as long as it is a plausible E.164 number.
"""

from __future__ import annotations

import re

from aftersales_intake.domain.reasons import Reason, Refused
from aftersales_intake.domain.text import halfwidth

_SEPARATORS = re.compile(r"[\s\-.()（）/]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Two-digit area codes are 10 and 2x with 8-digit local numbers; the others have three digits
# and 7- or 8-digit local numbers. Local numbers never start with 0 or 1.
_LANDLINE_NATIONAL = re.compile(r"^(?:(?:10|2\d)[2-9]\d{7}|[3-9]\d{2}[2-9]\d{6,7})$", re.ASCII)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$", re.ASCII)
_DIGITS = re.compile(r"^[0-9]+$")


def _refuse(field: str, text: str) -> Refused:
    if not text:
        return Refused(Reason("phone.missing", field, "a phone number is required"))
    return Refused(
        Reason(
            "phone.invalid",
            field,
            "not a valid mobile or landline number (e.g. 13800138000, 0755-88886666, +86 …)",
        )
    )


def _china(national: str) -> str | None:
    """A Chinese number without country code (trunk 0 optional) → E.164, or None."""
    if _MOBILE.match(national):
        return "+86" + national
    trunkless = national[1:] if national.startswith("0") else national
    if _LANDLINE_NATIONAL.match(trunkless) and (national.startswith("0") or len(national) >= 10):
        return "+86" + trunkless
    return None


def normalise_phone(raw: str | None, field: str = "customer.phone") -> str:
    """The E.164 form of ``raw``; raises Refused with code phone.missing / phone.invalid."""
    text = _SEPARATORS.sub("", halfwidth(raw or "").strip())
    if not text:
        raise _refuse(field, "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        if not _DIGITS.match(text[1:]):
            raise _refuse(field, text)
        if text.startswith("+86"):
            found = _china(text[3:])
            if found:
                return found
            raise _refuse(field, text)
        if _E164.match(text):
            return text
        raise _refuse(field, text)
    if not _DIGITS.match(text):
        raise _refuse(field, text)
    found = _china(text)
    if found is None and text.startswith("86") and len(text) == 13:
        found = _china(text[2:])
    if found is None:
        raise _refuse(field, text)
    return found
