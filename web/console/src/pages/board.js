// The complaints board: tickets by state, grade and owner, overdue first, each with its history
// and the actions both its state (the service's `allowed_actions`) and the user's roles allow.
import { api, hasRole } from "../api.js";
import { t } from "../i18n.js";
import { countdown, formatTime, html, label, latestLoads, raw, say, workingLeft, workingTimeLeft } from "../ui.js";

const STATES = ["opened", "acknowledged", "investigating", "replied", "resolved", "confirming", "closed", "reopened"];
const GRADES = ["A", "B", "C", "D"];
const HANDLERS = ["service_advisor", "service_supervisor", "service_manager", "cr_manager", "gm"];
// Who may take each action (complaints README, HTTP API).
const ACTION_ROLES = {
  acknowledge: HANDLERS, note: HANDLERS, reply: HANDLERS, review: HANDLERS,
  reassign: ["service_supervisor", "service_manager", "gm"],
  resolve: ["service_advisor", "service_supervisor", "service_manager", "gm"],
  compensation: ["service_manager", "cr_manager", "gm"],
  close: ["service_manager", "cr_manager", "gm"],
  reopen: ["service_manager", "cr_manager", "gm"],
};
const ROOT_CAUSES = ["workmanship", "parts", "communication", "waiting_time", "charges", "facility", "other"];

function urgency(ticket) {
  if (ticket.overdue) return 0;
  if (ticket.due_soon) return 1;
  return 2;
}

