"""Where the pure domain meets storage and the broker: every change of a ticket goes through
`TicketDesk.store_and_publish_all` (`change` for one ticket, `opening.open_all` for a batch's
new ones), which stores the transitions, then publishes their events, then marks them
published — the runtime's one way to do it (`aftersales_runtime.outbox.Outbox`: marks in
`published`, `_id` = "tickets/{ticket}", the highest version out).

Nothing stored is lost, nothing is published that was not stored:
- before any change the ticket's stored events above its mark are published first (a crash
  between a commit and its publication, found by the next change or a redelivery), so a
  ticket's events go out in version order and a mark never runs ahead of an unpublished one;
- every change writes a pending entry (`aftersales_runtime.relay`) before its transition and
  removes it once published (a batch's in one command each way); whoever publishes a crash's
  leftovers (`catch_up`) removes theirs. A change accepted without a second delivery (an HTTP
  action, the sweep) depends on it: the relay's pass publishes what a crash left behind
  (`republish`), even if nobody touches the ticket again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox, Pending
from aftersales_runtime.relay import PendingPublications

from aftersales_complaints.domain.sweep import tick
from aftersales_complaints.domain.ticket import Ticket
from aftersales_complaints.domain.transitions import Rules, Transition
from aftersales_complaints.store import TICKETS, ComplaintsStore, transition_key

Decision = Callable[[Ticket, datetime], Transition | None]
#: Tickets the sweep reads, decides and stores together.
SWEEP_BATCH = 200
#: A ticket the sweep could not decide on (a bug, a dealer's broken settings) is looked at again
#: this much later: it holds neither its batch nor the watermark, and it is not forgotten.
RETRY_FAILED_CHECK = timedelta(hours=1)


class Conflict(Exception):
    """The ticket kept changing under us (another writer); the caller may try again."""


class TicketDesk:
    def __init__(
        self,
        store: ComplaintsStore,
        rules_for: Callable[[str], Rules],
        clock: Clock,
        outbox: Outbox,
        pending: PendingPublications,
        logger: logging.Logger,
    ) -> None:
        self.store, self.rules_for, self.clock = store, rules_for, clock
        self.outbox, self.pending, self.logger = outbox, pending, logger
        # Transitions being stored and published here, each set once its writer is done.
        self._in_flight: dict[str, asyncio.Event] = {}
        self._catching_up: dict[str, asyncio.Lock] = {}

    async def store_and_publish(self, transition: Transition) -> bool:
        """Store one transition and publish its events; False when another writer stored this
        version first (nothing of ours was stored)."""
        return (await self.store_and_publish_all([transition]))[0]

    async def store_and_publish_all(self, transitions: Sequence[Transition]) -> list[bool]:
        """Store transitions (of different tickets) and publish their events in one flush, in
        their order; each False when another writer stored that version first."""
        keys = [transition_key(t.ticket.ticket_id, t.ticket.version) for t in transitions]
        # A key another writer here holds is theirs: of two writers of one version one loses.
        held = {key: asyncio.Event() for key in keys if key not in self._in_flight}
        self._in_flight.update(held)
        try:
            added = await self.pending.add_all(keys)  # before the commit: the relay sees to them
            claimed = await self.store.commit_all(transitions)
            await self.outbox.flush(
                [
                    Pending(TICKETS, t.ticket.ticket_id, tuple(t.events), t.ticket.version)
                    for t, won in zip(transitions, claimed, strict=True)
                    if won
                ]
            )
            # A lost one's entry is the winner's, unless ours was new (the winner's was gone:
            # its events are out).
            done = zip(keys, added, claimed, strict=True)
            await self.pending.remove_all([key for key, new, won in done if won or new])
        finally:
            for key, event in held.items():
                del self._in_flight[key]
                event.set()
        return claimed

    async def catch_up(self, ticket: Ticket) -> int:
        """Publish the ticket's stored events above its mark (what a crash left unpublished);
        returns how many. One at a time per ticket in this process: a redelivery and the relay
        finding the same leftover publish it once."""
        lock = self._catching_up.setdefault(ticket.ticket_id, asyncio.Lock())
        try:
            async with lock:
                return await self._catch_up(ticket)
        finally:
            if not lock.locked():
                self._catching_up.pop(ticket.ticket_id, None)

    async def _catch_up(self, ticket: Ticket) -> int:
        # A version being published here goes out first (or fails): what follows waits for it,
        # so nothing decided on top of it is published before it.
        for version in range(1, ticket.version + 1):
            writer = self._in_flight.get(transition_key(ticket.ticket_id, version))
            if writer is not None:
                await writer.wait()
        marks = await self.outbox.published_revisions(TICKETS, [ticket.ticket_id])
        out = marks.get(ticket.ticket_id, 0)
        if out >= ticket.version:
            return 0
        missing: list[Pending] = []
        for version in range(out + 1, ticket.version + 1):
            events = await self.store.stored_events(transition_key(ticket.ticket_id, version))
            if events is not None:
                missing.append(Pending(TICKETS, ticket.ticket_id, tuple(events), version))
        await self._refile_all([ticket])
        await self.outbox.flush(missing)
        # Out now: their pending entries (whoever wrote them) have nothing left to see to.
        await self.pending.remove_all([transition_key(p.document_id, p.revision) for p in missing])
        count = sum(len(p.events) for p in missing)
        self.logger.info(
            "republished stored events", extra={"ticket_id": ticket.ticket_id, "events": count}
        )
        return count

    async def ticket(self, ticket_id: str) -> Ticket | None:
        """The ticket with every stored event of it published."""
        return (await self.tickets([ticket_id])).get(ticket_id)

    async def tickets(self, ticket_ids: Sequence[str]) -> dict[str, Ticket]:
        """The tickets found among `ticket_ids`, each with every stored event of it published:
        their marks in one read, and a catch-up for those a crash left behind."""
        found = await self.store.tickets_by_ids(ticket_ids)
        marks = await self.outbox.published_revisions(TICKETS, found)
        for ticket in found.values():
            if marks.get(ticket.ticket_id, 0) < ticket.version:
                await self.catch_up(ticket)
        return found

    async def change(self, ticket_id: str, decide: Decision, attempts: int = 5) -> Ticket | None:
        """Read, decide, store, publish; re-read and decide again if another writer won.

        None when there is no such ticket. The decision returns None when nothing changes.
        """
        for _ in range(attempts):
            ticket = await self.ticket(ticket_id)
            if ticket is None:
                return None
            transition = decide(ticket, self.clock.now())
            if transition is None:
                await self._refile_all([ticket])
                return ticket
            if await self.store_and_publish(transition):
                return transition.ticket
        raise Conflict(f"ticket {ticket_id} changed {attempts} times while we tried")

    async def _refile_all(self, tickets: Iterable[Ticket]) -> None:
        # A crash between a commit and its filing leaves the ticket's next moment unfiled; any
        # later look at the ticket (an older filing, a redelivery, the relay) files it again.
        # Filing is idempotent ($addToSet). A moment already passed is filed just ahead, where
        # the next pass finds it.
        soon = self.clock.now() + timedelta(seconds=1)
        await self.store.file_deadlines(
            [(t.ticket_id, max(wake, soon)) for t in tickets if (wake := t.wakes_at()) is not None]
        )

    async def _tick_all(self, ticket_ids: Sequence[str], now: datetime) -> None:
        """Warn or breach the tickets due (in the order they fell due): read together, decided
        in memory, stored and published together; one that another writer changed meanwhile is
        decided again on what that one stored (`change`); one that cannot be decided on is set
        aside for RETRY_FAILED_CHECK."""

        def due_now(ticket: Ticket, _: datetime) -> Transition | None:
            return tick(ticket, now, self.rules_for(ticket.dealer_id))

        found = await self.tickets(ticket_ids)
        decided: list[tuple[Ticket, Transition | None]] = []
        set_aside: list[str] = []
        for ticket_id in ticket_ids:
            if ticket_id not in found:
                self.logger.warning("deadline of no ticket", extra={"ticket_id": ticket_id})
                continue
            try:
                decided.append((found[ticket_id], due_now(found[ticket_id], now)))
            except Exception as error:  # this ticket only: the others go on
                self.logger.exception(
                    "deadline check failed; the ticket is looked at again later",
                    extra={"ticket_id": ticket_id, "error_type": type(error).__name__},
                )
                set_aside.append(ticket_id)
        await self.store.file_deadlines([(t, now + RETRY_FAILED_CHECK) for t in set_aside])
        await self._refile_all(ticket for ticket, transition in decided if transition is None)
        transitions = [transition for _, transition in decided if transition is not None]
        claimed = await self.store_and_publish_all(transitions)
        for transition, ours in zip(transitions, claimed, strict=True):
            if not ours:
                await self.change(transition.ticket.ticket_id, due_now)

    async def republish(self, key: str) -> bool:
        """The relay's pass over one pending transition: False while it is not stored (or is
        still being published here); True once its events are out."""
        if key in self._in_flight:
            return False
        if await self.store.stored_events(key) is None:
            return False  # not stored (yet): the relay abandons it after a while
        ticket = await self.store.ticket(key.rsplit("/", 1)[0])  # rolled forward
        if ticket is not None:
            await self.catch_up(ticket)
        return True

    async def sweep(self) -> int:
        """One pass: the tickets filed for a moment since the watermark, warned or breached.

        Its cost follows the deadlines falling due (one bucket read per hour passed, then per
        SWEEP_BATCH tickets due a few commands: `_tick_all`), not the number of tickets stored.
        """
        now = self.clock.now()
        mark = await self.store.watermark()
        if mark is None:
            mark = now - timedelta(days=1)
        if now <= mark:
            return 0
        due = await self.store.due_between(mark, now)
        for start in range(0, len(due), SWEEP_BATCH):
            await self._tick_all(due[start : start + SWEEP_BATCH], now)
        await self.store.set_watermark(now)
        await self.store.drop_buckets_before(mark, now)
        return len(due)
