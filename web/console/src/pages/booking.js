// Booking a workshop appointment from the agent's call (D31): the day's slots with their free
// seats (appointments: GET …/workshop), the service wanted and the parts to prepare; a full slot
// answers 409 with the nearest free slots, each taken with one click.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { html, label, localDay, raw, slotTime } from "../ui.js";

export const SERVICES = ["maintenance", "first_maintenance", "repair", "inspection", "bodywork", "other"];
// The service a purpose brings the car in for (the agent may choose another).
const SERVICE_OF_PURPOSE = {
  first_maintenance_reminder: "first_maintenance", maintenance_reminder: "maintenance",
  lapsed_customer_recall: "maintenance", service_call_day3: "repair", service_call_day30: "repair",
};

// One id per booking on this call: a retry after a lost answer finds the same appointment.
function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `console-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function bookingMarkup(task) {
  const wanted = task.purposes.map((p) => SERVICE_OF_PURPOSE[p]).find(Boolean) || "maintenance";
  return html`<fieldset id="booking" class="booking"><legend>${t("booking")}</legend>
    <div class="row wrap">
      <label class="inline" for="b-day">${t("day")}</label>
      <input id="b-day" type="date" value="${localDay(1)}" min="${localDay(0)}" aria-describedby="b-day-error" />
      <label class="inline" for="b-service">${t("service")}</label>
      <select id="b-service">${SERVICES.map((s) => raw(html`<option value="${s}" ${raw(s === wanted ? "selected" : "")}>${label(s, "service")}</option>`))}</select>
    </div>
    <p id="b-day-error" class="field-error" aria-live="polite"></p>
    <div id="b-slots" class="slots" role="radiogroup" aria-label="${t("slot")}" aria-describedby="b-slot-error"></div>
    <p id="b-slot-error" class="field-error" aria-live="polite"></p>
    <div id="b-alternatives" class="alternatives" hidden></div>
    <label for="b-parts">${t("parts")}</label>
    <input id="b-parts" maxlength="500" />
    <button type="button" id="b-book">${t("book")}</button>
  </fieldset>`;
}

// Wires the fieldset; `onBooked(appointment)` shows the booking in the task view.
export function wireBooking(form, { dealer, task, onBooked }) {
  const requestId = newRequestId();
  const box = form.querySelector("#booking");
  const dayInput = box.querySelector("#b-day");
  const slotsBox = box.querySelector("#b-slots");
  const alternatives = box.querySelector("#b-alternatives");
  const bookButton = box.querySelector("#b-book");
  const errors = { day: box.querySelector("#b-day-error"), slot_id: box.querySelector("#b-slot-error") };

  function showErrors(found) {
    Object.values(errors).forEach((e) => { e.textContent = ""; });
    for (const [field, text] of found) (errors[field] || errors.slot_id).textContent = text;
    dayInput.setAttribute("aria-invalid", String(!!errors.day.textContent));
  }

  async function loadSlots(chosen) {
    const day = dayInput.value;
    if (!day) return;
    const { status, data, error } = await api("appointments", `/v1/dealers/${dealer}/workshop`, { query: { day } });
    if (status !== 200) return showErrors([["day", error]]);
    const open = data.slots.filter((s) => s.bays > 0);
    slotsBox.innerHTML = open.length ? open.map((s) => html`<label class="slot ${s.free ? "" : "full"}">
      <input type="radio" name="b-slot" value="${s.slot_id}" ${raw(s.free ? "" : "disabled")} ${raw(s.slot_id === chosen ? "checked" : "")} />
      ${s.start}–${s.end} <small>${t("freeSeats")} ${s.free}/${s.bays}</small></label>`).join("")
      : html`<p class="hint">${t("noSlots")}</p>`;
    slotsBox.dataset.day = day;
    showErrors([]);
  }

  async function book(day, slotId) {
    showErrors([]);
    if (!slotId) return showErrors([["slot_id", t("slot")]]);
    const parts = box.querySelector("#b-parts").value.split(/[,，、;；\n]/).map((p) => p.trim()).filter(Boolean);
    bookButton.disabled = true;
    const { status, data, error } = await api("appointments", `/v1/dealers/${dealer}/appointments`, {
      method: "POST",
      body: {
        request_id: requestId, vin: task.vehicle.vin, customer_id: task.customer.customer_id,
        plate: task.vehicle.plate || null, day, slot_id: slotId, service: box.querySelector("#b-service").value,
        parts_to_prepare: parts, contact_id: task.contact_id,
      },
    });
    bookButton.disabled = false;
    if (status === 201 || status === 200) {
      // One appointment per call: the fieldset now says what was booked.
      box.innerHTML = html`<legend>${t("booking")}</legend><p class="booked">✓ ${raw(appointmentLine(data))}</p>`;
      return onBooked(data);
    }
    if (status === 409) return offer(data?.alternatives || []);
    const named = (data?.errors || []).map((e) => [e.field.replace(/^body\./, ""), e.message]);
    showErrors(named.length ? named : [["slot_id", error]]);
  }

  // D31: a full slot answers with the nearest free ones; one click books the one chosen.
  function offer(found) {
    alternatives.hidden = false;
    alternatives.innerHTML = html`<p class="notice" role="alert">${found.length ? t("slotFull") : t("noAlternatives")}</p>
      <div class="actions">${found.map((a) => raw(html`<button type="button" class="alternative" data-day="${a.day}" data-slot="${a.slot_id}">${a.day} ${slotTime(a.slot_id)} · ${t("freeSeats")} ${a.free}</button>`))}</div>`;
    alternatives.querySelectorAll("[data-slot]").forEach((b) => {
      b.onclick = async () => {
        dayInput.value = b.dataset.day;
        await loadSlots(b.dataset.slot);
        await book(b.dataset.day, b.dataset.slot);
      };
    });
    alternatives.querySelector("button")?.focus();
    loadSlots(); // the free seats have changed
  }

  // Enter in a booking field must not submit the call's result (the surrounding form).
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.ctrlKey && e.target.tagName === "INPUT") e.preventDefault();
  });
  dayInput.addEventListener("change", () => loadSlots());
  bookButton.onclick = () => book(dayInput.value, box.querySelector("[name=b-slot]:checked")?.value);
  loadSlots();
}

// The booked appointment, as the task view and the workshop's list show it.
export function appointmentLine(a) {
  return html`${a.day} ${slotTime(a.slot_id)}–${(a.slot_end || "").slice(11, 16)} · ${label(a.service, "service")} · ${label(a.state, "astate")}${raw(a.parts_to_prepare?.length ? html` · ${t("partsShort")}: ${a.parts_to_prepare.join("、")}` : "")}`;
}
