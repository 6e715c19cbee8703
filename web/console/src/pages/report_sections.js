// The monthly report's sections beyond the headline figures (reporting, D23-D27): follow-up,
// satisfaction bands, item strengths and weaknesses, retention rates against target, per-person
// satisfaction and the scorecard. Each is drawn only when the report holds it; a rate is
// {numerator, denominator, rate}.
import { currentLang, t } from "../i18n.js";
import { label } from "../ui.js";

export const SECTIONS = new Set(["followup", "satisfaction", "items", "retention", "staff", "scorecard", "week", "appointments", "sales"]);

const isRate = (x) => x && typeof x === "object" && "rate" in x && "denominator" in x;
const pct = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1)}%`);
const rateText = (x) => (isRate(x) ? `${pct(x.rate)} (${x.numerator}/${x.denominator})` : x ?? "—");
const listSeparator = () => (currentLang() === "zh" ? "、" : ", ");
const percent = (x) => (isRate(x) && x.rate !== null ? +(x.rate * 100).toFixed(1) : null);

// draw.bar(id, title, [[name, value]], opts), draw.table(id, title, [[name, text]]).
export function drawSections(report, draw) {
  const { followup, satisfaction, items, retention, staff, scorecard, appointments, sales } = report;
  if (followup) {
    const counts = ["planned", "made", "reached", "unreached", "declined", "expired"]
      .filter((k) => typeof followup[k] === "number").map((k) => [label(k, "fig"), followup[k]]);
    if (counts.length) draw.bar("sec-followup", t("sec.followup"), counts, {
      extra: [[label("timeliness_rate", "fig"), rateText(followup.timeliness_rate)]],
    });
    const issues = Object.entries(followup.issues_by_category || {}).map(([k, v]) => [label(k, "issue"), v]);
    if (issues.length) draw.bar("sec-issues", t("sec.issues"), issues);
    const c = followup.complaints;
    if (c) draw.table("sec-complaints", t("sec.complaints"), [
      ...["opened", "closed", "reopened", "still_open", "breached_tickets", "escalations"]
        .filter((k) => k in c).map((k) => [label(k, "fig"), c[k]]),
      [label("timely_handling_rate", "fig"), rateText(c.timely_handling_rate)],
    ]);
  }
  const sources = Object.entries(followup?.complaints?.opened_by_source || {});
  if (sources.some(([, v]) => v)) {
    draw.bar("sec-channels", t("sec.channels"), sources.map(([k, v]) => [label(k, "source"), v]), { y: { minInterval: 1 } });
  }
  if (appointments) {
    // D31: arrivals over kept and no-shows (appointments still ahead or cancelled are neither).
    const kinds = ["booked", "cancelled", "kept", "no_show"].filter((k) => typeof appointments[k] === "number");
    if (kinds.length) draw.bar("sec-appointments", t("sec.appointments"), kinds.map((k) => [label(k, "astate"), appointments[k]]), {
      y: { minInterval: 1 }, extra: [[t("arrivalRate"), rateText(appointments.arrival_rate)]],
    });
  }
  const f2f = sales?.face_to_face;
  if (f2f?.deliveries) {
    // D34: every delivery gets its face-to-face questionnaire; a missed one costs 10 points.
    draw.table("sec-face-to-face", t("sec.faceToFace"), [
      [t("deliveries"), f2f.deliveries], [t("surveyedCount"), f2f.surveyed], [t("missedCount"), f2f.missed],
      [t("coverage"), `${rateText(f2f.coverage)} · ${t("target")} ${pct(f2f.coverage?.target)}`],
      [t("penalty"), f2f.penalty_points],
    ]);
  }
  const consultants = sales?.consultants || [];
  if (consultants.length) {
    draw.bar("sec-consultants", t("sec.consultants"), consultants.map((c) => [c.name || c.id, percent(c.coverage) ?? 0]), {
      y: { min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      numbers: consultants.map((c) => [c.name || c.id, `${rateText(c.coverage)} · ${t("penalty")} ${c.penalty_points} · SSI ${rateText(c.ssi_satisfaction)}`]),
    });
  }
  if (satisfaction?.bands) {
    const bands = Object.entries(satisfaction.bands).map(([k, v]) => [label(k, "band"), v]);
    draw.bar("sec-bands", t("sec.bands"), bands, { extra: [[t("average"), satisfaction.average ?? "—"]] });
  }
  if (items?.items?.length) {
    const rows = items.items.map((i) => [label(i.item, "short"), percent(i.very_satisfied)]);
    draw.bar("sec-items", t("sec.items"), rows, {
      y: { min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      extra: [
        [t("strengths"), (items.strengths || []).map((i) => label(i, "short")).join(listSeparator()) || "—"],
        [t("weaknesses"), (items.weaknesses || []).map((i) => label(i, "short")).join(listSeparator()) || "—"],
      ],
    });
  }
  if (retention) {
    const rates = ["first_maintenance_rate", "due_maintenance_arrival_rate", "come_back_rate"]
      .filter((k) => isRate(retention[k]));
    const target = retention.due_maintenance_arrival_rate?.target;
    if (rates.length) draw.bar("sec-retention", t("sec.retention"), rates.map((k) => [label(k, "fig"), percent(retention[k])]), {
      y: { min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      target: target === undefined ? null : target * 100,
      numbers: rates.map((k) => [label(k, "fig"), rateText(retention[k])]),
      extra: target === undefined ? [] : [[t("target"), pct(target)]],
    });
  }
  for (const role of ["advisor", "technician", "consultant", "agent"]) {
    const people = staff?.[role] || [];
    if (!people.length) continue;
    const rows = people.map((p) => [p.name || p.id, percent(p.satisfaction) ?? 0]);
    draw.bar(`sec-staff-${role}`, `${t("sec.staff")} · ${label(role, "staffRole")}`, rows, {
      y: { min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      numbers: people.map((p) => [p.name || p.id, `${rateText(p.satisfaction)} · ${p.made ?? 0}/${p.reached ?? 0}`]),
    });
  }
  if (scorecard) {
    draw.table("sec-scorecard", t("sec.scorecard"), [
      [t("departmentScore"), scorecard.department_score ?? "—"],
      [t("consultantBonus"), scorecard.consultant_bonus ?? "—"],
      [t("managerBonus"), scorecard.manager_bonus ?? "—"],
      ...(scorecard.penalties || []).map((p) => [`${t("penalty")} ${p.person}`, p.points]),
    ]);
  }
}
