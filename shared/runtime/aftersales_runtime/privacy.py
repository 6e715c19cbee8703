"""Personal data shown to people (D3): the one masking every service uses.

A phone is shown as 138****8000: the first three and last four digits of its national form
(mobiles without +86, landlines with their leading 0), never the digits in between. Log lines
have their own second line of defence (`logs.redact`).
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"1[3-9]\d{9}")


def national_form(e164: str) -> str:
    """+8613800138000 → 13800138000; +867558888666 → 07558888666 (landlines keep their 0)."""
    if e164.startswith("+86"):
        rest = e164[3:]
        return rest if _MOBILE.fullmatch(rest) else "0" + rest
    return e164.lstrip("+")


def mask_phone(phone: str) -> str:
    """D3: 138****8000. Seven digits or fewer are hidden entirely."""
    national = national_form(phone)
    if len(national) <= 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


def mask_id_number(value: str | None) -> str | None:
    """D3: an ID number keeps its first four and last two characters."""
    if not value:
        return value
    return f"{value[:4]}{'*' * max(len(value) - 6, 4)}{value[-2:]}"
