"""The removals on their way to a dealer's open queue, for the removal that lingers for them.

Agents submit together, and their tasks leave the dealer's queue in one write (`OpenQueue.remove`,
group commit). A submit announces its removal as soon as it has read its task (`announced`), and
the removal that takes the dealer's lock waits until every announced one has come or ended
without one (a rejected submit), at most its linger: not a fixed wait, which each submit paid
whole.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sized
from contextlib import contextmanager, suppress


class Arrivals:
    def __init__(self, waiting: Mapping[str, Sized]) -> None:
        self._waiting = waiting  # dealer -> the removals that came and wait for the lock
        self._coming: Counter[str] = Counter()  # dealer -> announced, not over yet
        self._all_came: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    @contextmanager
    def announced(self, dealer_id: str) -> Iterator[None]:
        """A removal of the dealer's may come while the block runs."""
        self._coming[dealer_id] += 1
        try:
            yield
        finally:
            self._coming[dealer_id] -= 1
            self.note(dealer_id)

    def note(self, dealer_id: str) -> None:
        """A removal came (or an announced one ended): wake the lingering removal once every
        announced one has come. With none announced, it lingers its whole time."""
        coming = self._coming[dealer_id]
        if coming and len(self._waiting[dealer_id]) >= coming:
            self._all_came[dealer_id].set()

    async def linger(self, dealer_id: str, seconds: float) -> None:
        """Wait for the announced removals to come, at most `seconds`."""
        came = self._all_came[dealer_id]
        came.clear()
        self.note(dealer_id)
        with suppress(TimeoutError):
            await asyncio.wait_for(came.wait(), seconds)
