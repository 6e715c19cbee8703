"""How timers are filed: the one place that spells the scheduler's storage layout.

Pure (no database): ids and document shapes, used by the store, the dispatcher, the migration,
the benchmark and the loaders alike. A fixed, small set of collections whatever the dates:

- `timers`: one document per planned contact, `_id` = f"{dealer}/{source}/{step}" (domain.slots).
  It records `filed_key`, the entry its current attempt and version is filed under. Stored
  packed, like `contacts` (`stored_timer`, `read_packed`).
- `people`: `customer/{dealer}/{id}` and `vehicle/{dealer}/{vin}` (timer ids, opt-out, visits).
  `timer_ids` lists the timers the file links; `settled_timer_ids` those of them no decision
  needs any more (`domain.timer.is_settled`), so the planner reads and weighs only the others
  (`live_timer_ids`): a returning customer costs what their open contacts cost, not their
  years of visits. Both grow by `$addToSet`: a file is written by several use cases at once
  (MongoDB refuses a `$pull` and an `$addToSet` of one field in one update). Once a file names
  more than ARCHIVE_AFTER settled timers, they move to its archive (`archive_sequence`, in
  `due`) and a second update `$pullAll`s them from both lists (`archive_of`), and a vehicle's
  visits but its first and last with them (`visits_between`): a file stays the size of its
  open contacts and its last visits, whatever the years. The decision trail reads the file's
  ids and its archive (`linked_timer_ids`).
  Before issue 19's buckets it also held the birthday index as one growing document per day,
  `birthdays/{dealer}/{MM-DD}`: still read, never written.
- `contacts`: the contact data (CONTACT_FIELDS: customer, vehicle, service advisor, technicians,
  sales consultant) of one revision of a timer's source (work order, delivery, ticket, vehicle
  file), once: `contact/{dealer}/{source}/{revision}`, inserted once, never changed (D10 care
  contacts name the one of the work order or delivery that planned them). A vehicle file
  corrected on a call (D30) is a new document, `…/{revision}/file-{file revision}`, which
  the vehicle's pending timers then name. Timers and entries name it by `contact_id`; the
  dispatcher reads it by `_id` when the entry fires. What stays per timer and entry: purposes,
  channel, due time and the timeliness window (`timely_until`, D6/D8).
- `due`: the time line, as *documents* addressed by `_id`, never one collection per date:
  - a slot is 30 minutes of UTC time (`2026-11-23T12:30`); its entries are kept in buckets
    `slot/{slot}/{n}` (n = 0, 1, … contiguous, each up to BUCKET_SIZE entries, immutable);
  - a day's index `day/{YYYY-MM-DD}/{n}` lists the slots of that day that hold entries, so a
    tick never looks at an empty slot;
  - the birthday index: `birthdays/{dealer}/{MM-DD}/{n}` lists customers born on that day,
    which the daily care job reads for the days that passed instead of scanning every
    customer (a customer is added when their file gains or changes its birthday);
  - a people file's archive: `linked/{person key}/{n}`, the settled timers moved out of it;
  - each such sequence has a hint `…/next` (the next free n, a lower bound: readers probe on).
  Buckets are only ever inserted, and an insert colliding on `_id` is atomic: two writers never
  lose each other's entries (FerretDB v1 updates are not atomic against a concurrent writer).
  A bucket's items are stored packed (`item_document`, `bucket_items`).
- `markers`: `claim/{timer}/{attempt}`, `sent/{timer}/{attempt}`, `cancel/{entry key}`,
  `planning/{event id}`.
- `marks`: `first_day`, `watermark` (first day not yet settled), `closing/{day}` and
  `closing/{slot}` (the dispatcher has started its final read: late entries go elsewhere),
  `settled/{slot}` (every entry of the slot fired or was cancelled), `migrated/{collection}`.

An entry is immutable: everything ContactDue needs but the contact data, which it names, so the
dispatcher never reads `timers` (entries filed before issue 19's slimming carry the contact data
themselves: the dispatcher takes either).
A change to a pending timer (cancel, merge, correction, retry) puts a tombstone on its entry
and, if it stays pending, files a new version.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from aftersales_runtime.packing import pack_document, pack_fields, unpack_document, unpack_fields

Doc = dict[str, Any]

TIMERS = "timers"
PEOPLE = "people"
DUE = "due"
MARKERS = "markers"
MARKS = "marks"
JOBS = "job_runs"
DUE_LISTS = "monthly_due_lists"
CONTACTS = "contacts"
#: Every collection the scheduler keeps: a fixed set, whatever the dates and the history.
COLLECTIONS = (TIMERS, PEOPLE, CONTACTS, DUE, MARKERS, MARKS, JOBS, DUE_LISTS)
#: The contact data a ContactDue carries, kept once per revision in `contacts`.
CONTACT_FIELDS = ("customer", "vehicle", "service_advisor", "technicians", "sales_consultant")

SLOT = timedelta(minutes=30)  # a tick re-reads only what it has not seen; see dispatcher
BUCKET_SIZE = 200  # entries per bucket document (~1 KB each)


# --- time line -------------------------------------------------------------------------------
def slot_of(at: datetime) -> str:
    at = at.astimezone(UTC)
    minute = at.minute - at.minute % (SLOT.seconds // 60)
    return f"{at:%Y-%m-%dT%H}:{minute:02d}"


def slot_start(slot: str) -> datetime:
    return datetime.fromisoformat(slot).replace(tzinfo=UTC)


def slot_end(slot: str) -> datetime:
    return slot_start(slot) + SLOT


def day_of(slot: str) -> date:
    return date.fromisoformat(slot[:10])


def next_slot(slot: str) -> str:
    return slot_of(slot_end(slot))


def slot_sequence(slot: str) -> str:
    return f"slot/{slot}"


def day_sequence(day: date) -> str:
    return f"day/{day.isoformat()}"


def item_id(sequence: str, n: int) -> str:
    return f"{sequence}/{n}"


def hint_id(sequence: str) -> str:
    return f"{sequence}/next"


def item_document(sequence: str, n: int, items: list[Any]) -> Doc:
    """A bucket as inserted: its items in one BSON binary (`pack_document`). Buckets are never
    updated and read by `_id` only, and FerretDB's cost of inserting and reading one follows
    its number of values: a slot's entries had ~15 each."""
    return pack_document({"_id": item_id(sequence, n), "items": items})


