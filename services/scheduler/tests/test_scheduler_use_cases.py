"""The planning use cases against an in-memory store (no broker, no database): batches, the
timer lifecycle, and a half-applied batch delivered again."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aftersales_contracts import (
    CallOutcome,
    Channel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ConfirmationRequest,
    ContactDue,
    ContactPurpose,
    ContactResult,
    Customer,
    Staff,
    Vehicle,
    VehicleFileCorrected,
    WorkOrderClosed,
    WorkOrderType,
    correlation_id_for,
    deterministic_id,
)
from aftersales_runtime.clock import Clock, FixedClock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_scheduler import filing
from aftersales_scheduler.dispatcher import contact_due_event
from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.plan import OtherContact
from aftersales_scheduler.domain.policy import PolicyBook
from aftersales_scheduler.planning.apply_corrections import apply_corrections
from aftersales_scheduler.planning.contacts import Subject, customer_key
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.plan_confirmations import plan_confirmations
from aftersales_scheduler.planning.plan_work_orders import plan_work_orders
from aftersales_scheduler.planning.plan_yearly_care import Birthday, plan_birthdays
from aftersales_scheduler.planning.ports import Changes
from aftersales_scheduler.planning.record_results import record_results
from aftersales_scheduler.planning.working_set import WorkingSet

Doc = dict[str, Any]
DEALER = "dealer-sz-001"
SETTLED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
STEPS = (
    "started",
    "contacts",
    "tombstones",
    "entries",
    "new_timers",
    "timer_updates",
    "birthdays",
    "people",
    "archived",
)


class Crash(Exception):
    pass


class FakeStore:
    """The `PlanningStore` protocol in memory; `crash_after` cuts `apply` short after that many
    of its steps, as a process killed in the middle of writing a batch."""

    def __init__(self) -> None:
        self.timers: dict[str, Doc] = {}
        self.people: dict[str, Doc] = {}
        self.sent: set[tuple[str, int]] = set()
        self.entries: list[Doc] = []
        self.tombstones: set[str] = set()
        self.started: set[str] = set()
        self.contact_data: dict[str, Doc] = {}
        self.birthday_index: dict[str, list[str]] = {}  # sequence -> keys, in order appended
        self.archives: dict[str, list[str]] = {}  # person key -> timer ids moved out
        self.timers_asked: set[str] = set()
        self.calls = 0
        self.crash_after: int | None = None

    async def find_timers(self, timer_ids: Collection[str]) -> dict[str, Doc]:
        self.calls += 1
        self.timers_asked |= set(timer_ids)
        return {i: copy.deepcopy(self.timers[i]) for i in timer_ids if i in self.timers}

    async def find_people(self, keys: Collection[str]) -> dict[str, Doc]:
        self.calls += 1
        return {k: copy.deepcopy(self.people[k]) for k in keys if k in self.people}

    async def find_sent(self, attempts: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
        self.calls += 1
        return {a for a in attempts if a in self.sent}

    async def find_started(self, event_ids: Collection[str]) -> set[str]:
        self.calls += 1
        return self.started & set(event_ids)

    async def contacts(self, contact_ids: Collection[str]) -> dict[str, Doc]:
        self.calls += 1
        return {
            i: copy.deepcopy(self.contact_data[i]) for i in contact_ids if i in self.contact_data
        }

    async def apply(self, changes: Changes, now: datetime) -> None:
        self.calls += 1
        changes = copy.deepcopy(changes)
        for done, step in enumerate(STEPS):
            if self.crash_after is not None and done >= self.crash_after:
                raise Crash(step)
            getattr(self, f"_apply_{step}")(changes)

    def _apply_started(self, changes: Changes) -> None:
        self.started |= set(changes.started)

    def _apply_contacts(self, changes: Changes) -> None:
        for cid, doc in changes.contacts.items():
            self.contact_data.setdefault(cid, doc)  # insert-once

    def _apply_tombstones(self, changes: Changes) -> None:
        self.tombstones |= set(changes.tombstones)

    def _apply_entries(self, changes: Changes) -> None:
        self.entries += changes.entries

    def _apply_new_timers(self, changes: Changes) -> None:
        for tid, doc in changes.new_timers.items():
            self.timers.setdefault(tid, doc)  # insert-once

    def _apply_timer_updates(self, changes: Changes) -> None:
        for tid, update in changes.timer_updates.items():
            self.timers[tid].update(update.set)
            self.timers[tid]["trail"] = [*self.timers[tid].get("trail", []), *update.trail]

    def _apply_birthdays(self, changes: Changes) -> None:
        for sequence, keys in changes.birthdays.items():
            self.birthday_index.setdefault(sequence, []).extend(keys)  # appended, never updated

    def indexed(self) -> dict[str, set[str]]:
        return {sequence: set(keys) for sequence, keys in self.birthday_index.items()}

    def _apply_people(self, changes: Changes) -> None:
        for key, update in changes.people.items():
            person = self.people.setdefault(key, {"_id": key})
            person.update(update.set)
            for field, values in update.add.items():
                person[field] = [
                    *person.get(field, []),
                    *(v for v in values if v not in person.get(field, [])),
                ]

    def _apply_archived(self, changes: Changes) -> None:
        for key, archive in changes.archived.items():
            self.archives.setdefault(key, []).extend(archive.timer_ids)  # appended, then pulled
            person = self.people[key]
            for field, pulled in (
                (filing.LINKED, archive.timer_ids),
                (filing.SETTLED, archive.timer_ids),
                ("visits", archive.visits),
            ):
                person[field] = [v for v in person.get(field, []) if v not in pulled]

    def live_contacts(self) -> set[str]:
        """What the dispatcher would publish: one ContactDue per live (timer, attempt)."""
        live = [e for e in self.entries if e["key"] not in self.tombstones]
        return {contact_due_event(e, self.contact_data).model_dump_json() for e in live}


def context(clock: Clock) -> PlanningContext:
    directory = DealerDirectory.from_mapping({"dealers": {DEALER: {"time_zone": "Asia/Shanghai"}}})
    return PlanningContext(PolicyBook.build([]), directory, clock)


def work_order(
    number: int, customer: str, settled_at: datetime = SETTLED, **extra: Any
) -> WorkOrderClosed:
    work_order_id = f"WO-{number:04d}"
    return WorkOrderClosed(
        event_id=deterministic_id("wo", work_order_id),
        occurred_at=settled_at,
        dealer_id=DEALER,
        correlation_id=correlation_id_for(DEALER, work_order_id),
        work_order_id=work_order_id,
        work_order_type=WorkOrderType.MAINTENANCE,
        revision=extra.pop("revision", 1),
        opened_at=settled_at - timedelta(hours=2),
        settled_at=settled_at,
        vehicle=Vehicle(
            vin=f"LSVAU218XN{int(customer[2:]):07d}",
            brand="大众",
            model="帕萨特",
            mileage_km=1000 * number,
        ),
        customer=Customer(
            customer_id=customer,
            name="张伟",
            phone="+8613800138000",
            is_owner=True,
            contact_consent=extra.pop("contact_consent", True),
            birthday=date(1985, 12, 1),
        ),
        service_advisor=Staff(id="SA-007", name="王芳"),
        total_amount=580,
        next_maintenance_due_date=date(2027, 5, 20),
        **extra,
    )


def batch() -> list[WorkOrderClosed]:
    """Ten work orders; customer C-1 has three, one settled a day after another (D13 merges,
    a visit cancelling reminders)."""
    orders = [work_order(n, f"C-{n}") for n in range(1, 8)]
    orders += [
        work_order(8, "C-1", SETTLED + timedelta(hours=1)),
        work_order(9, "C-1", SETTLED + timedelta(days=4)),
        work_order(10, "C-2", SETTLED + timedelta(days=1), contact_consent=False),
    ]
    return orders


async def test_a_batch_of_work_orders_costs_a_few_store_calls_whatever_its_size():
    store = FakeStore()
    await plan_work_orders(context(FixedClock(SETTLED + timedelta(days=5))), store, batch())

    assert store.calls <= 5  # started?, people, the timers they link, sent?; one apply
    assert len(store.timers) >= 10 * 3
    states = {t["_id"]: t["state"] for t in store.timers.values()}
    assert states[f"{DEALER}/WO-0002/call_day3"] == "cancelled"  # C-2 withdrew consent (D4)
    assert "merged" in states.values()  # C-1's contacts of one window (D13)
    # WO-0009 is a visit: the lapsed recall of WO-0001 is pointless now (D11).
    assert states[f"{DEALER}/WO-0001/lapsed_recall"] == "cancelled"


class RoundTrips(FakeStore):
    """A `FakeStore` that groups its reads by round trip: the reads in flight together (a
    batch waits for them once) share one."""

    def __init__(self) -> None:
        super().__init__()
        self.trips: list[set[str]] = []
        self._in_flight = 0

    async def _trip(self, name: str, answer: Any) -> Any:
        if not self._in_flight:
            self.trips.append(set())
        self.trips[-1].add(name)
        self._in_flight += 1
        await asyncio.sleep(0)  # the others of its wave start meanwhile
        self._in_flight -= 1
        return answer

    async def find_timers(self, timer_ids: Collection[str]) -> dict[str, Doc]:
        return await self._trip("timers", await super().find_timers(timer_ids))

    async def find_people(self, keys: Collection[str]) -> dict[str, Doc]:
        return await self._trip("people", await super().find_people(keys))

    async def find_sent(self, attempts: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
        return await self._trip("sent", await super().find_sent(attempts))

    async def find_started(self, event_ids: Collection[str]) -> set[str]:
        return await self._trip("started", await super().find_started(event_ids))


async def test_a_batch_reads_in_three_round_trips_the_started_marks_with_the_people():
    """Which events were started, with the people; then, in one read, the timers the people
    link and those of the started events (that these are read at all:
    `test_only_an_event_applied_before_reads_the_timers_it_plans`); then which went out."""
    store = RoundTrips()
    ctx = context(FixedClock(SETTLED + timedelta(days=5)))
    await plan_work_orders(ctx, store, batch())
    store.trips.clear()

    # Delivered again (started: its own timers are read too) with a returning customer's visit.
    visit = work_order(11, "C-3", SETTLED + timedelta(days=5))
    await plan_work_orders(ctx, store, [*batch(), visit])

    assert store.trips == [{"started", "people"}, {"timers"}, {"sent"}]


@pytest.mark.parametrize("crash_after", range(1, len(STEPS)))
async def test_a_half_applied_batch_delivered_again_gives_exactly_the_same_state(crash_after):
    clock = FixedClock(SETTLED + timedelta(days=5))
    clean, crashed = FakeStore(), FakeStore()
    await plan_work_orders(context(clock), clean, batch())

    crashed.crash_after = crash_after
    with pytest.raises(Crash):
        await plan_work_orders(context(clock), crashed, batch())
    crashed.crash_after = None
    await plan_work_orders(context(clock), crashed, batch())  # Kafka delivers the batch again

    assert crashed.timers == clean.timers
    assert crashed.people == clean.people
    assert crashed.live_contacts() == clean.live_contacts()
    assert crashed.indexed() == clean.indexed()  # perhaps a key twice: the reader drops it


async def test_a_customer_is_indexed_under_a_birthday_new_to_their_file_only():
    """D10's index names each customer under their birthday: a returning customer with the
    same birthday adds nothing (a write per visit made a big dealer's day documents grow and
    every visit pay for them); a changed birthday is indexed under its day too."""
    store = FakeStore()
    ctx = context(FixedClock(SETTLED + timedelta(days=5)))
    await plan_work_orders(ctx, store, batch())  # C-1 three times in one batch
    assert store.birthday_index == {
        f"birthdays/{DEALER}/12-01": [customer_key(DEALER, f"C-{n}") for n in range(1, 8)]
    }

    await plan_work_orders(ctx, store, [work_order(11, "C-1"), work_order(12, "C-3")])
    assert len(store.birthday_index[f"birthdays/{DEALER}/12-01"]) == 7

    later = work_order(13, "C-1")
    corrected = later.customer.model_copy(update={"birthday": date(1985, 12, 2)})
    await plan_work_orders(ctx, store, [later.model_copy(update={"customer": corrected})])
    assert store.birthday_index[f"birthdays/{DEALER}/12-02"] == [customer_key(DEALER, "C-1")]


async def test_only_an_event_applied_before_reads_the_timers_it_plans():
    clock = FixedClock(SETTLED + timedelta(days=5))
    store = FakeStore()
    store.crash_after = STEPS.index("new_timers") + 1  # stored, not yet linked to anyone
    with pytest.raises(Crash):
        await plan_work_orders(context(clock), store, [work_order(1, "C-1")])
    assert store.timers_asked == set()  # a new event: nothing of it can exist
    store.crash_after = None

    await plan_work_orders(context(clock), store, [work_order(1, "C-1")])

    assert f"{DEALER}/WO-0001/call_day3" in store.timers_asked  # its own, unlinked timers
    # All of them: the care occasions' (D10: a birthday) are named without dating them.
    assert any("/customer-C-1/birthday_" in tid for tid in store.timers)
    assert set(store.timers) <= store.timers_asked
    assert all(
        t["_id"] in store.people[f"customer/{DEALER}/C-1"]["timer_ids"]
        for t in store.timers.values()
    )


async def comes_back(store: FakeStore, visits: int, files_unsettled: bool = False) -> datetime:
    """C-1 brings the car in every 20 days (`visit`). Returns the time of the last visit."""
    for number in range(1, visits + 1):
        at = await visit(store, number, files_unsettled)
    return at


async def visit(store: FakeStore, number: int, files_unsettled: bool = False) -> datetime:
    """C-1's visit `number` (1-based), 20 days after the one before; the contacts due before it
    were made (as results leave them). `files_unsettled`: the batch finds the files as written
    before they named settled timers. Returns the time of the visit."""
    at = SETTLED + timedelta(days=20 * (number - 1))
    for timer in store.timers.values():
        if timer["state"] == "pending" and timer["due_at"] < at:
            timer["state"] = "done"
    if files_unsettled:
        for person in store.people.values():
            person.pop("settled_timer_ids", None)
    clock = FixedClock(at + timedelta(hours=1))
    await plan_work_orders(context(clock), store, [work_order(number, "C-1", at)])
    return at


async def test_a_returning_customer_neither_reads_nor_weighs_contacts_long_settled():
    """A file names the timers no decision needs any more (finished, and never a contact or
    one made more than COUNTS_FOR ago), so a returning customer's work order reads and weighs
    their open contacts, not their years of visits — and decides exactly as before."""
    store, unsettled = FakeStore(), FakeStore()
    last = await comes_back(store, 6)
    await comes_back(unsettled, 6, files_unsettled=True)

    assert {i: t["state"] for i, t in store.timers.items()} == {
        i: t["state"] for i, t in unsettled.timers.items()
    }
    assert store.live_contacts() == unsettled.live_contacts()
    key = customer_key(DEALER, "C-1")
    settled = set(store.people[key]["settled_timer_ids"]) | set(store.archives.get(key, []))
    first_visit = {t for t in store.timers if t.startswith(f"{DEALER}/WO-0001/")}
    assert first_visit <= settled  # made 100 days ago, or withdrawn by a later visit
    for tid in settled:
        timer = store.timers[tid]
        assert timer["state"] != "pending"
        counted_until = timer["due_at"] + lifecycle.COUNTS_FOR
        assert timer["state"] not in lifecycle.LIVE or counted_until <= last

    store.timers_asked.clear()
    clock = FixedClock(last + timedelta(days=20))
    await plan_work_orders(context(clock), store, [work_order(7, "C-1", clock.now())])
    assert store.timers_asked, "the open contacts are read"
    assert not store.timers_asked & settled


async def test_a_file_of_many_visits_keeps_its_open_contacts_and_archives_the_settled():
    """A file names at most ARCHIVE_AFTER settled timers: past that they move to its archive,
    so its size follows its open contacts and last visits, not its years; the archive and the
    file together name every timer it ever linked, once."""
    store = FakeStore()
    key = customer_key(DEALER, "C-1")
    for number in range(1, 16):
        await visit(store, number)
        person = store.people[key]
        assert len(person.get(filing.SETTLED, [])) <= filing.ARCHIVE_AFTER
        live = filing.live_timer_ids(person)
        assert len(person[filing.LINKED]) == len(live) + len(person.get(filing.SETTLED, []))
        archived = store.archives.get(key, [])
        assert not set(archived) & set(live)
        assert all(not lifecycle.is_pending(store.timers[t]) for t in archived)
    linked = filing.linked_timer_ids(person, archived)
    assert sorted(linked) == sorted(store.timers)  # C-1's every timer, each once
    assert len(person[filing.LINKED]) < len(linked) / 3  # 15 visits: most of them moved out
    vehicle = store.people[f"vehicle/{DEALER}/LSVAU218XN0000001"]
    days = sorted(v["day"] for v in vehicle["visits"])
    assert days[0] == SETTLED.date().isoformat()  # D9's km per day: the first and the last
    assert days[-1] == (SETTLED + timedelta(days=20 * 14)).date().isoformat()
    assert len(days) < 15 / 2


async def test_a_visit_cut_short_before_it_archived_archives_when_delivered_again():
    clean, crashed = FakeStore(), FakeStore()
    for number in range(1, 16):  # the first visit that archives (the fifth or so)
        await visit(clean, number)
        if clean.archives:
            break
        await visit(crashed, number)
    assert clean.archives, "no visit archived"
    crashed.crash_after = STEPS.index("archived")  # the files written, not yet archived
    with pytest.raises(Crash):
        await visit(crashed, number)
    crashed.crash_after = None
    await visit(crashed, number)  # Kafka delivers the batch again

    assert crashed.archives == clean.archives
    assert crashed.people == clean.people
    assert crashed.timers == clean.timers


async def test_a_redelivered_batch_changes_nothing():
    clock = FixedClock(SETTLED + timedelta(days=5))
    store = FakeStore()
    await plan_work_orders(context(clock), store, batch())
    before = copy.deepcopy((store.timers, store.people, store.live_contacts()))

    await plan_work_orders(context(clock), store, batch())

    assert (store.timers, store.people, store.live_contacts()) == before


class TickingClock:
    """A clock a second later at each reading: time passing while a batch is planned."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        at, self.at = self.at, self.at + timedelta(seconds=1)
        return at


