// The buyer's face-to-face questionnaire at the delivery (D34), for the sales roles: the month's
// deliveries still waiting for it (reporting's drill-down, where the user may read it), or one
// opened by its delivery id; the form contact returns (scored 0–10 and yes/no items in their
// wording), submitted once: 422 names the field at fault, 409 says another answer is recorded.
import { api } from "../api.js";
import { currentLang, t } from "../i18n.js";
import { formatTime, html, localDay, raw, say } from "../ui.js";

// reporting: the month's deliveries without a face-to-face questionnaire (D34).
const WAITING_FIGURE = "face_to_face_missed";

function wording(text) {
  return currentLang() === "zh" ? text.zh : text.en;
}

function errorSlot(field) {
  return html`<p class="field-error" data-error-for="${field}" id="err-${field.replace(/\W/g, "-")}"></p>`;
}

function itemMarkup(item) {
  const field = `${item.kind === "yes_no" ? "yes_no" : "scores"}.${item.id}`;
  const described = `err-${field.replace(/\W/g, "-")}`;
  if (item.kind === "yes_no") {
    return html`<fieldset class="score yes-no" data-field="${field}" aria-describedby="${described}"><legend>${wording(item.text)}</legend>
      <label class="inline"><input type="radio" id="sv-${item.id}-yes" name="sv-${item.id}" value="yes" /> ${t("yes")}</label>
      <label class="inline"><input type="radio" id="sv-${item.id}-no" name="sv-${item.id}" value="no" /> ${t("no")}</label></fieldset>
      ${raw(errorSlot(field))}`;
  }
  return html`<div class="score"><label for="sv-${item.id}">${wording(item.text)}</label>
    <input id="sv-${item.id}" data-field="${field}" type="number" min="0" max="10" step="1" inputmode="numeric" aria-describedby="${described}" /></div>
    ${raw(errorSlot(field))}`;
}

function recordedMarkup(recorded, questionnaire) {
  const answer = (item) => (item.kind === "yes_no"
    ? (recorded.yes_no?.[item.id] === undefined ? "—" : recorded.yes_no[item.id] ? t("yes") : t("no"))
    : recorded.scores?.[item.id] ?? "—");
  return html`<section class="recorded" aria-labelledby="recorded-title">
    <h3 id="recorded-title">${t("surveyRecorded")}</h3>
    <p>${t("recordedAt")} ${formatTime(recorded.surveyed_at)} · ${t("recordedBy")} ${recorded.recorded_by} · VIN ${recorded.vin}</p>
    <table class="numbers"><tbody>${(questionnaire?.items || []).map((item) => raw(html`<tr><th scope="row">${wording(item.text)}</th><td>${answer(item)}</td></tr>`))}</tbody></table>
    ${raw(recorded.comment ? html`<p>${t("comment")}: ${recorded.comment}</p>` : "")}</section>`;
}

