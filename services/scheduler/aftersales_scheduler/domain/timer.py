"""A planned contact's lifecycle: its states and the transitions between them.

Pure: no broker, no database. A transition returns what changes (fields, trail entries, whether
the filed entry is withdrawn and a new version filed); the use cases collect them and write once.
A transition that does not apply (the timer already moved on) returns None, which is what makes
a redelivered event change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales_scheduler.domain.plan import WEEK

Doc = dict[str, Any]


class TimerState(StrEnum):
    PENDING = "pending"  # filed, waiting to fall due (or due and sent: see the API's view)
    MERGED = "merged"  # its purposes went into another contact of the window (D13)
    SUPPRESSED = "suppressed"  # never filed: opt-out (D4) or the 7-day cap (D13)
    CANCELLED = "cancelled"  # withdrawn: opt-out (D4) or a visit made it pointless (D9, D11)
    DONE = "done"  # a result closed it
    UNREACHABLE = "unreachable"  # D15: no answer after max_attempts


#: States that count as a contact of the customer (D13 cap).
LIVE = frozenset({TimerState.PENDING, TimerState.DONE, TimerState.UNREACHABLE})
#: How long a contact made counts for decisions: D13's week, plus four for work orders that
#: arrive late (their first contacts are planned on the days after the settlement, which may be
#: past).
COUNTS_FOR = WEEK + 4 * WEEK


def trail(now: datetime, event: str, detail: str = "", attempt: int | None = None) -> Doc:
    entry: Doc = {"at": now, "event": event, "detail": detail}
    if attempt is not None:
        entry["attempt"] = attempt
    return entry


@dataclass(frozen=True)
class Transition:
    timer_id: str
    changes: Doc = field(default_factory=dict)
    trail: tuple[Doc, ...] = ()
    withdraw: bool = False  # tombstone the entry filed under the timer's current key
    refile: bool = False  # file an entry for the timer's new attempt/version


def is_pending(timer: Doc) -> bool:
    return bool(timer["state"] == TimerState.PENDING)


def is_settled(timer: Doc, now: datetime) -> bool:
    """No decision needs the timer any more: finished (transitions apply only to a pending
    timer) and either never a contact of the customer (merged, suppressed, cancelled) or one
    too long ago to count against a new one (D13)."""
    if is_pending(timer):
        return False
    return timer["state"] not in LIVE or timer["due_at"] <= now - COUNTS_FOR


def cancel(timer: Doc, now: datetime, reason: str) -> Transition | None:
    """D4 opt-out, D9/D11 a visit: a pending contact is withdrawn."""
    if not is_pending(timer):
        return None
    return Transition(
        timer["_id"],
        {"state": TimerState.CANCELLED.value},
        (trail(now, "suppressed", reason),),
        withdraw=True,
    )


def merge_into(timer: Doc, host_id: str, now: datetime) -> Transition | None:
    """D13: an earlier contact of the window joins the later one (which carries its purposes)."""
    if not is_pending(timer):
        return None
    return Transition(
        timer["_id"],
        {"state": TimerState.MERGED.value, "merged_into": host_id},
        (trail(now, "merged", f"into {host_id}"),),
        withdraw=True,
    )


def revise(timer: Doc, changes: Doc, note: Doc) -> Transition:
    """A pending contact's content changes: entries are immutable, so the filed one is withdrawn
    and a new version filed (same attempt: it still fires once, by its claim)."""
    return Transition(
        timer["_id"],
        {**changes, "version": timer.get("version", 1) + 1},
        (note,),
        withdraw=True,
        refile=True,
    )


def add_purposes(host: Doc, joining: Doc, note: str, now: datetime) -> Transition | None:
    """D13: another contact's purposes join this one (if it is still pending). A call carries
    what an SMS would have said, so a phone contact joining makes the host a call (D14), and
    the earlier timeliness window wins (D6)."""
    if not is_pending(host) or not set(joining["purposes"]) - set(host["purposes"]):
        return None
    changes: Doc = {"purposes": list(dict.fromkeys([*host["purposes"], *joining["purposes"]]))}
    windows = [t for t in (host.get("timely_until"), joining.get("timely_until")) if t]
    if windows:
        changes["timely_until"] = min(windows)
    if joining.get("channel") == "phone":
        changes["channel"] = "phone"
    return revise(host, changes, trail(now, "merged", note))


def correct(timer: Doc, snapshot: Doc, sent: bool, now: datetime) -> Transition | None:
    """A correction (revision > stored) refreshes the contact data of a pending timer, never its
    identity; once its attempt went out, only the stored data changes."""
    if not is_pending(timer) or snapshot["revision"] <= timer.get("revision", 1):
        return None
    if sent:
        return Transition(timer["_id"], snapshot)
    return revise(
        timer, snapshot, trail(now, "updated", f"correction revision {snapshot['revision']}")
    )


def close(timer: Doc, attempt: int, outcome: str, now: datetime) -> Transition | None:
    """A result closes the attempt it answers (a stale or repeated result changes nothing)."""
    if not is_pending(timer) or timer["attempt"] != attempt:
        return None
    return Transition(
        timer["_id"], {"state": TimerState.DONE.value}, (trail(now, "closed", outcome, attempt),)
    )


def give_up(timer: Doc, attempt: int, now: datetime) -> Transition | None:
    """D15: unreached `max_attempts` times."""
    if not is_pending(timer) or timer["attempt"] != attempt:
        return None
    detail = f"unreachable after {attempt} attempts"
    return Transition(
        timer["_id"],
        {"state": TimerState.UNREACHABLE.value},
        (trail(now, "closed", detail, attempt),),
    )


def retry(
    timer: Doc, attempt: int, due: datetime, outcome: str, now: datetime
) -> Transition | None:
    """D15: an unreached call is tried again (the fired attempt's entry stays: it was sent)."""
    if not is_pending(timer) or timer["attempt"] != attempt:
        return None
    return Transition(
        timer["_id"],
        {"attempt": attempt + 1, "due_at": due, "version": timer.get("version", 1) + 1},
        (trail(now, "retried", f"{outcome}; next at {due.isoformat()}", attempt + 1),),
        refile=True,
    )
