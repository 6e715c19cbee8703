"""Use cases of the SMS channel (D7, D14): send a due contact as an SMS, and turn a survey left
unanswered into a call (the cascade).

A contact on the SMS channel (the day-7 survey, or any contact of a customer who prefers SMS)
is sent, not queued for an agent. A contact with a questionnaire is a survey: the message lists
its items and the customer replies with the scores (see `sms_replies.py`); one without is a
one-way message (a reminder, a greeting): made once the provider took it. A survey still
unanswered after `cascade_after` becomes a call task when the customer accepts calls (a
customer who prefers SMS does not, D14); otherwise it waits for its reply until it expires.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aftersales_contracts import CallOutcome
from aftersales_contracts.questionnaires import ItemKind, Questionnaire

from aftersales_contact.desk import Desk, SmsChannel
from aftersales_contact.domain.queue import QueueEntry, task_priority
from aftersales_contact.results import CallAnswer, Publish, record_automatic_result
from aftersales_contact.sms_provider import NOTICE, SURVEY, SmsMessage, SmsRefused
from aftersales_contact.sms_store import conversation_id
from aftersales_contact.store import Doc


def survey_params(questionnaire: Questionnaire) -> dict[str, str]:
    """What the survey template fills in: the items in reply order, numbered, by short name."""
    scored = [i for i in questionnaire.items if i.kind is ItemKind.SCORE]
    yes_no = [i for i in questionnaire.items if i.kind is ItemKind.YES_NO]
    listed = [f"{n}.{item.short().zh}" for n, item in enumerate(scored + yes_no, start=1)]
    return {
        "title": questionnaire.title.zh,
        "items": " ".join(listed),
        "scored": str(len(scored)),
        "yes_no": "，".join(f"{item.short().zh}（是/否）" for item in yes_no),
    }


def survey_of(desk: Desk, task: Doc) -> Questionnaire | None:
    found = desk.questionnaires_for(task["dealer_id"], task["purposes"])
    return found[0] if found else None


async def send_by_sms(
    desk: Desk, sms: SmsChannel, publish: Publish, task: Doc, accepts_calls: bool
) -> None:
    """Send the task's message once (a redelivered due contact sends nothing twice, unless the
    process stopped between the provider's answer and noting it: then the customer gets it
    twice, which beats never)."""
    now = desk.clock.now()
    phone = task["customer"]["phone"]
    survey = survey_of(desk, task)
    conversation = {
        "_id": conversation_id(task["_id"]),
        "task_id": task["_id"],
        "dealer_id": task["dealer_id"],
        "phone": phone,
        "kind": SURVEY if survey else NOTICE,
        "questionnaire": survey.ref.model_dump() if survey else None,
        "accepts_calls": accepts_calls,
        "sent": False,
        "message_ids": [],
        "replies": [],
        "reasked": False,
        "created_at": now,
    }
    if not await sms.store.start_conversation(conversation):
        stored = await sms.store.conversation(task["_id"])
        if stored is not None and stored.get("sent"):
            return
    if survey is not None:
        message = SmsMessage(phone, sms.templates[SURVEY], survey_params(survey), task["_id"])
    else:
        purposes = "、".join(task["purposes"])
        message = SmsMessage(phone, sms.templates[NOTICE], {"purposes": purposes}, task["_id"])
    try:
        message_id = await sms.provider.send(message)
    except SmsRefused as refused:
        # The provider will never deliver it (e.g. not a mobile number): D15 wrong number.
        await sms.store.update_conversation(task["_id"], {"refused": refused.code})
        await record_automatic_result(
            desk, publish, task, CallAnswer(outcome=CallOutcome.WRONG_NUMBER)
        )
        return
    await sms.store.update_conversation(
        task["_id"], {"sent": True, "sent_at": now, "message_ids": [message_id]}
    )
    await sms.store.await_reply(phone, task["_id"], awaiting=survey is not None)
    if survey is None:
        # D10, D14: a one-way message is made once the provider took it.
        await record_automatic_result(desk, publish, task, CallAnswer(outcome=CallOutcome.REACHED))
    elif accepts_calls:
        await sms.store.wait_for_reply(task["dealer_id"], task["_id"], now + sms.cascade_after)


async def cascade_unanswered(
    desk: Desk, sms: SmsChannel, dealer_ids: Iterable[str], logger: logging.Logger
) -> int:
    """Surveys unanswered past their wait become call tasks (the customer accepts calls)."""
    now = desk.clock.now()
    moved = 0
    for dealer_id in dealer_ids:
        due = [t for t, until in (await sms.store.waiting(dealer_id)).items() if until <= now]
        for task_id in due:
            task = await desk.store.task(task_id)
            if task is None or task.get("done"):
                continue
            await desk.store.tasks.update_one({"_id": task_id}, {"$set": {"channel": "phone"}})
            task = {**task, "channel": "phone"}
            priority = task_priority(task["purposes"], desk.priorities_for(dealer_id))
            await desk.queue.add(dealer_id, [QueueEntry.of_task(task, priority)])
            await sms.store.update_conversation(task_id, {"cascaded_at": now})
            moved += 1
            logger.info(
                "unanswered SMS survey became a call",
                extra={"task_id": task_id, "dealer_id": dealer_id},
            )
        await sms.store.stop_waiting(dealer_id, due)
    return moved
