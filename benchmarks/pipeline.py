"""Pipeline benchmark (issue 19.4): the five services as separate processes on the local stack,
measured end to end. Prints figures; passes or fails nothing.

    python -m benchmarks.pipeline [--orders 20000] [--agents 20] [--half-rate-seconds 60]

1. closing: N work orders (the demo generator's realistic payloads, 3 dealers, all settled on one
   day, every customer willing to be called) are published to `dms.workorder.closed` as fast as
   Kafka takes them. The stage "intake" is done when intake's consumer group has committed all N,
   "scheduler" when the scheduler's group has committed every `aftersales.workorder.closed`.
2. due: the controlled clock moves to the third day after settlement; the scheduler's dispatcher
   fires the day-3 calls and contact queues them ("contact" is done when contact's group has
   committed every `aftersales.contact.due` and the topic has stopped growing).
3. answers: simulated agents claim and submit through HTTP until every dealer's queue is empty; a
   fifth of the answers score below 8. "complaints" and "reporting" are done when their groups have
   committed every `aftersales.contact.result`; the number of tickets is checked through the API.
4. half rate: more work orders published at half the end-to-end rate; for a sample of them the
   time from publication until the scheduler's API shows their planned contacts (the last effect
   of a closing) gives the latency percentiles of the summary line.

Per stage it prints events/s and the p50/p99 from publication to the effect visible through the
service's API (sampled), and for each phase the CPU share of each process (services, Kafka,
FerretDB, and this benchmark's own process, which plays the DMS and the agents on the same cores
but is left out of the "all" total; 100 % = one core).
End-to-end work orders/s = N / (closing + due + answers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aftersales_contracts import Scores, topics
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.testing import resolve_stack
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from benchmarks.commands import print_batches, print_commands, read_counts
from benchmarks.cpu import DRIVER, Cpu, print_cpu
from benchmarks.history import load_group_history
from deploy.local.demo_data import work_order
from deploy.local.services import Fleet

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALERS = ["dealer-sz-001", "dealer-gz-003", "dealer-bj-002"]
ITEMS = Scores.ITEMS  # the after-service CSI items (D16)


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the workload --------------------------------------------------------------------------


def make_orders(count: int, day: datetime, first: int, seed: int) -> list[dict[str, Any]]:
    """Work orders settled on `day` (local) between 08:00 and 18:00, every customer callable."""
    rng = random.Random(seed)
    orders = []
    for n in range(first, first + count):
        settled = day.replace(hour=8) + timedelta(seconds=rng.randint(0, 10 * 3600))
        order = work_order(rng, DEALERS[n % len(DEALERS)], n, settled)
        order["work_order_id"] = f"WO-B{n:07d}"
        order["event_id"] = f"{order['dealer_id']}:{order['work_order_id']}:settled"
        order["customer"]["contact_consent"] = True
        order["customer"]["preferred_channel"] = "phone"
        order["customer"]["birthday"] = "1980-06-15"  # no care contact merges into the calls
        orders.append(order)
    return orders


Sent = dict[str, "asyncio.Future[float]"]  # work order id -> its publication time, once known


def publication_times(orders: Sequence[dict[str, Any]]) -> Sent:
    loop = asyncio.get_running_loop()
    return {order["work_order_id"]: loop.create_future() for order in orders}


async def publish(
    kafka: dict[str, Any],
    topic: str,
    orders: Sequence[dict[str, Any]],
    sent: Sent,
    rate: float | None = None,
) -> None:
    """Publish the orders (as fast as Kafka takes them, or at `rate` per second), noting each
    work order's publication time (monotonic) in `sent` as it goes."""
    producer = AIOKafkaProducer(
        **kafka, enable_idempotence=True, linger_ms=5, max_batch_size=262144
    )
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for n, order in enumerate(orders):
            if rate:
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            sent[order["work_order_id"]].set_result(time.monotonic())
            pending.append(
                await producer.send(
                    topic, json.dumps(order).encode(), key=order["dealer_id"].encode()
                )
            )
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


# --- watching consumer groups --------------------------------------------------------------


