"""One paging rule for every list route: bounded pages, bounded skips, a problem otherwise."""

import httpx
from aftersales_runtime.paging import MAX_PAGE, MAX_SKIP, Paged
from fastapi import FastAPI


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    async def items(page: Paged) -> dict[str, int]:
        return {"limit": page.limit, "skip": page.skip}

    return app


async def test_pages_default_and_bounded() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/items")).json() == {"limit": 100, "skip": 0}
        assert (await client.get("/items", params={"limit": MAX_PAGE})).status_code == 200
        assert (await client.get("/items", params={"limit": MAX_PAGE + 1})).status_code == 422
        assert (await client.get("/items", params={"skip": MAX_SKIP + 1})).status_code == 422
        assert (await client.get("/items", params={"skip": "9" * 40})).status_code == 422
