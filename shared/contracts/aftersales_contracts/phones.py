"""Phone numbers to E.164, the form every internal event carries (``Phone``).

One normalisation for the whole system: intake applies it to the DMS's phones, contact to the
phones an agent types during the data check (D30). Chinese numbers come as mobiles (1[3-9] + 9
digits) or landlines (0 + area code + local number), with or without +86 / 0086 / 86, with
blanks, dashes, dots, brackets or full-width digits. A number with another country code is kept
as long as it is a plausible E.164 number.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-.()（）/]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Two-digit area codes are 10 and 2x with 8-digit local numbers; the others have three digits
# and 7- or 8-digit local numbers. Local numbers never start with 0 or 1.
_LANDLINE_NATIONAL = re.compile(r"^(?:(?:10|2\d)[2-9]\d{7}|[3-9]\d{2}[2-9]\d{6,7})$", re.ASCII)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$", re.ASCII)
_DIGITS = re.compile(r"^[0-9]+$")


def phone_text(raw: str | None) -> str:
    """The number as typed, without separators, full-width forms made ASCII (NFKC)."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "").strip())


def _china(national: str) -> str | None:
    """A Chinese number without country code (trunk 0 optional) → E.164, or None."""
    if _MOBILE.match(national):
        return "+86" + national
    trunkless = national[1:] if national.startswith("0") else national
    if _LANDLINE_NATIONAL.match(trunkless) and (national.startswith("0") or len(national) >= 10):
        return "+86" + trunkless
    return None


def to_e164(raw: str | None) -> str | None:
    """The E.164 form of ``raw``; None when it is empty or not a valid number."""
    text = phone_text(raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        if not _DIGITS.match(text[1:]):
            return None
        if text.startswith("+86"):
            return _china(text[3:])
        return text if _E164.match(text) else None
    if not _DIGITS.match(text):
        return None
    found = _china(text)
    if found is None and text.startswith("86") and len(text) == 13:
        found = _china(text[2:])
    return found
