"""The shipped default questionnaires and coded lists (D7, D11, D15-D17, D34).

Data, in the shape of a catalogue file (``DEFAULT_CATALOGUE``), so the defaults and a dealer's
own file go through the same validation.
"""

from __future__ import annotations

from typing import Any

from aftersales_contracts.events import FIXED_FIRST_TIME, ContactPurpose

from .model import OTHER, ItemKind

#: Short names of the items (an SMS survey lists them by these).
LABELS: dict[str, tuple[str, str]] = {
    "attitude": ("服务态度", "attitude"),
    "environment": ("维修站环境", "environment"),
    "service_process": ("服务过程", "service process"),
    "quality": ("维修质量", "repair quality"),
    "charges": ("维修收费", "charges"),
    "timeliness": ("交车及时", "timeliness"),
    "overall": ("总体满意度", "overall"),
    FIXED_FIRST_TIME: ("是否一次修复", "fixed first time"),
    "purchase_environment": ("购车环境", "purchase environment"),
    "viewing": ("看车", "viewing"),
    "price_payment": ("价格与付款", "price and payment"),
    "delivery": ("交车过程", "delivery"),
    "follow_up": ("跟进服务", "follow-up"),
    "process_kept": ("流程执行", "process kept"),
    "consultant_etiquette": ("顾问礼仪", "etiquette"),
    "product_knowledge": ("产品知识与演示", "product knowledge"),
    "delivery_time": ("交车时间", "delivery time"),
    "test_drive_invited": ("是否邀请试驾", "test drive invited"),
}


def _item(item_id: str, kind: ItemKind, zh: str, en: str) -> dict[str, Any]:
    label = LABELS[item_id]
    return {
        "id": item_id,
        "kind": kind.value,
        "text": {"zh": zh, "en": en},
        "label": {"zh": label[0], "en": label[1]},
    }


S, YN = ItemKind.SCORE, ItemKind.YES_NO
_SCALE_ZH = "0分表示非常不满意，10分表示非常满意"
_SCALE_EN = "0 = very dissatisfied, 10 = very satisfied"

#: D16: the after-service CSI (3-day call, day-7 survey, day-30 call), worded without leading.
CSI_ITEMS = [
    _item(
        "attitude",
        S,
        f"请您为我们工作人员的服务态度打分（{_SCALE_ZH}）。",
        f"How would you score our staff's attitude ({_SCALE_EN})?",
    ),
    _item(
        "environment",
        S,
        f"请您为维修站的环境打分（{_SCALE_ZH}）。",
        f"How would you score the workshop's environment ({_SCALE_EN})?",
    ),
    _item(
        "service_process",
        S,
        f"请您为服务过程打分，包括接待、维修项目说明和交车（{_SCALE_ZH}）。",
        "How would you score the service process: reception, explanation of the work and "
        f"handover ({_SCALE_EN})?",
    ),
    _item(
        "quality",
        S,
        f"请您为本次维修质量打分（{_SCALE_ZH}）。",
        f"How would you score the quality of the repair ({_SCALE_EN})?",
    ),
    _item(
        "charges",
        S,
        f"请您为本次维修收费的合理性和透明度打分（{_SCALE_ZH}）。",
        f"How would you score the fairness and clarity of the charges ({_SCALE_EN})?",
    ),
    _item(
        "timeliness",
        S,
        f"请您为交车时间与承诺时间的相符程度打分（{_SCALE_ZH}）。",
        f"How would you score keeping to the promised handover time ({_SCALE_EN})?",
    ),
    _item(
        "overall",
        S,
        f"请您为本次服务的总体满意度打分（{_SCALE_ZH}）。",
        f"How would you score the service overall ({_SCALE_EN})?",
    ),
    _item(
        FIXED_FIRST_TIME,
        YN,
        "您车辆的问题这次是否一次修复？（是/否）",
        "Was the fault fixed the first time? (yes/no)",
    ),
]

#: D17: the sales SSI (new-car delivery call, D8), the dealer's items and the OEM's delivery items.
SSI_ITEMS = [
    _item(
        "purchase_environment",
        S,
        f"请您为展厅的购车环境打分（{_SCALE_ZH}）。",
        f"How would you score the showroom's environment ({_SCALE_EN})?",
    ),
    _item(
        "viewing",
        S,
        f"请您为看车过程打分（{_SCALE_ZH}）。",
        f"How would you score viewing the cars ({_SCALE_EN})?",
    ),
    _item(
        "price_payment",
        S,
        f"请您为价格与付款过程打分（{_SCALE_ZH}）。",
        f"How would you score the price and payment process ({_SCALE_EN})?",
    ),
    _item(
        "delivery",
        S,
        f"请您为交车过程打分（{_SCALE_ZH}）。",
        f"How would you score the delivery ({_SCALE_EN})?",
    ),
    _item(
        "follow_up",
        S,
        f"请您为购车后的跟进服务打分（{_SCALE_ZH}）。",
        f"How would you score our follow-up after the purchase ({_SCALE_EN})?",
    ),
    _item(
        "process_kept",
        S,
        f"请您为销售顾问按约定流程为您服务的情况打分（{_SCALE_ZH}）。",
        f"How would you score how the promised sales process was carried out ({_SCALE_EN})?",
    ),
    _item(
        "consultant_etiquette",
        S,
        f"请您为销售顾问的礼仪打分（{_SCALE_ZH}）。",
        f"How would you score the sales consultant's manners ({_SCALE_EN})?",
    ),
    _item(
        "product_knowledge",
        S,
        f"请您为销售顾问的产品知识和功能演示打分（{_SCALE_ZH}）。",
        "How would you score the consultant's product knowledge and feature demonstration "
        f"({_SCALE_EN})?",
    ),
    _item(
        "delivery_time",
        S,
        f"请您为交车时间打分（{_SCALE_ZH}）。",
        f"How would you score the delivery time ({_SCALE_EN})?",
    ),
    _item(
        "overall",
        S,
        f"请您为本次交车的总体满意度打分（{_SCALE_ZH}）。",
        f"How would you score the delivery overall ({_SCALE_EN})?",
    ),
    _item(
        "test_drive_invited",
        YN,
        "销售顾问是否邀请您试乘试驾？（是/否）",
        "Did the sales consultant invite you to a test drive? (yes/no)",
    ),
]

