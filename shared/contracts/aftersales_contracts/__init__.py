"""Event contracts of the after-sales follow-up platform.

``dms``: the external messages a dealer's DMS publishes; ``events``: our internal events;
``envelope``: their common fields and id helpers; ``topics``: topic names.
"""

from aftersales_contracts import topics
from aftersales_contracts.dms import (
    CHANNEL_LABELS,
    DMS_MESSAGE_TYPES,
    WORK_ORDER_TYPE_LABELS,
    Channel,
    DmsCustomer,
    DmsItem,
    DmsNextMaintenance,
    DmsOwner,
    DmsStaff,
    DmsVehicleDelivered,
    DmsWorkOrderClosed,
    WorkOrderType,
)
from aftersales_contracts.envelope import Event, correlation_id_for, deterministic_id
from aftersales_contracts.events import (
    EVENT_TYPES,
    UNREACHED_OUTCOMES,
    CallOutcome,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ComplaintStep,
    ConfirmationRequest,
    ContactDue,
    ContactExpired,
    ContactPurpose,
    ContactResult,
    Customer,
    IntakeRejected,
    IntakeRejectionReason,
    Scores,
    Staff,
    Vehicle,
    VehicleDelivered,
    WorkOrderClosed,
    decode_event,
)

__version__ = "1.0.0"

__all__ = [
    "CHANNEL_LABELS",
    "DMS_MESSAGE_TYPES",
    "EVENT_TYPES",
    "UNREACHED_OUTCOMES",
    "WORK_ORDER_TYPE_LABELS",
    "CallOutcome",
    "Channel",
    "ComplaintEvent",
    "ComplaintEventKind",
    "ComplaintGrade",
    "ComplaintStep",
    "ConfirmationRequest",
    "ContactDue",
    "ContactExpired",
    "ContactPurpose",
    "ContactResult",
    "Customer",
    "DmsCustomer",
    "DmsItem",
    "DmsNextMaintenance",
    "DmsOwner",
    "DmsStaff",
    "DmsVehicleDelivered",
    "DmsWorkOrderClosed",
    "Event",
    "IntakeRejected",
    "IntakeRejectionReason",
    "Scores",
    "Staff",
    "Vehicle",
    "VehicleDelivered",
    "WorkOrderClosed",
    "WorkOrderType",
    "correlation_id_for",
    "decode_event",
    "deterministic_id",
    "topics",
]