async def test_a_batch_decides_at_one_moment_while_the_dealer_s_day_turns():
    """A batch is planned at its one `now`: a clock that passes the dealer's midnight while it
    plans (C-1's birthday, 1 December, ends two seconds in) plans what the batch's moment
    does, e.g. the birthday it reads the timers of, not next year's."""
    start = datetime(2026, 12, 1, 15, 59, 58, tzinfo=UTC)  # 23:59:58 in Shanghai
    still, ticking = FakeStore(), FakeStore()
    await plan_work_orders(context(FixedClock(start)), still, [work_order(1, "C-1")])
    await plan_work_orders(context(TickingClock(start)), ticking, [work_order(1, "C-1")])

    assert f"{DEALER}/customer-C-1/birthday_2026" in still.timers
    assert ticking.timers == still.timers
    assert ticking.live_contacts() == still.live_contacts()


async def test_results_retry_close_and_opt_out_in_one_batch():
    clock = FixedClock(SETTLED + timedelta(days=3))
    store = FakeStore()
    ctx = context(clock)
    await plan_work_orders(ctx, store, [work_order(1, "C-1"), work_order(2, "C-2")])
    call1, call2 = f"{DEALER}/WO-0001/call_day3", f"{DEALER}/WO-0002/call_day3"

    def result(contact_id: str, outcome: CallOutcome) -> ContactResult:
        timer = store.timers[contact_id]
        return ContactResult(
            event_id=deterministic_id("result", contact_id, outcome.value),
            occurred_at=clock.now(),
            dealer_id=DEALER,
            correlation_id=timer["correlation_id"],
            contact_id=contact_id,
            task_id=f"task-{contact_id}",
            agent_id="agent-1",
            channel=Channel.PHONE,
            purposes=[ContactPurpose.SERVICE_CALL_DAY3],
            attempt=1,
            outcome=outcome,
            contacted_at=clock.now(),
            vin=timer["vin"],
            customer_id=timer["customer_id"],
        )

    results = [result(call1, CallOutcome.NO_ANSWER), result(call2, CallOutcome.OPTED_OUT)]
    await record_results(ctx, store, results, logging.getLogger("test"))
    await record_results(ctx, store, results, logging.getLogger("test"))  # redelivered

    retried = store.timers[call1]
    assert (retried["state"], retried["attempt"], retried["version"]) == ("pending", 2, 2)
    assert [t["event"] for t in retried["trail"]].count("retried") == 1  # D15, once
    assert store.timers[call2]["state"] == "done"
    others = [t for t in store.timers.values() if t["customer_id"] == "C-2" and t["_id"] != call2]
    states = {t["state"] for t in others}
    assert "cancelled" in states
    assert "pending" not in states  # D4: nothing pending is left


