"""HTTP API of D29: log a complaint from any channel, log a call or letter that is not one, the
register per dealer and day, and the customer lookup by plate, phone or VIN.

Phones are masked (138****8000) unless the caller's role is in `phone_visible_to`; each whole
number shown is written to the reveal audit first (D3), read by the dealer's cr_manager at
`GET /v1/dealers/{dealer_id}/audit/reveals`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from aftersales_runtime.audit import RevealAudit, audit_router
from aftersales_runtime.auth import Caller, allow
from aftersales_runtime.privacy import mask_phone
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from aftersales_complaints.api import ticket_detail
from aftersales_complaints.channels import (
    Channels,
    Inbound,
    NoSuchCustomer,
    SeveralVehicles,
    complaint_logged,
    inbound_logged,
)
from aftersales_complaints.customer_index import VehicleRecord
from aftersales_complaints.inbound_log import InboundKind
from aftersales_complaints.settings import ComplaintsSettings

#: D29: any authorised employee logs what came in (the call centre's agents included).
LOGGERS = (
    "agent",
    "service_advisor",
    "service_supervisor",
    "service_manager",
    "cr_manager",
    "gm",
)
REGISTER_READERS = (*LOGGERS, "oem_region")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vin: str | None = Field(None, min_length=17, max_length=17)
    plate: str | None = Field(None, min_length=2, max_length=16)
    phone: str | None = Field(None, min_length=5, max_length=32)
    reference: str | None = Field(
        None, min_length=1, max_length=128, description="your id of it: a retry logs it once"
    )
    received_at: AwareDatetime | None = Field(None, description="default: now")


class ComplaintBody(_Body):
    source: Literal["hotline", "website", "email", "letter", "walk_in", "oem", "colleague"]
    text: str = Field(min_length=1, max_length=4000, description="the customer's complaint")

    @model_validator(mode="after")
    def _someone(self) -> ComplaintBody:
        if not (self.vin or self.plate or self.phone):
            raise ValueError("give the customer's vin, plate or phone")
        return self


class InboundBody(_Body):
    kind: InboundKind
    subject: str = Field(min_length=1, max_length=128, description="e.g. enquiry, praise")
    text: str | None = Field(None, max_length=4000)


def _vehicle(record: VehicleRecord, whole_phone: bool) -> dict[str, Any]:
    data = record.model_dump(mode="json", exclude={"correlation_id"})
    data["phone"] = record.phone if whole_phone else mask_phone(record.phone)
    return data


def channels_router(
    channels: Channels, audit: RevealAudit, settings: ComplaintsSettings
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["complaints from any channel"])
    router.include_router(audit_router(audit, "complaints"))
    clock = channels.desk.clock

    def inbound(
        dealer_id: str,
        body: _Body,
        caller: Caller,
        kind: InboundKind,
        subject: str,
        text: str | None,
    ) -> Inbound:
        return Inbound(
            dealer_id=dealer_id,
            kind=kind,
            subject=subject,
            text=text,
            logged_by=caller.sub,
            received_at=body.received_at or clock.now(),
            reference=body.reference,
            vin=body.vin,
            plate=body.plate,
            phone=body.phone,
        )

    def several(refused: SeveralVehicles) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": str(refused),
            "matches": [_vehicle(m, False) for m in refused.matches],
        }
        return JSONResponse(body, 409, media_type="application/problem+json")

    @router.post("/dealers/{dealer_id}/complaints", status_code=201, responses={409: {}})
    async def log_complaint(
        dealer_id: str, body: ComplaintBody, caller: Annotated[Caller, allow(*LOGGERS)]
    ) -> Any:
        """D29: a complaint from any channel, logged by whoever took it; the customer is found
        by VIN, plate or phone (404: none; 409: several, with the matches, give the vin). It
        opens the same ticket as a dissatisfied answer (grading, owners, deadlines, ladder)."""
        logged = inbound(dealer_id, body, caller, InboundKind(body.source), "complaint", body.text)
        try:
            entry, ticket = await complaint_logged(logged, channels)
        except NoSuchCustomer as missing:
            raise HTTPException(404, str(missing)) from missing
        except SeveralVehicles as refused:
            return several(refused)
        return {"inbound": entry.model_dump(mode="json"), "ticket": ticket_detail(ticket)}

    @router.post("/dealers/{dealer_id}/inbound", status_code=201)
    async def log_inbound(
        dealer_id: str, body: InboundBody, caller: Annotated[Caller, allow(*LOGGERS)]
    ) -> dict[str, Any]:
        """来电来函登记: a call, letter, e-mail or visit that is not a complaint."""
        logged = inbound(dealer_id, body, caller, body.kind, body.subject, body.text)
        return (await inbound_logged(logged, channels)).model_dump(mode="json")

    @router.get("/dealers/{dealer_id}/inbound")
    async def register_of_the_day(
        dealer_id: str,
        caller: Annotated[Caller, allow(*REGISTER_READERS)],
        day: Annotated[
            date | None, Query(description="the dealer's local day; default today")
        ] = None,
    ) -> dict[str, Any]:
        """The day's register of calls and letters, complaints or not, oldest first."""
        zone = channels.zone_of(dealer_id)
        wanted = day or clock.now().astimezone(zone).date()
        entries = await channels.log.day(dealer_id, wanted)
        return {
            "dealer_id": dealer_id,
            "day": wanted.isoformat(),
            "entries": [e.model_dump(mode="json") for e in entries],
        }

    @router.get("/dealers/{dealer_id}/customers")
    async def find_customer(
        dealer_id: str,
        caller: Annotated[Caller, allow(*LOGGERS)],
        vin: Annotated[str | None, Query(min_length=17, max_length=17)] = None,
        plate: Annotated[str | None, Query(min_length=2, max_length=16)] = None,
        phone: Annotated[str | None, Query(min_length=5, max_length=32)] = None,
    ) -> dict[str, Any]:
        """The vehicles a VIN, plate or phone finds: customer, last work order and advisor.
        The phone is masked unless the caller's role may see it (then audited, D3)."""
        if not (vin or plate or phone):
            raise HTTPException(422, "give vin, plate or phone")
        found = await channels.index.find(dealer_id, vin, plate, phone)
        whole = bool(caller.roles & set(settings.phone_visible_to)) and bool(found)
        if whole:
            what = {"customer_ids": [r.customer_id for r in found]}
            await audit.record(caller, dealer_id, what, "complaint customer lookup")
        return {"dealer_id": dealer_id, "matches": [_vehicle(r, whole) for r in found]}

    for path in ("/dealers/{dealer_id}/complaints", "/dealers/{dealer_id}/inbound"):
        # Starlette's 405 names only the first route of a path (the GET); these have two.
        router.add_api_route(
            path,
            _other_methods,
            methods=["HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
            include_in_schema=False,
        )
    return router


async def _other_methods(dealer_id: str) -> None:
    raise HTTPException(405, "Method Not Allowed", headers={"Allow": "GET, POST"})
