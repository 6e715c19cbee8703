"""Consuming a topic in batches, with the guarantees of one-at-a-time consumption.

N records turn into a few bulk reads and writes instead of N times a few round trips
(ARCHITECTURE: Batching). What stays as it was for single records (`deadletter.py`):

- a batch is bounded by count (`max_records`) and by wait (`timeout_ms`): FastStream's batch
  subscriber (`batch=True`) hands over whatever the fetcher holds, up to `max_records`, as soon as
  there is any, and waits at most `timeout_ms` when there is none, so an idle service still reacts
  within about `timeout_ms`. Kafka holds each fetch until `fetch_min_bytes` are there or the same
  `timeout_ms` passed: records that trickle in (an agent's result at a time) come a few to a
  fetch, and the batch's one commit, instead of a fetch and a commit each (on a small machine
  those round trips, not the handler, were most of a consumer's CPU);
- offsets are committed only after the handler returned, i.e. after the whole batch's effects are
  stored and published (ack policy NACK_ON_ERROR on the broker; on an error every partition of the
  batch is rewound to its first record and the batch comes again);
- the handler names the records no retry can fix (`Refused`); they are parked on the dead-letter
  topic one by one, raw bytes, key, headers and reason, before the commit; their neighbours flow;
- a dependency outage (MongoDB, Kafka) is retried: the batch is not committed, it comes again
  after a pause, nothing is parked;
- any other error retries the batch up to `max_attempts`; a batch that still fails is taken
  apart and its records handled one by one, so only the record that fails is parked (handlers
  are idempotent, so what the failed attempts already did is not done twice);
- a graceful shutdown waits for the batch in flight (the broker's `graceful_timeout`);
- passes can be paced (`min_interval_ms`, `Pace`): a subscriber whose passes come faster waits
  out the rest of the interval before the next one. aiokafka keeps one fetched response per
  partition and fetches again once it was handed over, so under load each fetch then spans
  about an interval: a pass takes about an interval's records and pays its documents' reads
  and writes, its fetch and its commit once for all of them, and the records are handled up to
  about two intervals later than unpaced. A pass that begins an interval or more after the one
  before (a quiet spell) starts at once, so an idle service still reacts within about
  `timeout_ms`; so does a full batch (`max_records`: more are waiting). A backlog that comes in
  batches that are not full is paced: aiokafka fetches at most 1 MiB per partition
  (`max_partition_fetch_bytes`), so at most that much per partition and interval. A subscriber
  someone waits on (a closed work order on its way to its visible plan) says `paced=False` and
  takes its records whenever they are there, whatever its service's interval.

    @batch_subscriber(
        broker, settings, "dms.workorder.closed", group="intake", batch=settings, paced=False
    )
    async def when_dms_workorders_take_in(records: Sequence[Received]) -> list[Refused]: ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings

from aftersales_runtime.deadletter import POISON, DeadLetterMiddleware
from aftersales_runtime.outages import outage_of
from aftersales_runtime.settings import ServiceSettings


def min_interval_ms(default: int, description: str) -> Any:
    """`batch_min_interval_ms` with a service's own default and description (the bounds stay
    these): `batch_min_interval_ms: int = min_interval_ms(500, "…")` in its settings."""
    return Field(default, ge=0, le=10_000, description=description)


class BatchSettings(BaseSettings):
    """Batch bounds; mixed into a service's settings, so they take its prefix
    (e.g. INTAKE_BATCH_MAX_RECORDS)."""

    batch_max_records: int = Field(
        500, ge=1, le=10_000, description="Most records handed to a batch handler at once."
    )
    batch_timeout_ms: int = Field(
        100,
        ge=1,
        le=5_000,
        description="Longest wait for records when none are there: an idle service reacts "
        "within about this much.",
    )
    batch_fetch_min_bytes: int = Field(
        64 * 1024,
        ge=1,
        le=16 * 1024 * 1024,
        description="Kafka holds a fetch until this many bytes are there, or batch_timeout_ms "
        "passed: a trickle of records comes in a few fetches and commits, not one each.",
    )
    batch_min_interval_ms: int = min_interval_ms(
        0,
        "A subscriber's passes start at least this far apart (0: whenever records are there): "
        "records that keep coming are taken in fewer, larger passes, up to about twice this "
        "later. A pass this long or more after the one before, or of a full batch, starts at "
        "once.",
    )


@dataclass(frozen=True)
class Received:
    """One record of a batch, as Kafka delivered it."""

    value: bytes
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    topic: str
    partition: int
    offset: int

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None


@dataclass(frozen=True)
class Refused:
    """A record of the batch that no retry can fix: it is parked, with `error` as its reason."""

    record: Received
    error: BaseException


BatchHandler = Callable[[Sequence[Received]], Awaitable[Sequence[Refused]]]
M = TypeVar("M", bound=BaseModel)


def parse_records(
    records: Sequence[Received], model: type[M]
) -> tuple[list[tuple[Received, M]], list[Refused]]:
    """Each record with its message, in order, and the records that are not a `model` (refused
    for good, with the contract's own reason)."""
    parsed: list[tuple[Received, M]] = []
    refused: list[Refused] = []
    for record in records:
        try:
            parsed.append((record, model.model_validate_json(record.value)))
        except POISON as error:
            refused.append(Refused(record, error))
    return parsed, refused


def parse_events(records: Sequence[Received], model: type[M]) -> tuple[list[M], list[Refused]]:
    """The batch's messages in order, and the records refused (`parse_records`)."""
    parsed, refused = parse_records(records, model)
    return [message for _, message in parsed], refused


def _received(record: Any) -> Received:
    return Received(
        value=record.value or b"",
        key=record.key,
        headers=tuple((k, bytes(v or b"")) for k, v in (record.headers or ())),
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )


async def records_of(msg: StreamMessage[Any]) -> list[Received]:
    """Decoder of a batch subscriber: the records as delivered, no parsing (the handler parses,
    so a record that is not even JSON reaches it and can be refused on its own)."""
    return [_received(record) for record in msg.raw_message]


class Pace:
    """Passes that start at least `interval` seconds apart: `wait(records)` before each returns
    at once when the previous pass began an interval or more ago, or when the batch is full
    (`most` records: more are waiting, pacing would only slow the subscriber down), and
    otherwise when the interval since the previous pass began is over."""

    def __init__(
        self,
        interval: float,
        most: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.most = most
        self._clock = clock
        self._sleep = sleep
        self._started: float | None = None

    async def wait(self, records: int) -> None:
        if self._started is not None and self.interval > 0 and records < self.most:
            remaining = self._started + self.interval - self._clock()
            if remaining > 0:
                await self._sleep(remaining)
        self._started = self._clock()


class BatchRunner:
    """Runs a batch handler with bounded retries, splitting and parking (the rules above)."""

    def __init__(self, handler: BatchHandler, dead_letters: DeadLetterMiddleware) -> None:
        self.handler = handler
        self.dead_letters = dead_letters

    async def run(self, records: Sequence[Received]) -> None:
        owner = self.dead_letters
        attempt = 0
        while True:
            attempt += 1
            try:
                refused = await self.handler(records)
            except Exception as error:
                if outage_of(error):
                    owner.logger.warning(
                        "dependency unavailable, the batch will be redelivered",
                        exc_info=True,
                        extra={"records": len(records)},
                    )
                    await asyncio.sleep(owner.backoff(owner.settings.max_attempts))
                    raise
                poison = isinstance(error, POISON)
                if not poison and attempt < owner.settings.max_attempts:
                    owner.logger.warning(
                        "batch failed, retrying",
                        exc_info=True,
                        extra={"attempt": attempt, "records": len(records)},
                    )
                    await asyncio.sleep(owner.backoff(attempt))
                    continue
                if len(records) == 1:
                    await owner.park(records[0], error, attempt)
                    return
                owner.logger.warning(
                    "batch failed, handling its records one by one",
                    exc_info=True,
                    extra={"records": len(records)},
                )
                for record in records:
                    await self.run([record])
                return
            for item in refused:
                await owner.park(item.record, item.error, 1)
            return


def batch_subscriber(
    broker: KafkaBroker,
    settings: ServiceSettings,
    topic: str,
    *,
    group: str,
    batch: BatchSettings,
    paced: bool = True,
    title: str | None = None,
    description: str | None = None,
) -> Callable[[BatchHandler], BatchHandler]:
    """Subscribe `handler(records) -> refused` to the contract topic `topic` in batches.

    The handler gets the records in partition order (several partitions may be mixed; one
    partition's records keep their order) and returns those it refuses for good; raising
    means "not done": see the module's rules for what happens then. Its passes are paced by
    `batch.batch_min_interval_ms` unless `paced` is false.
    """

    def register(handler: BatchHandler) -> BatchHandler:
        runner = BatchRunner(handler, DeadLetterMiddleware.of(broker))
        interval = batch.batch_min_interval_ms / 1000 if paced else 0
        pace = Pace(interval, batch.batch_max_records)
        subscriber = broker.subscriber(
            settings.topic(topic),
            group_id=settings.consumer_group(group),
            auto_offset_reset="earliest",
            batch=True,
            max_records=batch.batch_max_records,
            batch_timeout_ms=batch.batch_timeout_ms,
            fetch_min_bytes=batch.batch_fetch_min_bytes,
            fetch_max_wait_ms=batch.batch_timeout_ms,
            decoder=records_of,
            title=title,
            description=description,
        )

        async def consume(records: list[Any]) -> None:
            await pace.wait(len(records))
            await runner.run(records)

        consume.__name__ = handler.__name__
        consume.__doc__ = handler.__doc__
        subscriber(consume)
        return handler

    return register
