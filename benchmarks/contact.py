"""Contact benchmark (issue 10): the agents' claim and submit through HTTP against the contact
service as its own process, with a little and with a lot of history. Prints figures; passes or
fails nothing.

    python -m benchmarks.contact                                  # 10,000 then 1,000,000 finished
    python -m benchmarks.contact --finished 10000 100000 --work 1000 --agents 20

One dealer: `--open` open tasks (100 due per hour, the hours before now) and the finished tasks
of its history (done, each with its result: the same documents the service writes, laid down in
bulk through contact's storage module). Then `--agents` agents claim and submit (outcome
`no_answer`) through HTTP until `--work` tasks are finished, twice: at full speed (each agent
claims again as soon as it has submitted: the service's capacity in tasks/s, the CPU each
process spent and the MongoDB commands contact sent, per task), then at half that rate (the
agents together start a claim every 2/capacity seconds: the latency of the work itself, not of
a queue in front of a saturated machine; the summary line's p99). Latencies are taken at the
client. Between runs the history grows to the next count and the open queue is topped up to
`--open` again. Own database and topic prefix, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aftersales_contact.open_queue import OpenQueue
from aftersales_contact.settings import ContactSettings
from aftersales_contact.store import ContactStore
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.testing import checkout_kafka, checkout_mongodb_url, tool_kafka_env
from pymongo import AsyncMongoClient

from benchmarks.commands import print_commands, read_counts
from benchmarks.contact_data import load_finished, load_open
from benchmarks.cpu import Cpu
from deploy.local.services import REPO, SERVICES, ServiceProcess

DEALER = "dealer-sz-001"
KAFKA = checkout_kafka()
MONGODB = checkout_mongodb_url()


def progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def agents_work(
    url: str, key: Path, agents: int, work: int, rate: float | None = None
) -> tuple[list[float], list[float], float, int]:
    """Agents claim and submit until `work` tasks are finished: (claim ms, submit ms, seconds,
    503 answers, which the agents retried). Without `rate` each agent claims again as soon as
    it has submitted (the service's capacity); with `rate`, the agents together start a claim
    every 1/rate seconds (a load below capacity, where latency is the work's, not a queue's)."""
    private = load_private_key(key)
    claims: list[float] = []
    submits: list[float] = []
    unavailable = 0
    remaining = work
    started_at = time.perf_counter()
    turns = 0

    async def my_turn() -> None:
        nonlocal turns
        if rate is None:
            return
        at = started_at + turns / rate
        turns += 1
        await asyncio.sleep(max(0.0, at - time.perf_counter()))

    async def post(http: aiohttp.ClientSession, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, JSON body or the text of an error)."""
        async with http.post(path, **kwargs) as answer:
            if answer.status == 200:
                return answer.status, await answer.json()
            return answer.status, await answer.text()

    async def agent(number: int, http: aiohttp.ClientSession) -> None:
        nonlocal remaining, unavailable
        token = mint(private, sub=f"agent-{number:02d}", roles=["agent"], dealers=[DEALER])
        headers = {"Authorization": f"Bearer {token}"}
        while remaining > 0:
            remaining -= 1
            await my_turn()
            started = time.perf_counter()
            status, claimed = await post(http, f"/v1/dealers/{DEALER}/tasks/claim", headers=headers)
            if status == 503:
                unavailable, remaining = unavailable + 1, remaining + 1
                continue
            claims.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"claim answered {status}: {claimed}")
            task_id = claimed["task_id"]
            while True:
                started = time.perf_counter()
                status, answer = await post(
                    http,
                    f"/v1/tasks/{task_id}/result",
                    json={"outcome": "no_answer"},
                    headers=headers,
                )
                if status != 503:
                    break
                unavailable += 1
            submits.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"submit answered {status}: {answer}")

    # aiohttp, not httpx: the agents run on the service's cores (httpx cost about 1.3 ms of
    # CPU per request in the pipeline benchmark).
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base_url=url, timeout=timeout) as http:
        await asyncio.gather(*(agent(n, http) for n in range(agents)))
    return claims, submits, time.perf_counter() - started_at, unavailable


def service_process(database: str, prefix: str, public_key: Path, workdir: Path) -> ServiceProcess:
    # 50 above the tests' port of contact, so a benchmark and a test run do not meet.
    port = SERVICES["contact"] + int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100")) + 50
    env = {
        **os.environ,
        **tool_kafka_env(KAFKA),
        "MONGODB_URL": MONGODB,
        "AFTERSALES_ENVIRONMENT": "test",
        "AFTERSALES_TOPIC_PREFIX": prefix,
        "AFTERSALES_DEALERS_FILE": str(REPO / "deploy/local/dealers.json"),
        "AFTERSALES_AUTH_PUBLIC_KEY_FILE": str(public_key),
        "AFTERSALES_LOG_LEVEL": "WARNING",
        "AFTERSALES_HTTP_DEADLINE_SECONDS": "30",
        "CONTACT_HTTP_PORT": str(port),
        "CONTACT_MONGODB_DATABASE": database,
    }
    return ServiceProcess("contact", port, env, workdir / "contact.log")


