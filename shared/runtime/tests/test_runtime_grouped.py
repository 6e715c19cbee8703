"""Group commit against the real MongoDB server: concurrent callers' writes share commands, and
each caller still gets its own outcome."""

import asyncio

import pytest
from aftersales_runtime.grouped import Grouped

pytestmark = pytest.mark.stack


class CountingCommands:
    """The collection, counting the commands sent through it."""

    def __init__(self, collection) -> None:
        self.inner, self.commands = collection, 0

    async def insert_many(self, *args, **kwargs):
        self.commands += 1
        return await self.inner.insert_many(*args, **kwargs)

    async def bulk_write(self, *args, **kwargs):
        self.commands += 1
        return await self.inner.bulk_write(*args, **kwargs)

    async def delete_many(self, *args, **kwargs):
        self.commands += 1
        return await self.inner.delete_many(*args, **kwargs)


async def test_concurrent_inserts_share_commands_and_each_learns_its_own_outcome(mongo_db):
    collection = CountingCommands(mongo_db["grouped"])
    writes = Grouped(collection)  # type: ignore[arg-type]
    await mongo_db["grouped"].insert_one({"_id": "taken"})

    ids = [f"doc-{n}" for n in range(30)] + ["taken", "doc-3"]  # one stored, one twice
    outcomes = await asyncio.gather(*(writes.insert_once({"_id": i, "n": 1}) for i in ids))

    assert outcomes == [True] * 30 + [False, False]  # the second doc-3 lost to the first
    assert collection.commands < len(ids) / 2  # one at once, then the rest together
    stored = {d["_id"] async for d in mongo_db["grouped"].find({})}
    assert stored == {"taken", *ids}


async def test_concurrent_updates_and_deletes_share_commands(mongo_db):
    await mongo_db["grouped"].insert_many([{"_id": f"doc-{n}", "n": 0} for n in range(25)])
    collection = CountingCommands(mongo_db["grouped"])
    writes = Grouped(collection)  # type: ignore[arg-type]

    await asyncio.gather(*(writes.update(f"doc-{n}", {"$inc": {"n": n}}) for n in range(25)))
    found = {d["_id"]: d["n"] async for d in mongo_db["grouped"].find({})}
    assert found == {f"doc-{n}": n for n in range(25)}
    updates = collection.commands
    assert updates < 25 / 2

    await asyncio.gather(*(writes.delete(f"doc-{n}") for n in range(0, 25, 2)))
    left = sorted([d["_id"] async for d in mongo_db["grouped"].find({})])
    assert left == sorted(f"doc-{n}" for n in range(1, 25, 2))
    assert collection.commands - updates < 13 / 2


async def test_no_caller_is_told_its_write_was_made_when_it_was_not(mongo_db):
    await mongo_db["grouped"].insert_many(
        [{"_id": "a", "n": 1}, {"_id": "b", "n": "text"}, {"_id": "c", "n": 1}]
    )
    writes = Grouped(mongo_db["grouped"])

    outcomes = await asyncio.gather(
        writes.update("a", {"$inc": {"n": 1}}),
        writes.update("b", {"$inc": {"n": 1}}),  # $inc of a string: refused
        writes.update("c", {"$inc": {"n": 10}}),
        return_exceptions=True,
    )

    # MongoDB fails the refused statement's caller only; FerretDB v1 stops the command there
    # and answers without counts, so every caller of that command gets the error.
    assert isinstance(outcomes[1], Exception)
    stored = {d["_id"]: d["n"] async for d in mongo_db["grouped"].find({})}
    assert stored["b"] == "text"
    for doc_id, outcome, wanted in (("a", outcomes[0], 2), ("c", outcomes[2], 11)):
        if outcome is None:
            assert stored[doc_id] == wanted, f"{doc_id}: told written, not written"
        else:
            assert isinstance(outcome, Exception)


async def test_a_cancelled_caller_does_not_cancel_the_others_writes(mongo_db):
    writes = Grouped(mongo_db["grouped"])
    first = asyncio.create_task(writes.insert_once({"_id": "first"}))
    others = [asyncio.create_task(writes.insert_once({"_id": f"other-{n}"})) for n in range(5)]
    await asyncio.sleep(0)  # every write is waiting: the first is in flight
    first.cancel()

    assert await asyncio.gather(*others) == [True] * 5
    stored = {d["_id"] async for d in mongo_db["grouped"].find({})}
    assert {f"other-{n}" for n in range(5)} <= stored
