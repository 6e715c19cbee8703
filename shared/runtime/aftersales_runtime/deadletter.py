"""Bounded retries, then the dead-letter topic; and the command that replays parked messages.

A message is tried up to `max_attempts` times with exponential backoff. Input that can never be
processed (not JSON, a schema violation, a `PoisonMessage` raised by a handler) is parked at once.
An unavailable database or broker is not the message's fault: that error is not parked but
re-raised after a pause, the offset is not committed, and the message comes again when the
dependency is back.

A parked message keeps its raw bytes and key; its headers keep the original ones and add the
service, source topic/partition/offset, error type and text, attempts and time (D5: kept so that
someone can fix and replay it).

Batch subscribers (`batches.py`) get the same rules record by record: this middleware steps aside
for them and `batches.py` retries, splits and parks with the same `park`.

    python -m aftersales_runtime.deadletter list   [--service intake]
    python -m aftersales_runtime.deadletter replay --service intake [--from-offset N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aftersales_contracts.topics import DEAD_LETTER
from faststream import BaseMiddleware
from pydantic import ValidationError

from aftersales_runtime.logs import correlation_id_var
from aftersales_runtime.outages import outage_of

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker
    from faststream.message import StreamMessage

    from aftersales_runtime.settings import ServiceSettings

DLQ_PREFIX = "dlq-"
#: The dead-letter topic takes larger records than the others (its topic config), and producers
#: may send them: a message as large as the broker takes (1 MiB by default) is still parked,
#: with its dlq-* headers, instead of blocking its partition for ever.
DEAD_LETTER_MAX_BYTES = 2 * 1024 * 1024


class PoisonMessage(Exception):
    """Raised by a handler for input that no retry can fix (e.g. an unknown dealer)."""


POISON: tuple[type[BaseException], ...] = (
    PoisonMessage,
    ValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)


def _header_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class DeadLetterMiddleware:
    """Broker middleware factory: FastStream calls it once per consumed message."""

    def __init__(
        self,
        broker: KafkaBroker,
        settings: ServiceSettings,
        service: str,
        logger: logging.Logger,
    ) -> None:
        self.broker = broker
        self.settings = settings
        self.service = service
        self.logger = logger
        # Called with (source topic, error type) after each parking (metrics count them).
        self.on_park: list[Callable[[str, str], None]] = []
        topic = settings.topic(DEAD_LETTER)
        self.publisher = broker.publisher(
            topic,
            title=f"{topic}:{service}",
            description="Messages this service could not process: the raw bytes and key, the "
            "original headers, and dlq-* headers with the service, source topic/partition/offset, "
            "error and attempts. Replay with `python -m aftersales_runtime.deadletter`.",
        )

    def __call__(self, msg: Any, /, *, context: Any) -> _DeadLetterScope:
        return _DeadLetterScope(msg, context=context, owner=self)

    @staticmethod
    def of(broker: KafkaBroker) -> DeadLetterMiddleware:
        """The dead-letter middleware `make_broker` put on this broker."""
        for middleware in broker.middlewares:
            if isinstance(middleware, DeadLetterMiddleware):
                return middleware
        raise LookupError("the broker has no DeadLetterMiddleware: build it with make_broker")

    def backoff(self, attempt: int) -> float:
        return float(min(self.settings.retry_backoff_seconds * 2 ** (attempt - 1), 30.0))

    async def park(self, record: Any, error: BaseException, attempts: int) -> None:
        headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith(DLQ_PREFIX)]
        extra = {
            "service": self.service,
            "topic": record.topic,
            "partition": str(record.partition),
            "offset": str(record.offset),
            "error-type": type(error).__name__,
            "error": str(error)[:4000],
            "attempts": str(attempts),
            "failed-at": datetime.now(UTC).isoformat(),
        }
        all_headers = {k: _header_text(v) for k, v in headers}
        all_headers.update({DLQ_PREFIX + k: v for k, v in extra.items()})
        await self.publisher.publish(record.value or b"", key=record.key, headers=all_headers)
        for observe in self.on_park:
            observe(record.topic, type(error).__name__)
        self.logger.warning(
            "message parked on the dead-letter topic",
            extra={
                "source_topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error_type": type(error).__name__,
                "attempts": attempts,
            },
        )


class _DeadLetterScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, owner: DeadLetterMiddleware) -> None:
        super().__init__(msg, context=context)
        self.owner = owner
        self.handled = False

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        if _is_batch(msg.raw_message):
            return await call_next(msg)  # batches.py retries and parks record by record
        header = (msg.headers or {}).get("correlation-id")
        token = correlation_id_var.set(header) if header else None
        try:
            return await self._with_retries(call_next, msg)
        finally:
            if token is not None:
                correlation_id_var.reset(token)

    async def _with_retries(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        owner = self.owner
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call_next(msg)
            except Exception as error:
                if outage_of(error):
                    owner.logger.warning(
                        "dependency unavailable, message will be redelivered", exc_info=True
                    )
                    await asyncio.sleep(owner.backoff(owner.settings.max_attempts))
                    raise
                if isinstance(error, POISON) or attempt >= owner.settings.max_attempts:
                    await owner.park(msg.raw_message, error, attempt)
                    self.handled = True
                    return None
                owner.logger.warning(
                    "handler failed, retrying", exc_info=True, extra={"attempt": attempt}
                )
                await asyncio.sleep(owner.backoff(attempt))

    async def after_processed(
        self, exc_type: Any = None, exc_val: Any = None, exc_tb: Any = None
    ) -> bool | None:
        # Errors before the handler (the body could not even be parsed) arrive here, not above.
        if exc_val is None or self.handled or isinstance(exc_val, asyncio.CancelledError):
            return False
        if _is_batch(self.msg):
            return False  # not committed: the batch comes again
        if outage_of(exc_val):
            return False
        await self.owner.park(self.msg, exc_val, 1)
        return True


def _is_batch(raw_message: Any) -> bool:
    return isinstance(raw_message, tuple | list)


# --- the replay command --------------------------------------------------------------------


async def _read_parked(kafka: dict[str, Any], topic: str) -> list[Any]:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            return []
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = sorted(p["partition"] for p in described[0]["partitions"])
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records: list[Any] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for items in batch.values():
                records.extend(items)
        return records
    finally:
        # aiokafka's group-less consumer re-raises its own task's cancellation on stop.
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()


def _headers(record: Any) -> dict[str, str]:
    return {k: _header_text(v) for k, v in (record.headers or ())}


async def _run(args: argparse.Namespace) -> None:
    import os

    from aiokafka import AIOKafkaProducer

    from aftersales_runtime.kafka_access import kafka_client_options

    # Credentials from KAFKA_SECURITY_PROTOCOL/_SASL_*: an operator's principal (replay writes to
    # the topics the service consumes, which the service itself may not write).
    kafka = kafka_client_options({**os.environ, "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap})
    topic = f"{args.topic_prefix}{DEAD_LETTER}"
    records = [
        r
        for r in await _read_parked(kafka, topic)
        if (not args.service or _headers(r).get(DLQ_PREFIX + "service") == args.service)
        and r.offset >= args.from_offset
    ]
    if args.command == "list":
        for r in records:
            h = _headers(r)
            print(
                f"{r.partition}:{r.offset} {h.get('dlq-service')} {h.get('dlq-topic')} "
                f"{h.get('dlq-error-type')}: {h.get('dlq-error', '')[:200]}"
            )
        print(f"{len(records)} parked message(s)")
        return
    producer = AIOKafkaProducer(**kafka, enable_idempotence=True)
    await producer.start()
    try:
        for r in records:
            original = [(k, v) for k, v in (r.headers or ()) if not k.startswith(DLQ_PREFIX)]
            await producer.send_and_wait(
                _headers(r)["dlq-topic"], r.value, key=r.key, headers=original
            )
    finally:
        await producer.stop()
    print(f"replayed {len(records)} parked message(s) to their source topics")


def main(argv: list[str] | None = None) -> None:
    import os

    parser = argparse.ArgumentParser(prog="python -m aftersales_runtime.deadletter")
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("--service", help="only messages parked by this service")
    parser.add_argument("--from-offset", type=int, default=0)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--topic-prefix", default=os.environ.get("AFTERSALES_TOPIC_PREFIX", ""))
    args = parser.parse_args(argv)
    if args.command == "replay" and not args.service:
        parser.error("replay needs --service (replay what one service parked, after its fix)")
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
