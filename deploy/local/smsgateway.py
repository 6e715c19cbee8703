"""A local SMS gateway that speaks Alibaba Cloud SMS's API (issue 10.6), for `make run` and tests.

What the official SDK (`alibabacloud-dysmsapi20170525`) sends: an RPC-style `POST /` whose query
holds the action's parameters (`PhoneNumbers`, `SignName`, `TemplateCode`, `TemplateParam`,
`OutId`) and whose headers name the action (`x-acs-action: SendSms`, `x-acs-version:
2017-05-25`) and sign the request (ACS3-HMAC-SHA256: `Authorization: ACS3-HMAC-SHA256
Credential=<key id>,SignedHeaders=…,Signature=…` over the canonical request, with
`x-acs-content-sha256`, `x-acs-date` and `x-acs-signature-nonce`). The gateway checks the
signature with the access key it was given, keeps every message it "sent" (in memory and as JSON
lines in a file), answers like the real service (`{"Code": "OK", "BizId": …}`), and pushes a
delivery receipt to the callback address in the provider's format (SmsReport).

A person or a test sends the customer's reply with `POST /replies {"phone", "content"}`: the
gateway pushes it to the reply callback in the provider's format (SmsUp). `GET /messages?phone=`
lists what was sent.

    python -m deploy.local.smsgateway --port 9095 --callback http://127.0.0.1:8003 \
        --access-key-id local --access-key-secret local-secret [--issuer-dir .cache/auth] \
        [--store F]

`--issuer-dir`: the project's local issuer, with which the gateway signs a short-lived token of
role `sms_gateway` (every dealer) for each callback, as the provider's callbacks must be
authorised. `deploy/local/stack.sh up` starts it (port `SMSGATEWAY_PORT`, default KAFKA_PORT+3;
callbacks to `SMSGATEWAY_CALLBACK`, default contact's `http://127.0.0.1:8003`; its access key
generated once into `.cache/stack/secrets/smsgateway.env`; every message in
`.cache/stack/data/smsgateway/messages.jsonl`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

ALGORITHM = "ACS3-HMAC-SHA256"
CHINA = timezone(timedelta(hours=8))  # the provider's callbacks write Beijing time


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], signed: list[str]
) -> str:
    """The V3 signature's canonical request (Alibaba Cloud's "ACS3" signing)."""
    canonical_query = "&".join(
        f"{quote(k, safe='~')}={quote(query[k], safe='~')}" for k in sorted(query)
    )
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    return "\n".join(
        [
            method,
            path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed),
            headers.get("x-acs-content-sha256", ""),
        ]
    )


def signature_problem(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, str],
) -> str | None:
    """Why the request's signature does not hold; None when it does."""
    authorization = headers.get("authorization", "")
    scheme, _, rest = authorization.partition(" ")
    if scheme != ALGORITHM:
        return f"Authorization must use {ALGORITHM}"
    parts = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
    secret = keys.get(parts.get("Credential", ""))
    if secret is None:
        return "InvalidAccessKeyId.NotFound"
    if headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
        return "the body does not match x-acs-content-sha256"
    signed = parts.get("SignedHeaders", "").split(";")
    if not {"host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce"} <= set(signed):
        return "SignedHeaders must include host, x-acs-action, x-acs-date, x-acs-signature-nonce"
    request = canonical_request(method, path, query, headers, signed)
    digest = hashlib.sha256(request.encode()).hexdigest()
    expected = hmac.new(
        secret.encode(), f"{ALGORITHM}\n{digest}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, parts.get("Signature", "")):
        return "SignatureDoesNotMatch"
    return None


class Reply(BaseModel):
    phone: str = Field(min_length=5, max_length=20)  # as the provider writes it: 13800138000
    content: str = Field(min_length=1, max_length=500)


class Gateway:
    def __init__(
        self,
        keys: Mapping[str, str],
        callback: str | None,
        token: str | Callable[[], str] | None,
        store: Path | None,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: the service in process
    ) -> None:
        self.keys = dict(keys)
        self.transport = transport
        self.callback = callback.rstrip("/") if callback else None
        self.token = token
        self.store = store
        self.messages: list[dict[str, Any]] = []
        self.sequence = 0

    def _keep(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if self.store is not None:
            with self.store.open("a", encoding="utf-8") as file:
                file.write(json.dumps(message, ensure_ascii=False) + "\n")

    async def push(self, path: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """POST a callback in the provider's format; its answer (the provider wants code 0)."""
        if self.callback is None:
            return {"code": -1, "msg": "no callback configured"}
        token = self.token() if callable(self.token) else self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=30, transport=self.transport) as http:
            answer = await http.post(f"{self.callback}{path}", json=items, headers=headers)
        try:
            body: dict[str, Any] = answer.json()
        except ValueError:
            body = {}
        return {"status": answer.status_code, **body}

    async def send_sms(self, query: Mapping[str, str]) -> dict[str, Any]:
        missing = [
            k for k in ("PhoneNumbers", "SignName", "TemplateCode") if not query.get(k, "").strip()
        ]
        if missing:
            return {"Code": "isv.MISSING_PARAMETER", "Message": f"missing {', '.join(missing)}"}
        try:
            params = json.loads(query.get("TemplateParam") or "{}")
        except ValueError:
            return {"Code": "isv.INVALID_JSON_PARAM", "Message": "TemplateParam is not JSON"}
        biz_id = f"{uuid.uuid4().hex[:16]}^0"
        now = datetime.now(CHINA)
        for phone in query["PhoneNumbers"].split(","):
            self._keep(
                {
                    "biz_id": biz_id,
                    "phone": phone.strip(),
                    "sign_name": query["SignName"],
                    "template_code": query["TemplateCode"],
                    "template_param": params,
                    "out_id": query.get("OutId"),
                    "sent_at": now.isoformat(),
                }
            )
        return {"Code": "OK", "Message": "OK", "BizId": biz_id}

    async def receipt(self, message: dict[str, Any]) -> None:
        """The delivery receipt (SmsReport) of a message, pushed a moment after it was sent."""
        await asyncio.sleep(0.05)
        now = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        item = {
            "phone_number": message["phone"],
            "send_time": now,
            "report_time": now,
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": message["biz_id"],
            "out_id": message.get("out_id"),
        }
        # The real provider retries later; locally, a receipt lost is only a receipt.
        with contextlib.suppress(httpx.HTTPError):
            await self.push("/v1/sms/reports", [item])

    async def reply(self, reply: Reply) -> dict[str, Any]:
        self.sequence += 1
        item = {
            "phone_number": reply.phone,
            "send_time": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "content": reply.content,
            "sign_name": "",
            "dest_code": "",
            "sequence_id": self.sequence,
        }
        self._keep({"reply": True, **item})
        return await self.push("/v1/sms/replies", [item])


def create_app(gateway: Gateway) -> FastAPI:
    app = FastAPI(title="local SMS gateway (Alibaba Cloud SMS API)")
    receipts: set[asyncio.Task[None]] = set()

    @app.post("/")
    async def rpc(request: Request) -> JSONResponse:
        body = await request.body()
        query = dict(request.query_params)
        headers = {k.lower(): v for k, v in request.headers.items()}
        request_id = str(uuid.uuid4()).upper()
        problem = signature_problem("POST", request.url.path, query, headers, body, gateway.keys)
        if problem is not None:
            return JSONResponse(
                {"RequestId": request_id, "Code": "SignatureDoesNotMatch", "Message": problem},
                status_code=400,
            )
        action = headers.get("x-acs-action")
        if action != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return JSONResponse(
                {"RequestId": request_id, "Code": "InvalidAction.NotFound", "Message": action},
                status_code=404,
            )
        answer = await gateway.send_sms(query)
        if answer["Code"] == "OK":
            for message in gateway.messages:
                if message.get("biz_id") == answer["BizId"]:
                    task = asyncio.create_task(gateway.receipt(message))
                    receipts.add(task)
                    task.add_done_callback(receipts.discard)
        return JSONResponse({"RequestId": request_id, **answer})

    @app.get("/messages")
    async def messages(phone: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in gateway.messages
            if not m.get("reply") and (phone is None or m["phone"] == phone)
        ]

    @app.post("/replies")
    async def replies(reply: Reply) -> dict[str, Any]:
        return {"callback": await gateway.reply(reply)}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "at": datetime.now(UTC).isoformat()}

    return app


def callback_tokens(issuer_dir: Path) -> Callable[[], str]:
    """A fresh token of role `sms_gateway` for every dealer, signed by the local issuer."""
    from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint

    private, _ = ensure_key_pair(issuer_dir)
    key = load_private_key(private)
    return lambda: mint(
        key, sub="sms-gateway", roles=["sms_gateway"], dealers=["*"], ttl=timedelta(minutes=5)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMSGATEWAY_PORT", 9095)))
    parser.add_argument("--callback", default=os.environ.get("SMSGATEWAY_CALLBACK"))
    parser.add_argument("--access-key-id", default=os.environ.get("SMSGATEWAY_ACCESS_KEY_ID"))
    parser.add_argument(
        "--access-key-secret", default=os.environ.get("SMSGATEWAY_ACCESS_KEY_SECRET")
    )
    parser.add_argument("--issuer-dir", type=Path, help="the local issuer's key pair directory")
    parser.add_argument("--store", type=Path, help="JSON lines file that keeps every message")
    args = parser.parse_args(argv)
    if not args.access_key_id or not args.access_key_secret:
        parser.error("give --access-key-id and --access-key-secret (the SDK signs with them)")
    token = callback_tokens(args.issuer_dir) if args.issuer_dir else None
    if args.store is not None:
        args.store.parent.mkdir(parents=True, exist_ok=True)
    gateway = Gateway(
        {args.access_key_id: args.access_key_secret}, args.callback, token, args.store
    )
    uvicorn.run(create_app(gateway), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
