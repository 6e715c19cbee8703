"""Subscribers' work: every contact result and complaint event becomes one stored fact."""

from __future__ import annotations

import logging

from aftersales_contracts import ComplaintEvent, ContactResult

from aftersales_reporting.store import ReportingStore


async def record_contact_result(
    event: ContactResult, store: ReportingStore, logger: logging.Logger
) -> None:
    added = await store.add_result(event)
    logger.info(
        "contact result counted" if added else "contact result already counted",
        extra={"event_id": event.event_id, "dealer_id": event.dealer_id},
    )


async def record_complaint_event(
    event: ComplaintEvent, store: ReportingStore, logger: logging.Logger
) -> None:
    added = await store.add_complaint_event(event)
    logger.info(
        "complaint event counted" if added else "complaint event already counted",
        extra={"event_id": event.event_id, "kind": event.kind.value, "dealer_id": event.dealer_id},
    )
