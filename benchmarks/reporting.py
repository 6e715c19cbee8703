"""Reporting benchmark (issue 12): the monthly report's read time at 1,000,000 contact results and
50,000 tickets (20 dealers, 24 months), the rate at which projections are built from Kafka, and a
full rebuild.

1. Bulk load: the read models such a history leaves (`reporting_data.py`), inserted directly,
   with the marker each of its events leaves in `seen`. A report reads only `counters` (~10
   documents by `_id`); the drill-down day pages a real history also leaves are not loaded.
2. Read: the monthly report of random dealer-months through the HTTP route (in process,
   `GET /v1/dealers/{d}/reports/monthly`, token checked, JSON rendered): p50/p99.
3. Consumption: CONSUME contact results and ticket events published to Kafka, consumed by the
   service's batch subscribers into a fresh database: events/s.
4. Rebuild: `rebuild` of those topics into another fresh database: its time and events/s, and
   the time a rebuild of the whole history would take at that rate.

    python -m benchmarks.reporting --results 1000000 --tickets 50000
The machine is shared: absolute figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aftersales_contracts import (
    CallOutcome,
    Channel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ContactPurpose,
    ContactResult,
    Scores,
    Staff,
)
from aftersales_reporting.app import build
from aftersales_reporting.ledger import SEEN
from aftersales_reporting.rebuild import rebuild
from aftersales_reporting.settings import ReportingSettings
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.settings import AuthSettings
from aftersales_runtime.testing import checkout_kafka, checkout_mongodb_url, tool_kafka_env
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from benchmarks.reporting_data import COUNTERS, ENTITIES, dealer_month, months, ticket_entities

LAST_MONTH = "2026-11"


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bulk_load(db: Any, dealers: list[str], args: argparse.Namespace) -> tuple[int, float]:
    rng = random.Random(12)
    periods = months(args.months, LAST_MONTH)
    per_month = args.results // (len(dealers) * len(periods))
    tickets_per = args.tickets // (len(dealers) * len(periods))
    started = time.perf_counter()
    docs = 0
    for number, dealer in enumerate(dealers):
        counters: list[dict[str, Any]] = []
        entities: list[dict[str, Any]] = []
        for month in periods:
            counters += dealer_month(rng, dealer, month, per_month, tickets_per)
            entities += ticket_entities(dealer, month, tickets_per)
        # The marker each consumed event leaves (ledger.first_seen): a result each, a ticket's
        # opening and closing; with them the database holds what such a history leaves.
        markers = [
            {"_id": f"hist-{dealer}-{n}", "at": "aftersales.contact.result:0", "offset": n}
            for n in range(per_month * len(periods) + 2 * tickets_per * len(periods))
        ]
        await db[COUNTERS].insert_many(counters, ordered=False)
        for collection, batch in ((ENTITIES, entities), (SEEN, markers)):
            for start in range(0, len(batch), 1000):
                await db[collection].insert_many(batch[start : start + 1000], ordered=False)
        docs += len(counters) + len(entities) + len(markers)
        progress(f"dealer {number + 1}/{len(dealers)} loaded")
    return docs, time.perf_counter() - started


def result_event(n: int, dealer: str, at: datetime) -> ContactResult:
    reached = n % 5 != 0
    return ContactResult(
        event_id=f"bench-r-{n}",
        occurred_at=at,
        dealer_id=dealer,
        correlation_id=f"{dealer}/{n}",
        contact_id=f"k-{n}",
        task_id=f"t-{n}",
        agent_id=f"agent-{n % 5}",
        channel=Channel.PHONE,
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        attempt=1,
        outcome=CallOutcome.REACHED if reached else CallOutcome.NO_ANSWER,
        contacted_at=at,
        timely=(n % 7 != 0) if reached else None,
        scores=Scores(**{i: 6 + (n + k) % 5 for k, i in enumerate(Scores.ITEMS)})
        if reached
        else None,
        yes_no={"fixed_first_time": n % 11 != 0} if reached else None,
        vin=f"LSVAU218XN2{n % 1_000_000:06d}",
        customer_id=f"C-{n}",
        service_advisor=Staff(id=f"sa-{n % 10:02d}", name="顾问"),
        technicians=[Staff(id=f"tech-{n % 15:02d}", name="技师")],
    )


def ticket_event(n: int, dealer: str, at: datetime, kind: ComplaintEventKind) -> ComplaintEvent:
    return ComplaintEvent(
        event_id=f"bench-t-{n}-{kind.value}",
        occurred_at=at,
        dealer_id=dealer,
        correlation_id=f"{dealer}/{n}",
        ticket_id=f"T-{n}",
        kind=kind,
        grade=ComplaintGrade.C,
        contact_id=f"k-{n}",
        vin=f"LSVAU218XN2{n % 1_000_000:06d}",
        customer_id=f"C-{n}",
        assigned_role="service_supervisor",
        service_advisor=Staff(id=f"sa-{n % 10:02d}", name="顾问"),
        opened_at=at,
    )


async def publish(
    settings: ReportingSettings, dealers: list[str], count: int, first: int = 0
) -> int:
    producer = AIOKafkaProducer(**kafka_client_options(settings), linger_ms=20)
    await producer.start()
    start = datetime(2026, 10, 1, 2, tzinfo=UTC)
    sent = 0
    try:
        pending = []
        for n in range(first, first + count):
            dealer, at = dealers[n % len(dealers)], start + timedelta(minutes=3 * n % 80_000)
            events: list[Any] = [result_event(n, dealer, at)]
            if n % 20 == 0:  # 1 in 20 results opens a ticket, which is closed later
                events += [
                    ticket_event(n, dealer, at, ComplaintEventKind.OPENED),
                    ticket_event(n, dealer, at, ComplaintEventKind.CLOSED),
                ]
            for event in events:
                pending.append(
                    await producer.send(
                        settings.topic(event.TOPIC),
                        event.model_dump_json().encode(),
                        key=event.key(),
                    )
                )
                sent += 1
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def until_counted(seen: Any, sent: int) -> None:
    """Every published event has its marker: consumed (the republished ones have none)."""
    for _ in range(7200):
        if await seen.estimated_document_count() >= sent:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("the subscribers did not consume every event within an hour")


async def run(args: argparse.Namespace) -> None:
    token = uuid.uuid4().hex[:8]
    database, prefix = f"bench_reporting_{token}", f"bench{token}."
    workdir = Path(tempfile.mkdtemp(prefix="bench-reporting-"))
    key, public_key = ensure_key_pair(workdir / "auth")
    dealers = [f"dealer-bench-{n:02d}" for n in range(args.dealers)]
    dealers_file = workdir / "dealers.json"
    dealers_file.write_text(
        json.dumps({"dealers": {d: {"time_zone": "Asia/Shanghai"} for d in dealers}})
    )
    env = tool_kafka_env(checkout_kafka())
    mongo_url = checkout_mongodb_url()
    os.environ.update(env)  # Kafka's address and credentials, read by the settings

    def settings_of(db: str) -> ReportingSettings:
        return ReportingSettings(
            mongodb_url=mongo_url,
            mongodb_database=db,
            topic_prefix=prefix,
            environment="test",
            dealers_file=dealers_file,
            log_level="WARNING",
            auth=AuthSettings(public_key_file=public_key),
        )

    settings = settings_of(database)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    used = [database, f"{database}_live", f"{database}_rebuilt"]
    print(
        f"reporting benchmark: {args.results:,} contact results and {args.tickets:,} tickets "
        f"across {args.dealers} dealers and {args.months} months (shared machine: noisy figures)"
    )
    try:
        progress("bulk load of the read models")
        docs, took = await bulk_load(mongo[database], dealers, args)
        print(f"bulk load: {docs:,} documents in {took:.1f} s ({docs / took:,.0f} docs/s)")

        service = build(settings)
        periods = months(args.months, LAST_MONTH)
        bearer = mint(load_private_key(key), sub="bench", roles=["gm"], dealers=dealers)
        rng = random.Random(3)
        times: list[float] = []
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://reporting",
            headers={"Authorization": f"Bearer {bearer}"},
        ) as http:
            for n in range(args.reads + 20):
                dealer, month = rng.choice(dealers), rng.choice(periods)
                began = time.perf_counter()
                answer = await http.get(
                    f"/v1/dealers/{dealer}/reports/monthly", params={"month": month}
                )
                elapsed = (time.perf_counter() - began) * 1000
                assert answer.status_code == 200, answer.text
                if n >= 20:  # the first reads warm the connection pool
                    times.append(elapsed)
            sample = answer.json()
        await service.runtime.mongo.close()
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        print(
            f"monthly report read ({len(times)} reads, HTTP in process): p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms, mean {statistics.mean(times):.1f} ms "
            f"(one dealer-month holds {sample['contacts_made']:,} results)"
        )

        live = build(settings_of(f"{database}_live"))
        seen = mongo[f"{database}_live"]["seen"]
        await live.runtime.start()
        try:
            progress("waiting for the subscribers to join (one warm-up event)")
            warm = await publish(settings, dealers, 1, first=args.consume)
            await until_counted(seen, warm)
            progress(f"publishing {args.consume:,} contact results (+ tickets) to Kafka")
            began = time.perf_counter()
            sent = await publish(settings, dealers, args.consume)
            published = time.perf_counter() - began
            await until_counted(seen, sent + warm)
            consumed = time.perf_counter() - began
        finally:
            await live.runtime.stop()
        print(
            f"projection build (live subscribers, batches of {settings.batch_max_records}): "
            f"{sent:,} events in {consumed:.1f} s = {sent / consumed:,.0f} events/s "
            f"(publishing took {published:.1f} s of it)"
        )

        result = await rebuild(settings, f"{database}_rebuilt")
        rate = result.records / result.seconds
        history = args.results + args.tickets * 2
        print(
            f"full rebuild of the topics: {result.records:,} events in {result.seconds:.1f} s = "
            f"{rate:,.0f} events/s; a history of {history:,} events at that rate: "
            f"{history / rate / 60:.1f} min"
        )
    finally:
        for name in used:
            await mongo.drop_database(name)
        await mongo.close()
        admin = AIOKafkaAdminClient(**kafka_client_options(settings))
        await admin.start()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if mine:
                await admin.delete_topics(mine)
        finally:
            await admin.close()
    print(f"reporting: monthly report p99 {p99:.1f} ms at {args.results:,} results")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reporting", description=__doc__)
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--dealers", type=int, default=20)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--reads", type=int, default=1000, help="monthly reports read")
    parser.add_argument("--consume", type=int, default=20_000, help="results through Kafka")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
