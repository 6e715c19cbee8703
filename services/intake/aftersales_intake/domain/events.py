"""The events intake publishes, built from a normalised record or a refusal. Pure."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from aftersales_contracts import (
    Customer,
    Event,
    IntakeRejected,
    IntakeRejectionReason,
    Staff,
    Vehicle,
    VehicleDelivered,
    WorkOrderClosed,
    correlation_id_for,
    deterministic_id,
)

from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Kind, Normalised, Refusal

Source = Literal["kafka", "http", "csv"]


def topic_of(kind: Kind) -> str:
    return WorkOrderClosed.TOPIC if kind == "workorder" else VehicleDelivered.TOPIC


def _staff(data: dict[str, str]) -> Staff:
    return Staff(id=data["id"], name=data["name"])


def record_event(
    record: Normalised,
    revision: int,
    warnings: list[Reason],
    consent: bool,
    now: datetime,
    phone: str | None = None,
) -> Event:
    """`aftersales.workorder.closed` / `aftersales.vehicle.delivered` for one revision.
    `phone`: the customer's phone as a later call corrected it (D30), if it did."""
    c = record.content
    customer = Customer(
        **{k: v for k, v in c["customer"].items() if k not in ("contact_consent", "phone")},
        phone=phone or c["customer"]["phone"],
        contact_consent=consent,  # D4: our opt-out overrides the DMS's consent
    )
    common: dict[str, Any] = {
        "occurred_at": now,
        "dealer_id": record.dealer_id,
        "correlation_id": correlation_id_for(record.dealer_id, record.record_id),
        "causation_id": record.source_event_id,
        "vehicle": Vehicle(**c["vehicle"]),
        "customer": customer,
        "insurance_expiry": c["insurance_expiry"],
    }
    if record.kind == "delivery":
        return VehicleDelivered(
            **common,
            event_id=deterministic_id(
                "vehicle.delivered", record.dealer_id, record.record_id, str(revision)
            ),
            delivery_id=record.record_id,
            delivered_at=c["delivered_at"],
            sales_consultant=_staff(c["sales_consultant"]),
            first_maintenance_due_date=c["first_maintenance_due_date"],
        )
    return WorkOrderClosed(
        **common,
        event_id=deterministic_id(
            "workorder.closed", record.dealer_id, record.record_id, str(revision)
        ),
        work_order_id=record.record_id,
        work_order_type=c["work_order_type"],
        revision=revision,
        opened_at=c["opened_at"],
        settled_at=c["settled_at"],
        service_advisor=_staff(c["service_advisor"]),
        technicians=[_staff(t) for t in c["technicians"]],
        total_amount=Decimal(c["total_amount"]),
        next_maintenance_due_date=c["next_maintenance_due_date"],
        next_maintenance_due_mileage_km=c["next_maintenance_due_mileage_km"],
        licence_expiry=c["licence_expiry"],
        warnings=[w.code for w in warnings],
    )


def rejection_id_for(raw: bytes, kind: Kind, source: Source) -> str:
    return deterministic_id("intake.rejected", source, kind, hashlib.sha256(raw).hexdigest())


def rejection_event(
    raw: bytes, kind: Kind, source: Source, refusal: Refusal, now: datetime
) -> IntakeRejected:
    """`aftersales.intake.rejected` (D5): the raw input with every reason it was refused."""
    rejection_id = rejection_id_for(raw, kind, source)
    dealer_id = refusal.dealer_id or IntakeRejected.UNKNOWN_DEALER
    text, encoding = IntakeRejected.encode_raw(raw)
    return IntakeRejected(
        event_id=rejection_id,
        occurred_at=now,
        dealer_id=dealer_id,
        correlation_id=(
            correlation_id_for(dealer_id, refusal.record_id) if refusal.record_id else rejection_id
        ),
        rejection_id=rejection_id,
        source=source,
        reasons=[IntakeRejectionReason(**r.as_dict()) for r in refusal.reasons],
        raw=text,
        raw_encoding=encoding,
    )