def test_transitions_apply_only_to_a_pending_timer_and_withdraw_what_they_replace():
    now = SETTLED
    timer = {"_id": "t", "state": "pending", "attempt": 1, "version": 1, "purposes": ["a"]}
    revised = lifecycle.add_purposes(timer, {"purposes": ["b"], "channel": "sms"}, "u", now)
    assert revised is not None
    assert (revised.changes, revised.withdraw, revised.refile) == (
        {"purposes": ["a", "b"], "version": 2},
        True,
        True,
    )
    # D6/D14: a day-3 call joining: the host becomes a call, timely by the call's window.
    call = {"purposes": ["b"], "channel": "phone", "timely_until": now}
    joined = lifecycle.add_purposes({**timer, "channel": "sms"}, call, "u", now)
    assert joined is not None
    assert joined.changes == {
        "purposes": ["a", "b"],
        "timely_until": now,
        "channel": "phone",
        "version": 2,
    }
    assert lifecycle.add_purposes(timer, {"purposes": ["a"]}, "u", now) is None  # nothing new
    assert lifecycle.close(timer, 2, "reached", now) is None  # a stale attempt's result
    done = {**timer, "state": lifecycle.TimerState.DONE}
    for transition in (
        lifecycle.cancel(done, now, "x"),
        lifecycle.merge_into(done, "u", now),
        lifecycle.retry(done, 1, now, "busy", now),
        lifecycle.give_up(done, 1, now),
    ):
        assert transition is None


