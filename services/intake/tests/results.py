"""Contact results as the contact service publishes them, for intake's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aftersales_contracts import ContactResult, DataCheck

VIN = "LSVAU218XN2183294"
CALLED_AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, two days after WO-1


def result(n: int = 1, check: dict[str, Any] | None = None, **changes: Any) -> ContactResult:
    """A reached day-3 call of WO-1's customer by agent-7; `check` is its data check."""
    values: dict[str, Any] = {
        "event_id": f"result-{n}",
        "occurred_at": CALLED_AT,
        "dealer_id": "dealer-sz-001",
        "correlation_id": "dealer-sz-001/WO-1",
        "contact_id": f"contact-{n}",
        "task_id": f"task-{n}",
        "agent_id": "agent-7",
        "channel": "phone",
        "purposes": ["service_call_day3"],
        "attempt": 1,
        "outcome": "reached",
        "contacted_at": CALLED_AT,
        "work_order_id": "WO-1",
        "vin": VIN,
        "customer_id": "C-1",
    }
    if check is not None:
        values["data_check"] = DataCheck(confirmed=True, **check)
    return ContactResult(**(values | changes))
