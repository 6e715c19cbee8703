"""HTTP callbacks of the SMS provider (role `sms_gateway`): customers' replies (SmsUp) and
delivery receipts (SmsReport), in the provider's own push format: a JSON array of items.
Answered `{"code": 0, "msg": "成功"}` as the provider expects, plus what became of each item.
An item is matched only to conversations of the dealers the caller's token serves (the group's
gateway: `dealers: ["*"]`); 409 when no SMS provider is configured."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from aftersales_runtime.auth import Caller, allow
from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from aftersales_contact.desk import Desk, SmsChannel
from aftersales_contact.results import Publish
from aftersales_contact.sms_inbox import when_customer_replies, when_receipt_arrives
from aftersales_contact.sms_provider import e164_of_provider_number


class SmsUp(BaseModel):
    """A customer's reply as the provider pushes it."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(min_length=5, max_length=20)
    content: str = Field(max_length=1000)
    send_time: str | None = None
    sequence_id: int | str | None = None


class SmsReport(BaseModel):
    """A delivery receipt as the provider pushes it."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(min_length=5, max_length=20)
    success: bool
    biz_id: str = Field(min_length=1, max_length=100)
    out_id: str | None = Field(default=None, max_length=100)
    err_code: str | None = None
    err_msg: str | None = None
    report_time: str | None = None


def sms_router(desk: Desk, publish: Publish, logger: logging.Logger) -> APIRouter:
    router = APIRouter(prefix="/v1/sms", tags=["sms"])

    def channel() -> SmsChannel:
        if desk.sms is None:
            raise HTTPException(409, "no SMS provider is configured (CONTACT_SMS_PROVIDER)")
        return desk.sms

    @router.post("/replies")
    async def replies(
        items: Annotated[list[SmsUp], Body(max_length=500)],
        caller: Annotated[Caller, allow("sms_gateway")],
    ) -> dict[str, Any]:
        sms = channel()
        handled = [
            await when_customer_replies(
                desk,
                sms,
                publish,
                e164_of_provider_number(i.phone_number),
                i.content,
                caller.serves,
                logger,
            )
            for i in items
        ]
        return {"code": 0, "msg": "成功", "handled": handled}

    @router.post("/reports")
    async def reports(
        items: Annotated[list[SmsReport], Body(max_length=500)],
        caller: Annotated[Caller, allow("sms_gateway")],
    ) -> dict[str, Any]:
        sms = channel()
        kept = [
            await when_receipt_arrives(
                sms, i.model_dump(), e164_of_provider_number(i.phone_number), caller.serves
            )
            for i in items
        ]
        return {"code": 0, "msg": "成功", "kept": sum(kept)}

    return router
