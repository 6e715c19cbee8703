// The data steward's inbox: intake's rejected records with their reasons, opening one (its raw
// record, audited by intake), fix-and-submit, replay; and a file import with its progress.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { formatTime, html, latestLoads, raw, say } from "../ui.js";

const BATCH = 50;

function reasonsList(reasons) {
  return html`<ul class="reasons">${(reasons || []).map((r) => raw(html`<li><code>${r.code}</code> ${r.field ?? ""} — ${r.message ?? ""}</li>`))}</ul>`;
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function render(main, { dealer }) {
  main.innerHTML = html`
    <p data-role="message" class="message" role="status" aria-live="polite"></p>
    <div class="inbox">
      <section class="card" aria-labelledby="rej-title">
        <div class="row between"><h2 id="rej-title">${t("rejections")}</h2><button type="button" id="reload">${t("refresh")}</button></div>
        <ul id="rejections" class="rejections"></ul>
      </section>
      <section class="card" id="editor" aria-live="polite"></section>
      <section class="card" aria-labelledby="import-title">
        <h2 id="import-title">${t("importFile")}</h2>
        <form id="import">
          <label for="import-file">${t("chooseFile")}</label>
          <input id="import-file" name="file" type="file" accept=".json,.jsonl,application/json" required />
          <button type="submit">${t("importStart")}</button>
          <progress id="import-progress" max="1" value="0" aria-label="${t("importProgress")}"></progress>
          <output id="import-counts" for="import-file"></output>
        </form>
        <h3>${t("errorReport")}</h3>
        <ol id="import-errors" class="reasons"></ol>
      </section>
    </div>`;
  main.querySelector("#reload").onclick = load;
  const startLoad = latestLoads();

  async function load() {
    const isLatest = startLoad();
    const { status, data, error } = await api("intake", "/v1/rejections", { query: { dealer_id: dealer, state: "open", limit: 200 } });
    if (!isLatest()) return; // a later load (the refresh, a fix, an import) draws instead
    if (status !== 200) return say(main, error, "error");
    const items = data.items || [];
    const list = main.querySelector("#rejections");
    list.innerHTML = items.length ? items.map((r) => html`<li>
      <button type="button" class="link" data-id="${r.rejection_id}">${r.record_id ?? r.rejection_id}</button>
      <small>${formatTime(r.received_at)} · ${r.kind ?? ""}</small>${raw(reasonsList(r.reasons))}</li>`).join("")
      : html`<li>${t("noRejections")}</li>`;
    list.querySelectorAll("[data-id]").forEach((b) => { b.onclick = () => open(b.dataset.id); });
    say(main, `${t("rejections")}: ${items.length}`);
  }

  async function open(id) {
    const { status, data, error } = await api("intake", `/v1/rejections/${id}`);
    const editor = main.querySelector("#editor");
    if (status !== 200) { editor.textContent = error; return; }
    const base64 = data.raw_encoding === "base64";
    editor.innerHTML = html`<h2 id="edit-title" tabindex="-1">${data.record_id ?? id}</h2>
      <h3>${t("reasons")}</h3>${raw(reasonsList(data.reasons))}
      <form id="fix-form">
        <label for="raw-record">${t("record")}</label>
        <textarea id="raw-record" name="record" rows="14" spellcheck="false">${base64 ? data.raw : pretty(data.raw)}</textarea>
        <div class="row"><button type="submit" class="primary">${t("fix")}</button>
        <button type="button" id="replay">${t("replay")}</button></div>
      </form>`;
    editor.querySelector("#edit-title").focus();
    const form = editor.querySelector("#fix-form");
    form.onsubmit = async (e) => {
      e.preventDefault();
      let record;
      try {
        record = JSON.parse(form.record.value);
      } catch {
        return say(main, t("invalidJson"), "error");
      }
      report(await api("intake", `/v1/rejections/${id}/fix`, { method: "POST", body: record }));
    };
    editor.querySelector("#replay").onclick = async () => report(await api("intake", `/v1/rejections/${id}/replay`, { method: "POST" }));
  }

  async function report({ status, data, error }) {
    if (status !== 200) return say(main, error, "error");
    if (data.resolved) {
      main.querySelector("#editor").innerHTML = "";
      await load();
    }
    say(main, `${data.resolved ? "✓" : "✗"} ${data.record_id ?? ""} ${data.outcome ?? data.status ?? ""} ${(data.reasons || []).map((r) => r.code).join(", ")}`, data.resolved ? "ok" : "error");
  }

  // DMS records, a JSON array or one JSON object per line, sent in batches as the DMS would
  // (intake's webhook takes a `dms` credential: the import is the DMS's channel, D5).
  main.querySelector("#import").onsubmit = async (e) => {
    e.preventDefault();
    const file = e.target.file.files[0];
    const text = await file.text();
    let records;
    try {
      records = text.trim().startsWith("[") ? JSON.parse(text) : text.split(/\r?\n/).filter((l) => l.trim()).map((l) => JSON.parse(l));
    } catch {
      return say(main, t("invalidJson"), "error");
    }
    const progress = main.querySelector("#import-progress");
    const errors = main.querySelector("#import-errors");
    const counts = { accepted: 0, duplicate: 0, corrected: 0, rejected: 0 };
    errors.innerHTML = "";
    progress.max = records.length;
    for (let start = 0; start < records.length; start += BATCH) {
      const batch = records.slice(start, start + BATCH);
      const { status, data, error } = await api("intake", "/v1/dms/work-orders", { method: "POST", body: batch });
      if (status !== 200) return say(main, error, "error");
      Object.keys(counts).forEach((k) => { counts[k] += data.counts?.[k] ?? 0; });
      (data.results || []).filter((r) => r.outcome === "rejected").forEach((r) => {
        errors.insertAdjacentHTML("beforeend", html`<li>#${start + r.index + 1} ${r.record_id ?? ""} ${(r.reasons || []).map((x) => `${x.code} ${x.field ?? ""}`).join("; ")}</li>`);
      });
      progress.value = start + batch.length;
      main.querySelector("#import-counts").textContent = Object.entries(counts).map(([k, v]) => `${t(k)} ${v}`).join(" · ");
    }
    await load();
    say(main, t("importDone"), "ok");
  };

  load();
}
