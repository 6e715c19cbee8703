"""What every use case of the service works with: storage, the outbox, time, the workshops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox, Pending

from aftersales_appointments.domain.appointment import Appointment
from aftersales_appointments.domain.workshop import Workshop
from aftersales_appointments.store import APPOINTMENTS, AppointmentStore


@dataclass(frozen=True)
class Context:
    store: AppointmentStore
    outbox: Outbox
    clock: Clock
    workshop_of: Callable[[str], Workshop]  # per dealer (D31 capacity is configuration)
    zone_of: Callable[[str], ZoneInfo]

    async def publish(self, appointments: list[Appointment]) -> None:
        """Publish what each appointment's history holds beyond its published mark, then mark:
        a retried call or a redelivery finds the same stored events and sends them again."""
        if not appointments:
            return
        marks = await self.outbox.published_revisions(
            APPOINTMENTS, [a.appointment_id for a in appointments]
        )
        pending = [
            Pending(APPOINTMENTS, a.appointment_id, tuple(events), a.revision)
            for a in appointments
            if (events := a.events(marks.get(a.appointment_id, 0)))
        ]
        await self.outbox.flush(pending)
