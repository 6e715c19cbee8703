"""Composition root of the contact service: settings, runtime, stores, the SMS channel, the
subscribers, the background sweeps and the HTTP API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import faststream
from aftersales_contracts import ContactExpired, ContactResult, DeliverySurveyed
from aftersales_contracts.questionnaires import QuestionnaireCatalogue
from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.relay import PendingPublications
from aftersales_runtime.service import Runtime
from fastapi import APIRouter, FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_contact import subscribers
from aftersales_contact.api import tasks_router
from aftersales_contact.delivery_surveys import delivery_survey_router
from aftersales_contact.desk import Desk, SmsChannel
from aftersales_contact.expiry_sweep import expire_overdue
from aftersales_contact.open_queue import OpenQueue
from aftersales_contact.queue_metrics import watch_queue_depth
from aftersales_contact.results import republish_result
from aftersales_contact.settings import ContactSettings, DealerContactSettings
from aftersales_contact.sms_api import sms_router
from aftersales_contact.sms_channel import cascade_unanswered
from aftersales_contact.sms_provider import AlibabaCloudSms
from aftersales_contact.sms_store import SmsStore
from aftersales_contact.store import ContactStore, Doc
from aftersales_contact.subscribers import SERVICE


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
        catalogue=QuestionnaireCatalogue.load(settings.questionnaires_file),
        dealers=runtime.dealers,
        removal_linger=settings.queue_removal_linger_ms / 1000,
    )
    desk.sms = sms_channel_of(settings, runtime.db)
    for dealer in runtime.dealers:  # a dealer's own settings are checked at start, not at use
        DealerContactSettings.model_validate(dealer.overrides(SERVICE))
    runtime.produces(ContactResult, ContactExpired, DeliverySurveyed)
    subscribers.register(runtime, settings, desk)
    watch_queue_depth(runtime, desk.queue)

    @runtime.background
    async def sweep_expired_follow_ups() -> None:
        while True:
            try:
                await expire_overdue(desk, runtime.publish, runtime.dealers.ids(), runtime.logger)
                if desk.sms is not None:
                    await cascade_unanswered(desk, desk.sms, runtime.dealers.ids(), runtime.logger)
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

    router = APIRouter()
    router.include_router(tasks_router(desk, runtime.publish, runtime.logger))
    router.include_router(sms_router(desk, runtime.publish, runtime.logger))
    router.include_router(
        delivery_survey_router(desk, Outbox(runtime.db, runtime.events.publish_all))
    )
    return ContactService(runtime=runtime, desk=desk, app=runtime.http_app(router))


def sms_channel_of(settings: ContactSettings, db: AsyncDatabase[Doc]) -> SmsChannel | None:
    """D14: the SMS channel of the configured provider; None sends nothing by SMS."""
    if settings.sms_provider == "none":
        return None
    provider = AlibabaCloudSms(
        endpoint=settings.sms_endpoint,
        access_key_id=settings.sms_access_key_id,
        access_key_secret=settings.sms_access_key_secret.get_secret_value(),
        sign_name=settings.sms_sign_name,
        protocol=settings.sms_protocol,
    )
    return SmsChannel(
        provider=provider,
        store=SmsStore(db),
        templates=settings.sms_templates,
        cascade_after=timedelta(hours=settings.sms_cascade_hours),
    )


def create_app(settings: ContactSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ContactSettings()).runtime.asyncapi_app()