class Groups:
    """Committed offsets of the services' consumer groups against the topics' end offsets."""

    def __init__(self, kafka: dict[str, Any], prefix: str) -> None:
        self.prefix = prefix
        self.admin = AIOKafkaAdminClient(**kafka)
        self.consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False)

    async def __aenter__(self) -> Groups:
        await self.admin.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def end(self, topic: str) -> int:
        name = self.prefix + topic
        partitions = self.consumer.partitions_for_topic(name) or set()
        if not partitions:
            await self.consumer._client.force_metadata_update()  # a topic created after start
            partitions = self.consumer.partitions_for_topic(name) or set()
        ends = await self.consumer.end_offsets([TopicPartition(name, p) for p in partitions])
        return sum(ends.values())

    async def committed(self, service: str, topic: str) -> int:
        offsets = await self.admin.list_consumer_group_offsets(self.prefix + service)
        return sum(o.offset for tp, o in offsets.items() if tp.topic == self.prefix + topic)

    async def caught_up(
        self, service: str, topic: str, at_least: int, settle: float = 0.0, limit: float = 3600
    ) -> float:
        """Wait until the group has committed everything on the topic (which holds at least
        `at_least` records and has not grown for `settle` seconds); returns the moment it had
        committed the last record (the wait for the topic to settle is not the service's)."""
        deadline = time.monotonic() + limit
        stable_since, last_end, shown = time.monotonic(), -1, 0.0
        done_at: float | None = None
        while time.monotonic() < deadline:
            end = await self.end(topic)
            if end != last_end:
                stable_since, last_end, done_at = time.monotonic(), end, None
            settled = time.monotonic() - stable_since >= settle
            committed = await self.committed(service, topic)
            if committed >= end and done_at is None:
                done_at = time.monotonic()
            if end >= at_least and settled and done_at is not None:
                return done_at
            if time.monotonic() - shown > 10:
                shown = time.monotonic()
                progress(f"{service}: {committed:,} of {end:,} on {topic} committed")
            await asyncio.sleep(0.25)
        raise TimeoutError(f"{service} did not catch up on {topic} within {limit:.0f} s")


# --- the services' APIs --------------------------------------------------------------------


class Api:
    """Every HTTP call the benchmark makes; `headers` is the one place that says who calls."""

    def __init__(self, fleet: Fleet, http: aiohttp.ClientSession, issuer_key: Path) -> None:
        self.fleet, self.http = fleet, http
        self.key = load_private_key(issuer_key)
        self.tokens: dict[tuple[str, str, str], str] = {}

    def headers(self, role: str, dealer: str, sub: str = "bench") -> dict[str, str]:
        token = self.tokens.get((role, dealer, sub))
        if token is None:
            token = mint(self.key, sub=sub, roles=[role], dealers=DEALERS, ttl=timedelta(hours=6))
            self.tokens[role, dealer, sub] = token
        return {"Authorization": f"Bearer {token}"}

    async def get(
        self, url: str, headers: dict[str, str], params: dict[str, int] | None = None
    ) -> Any:
        """The answer's JSON body; None when it is not a 200."""
        async with self.http.get(url, headers=headers, params=params) as answer:
            return await answer.json() if answer.status == 200 else None

    async def vehicle_known(self, order: dict[str, Any]) -> bool:
        url = f"{self.fleet['intake'].url}/v1/dealers/{order['dealer_id']}/vehicles/{order['vin']}"
        return await self.get(url, self.headers("service_advisor", order["dealer_id"])) is not None

    async def planned(self, order: dict[str, Any]) -> bool:
        body = await self.get(
            f"{self.fleet['scheduler'].url}/v1/dealers/{order['dealer_id']}/vehicles/"
            f"{order['vin']}/contacts",
            self.headers("service_manager", order["dealer_id"]),
        )
        return body is not None and any(
            c["work_order_id"] == order["work_order_id"] for c in body["contacts"]
        )

    async def post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        """As an agent's tool does: a 503 (the service waits out its database) is tried again.
        The answer's JSON body (None for a 204); an error status raises."""
        for _ in range(20):
            async with self.http.post(url, json=body, headers=headers) as answer:
                if answer.status != 503:
                    answer.raise_for_status()
                    return await answer.json() if answer.status == 200 else None
            await asyncio.sleep(1)
        raise RuntimeError(f"{url}: still 503 after 20 tries")

    async def claim(self, dealer: str, agent: str) -> dict[str, Any] | None:
        task: dict[str, Any] | None = await self.post(
            f"{self.fleet['contact'].url}/v1/dealers/{dealer}/tasks/claim",
            {"agent_id": agent},
            self.headers("agent", dealer, agent),
        )
        return task

    async def submit(
        self, dealer: str, task: dict[str, Any], agent: str, scores: dict[str, int]
    ) -> None:
        await self.post(
            f"{self.fleet['contact'].url}/v1/tasks/{task['task_id']}/result",
            {
                "agent_id": agent,
                "outcome": "reached",
                "scores": scores,
                "yes_no": {"fixed_first_time": True},
            },
            self.headers("agent", dealer, agent),
        )

    async def complaints(self, dealer: str) -> int:
        """The dealer's tickets, counted page by page (a page holds at most 500)."""
        counted, limit = 0, 500
        while True:
            body = await self.get(
                f"{self.fleet['complaints'].url}/v1/dealers/{dealer}/complaints",
                self.headers("service_manager", dealer),
                {"limit": limit, "skip": counted},
            )
            if body is None:
                raise RuntimeError(f"complaints of {dealer}: not readable")
            page = len(body["complaints"] if isinstance(body, dict) else body)
            counted += page
            if page < limit:
                return counted


