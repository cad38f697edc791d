/*
 * The frame every screen is drawn in: the element builder, the top bar, the close and Done
 * buttons, and the error screen.
 */

import { CLOSE, FINISH, post } from "./protocol.js";
import { state } from "./state.js";
import { t } from "./strings.js";

export function h(tag, props, ...children) {
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

export function money(amount) {
  if (typeof amount !== "number") return "";
  return new Intl.NumberFormat(state.lang, { style: "currency", currency: "USD" }).format(amount);
}

export function day(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return "";
  const options = { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat(state.lang, options).format(date);
}

export function isFinal(task) {
  return !!task && (task.status === "completed" || task.status === "failed");
}

export function render(title, nodes, options) {
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

export function logo(company) {
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

export function button(label, onclick, kind) {
  return h("button", { type: "button", class: kind || "secondary", onclick }, label);
}

// QA picks what the close button reports (the simulator's close_reason): every reason and
// handoff Atomic publishes can be sent, so the host's sentence for each can be seen.
const CLOSE_REASON = document.body.dataset.closeReason || "auto";

export function closeTransact() {
  if (CLOSE_REASON.startsWith("handoff:")) {
    post(CLOSE, { handoff: CLOSE_REASON.slice("handoff:".length) });
    return;
  }
  let reason = CLOSE_REASON;
  if (reason === "auto") {
    reason = state.task && !isFinal(state.task) ? "task-pending" : "unknown";
  }
  post(CLOSE, { reason });
}

export function finish() {
  post(FINISH, { taskId: state.task ? state.task.taskId : undefined });
}

export function showError(title, message) {
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

export function showExpired() {
  showError(t("expiredTitle"), t("expired"));
}

export function fieldError(form, message) {
  const box = form.querySelector(".form-error");
  box.textContent = message;
  box.hidden = !message;
}
