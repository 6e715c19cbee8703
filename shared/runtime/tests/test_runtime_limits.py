"""Every request body is bounded: declared too large, or growing too large while read → 413."""

from __future__ import annotations

import httpx
from aftersales_runtime.limits import BodyLimit
from fastapi import FastAPI, Request


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, max_bytes=1024)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    return app


async def test_bodies_over_the_bound_are_refused_whether_declared_or_streamed():
    async def chunks():
        for _ in range(10):
            yield b"x" * 512  # no Content-Length: the bound holds while reading

    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        small = await client.post("/echo", content=b"x" * 1024)
        declared = await client.post("/echo", content=b"x" * 1025)
        streamed = await client.post("/echo", content=chunks())

    assert small.json() == {"read": 1024}
    assert declared.status_code == 413
    assert declared.json()["detail"] == "the request body is larger than 1024 bytes"
    assert streamed.status_code == 413
