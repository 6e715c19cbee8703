"""Read models of a large history, loaded in bulk straight into the database (no events): the
counters a history of N contact results and M tickets leaves, with the shapes the projections
write (`aftersales_reporting.project_*`). Figures are random but consistent (sums add up)."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from aftersales_contracts import ComplaintGrade, Scores
from aftersales_reporting.ledger import COUNTERS, ENTITIES, key_part

Doc = dict[str, Any]
OUTCOMES = ("reached",) * 6 + ("no_answer", "busy", "call_back_later", "wrong_number", "refused")
ISSUES = ("waiting_time", "price", "quality", "attitude", "parts", "environment")
LAPSES = ("forgot", "other_workshop", "complaint", "natural_churn", "confidence", "service")
ADVISORS = [f"sa-{n:02d}" for n in range(10)]
TECHNICIANS = [f"tech-{n:02d}" for n in range(15)]
AGENTS = [f"agent-{n:02d}" for n in range(5)]
CONSULTANTS = [f"sc-{n:02d}" for n in range(3)]


def months(count: int, last: str) -> list[str]:
    year, month = int(last[:4]), int(last[5:])
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found[::-1]


def nested(flat: dict[str, Any]) -> Doc:
    doc: Doc = {}
    for path, value in flat.items():
        at = doc
        *parents, leaf = path.split(".")
        for part in parents:
            at = at.setdefault(part, {})
        at[leaf] = value
    return doc


def _result(rng: random.Random, totals: list[dict[str, int]], staff: dict[str, int]) -> None:
    outcome = rng.choice(OUTCOMES)
    advisor, tech, agent = rng.choice(ADVISORS), rng.choice(TECHNICIANS), rng.choice(AGENTS)
    people = [f"advisor.{advisor}", f"technician.{tech}", f"agent.{agent}"]
    if rng.random() < 0.1:
        people.append(f"consultant.{rng.choice(CONSULTANTS)}")
    for flat in totals:
        flat["made"] += 1
        flat[f"outcome.{outcome}"] += 1
        flat["purpose.service_call_day3.made"] += 1
    for person in people:
        staff[f"{person}.made"] += 1
    if outcome != "reached":
        return
    scores = {item: min(10, max(0, int(rng.gauss(8.6, 1.4)))) for item in Scores.ITEMS}
    timely, fixed = rng.random() < 0.9, rng.random() < 0.95
    issue = rng.choice(ISSUES) if rng.random() < 0.2 else None
    for flat in totals:
        flat["purpose.service_call_day3.reached"] += 1
        for item, score in scores.items():
            flat[f"hist.{item}.s{score}"] += 1
        flat["timely.n"] += 1
        flat["timely.yes"] += int(timely)
        flat[f"yes_no.fixed_first_time.{'yes' if fixed else 'no'}"] += 1
        if issue:
            flat[f"issues.{issue}"] += 1
    for person in people:
        staff[f"{person}.reached"] += 1
        staff[f"{person}.hist.s{scores['overall']}"] += 1
        for item, score in scores.items():
            staff[f"{person}.sum.{item}"] += score
            staff[f"{person}.n.{item}"] += 1
        staff[f"{person}.ftf.{'yes' if fixed else 'no'}"] += 1
        staff[f"{person}.timely.n"] += 1
        staff[f"{person}.timely.yes"] += int(timely)


def dealer_month(
    rng: random.Random, dealer: str, month: str, results: int, tickets: int
) -> list[Doc]:
    """The counter documents of one dealer-month (month, its weeks, staff, due, expired,
    complaints, visits, deliveries), as the projections leave them."""
    total: dict[str, int] = defaultdict(int)
    weeks: list[dict[str, int]] = [defaultdict(int) for _ in range(4)]
    staff: dict[str, int] = defaultdict(int)
    for n in range(results):
        _result(rng, [total, weeks[n % 4]], staff)
    for _ in range(results // 50):
        total[f"lapse.{rng.choice(LAPSES)}"] += 1
    complaints: dict[str, int] = defaultdict(int)
    for _ in range(tickets):
        grade = rng.choice(list(ComplaintGrade)).value
        advisor = rng.choice(ADVISORS)
        complaints["opened"] += 1
        complaints[f"grade.{grade}"] += 1
        complaints[f"advisor.{advisor}.opened"] += 1
        complaints[f"advisor.{advisor}.grade.{grade}"] += 1
        breached = rng.random() < 0.1
        complaints["breached_of_opened"] += int(breached)
        if rng.random() < 0.85:
            complaints["closed"] += 1
            complaints["closed_of_opened"] += 1
            complaints["timely_of_opened"] += int(not breached)
        if breached:
            complaints[f"penalty.{advisor}.points"] += 10
            complaints[f"penalty.{advisor}.tickets"] += 1
    names = {f"names.advisor.{a}": f"顾问{a[-2:]}" for a in ADVISORS}
    offsets = {"offsets": {key_part("bench.aftersales.contact.result:0"): results}}
    planned = int(results * 0.8)
    docs = [
        {"_id": f"R/{dealer}/{month}", **nested(total), **offsets},
        {"_id": f"RS/{dealer}/{month}", **nested(staff), **nested(names), **offsets},
        {
            "_id": f"D/{dealer}/{month}",
            **nested(
                {
                    "planned": planned,
                    "attempts": results,
                    "planned_purpose.service_call_day3": planned,
                }
            ),
        },
        {"_id": f"X/{dealer}/{month}", **nested({"expired": results // 40})},
        {"_id": f"C/{dealer}/{month}", **nested(complaints)},
        {
            "_id": f"W/{dealer}/{month}",
            **nested(
                {
                    "work_orders": planned,
                    "type.maintenance": planned // 2,
                    "type.first_maintenance": planned // 10,
                    "due": planned // 2,
                    "due_arrived": planned // 5,
                }
            ),
        },
        {
            "_id": f"N/{dealer}/{month}",
            **nested({"delivered": planned // 8, "first_due": planned // 8}),
        },
    ]
    docs += [{"_id": f"R/{dealer}/{month}-W{n}", **nested(flat)} for n, flat in enumerate(weeks)]
    return docs


def ticket_entities(dealer: str, month: str, tickets: int) -> list[Doc]:
    return [
        {
            "_id": f"T/{dealer}/{month}-{n}",
            "opened_month": month,
            "grade": "C",
            "opened": True,
            "breached": False,
            "closed": True,
            "closed_timely": True,
        }
        for n in range(tickets)
    ]


__all__ = ["COUNTERS", "ENTITIES", "dealer_month", "months", "ticket_entities"]
