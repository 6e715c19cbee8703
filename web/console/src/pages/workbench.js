// The agent's workbench: claim the next customer, read the questionnaire out, record the outcome.
// The lease is extended automatically while the page is open (contact: POST …/lease).
import { api, platformNow } from "../api.js";
import { currentLang, t } from "../i18n.js";
import { countdown, formatTime, html, label, maskPhone, raw, say } from "../ui.js";
import { appointmentLine, bookingMarkup, wireBooking } from "./booking.js";

const OUTCOMES = ["reached", "no_answer", "busy", "wrong_number", "refused", "call_back_later", "opted_out"];
// Used only when contact's claim answer names no questionnaire (contact before issue 16).
const CSI_ITEMS = ["attitude", "environment", "service_process", "quality", "charges", "timeliness", "overall"];
const SCORED = new Set(["service_call_day3", "sms_survey_day7", "service_call_day30"]);
const ISSUES = ["waiting_time", "price", "quality", "attitude", "parts", "environment", "other"];

// The questionnaire to read out: the first the claim answer lists (D16, D17), in its order.
function questionnaireOf(task) {
  const q = (task.questionnaires || [])[0];
  if (q) return q;
  if (!task.purposes.some((p) => SCORED.has(p))) return null;
  return { id: null, items: CSI_ITEMS.map((id) => ({ id, kind: "score", text: null })) };
}

function wording(item) {
  if (!item.text) return label(item.id, "item");
  return currentLang() === "zh" ? item.text.zh : item.text.en;
}

function itemMarkup(item) {
  if (item.kind === "yes_no") {
    return html`<fieldset class="score yes-no"><legend>${wording(item)}</legend>
      <label class="inline"><input type="radio" id="yn-${item.id}-yes" name="yn-${item.id}" value="yes" /> ${t("yes")}</label>
      <label class="inline"><input type="radio" id="yn-${item.id}-no" name="yn-${item.id}" value="no" /> ${t("no")}</label></fieldset>`;
  }
  return html`<div class="score"><label for="score-${item.id}">${wording(item)}</label>
    <input id="score-${item.id}" name="${item.id}" type="number" min="0" max="10" step="1" inputmode="numeric" required /></div>`;
}
const HEARTBEAT_MS = 60_000;

