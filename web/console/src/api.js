// The signed-in user's session and the one way the pages call the services: /api/<service>/…
// on the console's own origin, with the user's bearer token.

const KEY = "aftersales.console.session";
let session = JSON.parse(sessionStorage.getItem(KEY) || "null");
let clockOffsetMs = 0; // the platform's clock minus the browser's (controlled clock in demos)
const listeners = new Set();

export function currentSession() {
  if (session && new Date(session.expires_at).getTime() <= Date.now()) signOut();
  return session;
}

export function onSessionChange(listener) {
  listeners.add(listener);
}

export function signIn(signed) {
  session = signed;
  sessionStorage.setItem(KEY, JSON.stringify(signed));
  listeners.forEach((l) => l(session));
}

export function signOut() {
  session = null;
  sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(session));
}

export function hasRole(...roles) {
  return !!session && roles.some((r) => session.user.roles.includes(r));
}

export function setPlatformNow(iso) {
  clockOffsetMs = new Date(iso).getTime() - Date.now();
}

export function platformNow() {
  return new Date(Date.now() + clockOffsetMs);
}

export async function consoleConfig() {
  const answer = await fetch("/console/config");
  const config = await answer.json();
  setPlatformNow(config.now);
  return config;
}

export async function postSignIn(username, password) {
  const answer = await fetch("/console/signin", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return { status: answer.status, data: await answer.json().catch(() => null) };
}

function errorText(data, status) {
  if (!data) return `HTTP ${status}`;
  const detail = data.detail ?? data.title ?? data;
  if (Array.isArray(detail)) return detail.map((d) => d.msg ?? JSON.stringify(d)).join("; ");
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

// → {status, data, error}; a 401 signs the user out (expired or revoked token).
export async function api(service, path, { method = "GET", body, query, raw = false } = {}) {
  const url = new URL(`/api/${service}${path}`, location.origin);
  Object.entries(query || {}).forEach(([k, v]) => {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  });
  const headers = { Accept: "application/json" };
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status === 401 && session) signOut();
  if (raw) return { status: answer.status, answer };
  const text = await answer.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: answer.status, data, error: answer.ok ? null : errorText(data, answer.status) };
}
