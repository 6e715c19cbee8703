"""Tier 2: the webhook, the rejected inbox and the vehicle-file API (issue 4.1, 4.3, 4.4).

The client calls with a token of dealer-sz-001 holding the roles of its DMS, its data steward
and an agent; the security tests narrow it per call."""

from __future__ import annotations

import httpx
import pytest
from aftersales_contracts import topics

pytestmark = pytest.mark.stack


@pytest.fixture
async def client(harness, tokens):
    staff = tokens.header("dms", "data_steward", "agent", dealers=["dealer-sz-001"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=harness.service.http),
        base_url="http://intake",
        headers=staff,
    ) as http:
        yield http


async def test_a_batch_answers_per_record(client, harness, make_workorder):
    batch = [
        make_workorder(),
        make_workorder(),  # the same again
        make_workorder(total_amount=700.0),  # a correction
        make_workorder(work_order_id="WO-9", vin="SHORT"),
    ]
    answer = (await client.post("/v1/dms/work-orders", json=batch)).json()

    assert [r["outcome"] for r in answer["results"]] == [
        "accepted", "duplicate", "corrected", "rejected",
    ]  # fmt: skip
    assert answer["counts"] == {"accepted": 1, "duplicate": 1, "corrected": 1, "rejected": 1}
    assert answer["results"][3]["reasons"][0]["code"] == "vin.length"
    assert len(harness.published[topics.WORKORDER_CLOSED]) == 2


async def test_a_batch_over_the_limit_is_refused(client, harness, make_workorder):
    too_many = [make_workorder()] * (harness.settings.max_batch + 1)
    assert (await client.post("/v1/dms/work-orders", json=too_many)).status_code == 413


async def test_a_body_that_is_not_json_is_kept_as_a_rejection(client):
    answer = (await client.post("/v1/dms/work-orders", content=b"<xml/>")).json()
    [result] = answer["results"]
    assert result["outcome"] == "rejected"
    assert result["reasons"][0]["code"] == "json.invalid"


async def test_a_rejection_is_listed_fixed_and_replayed(client, make_workorder):
    bad = make_workorder(customer__phone="12345")
    [result] = (await client.post("/v1/dms/work-orders", json=bad)).json()["results"]
    rejection_id = result["rejection_id"]

    listed = (await client.get("/v1/rejections", params={"dealer_id": "dealer-sz-001"})).json()
    assert [i["rejection_id"] for i in listed["items"]] == [rejection_id]
    assert "raw" not in listed["items"][0]  # D3: lists never carry the raw record
    steward = await client.get(f"/v1/rejections/{rejection_id}")
    assert '"12345"' in steward.json()["raw"]

    replayed = (await client.post(f"/v1/rejections/{rejection_id}/replay")).json()
    assert (replayed["resolved"], replayed["outcome"]) == (False, "rejected")

    fixed = make_workorder(customer__phone="13800138000")
    answer = (await client.post(f"/v1/rejections/{rejection_id}/fix", json=fixed)).json()
    assert (answer["resolved"], answer["outcome"]) == (True, "accepted")
    still_open = (await client.get("/v1/rejections", params={"dealer_id": "dealer-sz-001"})).json()[
        "items"
    ]
    assert rejection_id not in [i["rejection_id"] for i in still_open]


async def test_vehicle_file_by_vin_plate_and_phone_masks_phones(client, make_workorder):
    await client.post("/v1/dms/work-orders", json=make_workorder())

    by_vin = await client.get("/v1/dealers/dealer-sz-001/vehicles/lsvau218xn2183294")
    assert by_vin.status_code == 200
    assert by_vin.json()["customer"]["phone"] == "138****8000"  # D3
    assert "13800138000" not in by_vin.text
    assert "440301198503140011" not in by_vin.text

    by_plate = await client.post(
        "/v1/dealers/dealer-sz-001/vehicles/search", json={"plate": "粤b 12345"}
    )
    assert [f["vin"] for f in by_plate.json()["items"]] == ["LSVAU218XN2183294"]

    by_phone = await client.post(
        "/v1/dealers/dealer-sz-001/vehicles/search", json={"phone": "+86 138-0013-8000"}
    )
    [file] = by_phone.json()["items"]
    assert file["customer"]["phone"] == "138****8000"  # D3: whole numbers only with a lease

    other_dealer = await client.get("/v1/dealers/dealer-bj-002/vehicles/LSVAU218XN2183294")
    assert other_dealer.status_code == 404  # D3: never another dealer's file


async def test_one_person_with_two_vehicles_has_two_files(client, make_workorder):
    await client.post(
        "/v1/dms/work-orders",
        json=[make_workorder(), make_workorder(work_order_id="WO-2", vin="LFV2A21K8P4012345",
                                               plate="京A88888")],
    )  # fmt: skip
    found = await client.post(
        "/v1/dealers/dealer-sz-001/vehicles/search", json={"phone": "13800138000"}
    )
    assert sorted(f["vin"] for f in found.json()["items"]) == [
        "LFV2A21K8P4012345",
        "LSVAU218XN2183294",
    ]
