// Speaks a status change, and only the change, through one polite live region (#status-announcer).
// Polled fragments (a task's status) are redrawn whole every few seconds; were they live regions
// themselves, a screen reader would read the whole box on every poll, or nothing at all, since a
// region that is replaced is not one that changed. Instead, an element marked
//   data-announce-key="task-123" data-announce-state="processing"
// is read aloud (its text only) when it arrives with a state not seen before for its key.
(function () {
  "use strict";

  const seen = new Map();

  function marked(root) {
    if (!root || typeof root.querySelectorAll !== "function") {
      return [];
    }
    const found = Array.from(root.querySelectorAll("[data-announce-key]"));
    if (root.matches && root.matches("[data-announce-key]")) {
      found.unshift(root);
    }
    return found;
  }

  function say(text) {
    const region = document.getElementById("status-announcer");
    if (!region || !text) {
      return;
    }
    // Emptied first, then filled on the next frame: the same sentence twice in a row (two tasks
    // completing) is still a change that screen readers read.
    region.textContent = "";
    window.requestAnimationFrame(function () {
      region.textContent = text;
    });
  }

  function consider(root, speak) {
    marked(root).forEach(function (element) {
      const key = element.dataset.announceKey;
      const state = element.dataset.announceState || "";
      if (seen.get(key) === state) {
        return;
      }
      seen.set(key, state);
      if (speak) {
        say(element.textContent.replace(/\s+/g, " ").trim());
      }
    });
  }

  // What the page showed when it loaded is read with the page, not announced again.
  consider(document, false);
  document.addEventListener("htmx:load", function (event) {
    consider(event.target, true);
  });

  // For a script that has already said a state in words of its own (hub.js, when a card's
  // status is about to be redrawn away): the marked line then arrives silently.
  window.StatusAnnouncer = {
    said: function (key, state) {
      seen.set(key, state);
    },
  };
})();
