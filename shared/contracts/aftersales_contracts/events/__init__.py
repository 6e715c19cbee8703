"""Internal events on the ``aftersales.*`` topics, one module per topic family.

Values here are already normalised by their producer (E.164 phones, upper-case VINs, aware
times), so consumers never repeat intake's clean-up. Every event is frozen, refuses unknown
fields and is keyed by dealer id (see ``Event``). Import them from here:

- ``values``: the parts events share (people, vehicle, a questionnaire's answers);
- ``intake``: work orders, rejected input, vehicle-file corrections;
- ``deliveries``: new-car handovers and their face-to-face questionnaire;
- ``contacts``: contacts due, their results, expired and closed;
- ``appointments``, ``complaints``, ``reports``: one family each;
- ``registry``: the model of each topic and ``decode_event``.

The modules import each other relatively, so the type checker follows them within the package.
"""

from .appointments import AppointmentEvent, AppointmentEventKind
from .complaints import (
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ComplaintSource,
    ComplaintStep,
    ConfirmationRequest,
)
from .contacts import (
    UNREACHED_OUTCOMES,
    CallOutcome,
    ContactClosed,
    ContactClosedReason,
    ContactDue,
    ContactExpired,
    ContactPurpose,
    ContactResult,
)
from .deliveries import DeliverySurveyed, VehicleDelivered
from .intake import (
    IntakeRejected,
    IntakeRejectionReason,
    VehicleFileCorrected,
    WorkOrderClosed,
)
from .registry import EVENT_TYPES, decode_event
from .reports import ReportIssued
from .values import (
    FIXED_FIRST_TIME,
    ITEM_ID_PATTERN,
    Coded,
    Customer,
    DataCheck,
    ItemId,
    QuestionnaireRef,
    Score,
    Scores,
    Staff,
    Vehicle,
)

__all__ = [
    "EVENT_TYPES",
    "FIXED_FIRST_TIME",
    "ITEM_ID_PATTERN",
    "UNREACHED_OUTCOMES",
    "AppointmentEvent",
    "AppointmentEventKind",
    "CallOutcome",
    "Coded",
    "ComplaintEvent",
    "ComplaintEventKind",
    "ComplaintGrade",
    "ComplaintSource",
    "ComplaintStep",
    "ConfirmationRequest",
    "ContactClosed",
    "ContactClosedReason",
    "ContactDue",
    "ContactExpired",
    "ContactPurpose",
    "ContactResult",
    "Customer",
    "DataCheck",
    "DeliverySurveyed",
    "IntakeRejected",
    "IntakeRejectionReason",
    "ItemId",
    "QuestionnaireRef",
    "ReportIssued",
    "Score",
    "Scores",
    "Staff",
    "Vehicle",
    "VehicleDelivered",
    "VehicleFileCorrected",
    "WorkOrderClosed",
    "decode_event",
]
