"""Use cases of a task's lease: claim the next open task, extend the lease, release it.

A claim reads the dealer's open queue (time buckets by `_id`, open work only), passes over the
tasks this process knows are held, and takes the first free one with an atomic lease insert
(`lease/{task}/{n}`): two agents never hold one task. An expired lease is simply not live any
more: the next claim inserts lease n+1, which exactly one claimer can do, so the task returns to
the queue exactly once.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from aftersales_contact.desk import Desk
from aftersales_contact.store import Doc


class LeaseConflict(Exception):
    """The task is not leased to this agent (never was, ran out, or was released)."""


async def claim_next_task(
    desk: Desk,
    dealer_id: str,
    agent_id: str,
    purposes: Collection[str] = (),
    channels: Collection[str] = (),
) -> Doc | None:
    """Lease the first free task in queue order to the agent; None when none is free."""
    now = desk.clock.now()
    expires_at = now + desk.lease
    wanted_purposes, wanted_channels = frozenset(purposes), frozenset(channels)
    async for entry in desk.queue.entries(dealer_id, due_by=now):
        if not entry.matches(wanted_purposes, wanted_channels):
            continue
        if desk.memory.busy(entry.task_id, now):
            continue
        desk.memory.hold(entry.task_id, expires_at)  # before any await: ours to try
        task = await desk.store.task(entry.task_id)
        if task is None or task.get("done"):
            # Finished but still queued (a crash between the result and the queue): repair.
            # A result stored by a process that died before marking its task done is found by
            # the relay (its pending entry) or the expiry sweep, which finish the task; a claim
            # in between is answered by the submit (409: a result is recorded).
            desk.memory.finish(entry.task_id)
            await desk.queue.remove(dealer_id, entry.task_id, entry.due_at)
            continue
        hint = int(task.get("lease_no") or 0)
        lease, mine = await desk.store.take_lease(task, agent_id, now, expires_at, hint)
        desk.memory.hold(entry.task_id, lease["expires_at"])
        if not mine:
            continue
        await desk.store.note_lease(task["_id"], lease)
        return {
            **task,
            "lease_no": lease["lease_no"],
            "lease_agent": agent_id,
            "lease_expires_at": expires_at,
        }
    return None


async def held_lease(desk: Desk, task: Doc, agent_id: str, now: datetime) -> Doc:
    if task.get("done"):
        raise LeaseConflict("the task is finished: its result is recorded")
    lease = await desk.store.current_lease(task)
    if lease is None or lease["agent_id"] != agent_id:
        raise LeaseConflict("the task is not leased to this agent; claim a task first")
    if lease["expires_at"] <= now:
        raise LeaseConflict(
            f"the lease ran out at {lease['expires_at'].isoformat()}; the task went back to the "
            "queue"
        )
    return lease


async def extend_lease(desk: Desk, task: Doc, agent_id: str) -> Doc:
    """Heartbeat: the holder's lease now ends one lease length from now."""
    now = desk.clock.now()
    lease = await held_lease(desk, task, agent_id, now)
    extended = await desk.store.set_lease_end(lease, now + desk.lease)
    if await desk.store.lease_after(lease) is not None:
        # Another agent took the task the instant this lease ran out: that lease stands.
        raise LeaseConflict("the lease ran out and the task was claimed again")
    desk.memory.hold(task["_id"], extended["expires_at"])
    await desk.store.note_lease(task["_id"], extended)
    return extended


async def release_lease(desk: Desk, task: Doc, agent_id: str) -> Doc:
    """The holder gives the task back: it is open again at once, in its place in the queue."""
    now = desk.clock.now()
    lease = await held_lease(desk, task, agent_id, now)
    released = await desk.store.set_lease_end(lease, now)
    desk.memory.free(task["_id"])
    await desk.store.note_lease(task["_id"], released)
    return released