@dataclass(frozen=True)
class Watched:
    """Each sampled order's ms from publication to visible, and the API reads it took."""

    ms: list[float]
    polls: int


async def latencies(
    sent: Sent,
    orders: Sequence[dict[str, Any]],
    visible: Callable[[dict[str, Any]], Awaitable[bool]],
    soonest: float = 0.1,
) -> Watched:
    """For each sampled order, the ms from its publication until `visible(order)` is true. Polls
    back off to 10 % of the time waited so far (so a figure is at most ~10 % late) and come no
    closer than `soonest` seconds: the measurement stays a light load on the services it
    watches (each poll is an authenticated API read)."""
    polls = 0

    async def seen(order: dict[str, Any]) -> bool:
        nonlocal polls
        polls += 1
        try:
            return await visible(order)
        except TimeoutError:
            return False  # an answer slower than the client's timeout: not visible yet

    async def one(order: dict[str, Any]) -> float:
        published = await sent[order["work_order_id"]]
        while not await seen(order):  # noqa: ASYNC110 - polling an HTTP API, no event to wait on
            await asyncio.sleep(max(soonest, 0.1 * (time.monotonic() - published)))
        return (time.monotonic() - published) * 1000

    ms = list(await asyncio.gather(*(one(o) for o in orders)))
    return Watched(ms, polls)


# --- the run --------------------------------------------------------------------------------


async def answer_all(api: Api, agents: int) -> tuple[int, int, list[float], list[float]]:
    """Agents claim and submit until every queue is empty; a fifth score below 8."""
    claims: list[float] = []
    submits: list[float] = []
    answered = low = 0

    async def agent(number: int) -> None:
        nonlocal answered, low
        name, empty = f"agent-{number:02d}", set[str]()
        rng = random.Random(number)
        while len(empty) < len(DEALERS):
            dealer = DEALERS[(number + answered) % len(DEALERS)]
            if dealer in empty:
                dealer = next(d for d in DEALERS if d not in empty)
            started = time.monotonic()
            task = await api.claim(dealer, name)
            claims.append((time.monotonic() - started) * 1000)
            if task is None:
                empty.add(dealer)
                continue
            unhappy = rng.random() < 0.2
            scores = {item: 9 for item in ITEMS} | ({"overall": 6} if unhappy else {})
            started = time.monotonic()
            await api.submit(dealer, task, name, scores)
            submits.append((time.monotonic() - started) * 1000)
            answered += 1
            low += unhappy

    await asyncio.gather(*(agent(n) for n in range(agents)))
    return answered, low, claims, submits


