"""The open queue's bucket stamps (`open_queue`): the head's record of each bucket's last write,
and a process's texts of the buckets it read or wrote, kept under those stamps, so that only a
bucket whose stamp changed is read again."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from aftersales_contact.store import Doc


def new_stamp() -> str:
    """A bucket write's stamp: random, so an hour emptied and filled again never repeats one."""
    return os.urandom(6).hex()


@dataclass(frozen=True)
class Head:
    """A dealer's head document: its hours' bucket counts and each bucket's stamp."""

    hours: dict[str, int] = field(default_factory=dict)
    stamps: dict[str, list[str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: Doc | None) -> Head:
        if not doc:
            return cls()
        return cls(dict(doc["hours"]), {h: list(s) for h, s in doc.get("stamps", {}).items()})

    def stamps_of(self, hour: str) -> list[str | None]:
        """The stamp of each bucket of the hour (None: written before stamps)."""
        known = self.stamps.get(hour, [])
        parts = self.hours.get(hour, 0)
        return [known[p] if p < len(known) else None for p in range(parts)]


class BucketTexts:
    """Bucket texts as last read or written by this process, by `_id`, each with the stamp the
    head gave it. Bounded: past `limit` characters kept, all go (they are read again)."""

    def __init__(self, limit: int = 20_000_000) -> None:
        self.limit = limit
        self._texts: dict[str, tuple[str, str]] = {}
        self._size = 0

    def get(self, doc_id: str, stamp: str | None) -> str | None:
        kept = self._texts.get(doc_id)
        return kept[1] if kept is not None and stamp is not None and kept[0] == stamp else None

    def put(self, doc_id: str, stamp: str | None, text: str) -> None:
        if stamp is None:
            return
        if self._size + len(text) > self.limit:
            self._texts.clear()
            self._size = 0
        old = self._texts.get(doc_id)
        self._size += len(text) - (len(old[1]) if old else 0)
        self._texts[doc_id] = (stamp, text)