export function render(main, { dealer }) {
  main.innerHTML = html`
    <p data-role="message" class="message" role="status" aria-live="polite"></p>
    <div class="surveys">
      <section class="card" aria-labelledby="waiting-title">
        <h2 id="waiting-title">${t("surveysWaiting")}</h2>
        <div id="waiting">${t("loading")}</div>
        <h2 id="open-title">${t("openById")}</h2>
        <form id="open-form" aria-labelledby="open-title">
          <label for="sv-delivery">${t("deliveryId")}</label>
          <div class="row"><input id="sv-delivery" name="delivery" maxlength="100" required />
          <button type="submit">${t("openSurvey")}</button></div>
        </form>
      </section>
      <section class="card" id="survey" aria-live="polite"></section>
    </div>`;
  const box = main.querySelector("#survey");
  let listRefused = false; // the user's roles may not read the drill-down: not asked again
  main.querySelector("#open-form").onsubmit = (e) => {
    e.preventDefault();
    const id = e.target.delivery.value.trim();
    if (id) open(id, {});
  };

  async function loadWaiting() {
    const waiting = main.querySelector("#waiting");
    const month = localDay(0).slice(0, 7);
    const { status, data } = await api("reporting", `/v1/dealers/${dealer}/reports/monthly/drilldown`, {
      query: { month, figure: WAITING_FIGURE, limit: 200 },
    });
    if (status !== 200) {
      listRefused = status === 403;
      waiting.innerHTML = html`<p class="hint">${t("surveyListUnavailable")}</p>`;
      return;
    }
    const rows = data.rows || [];
    waiting.innerHTML = rows.length ? html`<ul class="waiting">${rows.map((r) => raw(html`<li>
      <button type="button" class="link" data-delivery="${r.delivery_id}" data-vin="${r.vin ?? ""}" data-customer="${r.customer_id ?? ""}">${r.delivery_id}</button>
      <small>${t("deliveredAt")} ${r.day ?? ""} · ${t("consultant")} ${r.sales_consultant ?? "—"} · VIN ${r.vin ?? ""}</small></li>`))}</ul>`
      : html`<p>${t("noWaiting")}</p>`;
    waiting.querySelectorAll("[data-delivery]").forEach((b) => {
      b.onclick = () => open(b.dataset.delivery, { vin: b.dataset.vin, customer_id: b.dataset.customer });
    });
  }

  async function open(deliveryId, known, focus = true) {
    const path = `/v1/dealers/${dealer}/deliveries/${encodeURIComponent(deliveryId)}/survey`;
    const { status, data, error } = await api("contact", path);
    if (status !== 200) { box.textContent = error; return; }
    const questionnaire = (data.questionnaires || [])[0];
    const title = html`<h2 id="survey-title" tabindex="-1">${t("surveyOf")} · ${deliveryId}${raw(questionnaire ? html` · ${wording(questionnaire.title)}` : "")}</h2>`;
    if (data.recorded) {
      box.innerHTML = title + recordedMarkup(data.recorded, questionnaire);
    } else if (!questionnaire) {
      box.innerHTML = title + html`<p>${t("noQuestionnaire")}</p>`;
    } else {
      box.innerHTML = title + formMarkup(questionnaire, known);
      box.querySelector("#survey-form").onsubmit = (e) => { e.preventDefault(); submit(e.target, path, deliveryId, questionnaire); };
    }
    if (focus) box.querySelector("#survey-title").focus();
  }

  function formMarkup(questionnaire, known) {
    return html`<form id="survey-form" novalidate>
      <div class="pair">
        <div><label for="sv-vin">VIN</label><input id="sv-vin" data-field="vin" maxlength="17" value="${known.vin ?? ""}" aria-describedby="err-vin" />${raw(errorSlot("vin"))}</div>
        <div><label for="sv-customer">${t("customerId")}</label><input id="sv-customer" data-field="customer_id" maxlength="100" value="${known.customer_id ?? ""}" aria-describedby="err-customer_id" />${raw(errorSlot("customer_id"))}</div>
      </div>
      <fieldset class="scores"><legend>${wording(questionnaire.title)} · ${t("scores")}</legend>
        ${questionnaire.items.map((item) => raw(itemMarkup(item)))}
      </fieldset>
      <label for="sv-comment">${t("comment")}</label>
      <textarea id="sv-comment" data-field="comment" rows="2" maxlength="2000" aria-describedby="err-comment"></textarea>
      ${raw(errorSlot("comment"))}${raw(errorSlot("questionnaire"))}
      <button type="submit" class="primary">${t("recordSurvey")}</button>
    </form>`;
  }

  function showErrors(form, errors) {
    form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const unplaced = [];
    for (const e of errors) {
      const field = String(e.field || "").replace(/^body\./, "");
      const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      if (!slot) { unplaced.push(`${field}: ${e.message}`); continue; }
      // The service words it in English for developers: the user reads it in the page's
      // language when it is the usual "required"; the service's own words stay in the tooltip.
      slot.textContent = /is required/.test(e.message) ? t("answerRequired") : e.message;
      slot.title = e.message;
      form.querySelector(`[data-field="${CSS.escape(field)}"]`)?.setAttribute("aria-invalid", "true");
    }
    return unplaced;
  }

  async function submit(form, path, deliveryId, questionnaire) {
    const body = {
      vin: form.querySelector("#sv-vin").value.trim(),
      customer_id: form.querySelector("#sv-customer").value.trim(),
      questionnaire: { id: questionnaire.id, version: questionnaire.version },
    };
    for (const item of questionnaire.items) {
      if (item.kind === "yes_no") {
        const chosen = form.querySelector(`[name="sv-${item.id}"]:checked`);
        if (chosen) body.yes_no = { ...(body.yes_no || {}), [item.id]: chosen.value === "yes" };
      } else {
        const value = form.querySelector(`#sv-${item.id}`).value;
        if (value !== "") body.scores = { ...(body.scores || {}), [item.id]: Number(value) };
      }
    }
    const comment = form.querySelector("#sv-comment").value.trim();
    if (comment) body.comment = comment;
    const { status, data, error } = await api("contact", path, { method: "POST", body });
    if (status === 201 || status === 200) {
      await open(deliveryId, {}, false);
      say(main, `${status === 201 ? t("surveyRecorded") : t("surveySame")}: ${deliveryId}`, "ok");
      if (!listRefused) loadWaiting();
      return;
    }
    if (status === 409) {
      await open(deliveryId, {}, false);
      box.querySelector("#survey-title").insertAdjacentHTML("afterend", html`<p class="banner error" role="alert">${t("surveyConflict")}</p>`);
      say(main, `${t("surveyConflict")} (${deliveryId})`, "error");
      return;
    }
    if (status === 422) {
      const unplaced = showErrors(form, data?.errors || []);
      say(main, [t("fixFields"), ...unplaced].join(" "), "error");
      const bad = form.querySelector("[aria-invalid=true]");
      (bad?.matches("fieldset") ? bad.querySelector("input") : bad)?.focus();
      return;
    }
    say(main, error, "error");
  }

  loadWaiting();
}
