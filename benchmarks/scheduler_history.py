"""Synthetic scheduler data for the benchmark and the multi-process tests: timers as the
planner stores them, laid down in bulk through the store (`TimerStore.load`, which files them
with `filing`'s layout)."""

from __future__ import annotations

from datetime import datetime

from aftersales_contracts.envelope import correlation_id_for
from aftersales_scheduler.domain.slots import timer_id
from aftersales_scheduler.filing import Doc


def synthetic_timer(
    dealer_id: str, number: int, due_at: datetime, step: str = "call_day3", prefix: str = "BULK"
) -> Doc:
    """A pending after-service timer of a synthetic work order."""
    work_order_id = f"{prefix}-{number:08d}"
    return {
        "_id": timer_id(dealer_id, work_order_id, step),
        "dealer_id": dealer_id,
        "kind": "after_service",
        "source_id": work_order_id,
        "step": step,
        "purposes": ["service_call_day3"],
        "channel": "phone",
        "nominal_at": due_at,
        "due_at": due_at,
        "attempt": 1,
        "version": 1,
        "state": "pending",
        "work_order_id": work_order_id,
        "correlation_id": correlation_id_for(dealer_id, work_order_id),
        "causation_id": f"bulk-{number}",
        "customer_id": f"C-{number}",
        "vin": "LSVAU218XN2183294",
        "revision": 1,
        "customer": {
            "customer_id": f"C-{number}",
            "name": "测试",
            "phone": "+8613800138000",
            "is_owner": True,
            "contact_consent": True,
        },
        "vehicle": {
            "vin": "LSVAU218XN2183294",
            "plate": "粤B12345",
            "brand": "大众",
            "model": "帕萨特",
        },
        "service_advisor": {"id": "SA-1", "name": "王芳"},
        "technicians": [],
        "trail": [],
    }
