"""HTTP API for the agents' tools: claim a task, record its result, list a dealer's queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Literal

from aftersales_contracts.primitives import NonEmptyStr
from aftersales_runtime.clock import Clock
from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict

from aftersales_contact.agents import (
    Conflict,
    InvalidResult,
    Publish,
    ResultSubmission,
    TaskNotFound,
    claim_next_task,
    record_result,
)
from aftersales_contact.domain.tasks import TaskState, mask_phone, task_state
from aftersales_contact.store import ContactStore, Doc


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: NonEmptyStr


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

    @router.post(
        "/dealers/{dealer_id}/tasks/claim",
        responses={204: {"description": "the dealer's queue has no open task"}},
    )
    async def claim(dealer_id: str, body: ClaimRequest) -> Any:
        task = await claim_next_task(store, clock, dealer_id, body.agent_id, lease)
        if task is None:
            return Response(status_code=204)
        logger.info(
            "task claimed",
            extra={"task_id": task["_id"], "agent_id": body.agent_id, "dealer_id": dealer_id},
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
    async def submit_result(task_id: str, body: ResultSubmission) -> dict[str, Any]:
        try:
            event = await record_result(store, clock, publish, logger, task_id, body)
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
        dealer_id: str, state: Literal["open", "claimed", "done"] | None = None
    ) -> dict[str, Any]:
        now = clock.now()
        listed = []
        for task in await store.dealer_tasks(dealer_id):
            current = task_state(task.get("done", False), task.get("lease_expires_at"), now)
            if state is None or current.value == state:
                listed.append(_listed_task(task, current))
        return {"dealer_id": dealer_id, "tasks": listed}

    return router
