"""The SMS channel's documents (collection `sms`), every read an exact `_id` lookup.

- `conv/{task_id}`: one conversation per task sent by SMS: phone, kind (`survey` | `notice`),
  the questionnaire asked, the provider's message ids, the replies kept, the delivery receipts,
  whether the one re-ask went out, and the cascade: when an unanswered survey becomes a call.
- `phone/{e164}`: the conversations a reply from that phone answers: `awaiting` (survey tasks
  not answered yet, oldest first) and `last` (the newest conversation, for an opt-out).
- `optout/{dealer_id}/{e164}`: the customer opted out by SMS (D4): nothing more is sent or
  queued for that phone of that dealer.
- `cascade/{dealer_id}`: `{entries: {task_id: when}}`, the surveys waiting for a reply, so the
  sweep reads one document per dealer.
- `receipt/{biz_id}/{e164}`: a delivery receipt, inserted once (the provider may push it twice);
  the conversation's `message_ids` find its receipts by `_id`.

The conversation and phone documents are written by one process at a time per phone in practice
(a reply and its survey); the things that must happen once (a result per task, a receipt) are
inserts with deterministic ids.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Any

from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]


def conversation_id(task_id: str) -> str:
    return f"conv/{task_id}"


class SmsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.sms = db["sms"]
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def conversation(self, task_id: str) -> Doc | None:
        return await self.sms.find_one({"_id": conversation_id(task_id)})

    async def start_conversation(self, document: Doc) -> bool:
        """False when the task's conversation exists already (a redelivered due contact)."""
        return await insert_once(self.db, "sms", document)

    async def update_conversation(self, task_id: str, changes: Doc) -> None:
        await self.sms.update_one({"_id": conversation_id(task_id)}, {"$set": changes})

    async def keep_reply(self, task_id: str, reply: Doc) -> None:
        await self.sms.update_one({"_id": conversation_id(task_id)}, {"$push": {"replies": reply}})

    async def phone(self, phone: str) -> Doc | None:
        return await self.sms.find_one({"_id": f"phone/{phone}"})

    async def await_reply(self, phone: str, task_id: str, awaiting: bool) -> None:
        """Note the conversation under its phone: the newest, and (surveys) awaiting a reply."""
        async with self._locks[phone]:
            doc = await self.phone(phone) or {"awaiting": []}
            listed = [t for t in doc["awaiting"] if t != task_id]
            await self.sms.update_one(
                {"_id": f"phone/{phone}"},
                {"$set": {"awaiting": listed + ([task_id] if awaiting else []), "last": task_id}},
                upsert=True,
            )

    async def answered(self, phone: str, task_id: str) -> None:
        async with self._locks[phone]:
            doc = await self.phone(phone)
            if doc is not None and task_id in doc["awaiting"]:
                listed = [t for t in doc["awaiting"] if t != task_id]
                await self.sms.update_one({"_id": f"phone/{phone}"}, {"$set": {"awaiting": listed}})

    async def opted_out(self, dealer_id: str, phone: str) -> bool:
        return await self.sms.find_one({"_id": f"optout/{dealer_id}/{phone}"}) is not None

    async def opt_out(self, dealer_id: str, phone: str, at: datetime, task_id: str) -> None:
        await insert_once(
            self.db, "sms", {"_id": f"optout/{dealer_id}/{phone}", "at": at, "task_id": task_id}
        )

    async def add_receipt(self, receipt: Doc) -> bool:
        return await insert_once(self.db, "sms", receipt)

    async def wait_for_reply(self, dealer_id: str, task_id: str, until: datetime) -> None:
        async with self._locks[f"cascade/{dealer_id}"]:
            await self.sms.update_one(
                {"_id": f"cascade/{dealer_id}"},
                {"$set": {f"entries.{task_id}": until}},
                upsert=True,
            )

    async def waiting(self, dealer_id: str) -> dict[str, datetime]:
        doc = await self.sms.find_one({"_id": f"cascade/{dealer_id}"})
        return dict(doc["entries"]) if doc else {}

    async def stop_waiting(self, dealer_id: str, task_ids: list[str]) -> None:
        if not task_ids:
            return
        async with self._locks[f"cascade/{dealer_id}"]:
            await self.sms.update_one(
                {"_id": f"cascade/{dealer_id}"},
                {"$unset": {f"entries.{t}": "" for t in task_ids}},
            )