def stage_line(name: str, events: int, seconds: float, watched: Watched | None = None) -> str:
    rate = events / seconds if seconds > 0 else float("nan")
    line = f"  {name:<11} {events:>8,} events in {seconds:8.1f} s = {rate:8.1f} events/s"
    if watched is not None:
        line += (
            f"   publication->visible p50 {percentile(watched.ms, 0.5):8.0f} ms"
            f"  p99 {percentile(watched.ms, 0.99):8.0f} ms  (n={len(watched.ms)}, "
            f"{watched.polls:,} polls)"
        )
    return line


@dataclass
class Result:
    end_to_end: float  # work orders/s
    p99: float  # ms, publication -> planned visible at half rate


async def run(args: argparse.Namespace) -> None:
    """On empty databases, then (with --history) on databases holding the group's year."""
    empty = await run_once(args, history=0)
    final = empty
    if args.history:
        final = await run_once(args, history=args.history)
        print(
            f"end to end with history / empty ({args.history:,} work orders of history): "
            f"{final.end_to_end / empty.end_to_end:.2f} (goal ≥ 0.8)"
        )
    print(
        f"pipeline: {final.end_to_end:.1f} work orders/s end to end; "
        f"p99 publication->visible {final.p99:.0f} ms at half rate"
    )


async def load_history(stack: Any, database_prefix: str, history: int, day: datetime) -> None:
    """The group's year (`benchmarks.history`) in the run's intake and scheduler databases,
    before the services start. Its contacts fall due after the run's days (none fires in it)."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    try:
        seconds = await load_group_history(
            mongo[f"{database_prefix}_scheduler"],
            mongo[f"{database_prefix}_intake"],
            history,
            now=day + timedelta(days=5),
            dealers=DEALERS,
            template_orders=make_orders(200, day - timedelta(days=30), 10**7, seed=5),
            first_day=day.date(),
        )
    finally:
        await mongo.close()
    print(
        f"history: {history:,} work orders of a 50-store group loaded in bulk "
        f"(intake {seconds['intake']:.0f} s, scheduler {seconds['scheduler']:.0f} s)"
    )


async def print_collections(stack: Any, database_prefix: str) -> None:
    """Collections per service database (bounded whatever the dates and the history)."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url)
    try:
        counts = {
            name.removeprefix(f"{database_prefix}_"): len(await mongo[name].list_collection_names())
            for name in sorted(await mongo.list_database_names())
            if name.startswith(f"{database_prefix}_")
        }
    finally:
        await mongo.close()
    print("  collections per service database: " + ", ".join(f"{n} {c}" for n, c in counts.items()))


