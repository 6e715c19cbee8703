"""ContactResult → one recovery ticket and one `opened` event, through TestKafkaBroker."""

from datetime import timedelta

import pytest
from aftersales_complaints.contact_results import contact_results_recorded
from aftersales_complaints.domain.deadlines import working_calendar
from aftersales_complaints.domain.grading import GradingRules
from aftersales_complaints.domain.ticket import Action
from aftersales_complaints.domain.transitions import Command, decide
from aftersales_complaints.opening import opened_event_id_for, ticket_id_for
from aftersales_contracts import (
    CallOutcome,
    ContactPurpose,
    ContactResult,
    Scores,
)
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack


def scores(**low: int) -> Scores:
    return Scores(**{item: low.get(item, 9) for item in Scores.ITEMS})


async def test_a_low_score_opens_one_ticket_even_when_redelivered(
    service, settings, clock, result, published, mongo_db
):
    low = result(1, scores=scores(overall=5, quality=6))
    for _ in range(3):  # delivered, redelivered, replayed
        await publish_event(service.runtime.broker, settings, low)

    tickets = await mongo_db["tickets"].find().to_list()
    assert [t["_id"] for t in tickets] == [ticket_id_for(low.task_id)]
    ticket = tickets[0]
    assert ticket["grade"] == "C"
    assert ticket["owner_role"] == "service_supervisor"
    assert ticket["low_items"] == ["quality", "overall"]
    assert ticket["opened_at"] == clock.now()
    reply = next(d for d in ticket["deadlines"] if d["step"] == "reply")
    assert reply["due_at"] == working_calendar("Asia/Shanghai").add_working_days(clock.now(), 1)
    assert len(published) == 1
    event = published[0]
    assert event.event_id == opened_event_id_for(ticket["_id"])
    assert event.kind == "opened"
    assert event.causation_id == low.event_id
    assert event.correlation_id == low.correlation_id
    assert event.work_order_id == low.work_order_id
    assert event.service_advisor == low.service_advisor
    assert event.technicians == low.technicians
    assert event.due_at == reply["due_at"]


async def test_not_fixed_first_time_opens_one_ticket_even_when_redelivered(
    service, settings, result, published, mongo_db
):
    # D16/D18: all scores 9, but "was the fault fixed right the first time?" → no.
    answer = result(2, yes_no={"fixed_first_time": False, "explained_work": True})
    assert answer.not_fixed_first_time()
    for _ in range(2):
        await publish_event(service.runtime.broker, settings, answer)

    tickets = await mongo_db["tickets"].find().to_list()
    assert [t["_id"] for t in tickets] == [ticket_id_for(answer.task_id)]
    assert (tickets[0]["grade"], tickets[0]["rule"]) == ("C", "no:fixed_first_time")
    assert tickets[0]["yes_no"] == {"fixed_first_time": False, "explained_work": True}
    assert [(e.kind, e.rule) for e in published] == [("opened", "no:fixed_first_time")]


async def test_satisfied_and_unreached_answers_open_nothing(
    service, settings, result, published, mongo_db
):
    await publish_event(service.runtime.broker, settings, result(1, scores=scores(overall=8)))
    await publish_event(
        service.runtime.broker, settings, result(2, outcome=CallOutcome.NO_ANSWER, scores=None)
    )

    assert await mongo_db["tickets"].count_documents({}) == 0
    assert published == []


async def test_a_stated_complaint_opens_a_c_ticket(service, settings, result, published, mongo_db):
    stated = result(1, outcome=CallOutcome.REFUSED, scores=None, complaint_stated=True)
    await publish_event(service.runtime.broker, settings, stated)

    assert [e.grade for e in published] == ["C"]


async def _stored_then_killed(service, answer) -> None:
    """As if the process died between storing the ticket and publishing its event."""
    real_flush = service.desk.outbox.flush

    async def killed(pending) -> None:
        raise RuntimeError("killed before publishing")

    service.desk.outbox.flush = killed
    try:
        with pytest.raises(RuntimeError, match="killed"):
            await contact_results_recorded([answer], service.desk, lambda _: GradingRules())
    finally:
        service.desk.outbox.flush = real_flush


@pytest.mark.parametrize("first", ["redelivery", "relay"])
async def test_a_ticket_stored_but_not_published_is_published_once(
    service, settings, result, published, mongo_db, first
):
    low = result(1, scores=scores(charges=1))
    await _stored_then_killed(service, low)
    assert published == []
    assert await mongo_db["tickets"].count_documents({}) == 1
    assert await mongo_db["pending_publications"].count_documents({}) == 1

    # Either comes first; the other finds the event out already (the outbox's mark).
    relay = service.desk.pending.relay_once
    for step in (first, "relay" if first == "redelivery" else "redelivery"):
        if step == "redelivery":
            await publish_event(service.runtime.broker, settings, low)
        else:
            await relay(service.desk.republish)

    assert [(e.event_id, e.grade) for e in published] == [
        (opened_event_id_for(ticket_id_for(low.task_id)), "B")
    ]
    assert await mongo_db["tickets"].count_documents({}) == 1
    assert await mongo_db["pending_publications"].count_documents({}) == 0
    marks = await mongo_db["published"].find().to_list()
    assert marks == [{"_id": f"tickets/{ticket_id_for(low.task_id)}", "revision": 1}]


