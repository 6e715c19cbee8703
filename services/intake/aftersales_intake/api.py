"""HTTP: the DMS webhook, the rejected inbox (D5) and the vehicle-file lookups (D1-D3)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Query, Request

from aftersales_intake.domain.masking import present_file
from aftersales_intake.domain.phones import normalise_phone
from aftersales_intake.domain.plates import normalise_plate
from aftersales_intake.domain.reasons import Refused
from aftersales_intake.domain.records import Kind
from aftersales_intake.domain.vins import normalise_vin
from aftersales_intake.pipeline import Intake, Outcome
from aftersales_intake.settings import IntakeSettings

INBOX_ROLES = frozenset({"agent", "data_steward"})


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


def build_router(intake: Intake, settings: IntakeSettings) -> APIRouter:
    router = APIRouter(prefix="/v1")

    async def take_in_body(request: Request, kind: Kind) -> dict[str, Any]:
        body = await request.body()
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
        outcomes = [await intake.take_in(raw, kind, "http") for raw in raws]
        return {
            "counts": _counts(outcomes),
            "results": [{"index": i, **o.as_dict()} for i, o in enumerate(outcomes)],
        }

    @router.post("/dms/work-orders", tags=["dms"])
    async def post_work_orders(request: Request) -> dict[str, Any]:
        """One DmsWorkOrderClosed object or an array of up to `max_batch`; an answer per record."""
        return await take_in_body(request, "workorder")

    @router.post("/dms/vehicle-deliveries", tags=["dms"])
    async def post_vehicle_deliveries(request: Request) -> dict[str, Any]:
        """One DmsVehicleDelivered object or an array; an answer per record."""
        return await take_in_body(request, "delivery")

    # --- rejected inbox -----------------------------------------------------------------------

    @router.get("/rejections", tags=["rejections"])
    async def list_rejections(
        dealer_id: str | None = None,
        state: str | None = Query("open", pattern="^(open|resolved)$"),
        limit: int = Query(100, ge=1, le=1000),
        skip: int = Query(0, ge=0),
        x_role: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        docs = await intake.store.list_rejections(dealer_id, state, limit, skip)
        return {"items": [_inbox_entry(d, x_role in INBOX_ROLES) for d in docs]}

    async def _open(rejection_id: str) -> dict[str, Any]:
        doc = await intake.store.rejection(rejection_id)
        if doc is None:
            raise HTTPException(404, "no such rejection")
        return doc

    @router.get("/rejections/{rejection_id}", tags=["rejections"])
    async def get_rejection(
        rejection_id: str, x_role: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        return _inbox_entry(await _open(rejection_id), x_role in INBOX_ROLES)

    async def _resolve(doc: dict[str, Any], raw: bytes, how: str) -> dict[str, Any]:
        outcome = await intake.take_in(raw, doc["kind"], doc["source"])
        resolved = outcome.status != "rejected"
        attempt = {"how": how, "at": intake.clock.now(), **outcome.as_dict()}
        await intake.store.resolve_rejection(doc["_id"], attempt, resolved)
        return {"resolved": resolved, **outcome.as_dict()}

    @router.post("/rejections/{rejection_id}/fix", tags=["rejections"])
    async def fix_rejection(
        rejection_id: str, corrected: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        """Submit the corrected record (JSON object); it goes through the same pipeline."""
        doc = await _open(rejection_id)
        return await _resolve(doc, json.dumps(corrected, ensure_ascii=False).encode(), "fix")

    @router.post("/rejections/{rejection_id}/replay", tags=["rejections"])
    async def replay_rejection(rejection_id: str) -> dict[str, Any]:
        """Run the stored raw record again (e.g. after the dealer was added to the config)."""
        from aftersales_contracts import IntakeRejected

        doc = await _open(rejection_id)
        raw = IntakeRejected.model_validate_json(doc["event"]).raw_bytes()
        return await _resolve(doc, raw, "replay")

    # --- vehicle files ------------------------------------------------------------------------

    def _full(role: str | None) -> bool:
        return role is not None and role in settings.phone_roles

    @router.get("/dealers/{dealer_id}/vehicles/{vin}", tags=["vehicles"])
    async def get_vehicle(
        dealer_id: str, vin: str, x_role: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        try:
            canonical, _ = normalise_vin(vin)
        except Refused as refused:
            raise HTTPException(422, refused.reason.as_dict()) from refused
        file = await intake.store.vehicle(dealer_id, canonical)
        if file is None:
            raise HTTPException(404, "no vehicle file for this VIN")
        return present_file(file, _full(x_role))

    @router.get("/dealers/{dealer_id}/vehicles", tags=["vehicles"])
    async def find_vehicles(
        dealer_id: str,
        plate: str | None = None,
        phone: str | None = None,
        x_role: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """By plate (any spelling) or by phone (any spelling); phones masked unless allowed (D3)."""
        try:
            if plate:
                index, value = "plates", normalise_plate(plate)
            elif phone:
                index, value = "phones", normalise_phone(phone, "phone")
            else:
                raise HTTPException(422, "give plate or phone")
        except Refused as refused:
            raise HTTPException(422, refused.reason.as_dict()) from refused
        vins = await intake.store.vins_by(index, dealer_id, value or "")
        files = [await intake.store.vehicle(dealer_id, vin) for vin in vins]
        return {"items": [present_file(f, _full(x_role)) for f in files if f is not None]}

    return router
