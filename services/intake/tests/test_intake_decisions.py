"""Tier 1: one pass decided in memory (domain/decisions.py), no broker, no database."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from aftersales_intake.domain.decisions import Pass
from aftersales_intake.domain.reasons import Reason
from aftersales_intake.domain.records import Normalised, Refusal, normalise

from .conftest import NOW, workorder

SHANGHAI = ZoneInfo("Asia/Shanghai")


def record(**changes) -> Normalised:
    raw = json.dumps(workorder(**changes)).encode()
    found = normalise(raw, "workorder", lambda _: SHANGHAI, NOW)
    assert isinstance(found, Normalised), found
    return found


def test_records_meeting_in_one_pass_see_each_other_in_order():
    done = Pass("workorder", {}, {}, {}, {}, NOW)

    outcomes = [
        done.accept(record()),
        done.accept(record(total_amount=620.0)),
        done.accept(record()),  # revision 1 again
        done.accept(record(work_order_id="WO-2", settled_at="2026-11-28 10:00:00")),
    ]

    assert [o.status for o in outcomes] == ["accepted", "corrected", "duplicate", "accepted"]
    assert [(key, revision) for key, revision, _ in done.record_events] == [
        ("dealer-sz-001/WO-1", 1), ("dealer-sz-001/WO-1", 2), ("dealer-sz-001/WO-2", 1),
    ]  # fmt: skip
    [file] = done.changed_vehicle_files()[0]
    assert [(h["record_id"], h["revision"]) for h in file["history"]] == [("WO-1", 2), ("WO-2", 1)]
    assert len(done.new_records()) == 2


def test_stored_events_above_the_mark_go_out_again_and_the_rest_are_duplicates():
    first = Pass("workorder", {}, {}, {}, {}, NOW)
    first.accept(record())
    first.accept(record(total_amount=620.0))
    stored = {doc["_id"]: doc for doc in first.new_records()}
    files = {f["_id"]: f for f in first.changed_vehicle_files()[0]}

    again = Pass("workorder", stored, files, {}, {"dealer-sz-001/WO-1": 1}, NOW)
    outcomes = [again.accept(record()), again.accept(record(total_amount=620.0))]

    assert [o.status for o in outcomes] == ["duplicate", "corrected"]
    assert [revision for _, revision, _ in again.record_events] == [2]
    assert again.record_events[0][2] == first.record_events[1][2]  # the stored event, unchanged
    assert again.new_records() == []


def test_the_same_refusal_twice_in_a_pass_is_kept_and_published_once():
    done = Pass("workorder", {}, {}, {}, {}, NOW)
    refusal = Refusal([Reason("json.invalid", None, "not JSON")])

    first = done.reject(b"not json", "kafka", refusal)
    second = done.reject(b"not json", "kafka", refusal)

    assert first.rejection_id == second.rejection_id
    assert len(done.new_rejections()) == 1
    assert list(done.rejection_events) == [first.rejection_id]
