"""The services' HTTP protocol (`httpserver.BoundedHttpToolsProtocol`): httptools, with h11's
bound on a request's target and headers, on a real uvicorn server (no stack needed)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from aftersales_runtime.httpserver import MAX_HEAD_BYTES, BoundedHttpToolsProtocol

pytestmark = pytest.mark.timeout(60)


async def answer_ok(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    seen.append(len(scope["headers"]))
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


seen: list[int] = []  # the number of headers of each request the application was given


@pytest.fixture
async def port() -> AsyncIterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    config = uvicorn.Config(
        answer_ok,
        host="127.0.0.1",
        port=free,
        http=BoundedHttpToolsProtocol,
        loop="asyncio",
        log_config=None,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    seen.clear()
    yield free
    server.should_exit = True
    await serving


async def statuses(port: int, *requests: bytes) -> list[int]:
    """Send the requests on one connection (pipelined) and read the answers' statuses until the
    server closes it or all are answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"".join(requests))
    await writer.drain()
    found = []
    # A server that waits for more of a request would leave the read waiting: 5 s is plenty.
    while len(found) < len(requests) and (line := await asyncio.wait_for(reader.readline(), 5)):
        found.append(int(line.split()[1]))
        length = 0
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
    writer.close()
    return found


def request(*headers: bytes) -> bytes:
    return b"GET / HTTP/1.1\r\nHost: test\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


async def test_requests_with_heads_within_the_bound_are_served_one_after_the_other(port):
    near = b"X-Near: " + b"a" * (MAX_HEAD_BYTES - 1000)

    assert await statuses(port, request(near), request(near), request(b"X-Small: 1")) == [
        200,
        200,
        200,
    ]
    assert seen == [2, 2, 2]


@pytest.mark.parametrize(
    "too_large",
    [
        [b"X-Big: " + b"a" * (MAX_HEAD_BYTES + 10)],  # one header
        [b"X-%d: " % n for n in range(MAX_HEAD_BYTES // 4)],  # many empty ones
    ],
    ids=["one-large-header", "many-empty-headers"],
)
async def test_a_request_whose_head_passes_the_bound_is_refused(port, too_large):
    assert await statuses(port, request(*too_large), request(b"X-Next: 1")) == [400]
    assert seen == []  # the application never saw it, nor the request behind it


async def test_a_header_still_arriving_past_the_bound_is_refused_without_waiting_for_its_end(
    port,
):
    """httptools reports a header only once it is whole: the bytes that came since count too."""
    unfinished = b"GET / HTTP/1.1\r\nHost: test\r\nX-Endless: " + b"a" * (2 * MAX_HEAD_BYTES)

    assert await statuses(port, unfinished) == [400]
    assert seen == []