async def test_the_contacts_d13_weighs_follow_every_change_of_their_timers_in_the_batch():
    store = FakeStore()
    await plan_work_orders(context(FixedClock(SETTLED)), store, [work_order(1, "C-1")])
    ws = WorkingSet(store, SETTLED)
    await ws.load(person_keys=[customer_key(DEALER, "C-1")])
    person = ws.person(customer_key(DEALER, "C-1"))
    tid = f"{DEALER}/WO-0001/call_day3"
    timer = ws.timer(tid)
    assert timer is not None

    def weighed() -> OtherContact:
        return next(o for o in ws.others_of(person) if o.timer_id == tid)

    assert weighed().pending
    assert weighed().purposes == (ContactPurpose.SERVICE_CALL_DAY3,)
    joining = {"purposes": [ContactPurpose.MAINTENANCE_REMINDER.value], "channel": "sms"}
    ws.apply(lifecycle.add_purposes(timer, joining, "merged", SETTLED))
    assert ContactPurpose.MAINTENANCE_REMINDER in weighed().purposes
    later = timer["due_at"] + timedelta(days=1)
    ws.apply(lifecycle.retry(timer, 1, later, "no answer", SETTLED))
    assert weighed().due_at == later
    ws.apply(lifecycle.close(timer, 2, "reached", SETTLED))
    assert not weighed().pending  # done: still counted by the cap (D13), no longer merged into


