"""Which model each internal topic carries, and decoding a Kafka value by its topic."""

from __future__ import annotations

from aftersales_contracts.envelope import Event

from .appointments import AppointmentEvent
from .complaints import ComplaintEvent
from .contacts import (
    ContactClosed,
    ContactDue,
    ContactExpired,
    ContactResult,
)
from .deliveries import DeliverySurveyed, VehicleDelivered
from .intake import IntakeRejected, VehicleFileCorrected, WorkOrderClosed
from .reports import ReportIssued

#: Topic -> model of every internal event (the dead-letter topic carries raw messages, no model).
EVENT_TYPES: dict[str, type[Event]] = {
    model.TOPIC: model
    for model in (
        WorkOrderClosed,
        VehicleDelivered,
        ContactDue,
        ContactResult,
        ContactExpired,
        ContactClosed,
        VehicleFileCorrected,
        AppointmentEvent,
        DeliverySurveyed,
        ComplaintEvent,
        ReportIssued,
        IntakeRejected,
    )
}


def decode_event(topic: str, value: bytes | str) -> Event:
    """Validate a Kafka value from an internal topic into its model (KeyError: unknown topic)."""
    return EVENT_TYPES[topic].model_validate_json(value)
