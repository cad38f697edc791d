/*
 * Atomic Transact browser SDK, simulator edition.
 *
 * Behaves as the published SDK (@atomicfi/transact-javascript 3.2.0) does, edge cases included,
 * so a page that works against this file works against Atomic's:
 * - Atomic.transact({...}) frames {origin}/initialize/{btoa(JSON config)}#hId={handshake id};
 *   btoa() takes Latin-1 only, so other characters in the config throw, as they do there.
 * - The public token is handed over once, through postMessage, when Transact asks for it.
 * - After a finish or a close the SDK stops listening, and removes the iframe only when it is a
 *   child of document.body (the modal). In a container the iframe stays; the integrator clears it.
 * - Only one listener is remembered: a second launch stacks a second iframe, and the first
 *   one's listener can no longer be removed. close() removes the first #atomic-transact-iframe
 *   on the page, whichever launch returned it.
 */
(function (root) {
  "use strict";

  var SDK_VERSION = "3.2.0";
  var DEFAULT_ORIGIN = "https://transact.atomicfi.com";
  var FRAME_ID = "atomic-transact-iframe";
  var FRAME_STYLE = [
    ["width", "100%"],
    ["height", "100%"],
    ["z-index", "888888888"],
    ["border-width", "0"],
    ["overflow-x", "hidden"],
    ["overflow-y", "auto"],
  ];
  var MODAL_STYLE = [
    ["position", "fixed"],
    ["top", "0"],
    ["left", "0"],
    ["right", "0"],
    ["bottom", "0"],
  ];

  // The listener of the latest launch: the only one the SDK can take away again.
  var currentListener;

  function noop() {}

  function newHandshakeId() {
    var bytes = new Uint8Array(8);
    root.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return hex;
  }

  function cssText(rules) {
    return rules
      .map(function (rule) {
        return rule[0] + ": " + rule[1] + "; ";
      })
      .join("")
      .trim();
  }

  function removeTransact() {
    var frame = root.document.querySelector("#" + FRAME_ID);
    root.removeEventListener("message", currentListener);
    currentListener = undefined;
    if (!frame || frame.parentNode !== root.document.body) return;
    root.document.body.style.removeProperty("overflow");
    root.document.body.removeChild(frame);
  }

  function openUrl(url, onOpenUrl) {
    if (typeof onOpenUrl === "function") return onOpenUrl({ url: url });
    // An address that is not a URL throws here, as in the published SDK.
    if (new URL(url).protocol === "https:") root.open(url, "_blank");
  }

  function listen(options) {
    var tokenToHand = options.publicToken;
    return function (event) {
      // Only Transact's own frame, from the origin it was opened on, may speak to us.
      if (event.origin !== options.origin) return;
      if (!event.source || event.source !== options.frame.contentWindow) return;
      var payload = event.data.payload;
      var name = event.data.event;
      switch (name) {
        case "atomic-transact-close":
          options.onClose(payload);
          removeTransact();
          break;
        case "atomic-transact-finish":
          options.onFinish(payload);
          removeTransact();
          break;
        case "atomic-transact-interaction":
          options.onInteraction(payload);
          break;
        case "atomic-transact-data-request":
          options.onDataRequest(payload);
          break;
        case "atomic-transact-open-url":
          openUrl(payload.url, options.onOpenUrl);
          break;
        case "atomic-transact-request-public-token":
          // Answered once: a second request gets no token.
          if (options.frame.contentWindow) {
            options.frame.contentWindow.postMessage(
              {
                event: "sdk-atomic-transact-public-token",
                payload: { publicToken: tokenToHand, handshakeId: options.handshakeId },
              },
              options.origin
            );
          }
          tokenToHand = undefined;
          break;
        default:
          root.console.log("Unhandled postMessage Event", name);
      }
    };
  }

  function transact(args) {
    args = args || {};
    var config = Object.assign({}, args.config || {});
    var origin = args.environmentOverride || DEFAULT_ORIGIN;
    var publicToken = config.publicToken;
    delete config.publicToken;
    var handshakeId = newHandshakeId();

    if (!args.container) root.document.body.style.overflow = "hidden";

    var frame = root.document.createElement("iframe");
    frame.setAttribute("allow", "web-share; clipboard-write; clipboard-read;");
    var label = (config.operation || config.product || "Atomic") + " Interface";
    frame.setAttribute("title", label);
    frame.setAttribute("aria-label", label);
    var vendor = root.navigator.vendor;
    var launch = Object.assign(
      {
        inSdk: true,
        platform: {
          name: "browser",
          sdkVersion: SDK_VERSION,
          systemVersion: root.navigator.platform + "-" + (vendor == null ? "unknown" : vendor),
        },
      },
      config,
      publicToken ? { deferPublicToken: true } : {}
    );
    frame.src = origin + "/initialize/" + root.btoa(JSON.stringify(launch)) + "#hId=" + handshakeId;
    frame.id = FRAME_ID;
    frame.style.cssText = cssText(args.container ? FRAME_STYLE : FRAME_STYLE.concat(MODAL_STYLE));

    var mountOn = root.document.body;
    if (args.container) {
      mountOn = root.document.querySelector(args.container);
      if (!mountOn) throw new Error('No container found for "' + args.container + '"');
    }

    currentListener = listen({
      origin: origin,
      frame: frame,
      publicToken: publicToken,
      handshakeId: handshakeId,
      onInteraction: args.onInteraction || noop,
      onDataRequest: args.onDataRequest || noop,
      onFinish: args.onFinish || noop,
      onClose: args.onClose || noop,
      onOpenUrl: args.onOpenUrl,
    });
    root.addEventListener("message", currentListener);
    mountOn.appendChild(frame);

    return { close: removeTransact };
  }

  root.Product = { DEPOSIT: "deposit", VERIFY: "verify", IDENTIFY: "identify", WITHHOLD: "withhold" };
  root.Atomic = { transact: transact };
})(window);
