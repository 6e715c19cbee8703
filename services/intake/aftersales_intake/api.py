"""HTTP: the DMS webhook, the rejected inbox (D5) and the vehicle-file lookups (D1-D3).

Every route declares its roles (`allow`) and checks each object's dealer against the token:
- the webhook takes the DMS's own token (role `dms`): a request holding a record of a dealer the
  token does not serve is refused whole with 403, naming the record indexes and dealers, and
  nothing of it is taken in (a DMS wired to the wrong dealer is a set-up error, not bad data);
- the rejected inbox belongs to the data steward; the raw record (names, phones) is shown only
  one at a time, and each showing is written to the reveal audit first (D3);
- vehicle files always show masked phones and ID numbers (D3).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aftersales_contracts import IntakeRejected
from aftersales_contracts.primitives import VIN_LOOKUP_PATTERN
from aftersales_runtime.audit import RevealAudit, audit_router
from aftersales_runtime.auth import Caller, allow, require_dealer
from aftersales_runtime.paging import Paged
from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from aftersales_intake.domain.masking import present_file, present_revisions
from aftersales_intake.domain.phones import normalise_phone
from aftersales_intake.domain.plates import normalise_plate
from aftersales_intake.domain.reasons import Refused
from aftersales_intake.domain.records import Kind
from aftersales_intake.domain.vins import normalise_vin
from aftersales_intake.pipeline import Intake, Outcome
from aftersales_intake.settings import IntakeSettings

VIN_PATH = Path(pattern=VIN_LOOKUP_PATTERN, description="17 characters, no I, O or Q")
VEHICLE_READERS = (
    "agent",
    "service_advisor",
    "service_supervisor",
    "service_manager",
    "cr_manager",
)
#: D30/D36: who changed a file and when; the data steward reviews files as well.
HISTORY_READERS = (*VEHICLE_READERS, "data_steward")
NO_REJECTION = "no such rejection"


class PlateSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: str = Field(min_length=1, max_length=32, examples=["粤B·D12345"])


class PhoneSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32, examples=["138 0013 8000"])


def _counts(outcomes: list[Outcome]) -> dict[str, int]:
    counts = dict.fromkeys(("accepted", "duplicate", "corrected", "rejected"), 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def _inbox_entry(doc: dict[str, Any], with_raw: bool) -> dict[str, Any]:
    shown = {k: v for k, v in doc.items() if k not in ("_id", "event", "published")}
    shown["rejection_id"] = doc["_id"]
    if not with_raw:
        shown.pop("raw", None)  # D3: the raw record holds names and phones
    return shown


def _dealer_of(record: bytes) -> str | None:
    try:
        parsed = json.loads(record)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    dealer = parsed.get("dealer_id") if isinstance(parsed, dict) else None
    return dealer if isinstance(dealer, str) else None


def refuse_unserved(caller: Caller, records: list[bytes]) -> None:
    """403 when any record names a dealer the DMS's token does not serve. Records naming no
    readable dealer go on to the pipeline, which rejects them with their reason (D5)."""
    unserved = [
        (index, dealer)
        for index, dealer in enumerate(_dealer_of(r) for r in records)
        if dealer is not None and not caller.serves(dealer)
    ]
    if unserved:
        listed = ", ".join(f"#{index} ({dealer})" for index, dealer in unserved[:20])
        raise HTTPException(
            403,
            f"this token does not serve the dealer of record {listed}; nothing was taken in",
        )


def build_router(intake: Intake, settings: IntakeSettings) -> APIRouter:
    router = APIRouter(prefix="/v1")
    audit = RevealAudit(intake.store.db, intake.clock)
    router.include_router(audit_router(audit, "intake"))

    async def take_in_body(request: Request, caller: Caller, kind: Kind) -> dict[str, Any]:
        body = await request.body()  # bounded by the runtime (INTAKE_HTTP_MAX_BODY_BYTES)
        try:
            parsed = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, list):
            if len(parsed) > settings.max_batch:
                raise HTTPException(413, f"at most {settings.max_batch} records per request")
            raws = [json.dumps(item, ensure_ascii=False).encode() for item in parsed]
        else:
            raws = [body]  # one record, or not JSON at all: the pipeline says why (D5)
        refuse_unserved(caller, raws)
        outcomes = await intake.take_in_many(raws, kind, "http")  # one pass for the batch
        return {
            "counts": _counts(outcomes),
            "results": [{"index": i, **o.as_dict()} for i, o in enumerate(outcomes)],
        }

    @router.post("/dms/work-orders", tags=["dms"])
    async def post_work_orders(
        request: Request, caller: Annotated[Caller, allow("dms")]
    ) -> dict[str, Any]:
        """One DmsWorkOrderClosed object or an array of up to `max_batch`; an answer per record.
        403 if any record is of a dealer the token does not serve."""
        return await take_in_body(request, caller, "workorder")

    @router.post("/dms/vehicle-deliveries", tags=["dms"])
    async def post_vehicle_deliveries(
        request: Request, caller: Annotated[Caller, allow("dms")]
    ) -> dict[str, Any]:
        """One DmsVehicleDelivered object or an array; an answer per record."""
        return await take_in_body(request, caller, "delivery")

    # --- rejected inbox -----------------------------------------------------------------------

    @router.get("/rejections", tags=["rejections"])
    async def list_rejections(
        caller: Annotated[Caller, allow("data_steward")],
        page: Paged,
        dealer_id: str | None = None,
        state: str | None = Query("open", pattern="^(open|resolved)$"),
    ) -> dict[str, Any]:
        """A page of one dealer's rejections, without the raw records (D3); group-wide stewards
        may leave `dealer_id` out."""
        if dealer_id is None and not caller.all_dealers:
            raise HTTPException(422, "give dealer_id")
        require_dealer(caller, dealer_id or None)
        docs = await intake.store.list_rejections(dealer_id, state, page.limit, page.skip)
        return {"items": [_inbox_entry(d, with_raw=False) for d in docs]}

    async def _open(rejection_id: str, caller: Caller) -> dict[str, Any]:
        doc = await intake.store.rejection(rejection_id)
        if doc is None:
            raise HTTPException(404, NO_REJECTION)
        require_dealer(caller, doc.get("dealer_id"), NO_REJECTION)
        return doc

    @router.get("/rejections/{rejection_id}", tags=["rejections"])
    async def get_rejection(
        rejection_id: str, caller: Annotated[Caller, allow("data_steward")]
    ) -> dict[str, Any]:
        """One rejection with its raw record, to fix it; the showing is audited (D3)."""
        doc = await _open(rejection_id, caller)
        what = {"rejection_id": rejection_id, "field": "raw"}
        await audit.record(caller, doc.get("dealer_id"), what, "fixing a rejected record")
        return _inbox_entry(doc, with_raw=True)

    async def _resolve(doc: dict[str, Any], raw: bytes, how: str) -> dict[str, Any]:
        outcome = await intake.take_in(raw, doc["kind"], doc["source"])
        resolved = outcome.status != "rejected"
        attempt = {"how": how, "at": intake.clock.now(), **outcome.as_dict()}
        await intake.store.resolve_rejection(doc["_id"], attempt, resolved)
        return {"resolved": resolved, **outcome.as_dict()}

    @router.post(
        "/rejections/{rejection_id}/fix",
        tags=["rejections"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def fix_rejection(
        rejection_id: str, request: Request, caller: Annotated[Caller, allow("data_steward")]
    ) -> dict[str, Any]:
        """Submit the corrected record (JSON object); it goes through the same pipeline."""
        doc = await _open(rejection_id, caller)
        raw = await request.body()
        try:
            corrected = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            corrected = None
        if not isinstance(corrected, dict):
            # Read here, not by a pydantic body: its 422 would echo the record back (D3).
            raise HTTPException(422, "the corrected record must be one JSON object")
        refuse_unserved(caller, [raw])  # a fix cannot move a record to another dealer
        return await _resolve(doc, raw, "fix")

    @router.post("/rejections/{rejection_id}/replay", tags=["rejections"])
    async def replay_rejection(
        rejection_id: str, caller: Annotated[Caller, allow("data_steward")]
    ) -> dict[str, Any]:
        """Run the stored raw record again (e.g. after the dealer was added to the config)."""
        doc = await _open(rejection_id, caller)
        raw = IntakeRejected.model_validate_json(doc["event"]).raw_bytes()
        return await _resolve(doc, raw, "replay")

    # --- vehicle files ------------------------------------------------------------------------

    @router.post("/dealers/{dealer_id}/vehicles/search", tags=["vehicles"])
    async def search_vehicles(
        dealer_id: str,
        search: Annotated[PlateSearch | PhoneSearch, Body()],
        caller: Annotated[Caller, allow(*VEHICLE_READERS)],
    ) -> dict[str, Any]:
        """By plate or by phone, in any spelling (a POST, so that no phone number stands in a
        URL or an access log); phones always masked (D3). A value that cannot be a plate or a
        phone finds nothing, and the answer's `warnings` say why."""
        try:
            if isinstance(search, PlateSearch):
                index, value = "plates", normalise_plate(search.plate)
            else:
                index, value = "phones", normalise_phone(search.phone, "phone")
        except Refused as refused:
            return {"items": [], "warnings": [refused.reason.as_dict()]}
        vins = await intake.store.vins_by(index, dealer_id, value or "")
        files = [await intake.store.vehicle(dealer_id, vin) for vin in vins]
        return {"items": [present_file(f) for f in files if f is not None], "warnings": []}

    # After the search: for a method it does not allow, /vehicles/search answers the search's
    # Allow header, not the VIN lookup's.

    @router.get("/dealers/{dealer_id}/vehicles/{vin}", tags=["vehicles"])
    async def get_vehicle(
        dealer_id: str,
        vin: Annotated[str, VIN_PATH],
        caller: Annotated[Caller, allow(*VEHICLE_READERS)],
    ) -> dict[str, Any]:
        canonical, _ = normalise_vin(vin)  # the path pattern admits only what it accepts
        file = await intake.store.vehicle(dealer_id, canonical)
        if file is None:
            raise HTTPException(404, "no vehicle file for this VIN")
        return present_file(file)

    @router.get("/dealers/{dealer_id}/vehicles/{vin}/revisions", tags=["vehicles"])
    async def get_vehicle_revisions(
        dealer_id: str,
        vin: Annotated[str, VIN_PATH],
        caller: Annotated[Caller, allow(*HISTORY_READERS)],
    ) -> dict[str, Any]:
        """The vehicle file's revisions, oldest first: each with when (`at`: the settlement, or
        the call), by whom (`dms`, the agent, `sms`), from which record or contact, and which
        fields changed (a call's corrected values, phones masked: D3, D30)."""
        canonical, _ = normalise_vin(vin)
        file = await intake.store.vehicle(dealer_id, canonical)
        if file is None:
            raise HTTPException(404, "no vehicle file for this VIN")
        return {
            "vin": canonical,
            "revision": file.get("revision", 0),
            "items": present_revisions(file),
        }

    return router
