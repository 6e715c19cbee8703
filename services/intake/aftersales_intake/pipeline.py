"""The one pipeline every way in (Kafka, HTTP, file import, inbox replay) goes through.

raw bytes → rules (domain.records) → vehicle file (D1) → revision of the record → event.
Each input ends in exactly one outcome: accepted, duplicate, corrected or rejected.

Crash safety: the record is stored with its event and the last revision published, then the
event is published, then `published_revision` is raised to it. A redelivery of the same content
that finds it lower publishes the stored event again (same event_id: downstream is idempotent).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
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
    decode_event,
    deterministic_id,
)
from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DealerDirectory

from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Kind, Normalised, Refusal, normalise
from aftersales_intake.domain.vehicle_file import merge, mileage_warning
from aftersales_intake.store import IntakeStore

Source = Literal["kafka", "http", "csv"]
Status = Literal["accepted", "duplicate", "corrected", "rejected"]
Publish = Callable[[Event], Awaitable[None]]

#: Refusals of the transport contract itself (issue 3: these also go to the dead-letter topic).
CONTRACT_CODES = ("encoding.", "json.", "schema.", "dealer.unknown")


@dataclass(frozen=True)
class Outcome:
    status: Status
    kind: Kind
    dealer_id: str | None
    record_id: str | None
    revision: int | None = None
    event_id: str | None = None
    rejection_id: str | None = None
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)

    @property
    def breaks_contract(self) -> bool:
        return any(r.code.startswith(CONTRACT_CODES) for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.status,
            "kind": self.kind,
            "dealer_id": self.dealer_id,
            "record_id": self.record_id,
            "revision": self.revision,
            "event_id": self.event_id,
            "rejection_id": self.rejection_id,
            "reasons": [r.as_dict() for r in self.reasons],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def _staff(data: dict[str, str]) -> Staff:
    return Staff(id=data["id"], name=data["name"])


class Intake:
    def __init__(
        self,
        store: IntakeStore,
        publish: Publish,
        dealers: DealerDirectory,
        clock: Clock,
        logger: logging.Logger,
        future_tolerance: timedelta = timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.publish = publish
        self.dealers = dealers
        self.clock = clock
        self.logger = logger
        self.future_tolerance = future_tolerance

    def _zone_of(self, dealer_id: str) -> tzinfo | None:
        dealer = self.dealers.get(dealer_id)
        return dealer.zone if dealer else None

    async def take_in(self, raw: bytes, kind: Kind, source: Source) -> Outcome:
        """THE pipeline: one raw DMS record in, exactly one outcome out."""
        found = normalise(raw, kind, self._zone_of, self.clock.now(), self.future_tolerance)
        if isinstance(found, Refusal):
            outcome = await self._reject(raw, kind, source, found)
        else:
            outcome = await self._accept(found)
        self.logger.info(
            "intake outcome",
            extra={
                "outcome": outcome.status,
                "kind": kind,
                "source": source,
                "dealer_id": outcome.dealer_id,
                "record_id": outcome.record_id,
                "revision": outcome.revision,
                "codes": [r.code for r in outcome.reasons + outcome.warnings],
            },
        )
        return outcome

    # --- accepted records -----------------------------------------------------------------

    async def _accept(self, record: Normalised) -> Outcome:
        key = f"{record.dealer_id}/{record.record_id}"
        digest = record.content_hash
        doc = await self.store.record(record.kind, key)
        if doc is not None:
            seen = {r["content_hash"]: r["revision"] for r in doc["revisions"]}
            if digest in seen:
                return await self._resend(record, doc, seen[digest])
            revision = doc["revision"] + 1
        else:
            revision = 1
        file = await self.store.vehicle(record.dealer_id, record.vin)
        flagged = mileage_warning(file, record)
        warnings = [*record.warnings, *([flagged] if flagged else [])]
        merged = merge(file, record, revision)
        event = self._event(record, revision, warnings, bool(merged["contact_consent"]))
        await self.store.save_vehicle(merged)
        entry = {
            "revision": revision,
            "content_hash": digest,
            "event_id": event.event_id,
            "source_event_id": record.source_event_id,
            "received_at": self.clock.now(),
        }
        new_doc = {
            "_id": key,
            "dealer_id": record.dealer_id,
            "record_id": record.record_id,
            "vin": record.vin,
            "revision": revision,
            "content_hash": digest,
            "content": record.content,
            "warnings": [w.as_dict() for w in warnings],
            "revisions": [*(doc["revisions"] if doc else []), entry],
            "event": event.model_dump_json(),
            "published_revision": doc.get("published_revision", 0) if doc else 0,
        }
        if doc is None:
            if not await self.store.insert_record(record.kind, new_doc):
                return await self._accept(record)  # another writer got there first: look again
        else:
            await self.store.replace_record(record.kind, new_doc)
        await self._publish_record(record.kind, key, revision, event)
        return Outcome(
            "accepted" if revision == 1 else "corrected",
            record.kind,
            record.dealer_id,
            record.record_id,
            revision,
            event.event_id,
            warnings=warnings,
        )

    async def _resend(self, record: Normalised, doc: dict[str, Any], revision: int) -> Outcome:
        """Content seen before: nothing changes, unless its event never made it out."""
        warnings = [Reason(**w) for w in doc.get("warnings", [])]
        if revision == doc["revision"] and doc.get("published_revision", 0) < revision:
            event = decode_event(_topic(record.kind), doc["event"])
            file = await self.store.vehicle(record.dealer_id, record.vin)
            await self.store.save_vehicle(merge(file, record, revision))
            await self._publish_record(record.kind, doc["_id"], revision, event)
            status: Status = "accepted" if revision == 1 else "corrected"
            return Outcome(
                status, record.kind, record.dealer_id, record.record_id, revision,
                event.event_id, warnings=warnings,
            )  # fmt: skip
        event_id = next(r["event_id"] for r in doc["revisions"] if r["revision"] == revision)
        return Outcome(
            "duplicate", record.kind, record.dealer_id, record.record_id, revision, event_id
        )

    async def _publish_record(self, kind: Kind, key: str, revision: int, event: Event) -> None:
        await self.publish(event)
        await self.store.mark_published(kind, key, revision)

    def _event(
        self, record: Normalised, revision: int, warnings: list[Reason], consent: bool
    ) -> Event:
        c = record.content
        customer = Customer(
            **{k: v for k, v in c["customer"].items() if k != "contact_consent"},
            contact_consent=consent,  # D4: our opt-out overrides the DMS's consent
        )
        vehicle = Vehicle(**c["vehicle"])
        common: dict[str, Any] = {
            "occurred_at": self.clock.now(),
            "dealer_id": record.dealer_id,
            "correlation_id": correlation_id_for(record.dealer_id, record.record_id),
            "causation_id": record.source_event_id,
            "vehicle": vehicle,
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

    # --- refusals (D5) ------------------------------------------------------------------------

    async def _reject(self, raw: bytes, kind: Kind, source: Source, refusal: Refusal) -> Outcome:
        rejection_id = deterministic_id(
            "intake.rejected", source, kind, hashlib.sha256(raw).hexdigest()
        )
        dealer_id = refusal.dealer_id or IntakeRejected.UNKNOWN_DEALER
        text, encoding = IntakeRejected.encode_raw(raw)
        event = IntakeRejected(
            event_id=rejection_id,
            occurred_at=self.clock.now(),
            dealer_id=dealer_id,
            correlation_id=(
                correlation_id_for(dealer_id, refusal.record_id)
                if refusal.record_id
                else rejection_id
            ),
            rejection_id=rejection_id,
            source=source,
            reasons=[IntakeRejectionReason(**r.as_dict()) for r in refusal.reasons],
            raw=text,
            raw_encoding=encoding,
        )
        doc = {
            "_id": rejection_id,
            "dealer_id": dealer_id,
            "record_id": refusal.record_id,
            "kind": kind,
            "source": source,
            "raw": text,
            "raw_encoding": encoding,
            "reasons": [r.as_dict() for r in refusal.reasons],
            "state": "open",
            "received_at": self.clock.now(),
            "attempts": [],
            "event": event.model_dump_json(),
            "published": False,
        }
        if not await self.store.insert_rejection(doc):
            stored = await self.store.rejection(rejection_id)
            if stored is not None and stored.get("published"):
                return self._rejected(kind, refusal, rejection_id)
            event = IntakeRejected.model_validate_json(stored["event"]) if stored else event
        await self.publish(event)
        await self.store.mark_rejection_published(rejection_id)
        return self._rejected(kind, refusal, rejection_id)

    @staticmethod
    def _rejected(kind: Kind, refusal: Refusal, rejection_id: str) -> Outcome:
        return Outcome(
            "rejected",
            kind,
            refusal.dealer_id,
            refusal.record_id,
            rejection_id=rejection_id,
            reasons=refusal.reasons,
        )


def _topic(kind: Kind) -> str:
    return WorkOrderClosed.TOPIC if kind == "workorder" else VehicleDelivered.TOPIC
