"""One error shape for every HTTP API: RFC 9457 problem details, and routes that fail fast.

Every error a service answers is `application/problem+json` with `type`, `title`, `status`,
`detail`, and where it applies `errors` (the fields at fault) or `dependency` (what is down). A
request never hangs on a dead or frozen MongoDB or Kafka: each one runs under a deadline
(`AFTERSALES_HTTP_DEADLINE_SECONDS`, default 5), MongoDB calls inside it under the same budget
(PyMongo's client-side timeout), and an outage answers 503 with `Retry-After` and the dependency's
name. Nothing here echoes a request body: a problem names fields, never their values (D3).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pymongo
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftersales_runtime.outages import outage_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://aftersales.invalid/problems/"  # stable ids, not addresses to fetch


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error answer."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    dependency: str | None = None


TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: Sequence[FieldError] = (),
    dependency: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=TYPE_BASE + (kind or str(status)),
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        errors=list(errors) or None,
        dependency=dependency,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


# --- which dependency a request was waiting on -------------------------------------------------

_waiting_on: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "waiting_on", default=None
)


@contextmanager
def waiting_on(dependency: str) -> Iterator[None]:
    """Mark the awaited call inside as a call to `dependency` (e.g. "kafka"), so that a request
    that runs out of time says which dependency held it. The name is dropped only when the call
    returns: a call cut short by the deadline leaves it for the deadline's answer."""
    stack = _waiting_on.get()
    if stack is None:  # not inside an HTTP request
        yield
        return
    stack.append(dependency)
    yield
    stack.pop()


class DependencyUnavailable(Exception):
    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency}: {reason}")
        self.dependency = dependency
        self.reason = reason


def _field_errors(detail: Any) -> list[FieldError]:
    """Field errors from an HTTPException's detail: a {code, field, message} mapping or a list."""
    items = detail if isinstance(detail, list) else [detail]
    found = []
    for item in items:
        if isinstance(item, Mapping) and ("field" in item or "loc" in item):
            loc = item.get("field") or ".".join(str(p) for p in item.get("loc", ()))
            found.append(
                FieldError(
                    field=str(loc),
                    code=str(item.get("code") or item.get("type") or "invalid"),
                    message=str(item.get("message") or item.get("msg") or ""),
                )
            )
    return found


def _detail_text(detail: Any, errors: list[FieldError]) -> str:
    if isinstance(detail, str):
        return detail
    if errors:
        return "; ".join(f"{e.field}: {e.message}" if e.message else e.field for e in errors)
    return "the request cannot be served"


