"""Rebuild the read models from the topics: `python -m aftersales_reporting rebuild --database X`.

Replays every consumed topic from offset 0 (or from where a previous rebuild of the same
database stopped) into database X through the very projectors the live subscribers use, up to
the end offsets seen at the start, then stores where it stopped. No consumer group is used
(partitions are assigned), so the live service is not disturbed.

Switching the service to the rebuilt database:
1. `python -m aftersales_reporting rebuild --database aftersales_reporting_v2` while the live
   service runs (the bulk of the work);
2. stop the service, run the same command again (it catches up from where it stopped);
3. start the service with `REPORTING_MONGODB_DATABASE=aftersales_reporting_v2`. Its consumer
   group resumes at its own committed offsets, at or before where the rebuild stopped; what it
   reads again is recognised (per-document offsets, see ledger.py) and not counted twice.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from aftersales_runtime.batches import Received
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.mongo import connect
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from aftersales_reporting.ledger import SEEN, Ledger, key_part
from aftersales_reporting.projector import Projector
from aftersales_reporting.settings import ReportingSettings
from aftersales_reporting.subscribers import feeds

POSITIONS = "rebuild:positions"
logger = logging.getLogger("aftersales_reporting.rebuild")


@dataclass(frozen=True)
class RebuildResult:
    records: int
    refused: int
    seconds: float


def _received(record: ConsumerRecord[bytes, bytes]) -> Received:
    return Received(
        value=record.value or b"",
        key=record.key,
        headers=tuple((k, bytes(v or b"")) for k, v in (record.headers or ())),
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )


def _name(tp: TopicPartition) -> str:
    return key_part(f"{tp.topic}:{tp.partition}")


async def _partitions(settings: ReportingSettings, names: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if not topic.get("error_code")
        for partition in topic["partitions"]
    ]


async def rebuild(settings: ReportingSettings, database: str) -> RebuildResult:
    started = time.perf_counter()
    mongo = connect(settings.mongodb_url, "reporting-rebuild")
    db = mongo[database]
    ledger = Ledger(db)
    dealers = DealerDirectory.load(settings.dealers_file)
    projectors: dict[str, Projector[Any]] = {
        settings.topic(feed.topic): feed.projector for feed in feeds(ledger, dealers.zone_of)
    }
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=settings.batch_max_records,
    )
    await consumer.start()
    records = refused = 0
    try:
        partitions = await _partitions(settings, list(projectors))
        consumer.assign(partitions)
        stored = await db[SEEN].find_one({"_id": POSITIONS}) or {}
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, int(stored.get("positions", {}).get(_name(tp), 0)))
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, batch in fetched.items():
                wanted = [r for r in batch if r.offset < ends[tp]]
                if wanted:
                    refused += len(await projectors[tp.topic].run([_received(r) for r in wanted]))
                    records += len(wanted)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        positions = {_name(tp): ends[tp] for tp in partitions}
        await db[SEEN].replace_one({"_id": POSITIONS}, {"positions": positions}, upsert=True)
    finally:
        await consumer.stop()
        await mongo.close()
    return RebuildResult(records, refused, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m aftersales_reporting rebuild",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", required=True, help="the fresh database to build into")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    result = asyncio.run(rebuild(ReportingSettings(), args.database))
    print(
        f"rebuilt {args.database}: {result.records} records ({result.refused} refused) "
        f"in {result.seconds:.1f} s"
    )
