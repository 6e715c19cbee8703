"""Tier 1: a contact result applied to the vehicle file (D4 opt-outs, D30 corrections), and the
file's revisions when DMS records come after it. Pure: `domain.corrections`, `vehicle_file`."""

from __future__ import annotations

import json
from datetime import date, timedelta

from aftersales_intake.domain.corrections import apply_result, corrected_event_id, unpublished
from aftersales_intake.domain.decisions import Pass
from aftersales_intake.domain.records import Normalised, normalise
from aftersales_intake.domain.vehicle_file import merge

from .conftest import NOW, workorder
from .results import CALLED_AT, result


def normalised(**changes) -> Normalised:
    from zoneinfo import ZoneInfo

    raw = json.dumps(workorder(**changes), ensure_ascii=False).encode()
    found = normalise(raw, "workorder", lambda _: ZoneInfo("Asia/Shanghai"), NOW)
    assert isinstance(found, Normalised)
    return found


def filed(*records: Normalised) -> dict:
    file = None
    for record in records:
        file = merge(file, record, 1)
    assert file is not None
    return file


PHONE = "+8613911112222"
CHECK = {"phone": PHONE, "mileage_km": 16000, "next_maintenance_due_date": date(2027, 5, 20)}


def test_a_correction_is_a_new_revision_with_who_when_and_the_event():
    file = filed(normalised())

    applied = apply_result(file, result(check=CHECK), NOW)

    assert applied is not None
    assert applied.event is not None
    changed = applied.file
    assert changed["customer"]["phone"] == PHONE
    assert PHONE in changed["phones"]
    assert changed["mileage_km"] == 16000
    assert changed["next_maintenance_due_date"] == "2027-05-20"
    last = changed["revisions"][-1]
    assert (last["revision"], last["by"], last["at"]) == (2, "agent-7", CALLED_AT.isoformat())
    assert last["source"] == {"contact_id": "contact-1", "result_event_id": "result-1"}
    assert last["changed"] == ["phone", "mileage_km", "next_maintenance_due_date"]
    event = applied.event
    assert event.event_id == corrected_event_id(result())
    assert (event.file_revision, event.corrected_by, event.contact_id) == (
        2,
        "agent-7",
        "contact-1",
    )
    assert event.customer.phone == PHONE
    assert event.vehicle.mileage_km == 16000
    assert event.next_maintenance_due_date == date(2027, 5, 20)
    assert [e.event_id for _, e in unpublished(changed, 1)] == [event.event_id]
    assert unpublished(changed, 2) == []


def test_a_result_applied_once_changes_nothing_again():
    applied = apply_result(filed(normalised()), result(check=CHECK), NOW)
    assert applied is not None
    assert apply_result(applied.file, result(check=CHECK), NOW) is None


def test_values_equal_to_the_file_are_confirmations_not_revisions():
    file = filed(normalised())
    assert apply_result(file, result(check={"phone": "+8613800138000"}), NOW) is None
    assert apply_result(file, result(check={}), NOW) is None


def test_an_sms_correction_is_by_sms():
    applied = apply_result(filed(normalised()), result(check=CHECK, agent_id=None), NOW)
    assert applied is not None
    assert applied.event is not None
    assert applied.file["revisions"][-1]["by"] == "sms"
    assert applied.event.corrected_by == "sms"