async def run_once(args: argparse.Namespace, history: int) -> Result:
    stack, stop_stack = resolve_stack(os.environ)
    token = uuid.uuid4().hex[:8]
    prefix = f"bench{token}."
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-"))
    settle_day = datetime(2026, 11, 16, tzinfo=SHANGHAI)  # a Monday
    clock = ControlledClock(workdir / "clock.json")
    clock.set(settle_day.replace(hour=19))
    issuer_key, public_key = ensure_key_pair(workdir / "auth")
    fleet = Fleet.configure(
        kafka=stack.kafka_env(),
        mongodb_url=stack.mongodb_url,
        clock_file=clock.path,
        log_dir=workdir / "logs",
        topic_prefix=prefix,
        database_prefix=f"bench_{token}",
        environment="test",
        port_offset=args.port_offset,
        extra_env={"LOG_LEVEL": "WARNING", "AFTERSALES_AUTH_PUBLIC_KEY_FILE": str(public_key)},
    )
    try:
        await ensure_topics(stack.kafka_options(), [prefix + topics.DMS_WORKORDER_CLOSED])
        if history:
            await load_history(stack, f"bench_{token}", history, settle_day)
        orders = make_orders(args.orders, settle_day, 1, seed=7)
        rng = random.Random(3)
        sample = rng.sample(orders, min(args.sample, len(orders)))
        where = f"a history of {history:,} work orders" if history else "empty databases"
        print(
            f"pipeline benchmark on {where}: {args.orders:,} work orders of {len(DEALERS)} "
            f"dealers, {args.agents} agents, {os.cpu_count()} cores (Kafka, FerretDB and the five "
            f"services on this machine); logs in {workdir / 'logs'}"
        )
        fleet.start()
        cpu = Cpu.of(
            {n: p.process.pid for n, p in fleet.processes.items() if p.process}
            | {DRIVER: os.getpid()}  # the DMS and the agents, on the same cores
        )
        async with (
            Groups(stack.kafka_options(), prefix) as groups,
            # Connections idle for 2 s are closed by the client, before uvicorn's 5 s keep-alive
            # closes them under a poll going out (polls come seconds apart).
            # aiohttp, not httpx: the agents run on the services' cores, and a request cost this
            # process about 1.3 ms of CPU with httpx (a third of a core during the answers).
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=30),
                connector=aiohttp.TCPConnector(keepalive_timeout=2.0),
            ) as http,
        ):
            api = Api(fleet, http, issuer_key)
            urls = {name: p.url for name, p in fleet.processes.items()}
            counts_at = [await read_counts(http, urls)]
            # 1. closing
            cpu.start()
            t0 = time.monotonic()
            sent = publication_times(orders)
            dms_topic = prefix + topics.DMS_WORKORDER_CLOSED
            # At full speed the latencies are tens of seconds: a poll a second at most (a
            # figure at most 1 s or 10 % late) keeps the probes from taking the CPU the services
            # need (polled every 0.1 s, intake spent 13.6 % of its samples of a py-spy profile
            # of the stage answering them, against 16.6 % taking in work orders).
            # Each service's end is seen as it happens, both watched at once from the start:
            # watched after the probes, it was seen as late as the last probe (up to 10 % of
            # its wait) and the stage looked that much longer. The task group cancels the
            # probes if a service does not catch up.
            async with asyncio.TaskGroup() as closing_stage:
                known = closing_stage.create_task(
                    latencies(sent, sample, api.vehicle_known, soonest=1.0)
                )
                planned = closing_stage.create_task(
                    latencies(sent, sample, api.planned, soonest=1.0)
                )
                intake_end = closing_stage.create_task(
                    groups.caught_up("intake", topics.DMS_WORKORDER_CLOSED, args.orders)
                )
                scheduler_end = closing_stage.create_task(
                    groups.caught_up("scheduler", topics.WORKORDER_CLOSED, args.orders)
                )
                await publish(stack.kafka_options(), dms_topic, orders, sent)
                published_in = time.monotonic() - t0
                t_intake, t_sched = await intake_end, await scheduler_end
                closing = max(t_intake, t_sched) - t0
                closing_cpu = cpu.shares(), cpu.seconds()
            intake_lat, planned_lat = known.result(), planned.result()
            counts_at.append(await read_counts(http, urls))
            # 2. due
            cpu.start()
            t1 = time.monotonic()
            clock.set(
                settle_day + timedelta(days=3, hours=19, minutes=30)
            )  # after every day-3 call
            # As many day-3 calls as the dispatcher fires: fewer than the work orders when one
            # customer's calls merge (D13), so the stage ends when the topic has settled.
            t_contact = await groups.caught_up("contact", topics.CONTACT_DUE, 1, settle=3.0)
            due_count = await groups.end(topics.CONTACT_DUE)
            due = t_contact - t1
            due_cpu = cpu.shares(), cpu.seconds()
            counts_at.append(await read_counts(http, urls))
            # 3. answers
            cpu.start()
            t2 = time.monotonic()
            answered, low, claims, submits = await answer_all(api, args.agents)
            t_agents = time.monotonic()
            async with asyncio.TaskGroup() as consumers:  # as the closing stage's ends
                complaints_end = consumers.create_task(
                    groups.caught_up("complaints", topics.CONTACT_RESULT, answered)
                )
                reporting_end = consumers.create_task(
                    groups.caught_up("reporting", topics.CONTACT_RESULT, answered)
                )
            t_complaints, t_reporting = complaints_end.result(), reporting_end.result()
            answers = max(t_complaints, t_reporting) - t2
            answers_cpu = cpu.shares(), cpu.seconds()
            counts_at.append(await read_counts(http, urls))
            tickets = sum([await api.complaints(d) for d in DEALERS])

            end_to_end = args.orders / (closing + due + answers)
            print(f"published {args.orders:,} work orders in {published_in:.1f} s")
            print("stages:")
            print(stage_line("intake", args.orders, t_intake - t0, intake_lat))
            print(stage_line("scheduler", args.orders, t_sched - t0, planned_lat))
            print(stage_line("contact", due_count, due))
            print(stage_line("agents", answered, t_agents - t2))
            print(
                f"    claim p50 {percentile(claims, 0.5):.0f} ms p99 "
                f"{percentile(claims, 0.99):.0f} ms; submit p50 {percentile(submits, 0.5):.0f} "
                f"ms p99 {percentile(submits, 0.99):.0f} ms"
            )
            print(stage_line("complaints", answered, t_complaints - t2))
            print(stage_line("reporting", answered, t_reporting - t2))
            print(f"  tickets: {tickets:,} opened for {low:,} answers below 8")
            print_cpu("closing", *closing_cpu, args.orders, "work order")
            mongo_at = [counts.mongodb for counts in counts_at]
            print_commands("closing", mongo_at[0], mongo_at[1], args.orders, "work order")
            print_batches(
                "closing",
                counts_at[0].batches,
                counts_at[1].batches,
                (topics.DMS_WORKORDER_CLOSED, topics.WORKORDER_CLOSED),
            )
            print_cpu("due", *due_cpu, due_count, "due contact")
            print_commands("due", mongo_at[1], mongo_at[2], due_count, "due contact")
            print_cpu("answers", *answers_cpu, answered, "answer")
            print_commands("answers", mongo_at[2], mongo_at[3], answered, "answer")
            print(
                f"end to end: {args.orders:,} work orders in {closing + due + answers:.1f} s "
                f"(closing {closing:.1f} + due {due:.1f} + answers {answers:.1f}) = "
                f"{end_to_end:.1f} work orders/s"
            )
            # 4. half rate
            rate = end_to_end / 2
            count = max(10, int(rate * args.half_rate_seconds))
            more = make_orders(count, settle_day, args.orders + 1, seed=11)
            every = max(1, count // args.sample)
            cpu.start()
            sent_half = publication_times(more)
            async with asyncio.TaskGroup() as half_rate:
                watching_half = half_rate.create_task(
                    latencies(sent_half, more[::every], api.planned)
                )
                await publish(stack.kafka_options(), dms_topic, more, sent_half, rate)
            half = watching_half.result()
            print_cpu("half rate", cpu.shares())
            p99 = percentile(half.ms, 0.99)
            print(
                f"half rate: {count:,} work orders at {rate:.1f}/s; publication->planned visible "
                f"p50 {percentile(half.ms, 0.5):.0f} ms p99 {p99:.0f} ms (n={len(half.ms)}, "
                f"{half.polls:,} polls)"
            )
            print(
                f"pipeline on {where}: {end_to_end:.1f} work orders/s end to end; "
                f"p99 publication->visible {p99:.0f} ms at half rate"
            )
            await print_collections(stack, f"bench_{token}")
            return Result(end_to_end, p99)
    finally:
        fleet.stop()
        await remove_run(stack, prefix, f"bench_{token}")
        stop_stack()


async def remove_run(stack: Any, prefix: str, database_prefix: str) -> None:
    """The run's topics and databases go: benchmarks leave no data behind."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url)
    try:
        for name in await mongo.list_database_names():
            if name.startswith(database_prefix):
                await mongo.drop_database(name)
    finally:
        await mongo.close()
    admin = AIOKafkaAdminClient(**stack.kafka_options())
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--sample", type=int, default=30, help="orders whose latency is timed")
    parser.add_argument("--half-rate-seconds", type=float, default=60.0)
    parser.add_argument("--port-offset", type=int, default=700)
    parser.add_argument(
        "--history",
        type=int,
        default=50_000,
        help="work orders of a 50-store group's year loaded before the second run "
        "(a full year is ~500,000; 0 = empty databases only)",
    )
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