def bucket_items(doc: Doc) -> list[Any]:
    """A stored bucket's items (buckets inserted before they were packed are read as they are)."""
    items: list[Any] = unpack_document(doc)["items"]
    return items


def chunks(items: list[Any], size: int = BUCKET_SIZE) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


# --- entries and markers -----------------------------------------------------------------------
def entry_key(timer_id: str, attempt: int, version: int) -> str:
    return f"{timer_id}/{attempt}/{version}"


def filing_key(timer: Doc) -> str:
    """What a timer's current entry is filed under: its attempt and version."""
    return entry_key(timer["_id"], timer["attempt"], timer.get("version", 1))


def contact_id(dealer_id: str, source_id: str, revision: int, file_revision: int = 0) -> str:
    """The contact data of a timer's source (work order, delivery, ticket …) at its revision;
    D30: a vehicle file corrected on a call gives the source's pending timers a new one."""
    base = f"contact/{dealer_id}/{source_id}/{revision}"
    return f"{base}/file-{file_revision}" if file_revision else base


def entry_for(timer: Doc) -> Doc:
    """The immutable entry the dispatcher fires: everything ContactDue needs, the contact data
    by reference (a timer stored before the slimming still carries it: it is copied)."""
    if "contact_id" in timer:
        contact: Doc = {"contact_id": timer["contact_id"]}
    else:
        contact = {field: timer.get(field) for field in CONTACT_FIELDS}
        contact["technicians"] = contact["technicians"] or []
    return {
        "key": filing_key(timer),
        "timer_id": timer["_id"],
        "attempt": timer["attempt"],
        "version": timer.get("version", 1),
        "due_at": timer["due_at"],
        "payload": {
            "dealer_id": timer["dealer_id"],
            "correlation_id": timer["correlation_id"],
            "causation_id": timer.get("causation_id"),
            "purposes": timer["purposes"],
            "channel": timer["channel"],
            "work_order_id": timer.get("work_order_id"),
            **contact,
            "timely_until": timer.get("timely_until"),
        },
    }


def claim_id(timer_id: str, attempt: int) -> str:
    return f"claim/{timer_id}/{attempt}"


def sent_id(timer_id: str, attempt: int) -> str:
    return f"sent/{timer_id}/{attempt}"


def cancel_id(key: str) -> str:
    return f"cancel/{key}"


def planning_id(event_id: str) -> str:
    """Written first when a batch that plans this event is applied: without it, none of the
    timers the event plans can exist (see planning.ports.Changes)."""
    return f"planning/{event_id}"


def claim_document(timer_id: str, attempt: int, owner: str, now: datetime) -> Doc:
    return {"_id": claim_id(timer_id, attempt), "owner": owner, "claimed_at": now}


