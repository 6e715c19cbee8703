"""The buyer's face-to-face questionnaire at the delivery (D34), recorded by the sales side,
validated against the delivery questionnaire, stored once and published once (TestKafkaBroker
for the bus, the real database)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aftersales_contracts import DeliverySurveyed, topics
from aftersales_runtime.spy import keep_published
from faststream.kafka import TestKafkaBroker

DEALER = "dealer-sz-001"
PATH = f"/v1/dealers/{DEALER}/deliveries/DL-7/survey"
ANSWER = {
    "vin": "LSVAU218XN2183294",
    "customer_id": "C-9",
    "scores": {
        "consultant_etiquette": 10,
        "product_knowledge": 9,
        "delivery_time": 8,
        "overall": 9,
    },
    "yes_no": {"test_drive_invited": True},
    "comment": "交车讲解很细致",
}


@pytest.fixture
async def surveyed(service, settings):
    seen: list[DeliverySurveyed] = []
    keep_published(
        service.runtime.broker,
        settings.topic(topics.DELIVERY_SURVEYED),
        seen,
        DeliverySurveyed.model_validate_json,
    )
    async with TestKafkaBroker(service.runtime.broker):
        yield seen


@pytest.fixture
async def consultant(service, tokens):
    headers = tokens.header("sales_consultant", dealers=[DEALER], sub="sc-wang")
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c", headers=headers) as c:
        yield c


async def test_the_form_shows_the_delivery_questionnaire(consultant) -> None:
    form = (await consultant.get(PATH)).json()
    [questionnaire] = form["questionnaires"]
    assert questionnaire["id"] == "delivery-face-to-face"
    items = {i["id"]: i["kind"] for i in questionnaire["items"]}
    assert items["test_drive_invited"] == "yes_no"
    assert items["consultant_etiquette"] == "score"
    assert form["recorded"] is None


async def test_an_answer_is_recorded_once_and_published_once(consultant, surveyed) -> None:
    first = await consultant.post(PATH, json=ANSWER)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["recorded_by"] == "sc-wang"
    assert body["questionnaire"] == {"id": "delivery-face-to-face", "version": 1}
    again = await consultant.post(PATH, json=ANSWER)
    assert again.status_code == 200
    assert again.json() == body
    other = await consultant.post(PATH, json={**ANSWER, "comment": "改了主意"})
    assert other.status_code == 409
    await asyncio.sleep(0)
    assert [(e.delivery_id, e.scores["overall"]) for e in surveyed] == [("DL-7", 9)]
    assert (await consultant.get(PATH)).json()["recorded"]["event_id"] == body["event_id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scores": {**ANSWER["scores"], "viewing": 9}}, "scores.viewing"),
        ({"yes_no": {}}, "yes_no.test_drive_invited"),
        ({"scores": {"consultant_etiquette": 10}}, "scores.overall"),
        ({"questionnaire": {"id": "ssi-new-car", "version": 1}}, "questionnaire"),
    ],
)
async def test_answers_that_do_not_fit_the_questionnaire_are_refused_naming_the_field(
    consultant, change, field
) -> None:
    answer = await consultant.post(PATH, json={**ANSWER, **change})
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_only_the_sales_side_records_it(service, tokens) -> None:
    transport = httpx.ASGITransport(app=service.app)
    agent = tokens.header("agent", dealers=[DEALER])
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
        assert (await client.post(PATH, json=ANSWER, headers=agent)).status_code == 403
