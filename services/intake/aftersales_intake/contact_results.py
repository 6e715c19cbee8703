"""Use case: a contact result recorded on the vehicle file — our opt-outs (D4) and the corrections
an agent heard while checking the customer's data (D30), published as `VehicleFileCorrected`.

Read the file by `_id`, decide in memory (`domain.corrections`), write it once, then the outbox
publishes the correction event stored in the file's revision and marks it (`published`:
`vehicles/{file id}` -> the highest file revision whose correction is out). A redelivered result
changes nothing and republishes only what is not marked yet (the same event id).
"""

from __future__ import annotations

import asyncio
import logging

from aftersales_contracts import CallOutcome, ContactResult
from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox, Pending

from aftersales_intake.domain.corrections import apply_result, unpublished
from aftersales_intake.store import VEHICLES, Doc, IntakeStore


def concerns_the_file(result: ContactResult) -> bool:
    return result.outcome is CallOutcome.OPTED_OUT or bool(
        result.data_check and result.data_check.changes()
    )


class ContactResults:
    def __init__(
        self,
        store: IntakeStore,
        outbox: Outbox,
        clock: Clock,
        logger: logging.Logger,
        files_lock: asyncio.Lock,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.logger = logger
        self.files_lock = files_lock  # the pipeline's: one writer of vehicle files at a time

    async def record(self, result: ContactResult) -> None:
        if not concerns_the_file(result):
            return
        async with self.files_lock:
            file = await self.store.vehicle(result.dealer_id, result.vin)
            if file is None:
                self.logger.warning(
                    "contact result for a vehicle without a file",
                    extra={"dealer_id": result.dealer_id, "contact_id": result.contact_id},
                )
                return
            applied = apply_result(file, result, self.clock.now())
            if applied is not None:
                await self.store.save_vehicle(applied.file, file)
                file = applied.file
        await self._publish(file)

    async def _publish(self, file: Doc) -> None:
        if not any(r.get("event") for r in file.get("revisions", [])):
            return
        marks = await self.outbox.published_revisions(VEHICLES, [file["_id"]])
        pending = [
            Pending(VEHICLES, file["_id"], (event,), revision)
            for revision, event in unpublished(file, marks.get(file["_id"], 0))
        ]
        if pending:
            await self.outbox.flush(pending)
