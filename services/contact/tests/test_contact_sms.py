"""The SMS channel (issue 10.6, D4, D7, D14) on the real database, with the official Alibaba
Cloud SDK sending to the local SMS gateway (deploy/local/smsgateway.py) over HTTP, and the
gateway pushing the customer's replies and its delivery receipts back to the service."""

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from aftersales_contact.settings import ContactSettings
from aftersales_contact.sms_channel import cascade_unanswered
from aftersales_contracts import CallOutcome, Channel, ContactPurpose, Customer
from aftersales_contracts.questionnaires import SMS_SURVEY_ID
from aftersales_runtime.kafka import publish_event

from deploy.local.smsgateway import Gateway, create_app

pytestmark = pytest.mark.stack

KEY_ID, KEY_SECRET = "local-key", "local-secret"
SURVEY = [ContactPurpose.SMS_SURVEY_DAY7]


@pytest.fixture(scope="module")
def gateway_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def settings(service_settings, gateway_port) -> ContactSettings:
    """The service under test sends SMS through the SDK to the local gateway."""
    return service_settings(
        ContactSettings,
        lease_seconds=900,
        sms_provider="alibaba",
        sms_endpoint=f"127.0.0.1:{gateway_port}",
        sms_protocol="http",
        sms_access_key_id=KEY_ID,
        sms_access_key_secret=KEY_SECRET,
        sms_sign_name="深圳宝安店",
    )


@pytest.fixture
async def gateway(service, tokens, gateway_port, spied) -> AsyncIterator[httpx.AsyncClient]:
    """The local gateway on its port; its callbacks reach the service in process."""
    token = tokens.mint("sms_gateway", dealers=["*"], sub="sms-gateway")
    transport = httpx.ASGITransport(app=service.app)
    state = Gateway({KEY_ID: KEY_SECRET}, "http://contact", token, None, transport=transport)
    config = uvicorn.Config(
        create_app(state), host="127.0.0.1", port=gateway_port, log_level="warning"
    )
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as http:
            yield http
    finally:
        server.should_exit = True
        await running


async def sent(gateway: httpx.AsyncClient, phone: str) -> list[dict[str, Any]]:
    answer = await gateway.get("/messages", params={"phone": phone})
    return list(answer.json())


async def reply(gateway: httpx.AsyncClient, phone: str, text: str) -> list[str]:
    answer = await gateway.post("/replies", json={"phone": phone, "content": text})
    assert answer.status_code == 200, answer.text
    callback = answer.json()["callback"]
    assert callback["code"] == 0, callback
    return list(callback["handled"])


def customer(n: int, preferred: Channel | None = None) -> Customer:
    return Customer(
        customer_id=f"C-{n}",
        name="张伟",
        phone=f"+86138{n:08d}",
        is_owner=True,
        contact_consent=True,
        preferred_channel=preferred,
    )


async def test_the_day7_survey_goes_out_by_sms_and_the_reply_becomes_the_result(
    client, service, settings, due, spied, gateway
):
    event = due(1, purposes=SURVEY, channel=Channel.SMS, customer=customer(1))
    await publish_event(service.runtime.broker, settings, event)

    [message] = await sent(gateway, "13800000001")
    assert message["template_code"] == "SMS_AFTERSALES_SURVEY"
    assert message["sign_name"] == "深圳宝安店"
    assert message["template_param"]["items"].startswith("1.维修站环境 2.服务过程")
    claim = await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={})
    assert claim.status_code == 204  # sent, not queued for an agent

    assert await reply(gateway, "13800000001", "9 9 8 10 9 7") == ["answered"]

    [result] = spied.results
    assert (result.outcome, result.channel, result.agent_id) == (
        CallOutcome.REACHED,
        Channel.SMS,
        None,
    )
    assert result.questionnaire is not None
    assert result.questionnaire.id == SMS_SURVEY_ID
    assert result.scores is not None
    assert dict(result.scores.items()) == {
        "environment": 9,
        "service_process": 9,
        "quality": 8,
        "charges": 10,
        "timeliness": 9,
        "overall": 7,
    }
    assert result.scores.low_items() == ["overall"]  # D18: complaints opens a ticket
    assert result.contact_id == event.contact_id
    # The gateway pushes its delivery receipt a moment after the message.
    for _ in range(100):
        receipts = await service.desk.sms.store.sms.find({"_id": {"$regex": "^receipt/"}}).to_list()
        if receipts:
            break
        await asyncio.sleep(0.05)
    assert [(r["phone"], r["success"]) for r in receipts] == [("+8613800000001", True)]


async def test_full_width_digits_and_chinese_separators_are_read(
    service, settings, due, spied, gateway
):
    await publish_event(
        service.runtime.broker,
        settings,
        due(2, purposes=SURVEY, channel=Channel.SMS, customer=customer(2)),
    )

    assert await reply(gateway, "13800000002", "９，９、８ １０。9；7") == ["answered"]

    assert spied.results[0].scores is not None
    assert spied.results[0].scores["charges"] == 10


async def test_an_unreadable_reply_gets_one_polite_re_ask_and_is_kept(
    service, settings, due, spied, gateway
):
    event = due(3, purposes=SURVEY, channel=Channel.SMS, customer=customer(3))
    await publish_event(service.runtime.broker, settings, event)

    assert await reply(gateway, "13800000003", "挺好的，谢谢") == ["reasked"]
    assert await reply(gateway, "13800000003", "都不错") == ["kept"]
    assert await reply(gateway, "13800000003", "10 10 10 10 10 10") == ["answered"]

    templates = [m["template_code"] for m in await sent(gateway, "13800000003")]
    assert templates == ["SMS_AFTERSALES_SURVEY", "SMS_AFTERSALES_REASK"]
    conversation = await service.desk.sms.store.conversation(spied.results[0].task_id)
    assert [r["text"] for r in conversation["replies"]] == [
        "挺好的，谢谢",
        "都不错",
        "10 10 10 10 10 10",
    ]


