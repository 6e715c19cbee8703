"""What a customer's SMS reply says (D4, D7, D14): an opt-out, or a survey's answers.

Pure: no broker, no database. A phone keyboard writes digits and separators in many ways: full-
width digits (９), Chinese commas and enumeration marks (，、), full stops, blanks. A reply is the
questionnaire's scored items in order, 0-10 each, then its yes/no items (是/否, Y/N, yes/no).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: D4: any of these alone (any case, full width, with blanks or a full stop) opts out at once.
OPT_OUT_WORDS = frozenset({"退订", "TD", "T", "STOP"})

_SEPARATORS = re.compile(r"[\s,，、;；.。/|:：]+")
_YES = frozenset({"是", "Y", "YES", "对", "是的"})
_NO = frozenset({"否", "N", "NO", "不是", "没有"})


def _plain(text: str) -> str:
    """Full-width forms to ASCII (NFKC), upper case, trimmed."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def is_opt_out(text: str) -> bool:
    """D4: the customer asks to hear nothing more (退订 / TD / T / STOP)."""
    return _SEPARATORS.sub("", _plain(text)) in OPT_OUT_WORDS


@dataclass(frozen=True)
class ParsedReply:
    scores: dict[str, int]
    yes_no: dict[str, bool]


def parse_answers(text: str, scored: Sequence[str], yes_no: Sequence[str]) -> ParsedReply | None:
    """The answers of a survey reply; None when it is not exactly the items, in order."""
    tokens = [t for t in _SEPARATORS.split(_plain(text)) if t]
    if len(tokens) != len(scored) + len(yes_no):
        return None
    scores: dict[str, int] = {}
    for item, token in zip(scored, tokens, strict=False):
        if not token.isdecimal() or not 0 <= int(token) <= 10:
            return None
        scores[item] = int(token)
    answers: dict[str, bool] = {}
    for item, token in zip(yes_no, tokens[len(scored) :], strict=True):
        if token in _YES:
            answers[item] = True
        elif token in _NO:
            answers[item] = False
        else:
            return None
    return ParsedReply(scores=scores, yes_no=answers)
