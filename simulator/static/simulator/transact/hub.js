/*
 * The Payments Hub screen: the connected bills with their actions, the savings suggestions,
 * and the apps the config asks for.
 */

import { showActionConfirm } from "./action.js";
import { api } from "./api.js";
import { showSearch } from "./connect.js";
import { button, day, finish, h, logo, money, render, showError } from "./layout.js";
import { OPEN_URL, interaction, post } from "./protocol.js";
import { state } from "./state.js";
import { t } from "./strings.js";

export async function showHub() {
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
          () => post(OPEN_URL, { url: site }),
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
