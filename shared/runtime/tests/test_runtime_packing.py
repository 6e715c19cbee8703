"""Packed fields: stored as one JSON text each, read back whatever the stored shape."""

from __future__ import annotations

from aftersales_runtime.packing import pack_fields, unpack_fields

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
