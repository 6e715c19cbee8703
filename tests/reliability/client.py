"""Every HTTP call the reliability harness makes goes through this one client.

`headers()` is the one place that builds request headers: a bearer token of the run's own
issuer with every role and every dealer, whose subject is the calling agent (contact checks that
the agent of a claim or a result is the token's subject).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from aftersales_runtime.auth.caller import ROLES
from aftersales_runtime.auth.issuer import load_private_key, mint
from aftersales_runtime.paging import MAX_PAGE

from deploy.local.services import Fleet

TRANSIENT = (httpx.TransportError, httpx.TimeoutException)
READ_ATTEMPTS = 3


class ServiceClient:
    """The five services' HTTP APIs, as the harness's checker and scripted agents use them."""

    def __init__(self, urls: dict[str, str], issuer_key: Path, timeout: float = 10.0) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(timeout=timeout)
        self.key = load_private_key(issuer_key)
        self.tokens: dict[str, str] = {}

    @classmethod
    def for_fleet(cls, fleet: Fleet, issuer_key: Path, timeout: float = 10.0) -> ServiceClient:
        return cls({name: p.url for name, p in fleet.processes.items()}, issuer_key, timeout)

    def headers(self, sub: str = "reliability") -> dict[str, str]:
        if sub not in self.tokens:
            self.tokens[sub] = mint(
                self.key, sub=sub, roles=ROLES, dealers=["*"], ttl=timedelta(hours=12)
            )
        return {"Accept": "application/json", "Authorization": f"Bearer {self.tokens[sub]}"}

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        sub: str = "reliability",
    ) -> httpx.Response:
        return await self.http.request(
            method,
            self.urls[service] + path,
            json=json,
            params=params,
            headers=self.headers(sub),
        )

    # --- readiness ------------------------------------------------------------------------

    async def ready(self, service: str) -> bool:
        try:
            answer = await self.call(service, "GET", "/health/ready")
        except TRANSIENT:
            return False
        return answer.status_code == 200

    # --- the agents' tools (contact) --------------------------------------------------------

    async def claim(self, dealer: str, agent: str) -> httpx.Response:
        return await self.call(
            "contact",
            "POST",
            f"/v1/dealers/{dealer}/tasks/claim",
            json={"agent_id": agent},
            sub=agent,
        )

    async def submit(self, task_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.call(
            "contact", "POST", f"/v1/tasks/{task_id}/result", json=body, sub=body["agent_id"]
        )

    # --- what the checker counts ----------------------------------------------------------

    async def read(self, service: str, path: str, **params: str) -> Any:
        """GET's JSON body, None on 404. A read is asked again (three times in all) when the
        connection is cut or refused: the service's process may have just been restarted."""
        for attempt in range(READ_ATTEMPTS):
            try:
                answer = await self.call(service, "GET", path, params=params or None)
                break
            except TRANSIENT:
                if attempt == READ_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(1)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()

    async def vehicle(self, dealer: str, vin: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.read(
            "intake", f"/v1/dealers/{dealer}/vehicles/{vin}"
        )
        return found

    async def planned_contacts(self, dealer: str, vin: str) -> list[dict[str, Any]]:
        body = await self.read("scheduler", f"/v1/dealers/{dealer}/vehicles/{vin}/contacts")
        return list(body["contacts"]) if body else []

    async def tasks(self, dealer: str) -> list[dict[str, Any]]:
        body = await self.read("contact", f"/v1/dealers/{dealer}/tasks", limit=str(MAX_PAGE))
        return list(body["tasks"])

    async def complaints(self, dealer: str) -> list[dict[str, Any]]:
        body = await self.read(
            "complaints", f"/v1/dealers/{dealer}/complaints", limit=str(MAX_PAGE)
        )
        return list(body["complaints"])

    async def monthly_report(self, dealer: str, month: str) -> dict[str, Any]:
        report: dict[str, Any] = await self.read(
            "reporting", f"/v1/dealers/{dealer}/reports/monthly", month=month
        )
        return report
