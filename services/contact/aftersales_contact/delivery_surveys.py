"""Use case and routes: the buyer's face-to-face questionnaire at the delivery (D34).

Every showroom buyer answers it as part of the handover; the sales consultant (or the showroom
or sales manager) records it here against the delivery. One per delivery: the same answer sent
again is answered the same way, a different one is refused (409). It is published as
`DeliverySurveyed`; reporting counts each consultant's coverage against 100 % and the points of
a missed one (D34) from it and the deliveries.
"""

from __future__ import annotations

from typing import Annotated, Any

from aftersales_contracts import (
    DeliverySurveyed,
    QuestionnaireRef,
    Scores,
    correlation_id_for,
    deterministic_id,
)
from aftersales_contracts.events import ContactPurpose, ItemId
from aftersales_contracts.primitives import NonEmptyStr, Vin
from aftersales_runtime.auth import Caller, allow
from aftersales_runtime.mongo import insert_once
from aftersales_runtime.outbox import Outbox, Pending
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from aftersales_contact.desk import Desk
from aftersales_contact.domain.answers import chosen_questionnaire

#: D34: the sales side records it; its managers may correct a missing one.
SALES = ("sales_consultant", "showroom_manager", "sales_manager")
SURVEYS = "delivery_surveys"


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vin: Vin
    customer_id: NonEmptyStr
    questionnaire: QuestionnaireRef | None = None  # the dealer's delivery questionnaire if left out
    scores: Scores | None = None
    yes_no: dict[ItemId, bool] | None = None
    comment: str | None = Field(default=None, max_length=2000)


def survey_id(dealer_id: str, delivery_id: str) -> str:
    return f"{dealer_id}/{delivery_id}"


def _same(stored: DeliverySurveyed, answer: SurveyAnswer) -> bool:
    mine = (answer.vin, answer.customer_id, answer.scores, answer.yes_no, answer.comment)
    return mine == (stored.vin, stored.customer_id, stored.scores, stored.yes_no, stored.comment)


def delivery_survey_router(desk: Desk, outbox: Outbox) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["delivery surveys"])
    collection = desk.store.db[SURVEYS]

    async def stored(dealer_id: str, delivery_id: str) -> DeliverySurveyed | None:
        doc = await collection.find_one({"_id": survey_id(dealer_id, delivery_id)})
        return DeliverySurveyed.model_validate(doc["event"]) if doc else None

    async def publish(dealer_id: str, delivery_id: str, event: DeliverySurveyed) -> None:
        document_id = survey_id(dealer_id, delivery_id)
        if not await outbox.published_revisions(SURVEYS, [document_id]):
            await outbox.flush([Pending(SURVEYS, document_id, (event,))])

    @router.get("/dealers/{dealer_id}/deliveries/{delivery_id}/survey")
    async def survey_form(
        dealer_id: str, delivery_id: str, caller: Annotated[Caller, allow(*SALES)]
    ) -> dict[str, Any]:
        """The questionnaire to put to the buyer (D17/D34), and the answer if it is recorded."""
        offered = desk.questionnaires_for(dealer_id, [ContactPurpose.DELIVERY_SURVEY.value])
        found = await stored(dealer_id, delivery_id)
        return {
            "delivery_id": delivery_id,
            "questionnaires": [q.model_dump(mode="json") for q in offered],
            "recorded": found.model_dump(mode="json") if found else None,
        }

    @router.post(
        "/dealers/{dealer_id}/deliveries/{delivery_id}/survey",
        status_code=201,
        responses={409: {"description": "another answer is recorded for this delivery"}},
    )
    async def record_survey(
        dealer_id: str,
        delivery_id: str,
        answer: SurveyAnswer,
        caller: Annotated[Caller, allow(*SALES)],
    ) -> Any:
        """Record the buyer's answer once (201); the same answer again answers 200."""
        existing = await stored(dealer_id, delivery_id)
        if existing is not None:
            if not _same(existing, answer):
                raise HTTPException(409, f"delivery {delivery_id} already has its questionnaire")
            await publish(dealer_id, delivery_id, existing)  # a crash may have kept it in
            return JSONResponse(existing.model_dump(mode="json"), 200)
        offered = desk.questionnaires_for(dealer_id, [ContactPurpose.DELIVERY_SURVEY.value])
        questionnaire, problems = chosen_questionnaire(offered, answer.questionnaire)
        if questionnaire is None and not problems:
            problems = [("questionnaire", "no delivery questionnaire is configured (D34)")]
        if questionnaire is not None:
            scores = dict(answer.scores.items()) if answer.scores else None
            problems += questionnaire.answer_problems(scores, answer.yes_no)
        if problems or questionnaire is None:
            raise HTTPException(
                422, [{"field": f, "code": "invalid", "message": why} for f, why in problems]
            )
        now = desk.clock.now()
        event = DeliverySurveyed(
            event_id=deterministic_id("delivery.surveyed", dealer_id, delivery_id),
            occurred_at=now,
            dealer_id=dealer_id,
            correlation_id=correlation_id_for(dealer_id, delivery_id),
            delivery_id=delivery_id,
            vin=answer.vin,
            customer_id=answer.customer_id,
            surveyed_at=now,
            recorded_by=caller.sub,
            questionnaire=questionnaire.ref,
            scores=answer.scores,
            yes_no=answer.yes_no,
            comment=answer.comment,
        )
        document = {
            "_id": survey_id(dealer_id, delivery_id),
            "event": event.model_dump(mode="json"),
        }
        if not await insert_once(desk.store.db, SURVEYS, document):  # two at once: one is kept
            return await record_survey(dealer_id, delivery_id, answer, caller)
        await publish(dealer_id, delivery_id, event)
        return JSONResponse(event.model_dump(mode="json"), 201)

    return router
