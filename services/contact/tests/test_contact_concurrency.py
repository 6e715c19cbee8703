"""20 agents against one dealer's 2,000 tasks, through HTTP, the service as its own process on
the real Kafka and FerretDB: no task is held by two agents at once, every task is finished once."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aftersales_contact.open_queue import OpenQueue
from aftersales_contact.settings import ContactSettings
from aftersales_contact.store import ContactStore
from aftersales_runtime.clock import ControlledClock
from pymongo import AsyncMongoClient

from benchmarks.contact_data import load_open
from deploy.local.services import REPO, SERVICES, ServiceProcess

pytestmark = pytest.mark.stack

DEALER = "dealer-sz-001"
TASKS = 2_000
AGENTS = 20


@pytest.fixture
async def contact_process(stack, isolation, tmp_path) -> Any:
    clock = ControlledClock(tmp_path / "clock.json")
    clock.write_offset(timedelta(0))
    port = SERVICES["contact"] + int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100"))
    env = {
        **os.environ,
        **isolation.service_env(stack),
        "AFTERSALES_CLOCK": "controlled",
        "AFTERSALES_CLOCK_FILE": str(clock.path),
        "AFTERSALES_DEALERS_FILE": str(REPO / "deploy/local/dealers.json"),
        "CONTACT_HTTP_PORT": str(port),
        "CONTACT_MONGODB_DATABASE": isolation.database,
        "AFTERSALES_LOG_LEVEL": "WARNING",
        "AFTERSALES_HTTP_DEADLINE_SECONDS": "30",
    }
    process = ServiceProcess("contact", port, env, tmp_path / "contact.log")
    process.start()
    try:
        await asyncio.to_thread(process.wait_ready, 90)
        yield process, clock
    finally:
        await asyncio.to_thread(process.stop)


async def _call(
    http: httpx.AsyncClient, answers: Counter[int], path: str, **kwargs: Any
) -> httpx.Response:
    """As an agent's tool does: a 503 (the shared machine is slow) is tried again."""
    while True:
        answer = await http.post(path, **kwargs)
        answers[answer.status_code] += 1
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(0.2)


async def _agent(
    http: httpx.AsyncClient, header: dict[str, str], claims: list[str], answers: Counter[int]
) -> None:
    while True:
        claimed = await _call(http, answers, f"/v1/dealers/{DEALER}/tasks/claim", headers=header)
        if claimed.status_code == 204:
            return
        assert claimed.status_code == 200, claimed.text
        task_id = claimed.json()["task_id"]
        claims.append(task_id)
        result = await _call(
            http,
            answers,
            f"/v1/tasks/{task_id}/result",
            json={"outcome": "no_answer"},
            headers=header,
        )
        assert result.status_code == 200, result.text


async def test_twenty_agents_finish_two_thousand_tasks_each_exactly_once(
    contact_process, stack, isolation, tokens
):
    process, clock = contact_process
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    db = client[isolation.database]
    try:
        loaded = await load_open(
            ContactStore(db),
            OpenQueue(db),
            DEALER,
            TASKS,
            clock.now(),
            ContactSettings().purpose_priority,
        )
        claims: dict[str, list[str]] = {f"agent-{i:02d}": [] for i in range(AGENTS)}
        answers: Counter[int] = Counter()
        async with httpx.AsyncClient(base_url=process.url, timeout=60) as http:
            await asyncio.gather(
                *(
                    _agent(http, tokens.header("agent", sub=agent, dealers=[DEALER]), held, answers)
                    for agent, held in claims.items()
                )
            )
        claimed = Counter(t for held in claims.values() for t in held)
        results = await db["results"].count_documents({})
        leases = await db["leases"].count_documents({})
        open_left = await db["queue"].count_documents({"_id": {"$regex": "^open/"}})
    finally:
        await client.close()

    print(
        f"\n{AGENTS} agents, {TASKS:,} tasks: claims answered 200: {claimed.total():,}, "
        f"204: {answers[204]}, 503 (retried): {answers[503]}; "
        f"results stored: {results:,}; leases: {leases:,}; "
        f"tasks claimed twice: {sum(1 for n in claimed.values() if n > 1)}; "
        f"bucket documents left: {open_left}; per agent: "
        f"min {min(len(h) for h in claims.values())}, max {max(len(h) for h in claims.values())}"
    )
    assert set(claimed) == set(loaded)
    assert all(n == 1 for n in claimed.values())  # no task held by two agents, ever
    assert results == TASKS == leases
    assert answers[204] == AGENTS
    assert open_left == 0
