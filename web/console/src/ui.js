// Small DOM helpers: every value put into markup goes through esc (no HTML from the services).
import { currentLang, t } from "./i18n.js";
import { platformNow } from "./api.js";

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// html`<p>${x}</p>` escapes x; raw(...) marks markup built here as safe.
export function html(strings, ...values) {
  return strings.reduce((out, s, i) => {
    if (i === 0) return s;
    const v = values[i - 1];
    const text = Array.isArray(v) ? v.map((x) => (x?.__raw ?? esc(x))).join("") : v?.__raw ?? esc(v);
    return out + text + s;
  }, "");
}

export function raw(markup) {
  return { __raw: markup };
}

export function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(currentLang() === "zh" ? "zh-CN" : "en-GB", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  });
}

// "2天3小时" / "-1h 5m": what is left until iso on the platform's clock.
export function countdown(iso) {
  if (!iso) return "—";
  let ms = new Date(iso).getTime() - platformNow().getTime();
  const sign = ms < 0 ? "-" : "";
  ms = Math.abs(ms);
  const d = Math.floor(ms / 86400000);
  const h = Math.floor((ms % 86400000) / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  const zh = currentLang() === "zh";
  if (d > 0) return `${sign}${d}${zh ? "天" : "d "}${h}${zh ? "小时" : "h"}`;
  if (h > 0) return `${sign}${h}${zh ? "小时" : "h "}${m}${zh ? "分" : "m"}`;
  return `${sign}${m}:${String(s).padStart(2, "0")}`;
}

// 138****8000 (D3), as the services mask it; the country code +86 is left out.
export function maskPhone(phone) {
  const digits = String(phone ?? "").replace(/\D/g, "").replace(/^86(?=1\d{10}$)/, "");
  return digits.length >= 7 ? `${digits.slice(0, 3)}****${digits.slice(-4)}` : "****";
}

// A message in the page's live region (screen readers read it out).
export function say(container, text, kind = "info") {
  const box = container.querySelector("[data-role=message]");
  if (!box) return;
  box.className = `message ${kind}`;
  box.textContent = text;
}

export function label(key, prefix) {
  const v = t(`${prefix}.${key}`);
  return v === `${prefix}.${key}` ? key : v;
}

// Working seconds (D20 deadlines) as "7小时30分" / "7h 30m"; negative when past.
export function workingLeft(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const sign = seconds < 0 ? "-" : "";
  const total = Math.abs(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  return currentLang() === "zh" ? `${sign}${h}小时${m}分` : `${sign}${h}h ${m}m`;
}

// Working time left until each moment on the dealer's calendar (the console's backend).
export async function workingTimeLeft(dealer, moments) {
  if (!moments.length) return [];
  const url = new URL("/console/working-time", location.origin);
  url.searchParams.set("dealer_id", dealer);
  moments.forEach((m) => url.searchParams.append("until", m));
  const answer = await fetch(url);
  return answer.ok ? (await answer.json()).left_seconds : moments.map(() => null);
}

// The dealer's calendar day (YYYY-MM-DD) `offsetDays` after today on the platform's clock.
export function localDay(offsetDays = 0) {
  const moment = new Date(platformNow().getTime() + offsetDays * 86400000);
  return moment.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
}

// A workshop slot's id is its start as hhmm (appointments service): "1030" → "10:30".
export function slotTime(slotId) {
  return /^\d{4}$/.test(slotId ?? "") ? `${slotId.slice(0, 2)}:${slotId.slice(2)}` : String(slotId ?? "");
}

// For a page that loads again on input (a day, a month, filters): `const startLoad = latestLoads()`
// once, then each load calls `const isLatest = startLoad()` before asking and draws only while
// `isLatest()`: a slow earlier answer (the page's first load) must not overwrite what was chosen since.
export function latestLoads() {
  let generation = 0;
  return () => {
    const mine = ++generation;
    return () => mine === generation;
  };
}
