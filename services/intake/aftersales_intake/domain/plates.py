"""Chinese plates to one canonical form: province, issuing letter, serial; no dot, no blanks.

Ordinary plates have 7 characters (粤B12345), new-energy plates 8 (粤BD12345 small cars: D/F + a
letter or digit + 4 digits; 粤B12345D large vehicles: 5 digits + D/F). DMSs write them with a
middle dot (粤B·12345), blanks, lower case or full-width letters; all those become one form, so
the plate lookup of a vehicle file finds it however it was typed.
"""

from __future__ import annotations

import re

from aftersales_intake.domain.reasons import Reason, Refused
from aftersales_intake.domain.text import halfwidth

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_NOISE = re.compile(r"[\s·•・.．\-_]")
_LETTER = "A-HJ-NP-Z"  # plates use neither I nor O
_ORDINARY = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳]$")
_NEW_ENERGY = re.compile(
    rf"^[{PROVINCES}][{_LETTER}](?:[DF][{_LETTER}0-9][0-9]{{4}}|[0-9]{{5}}[DF])$"
)


def normalise_plate(raw: str | None, field: str = "plate") -> str | None:
    """The canonical plate, None when none was written; raises Refused(plate.invalid)."""
    text = _NOISE.sub("", halfwidth(raw or "")).upper()
    if not text:
        return None
    if _ORDINARY.match(text) or _NEW_ENERGY.match(text):
        return text
    raise Refused(
        Reason(
            "plate.invalid",
            field,
            "not a Chinese plate: province + letter + 5 characters (粤B12345) or, new energy, "
            "6 characters (粤BD12345)",
        )
    )


def is_new_energy(plate: str) -> bool:
    return len(plate) == 8