# --- slim timers meet the planning rules: D30 corrections, D22 confirmations --------------------
VIN1 = "LSVAU218XN0000001"  # work_order(1, "C-1")'s vehicle


def correction(revision: int, phone: str) -> VehicleFileCorrected:
    return VehicleFileCorrected(
        event_id=deterministic_id("vehicle.corrected", DEALER, VIN1, str(revision)),
        occurred_at=SETTLED,
        dealer_id=DEALER,
        correlation_id=correlation_id_for(DEALER, "WO-0001"),  # the call's chain
        vin=VIN1,
        file_revision=revision,
        corrected_at=SETTLED,
        corrected_by="agent-1",
        contact_id=f"{DEALER}/WO-0001/call_day3",
        changed=["phone"],
        customer=Customer(
            customer_id="C-1", name="张伟", phone=phone, is_owner=True, contact_consent=True
        ),
        vehicle=Vehicle(vin=VIN1, brand="大众", model="帕萨特"),
    )


def due_of(store: FakeStore) -> dict[str, ContactDue]:
    return {
        due.contact_id: due
        for due in (ContactDue.model_validate_json(j) for j in store.live_contacts())
    }


async def test_corrections_name_new_contact_data_and_the_next_contacts_dial_it():
    clock = FixedClock(SETTLED)
    store = FakeStore()
    await plan_work_orders(context(clock), store, [work_order(1, "C-1")])
    original = f"contact/{DEALER}/WO-0001/1"
    batch = [correction(2, "+8613900000002"), correction(3, "+8613900000003")]

    await apply_corrections(context(clock), store, batch)
    before = copy.deepcopy((store.timers, store.contact_data, store.live_contacts()))
    await apply_corrections(context(clock), store, batch)  # redelivered: nothing more

    assert (store.timers, store.contact_data, store.live_contacts()) == before
    pending = [t for t in store.timers.values() if t["state"] == "pending"]
    assert pending
    assert all("customer" not in t for t in store.timers.values())  # slim: named, not copied
    assert {t["contact_id"] for t in pending if t["source_id"] == "WO-0001"} == {
        f"{original}/file-3"
    }
    assert store.contact_data[original]["customer"]["phone"] == "+8613800138000"  # unchanged
    fired = due_of(store)
    assert fired[f"{DEALER}/WO-0001/call_day3"].customer.phone == "+8613900000003"
    assert fired[f"{DEALER}/WO-0001/call_day3"].service_advisor == Staff(id="SA-007", name="王芳")
    assert {due.customer.phone for due in fired.values()} == {"+8613900000003"}


