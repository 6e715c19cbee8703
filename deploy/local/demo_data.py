"""Realistic DMS work-order events, generated: for the demo (`make run`), the end-to-end test and
benchmarks. Deterministic for a given seed, so a run can be repeated exactly.

Names, plates and phones are made up; phones are written the many ways DMSs write them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "佳怡",
]
PROVINCES = {"dealer-sz-001": "粤B", "dealer-gz-003": "粤A", "dealer-bj-002": "京A"}
CARS = [
    ("大众", "帕萨特 330TSI"),
    ("丰田", "凯美瑞 2.5G"),
    ("本田", "雅阁 260TURBO"),
    ("比亚迪", "汉 EV"),
    ("别克", "GL8 ES"),
    ("日产", "轩逸 1.6XL"),
    ("吉利", "星越L"),
]
ITEMS = [
    ("BY-001", "更换机油机滤", 0.5, 458.0),
    ("BY-014", "更换空气滤清器", 0.2, 122.0),
    ("WX-203", "更换前刹车片", 1.0, 680.0),
    ("WX-118", "四轮定位", 0.8, 260.0),
    ("WX-330", "空调系统清洗", 0.6, 320.0),
    ("BY-020", "更换火花塞", 0.7, 540.0),
]
TYPES = ["maintenance", "maintenance", "repair", "保养", "维修", "warranty", "first_maintenance"]
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def vin_with_check_digit(rng: random.Random) -> str:
    """A 17-character VIN whose 9th character is the ISO 3779 check digit."""
    chars = ["L", "S", "V"] + [rng.choice(VIN_CHARS) for _ in range(14)]
    total = sum(VIN_VALUES[c] * w for c, w in zip(chars, VIN_WEIGHTS, strict=True))
    chars[8] = "X" if total % 11 == 10 else str(total % 11)
    return "".join(chars)


def phone_as_dms_writes_it(rng: random.Random, digits: str) -> str:
    styles = [
        digits,
        f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
        f"0086-{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
    ]
    return rng.choice(styles)


def plate(rng: random.Random, dealer_id: str, new_energy: bool) -> str:
    prefix = PROVINCES.get(dealer_id, "粤B")
    if new_energy:
        return f"{prefix}·D{rng.randint(10000, 99999)}"
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"{prefix}{rng.choice(letters)}{rng.randint(1000, 9999)}"


def work_order(
    rng: random.Random, dealer_id: str, number: int, settled_local: datetime, vin: str | None = None
) -> dict[str, Any]:
    """One `dms.workorder.closed` payload; `settled_local` is the dealer's local time."""
    brand, model = rng.choice(CARS)
    new_energy = brand == "比亚迪"
    chosen = rng.sample(ITEMS, rng.randint(1, 3))
    mobile = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    opened = settled_local - timedelta(hours=rng.randint(1, 3), minutes=rng.randint(0, 59))
    work_order_id = f"WO-{settled_local:%Y%m%d}-{number:04d}"
    return {
        "event_id": f"{dealer_id}:{work_order_id}:settled",
        "dealer_id": dealer_id,
        "work_order_id": work_order_id,
        "work_order_type": rng.choice(TYPES),
        "opened_at": opened.strftime("%Y-%m-%d %H:%M:%S"),
        "settled_at": settled_local.strftime("%Y-%m-%d %H:%M:%S"),
        "vin": vin or vin_with_check_digit(rng),
        "plate": plate(rng, dealer_id, new_energy),
        "brand": brand,
        "model": model,
        "mileage_km": rng.randint(800, 160000),
        "customer": {
            "customer_id": f"C-{rng.randint(10000, 99999)}",
            "name": name,
            "phone": phone_as_dms_writes_it(rng, mobile),
            "is_owner": rng.random() > 0.1,
            "birthday": f"{rng.randint(1960, 2000)}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}",
            "contact_consent": rng.random() > 0.05,
            "preferred_channel": rng.choice(["phone", "phone", "sms", None]),
        },
        "service_advisor": rng.choice(
            [
                {"id": "SA-007", "name": "王芳"},
                {"id": "SA-011", "name": "陈静"},
                {"id": "SA-015", "name": "赵磊"},
            ]
        ),
        "technicians": [
            rng.choice(
                [
                    {"id": "T-031", "name": "刘强"},
                    {"id": "T-044", "name": "孙杰"},
                    {"id": "T-052", "name": "周涛"},
                ]
            )
        ],
        "items": [{"code": c, "name": n, "labor_hours": h, "amount": a} for c, n, h, a in chosen],
        "total_amount": round(sum(a for *_, a in chosen), 2),
        "next_maintenance": {
            "due_date": (settled_local + timedelta(days=180)).date().isoformat(),
            "due_mileage_km": 5000 * rng.randint(2, 30),
        },
        "insurance_expiry": (settled_local + timedelta(days=rng.randint(20, 360)))
        .date()
        .isoformat(),
        "licence_expiry": (settled_local + timedelta(days=rng.randint(200, 3000)))
        .date()
        .isoformat(),
        "schema_version": 1,
    }


def demo_work_orders(
    count: int, dealers: list[str], start_local: datetime, days: int, seed: int = 7
) -> Iterator[dict[str, Any]]:
    """`count` work orders over `days` days from `start_local`, settled within 09:00–18:00."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        day = start_local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            days=rng.randrange(days)
        )
        settled = day + timedelta(hours=rng.randint(9, 17), minutes=rng.randint(0, 59))
        yield work_order(rng, dealers[number % len(dealers)], number, settled)
