"""One origin for the browser: /api/<service>/<path> is forwarded to that service's public HTTP
API with the caller's own bearer token; the console adds no authority of its own."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "accept", "accept-language")
FORWARDED_ANSWER_HEADERS = ("content-type", "content-disposition", "retry-after", "location")


def proxy_router(service_urls: dict[str, str], client: httpx.AsyncClient) -> APIRouter:
    router = APIRouter()

    @router.api_route(
        "/api/{service}/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def forward(service: str, path: str, request: Request) -> Response:
        base = service_urls.get(service)
        # Only the versioned public API: no /docs, no /health through the console.
        if base is None or not path.startswith("v1/"):
            return Response(status_code=404)
        headers = {h: v for h in FORWARDED_REQUEST_HEADERS if (v := request.headers.get(h))}
        try:
            answer = await client.request(
                request.method,
                f"{base.rstrip('/')}/{path}",
                params=request.query_params,
                content=await request.body(),
                headers=headers,
            )
        except httpx.HTTPError as error:
            return Response(
                f'{{"detail": "{service} does not answer ({type(error).__name__})"}}',
                status_code=502,
                media_type="application/json",
            )
        kept = {h: v for h in FORWARDED_ANSWER_HEADERS if (v := answer.headers.get(h))}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    return router
