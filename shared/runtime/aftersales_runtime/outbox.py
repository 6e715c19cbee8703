"""Store the event, publish it, mark it published: the one way a service gets an event out.

There is no transaction spanning MongoDB and Kafka (nor any transaction on FerretDB), so:
1. the caller stores each event *inside* the document it comes from, in the same write, with
   the document's mark saying "not yet published" (`published: false`, or a published revision
   lower than the stored one);
2. `Outbox.flush` publishes the events of one pass with one producer flush (order kept: one
   dealer's events stay in order on its partition) and waits until Kafka acknowledged them all;
3. only then it marks them published: one bulk write per collection, each update addressed by
   `_id` alone (the one filter FerretDB serves from an index).
A crash between 1 and 3 leaves events stored and unmarked. Whoever handles the same input again
(a redelivery: a consumer commits its offset only after 3; a client retrying an HTTP call) finds
them unmarked and hands them to the outbox again: the same stored event, the same event_id;
consumers are idempotent. A late mark never hides a newer unpublished event: the flag is only set
for the event just published and revisions rise with `$max`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aftersales_contracts.envelope import Event
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

PublishAll = Callable[[Sequence[Event]], Awaitable[None]]
PUBLISHED = "published"


@dataclass(frozen=True)
class Pending:
    """Events stored in document `document_id` of `collection`, and the update that marks them
    published once Kafka has them."""

    collection: str
    document_id: str
    events: tuple[Event, ...]
    mark: Mapping[str, Any]


def flagged(collection: str, document_id: str, event: Event) -> Pending:
    """One event stored with a `published: false` flag (tickets, contact results, rejections)."""
    return Pending(collection, document_id, (event,), {"$set": {PUBLISHED: True}})


def unpublished(document: Mapping[str, Any]) -> bool:
    """Whether a document stored with `flagged` still waits for its event to go out."""
    return not document.get(PUBLISHED, False)


def up_to_revision(
    collection: str, document_id: str, events: Sequence[Event], revision: int, field: str
) -> Pending:
    """Events of revisions up to `revision`, marked by raising `field` to it (`$max`: a late mark
    of revision n never lowers a mark of n+1)."""
    return Pending(collection, document_id, tuple(events), {"$max": {field: revision}})


class Outbox:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], publish_all: PublishAll) -> None:
        self.db = db
        self.publish_all = publish_all

    async def flush(self, pending: Sequence[Pending]) -> None:
        """Publish every pending event (one flush), await all acknowledgements, then mark."""
        events = [event for item in pending for event in item.events]
        if events:
            await self.publish_all(events)
        marks: dict[str, list[UpdateOne]] = {}
        for item in pending:
            marks.setdefault(item.collection, []).append(
                UpdateOne({"_id": item.document_id}, dict(item.mark))
            )
        for collection, updates in marks.items():
            await self.db[collection].bulk_write(updates, ordered=False)
