// The console in headless Chromium (Debian's, driven by playwright-core) against the real
// services: an agent claims a call and records a low score, the service manager sees the ticket
// on the board and acknowledges it, the dashboard changes; the data steward fixes a rejected
// record. Every request the browser makes is logged; any to another origin is refused and
// reported (the console must work with the network cut off). Prints one JSON summary.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { focusOrder, lowContrast, unlabelledControls } from "./a11y.mjs";

const base = process.env.CONSOLE_URL;
const DEALER = "dealer-sz-001";
const BOOKING_DAY = "2026-11-21"; // two days after the call: its reminder the day before is not due yet
const out = process.env.SCREENSHOT_DIR;
const password = process.env.DEMO_PASSWORD || "demo";
const origin = new URL(base).origin;
mkdirSync(out, { recursive: true });

const summary = { steps: [], requests: 0, request_log: [], external: [], a11y: {}, screenshots: [], console_errors: [], http_conflicts: 0, http_forbidden: 0, forbidden: [] };
const step = (name, detail = {}) => {
  summary.steps.push({ name, ...detail });
  process.stderr.write(`step: ${name} ${JSON.stringify(detail)}\n`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--lang=zh-CN", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN" });
await context.route("**/*", (route) => {
  const url = route.request().url();
  summary.requests += 1;
  summary.request_log.push(`${route.request().method()} ${url.startsWith("data:") ? url.slice(0, 40) : url}`);
  if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
  summary.external.push(url);
  return route.abort("blockedbyclient");
});
const page = await context.newPage();
page.setDefaultTimeout(15_000);
// An answer like 409 (the lease lost, a full slot, a survey recorded, on purpose) or 422 (a
// survey item left out, on purpose) is logged by Chromium as a failed resource:
// those are the services' answers, shown in the page; anything else logged as an error fails.
page.on("console", (m) => {
  if (m.type() !== "error") return;
  if (/^Failed to load resource: the server responded with a status of (409|422)/.test(m.text())) summary.http_conflicts += 1;
  else if (/^Failed to load resource: the server responded with a status of 403/.test(m.text())) summary.http_forbidden += 1;
  else summary.console_errors.push(m.text());
});
page.on("pageerror", (e) => summary.console_errors.push(String(e)));
// A 403 is a service refusing the user's role: the test checks which calls those were.
page.on("response", (r) => { if (r.status() === 403) summary.forbidden.push(`${r.request().method()} ${r.url()}`); });

async function shot(name, what) {
  const path = `${out}/${name}.png`;
  await page.screenshot({ path, fullPage: true }); // the whole page: nothing below the fold left out
  // A page wider than the window hides its right edge: the test fails on one.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  summary.screenshots.push({ path, what, width });
}

async function audit(name) {
  summary.a11y[name] = {
    unlabelled: await unlabelledControls(page),
    low_contrast: await lowContrast(page),
    focus: await focusOrder(page),
  };
}

async function signInAs(username) {
  await page.goto(base);
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(base);
  await page.getByLabel(/用户名|User name/).fill(username);
  await page.getByLabel(/^密码$|^Password$/).fill(password);
  await page.getByRole("button", { name: /^登录$|^Sign in$/ }).click();
  await page.locator("header.top").waitFor();
}

async function pages() {
  return page.locator("header.top nav a").allTextContents();
}

async function eventually(probe, what, timeoutMs = 60_000, everyMs = 1500) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await page.waitForTimeout(everyMs);
  }
}

// A call behind the page's back, with the signed-in user's token (another agent, another device).
async function behindTheBack(path, body) {
  return page.evaluate(async ([path, body]) => {
    const { token } = JSON.parse(sessionStorage.getItem("aftersales.console.session"));
    const answer = await fetch(path, {
      method: "POST", body: JSON.stringify(body),
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    });
    return answer.status;
  }, [path, body]);
}

async function kpis() {
  await page.locator("#kpi-contacts").waitFor();
  return {
    contacts: Number(await page.locator("#kpi-contacts").textContent()),
    complaints: Number(await page.locator("#kpi-complaints").textContent()),
  };
}