export function render(main, { dealer }) {
  const filters = { state: "", grade: "", owner: "", overdue: false };
  let selected = null;
  main.innerHTML = html`
    <form id="filters" class="toolbar" aria-label="${t("nav.board")}">
      <label for="f-state">${t("state")}</label>
      <select id="f-state" name="state"><option value="">${t("all")}</option>
        ${STATES.map((s) => raw(html`<option value="${s}">${label(s, "state")}</option>`))}</select>
      <label for="f-grade">${t("grade")}</label>
      <select id="f-grade" name="grade"><option value="">${t("all")}</option>
        ${GRADES.map((g) => raw(html`<option>${g}</option>`))}</select>
      <label for="f-owner">${t("owner")}</label>
      <input id="f-owner" name="owner" size="14" />
      <label class="inline"><input type="checkbox" name="overdue" /> ${t("overdueOnly")}</label>
      <button type="submit">${t("refresh")}</button>
    </form>
    <p data-role="message" class="message" role="status" aria-live="polite"></p>
    <div class="board">
      <div class="table-wrap"><table id="tickets"><caption class="sr-only">${t("nav.board")}</caption>
        <thead><tr><th scope="col">${t("grade")}</th><th scope="col">${t("ticket")}</th><th scope="col">${t("state")}</th>
        <th scope="col">${t("owner")}</th><th scope="col">${t("lowItems")}</th><th scope="col">${t("due")}</th><th scope="col">${t("remaining")}</th></tr></thead>
        <tbody></tbody></table></div>
      <section id="detail" class="card detail" aria-live="polite"></section>
    </div>`;
  const form = main.querySelector("#filters");
  form.onsubmit = (e) => {
    e.preventDefault();
    Object.assign(filters, { state: form.state.value, grade: form.grade.value, owner: form.owner.value.trim(), overdue: form.overdue.checked });
    load();
  };

  const startLoad = latestLoads();

  async function load() {
    const isLatest = startLoad();
    const { status, data, error } = await api("complaints", `/v1/dealers/${dealer}/complaints`, {
      query: { state: filters.state, grade: filters.grade, owner: filters.owner, overdue: filters.overdue ? "true" : "", limit: 200 },
    });
    if (!isLatest()) return; // a later load (filters, an action, the refresh) draws instead
    if (status !== 200) return say(main, error, "error");
    const tickets = (Array.isArray(data) ? data : data.complaints || data.items || []).slice();
    tickets.sort((a, b) => urgency(a) - urgency(b) || String(a.due_at ?? a.next_due_at ?? "").localeCompare(String(b.due_at ?? b.next_due_at ?? "")));
    const dues = tickets.map((k) => k.due_at ?? k.next_due_at);
    const left = await workingTimeLeft(dealer, dues.filter(Boolean));
    if (!isLatest()) return;
    const leftOf = new Map(dues.filter(Boolean).map((d, i) => [d, left[i]]));
    const body = main.querySelector("#tickets tbody");
    body.innerHTML = tickets.length ? tickets.map((k) => html`
      <tr class="${k.overdue ? "overdue" : k.due_soon ? "due-soon" : ""}">
        <td><span class="grade grade-${k.grade}">${k.grade}</span></td>
        <td><button type="button" class="link" data-ticket="${k.ticket_id}">${k.work_order_id ?? k.ticket_id}</button></td>
        <td>${label(k.state, "state")}</td>
        <td>${ownerText(k)}</td>
        <td>${lowItems(k)}</td>
        <td>${formatTime(k.due_at ?? k.next_due_at)}</td>
        <td>${k.overdue ? t("overdue") : workingLeft(leftOf.get(k.due_at ?? k.next_due_at))}</td>
      </tr>`).join("") : html`<tr><td colspan="7">${t("noTickets")}</td></tr>`;
    body.querySelectorAll("[data-ticket]").forEach((b) => { b.onclick = () => open(b.dataset.ticket); });
    say(main, `${tickets.length} · ${tickets.filter((k) => k.overdue).length} ${t("overdue")}`);
    if (selected) open(selected, false);
  }

  async function open(ticketId, focus = true) {
    selected = ticketId;
    const { status, data, error } = await api("complaints", `/v1/complaints/${ticketId}`);
    const detail = main.querySelector("#detail");
    if (status !== 200) { detail.textContent = error; return; }
    const actions = (data.allowed_actions || []).filter((a) => ACTION_ROLES[a] && hasRole(...ACTION_ROLES[a]));
    const deadlines = data.deadlines || [];
    const left = await workingTimeLeft(dealer, deadlines.map((d) => d.due_at));
    detail.innerHTML = html`
      <h2 id="ticket-title" tabindex="-1">${t("ticket")} ${data.work_order_id ?? data.ticket_id} · <span class="grade grade-${data.grade}">${data.grade}</span> · ${label(data.state, "state")}</h2>
      <p>${t("owner")}: ${ownerText(data)} · ${t("lowItems")}: ${lowItems(data)} · VIN ${data.vin ?? ""}</p>
      <h3>${t("deadlines")}</h3>
      <table><thead><tr><th scope="col">${t("step")}</th><th scope="col">${t("deadline")}</th><th scope="col">${t("status")}</th><th scope="col">${t("holder")}</th><th scope="col">${t("remaining")}</th></tr></thead>
      <tbody>${deadlines.map((d, i) => raw(html`<tr><td>${label(d.step, "step")}</td><td>${formatTime(d.due_at)}</td><td>${label(d.status, "dstatus")}</td><td>${d.holder}</td><td>${d.done_at ? "—" : d.working ? workingLeft(left[i]) : countdown(d.due_at)}</td></tr>`))}</tbody></table>
      <h3>${t("actions")}</h3>
      <div class="actions">${actions.map((a) => raw(html`<button type="button" data-action="${a}">${label(a, "action")}</button>`))}</div>
      <form id="action-form" hidden></form>
      <h3>${t("ticketHistory")}</h3>
      <ol class="history">${(data.history || []).slice().reverse().map((h) => raw(html`<li>${formatTime(h.occurred_at)} · ${label(h.kind ?? "", "state")} · ${h.actor ?? ""} ${h.note ?? h.action_taken ?? ""}</li>`))}</ol>`;
    detail.querySelectorAll("[data-action]").forEach((b) => { b.onclick = () => actionForm(data, b.dataset.action); });
    if (focus) detail.querySelector("#ticket-title").focus();
  }

  function actionForm(ticket, action) {
    const f = main.querySelector("#action-form");
    f.hidden = false;
    const fields = {
      reassign: html`<label for="a-to-role">${t("toRole")}</label><select id="a-to-role" name="to_role">${HANDLERS.map((r) => raw(html`<option>${r}</option>`))}</select>
        <label for="a-to-person">${t("toPerson")}</label><input id="a-to-person" name="to_person" />`,
      resolve: html`<label for="a-root">${t("rootCause")}</label><select id="a-root" name="root_cause_category">${ROOT_CAUSES.map((r) => raw(html`<option>${r}</option>`))}</select>
        <label for="a-taken">${t("actionTaken")}</label><input id="a-taken" name="action_taken" required />`,
      compensation: html`<label for="a-amount">${t("amount")}</label><input id="a-amount" name="amount" type="number" min="0" step="0.01" required />
        <label for="a-by">${t("approvedBy")}</label><input id="a-by" name="approved_by" required />
        <label for="a-at">${t("approvedAt")}</label><input id="a-at" name="approved_at" type="datetime-local" required />`,
      close: html`<label class="inline"><input type="checkbox" name="customer_confirmed" required /> ${t("customerConfirmed")}</label>`,
    }[action] || "";
    f.innerHTML = html`<fieldset><legend>${label(action, "action")}</legend>${raw(fields)}
      <label for="a-text">${t("text")}</label><textarea id="a-text" name="text" rows="2" ${raw(action === "reopen" ? "required" : "")}></textarea>
      <button type="submit" class="primary">${label(action, "action")}</button></fieldset>`;
    f.querySelector("input, select, textarea").focus();
    f.onsubmit = async (e) => {
      e.preventDefault();
      const body = {};
      for (const el of f.elements) {
        if (!el.name) continue;
        if (el.type === "checkbox") body[el.name] = el.checked;
        else if (el.value !== "") body[el.name] = el.type === "number" ? Number(el.value) : el.value;
      }
      if (body.approved_at) body.approved_at = `${body.approved_at}:00+08:00`;
      const { status, error } = await api("complaints", `/v1/complaints/${ticket.ticket_id}/${action}`, { method: "POST", body });
      if (status === 200) { say(main, `${t("done")}: ${label(action, "action")}`, "ok"); load(); }
      else say(main, error, "error");
    };
  }

  load();
  const timer = setInterval(() => main.querySelectorAll("#tickets tbody tr").length && load(), 30_000);
  return () => clearInterval(timer);
}

function ownerText(ticket) {
  const role = ticket.owner_role;
  const person = ticket.owner_person;
  // A ticket held by a role at the dealer names it "<dealer>/<role>": the role says it all.
  const named = person && !(role && person.endsWith(`/${role}`)) ? person : null;
  return [named, role && label(role, "staffRole")].filter(Boolean).join(" / ") || "—";
}

function lowItems(ticket) {
  const scores = ticket.scores || {};
  return (ticket.low_items || []).map((k) => `${label(k, "short")} ${scores[k] ?? ""}`).join("、") || "—";
}
