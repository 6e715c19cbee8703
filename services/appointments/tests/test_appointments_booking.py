"""Booking through the HTTP API on the real database (D31): capacity, the last seat, the
nearest free slots, retries, the daily list, cancelling, another dealer's appointment."""

from __future__ import annotations

import asyncio

from aftersales_contracts import AppointmentEventKind

from .conftest import DEALER, VIN

DAY = "2026-11-25"  # Wednesday


def booking(request_id: str, slot_id: str = "0900", day: str = DAY, **more) -> dict:
    return {
        "request_id": request_id,
        "vin": VIN,
        "customer_id": "C-1",
        "day": day,
        "slot_id": slot_id,
        "service": "maintenance",
        "parts_to_prepare": ["机油滤清器", "5W-30 机油 4L"],
        "contact_id": "contact-1",
    } | more


async def test_a_booking_takes_a_seat_once_and_shows_on_the_workshop_list(client, service) -> None:
    _, published = service
    first = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-1"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["state"] == "booked"
    assert body["seat"] == 1
    assert body["booked_by"] == "agent-7"
    assert body["slot_start"].startswith("2026-11-25T09:00:00+08:00")
    again = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-1"))
    assert again.status_code == 200
    assert again.json() == body
    assert [e.kind for e in published] == [AppointmentEventKind.BOOKED]
    assert published[0].parts_to_prepare == ["机油滤清器", "5W-30 机油 4L"]

    listed = (await client.get(f"/v1/dealers/{DEALER}/appointments", params={"day": DAY})).json()
    assert [a["appointment_id"] for a in listed["items"]] == [body["appointment_id"]]
    capacity = (await client.get(f"/v1/dealers/{DEALER}/workshop", params={"day": DAY})).json()
    assert capacity["slots"][0] == {
        "slot_id": "0900",
        "start": "09:00",
        "end": "10:30",
        "bays": 2,
        "booked": 1,
        "free": 1,
    }


async def test_a_full_slot_answers_409_with_the_nearest_free_slots(client) -> None:
    for n in (1, 2):
        answer = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking(f"r-{n}"))
        assert answer.status_code == 201
    await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-3", slot_id="1030"))
    full = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-4"))
    assert full.status_code == 409
    assert full.headers["content-type"] == "application/problem+json"
    problem = full.json()
    assert problem["type"].endswith("/slot-full")
    # 10:30 is nearest (1 free of 2), then 13:30, then Tuesday's 13:30 (20 h before).
    assert problem["alternatives"] == [
        {"day": DAY, "slot_id": "1030", "free": 1},
        {"day": DAY, "slot_id": "1330", "free": 2},
        {"day": "2026-11-24", "slot_id": "1330", "free": 2},
    ]


async def test_two_agents_booking_the_last_seat_at_once_one_wins(client) -> None:
    await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-1"))
    answers = await asyncio.gather(
        client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-a")),
        client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-b")),
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    listed = (await client.get(f"/v1/dealers/{DEALER}/appointments", params={"day": DAY})).json()
    assert sorted(a["seat"] for a in listed["items"]) == [1, 2]


async def test_bad_slots_are_refused_naming_the_field(client, clock) -> None:
    unknown = await client.post(
        f"/v1/dealers/{DEALER}/appointments", json=booking("r-1", slot_id="0800")
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "slot_id"
    sunday = await client.post(
        f"/v1/dealers/{DEALER}/appointments", json=booking("r-2", day="2026-11-29")
    )
    assert sunday.status_code == 422
    assert sunday.json()["errors"][0]["field"] == "day"
    begun = await client.post(
        f"/v1/dealers/{DEALER}/appointments", json=booking("r-3", day="2026-11-23")
    )
    assert begun.status_code == 422
    assert "begun" in begun.json()["errors"][0]["message"]
    bad_vin = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-4", vin="X"))
    assert bad_vin.status_code == 422
    assert bad_vin.json()["errors"][0]["field"].endswith("vin")


async def test_cancelling_frees_the_seat_and_only_once(client, service) -> None:
    _, published = service
    for n in (1, 2):
        await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking(f"r-{n}"))
    listed = (await client.get(f"/v1/dealers/{DEALER}/appointments", params={"day": DAY})).json()
    first = listed["items"][0]["appointment_id"]
    cancelled = await client.post(f"/v1/appointments/{first}/cancel", json={"note": "客户出差"})
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert (await client.post(f"/v1/appointments/{first}/cancel", json={})).status_code == 409
    retaken = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-3"))
    assert retaken.status_code == 201
    assert retaken.json()["seat"] == 1
    kinds = [e.kind for e in published]
    assert kinds.count(AppointmentEventKind.CANCELLED) == 1
    history = (await client.get(f"/v1/appointments/{first}")).json()["history"]
    assert [h["kind"] for h in history] == ["booked", "cancelled"]
    assert history[1]["note"] == "客户出差"


async def test_another_dealers_appointment_is_not_found(client, tokens) -> None:
    made = await client.post(f"/v1/dealers/{DEALER}/appointments", json=booking("r-1"))
    appointment_id = made.json()["appointment_id"]
    other = tokens.header("service_advisor", dealers=["dealer-bj-002"])
    assert (
        await client.get(f"/v1/appointments/{appointment_id}", headers=other)
    ).status_code == 404
    listing = await client.get(
        f"/v1/dealers/{DEALER}/appointments", params={"day": DAY}, headers=other
    )
    assert listing.status_code == 404