try {
  // Sign-in page.
  await page.goto(base);
  await page.getByLabel(/用户名|User name/).waitFor();
  await audit("signin");
  await shot("01-signin", "sign-in page with the demo users");

  // The manager's dashboard before the call.
  await signInAs("manager");
  await page.goto(`${base}/#/dashboard`);
  const before = await kpis();
  step("dashboard before", { ...before, pages: await pages() });

  // The agent: a lease lost (given back behind the page's back, as when it runs out) is said so.
  await signInAs("agent");
  await page.locator("#next").waitFor();
  step("agent pages", { pages: await pages() });
  await page.keyboard.press("Alt+N");
  await page.locator("#who-title").waitFor();
  await page.evaluate(async () => {
    const { token } = JSON.parse(sessionStorage.getItem("aftersales.console.session"));
    const task = document.querySelector("#task").dataset.taskId;
    await fetch(`/api/contact/v1/tasks/${task}/lease`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } });
  });
  await page.keyboard.press("Alt+3");
  await page.keyboard.press("Control+Enter");
  await page.locator(".message.error").waitFor();
  step("lease lost", { message: await page.locator(".message").textContent() });

  // Next customer again (the same call, back on the queue), reveal, a low score, Ctrl+Enter.
  await page.keyboard.press("Alt+N");
  await page.locator("#who-title").waitFor();
  const masked = await page.locator("#phone").textContent();
  await page.getByRole("button", { name: /显示号码|Reveal/ }).click();
  const revealed = await page.locator("#phone").textContent();
  step("claimed", { masked, revealed_digits: revealed.replace(/\D/g, "").length, lease: await page.locator("#lease-left").textContent() });
  const scores = { attitude: 6, environment: 8, service_process: 5, quality: 4, charges: 7, timeliness: 5, overall: 4 };
  for (const [item, value] of Object.entries(scores)) await page.locator(`#score-${item}`).fill(String(value));
  await page.locator("#yn-fixed_first_time-no").check(); // D16's yes/no item: not fixed first time
  await page.locator("[name=issue][value=waiting_time]").check();
  await page.locator("#comment").fill("等了三个小时才交车，异响还在。");

  // D31: the customer comes in on Saturday at 09:00; another agent takes that last seat first,
  // so the booking answers 409 with the nearest free slots, and one click takes the first.
  await page.locator("#b-day").fill(BOOKING_DAY);
  await page.locator(`#b-slots[data-day="${BOOKING_DAY}"] input[value='0900']`).check();
  await page.locator("#b-parts").fill("机油滤清器、空调滤芯");
  const rival = await behindTheBack(`/api/appointments/v1/dealers/${DEALER}/appointments`, {
    request_id: "rival-agent-1", vin: process.env.FIXED_VIN, customer_id: "C-RIVAL",
    day: await page.locator("#b-day").inputValue(), slot_id: "0900", service: "maintenance",
  });
  await page.locator("#b-book").click();
  const alternative = page.locator("#b-alternatives .alternative").first();
  await alternative.waitFor();
  step("slot full", { rival, alternatives: await page.locator("#b-alternatives .alternative").allTextContents() });
  await shot("02a-workbench-slot-full", "agent workbench: the chosen slot was full (409), the nearest free slots offered");
  await alternative.click();
  await page.locator("#appointment").waitFor();
  step("booked", { line: await page.locator("#appointment-line").textContent(), message: await page.locator(".message").textContent() });
  await page.locator("#history li").first().waitFor();
  await audit("workbench");
  await shot("02-workbench-mid-call", "agent workbench mid-call: customer, revealed phone, questionnaire filled, outcome form");
  await page.locator("#comment").focus();
  await page.keyboard.press("Control+Enter");
  await page.locator(".message.ok").filter({ hasText: /已提交/ }).waitFor();
  step("submitted", { message: await page.locator(".message").textContent() });
  await page.keyboard.press("Alt+N");
  await page.locator(".message.warn").waitFor();
  step("queue empty", { message: await page.locator(".message").textContent() });
  await shot("03-workbench-empty-queue", "agent workbench after submitting: empty-queue message");

  // The manager's board: the ticket appears; acknowledge it.
  await signInAs("manager");
  await page.goto(`${base}/#/board`);
  const ticket = await eventually(async () => {
    await page.getByRole("button", { name: /^刷新$|^Refresh$/ }).click();
    await page.waitForTimeout(300);
    const row = page.locator("#tickets [data-ticket]");
    return (await row.count()) ? row.first() : null;
  }, "the ticket on the board");
  await ticket.click();
  await page.locator("#ticket-title").waitFor();
  step("ticket opened", {
    title: await page.locator("#ticket-title").textContent(),
    left: await page.locator("#tickets tbody tr td").nth(6).textContent(),
  });
  await page.locator("[data-action=acknowledge]").click();
  await page.locator("#a-text").fill("已致电客户致歉，安排技师复检。");
  await page.locator("#action-form button[type=submit]").click();
  await eventually(async () => /已受理/.test(await page.locator("#ticket-title").textContent()), "acknowledged", 15_000, 500);
  step("ticket acknowledged", { title: await page.locator("#ticket-title").textContent() });
  await audit("board");
  await shot("04-complaints-board", "complaints board with the new ticket acknowledged, its deadlines and history");

  // The dashboard changed.
  await page.goto(`${base}/#/dashboard`);
  const after = await eventually(async () => {
    await page.getByRole("button", { name: /^刷新$|^Refresh$/ }).click();
    const now = await kpis();
    return now.contacts > before.contacts && now.complaints > before.complaints ? now : null;
  }, "the dashboard's counts to change");
  step("dashboard after", after);
  await page.locator("#chart-scores canvas").first().waitFor();
  await audit("dashboard");
  await shot("05-dashboard", "monthly report: KPIs, average scores, outcomes, complaints by grade, trend");
  await page.locator("#lang").click();
  await page.getByRole("link", { name: "Monthly report" }).waitFor();
  await page.locator("#kpi-contacts").waitFor();
  await shot("06-dashboard-english", "the same dashboard in English");
  await page.locator("#lang").click();

  // The service advisor's workshop day: both appointments of tomorrow, the parts to prepare.
  await signInAs("advisor");
  step("advisor pages", { pages: await pages() });
  // The page's first load (today's) answers late, after the day chosen: a late answer once drew
  // over the chosen day's list (CI); the chosen day must stay drawn.
  const otherDay = (url) => /[?&]day=/.test(url) && !url.includes(`day=${BOOKING_DAY}`);
  const late = async (route) => {
    if (otherDay(route.request().url())) await page.waitForTimeout(2_000);
    return route.fallback();
  };
  await page.route("**/api/appointments/**", late);
  const lateAnswer = page.waitForResponse((r) => r.url().includes("/appointments?") && otherDay(r.url()));
  await page.goto(`${base}/#/appointments`);
  await page.locator("#a-day").fill(BOOKING_DAY);
  await eventually(async () => (await page.locator("#day-list tbody tr").count()) >= 2, "tomorrow's list", 15_000, 500);
  await lateAnswer;
  await page.waitForTimeout(500); // whatever the late answer draws, drawn
  await page.unroute("**/api/appointments/**", late);
  const drawn = await page.locator("[data-role=message]").textContent();
  if (!drawn.startsWith(BOOKING_DAY)) throw new Error(`a late answer drew over the day chosen: ${drawn}`);
  step("workshop day", { rows: await page.locator("#day-list tbody tr").allInnerTexts(), capacity: await page.locator("#capacity tbody tr").allInnerTexts() });
  await audit("appointments");
  await shot("06a-appointments", "the workshop's day: capacity per slot and the appointments with the parts to prepare");

  // D34: the sales consultant records a delivery's face-to-face questionnaire; the yes/no item
  // left out answers 422 next to it; answered, it is recorded (201).
  await signInAs("sales");
  step("sales pages", { pages: await pages() });
  const handedOver = JSON.parse(process.env.DELIVERY);
  // The delivery waits in the list (reporting's drill-down) once reporting has projected it;
  // opening it from there fills in its VIN and the buyer's customer id.
  const listed = page.locator(`#waiting [data-delivery="${handedOver.delivery_id}"]`);
  await eventually(async () => {
    if (await listed.count()) return true;
    await page.reload();
    await page.locator("#waiting p, #waiting ul").first().waitFor();
    return (await listed.count()) > 0;
  }, "the delivery in the list of those waiting for their survey", 30_000, 1000);
  const waiting = await page.locator("#waiting").textContent();
  async function fillScores() {
    for (const [item, value] of Object.entries({ consultant_etiquette: 9, product_knowledge: 8, delivery_time: 10, overall: 9 })) {
      await page.locator(`#sv-${item}`).fill(String(value));
    }
  }
  async function openSurvey(deliveryId, vin, customerId) {
    await page.locator("#sv-delivery").fill(deliveryId);
    await page.getByRole("button", { name: /打开问卷|Open survey/ }).click();
    await page.locator("#survey-form").waitFor();
    await page.locator("#sv-vin").fill(vin);
    await page.locator("#sv-customer").fill(customerId);
    await fillScores();
  }
  await listed.click();
  await page.locator("#survey-form").waitFor();
  const prefilled = { vin: await page.locator("#sv-vin").inputValue(), customer_id: await page.locator("#sv-customer").inputValue() };
  await fillScores();
  await page.getByRole("button", { name: /提交问卷|Submit survey/ }).click();
  const fieldError = page.locator('[data-error-for="yes_no.test_drive_invited"]');
  await eventually(async () => (await fieldError.textContent()).trim(), "the 422 next to the yes/no item", 15_000, 300);
  step("survey refused", { field_error: await fieldError.textContent(), field_title: await fieldError.getAttribute("title"), message: await page.locator(".message").textContent(), waiting, prefilled });
  await audit("surveys");
  await shot("06b-survey-422", "face-to-face delivery questionnaire: the unanswered yes/no item marked by the service's 422");
  await page.locator("#sv-test_drive_invited-yes").check();
  await page.getByRole("button", { name: /提交问卷|Submit survey/ }).click();
  await page.locator(".message.ok").waitFor();
  step("survey recorded", { message: await page.locator(".message").textContent(), recorded: await page.locator("#survey .recorded").innerText() });
  await shot("06c-survey-recorded", "the questionnaire recorded (201), shown read-only");

  // Another delivery: someone records a different answer first; submitting says so (409).
  await openSurvey("DL-20261119-0002", process.env.FIXED_VIN, "C-BUYER-2");
  await page.locator("#sv-test_drive_invited-no").check();
  const other = await behindTheBack(`/api/contact/v1/dealers/${DEALER}/deliveries/DL-20261119-0002/survey`, {
    vin: process.env.FIXED_VIN, customer_id: "C-BUYER-2",
    scores: { consultant_etiquette: 7, product_knowledge: 7, delivery_time: 7, overall: 7 }, yes_no: { test_drive_invited: true },
  });
  await page.getByRole("button", { name: /提交问卷|Submit survey/ }).click();
  await page.locator(".message.error").waitFor();
  step("survey conflict", { other, message: await page.locator(".message").textContent(), recorded: await page.locator("#survey .recorded").count(), banner: await page.locator("#survey .banner").textContent() });
  await shot("06d-survey-409", "a second answer for a delivery that has one: 409 said clearly, the recorded answer shown");
  // The form in English (the questionnaire's own English wording).
  await page.locator("#lang").click();
  await page.locator("#sv-delivery").fill("DL-20261119-0003");
  await page.getByRole("button", { name: "Open survey" }).click();
  await page.locator("#survey-form").waitFor();
  step("survey english", { items: await page.locator("#survey-form .score").allInnerTexts() });
  await shot("06e-survey-english", "the face-to-face questionnaire form in English");
  await page.locator("#lang").click();

  // The data steward: the rejected record, fixed and resolved.
  await signInAs("steward");
  step("steward pages", { pages: await pages() });
  await page.goto(`${base}/#/inbox`);
  const rejection = page.locator("#rejections [data-id]").first();
  await rejection.waitFor();
  await rejection.click();
  await page.locator("#raw-record").waitFor();
  await audit("inbox");
  await shot("07-inbox", "data steward's inbox: rejected record with its reasons, raw record open for fixing");
  const rawRecord = JSON.parse(await page.locator("#raw-record").inputValue());
  rawRecord.vin = process.env.FIXED_VIN;
  await page.locator("#raw-record").fill(JSON.stringify(rawRecord, null, 2));
  await page.getByRole("button", { name: /修正并提交|Fix and submit/ }).click();
  await page.locator(".message.ok").waitFor();
  step("rejection fixed", { message: await page.locator(".message").textContent() });

  // The file import: two DMS records, one refused; progress, counts and the error report.
  await page.locator("#import-file").setInputFiles(process.env.IMPORT_FILE);
  await page.getByRole("button", { name: /开始导入|Import/ }).click();
  await page.locator(".message.ok").filter({ hasText: /导入完成|Import finished/ }).waitFor();
  step("file imported", {
    counts: await page.locator("#import-counts").textContent(),
    progress: await page.locator("#import-progress").evaluate((p) => `${p.value}/${p.max}`),
    errors: await page.locator("#import-errors li").allTextContents(),
  });
  await shot("08-inbox-import", "data steward's inbox after the file import: progress, counts, error report, the new rejection listed");

  // The month's report now holds the delivery surveyed (D34) and the appointments (D31).
  await signInAs("manager");
  await page.goto(`${base}/#/dashboard`);
  const sales = await eventually(async () => {
    await page.getByRole("button", { name: /^刷新$|^Refresh$/ }).click();
    await page.locator("#kpi-contacts").waitFor();
    const table = page.locator('section[aria-labelledby="sec-face-to-face-title"]');
    return (await table.count()) && /1\/1/.test(await table.textContent()) ? table : null;
  }, "the face-to-face coverage in the report");
  step("dashboard sales", {
    face_to_face: await sales.textContent(),
    appointments: await page.locator('section[aria-labelledby="sec-appointments-title"]').textContent(),
  });
  await shot("09-dashboard-sales", "monthly report, whole page: appointments (D31), face-to-face coverage and consultants (D34)");
  summary.ok = true;
} catch (error) {
  summary.ok = false;
  summary.error = String(error.stack || error);
  await shot("99-failure", "the page when the scenario failed").catch(() => {});
} finally {
  await browser.close();
  process.stdout.write(JSON.stringify(summary, null, 1) + "\n");
}