async def run(args: argparse.Namespace) -> None:
    token = uuid.uuid4().hex[:8]
    database, prefix = f"bench_contact_{token}", f"bench{token}."
    workdir = Path(tempfile.mkdtemp(prefix="bench-contact-"))
    key, public_key = ensure_key_pair(workdir / "auth")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB, tz_aware=True)
    db = mongo[database]
    store, queue = ContactStore(db), OpenQueue(db)
    priorities = ContactSettings().purpose_priority
    process = service_process(database, prefix, public_key, workdir)
    now = datetime.now(UTC)
    print(
        f"contact benchmark: one dealer, {args.open:,} open tasks, {args.agents} agents finishing "
        f"{args.work:,} tasks per run through HTTP (the machine is shared: figures are noisy)"
    )
    p99_by_history: dict[int, float] = {}
    loaded_finished = 0
    try:
        progress(f"loading {args.open:,} open tasks")
        await load_open(store, queue, DEALER, args.open, now, priorities, kind="open0")
        process.start()
        await asyncio.to_thread(process.wait_ready, 90)
        for run_no, finished in enumerate(sorted(args.finished)):
            if finished > loaded_finished:
                progress(f"loading {finished - loaded_finished:,} finished tasks")
                took = await load_finished(
                    store, DEALER, finished - loaded_finished, now, offset=loaded_finished
                )
                progress(f"loaded in {took:.0f} s")
                loaded_finished = finished
            if run_no > 0:
                # Top the open queue up again, in hours before the ones already queued.
                earlier = now - timedelta(hours=run_no * (args.open // 100 + 2))
                await load_open(
                    store, queue, DEALER, args.work, earlier, priorities, kind=f"open{run_no}"
                )
            assert process.process is not None
            cpu = Cpu.of({"contact": process.process.pid})
            async with aiohttp.ClientSession() as http:
                before = (await read_counts(http, {"contact": process.url})).mongodb
                cpu.start()
                claims, submits, seconds, unavailable = await agents_work(
                    process.url, key, args.agents, args.work
                )
                after = (await read_counts(http, {"contact": process.url})).mongodb
            per_task = {n: 1000 * t / len(submits) for n, t in cpu.seconds().items()}
            capacity = len(submits) / seconds
            print(
                f"{finished:>9,} finished, {args.open:,} open, full speed: claim p50 "
                f"{percentile(claims, 0.5):.1f} ms p99 {percentile(claims, 0.99):.1f} ms; submit "
                f"p50 {percentile(submits, 0.5):.1f} ms p99 {percentile(submits, 0.99):.1f} ms; "
                f"{capacity:.1f} tasks/s ({len(submits):,} tasks in {seconds:.1f} s"
                f", {unavailable} answers 503 retried)",
                flush=True,
            )
            print(
                "    cpu ms per task: "
                + ", ".join(
                    f"{n} {ms:.1f}" for n, ms in sorted(per_task.items(), key=lambda x: -x[1])
                ),
                flush=True,
            )
            print_commands("full speed", before, after, len(submits), "task")
            await load_open(
                store,
                queue,
                DEALER,
                args.work,
                now - timedelta(hours=(run_no + 1) * 1000),
                priorities,
                kind=f"half{run_no}",
            )
            claims, submits, seconds, unavailable = await agents_work(
                process.url, key, args.agents, args.work, rate=capacity / 2
            )
            p99_by_history[finished] = percentile(claims, 0.99)
            print(
                f"{finished:>9,} finished, {args.open:,} open, half rate ({capacity / 2:.0f} "
                f"tasks/s): claim p50 {percentile(claims, 0.5):.1f} ms p99 "
                f"{percentile(claims, 0.99):.1f} ms; submit p50 {percentile(submits, 0.5):.1f} ms "
                f"p99 {percentile(submits, 0.99):.1f} ms ({len(submits):,} tasks in {seconds:.1f} s"
                f", {unavailable} answers 503 retried)",
                flush=True,
            )
    finally:
        await asyncio.to_thread(process.stop)
        await mongo.drop_database(database)
        await mongo.close()
    counts = sorted(p99_by_history)
    largest, smallest = counts[-1], counts[0]
    ratio = p99_by_history[largest] / p99_by_history[smallest]
    print(
        f"contact: claim p99 {p99_by_history[largest]:.1f} ms at {largest:,} finished; "
        f"ratio {_short(largest)}/{_short(smallest)} {ratio:.2f}"
    )


def _short(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contact")
    parser.add_argument("--finished", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--work", type=int, default=1_000, help="tasks finished per run")
    parser.add_argument("--agents", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
