"""The complaints service's Kafka subscribers: each one thin, calling exactly one use case."""

from __future__ import annotations

from collections.abc import Callable

from aftersales_contracts import ContactResult, topics
from aftersales_runtime.service import Runtime

from aftersales_complaints.contact_results import contact_result_recorded
from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.grading import GradingRules
from aftersales_complaints.settings import ComplaintsSettings

SERVICE = "complaints"


def register(
    runtime: Runtime,
    settings: ComplaintsSettings,
    desk: TicketDesk,
    grading_for: Callable[[str], GradingRules],
) -> None:
    runtime.uses_topics(topics.CONTACT_RESULT)
    group = settings.consumer_group(SERVICE)

    @runtime.broker.subscriber(
        settings.topic(topics.CONTACT_RESULT), group_id=group, auto_offset_reset="earliest"
    )
    async def on_contact_result(result: ContactResult) -> None:
        await contact_result_recorded(result, desk, grading_for(result.dealer_id))
