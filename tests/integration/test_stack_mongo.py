"""PyMongo's async client against the MongoDB-compatible server the stack runs."""

from datetime import UTC, datetime

import pytest
from aftersales_runtime.bulk import find_by_ids
from aftersales_runtime.mongo import insert_once
from bson import Binary, Int64, ObjectId, Regex, Timestamp
from pymongo import ReplaceOne, UpdateOne
from pymongo.errors import DuplicateKeyError, WriteError

pytestmark = pytest.mark.stack
OID = "65a000000000000000000001"


async def test_write_and_read_back(mongo_db):
    await mongo_db.files.insert_one({"_id": "dealer-1/LSVAU2180N2183294", "plate": "粤B·D12345"})
    found = await mongo_db.files.find_one({"_id": "dealer-1/LSVAU2180N2183294"})
    assert found == {"_id": "dealer-1/LSVAU2180N2183294", "plate": "粤B·D12345"}


async def test_unique_index_violation_raises_duplicate_key_error(mongo_db):
    await mongo_db.orders.create_index([("dealer_id", 1), ("work_order_id", 1)], unique=True)
    await mongo_db.orders.insert_one({"dealer_id": "d1", "work_order_id": "WO-1"})
    with pytest.raises(DuplicateKeyError):
        await mongo_db.orders.insert_one({"dealer_id": "d1", "work_order_id": "WO-1"})
    assert await mongo_db.orders.count_documents({}) == 1


async def test_insert_once_is_the_idempotency_primitive(mongo_db):
    assert await insert_once(mongo_db, "timers", {"_id": "WO-1/day3", "state": "pending"})
    assert not await insert_once(mongo_db, "timers", {"_id": "WO-1/day3", "state": "other"})
    assert (await mongo_db.timers.find_one({"_id": "WO-1/day3"}))["state"] == "pending"


async def test_lookups_by_id_use_the_index(mongo_db):
    """The services' hot paths are `_id` lookups; on FerretDB-SQLite that needs our build patch
    (deploy/local/ferretdb/patches/sqlite-id-index.patch), without which every lookup scans."""
    info = await mongo_db.client.admin.command("buildInfo")
    if "ferretdbVersion" not in info:
        pytest.skip("not FerretDB: MongoDB indexes _id natively")
    await mongo_db.files.insert_many([{"_id": f"dealer-1/VIN{i:05d}"} for i in range(50)])
    plan = await mongo_db.command(
        "explain", {"find": "files", "filter": {"_id": "dealer-1/VIN00007"}}
    )
    details = " ".join(plan["queryPlanner"]["Plan"])
    assert "USING INDEX" in details, details


async def test_a_batch_read_by_ids_uses_the_index_and_finds_exactly_its_documents(mongo_db):
    """`find_by_ids` reads a batch with one `{_id: {$in: [...]}}`; on FerretDB-SQLite that is
    served from the index by our build patch (sqlite-id-in.patch). The documents found are
    exactly those asked for, also when an id is missing or not a string."""
    await mongo_db.files.insert_many([{"_id": f"dealer-1/VIN{i:05d}", "n": i} for i in range(50)])
    wanted = [f"dealer-1/VIN{i:05d}" for i in (3, 7, 49)] + ["dealer-1/absent"]
    found = await find_by_ids(mongo_db, "files", wanted)
    assert {k: v["n"] for k, v in found.items()} == {
        "dealer-1/VIN00003": 3,
        "dealer-1/VIN00007": 7,
        "dealer-1/VIN00049": 49,
    }
    mixed = await mongo_db.files.find({"_id": {"$in": ["dealer-1/VIN00005", 5]}}).to_list()
    assert [d["n"] for d in mixed] == [5]
    info = await mongo_db.client.admin.command("buildInfo")
    if "ferretdbVersion" not in info:
        return  # MongoDB serves `$in` on `_id` from its index natively
    plan = await mongo_db.command("explain", {"find": "files", "filter": {"_id": {"$in": wanted}}})
    details = " ".join(plan["queryPlanner"]["Plan"])
    assert "USING INDEX" in details, details


