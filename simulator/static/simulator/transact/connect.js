/*
 * Connecting an account: search for the company, log in, answer a second factor, then hand
 * the started task to the progress screen (asking the host for data the user lacks, once).
 */

import { api } from "./api.js";
import { showHub } from "./hub.js";
import { button, fieldError, h, logo, render, showError } from "./layout.js";
import { showProgress } from "./progress.js";
import { CLOSE, DATA_REQUEST, interaction, post } from "./protocol.js";
import { state } from "./state.js";
import { t } from "./strings.js";

export function showSearch() {
  state.task = null;
  const input = h("input", {
    id: "company-search",
    type: "search",
    autocomplete: "off",
    placeholder: t("companyName"),
  });
  const results = h("div", { id: "company-results", "aria-live": "polite" });
  const screen = render(
    t("searchTitle"),
    [
      h("h1", {}, t("searchTitle")),
      h("label", { for: "company-search", class: "label" }, t("searchLabel")),
      input,
      results,
    ],
    { back: state.config.operation === "manage" ? showHub : null },
  );
  let asked = 0;
  const search = async () => {
    const query = input.value.trim();
    const mine = ++asked;
    let data;
    try {
      data = await api("GET", "/transact/api/companies?q=" + encodeURIComponent(query));
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) showError(t("somethingWrong"), error.message);
      return;
    }
    if (mine !== asked || screen !== state.screen) return;
    results.replaceChildren(companyList(data.companies, query));
    // Which query the list answers, so automation can wait for it to settle.
    results.dataset.query = query;
  };
  input.addEventListener("input", search);
  search();
  input.focus();
  interaction("Viewed Search By Company Page");
}

function companyList(companies, query) {
  if (!companies.length) {
    return h(
      "div",
      { class: "empty", "data-empty": "companies" },
      h("p", {}, t("searchEmpty", { query })),
      h("p", { class: "muted" }, t("searchEmptyHelp")),
      button(t("close"), () => post(CLOSE, { reason: "zero-search-results" })),
    );
  }
  return h(
    "ul",
    { class: "list companies" },
    companies.map((company) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "company",
            "data-company-id": company.id,
            onclick: () => showLogin(company),
          },
          logo(company),
          h("span", { class: "company-name" }, company.name),
          h("span", { class: "muted" }, company.accountType),
        ),
      ),
    ),
  );
}

export function showLogin(company) {
  state.task = null;
  const form = h(
    "form",
    { class: "form", novalidate: true },
    h("label", { for: "username", class: "label" }, t("username")),
    h("input", {
      id: "username",
      name: "username",
      autocomplete: "username",
      required: true,
      "aria-describedby": company.loginHint ? "username-hint" : null,
    }),
    company.loginHint ? h("p", { id: "username-hint", class: "muted" }, company.loginHint) : null,
    h("label", { for: "password", class: "label" }, t("password")),
    h("input", {
      id: "password",
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
    h("p", { class: "form-error", role: "alert", hidden: true }),
    h("button", { type: "submit", class: "primary" }, t("continue")),
    h("p", { class: "note" }, t("testCredentials")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) return fieldError(form, t("username") + " / " + t("password"));
    await submitCredentials(form, company, "/transact/api/login", { username, password });
  });
  render(
    company.name,
    [
      h("div", { class: "company-head" }, logo(company), h("h1", {}, t("loginTitle", { company: company.name }))),
      h("p", { class: "muted" }, t("loginIntro", { company: company.name })),
      form,
    ],
    { back: showSearch },
  );
  form.elements.username.focus();
  interaction("Viewed Login Page", { company: company.name, companyId: company.id });
}

async function submitCredentials(form, company, path, fields) {
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  fieldError(form, "");
  let data;
  try {
    data = await api("POST", path, {
      companyId: company.id,
      metadata: state.config.metadata,
      ...fields,
    });
  } catch (error) {
    submit.disabled = false;
    if (error.status !== 401 && error.status !== 403) fieldError(form, error.message);
    return;
  }
  switch (data.step) {
    case "mfa-code":
    case "mfa-question":
      showMfa(company, fields.username, data.step, data.question);
      break;
    default:
      connectStarted(company, data.task, data.dataRequestFields || []);
  }
}

function showMfa(company, username, step, question) {
  const label = step === "mfa-code" ? t("mfaCodeLabel", { company: company.name }) : question;
  const input = h("input", {
    id: "mfa-answer",
    name: "answer",
    required: true,
    autocomplete: step === "mfa-code" ? "one-time-code" : "off",
    inputmode: step === "mfa-code" ? "numeric" : null,
  });
  const form = h(
    "form",
    { class: "form", novalidate: true },
    h("label", { for: "mfa-answer", class: "label" }, label),
    input,
    h("p", { class: "form-error", role: "alert", hidden: true }),
    h("button", { type: "submit", class: "primary" }, t("verify")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = input.value.trim();
    if (!answer) return fieldError(form, label);
    await submitCredentials(form, company, "/transact/api/mfa", { username, answer });
  });
  render(company.name, [h("h1", {}, t("mfaTitle")), form], { back: () => showLogin(company) });
  input.focus();
  interaction("Viewed MFA Page", {
    company: company.name,
    type: step === "mfa-code" ? "code" : "question",
  });
}

function connectStarted(company, task, dataRequestFields) {
  state.task = task;
  if (dataRequestFields.length && state.session) {
    // Told once per task; the flow goes on while the host answers through its server.
    post(DATA_REQUEST, {
      taskId: task.taskId,
      userId: state.session.userId,
      identifier: state.session.identifier,
      fields: dataRequestFields,
    });
  }
  showProgress(company, task, { kind: "connect" });
}
