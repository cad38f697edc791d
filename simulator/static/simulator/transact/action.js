/*
 * An action on a connected account (pause, cancel, change plan): the confirmation screen,
 * opened from the Hub or by an action task's config, then the progress screen.
 */

import { api } from "./api.js";
import { showHub } from "./hub.js";
import { button, closeTransact, h, logo, render, showError } from "./layout.js";
import { showProgress } from "./progress.js";
import { interaction } from "./protocol.js";
import { state } from "./state.js";
import { t } from "./strings.js";

export function knownAction(type) {
  return ["pause-plan", "cancel-plan", "change-plan"].includes(type) ? type : "other";
}

export async function showActionConfirm(actionId, fromHub) {
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