export function render(main, { dealer, session }) {
  let task = null;
  let revealed = false;
  const timers = [];

  main.innerHTML = html`
    <div class="toolbar">
      <button type="button" id="next" class="primary" aria-keyshortcuts="Alt+N">${t("next")} <kbd>Alt+N</kbd></button>
      <button type="button" id="release" disabled>${t("release")}</button>
      <span class="lease" aria-live="off">${t("leaseLeft")}: <strong id="lease-left">—</strong></span>
      <span class="hint">${t("shortcuts")}</span>
    </div>
    <p data-role="message" class="message" role="status" aria-live="polite">${t("noTask")}</p>
    <div id="task" class="workbench"></div>`;
  const area = main.querySelector("#task");
  const nextButton = main.querySelector("#next");
  const releaseButton = main.querySelector("#release");

  function clearTask(message, kind) {
    task = null;
    area.innerHTML = "";
    releaseButton.disabled = true;
    main.querySelector("#lease-left").textContent = "—";
    if (message) say(main, message, kind);
    nextButton.focus();
  }

  async function claim() {
    if (task) return;
    nextButton.disabled = true;
    const { status, data, error } = await api("contact", `/v1/dealers/${dealer}/tasks/claim`, {
      method: "POST", body: { agent_id: session.user.username },
    });
    nextButton.disabled = false;
    if (status === 204) return clearTask(t("emptyQueue"), "warn");
    if (status !== 200) return say(main, error, "error");
    task = data;
    area.dataset.taskId = task.task_id;
    revealed = false;
    releaseButton.disabled = false;
    say(main, `${t("customer")}: ${task.customer?.name ?? ""} · ${task.purposes.map((p) => label(p, "purpose")).join(" + ")}`);
    showTask();
    loadHistory();
  }

  function phoneMarkup() {
    const phone = task.customer?.phone;
    return html`<span id="phone" class="phone">${revealed ? phone : maskPhone(phone)}</span>
      <button type="button" id="reveal" aria-keyshortcuts="Alt+R" aria-pressed="${revealed}">${revealed ? t("hide") : t("reveal")}</button>
      ${raw(revealed ? html`<a class="dial" href="tel:${phone}">${t("dial")}</a>` : "")}`;
  }

  function showTask() {
    const questionnaire = questionnaireOf(task);
    const scored = questionnaire !== null;
    area.innerHTML = html`
      <section class="card" aria-labelledby="who-title">
        <h2 id="who-title">${t("customer")}: ${task.customer?.name ?? "—"}</h2>
        <dl class="facts">
          <dt>${t("phone")}</dt><dd><span id="phone-box">${raw(phoneMarkup())}</span>
            <small class="note">${t("revealAudited")}</small></dd>
          <dt>${t("vehicle")}</dt><dd>${task.vehicle?.plate ?? ""} · ${task.vehicle?.brand ?? ""} ${task.vehicle?.model ?? ""} · VIN ${task.vehicle?.vin ?? ""}</dd>
          <dt>${t("workOrder")}</dt><dd>${task.work_order_id ?? "—"}</dd>
          <dt>${t("advisor")}</dt><dd>${task.service_advisor?.name ?? task.service_advisor?.id ?? task.service_advisor ?? "—"}</dd>
          <dt>${t("purposes")}</dt><dd>${task.purposes.map((p) => raw(html`<span class="tag">${label(p, "purpose")}</span>`))}</dd>
          <dt>${t("dueAt")}</dt><dd>${formatTime(task.due_at)} · ${t("attempt")} ${task.attempt ?? 1} · ${t("channel")} ${task.channel ?? ""}</dd>
        </dl>
        <div id="appointment" hidden><h3>${t("appointment")}</h3><p id="appointment-line"></p></div>
        <h3>${t("history")}</h3>
        <div id="history" class="history">${t("loading")}</div>
      </section>
      <form id="result" class="card" aria-labelledby="form-title" novalidate>
        <h2 id="form-title">${t("outcome")}</h2>
        <fieldset class="outcomes">
          <legend>${t("outcome")}</legend>
          ${OUTCOMES.map((o, i) => raw(html`<label><input type="radio" name="outcome" value="${o}" ${raw(o === "reached" ? "checked" : "")} aria-keyshortcuts="Alt+${i + 1}" /> <kbd>${i + 1}</kbd> ${label(o, "outcome")}</label>`))}
        </fieldset>
        <fieldset id="scores" class="scores" ${raw(scored ? "" : "hidden")}>
          <legend>${t("questionnaire")} · ${t("scores")}</legend>
          ${(questionnaire?.items || []).map((item) => raw(itemMarkup(item)))}
        </fieldset>
        <fieldset id="issues" class="issues" ${raw(scored ? "" : "hidden")}><legend>${t("issues")}</legend>
          ${ISSUES.map((code) => raw(html`<label class="inline"><input type="checkbox" name="issue" value="${code}" /> ${label(code, "issue")}</label>`))}
        </fieldset>
        ${raw(bookingMarkup(task))}
        <label for="comment">${t("words")}</label>
        <textarea id="comment" name="comment" rows="2" maxlength="2000"></textarea>
        <label class="inline"><input type="checkbox" name="complaint_stated" /> ${t("complaintStated")}</label>
        <div id="callback" hidden><label for="callback_at">${t("callbackAt")}</label>
          <input id="callback_at" name="callback_at" type="datetime-local" /></div>
        <fieldset id="optout" hidden><legend>${t("optOut")}</legend>
          ${task.purposes.map((p) => raw(html`<label class="inline"><input type="checkbox" name="opted_out_of" value="${p}" /> ${label(p, "purpose")}</label>`))}
        </fieldset>
        <button type="submit" class="primary" aria-keyshortcuts="Control+Enter">${t("submit")} <kbd>Ctrl+Enter</kbd></button>
      </form>`;
    const form = area.querySelector("#result");
    form.addEventListener("change", () => syncForm(form, scored));
    form.onsubmit = (e) => { e.preventDefault(); submit(form, questionnaire); };
    wireBooking(form, { dealer, task, onBooked: showAppointment });
    area.querySelector("#phone-box").addEventListener("click", (e) => {
      if (e.target.id === "reveal") toggleReveal();
    });
    syncForm(form, scored);
    tickLease();
  }

  // D31: the appointment booked on this call, in the task view.
  function showAppointment(appointment) {
    const box = area.querySelector("#appointment");
    box.hidden = false;
    box.querySelector("#appointment-line").innerHTML = html`${raw(appointmentLine(appointment))}<small class="note">${t("appointmentId")} ${appointment.appointment_id}</small>`;
    say(main, `${t("bookedOk")}: ${appointment.day} ${label(appointment.service, "service")}`, "ok");
  }

  function toggleReveal() {
    if (!task) return;
    revealed = !revealed;
    area.querySelector("#phone-box").innerHTML = phoneMarkup();
    area.querySelector("#reveal").focus();
  }

  function syncForm(form, scored) {
    const outcome = form.outcome.value;
    form.querySelector("#scores").hidden = !(scored && outcome === "reached");
    form.querySelector("#issues").hidden = !(scored && outcome === "reached");
    form.querySelector("#booking").hidden = outcome !== "reached";
    form.querySelector("#callback").hidden = outcome !== "call_back_later";
    form.querySelector("#optout").hidden = outcome !== "opted_out";
  }

  async function submit(form, questionnaire) {
    const outcome = form.outcome.value;
    const body = { outcome, agent_id: session.user.username };
    if (outcome === "reached" && questionnaire) {
      if (questionnaire.id) body.questionnaire = { id: questionnaire.id, version: questionnaire.version };
      body.scores = {};
      for (const item of questionnaire.items) {
        if (item.kind === "yes_no") {
          const chosen = form.querySelector(`[name="yn-${item.id}"]:checked`);
          if (chosen) body.yes_no = { ...(body.yes_no || {}), [item.id]: chosen.value === "yes" };
        } else if (form[item.id].value !== "") {
          body.scores[item.id] = Number(form[item.id].value);
        }
      }
      const issues = [...form.querySelectorAll("[name=issue]:checked")].map((c) => c.value);
      if (issues.length) {
        body.issues = issues.map((code) => (code === "other" ? { code, text: form.comment.value.trim() || t("issue.other") } : { code }));
      }
    }
    if (form.comment.value.trim()) body.comment = form.comment.value.trim();
    if (form.complaint_stated.checked) body.complaint_stated = true;
    if (outcome === "call_back_later" && form.callback_at.value) {
      body.callback_at = `${form.callback_at.value}:00+08:00`; // typed as the dealer's local time
    }
    if (outcome === "opted_out") {
      const chosen = [...form.querySelectorAll("[name=opted_out_of]:checked")].map((c) => c.value);
      if (chosen.length) body.opted_out_of = chosen;
    }
    const { status, error } = await api("contact", `/v1/tasks/${task.task_id}/result`, { method: "POST", body });
    if (status === 200) return clearTask(`${t("submitted")}: ${task.customer?.name ?? ""} · ${label(outcome, "outcome")}`, "ok");
    if (status === 409) return clearTask(`${t("leaseLost")} (${error})`, "error");
    say(main, error, "error");
  }

  async function loadHistory() {
    const current = task;
    const vin = task.vehicle?.vin;
    if (!vin) return;
    const [file, plan] = await Promise.all([
      api("intake", `/v1/dealers/${dealer}/vehicles/${vin}`),
      api("scheduler", `/v1/dealers/${dealer}/vehicles/${vin}/contacts`),
    ]);
    const box = area.querySelector("#history");
    if (task !== current || !box) return;
    const visits = file.status === 200 ? file.data.history || [] : [];
    const contacts = plan.status === 200 ? plan.data.contacts || [] : [];
    box.innerHTML = html`
      <h4>${t("visits")}</h4>
      <ul>${visits.slice(-5).reverse().map((v) => raw(html`<li>${formatTime(v.happened_at)} · ${v.work_order_type ?? v.kind} · ${v.record_id} · ${v.mileage_km ?? "—"} km</li>`))}</ul>
      <h4>${t("contacts")}</h4>
      <ul>${contacts.slice(0, 10).map((c) => raw(html`<li>${formatTime(c.due_at)} · ${c.purposes.map((p) => label(p, "purpose")).join(" + ")} · ${label(c.state, "cstate")}</li>`))}</ul>
      ${raw(contacts.length > 10 ? html`<p class="hint">${t("more")} ${contacts.length - 10}</p>` : "")}`;
  }

  function tickLease() {
    if (!task) return;
    const left = new Date(task.lease_expires_at).getTime() - platformNow().getTime();
    main.querySelector("#lease-left").textContent = countdown(task.lease_expires_at);
    if (left <= 0) clearTask(t("leaseLost"), "error");
  }

  async function heartbeat() {
    if (!task || document.hidden) return;
    const { status, data } = await api("contact", `/v1/tasks/${task.task_id}/lease`, { method: "POST" });
    if (status === 200 && task) task.lease_expires_at = data.lease_expires_at;
    else if (status === 409 || status === 404) clearTask(t("leaseLost"), "error");
  }

  async function release() {
    if (!task) return;
    await api("contact", `/v1/tasks/${task.task_id}/lease`, { method: "DELETE" });
    clearTask(t("noTask"));
  }

  function onKey(e) {
    if (e.altKey && (e.key === "n" || e.key === "N")) { e.preventDefault(); claim(); return; }
    if (!task) return;
    const form = area.querySelector("#result");
    if (e.altKey && (e.key === "r" || e.key === "R")) { e.preventDefault(); toggleReveal(); return; }
    if (e.altKey && /^[1-7]$/.test(e.key)) {
      e.preventDefault();
      const radio = form.querySelector(`[value=${OUTCOMES[Number(e.key) - 1]}]`);
      radio.checked = true;
      radio.focus();
      form.dispatchEvent(new Event("change"));
      return;
    }
    if (e.ctrlKey && e.key === "Enter") { e.preventDefault(); form.requestSubmit(); }
  }

  nextButton.onclick = claim;
  releaseButton.onclick = release;
  document.addEventListener("keydown", onKey);
  timers.push(setInterval(tickLease, 1000), setInterval(heartbeat, HEARTBEAT_MS));
  nextButton.focus();
  return () => {
    document.removeEventListener("keydown", onKey);
    timers.forEach(clearInterval);
  };
}

