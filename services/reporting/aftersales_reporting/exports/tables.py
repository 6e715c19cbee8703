"""The monthly report laid out as tables: what both exports print, in the same order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Cell = str | int | float | None
Doc = dict[str, Any]

OUTCOMES = {
    "no_answer": "无人接听",
    "busy": "占线",
    "call_back_later": "约定再回电",
    "wrong_number": "号码错误",
    "refused": "拒绝回访",
    "opted_out": "拒绝再联系",
}
ITEMS = {
    "attitude": "服务态度",
    "environment": "维修站环境",
    "service_process": "服务流程",
    "quality": "维修质量",
    "charges": "维修收费",
    "timeliness": "维修及时性",
    "overall": "总体满意度",
}
ROLES = {
    "advisor": "服务顾问",
    "technician": "维修技师",
    "consultant": "销售顾问",
    "agent": "回访专员",
}
SOURCES = {
    "follow_up": "回访",
    "hotline": "热线来电",
    "website": "网站",
    "email": "电子邮件",
    "letter": "来函",
    "walk_in": "到店",
    "oem": "厂家转办",
    "colleague": "同事转告",
}
APPOINTMENTS = {"booked": "预约数", "cancelled": "取消数", "kept": "到店数", "no_show": "爽约数"}
KINDS = {"strength": "优势项目", "weakness": "劣势项目", None: ""}
RATE_HEADERS = ["指标", "数值", "分子", "分母", "比率"]


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]]


def _rate(label: str, figure: Doc) -> list[Cell]:
    return [label, figure["rate"], figure["numerator"], figure["denominator"], figure["rate"]]


def _count(label: str, value: int) -> list[Cell]:
    return [label, value, None, None, None]


def followup(report: Doc) -> Table:
    f, c = report["followup"], report["followup"]["complaints"]
    rows = [
        _count("计划回访数", f["planned"]),
        _count("已回访数（次）", f["made"]),
        _count("成功回访数", f["reached"]),
        _count("未接通数", f["unreached"]),
        *[_count(f"未接通-{OUTCOMES[k]}", v) for k, v in f["unreached_by_reason"].items()],
        *[_count(f"拒访-{OUTCOMES[k]}", v) for k, v in f["declined_by_reason"].items()],
        _count("逾期未回访数", f["expired"]),
        _rate("回访及时率", f["timeliness_rate"]),
        *[_count(f"客户问题-{code}", n) for code, n in sorted(f["issues_by_category"].items())],
        _count("新开投诉单", c["opened"]),
        *[_count(f"投诉单-{g}级", n) for g, n in c["opened_by_grade"].items()],
        *[_count(f"投诉渠道-{SOURCES[k]}", n) for k, n in c["opened_by_source"].items()],
        _count("关闭投诉单", c["closed"]),
        _count("重开投诉单", c["reopened"]),
        _count("未关闭投诉单", c["still_open"]),
        _rate("投诉及时处理完成率", c["timely_handling_rate"]),
    ]
    return Table("回访月报", RATE_HEADERS, rows)


def satisfaction(report: Doc) -> Table:
    s = report["satisfaction"]
    bands = {
        "very_satisfied": "非常满意",
        "satisfied": "满意",
        "dissatisfied": "不满意",
        "very_dissatisfied": "非常不满意",
    }
    rows = [
        _rate("满意度", s),
        _count("平均分", s["average"]),
        *[_count(f"人数-{label}", s["bands"][k]) for k, label in bands.items()],
        *[_rate(f"满意度-{t['month']}", t) for t in s["trend"]],
    ]
    return Table("满意度", RATE_HEADERS, rows)


def items(report: Doc) -> Table:
    headers = [
        "项目",
        "回答数",
        "平均分",
        "非常满意数",
        "非常满意率",
        "不满意数",
        "不满意率",
        "上月非常满意率",
        "下降",
        "结论",
    ]
    rows: list[list[Cell]] = [
        [
            ITEMS.get(i["item"], i["item"]),
            i["answered"],
            i["average"],
            i["very_satisfied"]["numerator"],
            i["very_satisfied"]["rate"],
            i["dissatisfied"]["numerator"],
            i["dissatisfied"]["rate"],
            i["previous_very_satisfied_share"],
            i["very_satisfied_drop"],
            KINDS[i["kind"]],
        ]
        for i in report["items"]["items"]
    ]
    return Table("优劣势项目", headers, rows)


def retention(report: Doc) -> Table:
    r = report["retention"]
    lapsed = r["lapsed_customers"]
    rows = [
        _rate("首保率", r["first_maintenance_rate"]),
        _rate("到期保养到店率", r["due_maintenance_arrival_rate"]),
        _count("到店率目标（%）", round(r["due_maintenance_arrival_rate"]["target"] * 100)),
        _rate("返修率", r["come_back_rate"]),
        _count("流失客户召回-计划", lapsed["recalls_planned"]),
        _count("流失客户召回-已联系", lapsed["recalls_made"]),
        _count("流失客户召回-接通", lapsed["recalls_reached"]),
        *[_count(f"流失原因-{code}", n) for code, n in sorted(lapsed["churn_by_reason"].items())],
        _count("工单数", r["work_orders"]),
        _count("新车交付数", r["new_cars_delivered"]),
    ]
    return Table("保养与流失", RATE_HEADERS, rows)


def appointments(report: Doc) -> Table:
    a = report["appointments"]
    rows = [
        *[_count(label, a[kind]) for kind, label in APPOINTMENTS.items()],
        _rate("预约到店率", a["arrival_rate"]),
    ]
    return Table("预约", RATE_HEADERS, rows)


def sales(report: Doc) -> Table:
    """D34 face-to-face coverage and D24 SSI per sales consultant."""
    f = report["sales"]["face_to_face"]
    headers = [
        "销售顾问",
        "姓名",
        "交车数",
        "面访数",
        "未面访数",
        "面访覆盖率",
        "目标",
        "扣分",
        "面访满意度",
        "面访平均分",
        "SSI回访数",
        "SSI满意数",
        "SSI回答数",
        "SSI满意度",
    ]
    rows: list[list[Cell]] = [
        [
            "合计",
            None,
            f["deliveries"],
            f["surveyed"],
            f["missed"],
            f["coverage"]["rate"],
            f["coverage"]["target"],
            f["penalty_points"],
            None,
            None,
            None,
            None,
            None,
            None,
        ]
    ]
    for c in report["sales"]["consultants"]:
        ssi = c["ssi_satisfaction"]
        rows.append(
            [
                c["id"],
                c["name"],
                c["deliveries"],
                c["surveyed"],
                c["missed"],
                c["coverage"]["rate"],
                f["coverage"]["target"],
                c["penalty_points"],
                c["face_to_face_satisfaction"]["rate"],
                c["face_to_face_satisfaction"]["average"],
                c["ssi_calls_made"],
                ssi["numerator"],
                ssi["denominator"],
                ssi["rate"],
            ]
        )
    return Table("销售面访与SSI", headers, rows)


def scorecard(report: Doc) -> Table:
    s = report["scorecard"]
    rows: list[list[Cell]] = [
        ["客户部回访成绩", None, s["department_score"], None],
        ["回访专员奖惩（元）", None, s["consultant_bonus"], None],
        ["客户关系经理奖惩（元）", None, s["manager_bonus"], None],
        *[["回访专员", c["id"], c["bonus"], c["penalty_points"]] for c in s["consultants"]],
        *[["扣分", p["person"], None, p["points"]] for p in s["penalties"]],
    ]
    return Table("考核", ["项目", "人员", "成绩/奖惩", "扣分"], rows)


def staff(report: Doc) -> Table:
    headers = [
        "角色",
        "工号",
        "姓名",
        "回访数",
        "成功数",
        "满意数",
        "回答数",
        "满意度",
        *ITEMS.values(),
        "低于8分工单",
    ]
    rows: list[list[Cell]] = []
    for role, people in report["staff"].items():
        for p in people:
            sat = p["satisfaction"]
            rows.append(
                [
                    ROLES[role],
                    p["id"],
                    p["name"],
                    p["made"],
                    p["reached"],
                    sat["numerator"],
                    sat["denominator"],
                    sat["rate"],
                    *[p["item_averages"].get(i) for i in ITEMS],
                    p.get("tickets_opened"),
                ]
            )
    return Table("人员成绩", headers, rows)


def tables(report: Doc) -> list[Table]:
    return [
        followup(report),
        satisfaction(report),
        items(report),
        retention(report),
        appointments(report),
        sales(report),
        scorecard(report),
        staff(report),
    ]


def title_of(report: Doc) -> str:
    return f"{report['dealer_id']} {report['month']} 售后回访月报"
