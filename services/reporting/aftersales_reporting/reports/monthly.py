"""The monthly report of one dealer: every report of D23-D27 from ~10 documents read by `_id`.

The top-level figures (`contacts_made` … `complaints_opened`) are the report's first shape,
kept for its callers; the sections below them are D23-D27.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import ComplaintGrade, Scores

from aftersales_reporting.ledger import Ledger
from aftersales_reporting.periods import previous_months
from aftersales_reporting.reports.figures import (
    DECLINED_OUTCOMES,
    UNREACHED_OUTCOMES,
    Doc,
    at,
    count_from,
    counts,
    histogram,
    mean_of,
)
from aftersales_reporting.reports.followup import complaints_report, followup_report
from aftersales_reporting.reports.retention import retention_report
from aftersales_reporting.reports.sales import FaceToFace, appointments_report, sales_report
from aftersales_reporting.reports.satisfaction import Thresholds, items_report, satisfaction_report
from aftersales_reporting.reports.staff import scorecard, staff_report
from aftersales_reporting.settings import ReportingSettings


def thresholds_of(settings: ReportingSettings) -> Thresholds:
    return Thresholds(
        satisfied_min=settings.satisfied_min_score,
        very_satisfied_min=settings.very_satisfied_min_score,
        very_dissatisfied_below=settings.very_dissatisfied_below,
        dissatisfied_below=settings.dissatisfied_below,
        strength_min_very_satisfied=settings.strength_min_very_satisfied,
        weakness_max_very_satisfied=settings.weakness_max_very_satisfied,
        weakness_min_dissatisfied=settings.weakness_min_dissatisfied,
        weakness_drop=settings.weakness_drop,
    )


def headline(results: Doc | None, complaints: Doc | None, t: Thresholds) -> Doc:
    """The first shape of the report (D23, D24): one attempt = one contact made (D15)."""
    outcome = counts(at(results, "outcome", {}))
    grades = counts(at(complaints, "grade", {}))
    overall = histogram(at(results, "hist.overall", {}))
    answered = sum(overall.values())
    return {
        "contacts_made": at(results, "made"),
        "reached": outcome.get("reached", 0),
        "unreached": sum(outcome.get(o, 0) for o in UNREACHED_OUTCOMES),
        "declined": sum(outcome.get(o, 0) for o in DECLINED_OUTCOMES),
        "average_scores": {
            item: mean_of(histogram(at(results, f"hist.{item}", {}))) for item in Scores.ITEMS
        },
        "scored_answers": answered,
        "satisfaction_rate": (
            round(count_from(overall, t.satisfied_min) / answered, 4) if answered else None
        ),
        "complaints_opened": {
            **{g.value: grades.get(g.value, 0) for g in ComplaintGrade},
            "total": sum(grades.get(g.value, 0) for g in ComplaintGrade),
        },
    }


#: The documents of a week's report: results (with the week's SSI), sales, appointments.
WEEKLY = (("results", "R"), ("sales", "S"), ("appointments", "A"))


@dataclass
class MonthlyReports:
    ledger: Ledger
    settings: ReportingSettings

    async def monthly(self, dealer_id: str, month: str) -> Doc:
        earlier = previous_months(month, max(self.settings.trend_months, 1))
        ids = {
            name: f"{prefix}/{dealer_id}/{month}"
            for name, prefix in (
                ("results", "R"),
                ("staff", "RS"),
                ("due", "D"),
                ("expired", "X"),
                ("complaints", "C"),
                ("visits", "W"),
                ("deliveries", "N"),
                ("sales", "S"),
                ("appointments", "A"),
            )
        }
        earlier_ids = {m: f"R/{dealer_id}/{m}" for m in earlier}
        found = await self.ledger.read([*ids.values(), *earlier_ids.values()])
        docs = {name: found.get(doc_id) for name, doc_id in ids.items()}
        previous = {m: found.get(doc_id) for m, doc_id in earlier_ids.items()}
        t = thresholds_of(self.settings)
        results, complaints = docs["results"], docs["complaints"]
        return {
            "dealer_id": dealer_id,
            "month": month,
            **headline(results, complaints, t),
            "followup": {
                **followup_report(results, docs["due"], docs["expired"]),
                "complaints": complaints_report(complaints),
            },
            "satisfaction": satisfaction_report(
                month, results, dict(list(previous.items())[: self.settings.trend_months]), t
            ),
            "items": items_report(results, previous[earlier[0]], t),
            "retention": retention_report(
                docs["visits"],
                docs["deliveries"],
                results,
                docs["due"],
                self.settings.arrival_target,
            ),
            "appointments": appointments_report(docs["appointments"]),
            "sales": sales_report(docs["sales"], docs["staff"], self.face_to_face(), t),
            "staff": staff_report(docs["staff"], complaints, t),
            "scorecard": scorecard(
                results,
                docs["staff"],
                complaints,
                self.settings.consultant_bands,
                self.settings.manager_bands,
                t,
            ),
        }

    def face_to_face(self) -> FaceToFace:
        return FaceToFace(
            self.settings.face_to_face_target, self.settings.face_to_face_missed_points
        )

    async def weekly(self, dealer_id: str, week: str) -> Doc:
        """D23/D24 weekly: the follow-up figures and satisfaction of an ISO week; D31 its
        appointments (week of the appointment's day); D24/D34 the sales side (deliveries of the
        week, their face-to-face coverage and points; SSI per consultant from the week's day-3
        sales calls, kept in the week's results document). Three reads by `_id`."""
        ids = {name: f"{prefix}/{dealer_id}/{week}" for name, prefix in WEEKLY}
        found = await self.ledger.read(ids.values())
        results, sales, appointments = (found.get(ids[name]) for name, _ in WEEKLY)
        t = thresholds_of(self.settings)
        report = followup_report(results, None, None)
        for unknown in ("planned", "expired"):
            report.pop(unknown)  # planned and expired are kept per month only
        return {
            "dealer_id": dealer_id,
            "week": week,
            "followup": report,
            "satisfaction": satisfaction_report(week, results, {}, t),
            "appointments": appointments_report(appointments),
            "sales": sales_report(sales, results, self.face_to_face(), t),
        }
