"""The composition root of the console's backend: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
from aftersales_runtime.clock import Clock, ControlledClock, SystemClock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.settings import ClockKind
from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.staticfiles import StaticFiles

from aftersales_console.proxy import proxy_router
from aftersales_console.settings import SERVICES, ConsoleSettings
from aftersales_console.signin import DemoIssuer, DemoUsers, SignedIn, SignInRequest
from aftersales_console.working_time import WorkingTime

# Every script, style, font and chart comes from the console itself (offline intranets).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def console_clock(settings: ConsoleSettings) -> Clock:
    if settings.clock is ClockKind.controlled and settings.clock_file is not None:
        return ControlledClock(settings.clock_file)
    return SystemClock()


def create_app(
    settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport`: how the proxy reaches the services (default: the network)."""
    clock = console_clock(settings)
    issuer = (
        DemoIssuer(
            DemoUsers.read(settings.demo_users_file),
            settings.demo_issuer_key_file,
            settings.demo_password,
            timedelta(minutes=settings.token_minutes),
        )
        if settings.demo_users_file and settings.demo_issuer_key_file
        else None
    )
    client = httpx.AsyncClient(timeout=settings.proxy_timeout_seconds, transport=transport)
    working_time = WorkingTime(DealerDirectory.load(settings.dealers_file))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="aftersales console", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        answer = await call_next(request)
        answer.headers.update(SECURITY_HEADERS)
        return answer

    @app.get("/console/config")
    async def config() -> dict[str, Any]:
        """What the sign-in page needs: which sign-in, the demo users, the platform's time."""
        users = issuer.users.users if issuer else []
        return {
            "signin": "demo" if issuer else "oidc",
            "demo_users": [u.model_dump(include={"username", "name", "roles"}) for u in users],
            "now": clock.now().isoformat(),
            "services": list(SERVICES),
        }

    @app.post("/console/signin")
    async def sign_in(request: SignInRequest) -> SignedIn:
        if issuer is None:
            raise HTTPException(404, "demo sign-in is off: sign in at the identity provider")
        signed = issuer.sign_in(request)
        if signed is None:
            raise HTTPException(401, "unknown user or wrong password")
        return signed

    @app.get("/console/working-time")
    async def working_time_left(
        dealer_id: str, until: Annotated[list[datetime], Query(max_length=500)]
    ) -> dict[str, Any]:
        """Working seconds left until each deadline on the dealer's calendar (D20); no data of
        anyone's, so no token is needed."""
        if any(u.tzinfo is None for u in until):
            raise HTTPException(422, "every `until` needs a time zone")
        now = clock.now()
        left = working_time.left(dealer_id, now, until)
        if left is None:
            raise HTTPException(404, "no such dealer")
        return {"dealer_id": dealer_id, "now": now.isoformat(), "left_seconds": left}

    @app.get("/health/live")
    @app.get("/health/ready")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(proxy_router(settings.service_urls, client))
    if settings.static_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.static_dir, html=True), name="pages")
    return app