async def test_next_years_birthday_dials_the_phone_of_the_latest_work_order():
    """D10: care contacts name the contact data of the work order that planned them, so the
    yearly scan, planning from the latest one kept, never names an earlier visit's phone."""
    store = FakeStore()
    await plan_work_orders(context(FixedClock(SETTLED)), store, [work_order(1, "C-1")])
    later = work_order(2, "C-1", SETTLED + timedelta(days=1))
    new_phone = later.customer.model_copy(update={"phone": "+8613900000009"})
    await plan_work_orders(
        context(FixedClock(SETTLED + timedelta(days=1))),
        store,
        [later.model_copy(update={"customer": new_phone})],
    )
    kept = store.people[customer_key(DEALER, "C-1")]
    after_birthday = FixedClock(datetime(2026, 12, 2, 2, tzinfo=UTC))
    birthday = Birthday(Subject.from_document(kept["care_subject"]), date(1985, 12, 1))
    await plan_birthdays(context(after_birthday), store, [birthday])

    fired = due_of(store)
    assert fired[f"{DEALER}/customer-C-1/birthday_2027"].customer.phone == "+8613900000009"
    assert fired[f"{DEALER}/customer-C-1/birthday_2026"].customer.phone == "+8613800138000"
    assert store.timers[f"{DEALER}/customer-C-1/birthday_2027"]["contact_id"] == (
        f"contact/{DEALER}/WO-0002/1"  # the work order's own: no copy of it per occasion
    )


