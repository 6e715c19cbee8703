"""Test helper, not production: the complaints service that kills itself (SIGKILL, as kill -9)
right after the commit that stored its `CRASH_AFTER_COMMITS`-th transition (a batch's commit may
store more), before publishing their events.

Run as a script by test_complaints_processes.py; the crash lands exactly in the window the
outbox exists for, which a kill from outside could only hit by luck.
"""

from __future__ import annotations

import os
import runpy
import signal
from typing import Any

from aftersales_complaints.store import ComplaintsStore

_commit_all = ComplaintsStore.commit_all
_limit = int(os.environ["CRASH_AFTER_COMMITS"])
_stored = 0


async def _commit_then_die(self: ComplaintsStore, transitions: Any) -> list[bool]:
    global _stored
    claimed = await _commit_all(self, transitions)
    _stored += sum(claimed)
    if _stored >= _limit:
        os.kill(os.getpid(), signal.SIGKILL)
    return claimed


ComplaintsStore.commit_all = _commit_then_die  # type: ignore[method-assign]
runpy.run_module("aftersales_complaints", run_name="__main__")
