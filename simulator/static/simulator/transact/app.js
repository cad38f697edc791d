/*
 * Transact as the simulator serves it: the app inside the integrator's iframe.
 *
 * It gets its public token from the parent page (the SDK's handshake, see protocol.js), calls the
 * simulator's /transact/api/* endpoints with it (api.js), and reports what the person does to the
 * parent with postMessage. Each screen is a module of its own: hub.js, connect.js (search, login,
 * second factor), progress.js (a running task and its result) and action.js; layout.js draws the
 * frame they share. This module starts it all.
 */

import { showActionConfirm } from "./action.js";
import { api } from "./api.js";
import { showLogin } from "./connect.js";
import { showHub } from "./hub.js";
import { closeTransact, showError, showExpired } from "./layout.js";
import { PUBLIC_TOKEN, REQUEST_PUBLIC_TOKEN, interaction, post } from "./protocol.js";
import { state } from "./state.js";
import { STRINGS, t } from "./strings.js";

const HANDSHAKE_WAIT_MS = 15000;

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
  if (!data || typeof data !== "object" || data.event !== PUBLIC_TOKEN) return;
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
  post(REQUEST_PUBLIC_TOKEN);
  setTimeout(() => {
    if (state.handshakeDone) return;
    state.handshakeDone = true;
    showError(t("verifyTitle"), t("verifyBody"));
  }, HANDSHAKE_WAIT_MS);
}

boot();
