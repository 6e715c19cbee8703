"""Internal events: round trips, envelope rules, keys, ids, scores."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from aftersales_contracts import topics
from aftersales_contracts.dms import Channel, WorkOrderType
from aftersales_contracts.envelope import Event, correlation_id_for, deterministic_id
from aftersales_contracts.events import (
    EVENT_TYPES,
    FIXED_FIRST_TIME,
    UNREACHED_OUTCOMES,
    CallOutcome,
    Coded,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ContactClosed,
    ContactClosedReason,
    ContactDue,
    ContactPurpose,
    ContactResult,
    Customer,
    DataCheck,
    IntakeRejected,
    IntakeRejectionReason,
    Scores,
    Staff,
    Vehicle,
    VehicleDelivered,
    VehicleFileCorrected,
    WorkOrderClosed,
    decode_event,
)
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

CST = timezone(timedelta(hours=8))

# --- strategies ------------------------------------------------------------------------------

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
ident = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=16)
aware = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, CST]),
)
dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1))
vins = st.from_regex(r"\A[A-HJ-NPR-Z0-9]{17}\Z")
phones = st.from_regex(r"\A\+86 ?1[3-9][0-9]{9}\Z").map(lambda p: p.replace(" ", ""))
scores_item = st.integers(0, 10)
staff = st.builds(Staff, id=ident, name=text)
staffs = st.lists(staff, max_size=3)
amounts = st.decimals(
    min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)
purposes = st.lists(st.sampled_from(ContactPurpose), min_size=1, max_size=4, unique=True)

customers = st.builds(
    Customer,
    customer_id=ident,
    name=text,
    phone=phones,
    is_owner=st.booleans(),
    birthday=st.none() | dates,
    contact_consent=st.booleans(),
    preferred_channel=st.none() | st.sampled_from(Channel),
)
vehicles = st.builds(
    Vehicle,
    vin=vins,
    plate=st.none() | text,
    brand=text,
    model=text,
    mileage_km=st.none() | st.integers(0, 2_000_000),
)
scores = st.fixed_dictionaries(dict.fromkeys(Scores.ITEMS, scores_item)).map(Scores)


def envelope() -> dict[str, Any]:
    return {
        "event_id": ident,
        "occurred_at": aware,
        "dealer_id": ident,
        "correlation_id": ident,
        "causation_id": st.none() | ident,
    }


work_orders = st.builds(
    WorkOrderClosed,
    **envelope(),
    work_order_id=ident,
    work_order_type=st.sampled_from(WorkOrderType),
    revision=st.integers(1, 50),
    opened_at=aware,
    settled_at=aware,
    vehicle=vehicles,
    customer=customers,
    service_advisor=staff,
    technicians=staffs,
    total_amount=amounts,
    next_maintenance_due_date=st.none() | dates,
    next_maintenance_due_mileage_km=st.none() | st.integers(0, 10**6),
    insurance_expiry=st.none() | dates,
    licence_expiry=st.none() | dates,
    warnings=st.lists(text, max_size=3),
)
deliveries = st.builds(
    VehicleDelivered,
    **envelope(),
    delivery_id=ident,
    delivered_at=aware,
    vehicle=vehicles,
    customer=customers,
    sales_consultant=staff,
    first_maintenance_due_date=st.none() | dates,
    insurance_expiry=st.none() | dates,
)
contacts_due = st.builds(
    ContactDue,
    **envelope(),
    contact_id=ident,
    purposes=purposes,
    channel=st.sampled_from(Channel),
    due_at=aware,
    attempt=st.integers(1, 5),
    work_order_id=st.none() | ident,
    vehicle=vehicles,
    customer=customers,
    service_advisor=st.none() | staff,
    technicians=staffs,
)


@st.composite
def contact_results(draw: st.DrawFn) -> ContactResult:
    outcome = draw(st.sampled_from(CallOutcome))
    return ContactResult(
        **{k: draw(v) for k, v in envelope().items()},
        contact_id=draw(ident),
        task_id=draw(ident),
        agent_id=draw(st.none() | ident),
        channel=draw(st.sampled_from(Channel)),
        purposes=draw(purposes),
        attempt=draw(st.integers(1, 5)),
        outcome=outcome,
        contacted_at=draw(aware),
        callback_at=draw(st.none() | aware) if outcome is CallOutcome.CALL_BACK_LATER else None,
        scores=draw(st.none() | scores) if outcome is CallOutcome.REACHED else None,
        comment=draw(st.none() | text),
        complaint_stated=draw(st.booleans()),
        work_order_id=draw(st.none() | ident),
        vin=draw(vins),
        customer_id=draw(ident),
        service_advisor=draw(st.none() | staff),
        technicians=draw(staffs),
    )


complaints = st.builds(
    ComplaintEvent,
    **envelope(),
    ticket_id=ident,
    kind=st.sampled_from(ComplaintEventKind),
    grade=st.sampled_from(ComplaintGrade),
    work_order_id=st.none() | ident,
    contact_id=ident,
    vin=vins,
    customer_id=ident,
    low_items=st.lists(st.sampled_from(Scores.ITEMS), unique=True),
    assigned_role=st.sampled_from(
        ["service_advisor", "service_supervisor", "service_manager", "gm"]
    ),
    service_advisor=st.none() | staff,
    technicians=staffs,
    opened_at=aware,
    due_at=st.none() | aware,
)


closures = st.builds(
    ContactClosed,
    **envelope(),
    contact_id=ident,
    reason=st.sampled_from(ContactClosedReason),
    purposes=st.lists(st.sampled_from(ContactPurpose), min_size=1, max_size=3, unique=True),
    channel=st.sampled_from(Channel),
    attempts=st.integers(1, 10),
    closed_at=aware,
    last_outcome=st.sampled_from(sorted(UNREACHED_OUTCOMES)),
    work_order_id=st.none() | ident,
    vin=vins,
    customer_id=ident,
)


@st.composite
def rejections(draw: st.DrawFn) -> IntakeRejected:
    raw, encoding = IntakeRejected.encode_raw(draw(st.binary(max_size=64)))
    return IntakeRejected(
        **{k: draw(v) for k, v in envelope().items()},
        rejection_id=draw(ident),
        source=draw(st.sampled_from(["kafka", "http", "csv"])),
        reasons=draw(
            st.lists(
                st.builds(IntakeRejectionReason, code=ident, field=st.none() | ident, message=text),
                min_size=1,
                max_size=3,
            )
        ),
        raw=raw,
        raw_encoding=encoding,
    )


any_event = st.one_of(
    work_orders, deliveries, contacts_due, contact_results(), complaints, rejections(), closures
)


# --- round trips -----------------------------------------------------------------------------


@given(any_event)
def test_every_event_round_trips_through_json(event: Event) -> None:
    value = event.model_dump_json().encode("utf-8")
    again = decode_event(event.TOPIC, value)
    assert type(again) is type(event)
    assert again == event
    assert again.schema_version == type(event).SCHEMA_VERSION


@given(scores)
def test_scores_round_trip(s: Scores) -> None:
    assert Scores.model_validate_json(s.model_dump_json()) == s


def test_round_trip_notices_a_change() -> None:
    # guards the round-trip test against comparing things that are always equal
    event = _work_order()
    changed = WorkOrderClosed.model_validate_json(
        event.model_dump_json().replace('"revision":1', '"revision":2')
    )
    assert changed != event


def test_registry_covers_every_internal_topic_but_the_dead_letter() -> None:
    assert set(EVENT_TYPES) == set(topics.INTERNAL_TOPICS) - {topics.DEAD_LETTER}
    for topic, model in EVENT_TYPES.items():
        assert topic == model.TOPIC
        assert model.SCHEMA_VERSION == 1
    assert len(topics.ALL_TOPICS) == len(set(topics.ALL_TOPICS)) == 15


# --- envelope --------------------------------------------------------------------------------


def _staff() -> Staff:
    return Staff(id="SA-007", name="王芳")


def _customer(**changes: Any) -> Customer:
    values: dict[str, Any] = {
        "customer_id": "C-88012",
        "name": "张伟",
        "phone": "+8613800138000",
        "is_owner": True,
        "contact_consent": True,
    }
    return Customer(**(values | changes))


def _vehicle() -> Vehicle:
    return Vehicle(
        vin="LSVAU218XN2183294", plate="粤B12345", brand="大众", model="帕萨特", mileage_km=15230
    )


def _work_order(**changes: Any) -> WorkOrderClosed:
    values: dict[str, Any] = {
        "event_id": deterministic_id("dealer-sz-001", "WO-1", "1"),
        "occurred_at": datetime(2026, 11, 20, 8, 45, tzinfo=UTC),
        "dealer_id": "dealer-sz-001",
        "correlation_id": correlation_id_for("dealer-sz-001", "WO-1"),
        "work_order_id": "WO-1",
        "work_order_type": WorkOrderType.MAINTENANCE,
        "revision": 1,
        "opened_at": datetime(2026, 11, 20, 9, 12, tzinfo=CST),
        "settled_at": datetime(2026, 11, 20, 16, 45, tzinfo=CST),
        "vehicle": _vehicle(),
        "customer": _customer(),
        "service_advisor": _staff(),
        "total_amount": Decimal("580.00"),
    }
    return WorkOrderClosed(**(values | changes))


def _result(**changes: Any) -> ContactResult:
    values: dict[str, Any] = {
        "event_id": "r-1",
        "occurred_at": datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        "dealer_id": "dealer-sz-001",
        "correlation_id": "dealer-sz-001/WO-1",
        "contact_id": "c-1",
        "task_id": "t-1",
        "channel": Channel.PHONE,
        "purposes": [ContactPurpose.SERVICE_CALL_DAY3],
        "attempt": 1,
        "outcome": CallOutcome.REACHED,
        "contacted_at": datetime(2026, 11, 23, 10, 0, tzinfo=CST),
        "vin": "LSVAU218XN2183294",
        "customer_id": "C-88012",
    }
    return ContactResult(**(values | changes))


def test_key_is_dealer_id_utf8() -> None:
    assert _work_order().key() == b"dealer-sz-001"
    assert _work_order(dealer_id="经销商-深圳").key() == "经销商-深圳".encode()


def test_schema_version_defaults_to_the_class_and_refuses_others() -> None:
    assert _work_order().schema_version == 1
    assert _work_order(schema_version=1).schema_version == 1
    with pytest.raises(ValidationError, match="schema_version"):
        _work_order(schema_version=2)


def test_events_are_frozen_and_refuse_unknown_fields() -> None:
    event = _work_order()
    with pytest.raises(ValidationError):
        event.dealer_id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        _work_order(surprise=True)


@pytest.mark.parametrize("field", ["occurred_at", "settled_at"])
def test_times_must_be_aware(field: str) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        _work_order(**{field: datetime(2026, 11, 20, 16, 45)})


@pytest.mark.parametrize("dealer_id", ["", " "])
def test_dealer_id_not_blank(dealer_id: str) -> None:
    with pytest.raises(ValidationError):
        _work_order(dealer_id=dealer_id)


def test_revision_starts_at_one() -> None:
    with pytest.raises(ValidationError):
        _work_order(revision=0)


def test_deterministic_id_is_stable_and_distinct() -> None:
    a = deterministic_id("dealer-sz-001", "WO-1", "service_call_day3")
    assert a == deterministic_id("dealer-sz-001", "WO-1", "service_call_day3")
    assert a != deterministic_id("dealer-sz-001", "WO-1", "sms_survey_day7")
    assert a != deterministic_id("dealer-sz-002", "WO-1", "service_call_day3")
    assert a == "91087421-a46c-5818-b1a0-e9cb57004e36"  # pinned: ids already stored depend on it
    with pytest.raises(ValueError, match="part"):
        deterministic_id()


def test_correlation_id() -> None:
    assert correlation_id_for("dealer-sz-001", "WO-1") == "dealer-sz-001/WO-1"


# --- normalised values -----------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["13800138000", "+86 138 0013 8000", "+0123", "86-13800138000"])
def test_internal_phone_must_be_e164(phone: str) -> None:
    with pytest.raises(ValidationError):
        _customer(phone=phone)


@pytest.mark.parametrize("vin", ["lsvau218xn2183294", "LSVAU218XN218329", "LSVAU218ON2183294"])
def test_internal_vin_must_be_normalised(vin: str) -> None:
    with pytest.raises(ValidationError):
        Vehicle(vin=vin, brand="大众", model="帕萨特")


# --- scores (D16, D18) -----------------------------------------------------------------------


def _scores(**changes: int) -> Scores:
    values = dict.fromkeys(Scores.ITEMS, 9) | changes
    return Scores(**values)


@pytest.mark.parametrize("value", [-1, 11, 100])
@pytest.mark.parametrize("item", Scores.ITEMS)
def test_scores_outside_0_to_10_refused(item: str, value: int) -> None:
    with pytest.raises(ValidationError):
        _scores(**{item: value})


@pytest.mark.parametrize("value", [0, 10])
def test_score_bounds_accepted(value: int) -> None:
    assert _scores(overall=value)["overall"] == value


def test_scores_are_a_map_on_the_wire() -> None:
    # D16/D17: the items are the questionnaire's; the wire form is an object item -> score.
    answer = Scores(attitude=9, fixed_price_clarity=7)
    assert answer.model_dump_json() == '{"attitude":9,"fixed_price_clarity":7}'
    assert Scores.model_validate_json('{"attitude":9,"fixed_price_clarity":7}') == answer
    with pytest.raises(ValidationError):
        Scores.model_validate({"Bad Item": 9})


def test_low_items_below_threshold() -> None:
    assert _scores().low_items() == []
    assert _scores(quality=7, overall=8).low_items() == ["quality"]
    assert _scores(quality=7, overall=8).low_items(threshold=9) == ["quality", "overall"]
    assert _scores(attitude=0, environment=3).low_items() == ["attitude", "environment"]


# --- contact results (D15) -------------------------------------------------------------------


def test_unreached_outcomes() -> None:
    unreached = {o for o in CallOutcome if o.is_unreached}
    assert unreached == {CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.CALL_BACK_LATER}


def test_scores_only_when_reached() -> None:
    assert _result(scores=_scores(quality=6)).scores is not None
    with pytest.raises(ValidationError, match="reached"):
        _result(outcome=CallOutcome.NO_ANSWER, scores=_scores())


def test_callback_time_only_when_asked() -> None:
    later = datetime(2026, 11, 24, 19, 0, tzinfo=CST)
    assert _result(outcome=CallOutcome.CALL_BACK_LATER, callback_at=later).callback_at == later
    with pytest.raises(ValidationError, match="call_back_later"):
        _result(callback_at=later)


def test_opt_out_scope_only_with_an_opt_out() -> None:
    care = [ContactPurpose.BIRTHDAY_CARE]
    scoped = _result(outcome=CallOutcome.OPTED_OUT, opted_out_of=care)
    assert scoped.opted_out_of == care
    assert _result(outcome=CallOutcome.OPTED_OUT).opted_out_of is None  # D4: all contact
    with pytest.raises(ValidationError, match="opted_out"):
        _result(outcome=CallOutcome.REFUSED, opted_out_of=care)


def test_answers_of_the_call_only_when_reached() -> None:
    reached = _result(
        yes_no={FIXED_FIRST_TIME: False},
        issues=[Coded(code="waiting_time"), Coded(code="other", text="洗车没洗干净")],
        lapse_reason=Coded(code="found_another_workshop"),
        data_check=DataCheck(confirmed=True, phone="+8613900139000", mileage_km=42_000),
    )
    assert reached.not_fixed_first_time()
    assert not _result(yes_no={FIXED_FIRST_TIME: True}).not_fixed_first_time()
    assert not _result().not_fixed_first_time()
    for field, value in [
        ("yes_no", {FIXED_FIRST_TIME: True}),
        ("issues", [Coded(code="price")]),
        ("lapse_reason", Coded(code="forgot")),
        ("data_check", DataCheck(confirmed=True)),
    ]:
        with pytest.raises(ValidationError, match="reached"):
            _result(outcome=CallOutcome.NO_ANSWER, **{field: value})


def test_data_check_changes_name_what_the_customer_gave() -> None:
    check = DataCheck(confirmed=False, phone="+8613900139000", next_maintenance_due_mileage_km=50)
    assert check.changes() == {"phone": "+8613900139000", "next_maintenance_due_mileage_km": 50}
    assert DataCheck(confirmed=True).changes() == {}
    with pytest.raises(ValidationError):
        DataCheck(confirmed=True, phone="13900139000")  # E.164 only: the API normalises


def test_vehicle_file_correction_round_trips() -> None:
    event = VehicleFileCorrected(
        event_id="f-1",
        occurred_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
        dealer_id="dealer-sz-001",
        correlation_id="dealer-sz-001/WO-1",
        vin="LSVAU218XN2183294",
        file_revision=3,
        corrected_at=datetime(2026, 11, 23, 10, 0, tzinfo=CST),
        corrected_by="agent-7",
        contact_id="c-1",
        changed=["phone"],
        customer=Customer(
            customer_id="C-88012",
            name="张伟",
            phone="+8613900139000",
            is_owner=True,
            contact_consent=True,
        ),
        vehicle=Vehicle(vin="LSVAU218XN2183294", brand="大众", model="帕萨特"),
    )
    assert decode_event(topics.VEHICLE_FILE_CORRECTED, event.model_dump_json()) == event
    with pytest.raises(ValidationError):
        VehicleFileCorrected.model_validate(event.model_dump() | {"changed": []})


def test_a_delivery_survey_round_trips_and_needs_its_questionnaire() -> None:
    from aftersales_contracts import DeliverySurveyed, QuestionnaireRef

    event = DeliverySurveyed(
        event_id="s-1",
        occurred_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
        dealer_id="dealer-sz-001",
        correlation_id="dealer-sz-001/DL-7",
        delivery_id="DL-7",
        vin="LSVAU218XN2183294",
        customer_id="C-9",
        surveyed_at=datetime(2026, 11, 23, 10, 5, tzinfo=CST),
        recorded_by="sc-wang",
        questionnaire=QuestionnaireRef(id="delivery-face-to-face", version=1),
        scores=Scores(overall=9),
        yes_no={"test_drive_invited": True},
    )
    assert decode_event(topics.DELIVERY_SURVEYED, event.model_dump_json()) == event
    with pytest.raises(ValidationError):
        DeliverySurveyed.model_validate(event.model_dump() | {"questionnaire": None})


def test_purposes_not_empty() -> None:
    with pytest.raises(ValidationError):
        _result(purposes=[])


# --- intake rejections (D5) ------------------------------------------------------------------


@given(st.binary(max_size=128))
def test_raw_bytes_survive(data: bytes) -> None:
    raw, encoding = IntakeRejected.encode_raw(data)
    event = IntakeRejected(
        event_id="x",
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
        dealer_id=IntakeRejected.UNKNOWN_DEALER,
        correlation_id="x",
        rejection_id="x",
        source="kafka",
        reasons=[IntakeRejectionReason(code="json.invalid", message="not JSON")],
        raw=raw,
        raw_encoding=encoding,
    )
    assert IntakeRejected.model_validate_json(event.model_dump_json()).raw_bytes() == data


def test_raw_encoding_choice() -> None:
    assert IntakeRejected.encode_raw("张伟".encode()) == ("张伟", "utf-8")
    assert IntakeRejected.encode_raw(b"\xff\x00") == (
        base64.b64encode(b"\xff\x00").decode(),
        "base64",
    )


def test_rejection_needs_a_reason_and_valid_base64() -> None:
    base: dict[str, Any] = {
        "event_id": "x",
        "occurred_at": datetime(2026, 11, 20, tzinfo=UTC),
        "dealer_id": "unknown",
        "correlation_id": "x",
        "rejection_id": "x",
        "source": "csv",
        "raw": "a,b",
    }
    with pytest.raises(ValidationError):
        IntakeRejected(**base, reasons=[])
    reasons = [IntakeRejectionReason(code="csv.columns", field=None, message="missing vin")]
    with pytest.raises(ValidationError, match="base64"):
        IntakeRejected(**(base | {"raw": "not base64!"}), reasons=reasons, raw_encoding="base64")
    with pytest.raises(ValidationError):
        IntakeRejected(**(base | {"source": "ftp"}), reasons=reasons)


# --- D29: complaints from any channel ---------------------------------------------------------


def test_an_oem_transferred_complaint_needs_a_way_to_find_the_customer() -> None:
    from aftersales_contracts import ComplaintSource, OemComplaintTransferred

    base = {
        "oem_complaint_id": "OEM-2026-118842",
        "dealer_id": "dealer-sz-001",
        "received_at": "2026-11-23T09:40:00+08:00",
        "text": "三次进站异响未修好",
        "extra_field_of_the_oem": "ignored",
    }
    found = OemComplaintTransferred.model_validate({**base, "plate": "粤B12345"})
    assert found.key() == b"dealer-sz-001"
    assert found.TOPIC == topics.OEM_COMPLAINT_TRANSFERRED in topics.EXTERNAL_TOPICS
    with pytest.raises(ValueError, match="one of vin, plate or phone"):
        OemComplaintTransferred.model_validate(base)
    with pytest.raises(ValueError, match="received_at"):
        OemComplaintTransferred.model_validate({**base, "vin": "X", "received_at": "2026-11-23"})
    assert ComplaintSource("walk_in") is ComplaintSource.WALK_IN


def test_a_complaint_event_may_name_its_source_and_older_ones_still_read() -> None:
    from aftersales_contracts import ComplaintEvent

    fields = {
        "event_id": "e-1",
        "occurred_at": "2026-11-23T10:00:00+08:00",
        "dealer_id": "dealer-sz-001",
        "correlation_id": "dealer-sz-001/WO-1",
        "ticket_id": "t-1",
        "kind": "opened",
        "grade": "C",
        "contact_id": "c-1",
        "vin": "LSVAU218XN2183294",
        "customer_id": "C-1",
        "assigned_role": "service_supervisor",
        "opened_at": "2026-11-23T10:00:00+08:00",
    }
    assert ComplaintEvent.model_validate(fields).source is None
    assert ComplaintEvent.model_validate({**fields, "source": "walk_in"}).source == "walk_in"
    with pytest.raises(ValueError, match="source"):
        ComplaintEvent.model_validate({**fields, "source": "fax"})


def test_a_contact_closed_needs_a_reason_and_at_least_one_attempt() -> None:
    """D15: the closure reporting counts; only `unreachable` so far (additive later)."""
    fields: dict[str, Any] = {
        "event_id": "e-1",
        "occurred_at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "dealer_id": "dealer-sz-001",
        "correlation_id": "c-1",
        "contact_id": "dealer-sz-001/WO-1/call_day3",
        "reason": "unreachable",
        "purposes": ["service_call_day3"],
        "channel": "phone",
        "attempts": 3,
        "closed_at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "last_outcome": "no_answer",
        "vin": "LSVAU218XN2183294",
        "customer_id": "C-1",
    }
    closed = ContactClosed.model_validate(fields)
    assert closed.TOPIC == topics.CONTACT_CLOSED == "aftersales.contact.closed"
    assert closed.reason is ContactClosedReason.UNREACHABLE
    for bad in ({"reason": "bored"}, {"attempts": 0}, {"purposes": []}):
        with pytest.raises(ValidationError):
            ContactClosed.model_validate({**fields, **bad})
