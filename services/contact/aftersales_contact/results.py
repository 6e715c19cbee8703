"""Use case: record the result of a task (D15 outcomes, D16/D17 questionnaires, D30 data check)
and publish it once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from aftersales_contracts import (
    CallOutcome,
    Channel,
    Coded,
    ContactExpired,
    ContactPurpose,
    ContactResult,
    DataCheck,
    Event,
    QuestionnaireRef,
    Scores,
    Staff,
)
from aftersales_contracts.events import ITEM_ID_PATTERN, ItemId
from aftersales_contracts.phones import to_e164
from aftersales_contracts.primitives import NonEmptyStr
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from aftersales_contact.claims import LeaseConflict, held_lease
from aftersales_contact.desk import Desk
from aftersales_contact.domain.answers import Answer, Problem, answer_problems
from aftersales_contact.domain.tasks import result_event_id_for
from aftersales_contact.store import Doc, result_document

Publish = Callable[[Event], Awaitable[None]]


class TaskNotFound(Exception):
    pass


class Conflict(Exception):
    """The task is not the agent's to answer, or another result was already recorded."""


class InvalidResult(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(why for _, why in problems))
        self.problems = problems


class DataCheckAnswer(BaseModel):
    """D30: the agent's check of the customer's data, phones as typed (local form accepted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confirmed: bool
    phone: str | None = Field(default=None, max_length=40)
    owner_name: str | None = Field(default=None, min_length=1, max_length=100)
    actual_user_name: str | None = Field(default=None, min_length=1, max_length=100)
    actual_user_phone: str | None = Field(default=None, max_length=40)
    mileage_km: int | None = Field(default=None, ge=0)
    next_maintenance_due_date: date | None = None
    next_maintenance_due_mileage_km: int | None = Field(default=None, ge=0)

    def normalised(self) -> tuple[DataCheck | None, list[Problem]]:
        """The contract's DataCheck, phones in E.164 (the system's one normalisation)."""
        values = self.model_dump()
        problems: list[Problem] = []
        for name in ("phone", "actual_user_phone"):
            if values[name] is not None:
                values[name] = to_e164(values[name])
                if values[name] is None:
                    problems.append(
                        (
                            f"data_check.{name}",
                            f"data_check.{name} is not a valid mobile or landline number",
                        )
                    )
        return (None if problems else DataCheck(**values)), problems


def _closed_map(values: dict[str, Any]) -> WithJsonSchema:
    """An item map's schema that says what the model checks: item ids as keys, nothing else
    (so a client generated from the OpenAPI document, or a fuzzer, sends what is accepted)."""
    closed = {
        "type": "object",
        "patternProperties": {ITEM_ID_PATTERN: values},
        "additionalProperties": False,
    }
    return WithJsonSchema({"anyOf": [closed, {"type": "null"}]})


class CallAnswer(BaseModel):
    """What the agent's tool sends after a call (D15 outcome and issues, D16/D17 questionnaire,
    D11 lapse reason, D18 complaint, D30 data check)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: CallOutcome
    #: Which questionnaire the answers are for; left out = the task's (when it has one).
    questionnaire: QuestionnaireRef | None = None
    scores: Annotated[
        Scores | None, _closed_map({"type": "integer", "minimum": 0, "maximum": 10})
    ] = None
    yes_no: Annotated[dict[ItemId, bool] | None, _closed_map({"type": "boolean"})] = None
    comment: str | None = Field(default=None, max_length=2000)
    complaint_stated: bool = False
    issues: list[Coded] = Field(default_factory=list, max_length=20)
    lapse_reason: Coded | None = None
    data_check: DataCheckAnswer | None = None
    callback_at: AwareDatetime | None = None
    #: D4: with `opted_out`, the purposes the customer refuses from now on; left out = all.
    opted_out_of: list[ContactPurpose] | None = Field(default=None, max_length=20)

    def rules_view(self) -> Answer:
        return Answer(
            outcome=self.outcome,
            scores=dict(self.scores.items()) if self.scores is not None else None,
            yes_no=self.yes_no,
            questionnaire=self.questionnaire,
            issues=self.issues,
            lapse_reason=self.lapse_reason,
            has_data_check=self.data_check is not None,
            callback_at=self.callback_at,
            opted_out_of=self.opted_out_of,
        )

    @field_validator("callback_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # Stored in UTC, so a resubmission written with another offset is still "the same".
        return value.astimezone(UTC) if value is not None else None


class ResultSubmission(CallAnswer):
    """The answer of one agent: the API fills `agent_id` from the caller's token."""

    agent_id: NonEmptyStr


def _result_event(
    task: Doc,
    submission: CallAnswer,
    agent_id: str | None,
    now: datetime,
    questionnaire: QuestionnaireRef | None,
    data_check: DataCheck | None,
) -> ContactResult:
    advisor, consultant = task.get("service_advisor"), task.get("sales_consultant")
    timely_until = task.get("timely_until")
    return ContactResult(
        event_id=result_event_id_for(task["_id"]),
        occurred_at=now,
        dealer_id=task["dealer_id"],
        correlation_id=task["correlation_id"],
        causation_id=task["cause_event_id"],
        contact_id=task["contact_id"],
        task_id=task["_id"],
        agent_id=agent_id,
        channel=Channel(task["channel"]),
        purposes=[ContactPurpose(p) for p in task["purposes"]],
        attempt=task["attempt"],
        outcome=submission.outcome,
        contacted_at=now,
        callback_at=submission.callback_at,
        timely=None if timely_until is None else now <= timely_until,  # D6: late still counts
        questionnaire=questionnaire,
        scores=submission.scores,
        yes_no=submission.yes_no,
        comment=submission.comment,
        complaint_stated=submission.complaint_stated,
        issues=submission.issues,
        lapse_reason=submission.lapse_reason,
        data_check=data_check,
        opted_out_of=submission.opted_out_of,
        work_order_id=task.get("work_order_id"),
        vin=task["vehicle"]["vin"],
        customer_id=task["customer"]["customer_id"],
        service_advisor=Staff(**advisor) if advisor else None,
        technicians=[Staff(**t) for t in task.get("technicians", [])],
        sales_consultant=Staff(**consultant) if consultant else None,
    )


async def record_result(
    desk: Desk,
    publish: Publish,
    logger: logging.Logger,
    task_id: str,
    submission: ResultSubmission,
    task: Doc | None = None,
) -> ContactResult:
    """Store the result once and publish `aftersales.contact.result` once.

    A repeat of the same submission answers with the stored result and publishes nothing, unless
    the first one was stored but not yet published (a crash in between): then it publishes the
    same event, with the same id, which consumers recognise. `task`: the task when the caller
    has just read it (the API, to check its dealer), so it is not read twice.
    """
    store = desk.store
    if task is None:
        task = await store.task(task_id)
    if task is None:
        raise TaskNotFound(task_id)
    # A task is marked done right after its result is stored, so only a done task is read for
    # its result (a repeat); a result stored by a submit that died before marking the task is
    # found by the lease check (it failed) or by this submit's own insert (it collides).
    if task.get("done"):
        return await _repeat(desk, publish, task, submission)
    # The other agents' removals of the moment wait for this one (`OpenQueue.remove`).
    with desk.queue.removal_coming(task["dealer_id"]):
        return await _record_new(desk, publish, logger, task, submission)


async def _record_new(
    desk: Desk, publish: Publish, logger: logging.Logger, task: Doc, submission: ResultSubmission
) -> ContactResult:
    """`record_result` of a task not done when read."""
    store, task_id = desk.store, task["_id"]
    now = desk.clock.now()
    questionnaire, data_check = checked_answer(desk, task, submission, now)
    try:
        await held_lease(desk, task, submission.agent_id, now)
    except LeaseConflict as error:
        if await store.result(task_id) is not None:
            return await _repeat(desk, publish, task, submission)
        raise Conflict(str(error)) from error
    event = _result_event(task, submission, submission.agent_id, now, questionnaire, data_check)
    document = result_document(
        task, submission.model_dump(mode="json"), event.model_dump(mode="json"), now
    )
    ours = await desk.pending.add(task_id)  # before the result: from now on it is published
    if not await store.add_result(document):
        # A concurrent identical submit won the insert; it publishes, this one only answers.
        await forget_if_ours(desk, task_id, ours)
        raced = await store.result(task_id)
        assert raced is not None
        if raced.get("expired"):
            raise Conflict("the follow-up expired and left the queue")
        _same_or_conflict(raced, submission)
        return ContactResult.model_validate(raced["event"])
    # Agents submit together: their tasks leave the dealer's queue in one write.
    await finish_task(desk, publish, task, event, linger=desk.removal_linger)
    logger.info(
        "contact result recorded",
        extra={
            "task_id": task_id,
            "event_id": event.event_id,
            "outcome": event.outcome.value,
            "agent_id": submission.agent_id,
        },
    )
    return event


async def finish_task(
    desk: Desk, publish: Publish, task: Doc, event: Event, linger: float = 0.0
) -> None:
    """The result (or expiry) is stored: the task is done, the event goes out, then its pending
    entry goes (which is what says it is out: `is_published`), the task leaves the queue
    (`linger`: `OpenQueue.remove`'s)."""
    desk.memory.finish(task["_id"])
    await desk.store.mark_done(task["_id"])
    await publish(event)  # at once: an opt-out stops what the scheduler has pending (D4)
    await desk.pending.remove(task["_id"])
    await leave_queue(desk, task, linger)


async def is_published(desk: Desk, task_id: str) -> bool:
    """Whether a stored result's (or expiry's) event is out. Its pending entry is written before
    it and removed only once the event is published, so the entry's absence says so; a crash
    between the two publishes the event again (the same id: consumers recognise it), as the
    relay would. Ask before this request adds a pending entry of its own."""
    return not await desk.pending.holds(task_id)


async def forget_if_ours(desk: Desk, task_id: str, ours: bool) -> None:
    """This request's pending entry, added before it found the task's result (or expiry)
    stored by another: if the entry is new (`ours`), the other's had gone, so its event is out,
    and ours goes too (left, it would have the relay publish that event again). If not, the
    entry is the other's: its publication is not done, and the entry stays."""
    if ours:
        await desk.pending.remove(task_id)


async def record_automatic_result(
    desk: Desk, publish: Publish, task: Doc, answer: CallAnswer
) -> ContactResult | None:
    """A result no agent gave (the SMS channel: a reply, an opt-out, a one-way message sent):
    checked like an agent's, stored once and published once; None when the task already has
    a result (or expired)."""
    now = desk.clock.now()
    questionnaire, data_check = checked_answer(desk, task, answer, now)
    event = _result_event(task, answer, None, now, questionnaire, data_check)
    document = result_document(
        task, answer.model_dump(mode="json"), event.model_dump(mode="json"), now
    )
    ours = await desk.pending.add(task["_id"])
    if not await desk.store.add_result(document):
        await forget_if_ours(desk, task["_id"], ours)
        stored = await desk.store.result(task["_id"])
        if stored is not None and not stored.get("expired"):
            # Published here if it is not out: its writer died first (or is under way).
            await _publish_stored(desk, publish, stored)
        return None
    await finish_task(desk, publish, task, event)
    return event


def checked_answer(
    desk: Desk, task: Doc, answer: CallAnswer, now: datetime
) -> tuple[QuestionnaireRef | None, DataCheck | None]:
    """The questionnaire answered and the normalised data check; InvalidResult naming each
    field that breaks a rule."""
    dealer_id = task["dealer_id"]
    questionnaire, problems = answer_problems(
        answer.rules_view(),
        [ContactPurpose(p) for p in task["purposes"]],
        desk.questionnaires_for(dealer_id, task["purposes"]),
        desk.catalogue.issue_categories,
        desk.catalogue.lapse_reasons,
        now,
    )
    data_check = None
    if answer.data_check is not None:
        data_check, more = answer.data_check.normalised()
        problems += more
    if problems:
        raise InvalidResult(problems)
    return (questionnaire.ref if questionnaire else None), data_check


def _same_or_conflict(stored: Doc, submission: ResultSubmission) -> None:
    if stored["submission"] != submission.model_dump(mode="json"):
        raise Conflict("a different result was already recorded for this task")


async def _repeat(
    desk: Desk, publish: Publish, task: Doc, submission: ResultSubmission
) -> ContactResult:
    """The task has a result: the same submission is answered with it (and publishes it if it
    is not out yet), a different one is a conflict."""
    stored = await desk.store.result(task["_id"])
    if stored is None:
        raise Conflict("the task is finished but its result is not readable; try again")
    if stored.get("expired"):
        raise Conflict(
            f"the follow-up expired at {task['expires_at'].isoformat()} and left the queue"
        )
    _same_or_conflict(stored, submission)
    await _publish_stored(desk, publish, stored)
    return ContactResult.model_validate(stored["event"])


def _stored_event(stored: Doc) -> Event:
    """The event a stored result holds: an agent's or the SMS channel's result, or an expiry."""
    if stored.get("expired"):
        return ContactExpired.model_validate(stored["event"])
    return ContactResult.model_validate(stored["event"])


async def _publish_stored(desk: Desk, publish: Publish, stored: Doc) -> None:
    """Publish a stored result or expiry that is not out yet (the same event id), and finish
    its task."""
    if await is_published(desk, stored["_id"]):
        return
    await desk.store.mark_done(stored["_id"])
    await publish(_stored_event(stored))
    await desk.pending.remove(stored["_id"])
    task = await desk.store.task(stored["_id"])
    if task is not None:
        await leave_queue(desk, task)


async def republish_result(desk: Desk, publish: Publish, task_id: str) -> bool:
    """The relay's pass over one accepted result or expiry: False while nothing is stored for
    the task."""
    stored = await desk.store.result(task_id)
    if stored is None:
        return False
    await _publish_stored(desk, publish, stored)
    return True


async def leave_queue(desk: Desk, task: Doc, linger: float = 0.0) -> None:
    """A finished task leaves the open queue (the queue holds open work only)."""
    desk.memory.finish(task["_id"])
    await desk.queue.remove(task["dealer_id"], task["_id"], task["due_at"], linger)
