"""Kafka topic names. Keys are the dealer id (UTF-8) on every topic; values are UTF-8 JSON."""

from __future__ import annotations

# External: published by the dealer's DMS (see README, "The DMS contract").
DMS_WORKORDER_CLOSED = "dms.workorder.closed"
DMS_VEHICLE_DELIVERED = "dms.vehicle.delivered"

# External: published by the car maker (OEM): complaints it transferred to a dealer (D29).
OEM_COMPLAINT_TRANSFERRED = "oem.complaint.transferred"

# Internal: published by our services.
WORKORDER_CLOSED = "aftersales.workorder.closed"
VEHICLE_DELIVERED = "aftersales.vehicle.delivered"
CONTACT_DUE = "aftersales.contact.due"
CONTACT_RESULT = "aftersales.contact.result"
CONTACT_EXPIRED = "aftersales.contact.expired"
CONTACT_CLOSED = "aftersales.contact.closed"
VEHICLE_FILE_CORRECTED = "aftersales.vehicle.corrected"
APPOINTMENT_EVENT = "aftersales.appointment.event"
DELIVERY_SURVEYED = "aftersales.delivery.surveyed"
COMPLAINT_EVENT = "aftersales.complaint.event"
INTAKE_REJECTED = "aftersales.intake.rejected"
DEAD_LETTER = "aftersales.deadletter"

EXTERNAL_TOPICS: tuple[str, ...] = (
    DMS_WORKORDER_CLOSED,
    DMS_VEHICLE_DELIVERED,
    OEM_COMPLAINT_TRANSFERRED,
)
INTERNAL_TOPICS: tuple[str, ...] = (
    WORKORDER_CLOSED,
    VEHICLE_DELIVERED,
    CONTACT_DUE,
    CONTACT_RESULT,
    CONTACT_EXPIRED,
    CONTACT_CLOSED,
    VEHICLE_FILE_CORRECTED,
    APPOINTMENT_EVENT,
    DELIVERY_SURVEYED,
    COMPLAINT_EVENT,
    INTAKE_REJECTED,
    DEAD_LETTER,
)
ALL_TOPICS: tuple[str, ...] = EXTERNAL_TOPICS + INTERNAL_TOPICS
