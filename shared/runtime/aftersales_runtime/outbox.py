"""Store the event, publish it, mark it published: the one way a service gets an event out.

There is no transaction spanning MongoDB and Kafka (nor any transaction on FerretDB), so:
1. the caller stores each event *inside* the document it comes from (e.g. one per revision),
   in the same write as the document;
2. `Outbox.flush` publishes the events of one pass with one producer flush (order kept: one
   dealer's events stay in order on its partition) and waits until Kafka acknowledged them all;
3. only then it marks them published: the document's mark in the `published` collection
   (`_id` = "{collection}/{document id}", `revision` = the highest revision out) is inserted, or
   raised with `$max` if it exists (a late mark of revision n never hides an unpublished n+1).
A crash between 1 and 3 leaves events stored and unmarked. Whoever handles the same input again
(a redelivery: a consumer commits its offset only after 3; a client retrying an HTTP call) reads
the marks (`published_revisions`), finds the stored events above them and hands them to the outbox
again: the same stored event, the same event_id; consumers are idempotent.

Why marks live in their own small documents: marking is then one insert command per pass
instead of one update statement per document (on FerretDB an update of a large document costs
~1 ms and updates must go in small commands: see `bulk.py`). A document with a single event uses
revision 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aftersales_contracts.envelope import Event
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_runtime.bulk import find_by_ids, insert_new, write_each

PublishAll = Callable[[Sequence[Event]], Awaitable[None]]
MARKS = "published"


@dataclass(frozen=True)
class Pending:
    """Events stored in document `document_id` of `collection`, up to `revision`."""

    collection: str
    document_id: str
    events: tuple[Event, ...]
    revision: int = 1


def mark_id(collection: str, document_id: str) -> str:
    return f"{collection}/{document_id}"


class Outbox:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], publish_all: PublishAll) -> None:
        self.db = db
        self.publish_all = publish_all

    async def published_revisions(
        self, collection: str, document_ids: Iterable[str]
    ) -> dict[str, int]:
        """Per document, the highest revision whose events are out (absent: none yet)."""
        ids = {mark_id(collection, d): d for d in document_ids}
        found = await find_by_ids(self.db, MARKS, ids)
        return {ids[key]: int(doc["revision"]) for key, doc in found.items()}

    async def flush(self, pending: Sequence[Pending]) -> None:
        """Publish every pending event (one flush), await all acknowledgements, then mark."""
        events = [event for item in pending for event in item.events]
        if events:
            await self.publish_all(events)
        highest: dict[str, int] = {}
        for item in pending:
            key = mark_id(item.collection, item.document_id)
            highest[key] = max(highest.get(key, 0), item.revision)
        marks = [{"_id": key, "revision": revision} for key, revision in highest.items()]
        known = await insert_new(self.db, MARKS, marks)
        raised = [UpdateOne({"_id": k}, {"$max": {"revision": highest[k]}}) for k in known]
        await write_each(self.db, MARKS, raised)
