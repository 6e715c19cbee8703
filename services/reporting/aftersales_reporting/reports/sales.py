"""The sales side's figures (D24 SSI per sales consultant, D34 face-to-face coverage) and the
workshop's appointments (D31)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import AppointmentEventKind

from aftersales_reporting.reports.figures import Doc, at, histogram, rate
from aftersales_reporting.reports.satisfaction import Thresholds, satisfaction


@dataclass(frozen=True)
class FaceToFace:
    target: float  # D34: 100 % of the month's deliveries surveyed
    missed_points: int  # D34: per delivery without a questionnaire


def _consultant(
    person: str, sales: Doc | None, staff: Doc | None, f2f: FaceToFace, t: Thresholds
) -> Doc:
    figures: Doc = at(sales, f"consultant.{person}", {})
    ssi: Doc = at(staff, f"ssi.{person}", {})
    delivered, surveyed = figures.get("delivered", 0), figures.get("surveyed", 0)
    missed = max(delivered - surveyed, 0)
    name = at(sales, f"names.consultant.{person}", None) or at(
        staff, f"names.consultant.{person}", None
    )
    return {
        "id": person,
        "name": name,
        "deliveries": delivered,
        "surveyed": surveyed,
        "missed": missed,
        "coverage": rate(surveyed, delivered),
        "coverage_met": delivered == 0 or surveyed / delivered >= f2f.target,
        "penalty_points": missed * f2f.missed_points,
        "face_to_face_satisfaction": satisfaction(histogram(figures.get("f2f")), t),
        "ssi_calls_made": ssi.get("made", 0),
        "ssi_calls_reached": ssi.get("reached", 0),
        "ssi_satisfaction": satisfaction(histogram(ssi.get("hist")), t),
    }


def sales_report(sales: Doc | None, staff: Doc | None, f2f: FaceToFace, t: Thresholds) -> Doc:
    """D34: each consultant's deliveries of the period (month or ISO week of `delivered_at`)
    against their face-to-face questionnaires, 10 points per delivery missed; D24: SSI per
    consultant from the period's day-3 sales calls (`staff`: a document with `ssi.{id}`) and
    from the questionnaires' overall scores."""
    delivered, surveyed = at(sales, "delivered"), at(sales, "surveyed")
    people = sorted({*at(sales, "consultant", {}), *at(staff, "ssi", {})})
    consultants = [_consultant(p, sales, staff, f2f, t) for p in people]
    return {
        "face_to_face": {
            "deliveries": delivered,
            "surveyed": surveyed,
            "missed": max(delivered - surveyed, 0),
            "coverage": {**rate(surveyed, delivered), "target": f2f.target},
            "penalty_points": sum(c["penalty_points"] for c in consultants),
        },
        "consultants": consultants,
    }


def appointments_report(appointments: Doc | None) -> Doc:
    """D31: the period's appointments (of the appointment's day) and the arrival rate:
    kept over kept and no-shows (appointments still ahead or cancelled are neither)."""
    kinds = {k.value: at(appointments, f"kind.{k.value}") for k in AppointmentEventKind}
    kept, no_show = kinds["kept"], kinds["no_show"]
    return {**kinds, "arrival_rate": rate(kept, kept + no_show)}
