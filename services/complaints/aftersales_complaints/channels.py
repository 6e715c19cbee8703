"""Complaints from any channel and the register of calls and letters (D29).

Any authorised employee logs what came in — a call to the hotline, a letter, an e-mail, a
customer at the counter, a colleague who was told, the car maker's transfer — with who logged
it. The customer is found in complaints' own index by VIN, plate or phone. A complaint opens
the same recovery ticket as a dissatisfied answer (D18-D22: grading, owners, deadlines, ladder,
closed loop); anything else is only logged. Every entry is in the day's register.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aftersales_contracts import ComplaintGrade, OemComplaintTransferred, deterministic_id

from aftersales_complaints.customer_index import CustomerIndex, VehicleRecord
from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.grading import GradingRules, Verdict, grade_result
from aftersales_complaints.domain.ticket import Ticket
from aftersales_complaints.inbound_log import InboundEntry, InboundKind, InboundLog, source_of
from aftersales_complaints.opening import open_once, ticket_id_for

OEM_ACTOR = "oem"


class NoSuchCustomer(LookupError):
    """Nothing in the dealer's files matches the VIN, plate or phone given (HTTP 404)."""


class SeveralVehicles(LookupError):
    """The phone (or plate) finds several vehicles: the caller must say which (HTTP 409)."""

    def __init__(self, matches: list[VehicleRecord]) -> None:
        self.matches = matches
        super().__init__(f"{len(matches)} vehicles match; give the vin of the one meant")


@dataclass(frozen=True)
class Inbound:
    """What a person (or the car maker) logged."""

    dealer_id: str
    kind: InboundKind
    subject: str
    text: str | None
    logged_by: str
    received_at: datetime
    reference: str | None = None  # the caller's own id of it: a retry logs nothing twice
    vin: str | None = None
    plate: str | None = None
    phone: str | None = None


@dataclass
class Channels:
    desk: TicketDesk
    index: CustomerIndex
    log: InboundLog
    zone_of: Callable[[str], ZoneInfo]  # the dealer directory's one time-zone lookup
    grading_for: Callable[[str], GradingRules]

    def entry(
        self,
        inbound: Inbound,
        customer: VehicleRecord | None,
        is_complaint: bool,
        ticket_id: str | None = None,
    ) -> InboundEntry:
        entry_id = (
            deterministic_id("inbound", inbound.dealer_id, inbound.reference)
            if inbound.reference
            else str(uuid.uuid4())
        )
        named = bool(inbound.vin or inbound.plate or inbound.phone)
        return InboundEntry(
            entry_id=entry_id,
            dealer_id=inbound.dealer_id,
            day=inbound.received_at.astimezone(self.zone_of(inbound.dealer_id)).date(),
            received_at=inbound.received_at,
            kind=inbound.kind,
            subject=inbound.subject,
            text=inbound.text,
            logged_by=inbound.logged_by,
            is_complaint=is_complaint,
            ticket_id=ticket_id,
            customer_id=customer.customer_id if customer else None,
            vin=customer.vin if customer else None,
            unmatched=named and customer is None,
        )

    async def customer(self, inbound: Inbound) -> VehicleRecord:
        found = await self.index.find(inbound.dealer_id, inbound.vin, inbound.plate, inbound.phone)
        if not found:
            raise NoSuchCustomer("no vehicle of this dealer matches the vin, plate or phone given")
        if len(found) > 1:
            raise SeveralVehicles(found)
        return found[0]


async def inbound_logged(inbound: Inbound, channels: Channels) -> InboundEntry:
    """Use case: a call or letter that is not a complaint, logged (matched when it can be)."""
    found = await channels.index.find(inbound.dealer_id, inbound.vin, inbound.plate, inbound.phone)
    customer = found[0] if len(found) == 1 else None
    return await channels.log.record(channels.entry(inbound, customer, is_complaint=False))


async def complaint_logged(
    inbound: Inbound, channels: Channels, oem_grade: ComplaintGrade | None = None
) -> tuple[InboundEntry, Ticket]:
    """Use case: a complaint from any channel opens its ticket once and is in the register.

    Its deadlines count from when it is logged (the dealer has it from then); `received_at`
    (a letter's date, the OEM's receipt) is kept in the register."""
    customer = await channels.customer(inbound)
    entry = channels.entry(inbound, customer, is_complaint=True)
    rules = channels.grading_for(inbound.dealer_id)
    source = source_of(inbound.kind)
    verdict = grade_result(None, True, rules, inbound.text, None, source)
    assert verdict is not None  # a stated complaint always opens a ticket (D18)
    if oem_grade is not None and oem_grade < verdict.grade:  # "A" < "B": more severe
        verdict = Verdict(grade=oem_grade, low_items=[], rule="oem_grade")
    now = channels.desk.clock.now()
    draft = Ticket(
        ticket_id=ticket_id_for(f"inbound/{entry.entry_id}"),
        dealer_id=inbound.dealer_id,
        grade=verdict.grade,
        rule=verdict.rule,
        complaint_stated=True,
        work_order_id=customer.work_order_id,
        contact_id=entry.entry_id,  # the register's entry stands for the contact it came by
        task_id=entry.entry_id,
        vin=customer.vin,
        customer_id=customer.customer_id,
        service_advisor=customer.service_advisor,
        technicians=customer.technicians,
        correlation_id=customer.correlation_id,
        cause_event_id=entry.entry_id,
        opened_at=now,
        round_started_at=now,
        owner_role="",
        owner_person="",
        source=source,
        logged_by=inbound.logged_by,
        inbound_id=entry.entry_id,
    )
    ticket = await open_once(channels.desk, draft, rules, entry.entry_id, inbound.logged_by)
    logged = await channels.log.record(entry.model_copy(update={"ticket_id": ticket.ticket_id}))
    return logged, ticket


async def oem_complaint_transferred(event: OemComplaintTransferred, channels: Channels) -> None:
    """Use case: the car maker's transfer opens a ticket; one the dealer's files cannot place is
    logged as unmatched for a person to log by hand (nothing is parked or lost)."""
    inbound = Inbound(
        dealer_id=event.dealer_id,
        kind=InboundKind.OEM,
        subject="complaint",
        text=event.text,
        logged_by=OEM_ACTOR,
        received_at=event.received_at,
        reference=f"oem/{event.oem_complaint_id}",
        vin=event.vin,
        plate=event.plate,
        phone=event.phone,
    )
    try:
        await complaint_logged(inbound, channels, event.oem_grade)
    except (NoSuchCustomer, SeveralVehicles):
        entry = channels.entry(inbound, None, is_complaint=True)
        await channels.log.record(entry)
        channels.desk.logger.warning(
            "OEM complaint names no single vehicle of the dealer; logged unmatched",
            extra={"dealer_id": event.dealer_id, "entry_id": entry.entry_id},
        )
