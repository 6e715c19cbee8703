"""Small arithmetic shared by the reports: every rate shows its numerator and denominator."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]

UNREACHED_OUTCOMES = ("no_answer", "busy", "call_back_later", "wrong_number")
DECLINED_OUTCOMES = ("refused", "opted_out")


def at(doc: Doc | None, path: str, default: Any = 0) -> Any:
    """`doc["a"]["b"]` for path "a.b"; `default` when any part is missing."""
    value: Any = doc or {}
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def rate(numerator: int, denominator: int, digits: int = 4) -> Doc:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, digits) if denominator else None,
    }


def histogram(hist: Doc | None) -> dict[int, int]:
    """{score: answers} from a stored `{s0: n, …, s10: n}`."""
    return {int(k[1:]): int(v) for k, v in (hist or {}).items() if k.startswith("s")}


def count_from(hist: dict[int, int], low: int, high: int = 10) -> int:
    return sum(n for score, n in hist.items() if low <= score <= high)


def mean_of(hist: dict[int, int]) -> float | None:
    total = sum(hist.values())
    return round(sum(s * n for s, n in hist.items()) / total, 2) if total else None


def counts(doc: Doc | None) -> dict[str, int]:
    return {k: int(v) for k, v in (doc or {}).items() if isinstance(v, int)}
