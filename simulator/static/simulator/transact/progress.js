/*
 * A running task (connect or action): its steps while it is polled, then the completed or
 * failed screen with Atomic's sentence for the fail reason.
 */

import { knownAction, showActionConfirm } from "./action.js";
import { api } from "./api.js";
import { showLogin } from "./connect.js";
import { showHub } from "./hub.js";
import { button, finish, h, isFinal, render } from "./layout.js";
import { interaction } from "./protocol.js";
import { state } from "./state.js";
import { t } from "./strings.js";

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

// How often the progress screen asks about a running task (the simulator's setting).
const POLL_MS = Number(document.body.dataset.taskPollMs) || 500;

export function showProgress(company, task, flow) {
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