async def test_an_update_command_by_ids_answers_as_its_statements_one_after_the_other(mongo_db):
    """Bulk updates by `_id` (`write_each`, `replace_all`): our FerretDB build runs a command
    whose statements each address another document by `_id` as one query, one transaction for
    the upserts of missing documents and one for the rest (sqlite-update-by-id.patch), and
    hands any other command to FerretDB's own path. Either way the counts and the documents
    are those of the statements applied one after the other."""
    await mongo_db.files.insert_many(
        [{"_id": f"d/{i}", "n": i, "tags": ["a"]} for i in range(6)] + [{"_id": ObjectId(OID)}]
    )
    by_ids = await mongo_db.files.bulk_write(
        [
            UpdateOne({"_id": "d/0"}, {"$set": {"n": 10}, "$addToSet": {"tags": {"$each": ["b"]}}}),
            UpdateOne({"_id": "d/1"}, {"$set": {"n": 1}}),  # matched, unchanged
            UpdateOne({"_id": "d/absent"}, {"$set": {"n": 99}}),  # no document, no upsert
            UpdateOne({"_id": "d/2"}, {"$push": {"trail": {"$each": [{"at": 1}]}}}),
            UpdateOne({"_id": ObjectId(OID)}, {"$inc": {"n": 5}}),
            ReplaceOne({"_id": "d/3"}, {"_id": "d/3", "whole": True}, upsert=True),
        ],
        ordered=False,
    )
    assert (by_ids.matched_count, by_ids.modified_count, by_ids.upserted_count) == (5, 4, 0)
    repeated = await mongo_db.files.bulk_write(
        [
            UpdateOne({"_id": "d/4"}, {"$inc": {"n": 1}}),
            UpdateOne({"_id": "d/4"}, {"$inc": {"n": 1}}),
        ]
    )
    assert (repeated.matched_count, repeated.modified_count) == (2, 2)
    # Upserts of missing documents go with the others: inserted as FerretDB's own path makes
    # them (the filter's _id, the update with $setOnInsert, or the replacement).
    upserting = await mongo_db.files.bulk_write(
        [
            ReplaceOne({"_id": "d/5"}, {"_id": "d/5", "n": 50}, upsert=True),
            ReplaceOne({"_id": "d/new"}, {"_id": "d/new", "n": 7}, upsert=True),
            UpdateOne(
                {"_id": "d/made"},
                {
                    "$set": {"vehicles.V1": {"km": 1}},
                    "$addToSet": {"ids": {"$each": ["t1", "t1", "t2"]}},
                    "$setOnInsert": {"first": True},
                },
                upsert=True,
            ),
            UpdateOne({"_id": "d/1"}, {"$set": {"n": 11}, "$setOnInsert": {"first": True}}, True),
        ],
        ordered=False,
    )
    assert (upserting.matched_count, upserting.modified_count) == (2, 2)
    # (FerretDB numbers upserts among the upserts, MongoDB among the statements: ids only.)
    assert list(upserting.upserted_ids.values()) == ["d/new", "d/made"]
    docs = {str(d.pop("_id")): d async for d in mongo_db.files.find({})}
    assert docs == {
        "d/0": {"n": 10, "tags": ["a", "b"]},
        "d/1": {"n": 11, "tags": ["a"]},
        "d/made": {"vehicles": {"V1": {"km": 1}}, "ids": ["t1", "t2"], "first": True},
        "d/2": {"n": 2, "tags": ["a"], "trail": [{"at": 1}]},
        "d/3": {"whole": True},
        "d/4": {"n": 6, "tags": ["a"]},
        "d/5": {"n": 50},
        "d/new": {"n": 7},
        OID: {"n": 5},
    }


