"""What the one-dealer end-to-end walks share: the dealer's clock, publishing DMS work orders,
an agent's claim, and an answer to whatever questionnaire the claimed task asks (D16)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.test_e2e_pipeline import publish

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


async def publish_orders(kafka: dict[str, Any], topic: str, *orders: dict) -> None:
    """DMS work orders onto the DMS topic, keyed by their dealer."""
    payloads = [json.dumps(o, ensure_ascii=False).encode() for o in orders]
    await publish(kafka, topic, payloads, [o["dealer_id"].encode() for o in orders])


async def claim(http: httpx.AsyncClient, contact: str, agent: dict[str, str]) -> dict | None:
    """The agent's next task, or None when the queue is empty."""
    answer = await http.post(f"{contact}/v1/dealers/{DEALER}/tasks/claim", headers=agent)
    assert answer.status_code in (200, 204), answer.text
    return answer.json() if answer.status_code == 200 else None


def answer_for(task: dict, overall: int) -> dict:
    """What the agent records: every item the task's questionnaire asks (D16)."""
    body: dict = {"outcome": "reached"}
    if task["questionnaires"]:
        questionnaire = task["questionnaires"][0]
        items = questionnaire["items"]
        body["questionnaire"] = {"id": questionnaire["id"], "version": questionnaire["version"]}
        scored = [i["id"] for i in items if i["kind"] == "score"]
        body["scores"] = dict.fromkeys(scored, 9) | {"overall": overall}
        asked = [i["id"] for i in items if i["kind"] == "yes_no"]
        if asked:
            body["yes_no"] = dict.fromkeys(asked, True)
    return body
