// The console's shell: sign-in, the pages a user's roles allow, dealer and language switches.
import "./style.css";
import { consoleConfig, currentSession, hasRole, onSessionChange, signOut } from "./api.js";
import { t, toggleLang } from "./i18n.js";
import { html, raw } from "./ui.js";
import * as signin from "./pages/signin.js";
import * as workbench from "./pages/workbench.js";
import * as board from "./pages/board.js";
import * as dashboard from "./pages/dashboard.js";
import * as inbox from "./pages/inbox.js";
import * as appointments from "./pages/appointments.js";
import * as survey from "./pages/survey.js";

const BOARD_ROLES = ["service_advisor", "service_supervisor", "service_manager", "cr_manager", "gm", "oem_region"];
const PAGES = [
  { id: "workbench", roles: ["agent"], page: workbench },
  { id: "board", roles: BOARD_ROLES, page: board },
  { id: "dashboard", roles: ["service_manager", "cr_manager", "gm", "oem_region"], page: dashboard },
  { id: "inbox", roles: ["data_steward"], page: inbox },
  // D31: the workshop's day, for the service desk and its managers (appointments' readers).
  { id: "appointments", roles: ["service_advisor", "service_supervisor", "service_manager", "gm"], page: appointments },
  // D34: the face-to-face delivery questionnaire, recorded by the sales roles.
  { id: "surveys", roles: ["sales_consultant", "showroom_manager", "sales_manager"], page: survey },
];

const app = document.getElementById("app");
let cleanup = null;
let config = null;
let dealer = null;

function allowedPages() {
  return PAGES.filter((p) => hasRole(...p.roles));
}

async function render() {
  if (cleanup) cleanup();
  cleanup = null;
  config = config || (await consoleConfig());
  const session = currentSession();
  if (!session) {
    app.innerHTML = html`<main id="main" tabindex="-1"></main>`;
    signin.render(app.querySelector("main"), { config, rerender: render });
    return;
  }
  const pages = allowedPages();
  const wanted = location.hash.replace(/^#\/?/, "");
  const current = pages.find((p) => p.id === wanted) || pages[0];
  const dealers = session.user.dealers;
  if (!dealers.includes(dealer)) dealer = dealers[0];
  app.innerHTML = html`
    <header class="top">
      <h1>${t("app")}</h1>
      <nav aria-label="${t("app")}">
        ${pages.map((p) => raw(html`<a href="#/${p.id}" aria-current="${p === current ? "page" : "false"}">${t(`nav.${p.id}`)}</a>`))}
      </nav>
      <div class="who">
        <label for="dealer">${t("dealer")}</label>
        <select id="dealer">${dealers.map((d) => raw(html`<option value="${d}" ${raw(d === dealer ? "selected" : "")}>${d}</option>`))}</select>
        <span class="user">${session.user.name}</span>
        <button type="button" id="lang" title="${t("languageLabel")}" lang="${t("language") === "English" ? "en" : "zh-CN"}">${t("language")}</button>
        <button type="button" id="signout">${t("signout")}</button>
      </div>
    </header>
    <main id="main" tabindex="-1"></main>`;
  app.querySelector("#lang").onclick = () => { toggleLang(); render(); };
  app.querySelector("#signout").onclick = () => signOut();
  app.querySelector("#dealer").onchange = (e) => { dealer = e.target.value; render(); };
  const main = app.querySelector("main");
  if (!current) {
    main.textContent = t("noPages");
    return;
  }
  document.title = `${t(`nav.${current.id}`)} · ${t("app")}`;
  cleanup = current.page.render(main, { dealer, session, config }) || null;
}

onSessionChange(() => { location.hash = ""; render(); });
window.addEventListener("hashchange", render);
render();
