// The monthly report as charts (ECharts, bundled) with the numbers behind each chart, the
// satisfaction trend over six months and the XLSX/PDF downloads. Whatever the report JSON holds
// is shown: known sections as their own charts, any other section of numbers generically.
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { api, platformNow } from "../api.js";
import { t } from "../i18n.js";
import { html, label, latestLoads, raw, say } from "../ui.js";
import { SECTIONS, drawSections } from "./report_sections.js";

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

const KNOWN = new Set(["dealer_id", "month", "contacts_made", "reached", "unreached", "declined",
  "average_scores", "scored_answers", "satisfaction_rate", "complaints_opened"]);
const COLORS = ["#1f5fa8", "#2e8540", "#b35c00", "#8a2be2", "#c0392b", "#0f7b7b", "#5d6d7e"];

function monthOf(date) {
  const local = new Date(date.getTime() + 8 * 3600_000); // the dealers' zone, Asia/Shanghai
  return local.toISOString().slice(0, 7);
}

function previousMonths(month, count) {
  const [y, m] = month.split("-").map(Number);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(y, m - 1 - (count - 1 - i), 1));
    return d.toISOString().slice(0, 7);
  });
}

function pct(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

function numberTable(rows) {
  return html`<table class="numbers"><caption class="sr-only">${t("numbers")}</caption><tbody>
    ${rows.map(([k, v]) => raw(html`<tr><th scope="row">${k}</th><td>${v ?? "—"}</td></tr>`))}</tbody></table>`;
}

export function render(main, { dealer }) {
  const charts = [];
  main.innerHTML = html`
    <form id="month-form" class="toolbar">
      <label for="month">${t("month")}</label>
      <input id="month" name="month" type="month" value="${monthOf(platformNow())}" required />
      <button type="submit">${t("refresh")}</button>
      <button type="button" data-format="xlsx">${t("downloadXlsx")}</button>
      <button type="button" data-format="pdf">${t("downloadPdf")}</button>
    </form>
    <p data-role="message" class="message" role="status" aria-live="polite"></p>
    <section id="kpis" class="kpis" aria-label="${t("numbers")}"></section>
    <div id="panels" class="panels"></div>`;
  const form = main.querySelector("#month-form");
  form.onsubmit = (e) => { e.preventDefault(); load(); };
  main.querySelectorAll("[data-format]").forEach((b) => { b.onclick = () => download(b.dataset.format); });

  function panel(id, title, numbers, withChart = true) {
    const box = document.createElement("section");
    box.className = `card panel${withChart ? "" : " numbers-only"}`;
    box.setAttribute("aria-labelledby", `${id}-title`);
    box.innerHTML = html`<h2 id="${id}-title">${title}</h2><div class="panel-body">
      ${raw(withChart ? html`<div class="chart" id="${id}" role="img" aria-label="${title}"></div>` : "")}${raw(numberTable(numbers))}</div>`;
    main.querySelector("#panels").append(box);
    if (!withChart) return null;
    const chart = echarts.init(box.querySelector(".chart"), null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  // opts: y (axis), numbers (the table instead of the bars' values), extra (rows added to the
  // table), target (a dashed line at that value).
  function bar(id, title, entries, opts = {}) {
    const chart = panel(id, title, [...(opts.numbers || entries), ...(opts.extra || [])]);
    const target = opts.target ?? null;
    chart.setOption({
      animation: false, color: COLORS, tooltip: {}, grid: { left: 45, right: target === null ? 10 : 70, top: 20, bottom: 50 },
      xAxis: { type: "category", data: entries.map(([k]) => k), axisLabel: { interval: 0, rotate: entries.length > 4 || entries.some(([k]) => String(k).length > 12) ? 30 : 0 } },
      yAxis: { type: "value", ...opts.y },
      series: [{
        type: "bar", data: entries.map(([, v]) => v), label: { show: true, position: "top" },
        markLine: target === null ? undefined : { symbol: "none", data: [{ yAxis: target, name: t("target") }], lineStyle: { type: "dashed", color: "#a61b1b" }, label: { formatter: `${t("target")} {c}%` } },
      }],
    });
  }

  function table(id, title, rows) {
    panel(id, title, rows, false);
  }

  const startLoad = latestLoads();

  async function load() {
    const isLatest = startLoad();
    const month = form.month.value;
    const months = previousMonths(month, 6);
    const answers = await Promise.all(months.map((m) =>
      api("reporting", `/v1/dealers/${dealer}/reports/monthly`, { query: { month: m } })));
    if (!isLatest()) return; // a later load (refresh, month change) draws instead
    charts.splice(0).forEach((c) => c.dispose());
    main.querySelector("#panels").innerHTML = "";
    const current = answers[answers.length - 1];
    if (current.status !== 200) return say(main, current.error, "error");
    const report = current.data;
    say(main, `${dealer} · ${month}`);
    main.querySelector("#kpis").innerHTML = html`
      <div class="kpi"><span>${t("contactsMade")}</span><strong id="kpi-contacts">${report.contacts_made ?? 0}</strong></div>
      <div class="kpi"><span>${t("reached")}</span><strong>${report.reached ?? 0}</strong></div>
      <div class="kpi"><span>${t("scoredAnswers")}</span><strong>${report.scored_answers ?? "—"}</strong></div>
      <div class="kpi"><span>${t("satisfaction")}</span><strong id="kpi-satisfaction">${pct(report.satisfaction_rate)}</strong></div>
      <div class="kpi"><span>${t("complaintsOpened")}</span><strong id="kpi-complaints">${report.complaints_opened?.total ?? 0}</strong></div>`;

    const averages = Object.entries(report.average_scores || {}).filter(([, v]) => v !== null)
      .map(([item, v]) => [label(item, "short"), v]);
    if (averages.length) bar("chart-scores", t("averageScores"), averages, { y: { min: 0, max: 10 } });
    const outcomes = [[t("reached"), report.reached ?? 0], [t("unreached"), report.unreached ?? 0], [t("declined"), report.declined ?? 0]];
    panel("chart-outcomes", t("outcomes"), outcomes).setOption({
      animation: false, color: COLORS, tooltip: {}, legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], data: outcomes.map(([name, value]) => ({ name, value })), label: { formatter: "{b}: {c}" } }],
    });
    const grades = Object.entries(report.complaints_opened || {}).filter(([k]) => k !== "total");
    if (grades.length) bar("chart-complaints", t("complaintsByGrade"), grades, { y: { minInterval: 1 } });
    const trend = months.map((m, i) => [m, answers[i].status === 200 ? answers[i].data.satisfaction_rate : null]);
    panel("chart-trend", t("trend"), trend.map(([m, r]) => [m, pct(r)])).setOption({
      animation: false, color: COLORS, tooltip: { trigger: "axis" }, grid: { left: 45, right: 10, top: 20, bottom: 30 },
      xAxis: { type: "category", data: months },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ type: "line", connectNulls: true, data: trend.map(([, r]) => (r === null ? null : +(r * 100).toFixed(1))), label: { show: true } }],
    });
    drawSections(report, { bar, table });
    // Sections this console does not know yet: drawn generically.
    Object.entries(report).filter(([k]) => !KNOWN.has(k) && !SECTIONS.has(k)).forEach(([key, value], n) => {
      const id = `chart-extra-${n}`;
      if (value && typeof value === "object" && !Array.isArray(value)) {
        const entries = Object.entries(value).filter(([, v]) => typeof v === "number");
        if (entries.length) bar(id, key, entries);
      } else if (Array.isArray(value) && value.length && typeof value[0] === "object") {
        const name = Object.keys(value[0]).find((k) => typeof value[0][k] === "string");
        const measure = Object.keys(value[0]).find((k) => typeof value[0][k] === "number");
        if (name && measure) bar(id, `${key} · ${measure}`, value.map((row) => [row[name], row[measure]]));
      }
    });
    if (!report.contacts_made) say(main, `${dealer} · ${month} · ${t("noData")}`);
  }

  async function download(format) {
    const month = form.month.value;
    const { status, answer } = await api("reporting", `/v1/dealers/${dealer}/reports/monthly.${format}`, { query: { month }, raw: true });
    if (status !== 200) return say(main, `${t("downloadMissing")} (HTTP ${status})`, "error");
    const url = URL.createObjectURL(await answer.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = `report-${dealer}-${month}.${format}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  const resize = () => charts.forEach((c) => c.resize());
  window.addEventListener("resize", resize);
  load();
  return () => {
    window.removeEventListener("resize", resize);
    charts.forEach((c) => c.dispose());
  };
}
