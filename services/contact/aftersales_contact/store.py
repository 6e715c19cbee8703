"""The contact service's MongoDB: tasks, the leases agents take on them, and recorded results.

FerretDB v1 updates are not atomic against a concurrent writer, but an insert that collides on
`_id` is (ARCHITECTURE: Storage). So the two things that must happen at most once are inserts
with deterministic ids: a task per (contact, attempt), a lease number per task, a result per
task. Fields like `lease_no` on the task document are only hints for the next reader.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aftersales_contracts import ContactDue
from aftersales_runtime.bulk import find_by_ids, insert_new
from aftersales_runtime.grouped import Grouped
from aftersales_runtime.packing import pack_document, unpack_document
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_contact.domain.tasks import lease_id_for, task_id_for

Doc = dict[str, Any]


def task_document(event: ContactDue, queued_at: datetime) -> Doc:
    task_id = task_id_for(event.contact_id, event.attempt)
    advisor, consultant = event.service_advisor, event.sales_consultant
    return {
        "_id": task_id,
        "dealer_id": event.dealer_id,
        "contact_id": event.contact_id,
        "attempt": event.attempt,
        "purposes": [p.value for p in event.purposes],
        "channel": event.channel.value,
        "due_at": event.due_at,
        "timely_until": event.timely_until,  # D6: made by then = in time
        "customer": {
            "customer_id": event.customer.customer_id,
            "name": event.customer.name,
            "phone": event.customer.phone,
        },
        "vehicle": {
            "vin": event.vehicle.vin,
            "plate": event.vehicle.plate,
            "brand": event.vehicle.brand,
            "model": event.vehicle.model,
        },
        "work_order_id": event.work_order_id,
        "service_advisor": advisor.model_dump() if advisor else None,
        "technicians": [t.model_dump() for t in event.technicians],
        "sales_consultant": consultant.model_dump() if consultant else None,  # D24
        "correlation_id": event.correlation_id,
        "cause_event_id": event.event_id,
        "queued_at": queued_at,
        "done": False,
        "lease_no": 0,
        "lease_agent": None,
        "lease_expires_at": None,
    }


def result_document(task: Doc, submission: Doc, event: Doc, recorded_at: datetime) -> Doc:
    """A recorded result, `_id` = the task's: inserting it is what makes a result happen once."""
    return {
        "_id": task["_id"],
        "dealer_id": task["dealer_id"],
        "submission": submission,
        "event": event,
        "recorded_at": recorded_at,
    }


TASKS, LEASES, RESULTS = "tasks", "leases", "results"
#: A task's fields written after its insert (the lease hint, done, the SMS cascade's channel) stay
#: at the top level; the rest is packed in one binary (`packing.pack_document`): FerretDB reads
#: and rewrites a document at a cost that follows its number of values, and an agent's answer
#: reads its task twice and updates it twice (a find 0.87 -> 0.53 ms of FerretDB's CPU here, a
#: `$set` 1.07 -> 0.75 ms). Tasks are read by `_id` only.
TASK_TOP_LEVEL = ("dealer_id", "done", "lease_no", "lease_agent", "lease_expires_at", "channel")


def stored_task(document: Doc) -> Doc:
    return pack_document(document, TASK_TOP_LEVEL)


#: A result is inserted once and never changed (its publication is its pending entry's removal,
#: `results.is_published`): packed but its dealer; results stored before, unpacked, are read as
#: they are.
RESULT_TOP_LEVEL = ("dealer_id",)


def stored_result(document: Doc) -> Doc:
    return pack_document(document, RESULT_TOP_LEVEL)


class ContactStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.tasks = db[TASKS]
        self.leases = db[LEASES]
        self.results = db[RESULTS]
        # The agents' concurrent claims and submits read and write these together (grouped.py).
        self._tasks_by_id = Grouped(self.tasks)
        self._leases_by_id = Grouped(self.leases)
        self._results_by_id = Grouped(self.results)

    async def add_task(self, document: Doc) -> bool:
        return await self._tasks_by_id.insert_once(stored_task(document))

    async def insert_tasks(self, documents: list[Doc]) -> set[str]:
        """Insert the tasks in one command; returns the ids that were already there."""
        return await insert_new(self.db, TASKS, [stored_task(d) for d in documents])

    async def task(self, task_id: str) -> Doc | None:
        found = await self._tasks_by_id.find(task_id)
        return unpack_document(found) if found is not None else None

    async def tasks_found(self, task_ids: list[str]) -> dict[str, Doc]:
        """The tasks found among `task_ids`, by `_id` (one `$in` read)."""
        found = await find_by_ids(self.db, TASKS, task_ids)
        return {task_id: unpack_document(doc) for task_id, doc in found.items()}

    async def take_lease(
        self, task: Doc, agent_id: str, now: datetime, expires_at: datetime, known_no: int
    ) -> tuple[Doc, bool]:
        """Take the task's next lease: (the lease, True), or (another agent's live lease, False).

        Lease n+1 is inserted only after lease n was seen ended, and of concurrent inserts of
        one number exactly one succeeds (atomic on `_id`, in any process): so two live leases
        of one task never exist. `known_no` is the newest lease number the caller knows of
        (the task's hint, which may be behind: then the probe walks forward)."""
        lease_no = known_no
        while True:
            if lease_no > 0:
                current = await self._leases_by_id.find(lease_id_for(task["_id"], lease_no))
                if current is not None and current["expires_at"] > now:
                    return current, False
            lease = {
                "_id": lease_id_for(task["_id"], lease_no + 1),
                "task_id": task["_id"],
                "lease_no": lease_no + 1,
                "agent_id": agent_id,
                "claimed_at": now,
                "expires_at": expires_at,
            }
            if await self._leases_by_id.insert_once(lease):
                return lease, True
            lease_no += 1  # someone took that number first: look at it

    async def note_lease(self, task_id: str, lease: Doc) -> None:
        """The task's lease hint (number, holder, end) for the next reader and the lists."""
        await self._tasks_by_id.update(
            task_id,
            {
                "$set": {
                    "lease_no": lease["lease_no"],
                    "lease_agent": lease["agent_id"],
                    "lease_expires_at": lease["expires_at"],
                }
            },
        )

    async def set_lease_end(self, lease: Doc, expires_at: datetime) -> Doc:
        """Only the holder moves its lease's end (heartbeat or release): one writer per lease."""
        await self._leases_by_id.update(lease["_id"], {"$set": {"expires_at": expires_at}})
        return {**lease, "expires_at": expires_at}

    async def lease_after(self, lease: Doc) -> Doc | None:
        return await self._leases_by_id.find(
            lease_id_for(lease["task_id"], int(lease["lease_no"]) + 1)
        )

    async def current_lease(self, task: Doc) -> Doc | None:
        """The newest lease of the task, found by `_id` probes from the task's hint onwards."""
        lease_no = int(task.get("lease_no") or 0)
        hinted, after = lease_id_for(task["_id"], lease_no), lease_id_for(task["_id"], lease_no + 1)
        # The hint and the next, in one read (with the other requests' reads of the moment).
        current, following = await asyncio.gather(
            self._leases_by_id.find(hinted), self._leases_by_id.find(after)
        )
        while following is not None:
            current, lease_no = following, lease_no + 1
            following = await self._leases_by_id.find(lease_id_for(task["_id"], lease_no + 1))
        return current

    async def mark_done(self, task_id: str) -> None:
        await self._tasks_by_id.update(task_id, {"$set": {"done": True}})

    async def result(self, task_id: str) -> Doc | None:
        found = await self._results_by_id.find(task_id)
        return unpack_document(found) if found else None

    async def add_result(self, document: Doc) -> bool:
        return await self._results_by_id.insert_once(stored_result(document))

    async def tasks_by_id(self, task_ids: list[str]) -> list[Doc]:
        """Tasks by `_id`, in the order asked (one `$in` read)."""
        found = await self.tasks_found(task_ids)
        return [found[t] for t in task_ids if t in found]

    async def load_tasks(self, documents: list[Doc]) -> None:
        """Bulk insert (loaders and benchmarks): tasks, in commands of 1,000."""
        stored = [stored_task(d) for d in documents]
        for start in range(0, len(stored), 1000):
            await self.tasks.insert_many(stored[start : start + 1000], ordered=False)

    async def load_results(self, documents: list[Doc]) -> None:
        """Bulk insert (loaders and benchmarks): results, in commands of 1,000."""
        stored = [stored_result(d) for d in documents]
        for start in range(0, len(stored), 1000):
            await self.results.insert_many(stored[start : start + 1000], ordered=False)
