"""Move the old one-collection-per-day time line (`due_YYYYMMDD`, `closing_days`) into the
bounded layout of `filing`, then drop the old collections; and slim the timers that still
carry their contact data (keep it once in `contacts`, name it by `contact_id`).

    python -m aftersales_scheduler.migrate            # MONGODB_URL, SCHEDULER_MONGODB_DATABASE
    python -m aftersales_scheduler.migrate --dry-run  # count what would move

Run it with every scheduler replica stopped (it files without the dispatcher's closing check),
then start the new version. Idempotent: a collection is marked `migrated/{name}` once its
entries are filed and its markers copied, and dropped after; a run cut short is run again
(an entry filed twice fires once: claims are per timer and attempt). Slimming a timer is
idempotent too (the contact data is inserted once, then the timer names it and drops its copy);
entries filed before keep their copy and fire as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from aftersales_runtime.bulk import find_by_ids
from aftersales_runtime.mongo import connect
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_scheduler import filing
from aftersales_scheduler.filing import CONTACTS, MARKERS, TIMERS, Doc
from aftersales_scheduler.settings import SchedulerSettings
from aftersales_scheduler.timeline import TimeLine, insert_all

OLD_DAY_PREFIX = "due_"
OLD_CLOSING = "closing_days"
MARKER_PREFIXES = ("claim/", "sent/", "cancel/")


@dataclass
class Report:
    collections: int = 0
    entries: int = 0
    markers: int = 0
    slimmed: int = 0


def old_day_collections(names: list[str]) -> list[str]:
    return sorted(n for n in names if n.startswith(OLD_DAY_PREFIX) and n[4:].isdigit())


async def migrate(
    db: AsyncDatabase[Doc], dry_run: bool = False, say: Callable[[str], None] = print
) -> Report:
    timeline = TimeLine(db)
    names = old_day_collections(await db.list_collection_names())
    report = Report(collections=len(names))
    started = time.perf_counter()
    say(f"{len(names)} day collections to move")
    for done, name in enumerate(names, start=1):
        docs = await db[name].find({}).to_list(None)
        entries = [
            {k: v for k, v in d.items() if k not in ("_id", "home")}
            for d in docs
            if d["_id"].startswith("entry/")
        ]
        markers = [d for d in docs if d["_id"].startswith(MARKER_PREFIXES)]
        report.entries += len(entries)
        report.markers += len(markers)
        if dry_run:
            continue
        if filing.migrated_id(name) not in await timeline.marked([filing.migrated_id(name)]):
            await insert_all(db, MARKERS, markers)
            await timeline.load(entries)
            await timeline.mark(filing.migrated_id(name), entries=len(entries))
        await db.drop_collection(name)
        if done % 50 == 0 or done == len(names):
            say(
                f"  {done}/{len(names)} collections, {report.entries:,} entries, "
                f"{report.markers:,} markers moved ({time.perf_counter() - started:.0f} s)"
            )
    if not dry_run:
        await timeline.finish_load()
    if not dry_run and OLD_CLOSING in await db.list_collection_names():
        for closing in await db[OLD_CLOSING].find({}).to_list(None):
            day = date.fromisoformat(closing["_id"])
            await timeline.mark(filing.closing_day_id(day))
        await db.drop_collection(OLD_CLOSING)
    report.slimmed = await slim_timers(db, dry_run, say)
    verb = "would move" if dry_run else "moved"
    say(
        f"migrate: {verb} {report.collections} day collections "
        f"({report.entries:,} entries, {report.markers:,} markers), "
        f"{'would slim' if dry_run else 'slimmed'} {report.slimmed:,} timers; "
        f"{len(await db.list_collection_names())} collections now"
    )
    return report


async def slim_timers(
    db: AsyncDatabase[Doc], dry_run: bool, say: Callable[[str], None], chunk: int = 2000
) -> int:
    """Timers stored with their own copy of the contact data: the copy goes into `contacts`
    (once per work order revision), the timer names it. One scan finds them (a migration, not
    a hot path); they are then read and written by `_id`, in chunks."""
    stale = {"customer": {"$exists": True}}
    if dry_run:
        return await db[TIMERS].count_documents(stale)
    ids = [doc["_id"] async for doc in db[TIMERS].find(stale, {"_id": 1})]
    for start in range(0, len(ids), chunk):
        timers = list((await find_by_ids(db, TIMERS, ids[start : start + chunk])).values())
        contacts = {legacy_contact_id(t): t for t in timers if "customer" in t}
        await insert_all(
            db,
            CONTACTS,
            [
                filing.stored_contact({"_id": cid, **{f: t.get(f) for f in filing.CONTACT_FIELDS}})
                for cid, t in contacts.items()
            ],
        )
        updates = [
            UpdateOne(
                {"_id": t["_id"]},
                {
                    "$set": {"contact_id": legacy_contact_id(t)},
                    "$unset": dict.fromkeys(filing.CONTACT_FIELDS, ""),
                },
            )
            for t in timers
            if "customer" in t
        ]
        if updates:
            await db[TIMERS].bulk_write(updates, ordered=False)
        say(f"  {min(start + chunk, len(ids)):,}/{len(ids):,} timers slimmed")
    return len(ids)


def legacy_contact_id(timer: Doc) -> str:
    """A stored timer's own copy was its source's at its revision, or a D30 correction's
    (`file_revision`): timers of one source that differ never share an id."""
    return filing.contact_id(
        timer["dealer_id"],
        timer["source_id"],
        timer.get("revision", 1),
        timer.get("file_revision", 0),
    )


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aftersales_scheduler.migrate")
    parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)
    settings = SchedulerSettings()
    client = connect(settings.mongodb_url, "scheduler-migrate")
    try:
        await migrate(client[settings.mongodb_database], dry_run=args.dry_run)
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
