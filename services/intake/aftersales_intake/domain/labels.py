"""Work-order types and channels as DMSs write them, mapped onto the contract's values.

The contract knows one Chinese label per type; DMS exports use more (定期保养, 钣喷, 三包 …).
They are mapped here before the contract validates the record, so a file import and a webhook
accept the same words as the Kafka topic.
"""

from __future__ import annotations

from aftersales_contracts.dms import CHANNEL_LABELS, WORK_ORDER_TYPE_LABELS, WorkOrderType

from aftersales_intake.domain.text import halfwidth

EXTRA_WORK_ORDER_TYPE_LABELS: dict[str, WorkOrderType] = {
    "定期保养": WorkOrderType.MAINTENANCE,
    "常规保养": WorkOrderType.MAINTENANCE,
    "小保养": WorkOrderType.MAINTENANCE,
    "大保养": WorkOrderType.MAINTENANCE,
    "一般维修": WorkOrderType.REPAIR,
    "机修": WorkOrderType.REPAIR,
    "故障维修": WorkOrderType.REPAIR,
    "保修": WorkOrderType.WARRANTY,
    "三包": WorkOrderType.WARRANTY,
    "质保": WorkOrderType.WARRANTY,
    "事故车": WorkOrderType.ACCIDENT,
    "钣喷": WorkOrderType.ACCIDENT,
    "钣金喷漆": WorkOrderType.ACCIDENT,
    "首次保养": WorkOrderType.FIRST_MAINTENANCE,
    "召回活动": WorkOrderType.RECALL,
    "内部": WorkOrderType.OTHER,
}
ALL_WORK_ORDER_TYPE_LABELS = {**WORK_ORDER_TYPE_LABELS, **EXTRA_WORK_ORDER_TYPE_LABELS}


def map_work_order_type(value: object) -> object:
    """A known label → its canonical value; anything else unchanged (the contract judges it)."""
    if not isinstance(value, str):
        return value
    text = halfwidth(value).strip()
    found = ALL_WORK_ORDER_TYPE_LABELS.get(text)
    if found is not None:
        return found.value
    lowered = text.lower().replace(" ", "_").replace("-", "_")
    return lowered if lowered in {t.value for t in WorkOrderType} else value


def map_channel(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = halfwidth(value).strip()
    found = CHANNEL_LABELS.get(text)
    return found.value if found is not None else value
