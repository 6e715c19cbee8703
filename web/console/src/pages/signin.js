// Sign-in: the demo list (development and test) or a pointer to the identity provider (OIDC).
import { postSignIn, signIn } from "../api.js";
import { t, toggleLang } from "../i18n.js";
import { html, raw } from "../ui.js";

export function render(main, { config, rerender }) {
  const demo = config.signin === "demo";
  main.innerHTML = html`
    <section class="signin card" aria-labelledby="signin-title">
      <div class="row between">
        <h1 id="signin-title">${t("app")}</h1>
        <button type="button" id="lang" title="${t("languageLabel")}" lang="${t("language") === "English" ? "en" : "zh-CN"}">${t("language")}</button>
      </div>
      ${raw(demo ? html`
      <form id="signin-form">
        <label for="username">${t("username")}</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">${t("password")}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit" class="primary">${t("signin")}</button>
        <p data-role="message" role="alert" class="message"></p>
      </form>
      <h2>${t("demoUsers")}</h2>
      <ul class="demo-users">
        ${config.demo_users.map((u) => raw(html`<li><button type="button" class="link" data-user="${u.username}">${u.username}</button> ${u.name} · ${u.roles.join(", ")}</li>`))}
      </ul>` : html`<p>${t("oidcNote")}</p>`)}
    </section>`;
  main.querySelector("#lang").onclick = () => { toggleLang(); rerender(); };
  if (!demo) return;
  const form = main.querySelector("#signin-form");
  main.querySelectorAll("[data-user]").forEach((b) => {
    b.onclick = () => {
      form.username.value = b.dataset.user;
      form.password.focus();
    };
  });
  form.onsubmit = async (e) => {
    e.preventDefault();
    const { status, data } = await postSignIn(form.username.value.trim(), form.password.value);
    if (status === 200) signIn(data);
    else main.querySelector("[data-role=message]").textContent = t("signinFailed");
  };
  form.username.focus();
}
