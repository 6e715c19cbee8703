"""Where the pure domain meets storage and the broker: every change of a ticket goes through
`TicketDesk.change`, which stores the transition, then publishes its events, then clears it
from the outbox. A crash in between leaves the outbox entry, and `republish` (at start and on
every sweep pass) publishes the stored events once more under the same ids; nothing stored is
lost, and nothing is published that was not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from aftersales_contracts import Event
from aftersales_runtime.clock import Clock

from aftersales_complaints.domain.sweep import tick
from aftersales_complaints.domain.ticket import Ticket
from aftersales_complaints.domain.transitions import Rules, Transition
from aftersales_complaints.store import ComplaintsStore, transition_key

Publish = Callable[[Event], Awaitable[None]]
Decision = Callable[[Ticket, datetime], Transition | None]


class Conflict(Exception):
    """The ticket kept changing under us (another writer); the caller may try again."""


class TicketDesk:
    def __init__(
        self,
        store: ComplaintsStore,
        rules_for: Callable[[str], Rules],
        clock: Clock,
        publish: Publish,
        logger: logging.Logger,
    ) -> None:
        self.store, self.rules_for, self.clock = store, rules_for, clock
        self.publish_event, self.logger = publish, logger
        self._in_flight: set[str] = set()

    async def store_and_publish(self, transition: Transition) -> bool:
        key = transition_key(transition.ticket.ticket_id, transition.ticket.version)
        self._in_flight.add(key)
        try:
            if not await self.store.commit(transition):
                return False
            await self.publish_transition(key, transition.events)
        finally:
            self._in_flight.discard(key)
        return True

    async def publish_transition(self, key: str, events: Sequence[Event]) -> None:
        for event in events:
            await self.publish_event(event)
        await self.store.published(key)

    async def change(self, ticket_id: str, decide: Decision, attempts: int = 5) -> Ticket | None:
        """Read, decide, store, publish; re-read and decide again if another writer won.

        None when there is no such ticket. The decision returns None when nothing changes.
        """
        for _ in range(attempts):
            ticket = await self.store.ticket(ticket_id)
            if ticket is None:
                return None
            transition = decide(ticket, self.clock.now())
            if transition is None:
                await self._refile(ticket)
                return ticket
            if await self.store_and_publish(transition):
                return transition.ticket
        raise Conflict(f"ticket {ticket_id} changed {attempts} times while we tried")

    async def _refile(self, ticket: Ticket) -> None:
        # A crash between a commit and its filing leaves the ticket's next moment unfiled; any
        # later look at the ticket (an older filing, a redelivery, the re-publish) files it
        # again. Filing is idempotent ($addToSet).
        # A moment already passed is filed just ahead, where the next pass finds it.
        wake = ticket.wakes_at()
        if wake is not None:
            soon = self.clock.now() + timedelta(seconds=1)
            await self.store.file_deadline(ticket.ticket_id, max(wake, soon))

    async def republish(self) -> int:
        """Publish what a crash left stored but unpublished; drop what was never stored."""
        count = 0
        for key in await self.store.unpublished():
            if key in self._in_flight:
                continue
            events = await self.store.stored_events(key)
            if events is None:  # the crash came before the commit: nothing happened
                await self.store.published(key)
                continue
            ticket = await self.store.ticket(key.rsplit("/", 1)[0])  # rolled forward
            if ticket is not None:
                await self._refile(ticket)
            await self.publish_transition(key, events)
            count += len(events)
        if count:
            self.logger.info("republished stored events", extra={"events": count})
        return count

    async def sweep(self) -> int:
        """One pass: the tickets filed for a moment since the watermark, warned or breached.

        Its cost follows the deadlines falling due (one bucket read per hour passed, one ticket
        read per entry), not the number of tickets stored.
        """
        now = self.clock.now()
        mark = await self.store.watermark()
        if mark is None:
            mark = now - timedelta(days=1)
        if now <= mark:
            return 0
        due = await self.store.due_between(mark, now)
        for ticket_id in due:
            await self.change(ticket_id, lambda t, _: tick(t, now, self.rules_for(t.dealer_id)))
        await self.store.set_watermark(now)
        await self.store.drop_buckets_before(mark, now)
        return len(due)
