"""One pass of the pipeline over a batch of inputs of one kind, decided in memory. Pure: no
broker, no database.

The pass starts from what is stored (the record documents, vehicle files and rejections the batch
touches, read by `_id` beforehand) and takes the inputs in arrival order. Each input changes the
pass's own copy of that state, so two inputs for the same work order or the same VIN see each
other exactly as if they had been handled one after the other. At the end the pass holds one
outcome per input, the documents to write and, per document, the events to publish.

Idempotency (a redelivered batch, half-applied before a crash, ends in the same state and the same
events): every revision of a record keeps its event; the outbox's marks (`published`) say how far
they went out. Content seen before whose revision was not yet published is published again (same
event_id); content seen and published is a duplicate. Vehicle files are written before the
records, so a stored record implies a merged file; merging a record revision the file holds
changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_contracts import Event, IntakeRejected, decode_event

from aftersales_intake.domain.events import (
    Source,
    record_event,
    rejection_event,
    rejection_id_for,
    topic_of,
)
from aftersales_intake.domain.outcomes import Outcome
from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Kind, Normalised, Refusal
from aftersales_intake.domain.vehicle_file import contact_phone, file_id, merge, mileage_warning

Doc = dict[str, Any]
INDEXED = ("plates", "phones")  # vehicle-file fields with an index collection of the same name


def record_key(dealer_id: str, record_id: str) -> str:
    return f"{dealer_id}/{record_id}"


class Pass:
    def __init__(
        self,
        kind: Kind,
        records: dict[str, Doc],
        vehicles: dict[str, Doc],
        rejections: dict[str, Doc],
        published: dict[str, int],
        now: datetime,
    ) -> None:
        """`published`: per record key and rejection id, the highest revision that is out."""
        self.kind = kind
        self.now = now
        self.stored_vehicles = vehicles  # as read: new index entries are the difference
        self.stored_record_keys = set(records)
        self.stored_rejection_ids = set(rejections)
        self.records = dict(records)
        self.vehicles = dict(vehicles)
        self.rejections = dict(rejections)
        self.published = published
        self.changed_records: list[str] = []
        self.changed_vehicles: list[str] = []
        self.queued: dict[str, int] = {}  # record key -> highest revision queued for publishing
        # (record key, revision, event) in the order they are due out: one dealer's events keep
        # the order a one-by-one run would give them
        self.record_events: list[tuple[str, int, Event]] = []
        self.rejection_events: dict[str, IntakeRejected] = {}

    # --- accepted records -----------------------------------------------------------------

    def accept(self, record: Normalised) -> Outcome:
        key = record_key(record.dealer_id, record.record_id)
        doc = self.records.get(key)
        if doc is not None:
            for entry in doc["revisions"]:
                if entry["content_hash"] == record.content_hash:
                    return self._seen_again(record, key, doc, entry)
        revision = doc["revision"] + 1 if doc else 1
        file = self.vehicles.get(file_id(record.dealer_id, record.vin))
        flagged = mileage_warning(file, record)
        warnings = [*record.warnings, *([flagged] if flagged else [])]
        merged = self._merge(file, record, revision)
        consent, phone = bool(merged["contact_consent"]), contact_phone(merged, record)
        event = record_event(record, revision, warnings, consent, self.now, phone)
        entry = {
            "revision": revision,
            "content_hash": record.content_hash,
            "event_id": event.event_id,
            "source_event_id": record.source_event_id,
            "received_at": self.now,
            "warnings": [w.as_dict() for w in warnings],
            "event": event.model_dump_json(),
        }
        new_doc = {
            "_id": key,
            "dealer_id": record.dealer_id,
            "record_id": record.record_id,
            "vin": record.vin,
            "revision": revision,
            "content_hash": record.content_hash,
            "content": record.content_text,
            "warnings": entry["warnings"],
            "revisions": [*(doc["revisions"] if doc else []), entry],
        }
        self._record(key, new_doc)
        self._queue(key, new_doc, revision)
        return self._done(record, revision, event.event_id, warnings)

    def _seen_again(self, record: Normalised, key: str, doc: Doc, entry: Doc) -> Outcome:
        """Content seen before: nothing changes, unless its event never made it out."""
        revision = entry["revision"]
        if revision <= self._out(key):
            return Outcome(
                "duplicate", record.kind, record.dealer_id, record.record_id, revision,
                entry["event_id"],
            )  # fmt: skip
        if revision == doc["revision"]:
            self._merge(self.vehicles.get(file_id(record.dealer_id, record.vin)), record, revision)
        self._queue(key, doc, revision)
        stored: list[dict[str, Any]] = entry.get("warnings", doc.get("warnings")) or []
        warnings = [Reason(**w) for w in stored]
        return self._done(record, revision, entry["event_id"], warnings)

    @staticmethod
    def _done(record: Normalised, revision: int, event_id: str, warnings: list[Reason]) -> Outcome:
        return Outcome(
            "accepted" if revision == 1 else "corrected",
            record.kind,
            record.dealer_id,
            record.record_id,
            revision,
            event_id,
            warnings=warnings,
        )

    def _merge(self, file: Doc | None, record: Normalised, revision: int) -> Doc:
        merged = merge(file, record, revision)
        if merged["_id"] not in self.changed_vehicles:
            self.changed_vehicles.append(merged["_id"])
        self.vehicles[merged["_id"]] = merged
        return merged

    def _record(self, key: str, doc: Doc) -> None:
        if key not in self.changed_records:
            self.changed_records.append(key)
        self.records[key] = doc

    def _out(self, key: str) -> int:
        """The highest revision of a record that is out, or queued to go out in this pass."""
        return max(self.published.get(key, 0), self.queued.get(key, 0))

    def _queue(self, key: str, doc: Doc, up_to: int) -> None:
        """Queue the stored events of revisions not yet out, up to `up_to`, in revision order."""
        done = self._out(key)
        for entry in doc["revisions"]:
            if done < entry["revision"] <= up_to:
                # documents stored before events were kept per revision hold the latest only
                text = entry.get("event") or doc["event"]
                event = decode_event(topic_of(self.kind), text)
                self.record_events.append((key, entry["revision"], event))
        self.queued[key] = max(done, up_to)

    # --- refusals (D5) ------------------------------------------------------------------------

    def reject(self, raw: bytes, source: Source, refusal: Refusal) -> Outcome:
        rejection_id = rejection_id_for(raw, self.kind, source)
        stored = self.rejections.get(rejection_id)
        if stored is None:
            event = rejection_event(raw, self.kind, source, refusal, self.now)
            self.rejections[rejection_id] = {
                "_id": rejection_id,
                "dealer_id": event.dealer_id,
                "record_id": refusal.record_id,
                "kind": self.kind,
                "source": source,
                "raw": event.raw,
                "raw_encoding": event.raw_encoding,
                "reasons": [r.as_dict() for r in refusal.reasons],
                "state": "open",
                "received_at": self.now,
                "attempts": [],
                "event": event.model_dump_json(),
            }
            self.rejection_events[rejection_id] = event
        elif rejection_id not in self.published and rejection_id not in self.rejection_events:
            event = IntakeRejected.model_validate_json(stored["event"])
            self.rejection_events[rejection_id] = event
        return Outcome(
            "rejected",
            self.kind,
            refusal.dealer_id,
            refusal.record_id,
            rejection_id=rejection_id,
            reasons=refusal.reasons,
        )

    # --- what to write ----------------------------------------------------------------------

    def new_records(self) -> list[Doc]:
        return [self.records[k] for k in self.changed_records if k not in self.stored_record_keys]

    def replaced_records(self) -> list[Doc]:
        return [self.records[k] for k in self.changed_records if k in self.stored_record_keys]

    def changed_vehicle_files(self) -> tuple[list[Doc], list[Doc]]:
        """(files that were not stored when read, files that were)."""
        changed = [self.vehicles[v] for v in self.changed_vehicles]
        return (
            [f for f in changed if f["_id"] not in self.stored_vehicles],
            [f for f in changed if f["_id"] in self.stored_vehicles],
        )

    def new_rejections(self) -> list[Doc]:
        return [doc for rid, doc in self.rejections.items() if rid not in self.stored_rejection_ids]

    def new_index_entries(self) -> dict[str, list[tuple[str, str, str]]]:
        """Per index collection, the (dealer, value, vin) a changed file gained: written before
        the files, so whatever a stored file holds is indexed."""
        entries: dict[str, list[tuple[str, str, str]]] = {name: [] for name in INDEXED}
        for vehicle_id in self.changed_vehicles:
            file, before = self.vehicles[vehicle_id], self.stored_vehicles.get(vehicle_id) or {}
            for name in INDEXED:
                for value in file[name]:
                    if value not in before.get(name, []):
                        entries[name].append((file["dealer_id"], value, file["vin"]))
        return entries