def test_an_older_dms_record_keeps_the_corrected_phone_a_newer_one_may_change_it():
    applied = apply_result(filed(normalised()), result(check=CHECK), NOW)
    assert applied is not None
    # settled after WO-1 (so it sets the contact data) but before the call
    before_call = normalised(
        work_order_id="WO-2", opened_at="2026-11-21 08:00:00", settled_at="2026-11-21 09:00:00",
        mileage_km=15500,
    )  # fmt: skip
    kept = merge(applied.file, before_call, 1)
    assert kept["customer"]["phone"] == PHONE
    assert kept["mileage_km"] == 16000
    assert kept["next_maintenance_due_date"] == "2027-05-20"
    assert [r["by"] for r in kept["revisions"]] == ["dms", "agent-7", "dms"]

    after_call = normalised(
        work_order_id="WO-3", opened_at="2026-11-28 08:00:00", settled_at="2026-11-28 09:00:00",
        mileage_km=17000, customer__phone="13700001111",
    )  # fmt: skip
    changed = merge(kept, after_call, 1)
    assert changed["customer"]["phone"] == "+8613700001111"
    assert changed["mileage_km"] == 17000
    assert changed["next_maintenance_due_date"] == "2027-05-20"  # WO-3 names none
    assert changed["corrections"] == {}
    assert changed["revisions"][-1]["changed"] == [
        "customer", "last_visit_at", "mileage_km", "phones",
    ]  # fmt: skip


def test_the_event_of_an_older_record_carries_the_corrected_phone():
    applied = apply_result(filed(normalised()), result(check=CHECK), NOW)
    assert applied is not None
    late = normalised(
        work_order_id="WO-2", opened_at="2026-11-21 08:00:00", settled_at="2026-11-21 09:00:00"
    )
    done = Pass("workorder", {}, {applied.file["_id"]: applied.file}, {}, {}, NOW)
    done.accept(late)
    [(_, _, event)] = done.record_events
    assert event.customer.phone == PHONE  # type: ignore[attr-defined]


def test_a_call_heard_before_a_newer_dms_record_does_not_undo_it():
    newer = normalised(
        opened_at="2026-11-23 08:00:00", settled_at="2026-11-23 09:00:00",
        customer__phone="13700001111",
    )  # fmt: skip
    applied = apply_result(filed(newer), result(check=CHECK), NOW)
    assert applied is None  # every field the call gives is the DMS's, and the DMS's is newer

    with_user = {**CHECK, "actual_user_name": "张小伟", "actual_user_phone": "+8613622223333"}
    applied = apply_result(filed(newer), result(check=with_user), NOW)
    assert applied is not None
    assert applied.file["customer"]["phone"] == "+8613700001111"
    assert applied.file["actual_user"] == {"name": "张小伟", "phone": "+8613622223333"}


def test_an_older_call_does_not_undo_a_newer_correction():
    first = apply_result(filed(normalised()), result(check=CHECK), NOW)
    assert first is not None
    earlier_call = result(
        2, check={"phone": "+8613500000000"}, contacted_at=CALLED_AT - timedelta(hours=1)
    )
    assert apply_result(first.file, earlier_call, NOW) is None


def test_an_opt_out_is_a_revision_by_the_agent():
    opted = result(outcome="opted_out")
    applied = apply_result(filed(normalised()), opted, NOW)
    assert applied is not None
    assert applied.event is None
    assert applied.file["contact_consent"] is False
    last = applied.file["revisions"][-1]
    assert (last["by"], last["changed"]) == ("agent-7", ["contact_consent", "opt_out"])
    assert apply_result(applied.file, opted, NOW) is None


def test_merging_the_same_record_revision_twice_adds_no_revision():
    record = normalised()
    once = merge(None, record, 1)
    assert merge(once, record, 1) == once
    assert [r["revision"] for r in once["revisions"]] == [1]


def test_a_corrected_phone_stays_with_its_customer():
    applied = apply_result(filed(normalised()), result(check=CHECK), NOW)
    assert applied is not None
    new_customer = normalised(
        work_order_id="WO-2", opened_at="2026-11-21 08:00:00", settled_at="2026-11-21 09:00:00",
        customer__customer_id="C-2", customer__name="李娜", customer__phone="13911113333",
    )  # fmt: skip
    changed = merge(applied.file, new_customer, 1)
    assert changed["customer"]["customer_id"] == "C-2"
    assert changed["customer"]["phone"] == "+8613911113333"  # not C-1's corrected number
    assert changed["mileage_km"] == 16000  # the vehicle's facts stay as the call heard them
