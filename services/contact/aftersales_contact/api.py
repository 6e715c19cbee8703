"""HTTP API for the agents' tools: claim a task, hold or give back its lease, record its result,
list a dealer's open queue.

Every route declares its roles (`allow`); the agent is the token's subject, never a name the
client writes. The whole phone number goes only to the agent who just took the task's lease, and
that reveal is written to the audit first (D3).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from aftersales_contracts import Channel, ContactPurpose
from aftersales_contracts.questionnaires import Questionnaire
from aftersales_runtime.audit import RevealAudit, audit_router
from aftersales_runtime.auth import Caller, allow, require_dealer
from aftersales_runtime.paging import Paged
from aftersales_runtime.privacy import mask_phone
from fastapi import APIRouter, Body, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from aftersales_contact.claims import LeaseConflict, claim_next_task, extend_lease, release_lease
from aftersales_contact.desk import Desk
from aftersales_contact.domain.tasks import TaskState, task_state
from aftersales_contact.results import (
    CallAnswer,
    Conflict,
    InvalidResult,
    Publish,
    ResultSubmission,
    TaskNotFound,
    record_result,
)
from aftersales_contact.store import Doc

#: Who may see a dealer's queue (names, masked phones): the agents and the people over them.
QUEUE_READERS = ("agent", "service_manager", "cr_manager", "gm")


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Optional, and if given it must be the token's subject: the agent is who the token says.
    agent_id: str | None = None
    #: Only tasks with one of these purposes / on one of these channels (none given: any).
    purposes: list[ContactPurpose] = Field(default_factory=list, max_length=20)
    channels: list[Channel] = Field(default_factory=list, max_length=5)


class LeaseAnswer(BaseModel):
    task_id: str
    agent_id: str
    lease_expires_at: datetime


class ResultRequest(CallAnswer):
    #: Optional, and if given it must be the token's subject.
    agent_id: str | None = None


def _agent(caller: Caller, claimed: str | None) -> str:
    if claimed is not None and claimed != caller.sub:
        raise HTTPException(403, "agent_id must be the token's subject (or left out)")
    return caller.sub


def _claimed_task(task: Doc, questionnaires: list[Questionnaire]) -> dict[str, Any]:
    # Only the agent working the task sees the customer's whole phone number (D3).
    return {
        "task_id": task["_id"],
        "contact_id": task["contact_id"],
        "purposes": task["purposes"],
        "channel": task["channel"],
        "due_at": task["due_at"],
        "attempt": task["attempt"],
        "customer": task["customer"],
        "vehicle": task["vehicle"],
        "work_order_id": task.get("work_order_id"),
        "service_advisor": task.get("service_advisor"),
        "sales_consultant": task.get("sales_consultant"),
        "timely_until": task.get("timely_until"),
        "lease_expires_at": task["lease_expires_at"],
        # D16/D17: the questions to read out, in order, for the task's purposes.
        "questionnaires": [q.model_dump(mode="json") for q in questionnaires],
    }


def _listed_task(task: Doc, state: TaskState) -> dict[str, Any]:
    customer = task["customer"]
    return {
        "task_id": task["_id"],
        "contact_id": task["contact_id"],
        "state": state.value,
        "purposes": task["purposes"],
        "channel": task["channel"],
        "due_at": task["due_at"],
        "attempt": task["attempt"],
        "customer": {
            "customer_id": customer["customer_id"],
            "name": customer["name"],
            "phone": mask_phone(customer["phone"]),  # D3
        },
        "vehicle": task["vehicle"],
        "work_order_id": task.get("work_order_id"),
        "service_advisor": task.get("service_advisor"),
        "lease_agent": task.get("lease_agent") if state is TaskState.CLAIMED else None,
        "lease_expires_at": task.get("lease_expires_at") if state is TaskState.CLAIMED else None,
    }


LEASE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such task (or another dealer's)"},
    409: {"description": "the task is not leased to this agent (never was, ran out, released)"},
}


def tasks_router(desk: Desk, publish: Publish, logger: logging.Logger) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["tasks"])
    store, clock = desk.store, desk.clock
    audit = RevealAudit(store.db, clock)
    router.include_router(audit_router(audit, "contact"))

    @router.post(
        "/dealers/{dealer_id}/tasks/claim",
        responses={204: {"description": "the dealer's queue has no open task"}},
    )
    async def claim(
        dealer_id: str,
        caller: Annotated[Caller, allow("agent")],
        body: Annotated[ClaimRequest | None, Body()] = None,
    ) -> Any:
        agent_id = _agent(caller, body.agent_id if body else None)
        task = await claim_next_task(
            desk,
            dealer_id,
            agent_id,
            [p.value for p in body.purposes] if body else (),
            [c.value for c in body.channels] if body else (),
        )
        if task is None:
            return Response(status_code=204)
        what = {
            "task_id": task["_id"],
            "customer_id": task["customer"]["customer_id"],
            "field": "customer.phone",
        }
        await audit.record(caller, dealer_id, what, "claimed the task")
        logger.info(
            "task claimed",
            extra={"task_id": task["_id"], "agent_id": agent_id, "dealer_id": dealer_id},
        )
        return _claimed_task(task, desk.questionnaires_for(dealer_id, task["purposes"]))

    @router.post(
        "/tasks/{task_id}/result",
        responses={
            404: {"description": "no such task"},
            409: {"description": "not leased to this agent, or another result was recorded"},
            422: {"description": "the result breaks a rule (e.g. scores missing)"},
        },
    )
    async def submit_result(
        task_id: str, body: ResultRequest, caller: Annotated[Caller, allow("agent")]
    ) -> dict[str, Any]:
        task = await store.task(task_id)
        require_dealer(caller, task["dealer_id"] if task else None, f"no task {task_id}")
        submission = ResultSubmission(
            **body.model_dump(exclude={"agent_id"}), agent_id=_agent(caller, body.agent_id)
        )
        try:
            event = await record_result(desk, publish, logger, task_id, submission, task)
        except TaskNotFound as error:
            raise HTTPException(404, f"no task {task_id}") from error
        except InvalidResult as error:
            raise HTTPException(
                422,
                [
                    {"field": f"body.{field}", "code": "value_error", "message": why}
                    for field, why in error.problems
                ],
            ) from error
        except Conflict as error:
            raise HTTPException(409, str(error)) from error
        return event.model_dump(mode="json")

    async def _own_task(task_id: str, caller: Caller) -> Doc:
        task = await store.task(task_id)
        if task is None:
            raise HTTPException(404, f"no task {task_id}")
        require_dealer(caller, task["dealer_id"], f"no task {task_id}")
        return task

    @router.post("/tasks/{task_id}/lease", responses=LEASE_ERRORS)
    async def extend(task_id: str, caller: Annotated[Caller, allow("agent")]) -> LeaseAnswer:
        """Heartbeat: the caller's lease on the task now ends one lease length from now."""
        task = await _own_task(task_id, caller)
        try:
            lease = await extend_lease(desk, task, caller.sub)
        except LeaseConflict as error:
            raise HTTPException(409, str(error)) from error
        return LeaseAnswer(
            task_id=task_id, agent_id=caller.sub, lease_expires_at=lease["expires_at"]
        )

    @router.delete("/tasks/{task_id}/lease", status_code=204, responses=LEASE_ERRORS)
    async def release(task_id: str, caller: Annotated[Caller, allow("agent")]) -> Response:
        """The caller gives the task back: it is open again at once."""
        task = await _own_task(task_id, caller)
        try:
            await release_lease(desk, task, caller.sub)
        except LeaseConflict as error:
            raise HTTPException(409, str(error)) from error
        return Response(status_code=204)

    @router.api_route(
        "/tasks/{task_id}/lease",
        methods=["GET", "HEAD", "PUT", "PATCH", "OPTIONS"],
        include_in_schema=False,
    )
    async def lease_methods(task_id: str) -> Response:
        # Starlette's 405 names only the first route of the path (POST); the lease has two.
        raise HTTPException(405, "Method Not Allowed", headers={"Allow": "POST, DELETE"})

    @router.get("/dealers/{dealer_id}/tasks")
    async def list_tasks(
        dealer_id: str,
        caller: Annotated[Caller, allow(*QUEUE_READERS)],
        page: Paged,
        state: Literal["open", "claimed"] | None = None,
    ) -> dict[str, Any]:
        """A page of the dealer's open queue (open and claimed tasks, never finished ones), in
        queue order; phones masked (D3)."""
        now = clock.now()
        listed: list[dict[str, Any]] = []
        passed = 0
        batch: list[str] = []

        async def take(task_ids: list[str]) -> bool:
            """Add the batch's tasks in the asked state to the page; True when it is full."""
            nonlocal passed
            for task in await store.tasks_by_id(task_ids):
                current = task_state(task.get("done", False), task.get("lease_expires_at"), now)
                if current is TaskState.DONE or (state is not None and current.value != state):
                    continue
                if passed < page.skip:
                    passed += 1
                    continue
                listed.append(_listed_task(task, current))
                if len(listed) >= page.limit:
                    return True
            return False

        full = False
        async for entry in desk.queue.entries(dealer_id):
            batch.append(entry.task_id)
            if len(batch) >= page.limit:
                full, batch = await take(batch), []
                if full:
                    break
        if not full:
            await take(batch)
        return {"dealer_id": dealer_id, "tasks": listed}

    return router
