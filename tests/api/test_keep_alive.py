"""Every request gets its own deadline, also on a keep-alive connection whose requests arrive
pipelined (the client sends the next before the answer to the previous): uvicorn starts such a
request from inside the previous one, and without a fresh context it inherited the previous
one's MongoDB deadline, so after the first request's budget every later request on the
connection answered 503 "mongodb is unavailable (ExecutionTimeout)" at once (found by
schemathesis, which keeps one connection open)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aftersales_runtime.clock import ControlledClock

from deploy.local.services import ServiceProcess

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

DEADLINE_SECONDS = 1.0  # MongoDB gets 0.5 s of it (problems.DeadlineMiddleware)
PIPELINED_FOR_SECONDS = 3 * DEADLINE_SECONDS
AHEAD = 20  # requests sent and not yet answered, so the next one is always waiting


@pytest.fixture
async def contact(fleet_of_this_test, tmp_path) -> AsyncIterator[ServiceProcess]:
    fleet = fleet_of_this_test(
        ControlledClock(tmp_path / "clock.json"),
        AFTERSALES_HTTP_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
    )
    service = fleet["contact"]
    await asyncio.to_thread(service.start)
    try:
        await asyncio.to_thread(service.wait_ready)
        yield service
    finally:
        await asyncio.to_thread(service.stop)


async def _read_status(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def test_pipelined_requests_each_get_a_whole_deadline(contact, tokens):
    authorization = tokens.header("agent", dealers=["*"], sub="agent-1")["Authorization"]
    request = (
        f"DELETE /v1/tasks/no-such-task/lease HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {authorization}\r\nContent-Length: 0\r\n\r\n"
    ).encode()  # the route reads the task from MongoDB, finds none: 404
    reader, writer = await asyncio.open_connection("127.0.0.1", contact.port)
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    try:
        writer.write(request * AHEAD)
        while time.monotonic() - started < PIPELINED_FOR_SECONDS:
            statuses[await _read_status(reader)] += 1
            writer.write(request)  # one answered, one more queued behind the others
        for _ in range(AHEAD):
            statuses[await _read_status(reader)] += 1
    finally:
        writer.close()
    assert set(statuses) == {404}, dict(statuses)
