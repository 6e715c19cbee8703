"""D30: a correction heard on a call refreshes what the vehicle's pending contacts carry.

Pure: no broker, no database. The vehicle file's revision orders corrections, so a redelivered
or older correction changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.timer import Doc, Transition, trail


def refresh_contact_data(
    timer: Doc, data: Doc, file_revision: int, sent: bool, now: datetime, note: str
) -> Transition | None:
    """The next contact uses the corrected data (`data`: the fields that name it, i.e.
    `contact_id` of the corrected contact data): a pending contact not yet sent is filed again
    with it; one whose attempt went out keeps its entry, and its next attempt (D15) is filed
    from the corrected data."""
    if not lifecycle.is_pending(timer) or file_revision <= timer.get("file_revision", 0):
        return None
    changes = {**data, "file_revision": file_revision}
    if sent:
        return Transition(timer["_id"], changes, (trail(now, "updated", note),))
    return lifecycle.revise(timer, changes, trail(now, "updated", note))
