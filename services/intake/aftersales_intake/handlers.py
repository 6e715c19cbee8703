"""Kafka subscribers: DMS topics into the pipeline; our agents' opt-outs onto the vehicle file.

The DMS subscribers take the raw bytes (a decoder that skips JSON parsing) so that even
input that is not JSON reaches the pipeline and is kept in the rejected inbox with its reasons
(D5). Input that breaks the transport contract (not JSON, schema, unknown dealer) is then also
parked on the dead-letter topic by raising PoisonMessage (issue 3).
"""

from __future__ import annotations

from typing import Any

from aftersales_contracts import CallOutcome, ContactResult, topics
from aftersales_runtime.deadletter import PoisonMessage
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage

from aftersales_intake.domain.vehicle_file import record_opt_out
from aftersales_intake.pipeline import Intake, Outcome
from aftersales_intake.settings import IntakeSettings

GROUP = "intake"


async def raw_body(msg: StreamMessage[Any]) -> bytes:
    return bytes(msg.body)


def _refuse_contract_breach(outcome: Outcome) -> None:
    if outcome.breaks_contract:
        codes = ",".join(sorted({r.code for r in outcome.reasons}))
        raise PoisonMessage(f"refused ({codes}); kept as rejection {outcome.rejection_id}")


def register(broker: KafkaBroker, settings: IntakeSettings, intake: Intake) -> None:
    @broker.subscriber(
        settings.topic(topics.DMS_WORKORDER_CLOSED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
        decoder=raw_body,
        title="dms.workorder.closed:intake",
        description="A settled DMS work order (DmsWorkOrderClosed JSON, see the DMS contract).",
    )
    async def when_dms_workorder_closed_take_in(body: bytes) -> None:
        _refuse_contract_breach(await intake.take_in(body, "workorder", "kafka"))

    @broker.subscriber(
        settings.topic(topics.DMS_VEHICLE_DELIVERED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
        decoder=raw_body,
        title="dms.vehicle.delivered:intake",
        description="A new-car handover (DmsVehicleDelivered JSON, see the DMS contract).",
    )
    async def when_dms_vehicle_delivered_take_in(body: bytes) -> None:
        _refuse_contract_breach(await intake.take_in(body, "delivery", "kafka"))

    @broker.subscriber(
        settings.topic(topics.CONTACT_RESULT),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_contact_opted_out_record_it(result: ContactResult) -> None:
        # D4: an opt-out heard by our agent outlives every later DMS record.
        if result.outcome is not CallOutcome.OPTED_OUT:
            return
        file = await intake.store.vehicle(result.dealer_id, result.vin)
        if file is None:
            return
        await intake.store.save_vehicle(
            record_opt_out(file, result.customer_id, result.contacted_at)
        )
