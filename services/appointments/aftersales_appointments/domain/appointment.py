"""An appointment's state and history (D31). Pure: each transition returns the changed
appointment and the event to publish; the use cases store and publish them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from aftersales_contracts import AppointmentEvent, AppointmentEventKind, deterministic_id
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class State(StrEnum):
    BOOKED = "booked"
    KEPT = "kept"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class NotAllowed(Exception):
    """The appointment's state does not allow this change (409)."""


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    kind: AppointmentEventKind
    actor: str
    work_order_id: str | None = None
    note: str | None = None


class Appointment(BaseModel):
    """One customer's seat in one slot of the workshop, and what happened to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    appointment_id: str
    dealer_id: str
    correlation_id: str
    vin: str
    customer_id: str
    plate: str | None = None
    day: date
    slot_id: str
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    seat: int = Field(ge=1)
    service: str
    parts_to_prepare: list[str] = Field(default_factory=list)
    note: str | None = None
    contact_id: str | None = None
    booked_by: str
    booked_at: AwareDatetime
    state: State = State.BOOKED
    work_order_id: str | None = None
    history: list[HistoryEntry] = Field(default_factory=list)

    @property
    def revision(self) -> int:
        """One event per history entry: the outbox marks revisions (aftersales_runtime.outbox)."""
        return len(self.history)

    def arrival_counts(self, arrived_on: date) -> bool:
        """D31: a work order for the VIN on the appointment's day, or the next, keeps it."""
        return self.state is State.BOOKED and self.day <= arrived_on <= self.day + timedelta(1)

    def event(self, entry: HistoryEntry, revision: int) -> AppointmentEvent:
        return AppointmentEvent(
            event_id=deterministic_id("appointment", self.appointment_id, str(revision)),
            occurred_at=entry.at,
            dealer_id=self.dealer_id,
            correlation_id=self.correlation_id,
            appointment_id=self.appointment_id,
            kind=entry.kind,
            vin=self.vin,
            customer_id=self.customer_id,
            day=self.day,
            slot_id=self.slot_id,
            slot_start=self.slot_start,
            slot_end=self.slot_end,
            service=self.service,
            parts_to_prepare=self.parts_to_prepare,
            contact_id=self.contact_id,
            work_order_id=entry.work_order_id,
            actor=entry.actor,
        )

    def events(self, after_revision: int = 0) -> list[AppointmentEvent]:
        """The events of the history entries above `after_revision` (what is not out yet)."""
        return [
            self.event(entry, n)
            for n, entry in enumerate(self.history, start=1)
            if n > after_revision
        ]

    def _moved(self, state: State, entry: HistoryEntry, **changes: object) -> Appointment:
        return self.model_copy(
            update={"state": state, "history": [*self.history, entry], **changes}
        )

    def kept(self, work_order_id: str, at: datetime) -> Appointment:
        entry = HistoryEntry(
            at=at, kind=AppointmentEventKind.KEPT, actor="system", work_order_id=work_order_id
        )
        return self._moved(State.KEPT, entry, work_order_id=work_order_id)

    def missed(self, at: datetime) -> Appointment:
        if self.state is not State.BOOKED:
            raise NotAllowed(f"a {self.state.value} appointment cannot become a no-show")
        return self._moved(
            State.NO_SHOW, HistoryEntry(at=at, kind=AppointmentEventKind.NO_SHOW, actor="system")
        )

    def cancelled(self, actor: str, at: datetime, note: str | None) -> Appointment:
        if self.state is not State.BOOKED:
            raise NotAllowed(f"a {self.state.value} appointment cannot be cancelled")
        entry = HistoryEntry(at=at, kind=AppointmentEventKind.CANCELLED, actor=actor, note=note)
        return self._moved(State.CANCELLED, entry)