@pytest.mark.parametrize(
    ("update", "keys"),
    [
        ({"$set": {"a": 1, "a.b": 2}}, ("a", "a.b")),  # a key under another
        ({"$set": {"a.b": 1}, "$inc": {"a": 1}}, ("a", "a.b")),  # in another operator
        ({"$set": {"p": 1}, "$setOnInsert": {"p": 2}}, ("p",)),  # the same key twice
        ({"$inc": {"n.1": 1, "n.10": 1, "n.1.0": 1}}, ("n.1", "n.1.0")),
    ],
)
async def test_an_update_with_conflicting_keys_is_refused_naming_the_conflict(
    mongo_db, update, keys
):
    """The server checks an update's keys for conflicts (on FerretDB by sorting them, with
    deploy/local/ferretdb/patches/update-keys-sorted.patch) and names one of the keys in
    conflict; it applies a conflict-free update of hundreds of keys, one of which is the start
    of the others' text but not of their paths."""
    await mongo_db.counters.insert_one({"_id": "R/d/2026-11", "a": {"b": 0}})
    with pytest.raises(WriteError) as refused:
        await mongo_db.counters.update_one({"_id": "R/d/2026-11"}, update)
    assert refused.value.code == 40  # ConflictingUpdateOperators
    named = [
        k for k in keys if f"Updating the path '{k}' would create a conflict" in str(refused.value)
    ]
    assert named, refused.value

    many = {f"by_advisor.SA-{i:03d}.calls": 1 for i in range(300)}
    many["by_advisor.SA"] = 1  # the others' text starts with its, their paths do not
    await mongo_db.counters.update_one(
        {"_id": "R/d/2026-11"}, {"$inc": many, "$max": {"offsets.t:0": 7}}
    )
    found = await mongo_db.counters.find_one({"_id": "R/d/2026-11"})
    assert len(found["by_advisor"]) == 301
    assert found["offsets"] == {"t:0": 7}
    assert found["a"] == {"b": 0}  # nothing of the refused updates was applied


async def test_every_kind_of_value_reads_back_as_written(mongo_db):
    """The stack's FerretDB decodes what it stored in one pass (sjson-fast-unmarshal.patch) and
    falls back to its own decoder for anything it does not expect: every BSON type the services
    store, nested, in arrays, with escapes and other scripts, reads back the same by `_id`, by
    `$in` and after an update."""
    nested = {
        "客户": {"姓名": "张伟", "电话": "+8613800000001", "备注": 'say "hi"\n\t\\ \u0001 ✓ 🚗'},
        "scores": [{"item": "q1", "score": 9}, {"item": "q2", "score": 7.5}, {}],
        "deep": {"a": {"b": {"c": {"d": [1, {"e": None}, "f", {"g": [2, 3]}]}}}},
    }
    document = {
        "_id": "dealer-1/roundtrip",
        "text": "粤B·D12345",
        "empty_text": "",
        "int": -2_147_483_648,
        "long": Int64(9_007_199_254_740_993),
        "double": 1.5e-300,
        "true": True,
        "false": False,
        "null": None,
        "when": datetime(2026, 12, 4, 13, 50, 7, 123_000, tzinfo=UTC),
        "before_1970": datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC),
        "oid": ObjectId(OID),
        "bytes": bytes(range(256)) * 3,
        "empty_bytes": b"",
        "uuid_bytes": Binary(b"0123456789abcdef", 4),
        "regex": Regex("^粤B\\.\\d+$", "i"),
        "stamp": Timestamp(1_764_856_207, 3),
        "empty": {},
        "empty_list": [],
        "key with 钥匙 and spaces": "value",
        "nested": nested,
    }
    await mongo_db.files.insert_one(dict(document))

    by_id = await mongo_db.files.find_one({"_id": document["_id"]})
    by_in = await find_by_ids(mongo_db, "files", [document["_id"], "dealer-1/absent"])
    await mongo_db.files.update_one({"_id": document["_id"]}, {"$set": {"added": [1, "二"]}})
    updated = await mongo_db.files.find_one({"_id": document["_id"]})

    assert by_id == document
    assert list(by_id) == list(document)  # the fields' order too
    assert by_in == {document["_id"]: document}
    assert updated == {**document, "added": [1, "二"]}