async def test_a_second_unhappy_result_for_the_vehicle_raises_the_grade_and_links(
    service, settings, result, published, clock
):
    first = result(1, scores=scores(overall=7))
    await publish_event(service.runtime.broker, settings, first)
    clock.advance(timedelta(days=10))
    again = result(2, scores=scores(overall=7), vin=first.vin)
    await publish_event(service.runtime.broker, settings, again)
    clock.advance(timedelta(days=31))
    much_later = result(3, scores=scores(overall=7), vin=first.vin)
    await publish_event(service.runtime.broker, settings, much_later)

    opened = [e for e in published if e.kind == "opened"]
    assert [(e.grade.value, e.rule) for e in opened] == [
        ("D", "overall<=7"),
        ("C", "overall<=7+repeat"),
        ("D", "overall<=7"),
    ]
    assert opened[1].linked_ticket_ids == [opened[0].ticket_id]


async def test_the_confirmation_closes_or_reopens_the_ticket(service, settings, result, published):
    low = result(1, scores=scores(overall=6))
    await publish_event(service.runtime.broker, settings, low)
    ticket_id = ticket_id_for(low.task_id)

    async def walk_to_confirmation() -> str:
        for command in (
            Command(Action.ACKNOWLEDGE, "sup"),
            Command(Action.REVIEW, "sup", role="service_supervisor"),
            Command(Action.REPLY, "sup"),
            Command(Action.RESOLVE, "sup", root_cause_category="parts", action_taken="replaced"),
        ):
            ticket = await service.desk.change(
                ticket_id,
                lambda t, now, c=command: decide(t, c, now, service.desk.rules_for(t.dealer_id)),
            )
        assert ticket is not None
        assert ticket.confirmation_contact_id is not None
        return ticket.confirmation_contact_id

    def answer(contact_id: str, n: int, **fields) -> ContactResult:
        return result(
            100 + n,
            contact_id=contact_id,
            purposes=[ContactPurpose.COMPLAINT_CONFIRMATION],
            vin=low.vin,
            **fields,
        )

    contact_id = await walk_to_confirmation()
    requested = [e for e in published if e.kind == "confirmation_requested"]
    assert requested[0].confirmation.contact_id == contact_id
    unhappy = answer(contact_id, 1, scores=scores(overall=5))
    await publish_event(service.runtime.broker, settings, unhappy)
    await publish_event(service.runtime.broker, settings, unhappy)  # redelivered: no effect
    ticket = await service.store.ticket(ticket_id)
    assert ticket.state == "reopened"
    assert ticket.round == 2
    contact_id = await walk_to_confirmation()
    await publish_event(service.runtime.broker, settings, answer(contact_id, 2, scores=scores()))

    ticket = await service.store.ticket(ticket_id)
    assert ticket.state == "closed"
    kinds = [e.kind.value for e in published]
    assert kinds.count("reopened") == 1
    assert kinds[-1] == "closed"
    assert len({e.event_id for e in published}) == len(published)  # nothing twice
    assert [e.kind for e in published].count("opened") == 1  # the answers open no ticket


async def test_a_ticket_document_behind_its_last_transition_is_rolled_forward(
    service, settings, result, published, mongo_db, monkeypatch
):
    low = result(1, scores=scores(overall=6))
    await publish_event(service.runtime.broker, settings, low)
    ticket = await service.store.ticket(ticket_id_for(low.task_id))
    moved = decide(
        ticket,
        Command(Action.ACKNOWLEDGE, "sup"),
        ticket.opened_at,
        service.desk.rules_for(ticket.dealer_id),
    )
    # As if the process died right after the commit (the transition's insert), before the
    # ticket document was replaced: the next reader sees the transition and rolls forward.
    with monkeypatch.context() as crashed:
        crashed.setattr("aftersales_complaints.store.replace_all", _never)
        assert await service.store.commit(moved)
    assert (await mongo_db["tickets"].find_one())["version"] == 1

    read = await service.store.ticket(ticket.ticket_id)

    assert read.version == 2
    assert read.state == "acknowledged"
    assert [h["kind"] for h in read.history] == ["opened", "acknowledged"]
    assert read.history[-1] == moved.events[0].model_dump(mode="json")
    assert (await mongo_db["tickets"].find_one())["version"] == 2
    assert await service.desk.catch_up(read) == 1  # its event, not yet published, goes out
    assert published[-1] == moved.events[0]
    assert await service.desk.catch_up(read) == 0


async def _never(*args, **kwargs) -> None:
    return None


async def test_a_vehicle_unhappy_twice_in_one_batch_links_its_second_ticket_to_the_first(
    service, result, published, mongo_db
):
    first = result(1, scores=scores(overall=7))
    again = result(2, scores=scores(overall=7), vin=first.vin)
    await contact_results_recorded([first, again, first], service.desk, lambda _: GradingRules())

    assert [(e.ticket_id, e.grade.value, e.linked_ticket_ids) for e in published] == [
        (ticket_id_for(first.task_id), "D", []),
        (ticket_id_for(again.task_id), "C", [ticket_id_for(first.task_id)]),
    ]
    link = await mongo_db["links"].find_one({"_id": f"vehicle/{first.dealer_id}/{first.vin}"})
    assert link["ticket_id"] == ticket_id_for(again.task_id)  # the last, whatever came again
