"""Test helper, not production: the complaints service that kills itself (SIGKILL, as kill -9)
right after storing its `CRASH_AFTER_COMMITS`-th transition and before publishing its events.

Run as a script by test_complaints_processes.py; the crash lands exactly in the window the
outbox exists for, which a kill from outside could only hit by luck.
"""

from __future__ import annotations

import os
import runpy
import signal
from typing import Any

from aftersales_complaints.store import ComplaintsStore

_commit = ComplaintsStore.commit
_limit = int(os.environ["CRASH_AFTER_COMMITS"])
_stored = 0


async def _commit_then_die(self: ComplaintsStore, transition: Any) -> bool:
    global _stored
    stored = await _commit(self, transition)
    if stored:
        _stored += 1
        if _stored >= _limit:
            os.kill(os.getpid(), signal.SIGKILL)
    return stored


ComplaintsStore.commit = _commit_then_die  # type: ignore[method-assign]
runpy.run_module("aftersales_complaints", run_name="__main__")
