"""HTTP API for the agents' tools: claim a task, record its result, list a dealer's queue.

Every route declares its roles (`allow`); the agent is the token's subject, never a name the
client writes. The whole phone number goes only to the agent who just took the task's lease, and
that reveal is written to the audit first (D3).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any, Literal

from aftersales_runtime.audit import RevealAudit, audit_router
from aftersales_runtime.auth import Caller, allow, require_dealer
from aftersales_runtime.clock import Clock
from aftersales_runtime.paging import Paged
from aftersales_runtime.privacy import mask_phone
from fastapi import APIRouter, Body, HTTPException, Response
from pydantic import BaseModel, ConfigDict

from aftersales_contact.agents import (
    CallAnswer,
    Conflict,
    InvalidResult,
    Publish,
    ResultSubmission,
    TaskNotFound,
    claim_next_task,
    record_result,
)
from aftersales_contact.domain.tasks import TaskState, task_state
from aftersales_contact.store import ContactStore, Doc

#: Who may see a dealer's queue (names, masked phones): the agents and the people over them.
QUEUE_READERS = ("agent", "service_manager", "cr_manager", "gm")


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Optional, and if given it must be the token's subject: the agent is who the token says.
    agent_id: str | None = None


class ResultRequest(CallAnswer):
    #: Optional, and if given it must be the token's subject.
    agent_id: str | None = None


def _agent(caller: Caller, claimed: str | None) -> str:
    if claimed is not None and claimed != caller.sub:
        raise HTTPException(403, "agent_id must be the token's subject (or left out)")
    return caller.sub


def _claimed_task(task: Doc) -> dict[str, Any]:
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
        "lease_expires_at": task["lease_expires_at"],
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


def tasks_router(
    store: ContactStore, clock: Clock, lease: timedelta, publish: Publish, logger: logging.Logger
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["tasks"])
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
        task = await claim_next_task(store, clock, dealer_id, agent_id, lease)
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
        return _claimed_task(task)

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
            event = await record_result(store, clock, publish, logger, task_id, submission)
        except TaskNotFound as error:
            raise HTTPException(404, f"no task {task_id}") from error
        except InvalidResult as error:
            raise HTTPException(
                422, [{"loc": ["body"], "msg": p, "type": "value_error"} for p in error.problems]
            ) from error
        except Conflict as error:
            raise HTTPException(409, str(error)) from error
        return event.model_dump(mode="json")

    @router.get("/dealers/{dealer_id}/tasks")
    async def list_tasks(
        dealer_id: str,
        caller: Annotated[Caller, allow(*QUEUE_READERS)],
        page: Paged,
        state: Literal["open", "claimed", "done"] | None = None,
    ) -> dict[str, Any]:
        """A page of the dealer's tasks, oldest due first; phones masked (D3)."""
        now = clock.now()
        listed = []
        for task in await store.dealer_tasks(dealer_id):
            current = task_state(task.get("done", False), task.get("lease_expires_at"), now)
            if state is None or current.value == state:
                listed.append(_listed_task(task, current))
        return {"dealer_id": dealer_id, "tasks": listed[page.skip : page.skip + page.limit]}

    return router