#: D17/D34: the OEM's delivery items, asked face to face at the handover (the consultant's
#: etiquette, product knowledge and demonstration, the test-drive invitation, the delivery time
#: and the overall delivery satisfaction).
DELIVERY_SURVEY_ITEMS = [
    item
    for item in SSI_ITEMS
    if item["id"]
    in (
        "consultant_etiquette",
        "product_knowledge",
        "delivery_time",
        "overall",
        "test_drive_invited",
    )
]

#: D7: the day-7 SMS survey asks what a customer can answer by typing a few numbers: the five
#: source items of the CSI and the overall score (the attitude question opens a call; the
#: first-time fix was asked on the day-3 call), in this order: a reply `9 9 8 10 9 7`.
SMS_SURVEY_ITEMS = [item for item in CSI_ITEMS if item["id"] not in ("attitude", FIXED_FIRST_TIME)]

#: D15/D23 issue categories (configurable list).
ISSUE_CATEGORIES = {
    "waiting_time": {"zh": "等待时间", "en": "Waiting time"},
    "price": {"zh": "价格", "en": "Price"},
    "quality": {"zh": "维修质量", "en": "Repair quality"},
    "attitude": {"zh": "服务态度", "en": "Attitude"},
    "parts": {"zh": "配件", "en": "Parts"},
    "environment": {"zh": "环境", "en": "Environment"},
    OTHER: {"zh": "其他", "en": "Other"},
}

#: D11 reasons a lapsed customer gives (configurable list).
LAPSE_REASONS = {
    "misunderstood_intervals": {"zh": "对保养周期有误解", "en": "Misunderstood the intervals"},
    "not_notified": {"zh": "忘记或未被通知", "en": "Forgot, or was never notified"},
    "other_workshop": {"zh": "去了其他维修厂", "en": "Went to another workshop"},
    "unresolved_complaint": {"zh": "投诉未解决", "en": "Unresolved complaint"},
    "natural_churn": {"zh": "自然流失", "en": "Natural churn"},
    "lost_brand_confidence": {"zh": "对品牌失去信心", "en": "Lost confidence in the brand"},
    "unsatisfying_service": {"zh": "服务不满意", "en": "Unsatisfying service"},
    OTHER: {"zh": "其他", "en": "Other"},
}

CSI_ID = "csi-after-service"
SMS_SURVEY_ID = "csi-sms-survey"
SSI_ID = "ssi-new-car"
DELIVERY_SURVEY_ID = "delivery-face-to-face"

DEFAULT_CATALOGUE: dict[str, Any] = {
    "questionnaires": [
        {
            "id": CSI_ID,
            "version": 1,
            "title": {"zh": "售后服务满意度问卷", "en": "After-service satisfaction (CSI)"},
            "purposes": [
                ContactPurpose.SERVICE_CALL_DAY3.value,
                ContactPurpose.SERVICE_CALL_DAY30.value,
            ],
            "items": CSI_ITEMS,
        },
        {
            "id": SMS_SURVEY_ID,
            "version": 1,
            "title": {"zh": "售后服务短信满意度问卷", "en": "After-service SMS survey (CSI)"},
            "purposes": [ContactPurpose.SMS_SURVEY_DAY7.value],
            "items": SMS_SURVEY_ITEMS,
        },
        {
            "id": SSI_ID,
            "version": 1,
            "title": {"zh": "新车销售满意度问卷", "en": "Sales satisfaction (SSI)"},
            "purposes": [ContactPurpose.SALES_CALL_DAY3.value],
            "items": SSI_ITEMS,
        },
        {
            "id": DELIVERY_SURVEY_ID,
            "version": 1,
            "title": {"zh": "交车当面满意度问卷", "en": "Face-to-face delivery questionnaire"},
            "purposes": [ContactPurpose.DELIVERY_SURVEY.value],
            "items": DELIVERY_SURVEY_ITEMS,
        },
    ],
    "issue_categories": {"codes": ISSUE_CATEGORIES},
    "lapse_reasons": {"codes": LAPSE_REASONS},
}
