// Launches Atomic Transact for the Payments Hub and reports its events to the host.
// The publicToken is fetched only on click and never stored; everything else comes from
// the JSON config the page renders (#paylink-transact-config).
(function () {
  "use strict";

  const configElement = document.getElementById("paylink-transact-config");
  if (!configElement) {
    return;
  }
  const settings = JSON.parse(configElement.textContent);
  // The page events' names, from paylink/browser_events.py (which says who sends and who
  // listens for each): never spelled here.
  const EVENTS = settings.events;
  // Sentences come from Django's JavaScript catalogue (/jsi18n/, loaded just before this file);
  // should it fail to load, the page still works and speaks English.
  const gettext =
    typeof window.gettext === "function"
      ? window.gettext
      : function (text) {
          return text;
        };

  // Every close Atomic's SDKs publish: a reason (the browser SDK and its docs), "dismissed" (the
  // native sheet swiped away, in its iOS SDK), or a handoff in place of one of Transact's own
  // screens (its docs' handoff pages). Flutter on Android sends a missing reason as "".
  const CLOSE_MESSAGES = {
    unknown: gettext("You closed the Payments Hub."),
    dismissed: gettext("The Payments Hub was dismissed before you finished. You can open it again at any time."),
    "task-pending": gettext("Your request is still being processed; we will update this page."),
    "zero-search-results": gettext("We couldn't find that company."),
    "manual-fallback": gettext("This company can't be connected automatically yet."),
    "handoff:exit-prompt": gettext("You left before signing in to the company. Nothing was changed."),
    "handoff:high-latency": gettext("The company is taking longer than usual to answer. We will update this page when your request finishes."),
  };
  const CLOSE_GENERIC = gettext("The Payments Hub closed before finishing. You can open it again at any time.");
  const REFUSED = gettext("The Payments Hub could not open in this browser. Try again in another browser, or on your phone.");

  function closeKey(payload) {
    payload = payload || {};
    if (payload.handoff) {
      return "handoff:" + payload.handoff;
    }
    return payload.reason || "unknown";
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    // The cookie may be HttpOnly; the token htmx sends rides on <body hx-headers>.
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    const retryAfter = parseInt(response.headers.get("Retry-After") || "", 10);
    return {
      ok: response.ok,
      status: response.status,
      data: data,
      retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0,
    };
  }

  function messagesRegion() {
    let region = document.getElementById("paylink-transact-messages");
    if (!region) {
      region = document.createElement("div");
      region.id = "paylink-transact-messages";
      region.className = "transact-messages";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      (document.getElementById("main") || document.body).prepend(region);
    }
    return region;
  }

  // Text only: nothing from the network ever becomes markup here.
  function showMessage(text, kind, retry) {
    const region = messagesRegion();
    region.replaceChildren();
    if (!text) {
      return;
    }
    const alert = document.createElement("div");
    alert.className = "alert alert--" + (kind || "info") + " transact-message";
    const sentence = document.createElement("p");
    sentence.textContent = text;
    alert.append(sentence);
    if (retry) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button--small";
      button.textContent = gettext("Try again");
      button.addEventListener("click", retry);
      alert.append(button);
    }
    region.append(alert);
  }

  function taskTarget(selector) {
    return document.querySelector(selector || "#paylink-task-status") || messagesRegion();
  }

  const CHECKING = gettext("Thanks! We're checking on your request.");

  function announceOutcome(taskId) {
    const listener = function (event) {
      const detail = event.detail || {};
      if (detail.taskId !== taskId) {
        return;
      }
      document.body.removeEventListener(EVENTS.taskFinished, listener);
      if (detail.status === "completed") {
        showMessage(gettext("Done. The company accepted your request."), "success");
        // Said once: the status line arriving with this answer need not say it again.
        if (window.StatusAnnouncer) {
          window.StatusAnnouncer.said("task-" + taskId, "completed");
        }
      }
    };
    document.body.addEventListener(EVENTS.taskFinished, listener);
  }

  // --- A plan action's outcome, on the card it was started from -----------------------------
  // The card's task box gets the outcome (paylink/_card_outcome.html): its title, a line that
  // polls until the task ends, and a Dismiss button. The dashboard redraws its body (a sync
  // landing, a filter): the outcome is lifted out before each redraw and put back in the
  // redrawn card, with focus where it was and without scrolling, until the person dismisses it
  // or leaves the page. Kept here only: a reload starts afresh.
  const outcomes = new Map();

  function focusStill(element) {
    if (element) {
      element.focus({ preventScroll: true });
    }
  }

  function outcomeLine(entry) {
    return entry.node ? entry.node.querySelector(".card-outcome__line") : null;
  }

  // Tell the page, once per task, that it ended: the dashboard then waits for the sync it
  // brings (the same events the task page's poll sends).
  function outcomeSettled(entry) {
    const line = outcomeLine(entry);
    const status = line ? line.dataset.outcomeStatus : "";
    if (entry.told || (status !== "completed" && status !== "failed")) {
      return;
    }
    entry.told = true;
    const detail = { taskId: entry.taskId, status: status, accountId: line.dataset.accountId || "" };
    document.body.dispatchEvent(new CustomEvent(EVENTS.taskFinished, { bubbles: true, detail: detail }));
    if (status === "completed") {
      document.body.dispatchEvent(new CustomEvent(EVENTS.taskCompleted, { bubbles: true, detail: detail }));
    }
  }

  function outcomeShow(options, data) {
    const slot = document.querySelector(options.taskTarget);
    if (!slot || !slot.matches("[data-outcome-slot]") || !window.htmx || !data.outcomeUrl) {
      return false;
    }
    outcomes.forEach(function (entry, taskId) {
      // One outcome per card: a newer action on it replaces the older one's.
      if (entry.slot === options.taskTarget) {
        outcomes.delete(taskId);
      }
    });
    const entry = { taskId: data.taskId, slot: options.taskTarget, url: data.outcomeUrl, node: null, told: false };
    outcomes.set(data.taskId, entry);
    window.htmx.ajax("GET", data.outcomeUrl, { target: slot, swap: "innerHTML" }).then(function () {
      entry.node = document.getElementById("outcome-" + data.taskId);
      if (entry.node) {
        focusStill(entry.node.querySelector(".card-outcome__title"));
        outcomeSettled(entry);
      }
    });
    return true;
  }

  function outcomeEntryOf(element) {
    const node = element.closest(".card-outcome");
    return node ? outcomes.get(node.dataset.outcomeTask) : undefined;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    outcomes.forEach(function (entry) {
      if (!entry.node || !target || target === outcomeLine(entry) || !target.contains(entry.node)) {
        return;
      }
      // Lifted out before the redraw, so htmx neither discards it nor stops its poll.
      entry.focused = entry.node.contains(document.activeElement) ? document.activeElement : null;
      // Where the outcome sits in the window: what changed above it must not move it.
      entry.top = entry.node.getBoundingClientRect().top;
      entry.lifted = true;
      entry.node.remove();
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    // The line polls with an outerHTML swap: htmx names the line it replaced (now out of the
    // page) as the target, and fires the event on the new one.
    const line = event.target;
    if (line && line.classList && line.classList.contains("card-outcome__line")) {
      const entry = outcomeEntryOf(line);
      if (entry) {
        outcomeSettled(entry);
      }
    }
    outcomes.forEach(function (entry) {
      if (!entry.lifted) {
        return;
      }
      entry.lifted = false;
      // The redrawn card, or (the card filtered out or gone) the page's message area.
      const slot = document.querySelector(entry.slot) || messagesRegion();
      slot.replaceChildren(entry.node);
      const moved = entry.node.getBoundingClientRect().top - entry.top;
      if (moved) {
        window.scrollBy({ top: moved, left: 0, behavior: "instant" });
      }
      if (entry.focused) {
        focusStill(entry.focused);
        entry.focused = null;
      }
      if (entry.told && outcomeLine(entry)) {
        // The redraw may bring what the change did (a new plan, a date): say it.
        window.htmx.ajax("GET", entry.url, { target: outcomeLine(entry), swap: "outerHTML" });
      }
    });
  });

  document.addEventListener("click", function (event) {
    const dismiss = event.target.closest("[data-outcome-dismiss]");
    const retry = event.target.closest("[data-outcome-retry]");
    if (!dismiss && !retry) {
      return;
    }
    const node = event.target.closest(".card-outcome");
    const card = node && node.closest("article");
    if (retry) {
      // The card's own button for the same action holds a fresh action id.
      const again = card && card.querySelector('[data-transact-launch][data-action-type="' + retry.dataset.outcomeRetry + '"]');
      if (again) {
        again.click();
      } else {
        showMessage(gettext("This account no longer offers that action. Refresh the page to see what it offers now."), "warning");
      }
      return;
    }
    outcomes.delete(node.dataset.outcomeTask);
    node.remove();
    // Focus stays on the card: its first action, else its heading.
    let landing = card && card.querySelector("[data-transact-launch]");
    if (!landing && card) {
      landing = card.querySelector("h3");
      if (landing) {
        landing.setAttribute("tabindex", "-1");
      }
    }
    focusStill(landing);
  });

  function report(kind, payload, launch) {
    const body = { kind: kind, payload: payload || {} };
    if (launch) {
      body.launch = launch;
    }
    return postJSON(settings.eventsUrl, body).catch(function () {
      return { ok: false, status: 0, data: {} };
    });
  }

  function launchDetails(options) {
    if (options.actionId) {
      return {
        operation: "action",
        actionType: options.actionType || "",
        accountId: options.accountId || "",
      };
    }
    return { operation: "manage" };
  }

  function setBusy(trigger, busy) {
    if (!trigger) {
      return;
    }
    trigger.disabled = busy;
    trigger.setAttribute("aria-busy", busy ? "true" : "false");
  }

  async function launch(options) {
    options = options || {};
    const trigger = options.trigger || null;
    const retry = function () {
      launch(options);
    };
    if (!window.Atomic || typeof window.Atomic.transact !== "function") {
      showMessage(gettext("The Payments Hub couldn't load. Check your connection and try again."), "error", retry);
      return;
    }
    setBusy(trigger, true);
    showMessage(gettext("Opening the Payments Hub…"), "info");
    let answer;
    try {
      answer = await postJSON(settings.tokenUrl, {});
    } catch (error) {
      answer = { ok: false, status: 0, data: {} };
    }
    if (answer.status === 429 && answer.retryAfter) {
      // Over the limit: no button beside the sentence until trying again can work; then the
      // trigger comes back and the sentence gives way to a button to try again.
      showMessage(answer.data.error || gettext("Too many attempts. Please wait a moment."), "warning");
      window.setTimeout(function () {
        setBusy(trigger, false);
        showMessage(gettext("You can open the Payments Hub again now."), "info", retry);
      }, answer.retryAfter * 1000);
      return;
    }
    if (!answer.ok || !answer.data.publicToken) {
      setBusy(trigger, false);
      const text =
        answer.data.error || gettext("We couldn't open the Payments Hub right now. Try again in a moment.");
      showMessage(text, "error", retry);
      // The button was disabled while it waited, which dropped focus to the page's start:
      // put the keyboard back where it was.
      if (trigger) {
        trigger.focus();
      }
      return;
    }
    showMessage("", "info");

    const details = launchDetails(options);
    const tasks = options.actionId
      ? [{ operation: "action", action: { id: options.actionId } }]
      : settings.config.tasks;
    const call = {
      config: Object.assign({}, settings.config, { publicToken: answer.data.publicToken, tasks: tasks }),
      onInteraction: function (payload) {
        report("interaction", payload);
      },
      onDataRequest: function (payload) {
        report("data-request", payload);
      },
      onFinish: async function (payload) {
        setBusy(trigger, false);
        const slot = options.taskTarget && options.actionId ? document.querySelector(options.taskTarget) : null;
        if (slot) {
          // Said on the card the action came from, not at the far end of the page.
          const waiting = document.createElement("p");
          waiting.className = "card-outcome__waiting muted";
          waiting.textContent = CHECKING;
          slot.replaceChildren(waiting);
          if (trigger) {
            trigger.focus({ preventScroll: true });
          }
        } else {
          showMessage(CHECKING, "success");
        }
        let result = await report("finish", payload, details);
        if (!result.ok && (result.status === 0 || result.status >= 500)) {
          // A dropped connection or a busy server: the task is worth one more try.
          await new Promise(function (resolve) {
            setTimeout(resolve, 1000);
          });
          result = await report("finish", payload, details);
        }
        if (slot && !(result.ok && result.data.taskId)) {
          slot.replaceChildren();
        }
        if (result.ok && result.data.taskId === null) {
          // Done in the Hub without a task of its own: the accounts are being refreshed.
          showMessage(result.data.message, "success");
          document.body.dispatchEvent(new CustomEvent(EVENTS.taskFinished, { bubbles: true }));
          if (trigger) {
            trigger.focus();
          }
          return;
        }
        if (!result.ok || !result.data.statusUrl) {
          showMessage(result.data.error || gettext("We couldn't record that request. Refresh the page to see its status."), "error");
          return;
        }
        if (options.taskTarget && options.actionId && outcomeShow(options, result.data)) {
          // The card says it all from here on, where the person acted.
          return;
        }
        const target = taskTarget(options.taskTarget);
        if (options.taskTarget) {
          // A status shown in a box that may be redrawn away: the page-level region keeps the
          // outcome for the person (and screen readers).
          announceOutcome(result.data.taskId);
        }
        if (window.htmx) {
          // Once the live status is on the page, "checking" has said all it had to say.
          window.htmx
            .ajax("GET", result.data.statusUrl, { target: target, swap: "innerHTML" })
            .then(function () {
              if (messagesRegion().textContent === CHECKING) {
                showMessage("", "info");
              }
            });
        } else {
          window.location.assign(result.data.statusUrl);
        }
        if (trigger) {
          trigger.focus();
        }
      },
      onClose: function (payload) {
        setBusy(trigger, false);
        const key = closeKey(payload);
        showMessage(CLOSE_MESSAGES[key] || CLOSE_GENERIC, key === "unknown" ? "info" : "warning");
        report("close", payload);
        if (trigger) {
          trigger.focus();
        }
      },
    };
    if (settings.environmentOverride) {
      call.environmentOverride = settings.environmentOverride;
    }
    try {
      window.Atomic.transact(call);
    } catch (error) {
      // Transact refused to start here (an SDK that will not run PayLink in this browser):
      // say so, and leave the button ready for another try.
      setBusy(trigger, false);
      showMessage(REFUSED, "error", retry);
      report("close", { reason: "sdk-refused", message: String((error && error.message) || "").slice(0, 200) });
    }
  }

  document.addEventListener("click", function (event) {
    const trigger = event.target.closest("[data-transact-launch]");
    if (!trigger) {
      return;
    }
    event.preventDefault();
    launch({
      trigger: trigger,
      actionId: trigger.dataset.actionId,
      actionType: trigger.dataset.actionType,
      accountId: trigger.dataset.accountId,
      taskTarget: trigger.dataset.taskTarget,
    });
  });

  window.PaymentsHub = { launch: launch };
})();
