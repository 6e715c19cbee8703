"""PyMongo's async client against the MongoDB-compatible server the stack runs."""

import pytest
from aftersales_runtime.bulk import find_by_ids
from aftersales_runtime.mongo import insert_once
from pymongo.errors import DuplicateKeyError

pytestmark = pytest.mark.stack


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
