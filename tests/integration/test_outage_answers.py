"""An agent's button never freezes: with the database frozen or dead, a route answers 503 with
Retry-After and a problem body naming MongoDB inside the deadline (5 s by default), while liveness
stays 200 and readiness says 503. The database is a private FerretDB of the test's own, so that
freezing it disturbs nothing else."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aftersales_contact.app import build
from aftersales_contact.settings import ContactSettings
from aftersales_runtime.problems import PROBLEM_MEDIA_TYPE
from pymongo import MongoClient

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
FERRETDB = Path(os.environ.get("STACK_CACHE_DIR", REPO / ".cache")) / "bin/ferretdb"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def private_ferretdb(stack, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if stack.source != "local" or not FERRETDB.exists():
        pytest.skip("needs the local stack's FerretDB binary")
    port = _free_port()
    process = subprocess.Popen(
        [str(FERRETDB), "-listen-addr", f"127.0.0.1:{port}", "-sqlite-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"mongodb://127.0.0.1:{port}/"
    with MongoClient(url, serverSelectionTimeoutMS=10_000) as client:
        client.admin.command("ping")
    try:
        yield url, process
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait()


async def _claim_while(
    private_ferretdb: tuple[str, subprocess.Popen[bytes]], service_settings, tokens, outage: str
) -> tuple[httpx.Response, float, dict[str, int]]:
    url, process = private_ferretdb
    service = build(service_settings(ContactSettings, mongodb_url=url))
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://contact") as client:
        await service.runtime.db.command("ping")  # connected before the outage
        process.send_signal(signal.SIGSTOP if outage == "frozen" else signal.SIGKILL)
        started = time.monotonic()
        response = await client.post(
            "/v1/dealers/dealer-sz-001/tasks/claim",
            json={"agent_id": "agent-1"},
            headers=tokens.header("agent", sub="agent-1"),
        )
        elapsed = time.monotonic() - started
        statuses = {
            "live": (await client.get("/health/live")).status_code,
            "ready": (await client.get("/health/ready")).status_code,
        }
    await service.runtime.mongo.close()
    return response, elapsed, statuses


@pytest.mark.parametrize("outage", ["frozen", "dead"])
async def test_a_claim_during_a_database_outage_answers_503_in_time(
    private_ferretdb, service_settings, tokens, outage: str
) -> None:
    response, elapsed, statuses = await _claim_while(
        private_ferretdb, service_settings, tokens, outage
    )
    print(
        f"\nclaim with FerretDB {outage}: {response.status_code} in {elapsed:.2f} s, "
        f"Retry-After {response.headers.get('retry-after')}, {response.text}; "
        f"live {statuses['live']}, ready {statuses['ready']}"
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["dependency"] == "mongodb"
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < 5.5
    assert statuses == {"live": 200, "ready": 503}
