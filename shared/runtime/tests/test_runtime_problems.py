"""Every error is a problem body (RFC 9457); a request never outlives its deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aftersales_runtime.problems import PROBLEM_MEDIA_TYPE, waiting_on
from aftersales_runtime.service import Runtime
from aftersales_runtime.settings import ServiceSettings
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

DEAD_PORT = "mongodb://127.0.0.1:9/"  # nothing listens on the discard port


class Body(BaseModel):
    score: int = Field(ge=0, le=10)


def _router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/missing", responses={404: {"description": "no such thing"}})
    async def missing() -> None:
        raise HTTPException(404, "no such thing")

    @router.put("/missing")
    async def replace_missing() -> None:
        raise HTTPException(404, "no such thing")

    @router.get("/refused")
    async def refused() -> None:
        raise HTTPException(422, {"code": "vin.length", "field": "vin", "message": "17 characters"})

    @router.post("/scores")
    async def scores(body: Body) -> dict[str, int]:
        return {"score": body.score}

    @router.get("/database")
    async def database() -> Any:
        return await runtime.db["things"].find_one({"_id": "x"})

    @router.get("/bus")
    async def bus() -> None:
        with waiting_on("kafka"):
            await asyncio.sleep(30)

    @router.get("/bug")
    async def bug() -> None:
        raise ValueError("customer 13800138000 broke it")

    return router


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(mongodb_url=DEAD_PORT, environment="test", http_deadline_seconds=1.5)
    runtime = Runtime("probe", settings)
    app = runtime.http_app(_router(runtime))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as http:
        yield http
    await runtime.mongo.close()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


async def test_an_http_error_is_a_problem(client: httpx.AsyncClient) -> None:
    body = _problem(await client.get("/v1/missing"), 404)
    assert body["detail"] == "no such thing"


async def test_a_refusal_names_its_field(client: httpx.AsyncClient) -> None:
    body = _problem(await client.get("/v1/refused"), 422)
    assert body["errors"] == [{"field": "vin", "code": "vin.length", "message": "17 characters"}]


async def test_a_validation_error_names_the_field(client: httpx.AsyncClient) -> None:
    body = _problem(await client.post("/v1/scores", json={"score": 11}), 422)
    assert [e["field"] for e in body["errors"]] == ["body.score"]
    assert body["errors"][0]["code"] == "less_than_equal"


async def test_a_dead_database_answers_503_inside_the_deadline(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await client.get("/v1/database")
    elapsed = time.monotonic() - started
    body = _problem(response, 503)
    assert body["dependency"] == "mongodb"
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < 2.5, elapsed


async def test_a_hanging_dependency_is_cut_at_the_deadline_and_named(
    client: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    response = await client.get("/v1/bus")
    elapsed = time.monotonic() - started
    body = _problem(response, 503)
    assert body["dependency"] == "kafka"
    assert "Retry-After" in response.headers
    assert 1.4 < elapsed < 2.5, elapsed


async def test_a_bug_is_a_500_problem_that_quotes_nothing(client: httpx.AsyncClient) -> None:
    body = _problem(await client.get("/v1/bug"), 500)
    assert "13800138000" not in str(body)


async def test_health_stays_outside_the_problem_shape(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 200


async def test_the_openapi_document_declares_the_problem_answers(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    scores = document["paths"]["/v1/scores"]["post"]["responses"]
    assert scores["422"]["content"][PROBLEM_MEDIA_TYPE]["schema"] == problem_ref
    assert "Retry-After" in scores["503"]["headers"]
    missing = document["paths"]["/v1/missing"]["get"]["responses"]
    assert missing["404"]["content"][PROBLEM_MEDIA_TYPE]["schema"] == problem_ref
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "503" not in document["paths"]["/health/live"]["get"]["responses"]


async def test_unknown_routes_and_unparsable_bodies_are_problems_too(
    client: httpx.AsyncClient,
) -> None:
    _problem(await client.get("/v1/nowhere"), 404)
    wrong_method = await client.delete("/v1/missing")
    _problem(wrong_method, 405)
    assert wrong_method.headers["allow"] == "GET, PUT"  # every route of the path, not the first
    garbage = await client.post(
        "/v1/scores", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code in (400, 422)
    _problem(garbage, garbage.status_code)
