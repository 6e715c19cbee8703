// The workshop's day (D31): each slot's bays, booked and free seats, and the day's appointments
// with the service wanted and the parts to prepare (appointments: …/workshop, …/appointments).
import { api, hasRole } from "../api.js";
import { t } from "../i18n.js";
import { formatTime, html, label, latestLoads, localDay, raw, say, slotTime } from "../ui.js";

// Who may cancel (appointments README: the bookers); the GM only reads.
const CANCELLERS = ["service_advisor", "service_supervisor", "service_manager"];

function shifted(day, days) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function render(main, { dealer }) {
  main.innerHTML = html`
    <form id="day-form" class="toolbar" aria-label="${t("workshopDay")}">
      <button type="button" id="prev-day">${t("prevDay")}</button>
      <label for="a-day">${t("day")}</label>
      <input id="a-day" name="day" type="date" value="${localDay(0)}" />
      <button type="button" id="next-day">${t("nextDay")}</button>
      <button type="submit">${t("refresh")}</button>
    </form>
    <p data-role="message" class="message" role="status" aria-live="polite"></p>
    <div class="appointments">
      <section class="card" aria-labelledby="cap-title">
        <h2 id="cap-title">${t("capacity")}</h2>
        <table id="capacity"><thead><tr><th scope="col">${t("slot")}</th><th scope="col">${t("bays")}</th>
          <th scope="col">${t("bookedCount")}</th><th scope="col">${t("freeSeats")}</th></tr></thead><tbody></tbody></table>
      </section>
      <section class="card" aria-labelledby="list-title">
        <h2 id="list-title">${t("workshopDay")}</h2>
        <div class="table-wrap"><table id="day-list"><thead><tr><th scope="col">${t("time")}</th><th scope="col">${t("plate")}</th>
          <th scope="col">VIN</th><th scope="col">${t("service")}</th><th scope="col">${t("partsShort")}</th><th scope="col">${t("state")}</th>
          <th scope="col">${t("bookedBy")}</th><th scope="col">${t("workOrder")}</th><th scope="col">${t("actions")}</th></tr></thead><tbody></tbody></table></div>
      </section>
    </div>`;
  const form = main.querySelector("#day-form");
  const dayInput = form.querySelector("#a-day");
  form.onsubmit = (e) => { e.preventDefault(); load(); };
  dayInput.onchange = load;
  main.querySelector("#prev-day").onclick = () => { dayInput.value = shifted(dayInput.value, -1); load(); };
  main.querySelector("#next-day").onclick = () => { dayInput.value = shifted(dayInput.value, 1); load(); };

  const startLoad = latestLoads();

  async function load() {
    const day = dayInput.value;
    if (!day) return;
    const isLatest = startLoad();
    const [capacity, listed] = await Promise.all([
      api("appointments", `/v1/dealers/${dealer}/workshop`, { query: { day } }),
      api("appointments", `/v1/dealers/${dealer}/appointments`, { query: { day } }),
    ]);
    if (!isLatest()) return; // a later day's load draws instead
    if (capacity.status !== 200) return say(main, capacity.error, "error");
    if (listed.status !== 200) return say(main, listed.error, "error");
    main.querySelector("#capacity tbody").innerHTML = capacity.data.slots.map((s) => html`<tr>
      <td>${s.start}–${s.end}</td><td>${s.bays}</td><td>${s.booked}</td><td>${s.free}</td></tr>`).join("");
    const items = listed.data.items || [];
    const mayCancel = hasRole(...CANCELLERS);
    main.querySelector("#day-list tbody").innerHTML = items.length ? items.map((a) => html`<tr class="astate-${a.state}">
      <td>${slotTime(a.slot_id)}–${(a.slot_end || "").slice(11, 16)}</td><td>${a.plate ?? "—"}</td><td>${a.vin}</td>
      <td>${label(a.service, "service")}</td><td>${(a.parts_to_prepare || []).join("、") || "—"}</td>
      <td>${label(a.state, "astate")}</td><td>${a.booked_by} · ${formatTime(a.booked_at)}</td><td>${a.work_order_id ?? "—"}</td>
      <td>${raw(mayCancel && a.state === "booked" ? html`<button type="button" data-cancel="${a.appointment_id}">${t("cancel")}</button>` : "—")}</td></tr>`).join("")
      : html`<tr><td colspan="9">${t("noAppointments")}</td></tr>`;
    main.querySelectorAll("[data-cancel]").forEach((b) => { b.onclick = () => cancel(b.dataset.cancel); });
    say(main, `${day} · ${t("appointment")} ${items.length}`);
  }

  async function cancel(appointmentId) {
    const { status, error } = await api("appointments", `/v1/appointments/${appointmentId}/cancel`, { method: "POST", body: {} });
    if (status !== 200) return say(main, error, "error");
    await load();
    say(main, t("cancelled"), "ok");
  }

  load();
}