async def test_a_confirmation_names_its_own_contact_data_from_the_corrected_file():
    clock = FixedClock(SETTLED)
    store = FakeStore()
    await plan_work_orders(context(clock), store, [work_order(1, "C-1")])
    await apply_corrections(context(clock), store, [correction(2, "+8613900000002")])
    # A file planned before vehicles kept their contact data: its latest timer's is used.
    store.people[f"vehicle/{DEALER}/{VIN1}"].pop("contact_data")
    request = ComplaintEvent(
        event_id=deterministic_id("complaint", "T-1"),
        occurred_at=SETTLED,
        dealer_id=DEALER,
        correlation_id=correlation_id_for(DEALER, "WO-0001"),  # the work order's chain
        ticket_id="T-1",
        kind=ComplaintEventKind.CONFIRMATION_REQUESTED,
        grade=ComplaintGrade.D,
        work_order_id="WO-0001",
        contact_id=f"{DEALER}/WO-0001/call_day3",
        vin=VIN1,
        customer_id="C-1",
        assigned_role="service_advisor",
        opened_at=SETTLED,
        confirmation=ConfirmationRequest(
            contact_id="cc-T-1-r1", due_at=SETTLED + timedelta(days=1), round=1
        ),
    )

    await plan_confirmations(context(clock), store, [request], logging.getLogger("test"))

    timer = store.timers["cc-T-1-r1"]
    assert timer["contact_id"] == f"contact/{DEALER}/ticket-T-1/1"
    assert "customer" not in timer
    assert due_of(store)["cc-T-1-r1"].customer.phone == "+8613900000002"
