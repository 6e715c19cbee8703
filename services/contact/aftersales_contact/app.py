"""Composition root of the contact service: settings, runtime, store, subscriber, HTTP API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import faststream
from aftersales_contracts import ContactDue, ContactExpired, ContactResult, topics
from aftersales_runtime.clock import Clock
from aftersales_runtime.relay import PendingPublications
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_contact.api import tasks_router
from aftersales_contact.desk import Desk
from aftersales_contact.expiry_sweep import expire_overdue
from aftersales_contact.handlers import when_contact_due_queue_task
from aftersales_contact.open_queue import OpenQueue
from aftersales_contact.queue_metrics import watch_queue_depth
from aftersales_contact.results import republish_result
from aftersales_contact.settings import ContactSettings
from aftersales_contact.store import ContactStore

SERVICE = "contact"


@dataclass
class ContactService:
    runtime: Runtime
    desk: Desk
    app: FastAPI

    @property
    def store(self) -> ContactStore:
        return self.desk.store


def build(settings: ContactSettings, clock: Clock | None = None) -> ContactService:
    runtime = Runtime(SERVICE, settings, clock=clock)
    store = ContactStore(runtime.db)
    desk = Desk(
        store=store,
        queue=OpenQueue(runtime.db),
        clock=runtime.clock,
        lease=timedelta(seconds=settings.lease_seconds),
        priorities=settings.purpose_priority,
        expire_after_days=settings.expire_after_days,
        pending=PendingPublications(runtime.db, runtime.clock),
    )
    runtime.uses_topics(topics.CONTACT_DUE)
    watch_queue_depth(runtime, desk.queue)
    runtime.produces(ContactResult, ContactExpired)

    @runtime.broker.subscriber(
        settings.topic(topics.CONTACT_DUE),
        group_id=settings.consumer_group(SERVICE),
        auto_offset_reset="earliest",
    )
    async def queue_due_contact(event: ContactDue) -> None:
        await when_contact_due_queue_task(event, desk, runtime.publish, runtime.logger)

    @runtime.background
    async def sweep_expired_follow_ups() -> None:
        while True:
            try:
                await expire_overdue(desk, runtime.publish, runtime.dealers.ids(), runtime.logger)
            except Exception:  # the sweep comes back; one failure must not stop it for good
                runtime.logger.exception("expiry sweep failed")
            await asyncio.sleep(settings.expiry_sweep_seconds)

    @runtime.background
    async def relay_accepted_results() -> None:
        # A result accepted while Kafka was down goes out when it is back, whether or not the
        # agent's tool ever retries (issue 18: an accepted request is never half-done).
        await desk.pending.run_forever(
            lambda task_id: republish_result(desk, runtime.publish, task_id), runtime.logger
        )

    router = tasks_router(desk, runtime.publish, runtime.logger)
    return ContactService(runtime=runtime, desk=desk, app=runtime.http_app(router))


def create_app(settings: ContactSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ContactSettings()).runtime.asyncapi_app()
