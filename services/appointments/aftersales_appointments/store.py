"""Where appointments live: five collections, every read by `_id` (FerretDB: see
aftersales_runtime.bulk), so each operation's cost follows its own work, not the history.

- `appointments`: one document per appointment (`_id` = appointment id), with its history;
- `seats`: `{dealer}/{day}/{slot}/{n}` for n in 1..bays: inserting seat n is atomic, so two
  agents booking the last seat of a slot at once cannot both get it (D31);
- `days`: `{dealer}/{day}` lists the day's appointments per slot (the workshop's daily list, and
  the counts behind the nearest free slots);
- `vehicles`: `{dealer}/{vin}` lists a vehicle's booked appointments (an arrival finds them);
- `cursors`: `noshow/{dealer}`, the last day the no-show sweep finished for the dealer.
The outbox's `published` marks sit beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from aftersales_runtime.bulk import DUPLICATE_KEY, find_by_ids
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aftersales_appointments.domain.appointment import Appointment

Doc = dict[str, Any]
APPOINTMENTS = "appointments"


def seat_id(dealer_id: str, day: date, slot_id: str, seat: int) -> str:
    return f"{dealer_id}/{day.isoformat()}/{slot_id}/{seat}"


def day_id(dealer_id: str, day: date) -> str:
    return f"{dealer_id}/{day.isoformat()}"


def vehicle_id(dealer_id: str, vin: str) -> str:
    return f"{dealer_id}/{vin}"


class AppointmentStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def appointment(self, appointment_id: str) -> Appointment | None:
        doc = await self.db[APPOINTMENTS].find_one({"_id": appointment_id})
        return _appointment(doc) if doc else None

    async def appointments(self, ids: Iterable[str]) -> list[Appointment]:
        found = await find_by_ids(self.db, APPOINTMENTS, ids)
        return [_appointment(doc) for doc in found.values()]

    async def insert(self, appointment: Appointment) -> bool:
        """False when an appointment with this id exists (a retried booking)."""
        try:
            await self.db[APPOINTMENTS].insert_one(_document(appointment))
        except DuplicateKeyError:
            return False
        return True

    async def save(self, appointment: Appointment) -> None:
        await self.db[APPOINTMENTS].replace_one(
            {"_id": appointment.appointment_id}, _document(appointment)
        )

    # --- seats (capacity) ----------------------------------------------------------------------

    async def seat_holders(
        self, dealer_id: str, day: date, slot_id: str, bays: int
    ) -> dict[int, str]:
        ids = {seat_id(dealer_id, day, slot_id, n): n for n in range(1, bays + 1)}
        found = await find_by_ids(self.db, "seats", ids)
        return {ids[key]: doc["appointment_id"] for key, doc in found.items()}

    async def take_seat(
        self, dealer_id: str, day: date, slot_id: str, seat: int, appointment_id: str
    ) -> bool:
        """Atomic: False when someone else holds seat `seat` already."""
        document = {"_id": seat_id(dealer_id, day, slot_id, seat), "appointment_id": appointment_id}
        try:
            await self.db["seats"].insert_one(document)
        except DuplicateKeyError as error:
            if error.code != DUPLICATE_KEY:
                raise
            return False
        return True

    async def free_seat(self, appointment: Appointment) -> None:
        key = seat_id(appointment.dealer_id, appointment.day, appointment.slot_id, appointment.seat)
        await self.db["seats"].delete_one({"_id": key})

    # --- the day's list and the vehicle's open appointments ----------------------------------

    async def list_on_day(self, appointment: Appointment) -> None:
        await self.db["days"].update_one(
            {"_id": day_id(appointment.dealer_id, appointment.day)},
            {"$addToSet": {f"slots.{appointment.slot_id}": appointment.appointment_id}},
            upsert=True,
        )

    async def unlist_from_day(self, appointment: Appointment) -> None:
        await self.db["days"].update_one(
            {"_id": day_id(appointment.dealer_id, appointment.day)},
            {"$pull": {f"slots.{appointment.slot_id}": appointment.appointment_id}},
        )

    async def days(self, dealer_id: str, days: Iterable[date]) -> dict[date, dict[str, list[str]]]:
        """Per day, the appointment ids listed in each slot (absent days: none)."""
        wanted = {day_id(dealer_id, d): d for d in days}
        found = await find_by_ids(self.db, "days", wanted)
        return {wanted[key]: doc.get("slots", {}) for key, doc in found.items()}

    async def open_for_vehicle(self, dealer_id: str, vins: Iterable[str]) -> dict[str, list[str]]:
        wanted = {vehicle_id(dealer_id, v): v for v in vins}
        found = await find_by_ids(self.db, "vehicles", wanted)
        return {wanted[key]: doc.get("open", []) for key, doc in found.items()}

    async def track_vehicle(self, appointment: Appointment) -> None:
        await self.db["vehicles"].update_one(
            {"_id": vehicle_id(appointment.dealer_id, appointment.vin)},
            {"$addToSet": {"open": appointment.appointment_id}},
            upsert=True,
        )

    async def untrack_vehicle(self, appointment: Appointment) -> None:
        await self.db["vehicles"].update_one(
            {"_id": vehicle_id(appointment.dealer_id, appointment.vin)},
            {"$pull": {"open": appointment.appointment_id}},
        )

    # --- the no-show sweep's progress ----------------------------------------------------------

    async def swept_until(self, dealer_id: str) -> date | None:
        doc = await self.db["cursors"].find_one({"_id": f"noshow/{dealer_id}"})
        return date.fromisoformat(doc["day"]) if doc else None

    async def mark_swept(self, dealer_id: str, day: date) -> None:
        await self.db["cursors"].update_one(
            {"_id": f"noshow/{dealer_id}"}, {"$set": {"day": day.isoformat()}}, upsert=True
        )


def _document(appointment: Appointment) -> Doc:
    return {"_id": appointment.appointment_id, **appointment.model_dump(mode="json")}


def _appointment(doc: Doc) -> Appointment:
    return Appointment.model_validate({k: v for k, v in doc.items() if k != "_id"})
