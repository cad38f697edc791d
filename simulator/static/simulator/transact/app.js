/*
 * Transact as the simulator serves it: the app inside the integrator's iframe.
 *
 * It gets its public token from the parent page (the SDK's handshake), calls the simulator's
 * /transact/api/* endpoints with it, and reports what the person does to the parent with
 * postMessage({event, payload}, "*"): the page cannot know its parent's origin, and the SDK
 * filters messages by origin and source on its side.
 */
(() => {
  "use strict";

  const STRINGS = {
    en: {
      hubTitle: "Payments Hub",
      starting: "Starting…",
      close: "Close",
      done: "Done",
      back: "Back",
      backToHub: "Back to Hub",
      tryAgain: "Try again",
      connectAccount: "Connect an account",
      bills: "Bills",
      noBills: "No connected accounts yet. Connect one to see its bills and due dates.",
      due: "Due {date}",
      noDueDate: "No due date",
      accountEnding: "Account ending in {lastFour}",
      autopayOn: "Autopay on",
      pendingChange: "Change pending: {change}",
      manageOnSite: "Manage on {company}'s site",
      suggestions: "Savings suggestions",
      noSuggestions: "No suggestions yet. They appear once an account is connected.",
      saveUpTo: "Save up to {amount} a month",
      savesMonthly: "Saves {amount}/month",
      payNow: "Pay now",
      payNowEmpty: "Nothing to pay right now.",
      orders: "Orders",
      ordersEmpty: "No orders yet.",
      searchTitle: "Find your company",
      searchLabel: "Search for a company",
      companyName: "Company name",
      searchEmpty: "No companies match “{query}”.",
      searchEmptyHelp: "Check the spelling, or close and come back later.",
      loginTitle: "Log in to {company}",
      loginIntro: "Use the username and password you use on {company}'s site.",
      username: "Username",
      password: "Password",
      continue: "Continue",
      testCredentials:
        "Test credentials: test-good, test-bad, test-failure, test-code-mfa, test-question-mfa, test-declined, test-inactive. Any password.",
      mfaTitle: "Verify it's you",
      mfaCodeLabel: "Enter the code {company} sent you",
      verify: "Verify",
      signingIn: "Signing in…",
      readingAccount: "Reading your account…",
      updatingPlan: "Updating your plan…",
      waiting: "Waiting to start…",
      progressTitle: "Connecting to {company}",
      actionProgressTitle: "Working on your {company} plan",
      connected: "Connected to {company}",
      connectedBody: "Your {company} bills now appear in your Payments Hub.",
      connectFailed: "We couldn't connect to {company}",
      actionFailed: "We couldn't update your {company} plan",
      "confirm:pause-plan": "Pause your {company} plan?",
      "confirm:cancel-plan": "Cancel your {company} plan?",
      "confirm:change-plan": "Change your {company} plan?",
      "confirm:other": "Update your {company} account?",
      "done:pause-plan": "Your {company} plan is paused",
      "done:cancel-plan": "Your {company} plan is cancelled",
      "done:change-plan": "Your {company} plan was changed",
      "done:other": "Your {company} account was updated",
      "action:pause-plan": "Pause plan",
      "action:cancel-plan": "Cancel plan",
      "action:change-plan": "Change plan",
      currentPlan: "Current plan: {plan}",
      confirm: "Confirm",
      cancel: "Cancel",
      expired: "This link has expired. Close and try again.",
      expiredTitle: "Session expired",
      verifyTitle: "This session could not be verified",
      verifyBody: "Close Transact and open it again from your app.",
      noParent: "Open Transact from your app to continue.",
      actionUnavailableTitle: "This action is no longer available",
      actionUnavailable: "It may have expired. Close and open it again from your app.",
      somethingWrong: "Something went wrong",
      networkError: "We couldn't reach the server. Check your connection and try again.",
    },
    es: {
      hubTitle: "Centro de pagos",
      starting: "Iniciando…",
      close: "Cerrar",
      done: "Listo",
      back: "Atrás",
      backToHub: "Volver al centro",
      tryAgain: "Intentar de nuevo",
      connectAccount: "Conectar una cuenta",
      bills: "Facturas",
      noBills: "Aún no hay cuentas conectadas. Conecta una para ver sus facturas.",
      due: "Vence el {date}",
      noDueDate: "Sin fecha de vencimiento",
      accountEnding: "Cuenta terminada en {lastFour}",
      autopayOn: "Pago automático activo",
      pendingChange: "Cambio pendiente: {change}",
      manageOnSite: "Gestionar en el sitio de {company}",
      "action:pause-plan": "Pausar plan",
      "action:cancel-plan": "Cancelar plan",
      "action:change-plan": "Cambiar plan",
      suggestions: "Sugerencias de ahorro",
      noSuggestions: "Aún no hay sugerencias. Aparecen al conectar una cuenta.",
      saveUpTo: "Ahorra hasta {amount} al mes",
      savesMonthly: "Ahorra {amount}/mes",
      payNow: "Pagar ahora",
      payNowEmpty: "No hay nada que pagar ahora.",
      orders: "Pedidos",
      ordersEmpty: "Aún no hay pedidos.",
      searchTitle: "Busca tu empresa",
      searchLabel: "Buscar una empresa",
      companyName: "Nombre de la empresa",
      searchEmpty: "Ninguna empresa coincide con “{query}”.",
      loginTitle: "Inicia sesión en {company}",
      username: "Usuario",
      loginIntro: "Usa el usuario y la contraseña que usas en el sitio de {company}.",
      password: "Contraseña",
      continue: "Continuar",
      testCredentials:
        "Credenciales de prueba: test-good, test-bad, test-failure, test-code-mfa, test-question-mfa, test-declined, test-inactive. Cualquier contraseña.",
      mfaCodeLabel: "Escribe el código que te envió {company}",
      mfaTitle: "Verifica tu identidad",
      verify: "Verificar",
      signingIn: "Iniciando sesión…",
      readingAccount: "Leyendo tu cuenta…",
      progressTitle: "Conectando con {company}",
      waiting: "En espera…",
      connected: "Conectado a {company}",
      connectedBody: "Tus facturas de {company} ya aparecen en tu centro de pagos.",
      connectFailed: "No pudimos conectar con {company}",
      confirm: "Confirmar",
      cancel: "Cancelar",
      expired: "Este enlace ha caducado. Cierra e inténtalo de nuevo.",
      verifyTitle: "No se pudo verificar esta sesión",
    },
  };

  const FAIL_REASONS = {
    "bad-credentials": "The username or password was not accepted.",
    "account-lockout": "The account is locked. Unlock it on the company's site, then try again.",
    "connection-error": "We couldn't reach the company. Try again in a moment.",
    "session-timeout": "The session timed out before the task finished.",
    "system-unavailable": "The company's system is unavailable right now. Try again later.",
    "device-disconnected": "The connection to your device was lost.",
    "user-abandon": "The task was stopped before it finished.",
    "unknown-failure": "Something went wrong on our side. Try again later.",
    "subscription-inactive": "This subscription is not active.",
    "subscription-managed-by-partner-provider":
      "This subscription is billed through a partner, so it can't be changed here.",
    "payment-method-locked": "The payment method on file is locked.",
    "payment-method-not-supported": "The company doesn't accept this payment method.",
    "payment-method-insufficient-funds": "The payment method has insufficient funds.",
    "payment-method-limit-reached": "The payment method has reached its limit.",
    "payment-method-declined": "The payment method was declined.",
    "payment-token-expired": "The saved payment details have expired.",
    "payment-switch-unsuccessful": "The payment method could not be switched.",
  };

  const DATA_REQUEST_EVENT = "atomic-transact-data-request";
  // How often the progress screen asks about a running task (the simulator's setting).
  const POLL_MS = Number(document.body.dataset.taskPollMs) || 500;
  const HANDSHAKE_WAIT_MS = 15000;

  const state = {
    config: null,
    lang: "en",
    hId: "",
    token: "",
    session: null,
    handshakeDone: false,
    // Bumped on every screen change; async work started for an older screen stops.
    screen: 0,
    task: null,
  };

  // --- small helpers ----------------------------------------------------------------------

  function t(key, vars) {
    const table = STRINGS[state.lang] || STRINGS.en;
    const text = key in table ? table[key] : STRINGS.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? vars[name] : ""));
  }

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function post(event, payload) {
    if (window.parent === window) return;
    window.parent.postMessage(payload === undefined ? { event } : { event, payload }, "*");
  }

  function interaction(name, value) {
    post("atomic-transact-interaction", { name, value: value || {} });
  }

  function money(amount) {
    if (typeof amount !== "number") return "";
    return new Intl.NumberFormat(state.lang, { style: "currency", currency: "USD" }).format(amount);
  }

  function day(iso) {
    const date = iso ? new Date(iso) : null;
    if (!date || Number.isNaN(date.getTime())) return "";
    const options = { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" };
    return new Intl.DateTimeFormat(state.lang, options).format(date);
  }

  function isFinal(task) {
    return !!task && (task.status === "completed" || task.status === "failed");
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { "x-public-token": state.token, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, t("networkError"));
    }
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!response.ok) {
      if (response.status === 401 || response.status === 403) {
        showExpired();
        throw new ApiError(response.status, "");
      }
      throw new ApiError(response.status, data.message || t("somethingWrong"));
    }
    return data;
  }

  // --- layout -----------------------------------------------------------------------------

  function render(title, nodes, options) {
    state.screen += 1;
    const main = document.getElementById("screen");
    main.replaceChildren(...nodes.flat().filter(Boolean));
    document.getElementById("topbar-title").textContent = title;
    const back = document.getElementById("back");
    back.hidden = !(options && options.back);
    back.onclick = options && options.back ? options.back : null;
    back.setAttribute("aria-label", t("back"));
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    return state.screen;
  }

  function logo(company) {
    const name = (company && company.name) || "?";
    const badge = h("span", { class: "logo", "aria-hidden": "true" }, name.slice(0, 1));
    if (company && company.color) badge.style.setProperty("--company", company.color);
    if (company && company.logoUrl) {
      const img = h("img", { src: company.logoUrl, alt: "" });
      img.addEventListener("error", () => img.remove());
      badge.append(img);
    }
    return badge;
  }

  function button(label, onclick, kind) {
    return h("button", { type: "button", class: kind || "secondary", onclick }, label);
  }

  // QA picks what the close button reports (the simulator's close_reason): every reason and
  // handoff Atomic publishes can be sent, so the host's sentence for each can be seen.
  const CLOSE_REASON = document.body.dataset.closeReason || "auto";

  function closeTransact() {
    if (CLOSE_REASON.startsWith("handoff:")) {
      post("atomic-transact-close", { handoff: CLOSE_REASON.slice("handoff:".length) });
      return;
    }
    let reason = CLOSE_REASON;
    if (reason === "auto") {
      reason = state.task && !isFinal(state.task) ? "task-pending" : "unknown";
    }
    post("atomic-transact-close", { reason });
  }

  function finish() {
    post("atomic-transact-finish", { taskId: state.task ? state.task.taskId : undefined });
  }

  function showError(title, message) {
    render(t("hubTitle"), [
      h(
        "div",
        { class: "center", role: "alert", "data-screen": "error" },
        h("h1", {}, title),
        message ? h("p", {}, message) : null,
        button(t("close"), closeTransact, "primary"),
      ),
    ]);
  }

  function showExpired() {
    showError(t("expiredTitle"), t("expired"));
  }

  function fieldError(form, message) {
    const box = form.querySelector(".form-error");
    box.textContent = message;
    box.hidden = !message;
  }

  // --- Hub --------------------------------------------------------------------------------

  async function showHub() {
    const screen = render(t("hubTitle"), [
      h("div", { class: "center" }, h("div", { class: "spinner", "aria-hidden": "true" })),
    ]);
    let hub;
    try {
      hub = await api("GET", "/transact/api/hub");
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) showError(t("somethingWrong"), error.message);
      return;
    }
    if (screen !== state.screen) return;
    const sections = state.config.apps.map((app) => hubSection(app, hub)).filter(Boolean);
    render(t("hubTitle"), [
      h(
        "div",
        { class: "hub-head" },
        h("h1", {}, t("hubTitle")),
        button(t("connectAccount"), showSearch, "primary"),
        // Done from the Hub itself: a finish that carries no task.
        button(t("done"), finish),
      ),
      sections,
    ]);
    interaction("Viewed Payments Hub", { apps: state.config.apps });
  }

  function hubSection(app, hub) {
    switch (app) {
      case "expenses":
        return h(
          "section",
          { class: "card", "aria-labelledby": "bills-title", "data-app": "expenses" },
          h("h2", { id: "bills-title" }, t("bills")),
          hub.expenses.length
            ? h("ul", { class: "list" }, hub.expenses.map(billItem))
            : h("p", { class: "muted" }, t("noBills")),
        );
      case "suggestions":
        return h(
          "section",
          { class: "card", "aria-labelledby": "suggestions-title", "data-app": "suggestions" },
          h("h2", { id: "suggestions-title" }, t("suggestions")),
          hub.suggestions.length
            ? [
                h("p", { class: "savings" }, t("saveUpTo", { amount: money(hub.monthlySavings) })),
                h("ul", { class: "list" }, hub.suggestions.map(suggestionItem)),
              ]
            : h("p", { class: "muted" }, t("noSuggestions")),
        );
      case "pay-now":
        return emptySection(app, t("payNow"), t("payNowEmpty"));
      case "orders":
        return emptySection(app, t("orders"), t("ordersEmpty"));
      default:
        return null;
    }
  }

  function emptySection(app, title, text) {
    return h(
      "section",
      { class: "card", "data-app": app },
      h("h2", {}, title),
      h("p", { class: "muted" }, text),
    );
  }

  function billItem(bill) {
    const company = bill.company;
    const site = "https://www." + company.name.toLowerCase().replace(/[^a-z0-9]/g, "") + ".com";
    return h(
      "li",
      { class: "bill", "data-account-id": bill.accountId },
      logo(company),
      h(
        "div",
        { class: "bill-body" },
        h("strong", {}, company.name),
        bill.planTitle ? h("span", { class: "muted" }, bill.planTitle) : null,
        h("span", {}, bill.dueDate ? t("due", { date: day(bill.dueDate) }) : t("noDueDate")),
        bill.accountLastFour
          ? h("span", { class: "muted" }, t("accountEnding", { lastFour: bill.accountLastFour }))
          : null,
        h(
          "span",
          { class: "badges" },
          bill.autopay ? h("span", { class: "badge" }, t("autopayOn")) : null,
          bill.pendingChange
            ? h("span", { class: "badge warn" }, t("pendingChange", { change: bill.pendingChange }))
            : null,
          bill.planStatus ? h("span", { class: "badge" }, bill.planStatus) : null,
        ),
        h(
          "span",
          { class: "row" },
          bill.actions.map((action) =>
            button(t("action:" + action.type), () => showActionConfirm(action.id, true), "small"),
          ),
          button(
            t("manageOnSite", { company: company.name }),
            () => post("atomic-transact-open-url", { url: site }),
            "link",
          ),
        ),
      ),
      h("span", { class: "amount" }, money(bill.amount)),
    );
  }

  function suggestionItem(item) {
    return h(
      "li",
      { class: "suggestion" },
      logo(item.company),
      h(
        "div",
        { class: "bill-body" },
        h("strong", {}, item.shortDescription || item.category),
        item.detailedDescription ? h("span", { class: "muted" }, item.detailedDescription) : null,
        h("span", { class: "muted" }, item.company.name),
      ),
      typeof item.monthlySavings === "number"
        ? h("span", { class: "amount good" }, t("savesMonthly", { amount: money(item.monthlySavings) }))
        : null,
    );
  }

  // --- Connect: search, login, MFA -------------------------------------------------------

  function showSearch() {
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
        button(t("close"), () => post("atomic-transact-close", { reason: "zero-search-results" })),
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

  function showLogin(company) {
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
      post(DATA_REQUEST_EVENT, {
        taskId: task.taskId,
        userId: state.session.userId,
        identifier: state.session.identifier,
        fields: dataRequestFields,
      });
    }
    showProgress(company, task, { kind: "connect" });
  }

  // --- Progress and results ---------------------------------------------------------------

  function showProgress(company, task, flow) {
    const steps = [
      ["signing-in", t("signingIn")],
      ["working", flow.kind === "connect" ? t("readingAccount") : t("updatingPlan")],
    ];
    const list = h(
      "ol",
      { class: "steps", "aria-live": "polite" },
      steps.map(([id, text]) => h("li", { "data-step": id }, text)),
    );
    const status = h("p", {
      class: "muted",
      id: "task-status",
      role: "status",
      "data-status": task.status,
    });
    const title = flow.kind === "connect" ? "progressTitle" : "actionProgressTitle";
    const screen = render(company.name, [
      h(
        "div",
        { class: "center", "data-screen": "progress" },
        h("div", { class: "spinner", "aria-hidden": "true" }),
        h("h1", {}, t(title, { company: company.name })),
        list,
        status,
      ),
    ]);
    const paint = (current) => {
      status.dataset.status = current.status;
      status.textContent = current.status === "queued" ? t("waiting") : "";
      const stage = current.authenticated ? 1 : 0;
      list.querySelectorAll("li").forEach((item, index) => {
        item.className = index < stage ? "done" : index === stage ? "active" : "";
      });
    };
    paint(task);
    interaction("Viewed Task Progress Page", { company: company.name, taskId: task.taskId });
    pollTask(screen, company, task, flow, paint);
  }

  async function pollTask(screen, company, task, flow, paint) {
    let current = task;
    while (screen === state.screen) {
      if (isFinal(current)) {
        state.task = current;
        return current.status === "completed"
          ? showCompleted(company, current, flow)
          : showFailed(company, current, flow);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (screen !== state.screen) return;
      try {
        current = (await api("GET", "/transact/api/tasks/" + encodeURIComponent(task.taskId))).task;
      } catch (error) {
        if (error.status === 401 || error.status === 403) return;
        // A blip: keep the last known state and ask again on the next tick.
        continue;
      }
      state.task = current;
      if (screen === state.screen) paint(current);
    }
  }

  function resultButtons(flow) {
    return h(
      "div",
      { class: "row" },
      button(t("done"), finish, "primary"),
      state.config.operation === "manage" ? button(t("backToHub"), showHub) : null,
    );
  }

  function showCompleted(company, task, flow) {
    const heading =
      flow.kind === "connect"
        ? t("connected", { company: company.name })
        : t("done:" + knownAction(flow.actionType), { company: company.name });
    render(company.name, [
      h(
        "div",
        { class: "center", "data-screen": "completed" },
        h("div", { class: "result good", "aria-hidden": "true" }, "✓"),
        h("h1", {}, heading),
        flow.kind === "connect" ? h("p", { class: "muted" }, t("connectedBody", { company: company.name })) : null,
        resultButtons(flow),
      ),
    ]);
    interaction("Viewed Task Completed Page", {
      state: "completed",
      taskId: task.taskId,
      company: company.name,
    });
  }

  function showFailed(company, task, flow) {
    const reason = task.failReason || "unknown-failure";
    const sentence =
      FAIL_REASONS[reason] || "The task did not finish (" + reason.replace(/-/g, " ") + ").";
    const heading =
      flow.kind === "connect"
        ? t("connectFailed", { company: company.name })
        : t("actionFailed", { company: company.name });
    const retry =
      flow.kind === "connect" ? () => showLogin(company) : () => showActionConfirm(flow.actionId, flow.fromHub);
    render(company.name, [
      h(
        "div",
        { class: "center", "data-screen": "failed" },
        h("div", { class: "result bad", "aria-hidden": "true" }, "!"),
        h("h1", {}, heading),
        h("p", { class: "fail-reason", "data-fail-reason": reason }, sentence),
        h("div", { class: "row" }, button(t("tryAgain"), retry, "primary"), button(t("done"), finish)),
      ),
    ]);
    interaction("Viewed Task Failed Page", {
      state: "failed",
      failReason: reason,
      taskId: task.taskId,
      company: company.name,
    });
  }

  // --- Actions ----------------------------------------------------------------------------

  function knownAction(type) {
    return ["pause-plan", "cancel-plan", "change-plan"].includes(type) ? type : "other";
  }

  async function showActionConfirm(actionId, fromHub) {
    state.task = null;
    const screen = render(t("hubTitle"), [
      h("div", { class: "center" }, h("div", { class: "spinner", "aria-hidden": "true" })),
    ]);
    let action;
    try {
      action = (await api("GET", "/transact/api/actions/" + encodeURIComponent(actionId))).action;
    } catch (error) {
      if (error.status === 401 || error.status === 403) return;
      return showError(t("actionUnavailableTitle"), t("actionUnavailable"));
    }
    if (screen !== state.screen) return;
    const company = action.company;
    const flow = { kind: "action", actionId, actionType: action.actionType, fromHub };
    const confirmButton = h("button", { type: "button", class: "primary" }, t("confirm"));
    confirmButton.addEventListener("click", async () => {
      confirmButton.disabled = true;
      let data;
      try {
        data = await api("POST", "/transact/api/actions/" + encodeURIComponent(actionId), {
          metadata: state.config.metadata,
        });
      } catch (error) {
        if (error.status === 401 || error.status === 403) return;
        return showError(t("actionUnavailableTitle"), error.message);
      }
      state.task = data.task;
      showProgress(company, data.task, flow);
    });
    render(
      company.name,
      [
        h(
          "div",
          { class: "center", "data-screen": "confirm" },
          logo(company),
          h("h1", {}, t("confirm:" + knownAction(action.actionType), { company: company.name })),
          action.planTitle ? h("p", { class: "muted" }, t("currentPlan", { plan: action.planTitle })) : null,
          h(
            "div",
            { class: "row" },
            confirmButton,
            button(t("cancel"), fromHub ? showHub : closeTransact),
          ),
        ),
      ],
      { back: fromHub ? showHub : null },
    );
    interaction("Viewed Action Confirmation Page", {
      company: company.name,
      actionType: action.actionType,
    });
  }

  // --- Start-up ---------------------------------------------------------------------------

  function applyTheme(config) {
    const root = document.documentElement;
    root.lang = state.lang;
    if (config.dark) root.classList.add("dark");
    if (config.brandColor) {
      root.style.setProperty("--brand", config.brandColor);
      root.style.setProperty("--brand-text", readableOn(config.brandColor));
    }
  }

  function readableOn(hex) {
    let digits = hex.slice(1);
    if (digits.length <= 4) digits = [...digits.slice(0, 3)].map((c) => c + c).join("");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16) / 255);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6 ? "#111" : "#fff";
  }

  async function start() {
    try {
      state.session = await api("GET", "/transact/api/session");
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) showError(t("somethingWrong"), error.message);
      return;
    }
    interaction("Initialized Transact", { language: state.lang, operation: state.config.operation });
    if (state.config.operation === "action") return showActionConfirm(state.config.actionId, false);
    if (state.config.deeplinkCompanyId) {
      try {
        const path = "/transact/api/companies/" + encodeURIComponent(state.config.deeplinkCompanyId);
        return showLogin((await api("GET", path)).company);
      } catch (error) {
        if (error.status === 401 || error.status === 403) return;
      }
    }
    showHub();
  }

  function onParentMessage(event) {
    if (event.source !== window.parent) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.event !== "sdk-atomic-transact-public-token") return;
    if (state.handshakeDone) return;
    state.handshakeDone = true;
    window.removeEventListener("message", onParentMessage);
    const payload = data.payload || {};
    if (!state.hId || payload.handshakeId !== state.hId) {
      return showError(t("verifyTitle"), t("verifyBody"));
    }
    if (typeof payload.publicToken !== "string" || !payload.publicToken) return showExpired();
    state.token = payload.publicToken;
    start();
  }

  function boot() {
    document.getElementById("close").addEventListener("click", closeTransact);
    for (const node of document.querySelectorAll("[data-close]")) {
      node.addEventListener("click", closeTransact);
    }
    const source = document.getElementById("transact-config");
    if (!source) return; // the server's own error screen: only the close buttons work
    state.config = JSON.parse(source.textContent);
    state.lang = state.config.language in STRINGS ? state.config.language : "en";
    applyTheme(state.config);
    document.getElementById("close").setAttribute("aria-label", t("close"));
    const match = /(?:^#|&)hId=([0-9a-f]{16})(?:&|$)/.exec(window.location.hash);
    state.hId = match ? match[1] : "";
    if (state.config.publicToken) {
      state.token = state.config.publicToken;
      return start();
    }
    if (window.parent === window) return showError(t("somethingWrong"), t("noParent"));
    window.addEventListener("message", onParentMessage);
    post("atomic-transact-request-public-token");
    setTimeout(() => {
      if (state.handshakeDone) return;
      state.handshakeDone = true;
      showError(t("verifyTitle"), t("verifyBody"));
    }, HANDSHAKE_WAIT_MS);
  }

  boot();
})();