def _methods_of_path(app: FastAPI, request: Request) -> list[str]:
    """Every method the routes of the request's path template serve (RFC 9110: a 405 lists
    them all; Starlette names only its first route's). The template is the first route that
    matches the path, as Starlette picks it: `/vehicles/search` is not `/vehicles/{vin}`.

    Routers included in routers are walked too (FastAPI wraps each included router; the routes
    inside carry their full path, as no router here is included under an extra prefix)."""
    partial: list[BaseRoute] = []

    def walk(routes: Sequence[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, BaseRoute) and route.matches(request.scope)[0] is Match.PARTIAL:
                partial.append(route)

    walk(app.router.routes)
    if not partial:
        return []
    template = getattr(partial[0], "path", None)
    found = {
        method
        for route in partial
        if getattr(route, "path", None) == template
        for method in getattr(route, "methods", None) or ()
    }
    return sorted(found - {"HEAD"})


def install_problem_handlers(
    app: FastAPI, logger: logging.Logger, deadline_seconds: float, retry_after: int
) -> None:
    """Every error the app answers becomes a problem body; dependency outages become 503."""

    def unavailable(dependency: str, reason: str) -> JSONResponse:
        return problem_response(
            503,
            f"{dependency} is unavailable ({reason}); try again later",
            kind="dependency-unavailable",
            dependency=dependency,
            headers={"Retry-After": str(retry_after)},
        )

    @app.exception_handler(HTTPException)  # Starlette's: FastAPI's and the router's own 404/405
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        errors = _field_errors(error.detail)
        headers = error.headers
        if error.status_code == 405 and (methods := _methods_of_path(app, request)):
            headers = {**(headers or {}), "Allow": ", ".join(methods)}  # not just the first
        return problem_response(
            error.status_code,
            _detail_text(error.detail, errors),
            errors=errors,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Any, error: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(
                field=".".join(str(p) for p in e.get("loc", ())),
                code=str(e.get("type", "invalid")),
                message=str(e.get("msg", "")),
            )
            for e in error.errors()
        ]
        return problem_response(422, _detail_text(None, errors), errors=errors)

    @app.exception_handler(DependencyUnavailable)
    async def dependency_down(_: Any, error: DependencyUnavailable) -> JSONResponse:
        return unavailable(error.dependency, error.reason)

    @app.exception_handler(PyMongoError)
    @app.exception_handler(KafkaConnectionError)
    @app.exception_handler(KafkaTimeoutError)
    async def dependency_error(_: Any, error: Exception) -> JSONResponse:
        dependency = outage_of(error)
        if dependency:
            return unavailable(dependency, type(error).__name__)
        logger.error("dependency error", extra={"error_type": type(error).__name__})
        return problem_response(500, "the request failed on a database error; it was logged")

    @app.exception_handler(Exception)
    async def unexpected(_: Any, error: Exception) -> JSONResponse:
        # Only the type is logged: a message may quote the request (D3).
        logger.error("unhandled error", extra={"error_type": type(error).__name__})
        return problem_response(500, "the request failed on an unexpected error; it was logged")

    app.add_middleware(DeadlineMiddleware, seconds=deadline_seconds, retry_after=retry_after)


class DeadlineMiddleware:
    """Every request but the health checks gets `seconds` in all: MongoDB calls inside share the
    budget (they raise a timeout the handlers turn into 503), and a request still waiting when it
    runs out answers 503 naming what it waited on."""

    def __init__(self, app: ASGIApp, seconds: float, retry_after: int) -> None:
        self.app = app
        self.seconds = seconds
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/health"):
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        stack: list[str] = []
        waiting = _waiting_on.set(stack)
        try:
            # MongoDB gets a little less than the whole budget, so its own timeout (which names
            # it) comes first; the outer deadline catches anything else (Kafka, a slow handler).
            with pymongo.timeout(max(self.seconds - 0.5, 0.5)):
                async with asyncio.timeout(self.seconds):
                    await self.app(scope, receive, watch)
        except TimeoutError:
            if started:
                raise
            dependency = stack[-1] if stack else None
            response = problem_response(
                503,
                f"no answer within {self.seconds:g} s: {dependency or 'a dependency'} is slow or "
                "unavailable; try again later",
                kind="deadline-exceeded",
                dependency=dependency,
                headers={"Retry-After": str(self.retry_after)},
            )
            await response(scope, receive, send)
        finally:
            _waiting_on.reset(waiting)


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what the routes answer: every error status of an operation
    carries the problem schema (FastAPI's own 422 schema is replaced); every operation but the
    health checks may answer 500 and 503 (with Retry-After), a secured one 401 and 403, one with
    a body 400 and 413, one with path parameters 404."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(
            {
                "Problem": Problem.model_json_schema(ref_template="#/components/schemas/{model}")
                | {"title": "Problem"},
                "FieldError": FieldError.model_json_schema(),
            }
        )
        schemas["Problem"].pop("$defs", None)
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        body = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "requestBody" in operation:
                    responses.setdefault("400", {"description": "the body is not valid JSON"})
                    responses.setdefault("413", {"description": "the body is too large"})
                if operation.get("security"):
                    responses.setdefault("401", {"description": "no valid bearer token"})
                    responses.setdefault("403", {"description": "the token lacks the role"})
                if "{" in path:
                    responses.setdefault(
                        "404", {"description": "no such object, or not one of the caller's"}
                    )
                if not path.startswith("/health"):
                    responses.setdefault("500", {"description": TITLES[500]})
                    responses.setdefault(
                        "503",
                        {
                            "description": "a dependency (MongoDB, Kafka) is unavailable",
                            "headers": {
                                "Retry-After": {
                                    "description": "seconds to wait before trying again",
                                    "schema": {"type": "integer"},
                                }
                            },
                        },
                    )
                for status, response in responses.items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = body
                        response.setdefault("description", TITLES.get(int(status), "Error"))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
