"""The SMS provider behind one small interface (D14), and its adapter for Alibaba Cloud SMS.

A message is a registered template and its parameters (how Chinese SMS providers work: the text
of each template is approved beforehand, with the dealer's signature), sent to one phone, with
our own id (`out_id`: the task) that comes back in the provider's delivery receipts.

The adapter calls the official SDK (`alibabacloud-dysmsapi20170525`, action SendSms). Its
endpoint is configurable: the real service in production, the local SMS gateway
(`deploy/local/smsgateway.py`) locally and in the tests, which checks the SDK's signature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.utils_models import Config

#: The templates registered with the provider, by what they are for (configuration: the codes).
SURVEY, REASK, NOTICE = "survey", "reask", "notice"


@dataclass(frozen=True)
class SmsMessage:
    phone: str  # E.164
    template: str  # the provider's template code
    params: Mapping[str, str] = field(default_factory=dict)
    out_id: str = ""  # ours (the task id): comes back with the delivery receipt


class SmsRefused(Exception):
    """The provider refused the message (its code says why); sending it again will not help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class SmsProvider(Protocol):
    async def send(self, message: SmsMessage) -> str:
        """Send one message; the provider's id of it (its receipts carry it)."""
        ...


def provider_number(phone: str) -> str:
    """Alibaba Cloud writes mainland numbers without a country code and others as digits with
    theirs (E.164 without the plus)."""
    return phone[3:] if phone.startswith("+86") else phone.lstrip("+")


def e164_of_provider_number(number: str) -> str:
    """The inverse, for what the provider's callbacks write (`13800138000`, `8613800138000`)."""
    digits = number.strip().lstrip("+")
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    return "+" + digits


class AlibabaCloudSms:
    """SendSms through the official SDK; `endpoint` e.g. `dysmsapi.aliyuncs.com`."""

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        protocol: str = "https",
    ) -> None:
        self._client = Client(
            Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=endpoint,
                protocol=protocol,
            )
        )
        self._sign_name = sign_name

    async def send(self, message: SmsMessage) -> str:
        request = sms_models.SendSmsRequest(
            phone_numbers=provider_number(message.phone),
            sign_name=self._sign_name,
            template_code=message.template,
            template_param=json.dumps(dict(message.params), ensure_ascii=False),
            out_id=message.out_id or None,
        )
        answer = await self._client.send_sms_async(request)
        body = answer.body
        if body is None or body.code != "OK" or not body.biz_id:
            code = body.code if body is not None else "NoBody"
            raise SmsRefused(str(code), str(body.message if body is not None else ""))
        return str(body.biz_id)