@pytest.mark.parametrize("word", ["退订", "td", "ＴＤ", "T", "stop", "Stop。"])
async def test_an_opt_out_reply_is_published_at_once_and_nothing_is_sent_afterwards(
    client, service, settings, due, spied, gateway, word
):
    await publish_event(
        service.runtime.broker,
        settings,
        due(4, purposes=SURVEY, channel=Channel.SMS, customer=customer(4)),
    )

    assert await reply(gateway, "13800000004", word) == ["opted_out"]

    [result] = spied.results
    assert result.outcome is CallOutcome.OPTED_OUT
    assert result.opted_out_of is None  # D4: every kind of contact
    # A later contact of that customer, by SMS or by phone, is neither sent nor queued.
    later = [
        due(4, contact_id="later-sms", purposes=SURVEY, channel=Channel.SMS, customer=customer(4)),
        due(4, contact_id="later-call", purposes=[ContactPurpose.SERVICE_CALL_DAY30]),
    ]
    for event in later:
        await publish_event(service.runtime.broker, settings, event)
    assert len(await sent(gateway, "13800000004")) == 1
    assert (await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={})).status_code == 204
    assert len(spied.results) == 1


async def test_an_opt_out_after_the_survey_was_answered_still_goes_out(
    service, settings, due, spied, gateway
):
    await publish_event(
        service.runtime.broker,
        settings,
        due(5, purposes=SURVEY, channel=Channel.SMS, customer=customer(5)),
    )
    await reply(gateway, "13800000005", "9 9 9 9 9 9")

    assert await reply(gateway, "13800000005", "退订") == ["opted_out"]

    assert [r.outcome for r in spied.results] == [CallOutcome.REACHED, CallOutcome.OPTED_OUT]
    assert spied.results[0].contact_id == spied.results[1].contact_id


async def test_an_opt_out_sent_again_publishes_nothing_again(
    service, settings, due, spied, gateway
):
    """The second opt-out finds the opt-out's result stored and out (its pending entry gone):
    nothing is published again, and no pending entry is left for the relay to publish."""
    await publish_event(
        service.runtime.broker,
        settings,
        due(8, purposes=SURVEY, channel=Channel.SMS, customer=customer(8)),
    )
    await reply(gateway, "13800000008", "9 9 9 9 9 9")
    await reply(gateway, "13800000008", "退订")
    assert [r.outcome for r in spied.results] == [CallOutcome.REACHED, CallOutcome.OPTED_OUT]

    await reply(gateway, "13800000008", "退订")

    assert [r.outcome for r in spied.results] == [CallOutcome.REACHED, CallOutcome.OPTED_OUT]
    assert await service.desk.pending.entries.count_documents({}) == 0


async def test_an_unanswered_survey_becomes_a_call_when_the_customer_accepts_calls(
    client, service, settings, clock, due, spied, gateway
):
    for n, preferred in ((6, None), (7, Channel.SMS)):
        event = due(n, purposes=SURVEY, channel=Channel.SMS, customer=customer(n, preferred))
        await publish_event(service.runtime.broker, settings, event)
    clock.advance(timedelta(hours=settings.sms_cascade_hours) - timedelta(minutes=1))
    assert (
        await cascade_unanswered(
            service.desk, service.desk.sms, ["dealer-sz-001"], service.runtime.logger
        )
        == 0
    )

    clock.advance(timedelta(minutes=2))
    moved = await cascade_unanswered(
        service.desk, service.desk.sms, ["dealer-sz-001"], service.runtime.logger
    )

    assert moved == 1  # the customer who prefers SMS is not called (D14)
    claim = await client.post("/v1/dealers/dealer-sz-001/tasks/claim", json={})
    assert claim.status_code == 200
    task = claim.json()
    assert (task["customer"]["customer_id"], task["channel"]) == ("C-6", "phone")
    assert [q["id"] for q in task["questionnaires"]] == [SMS_SURVEY_ID]


async def test_a_one_way_reminder_by_sms_is_made_when_the_provider_takes_it(
    service, settings, due, spied, gateway
):
    event = due(
        8,
        purposes=[ContactPurpose.MAINTENANCE_REMINDER],
        channel=Channel.SMS,
        customer=customer(8, Channel.SMS),
    )
    await publish_event(service.runtime.broker, settings, event)

    [message] = await sent(gateway, "13800000008")
    assert message["template_code"] == "SMS_AFTERSALES_NOTICE"
    [result] = spied.results
    assert (result.outcome, result.channel) == (CallOutcome.REACHED, Channel.SMS)


async def test_a_gateway_token_of_another_dealer_matches_nothing(
    client, service, settings, due, spied, gateway, tokens
):
    await publish_event(
        service.runtime.broker,
        settings,
        due(9, purposes=SURVEY, channel=Channel.SMS, customer=customer(9)),
    )
    other = tokens.header("sms_gateway", dealers=["dealer-bj-002"], sub="sms-gateway")

    answer = await client.post(
        "/v1/sms/replies", json=[{"phone_number": "13800000009", "content": "退订"}], headers=other
    )

    assert answer.status_code == 200
    assert answer.json()["handled"] == ["unmatched"]
    assert spied.results == []
