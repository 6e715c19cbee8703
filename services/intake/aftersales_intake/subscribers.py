"""Intake's Kafka subscribers, each calling one use case: the DMS topics into the pipeline
(`pipeline.Intake.take_in_many`, in batches); our contact results, in batches too, onto the
vehicle file (`contact_results.ContactResults.record`: opt-outs D4, data-check corrections D30).

The DMS subscribers take the raw bytes of each record (no JSON parsing before the pipeline) so
that even input that is not JSON reaches it and is kept in the rejected inbox with its reasons
(D5). Input that breaks the transport contract (not JSON, schema, unknown dealer) is then also
parked on the dead-letter topic, record by record, while the rest of its batch flows (issue 3).
"""

from __future__ import annotations

from collections.abc import Sequence

from aftersales_contracts import ContactResult, topics
from aftersales_runtime.batches import Received, Refused, batch_subscriber, parse_events
from aftersales_runtime.deadletter import PoisonMessage
from aftersales_runtime.service import Runtime

from aftersales_intake.contact_results import ContactResults
from aftersales_intake.domain.records import Kind
from aftersales_intake.pipeline import Intake, Outcome
from aftersales_intake.settings import IntakeSettings

GROUP = "intake"


def _contract_breach(outcome: Outcome) -> PoisonMessage | None:
    if not outcome.breaks_contract:
        return None
    codes = ",".join(sorted({r.code for r in outcome.reasons}))
    return PoisonMessage(f"refused ({codes}); kept as rejection {outcome.rejection_id}")


async def take_in_batch(intake: Intake, records: Sequence[Received], kind: Kind) -> list[Refused]:
    outcomes = await intake.take_in_many([r.value for r in records], kind, "kafka")
    return [
        Refused(record, breach)
        for record, outcome in zip(records, outcomes, strict=True)
        if (breach := _contract_breach(outcome)) is not None
    ]


def register(
    runtime: Runtime, settings: IntakeSettings, intake: Intake, results: ContactResults
) -> None:
    broker = runtime.broker
    runtime.uses_topics(
        topics.DMS_WORKORDER_CLOSED, topics.DMS_VEHICLE_DELIVERED, topics.CONTACT_RESULT
    )

    @batch_subscriber(
        broker,
        settings,
        topics.DMS_WORKORDER_CLOSED,
        group=GROUP,
        batch=settings,
        paced=False,
        title="dms.workorder.closed:intake",
        description="Settled DMS work orders (DmsWorkOrderClosed JSON, see the DMS contract), "
        "consumed in batches.",
    )
    async def when_dms_workorders_closed_take_in(records: Sequence[Received]) -> list[Refused]:
        return await take_in_batch(intake, records, "workorder")

    @batch_subscriber(
        broker,
        settings,
        topics.DMS_VEHICLE_DELIVERED,
        group=GROUP,
        batch=settings,
        paced=False,
        title="dms.vehicle.delivered:intake",
        description="New-car handovers (DmsVehicleDelivered JSON, see the DMS contract), "
        "consumed in batches.",
    )
    async def when_dms_vehicles_delivered_take_in(records: Sequence[Received]) -> list[Refused]:
        return await take_in_batch(intake, records, "delivery")

    @batch_subscriber(
        broker,
        settings,
        topics.CONTACT_RESULT,
        group=GROUP,
        batch=settings,
        title="aftersales.contact.result:intake",
        description="Contact results (ContactResult), consumed in batches: D4 opt-outs and D30 "
        "corrections onto the vehicle file (most results concern no file).",
    )
    async def when_contact_results_record_them_on_the_files(
        records: Sequence[Received],
    ) -> list[Refused]:
        events, refused = parse_events(records, ContactResult)
        for result in events:
            await results.record(result)
        return refused
