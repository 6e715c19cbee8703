"""Packed values: fields as JSON text, documents as BSON, read back whatever the stored shape."""

from __future__ import annotations

from datetime import UTC, datetime

from aftersales_runtime.packing import (
    PACKED,
    pack_bson,
    pack_document,
    pack_fields,
    unpack_bson,
    unpack_document,
    unpack_fields,
)

FIELDS = ("history", "subject")


def test_packed_fields_are_one_text_each_and_read_back_as_they_were():
    doc = {
        "_id": "d/1",
        "history": [{"record_id": "WO-1", "km": 12000}, {"record_id": "WO-2", "km": 15000}],
        "subject": {"name": "张三", "phones": ["+8613800138000"]},
        "plates": ["粤B12345"],
        "gone": None,
    }
    stored = pack_fields(doc, FIELDS)

    assert stored["history"] == '[{"record_id":"WO-1","km":12000},{"record_id":"WO-2","km":15000}]'
    assert stored["subject"] == '{"name":"张三","phones":["+8613800138000"]}'
    assert stored["plates"] == ["粤B12345"]  # not named: as it was
    assert unpack_fields(stored, FIELDS) == doc


def test_a_document_stored_before_packing_reads_as_it_is_and_none_stays_none():
    before = {"_id": "d/2", "history": [{"record_id": "WO-1"}], "subject": None}
    assert unpack_fields(before, FIELDS) == before
    assert pack_fields(before, FIELDS)["subject"] is None


def test_a_packed_document_reads_back_exactly_and_updated_fields_win():
    due = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    timer = {
        "_id": "dealer-sz-001/WO-1/call_day3",
        "state": "pending",
        "due_at": due,
        "purposes": ["service_call_day3"],
        "customer": {"name": "张三"},
        "trail": [{"at": due, "event": "planned"}],
    }
    stored = pack_document(timer, top_level=("trail",))

    assert set(stored) == {"_id", "trail", PACKED}  # one binary, and what updates push to
    assert unpack_document(stored) == timer
    # An update `$set`s at the top level, as on an unpacked document: it wins when read.
    updated = {**stored, "state": "cancelled", "trail": [*timer["trail"], {"event": "x"}]}
    assert unpack_document(updated)["state"] == "cancelled"
    assert unpack_document(updated)["trail"][-1] == {"event": "x"}
    assert unpack_document(updated)["due_at"] == due  # tz-aware, as stored


def test_a_document_stored_unpacked_reads_as_it_is():
    before = {"_id": "t/1", "state": "pending", "trail": []}
    assert unpack_document(before) == before
    assert unpack_bson(pack_bson({"n": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)})) == {
        "n": 1,
        "at": datetime(2026, 1, 1, tzinfo=UTC),
    }