def sent_document(timer_id: str, attempt: int, event_id: str, now: datetime) -> Doc:
    return {"_id": sent_id(timer_id, attempt), "event_id": event_id, "sent_at": now}


# --- timers and contact data -------------------------------------------------------------------
#: Timers and contact data are only ever read by `_id`: each is stored packed, its fields as
#: inserted in one BSON binary (FerretDB's cost of a document follows its number of values: a
#: timer had 21, 1.4 KB of FerretDB's JSON, and timers were most of a history's bytes). A
#: timer's updates `$set` fields at the top level and `$push` to its `trail`, which stays there.
TIMER_TOP_LEVEL = ("trail",)


def stored_timer(timer: Doc) -> Doc:
    return pack_document(timer, TIMER_TOP_LEVEL)


def stored_contact(contact: Doc) -> Doc:
    return pack_document(contact)


def read_packed(doc: Doc) -> Doc:
    """A stored timer or contact data as its readers see it (packed or not)."""
    return unpack_document(doc)


# --- people ------------------------------------------------------------------------------------
#: A person's nested fields, each stored as one JSON text: FerretDB's cost of reading and writing
#: a document follows the number of values in it, and these held most of a returning customer's
#: and vehicle's (issue 19). They are always written whole (`$set`) and never queried (the
#: periodic jobs query scalars); documents stored before keep them nested until rewritten.
PACKED_PERSON_FIELDS = ("care_subject", "contact_data")
LINKED = "timer_ids"
SETTLED = "settled_timer_ids"
#: Settled timers a file names at most before they move to its archive: about two visits'
#: (a work order links 5 to 7 timers and settles as many of the visit before).
ARCHIVE_AFTER = 16


def live_timer_ids(person: Doc) -> list[str]:
    """The timers a person's file links that a decision may still need: all but the settled
    (a file written before `settled_timer_ids` existed: all of them)."""
    settled = set(person.get(SETTLED, ()))
    return [t for t in person.get(LINKED, []) if t not in settled]


def archive_of(person: Doc) -> list[str]:
    """The settled timers to move out of a file (as it will be once written): none until it
    names more than ARCHIVE_AFTER; then all of them that it still links."""
    linked = set(person.get(LINKED, ()))
    settled = [t for t in person.get(SETTLED, ()) if t in linked]
    return settled if len(settled) > ARCHIVE_AFTER else []


def visits_between(person: Doc) -> list[Doc]:
    """A vehicle's visits but its first and its last, which D9's km per day alone reads
    (`domain.reminders`): dropped when the file archives, so they do not grow with the years."""
    ordered = sorted(person.get("visits", []), key=lambda v: (v["day"], v["km"]))
    return ordered[1:-1]


def archive_sequence(key: str) -> str:
    """A people file's archive: the timers it linked that settled and were moved out."""
    return f"linked/{key}"


def linked_timer_ids(person: Doc, archived: list[str]) -> list[str]:
    """Every timer a file ever linked (the decision trail's view): its archive's, then its own."""
    return list(dict.fromkeys([*archived, *person.get(LINKED, [])]))


def stored_person(fields: Doc) -> Doc:
    """A person's document, or the fields of an update, as stored (nested fields packed)."""
    return pack_fields(fields, PACKED_PERSON_FIELDS)


def read_person(doc: Doc) -> Doc:
    """A stored person as the planner sees it (packed or not)."""
    return unpack_fields(doc, PACKED_PERSON_FIELDS)


def birthday_sequence(dealer_id: str, month_day: str) -> str:
    """The customers of a dealer born on a month and day (`MM-DD`): a sequence in `due` (and
    the `_id` of the one document per day that `people` held before)."""
    return f"birthdays/{dealer_id}/{month_day}"


def month_days_passed(day: date) -> list[str]:
    """The birthdays (`MM-DD`) whose anniversary is over once `day` has passed: its own, and
    29 February's on 28 February of a year without one (D10 celebrates it that day)."""
    passed = [f"{day:%m-%d}"]
    if (day.month, day.day) == (2, 28) and (day + timedelta(days=1)).day != 29:
        passed.append("02-29")
    return passed


# --- marks ---------------------------------------------------------------------------------------
FIRST_DAY = "first_day"
WATERMARK = "watermark"


def closing_day_id(day: date) -> str:
    return f"closing/{day.isoformat()}"


def closing_slot_id(slot: str) -> str:
    return f"closing/{slot}"


def settled_id(slot: str) -> str:
    return f"settled/{slot}"


def migrated_id(collection: str) -> str:
    return f"migrated/{collection}"
