"""The Kafka broker every service uses, and the one way to publish a contract event.

Delivery is at least once with effects exactly once (ARCHITECTURE):
- offsets are committed only after the handler returned (ack policy NACK_ON_ERROR: an error seeks
  back so the message comes again; FastStream's default ACK_FIRST would lose it);
- producers are idempotent with acks=all;
- a message that keeps failing is parked on the dead-letter topic (see `deadletter.py`), so the
  partition keeps flowing and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aftersales_contracts.envelope import Event
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import DefaultPublisher as AsyncAPIPublisher

from aftersales_runtime.deadletter import DEAD_LETTER_MAX_BYTES, DeadLetterMiddleware
from aftersales_runtime.kafka_access import broker_security, kafka_client_options
from aftersales_runtime.problems import waiting_on
from aftersales_runtime.settings import ServiceSettings
from aftersales_runtime.tracing import within_work_order_trace

EVENT_TYPE_HEADER = "event-type"
SCHEMA_VERSION_HEADER = "schema-version"
CORRELATION_HEADER = "correlation-id"


def make_broker(settings: ServiceSettings, service: str, logger: logging.Logger) -> KafkaBroker:
    options = kafka_client_options(settings)
    broker = KafkaBroker(
        options["bootstrap_servers"],
        security=broker_security(options),
        client_id=service,
        enable_idempotence=True,
        acks="all",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        logger=logger,
        graceful_timeout=30.0,
        max_request_size=DEAD_LETTER_MAX_BYTES,  # the other topics keep the broker's own limit
    )
    broker.add_middleware(DeadLetterMiddleware(broker, settings, service, logger))
    return broker


def event_headers(event: Event) -> dict[str, str]:
    return {
        EVENT_TYPE_HEADER: type(event).__name__,
        SCHEMA_VERSION_HEADER: str(event.schema_version),
        CORRELATION_HEADER: event.correlation_id,
    }


class EventPublishers:
    """The contract events a service produces, declared when it is built.

    Declaring them makes each one a FastStream publisher, so the service's AsyncAPI document lists
    what it produces next to what it consumes; publishing an undeclared event is a bug, refused.
    """

    def __init__(self, broker: KafkaBroker, settings: ServiceSettings) -> None:
        self.broker = broker
        self.settings = settings
        self._by_type: dict[type[Event], AsyncAPIPublisher] = {}
        # Called with each event once Kafka acknowledged it (metrics count them by type).
        self.on_publish: list[Callable[[Event], None]] = []

    def declare(self, *event_types: type[Event]) -> list[str]:
        topics = []
        for event_type in event_types:
            topic = self.settings.topic(event_type.TOPIC)
            self._by_type[event_type] = self.broker.publisher(
                topic,
                schema=event_type,
                title=f"{topic}:{event_type.__name__}",
                description=(event_type.__doc__ or "").strip() or None,
            )
            topics.append(topic)
        return topics

    async def publish(self, event: Event) -> None:
        """Publish on the event's topic, keyed by dealer (one writer per dealer)."""
        with waiting_on("kafka"), within_work_order_trace(event.correlation_id):
            await self._publisher(event).publish(
                event.model_dump_json().encode(),
                key=event.key(),
                headers=event_headers(event),
                correlation_id=event.correlation_id,
            )
        self._published([event])

    async def publish_all(self, events: Sequence[Event]) -> None:
        """Publish several events with one flush: each is handed to the producer in order (so
        one dealer's events keep their order on its partition), then all acknowledgements are
        awaited together. Returns when every one is acknowledged; raises if any failed."""
        pending = []
        for event in events:
            with within_work_order_trace(event.correlation_id):
                sent = await self._publisher(event).publish(
                    event.model_dump_json().encode(),
                    key=event.key(),
                    headers=event_headers(event),
                    correlation_id=event.correlation_id,
                    no_confirm=True,
                )
            if isinstance(sent, asyncio.Future):  # TestKafkaBroker delivers at once, no future
                pending.append(sent)
        with waiting_on("kafka"):
            await asyncio.gather(*pending)
        self._published(events)

    def _published(self, events: Sequence[Event]) -> None:
        for observe in self.on_publish:
            for event in events:
                observe(event)

    def _publisher(self, event: Event) -> AsyncAPIPublisher:
        publisher = self._by_type.get(type(event))
        if publisher is None:
            raise LookupError(
                f"{type(event).__name__} is not declared: call runtime.produces("
                f"{type(event).__name__}) where the service is built"
            )
        return publisher


async def publish_event(broker: KafkaBroker, settings: ServiceSettings, event: Event) -> None:
    """Publish an event a service did not declare: for tests and tools that stand in for the
    service that owns the topic. Services themselves use `runtime.produces` / `runtime.publish`."""
    await broker.publish(
        event.model_dump_json().encode(),
        topic=settings.topic(event.TOPIC),
        key=event.key(),
        headers=event_headers(event),
        correlation_id=event.correlation_id,
    )
