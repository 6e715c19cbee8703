"""Use cases of what the SMS provider pushes back: a customer's reply, a delivery receipt.

A reply is matched to the conversations of its phone: `退订` / `TD` / `T` / `STOP` opt the
customer out at once (D4: a result with outcome `opted_out` for every kind of contact, published
now, and nothing more is sent to that phone); otherwise it answers the oldest survey awaiting a
reply: parsed into the same result as a call (D16), or, when it cannot be read, kept and answered
with one polite re-ask (a second unreadable reply is only kept, for a person to read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aftersales_contracts import CallOutcome, QuestionnaireRef, Scores, deterministic_id
from aftersales_contracts.questionnaires import ItemKind

from aftersales_contact.desk import Desk, SmsChannel
from aftersales_contact.domain.sms_replies import is_opt_out, parse_answers
from aftersales_contact.results import CallAnswer, InvalidResult, Publish, record_automatic_result
from aftersales_contact.sms_channel import survey_of, survey_params
from aftersales_contact.sms_provider import REASK, SmsMessage
from aftersales_contact.sms_store import conversation_id


async def when_customer_replies(
    desk: Desk,
    sms: SmsChannel,
    publish: Publish,
    phone: str,
    text: str,
    serves: Callable[[str], bool],
    logger: logging.Logger,
) -> str:
    """What became of the reply: `opted_out`, `answered`, `reasked`, `kept` or `unmatched`
    (no conversation with that phone among the dealers the caller `serves`)."""
    now = desk.clock.now()
    reply = {"text": text, "at": now}
    known = await sms.store.phone(phone)
    last = await sms.store.conversation(known["last"]) if known else None
    if known is None or last is None or not serves(last["dealer_id"]):
        logger.info("SMS reply from a phone with no conversation")
        return "unmatched"
    if is_opt_out(text):
        await _opt_out(desk, sms, publish, phone, known, reply, now)
        return "opted_out"
    awaiting = list(known.get("awaiting", []))
    if not awaiting:
        await sms.store.keep_reply(known["last"], reply)
        return "kept"
    task_id = awaiting[0]
    await sms.store.keep_reply(task_id, reply)
    task = await desk.store.task(task_id)
    if task is None or task.get("done"):
        await sms.store.answered(phone, task_id)
        return "kept"
    answer = _answer(desk, task, text)
    if answer is not None:
        try:
            await record_automatic_result(desk, publish, task, answer)
        except InvalidResult:
            answer = None  # the catalogue changed under the survey: ask again like unreadable
        else:
            await sms.store.answered(phone, task_id)
            await sms.store.stop_waiting(task["dealer_id"], [task_id])
            return "answered"
    conversation = await sms.store.conversation(task_id)
    if conversation is not None and not conversation.get("reasked"):
        await sms.store.update_conversation(task_id, {"reasked": True})
        survey = survey_of(desk, task)
        if survey is not None:
            await sms.provider.send(
                SmsMessage(phone, sms.templates[REASK], survey_params(survey), task_id)
            )
            return "reasked"
    return "kept"


def _answer(desk: Desk, task: dict[str, Any], text: str) -> CallAnswer | None:
    survey = survey_of(desk, task)
    if survey is None:
        return None
    parsed = parse_answers(text, survey.item_ids(ItemKind.SCORE), survey.item_ids(ItemKind.YES_NO))
    if parsed is None:
        return None
    return CallAnswer(
        outcome=CallOutcome.REACHED,
        questionnaire=QuestionnaireRef(id=survey.id, version=survey.version),
        scores=Scores(parsed.scores) if parsed.scores else None,
        yes_no=parsed.yes_no or None,
        comment=text,  # D16: the customer's own words, as typed
    )


async def _opt_out(
    desk: Desk,
    sms: SmsChannel,
    publish: Publish,
    phone: str,
    known: dict[str, Any],
    reply: dict[str, Any],
    now: datetime,
) -> None:
    """D4: at once, for every kind of contact: the open conversation (or the last one) answers
    with `opted_out`; the phone is marked so nothing more is sent or queued for it."""
    task_id = (known.get("awaiting") or [known["last"]])[0]
    await sms.store.keep_reply(task_id, reply)
    task = await desk.store.task(task_id)
    if task is None:
        return
    await sms.store.opt_out(task["dealer_id"], phone, now, task_id)
    for waiting in known.get("awaiting", []):
        await sms.store.answered(phone, waiting)
    await sms.store.stop_waiting(task["dealer_id"], list(known.get("awaiting", [])))
    result = await record_automatic_result(
        desk, publish, task, CallAnswer(outcome=CallOutcome.OPTED_OUT)
    )
    if result is None:
        # The conversation already has its result (e.g. the survey was answered): the opt-out
        # still has to reach the scheduler and intake, on the newest task of that customer.
        await _opt_out_after_result(desk, publish, task_id)


async def _opt_out_after_result(desk: Desk, publish: Publish, task_id: str) -> None:
    """An opt-out arriving after the conversation's result (the survey was answered): published
    as the result of an opt-out task of the same contact and attempt, id
    `deterministic_id("task", contact_id, "sms-opt-out")`, stored once like any task."""
    task = await desk.store.task(task_id)
    if task is None:
        return
    opt_out_task = {
        **task,
        "_id": deterministic_id("task", task["contact_id"], "sms-opt-out"),
        "channel": "sms",
        "done": False,
    }
    await desk.store.add_task(opt_out_task)
    await record_automatic_result(
        desk, publish, opt_out_task, CallAnswer(outcome=CallOutcome.OPTED_OUT)
    )


async def when_receipt_arrives(
    sms: SmsChannel, receipt: dict[str, Any], phone: str, serves: Callable[[str], bool]
) -> bool:
    """Keep the delivery receipt once, with its conversation (`out_id` is our task); False when
    it is a repeat or not of a conversation of the dealers the caller `serves`."""
    conversation = await sms.store.conversation(str(receipt.get("out_id")))
    if conversation is None or not serves(conversation["dealer_id"]):
        return False
    document = {
        "_id": f"receipt/{receipt.get('biz_id')}/{phone}",
        "conversation": conversation_id(str(receipt.get("out_id"))),
        "phone": phone,
        **{k: receipt.get(k) for k in ("success", "err_code", "err_msg", "report_time", "biz_id")},
    }
    # Its own document, never a write into the conversation: FerretDB's updates are not atomic
    # against a concurrent writer (a reply being kept at the same moment).
    return await sms.store.add_receipt(document)
