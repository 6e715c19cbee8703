"""Value types shared by the DMS contract and the internal events.

Each type says once how a value is validated, how it is written to JSON and what the JSON
Schema promises, so that the model and the checked-in schema cannot disagree.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema


def _number_only(value: Any) -> Any:
    """Refuse strings and booleans where the contract promises a JSON number.

    pydantic would happily parse "580.00" into a Decimal; the contract says amounts are numbers,
    so a DMS that quotes them is told so instead of being silently accepted on one path only.
    """
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON number, not a string or boolean")
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_number_only),
    # Decimal in Python (no binary rounding in sums), a plain number in JSON.
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "description": "Amount in CNY (yuan), e.g. 580.00"}),
]
"""Money in CNY. Sign is not checked here: intake refuses negative amounts with a reason (D5)."""

LaborHours = Annotated[
    Decimal,
    BeforeValidator(_number_only),
    Field(ge=0),
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0}),
]

MileageKm = Annotated[int, Field(strict=True), WithJsonSchema({"type": "integer"})]
"""Odometer reading in whole kilometres; a JSON integer, never a quoted string."""

LOCAL_OR_OFFSET_DATETIME_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_LOCAL_OR_OFFSET_DATETIME = re.compile(LOCAL_OR_OFFSET_DATETIME_PATTERN)


def _iso_datetime_text(value: Any) -> Any:
    """Accept ISO 8601 text (with or without offset) or a datetime object, nothing else.

    Numbers (epoch seconds or milliseconds?) and bare dates are ambiguous for a settlement
    time, which starts every follow-up deadline (D6), so they are refused.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _LOCAL_OR_OFFSET_DATETIME.match(value.strip()):
        return value.strip()
    raise ValueError(
        "must be an ISO 8601 date and time such as '2026-11-20T16:45:00+08:00' or "
        "'2026-11-20 10:30:00' (no offset = the dealer's local time)"
    )


DmsDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_datetime_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_OR_OFFSET_DATETIME_PATTERN,
            "description": (
                "ISO 8601 date and time. With an offset (+08:00 or Z) it is an instant; "
                "without one it is the dealer's local time (zone from the dealer's "
                "configuration, default Asia/Shanghai)."
            ),
        }
    ),
]
"""A DMS timestamp: naive values are kept naive; intake localises them in the dealer's zone."""

E164_PATTERN = r"^\+[1-9]\d{6,14}$"
Phone = Annotated[str, Field(pattern=E164_PATTERN, examples=["+8613800138000"])]
"""A normalised phone number in E.164 form (internal events only; intake normalises)."""

#: A calendar month `YYYY-MM` (years 2000-2999: reports, due-maintenance lists).
MONTH_PATTERN = r"^2\d{3}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2026-11"])]

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
Vin = Annotated[str, Field(pattern=VIN_PATTERN, examples=["LSVAU218XN2183294"])]
#: A VIN as the HTTP lookups accept it: any case (they upper-case it).
VIN_LOOKUP_PATTERN = r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$"
"""A normalised VIN: 17 upper-case characters, no I, O or Q (ISO 3779)."""

NonEmptyStr = Annotated[str, Field(min_length=1, pattern=r"\S")]
"""A string with at least one non-blank character."""
