"""Tier 2: the DMS's way in and the data steward's reveals (issue 8.3, 8.4; D3, D5)."""

from __future__ import annotations

import httpx
import pytest
from aftersales_contracts import topics

pytestmark = pytest.mark.stack


@pytest.fixture
async def client(harness):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=harness.service.http), base_url="http://intake"
    ) as http:
        yield http


async def test_a_dms_cannot_post_for_a_dealer_it_does_not_serve(
    client, harness, tokens, make_workorder
):
    dms = tokens.header("dms", dealers=["dealer-bj-002"], sub="dms-bj")
    batch = [make_workorder(dealer_id="dealer-bj-002"), make_workorder()]  # the 2nd: sz-001

    answer = await client.post("/v1/dms/work-orders", json=batch, headers=dms)

    assert answer.status_code == 403
    assert "#1 (dealer-sz-001)" in answer.json()["detail"]
    assert "张伟" not in answer.text  # the refusal does not echo the records
    assert harness.published[topics.WORKORDER_CLOSED] == []  # nothing of it was taken in
    served = await client.post("/v1/dms/work-orders", json=batch[:1], headers=dms)
    assert served.json()["counts"]["accepted"] == 1


async def test_a_steward_sees_the_raw_record_and_the_cr_manager_reads_who_did(
    client, tokens, make_workorder
):
    dms = tokens.header("dms")
    [result] = (
        await client.post(
            "/v1/dms/work-orders", json=make_workorder(customer__phone="12345"), headers=dms
        )
    ).json()["results"]
    rejection = f"/v1/rejections/{result['rejection_id']}"

    agent = await client.get(rejection, headers=tokens.header("agent"))
    other = await client.get(
        rejection, headers=tokens.header("data_steward", dealers=["dealer-bj-002"])
    )
    steward = await client.get(rejection, headers=tokens.header("data_steward", sub="steward-li"))

    assert agent.status_code == 403
    assert "data_steward" in agent.json()["detail"]
    assert other.status_code == 404
    assert "张伟" not in other.text
    assert steward.status_code == 200
    assert "张伟" in steward.json()["raw"]
    audit = await client.get(
        "/v1/dealers/dealer-sz-001/audit/reveals", headers=tokens.header("cr_manager")
    )
    [entry] = audit.json()["reveals"]
    assert entry["who"] == "steward-li"
    assert entry["what"] == {"rejection_id": result["rejection_id"], "field": "raw"}
    assert entry["why"] == "fixing a rejected record"
    assert entry["at"] is not None
    assert "12345" not in audit.text  # the audit holds ids, not the revealed values


async def test_a_body_over_the_limit_is_refused_before_it_is_read(client, tokens):
    huge = b"[" + b" " * (9 * 1024 * 1024) + b"]"
    answer = await client.post("/v1/dms/work-orders", content=huge, headers=tokens.header("dms"))
    assert answer.status_code == 413


async def test_a_refused_fix_does_not_echo_the_record(client, tokens, make_workorder):
    steward = tokens.header("dms", "data_steward")
    [result] = (
        await client.post(
            "/v1/dms/work-orders", json=make_workorder(customer__phone="12345"), headers=steward
        )
    ).json()["results"]

    answer = await client.post(
        f"/v1/rejections/{result['rejection_id']}/fix",
        json=[make_workorder(customer__phone="13800138000")],  # a list, not one record
        headers=steward,
    )

    assert answer.status_code == 422
    assert "13800138000" not in answer.text
    assert "张伟" not in answer.text
