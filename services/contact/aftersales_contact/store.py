"""The contact service's MongoDB: tasks, the leases agents take on them, and recorded results.

FerretDB v1 updates are not atomic against a concurrent writer, but an insert that collides on
`_id` is (ARCHITECTURE: Storage). So the two things that must happen at most once are inserts
with deterministic ids: a task per (contact, attempt), a lease number per task, a result per
task. Fields like `lease_no` on the task document are only hints for the next reader.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_contracts import ContactDue
from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_contact.domain.tasks import TaskState, lease_id_for, task_id_for, task_state

Doc = dict[str, Any]


def task_document(event: ContactDue, queued_at: datetime) -> Doc:
    task_id = task_id_for(event.contact_id, event.attempt)
    advisor = event.service_advisor
    return {
        "_id": task_id,
        "dealer_id": event.dealer_id,
        "contact_id": event.contact_id,
        "attempt": event.attempt,
        "purposes": [p.value for p in event.purposes],
        "channel": event.channel.value,
        "due_at": event.due_at,
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
        "correlation_id": event.correlation_id,
        "cause_event_id": event.event_id,
        "queued_at": queued_at,
        "done": False,
        "lease_no": 0,
        "lease_agent": None,
        "lease_expires_at": None,
    }


class ContactStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.tasks = db["tasks"]
        self.leases = db["leases"]
        self.results = db["results"]

    async def create_indexes(self) -> None:
        # Queue reads filter by dealer; on MongoDB this index serves them, FerretDB scans.
        await self.tasks.create_index([("dealer_id", 1), ("done", 1), ("due_at", 1)])

    async def add_task(self, document: Doc) -> bool:
        return await insert_once(self.db, "tasks", document)

    async def task(self, task_id: str) -> Doc | None:
        return await self.tasks.find_one({"_id": task_id})

    async def claim_next(
        self, dealer_id: str, agent_id: str, now: datetime, expires_at: datetime
    ) -> Doc | None:
        """Lease the oldest-due open task of the dealer to the agent; None when none is free."""
        cursor = self.tasks.find({"dealer_id": dealer_id, "done": False}).sort(
            [("due_at", 1), ("_id", 1)]
        )
        async for task in cursor:
            if task_state(False, task.get("lease_expires_at"), now) is TaskState.CLAIMED:
                continue
            if await self.results.find_one({"_id": task["_id"]}, {"_id": 1}):
                # A result was stored but the process stopped before marking the task done.
                await self.mark_done(task["_id"])
                continue
            lease = await self._take_lease(task, agent_id, now, expires_at)
            if lease is None:
                continue
            await self.tasks.update_one(
                {"_id": task["_id"]},
                {
                    "$set": {
                        "lease_no": lease["lease_no"],
                        "lease_agent": agent_id,
                        "lease_expires_at": expires_at,
                    }
                },
            )
            return {
                **task,
                "lease_no": lease["lease_no"],
                "lease_agent": agent_id,
                "lease_expires_at": expires_at,
            }
        return None

    async def _take_lease(
        self, task: Doc, agent_id: str, now: datetime, expires_at: datetime
    ) -> Doc | None:
        lease_no = int(task.get("lease_no") or 0) + 1
        while True:
            lease = {
                "_id": lease_id_for(task["_id"], lease_no),
                "task_id": task["_id"],
                "lease_no": lease_no,
                "agent_id": agent_id,
                "claimed_at": now,
                "expires_at": expires_at,
            }
            if await insert_once(self.db, "leases", lease):
                return lease
            taken = await self.leases.find_one({"_id": lease["_id"]})
            if taken is not None and taken["expires_at"] > now:
                return None  # another agent holds this task
            lease_no += 1  # that lease ran out (the task hint was behind): try the next one

    async def current_lease(self, task: Doc) -> Doc | None:
        """The newest lease of the task, found by `_id` probes from the task's hint onwards."""
        lease_no = int(task.get("lease_no") or 0)
        current = await self.leases.find_one({"_id": lease_id_for(task["_id"], lease_no)})
        while True:
            following = await self.leases.find_one({"_id": lease_id_for(task["_id"], lease_no + 1)})
            if following is None:
                return current
            current, lease_no = following, lease_no + 1

    async def mark_done(self, task_id: str) -> None:
        await self.tasks.update_one({"_id": task_id}, {"$set": {"done": True}})

    async def result(self, task_id: str) -> Doc | None:
        return await self.results.find_one({"_id": task_id})

    async def add_result(self, document: Doc) -> bool:
        return await insert_once(self.db, "results", document)

    async def mark_published(self, task_id: str) -> None:
        await self.results.update_one({"_id": task_id}, {"$set": {"published": True}})

    async def dealer_tasks(self, dealer_id: str) -> list[Doc]:
        cursor = self.tasks.find({"dealer_id": dealer_id}).sort([("due_at", 1), ("_id", 1)])
        return [task async for task in cursor]
