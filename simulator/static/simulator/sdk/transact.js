/*
 * Atomic Transact browser SDK, simulator edition.
 *
 * Speaks the published SDK's protocol (version 3.2.0): Atomic.transact({...}) frames
 * {origin}/initialize/{base64 config}#hId={handshake id}, hands the public token over once
 * through postMessage, relays the iframe's events to the integrator's callbacks and removes
 * the iframe after a finish or a close.
 */
(function (root) {
  "use strict";

  var SDK_VERSION = "3.2.0";
  var DEFAULT_ORIGIN = "https://transact.atomicfi.com";
  var FRAME_ID = "atomic-transact-iframe";
  var FRAME_STYLE = {
    width: "100%",
    height: "100%",
    "z-index": "888888888",
    "border-width": "0",
    "overflow-x": "hidden",
    "overflow-y": "auto",
  };
  var OVERLAY_STYLE = { position: "fixed", top: "0", left: "0", right: "0", bottom: "0" };

  // One Transact at a time, as in the published SDK.
  var session = null;

  function noop() {}

  function newHandshakeId() {
    var bytes = new Uint8Array(8);
    root.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return hex;
  }

  // btoa() takes Latin-1 only; escaping everything else keeps the JSON identical once parsed.
  function encodeConfig(value) {
    var json = JSON.stringify(value).replace(/[\u0080-\uffff]/g, function (ch) {
      return "\\u" + ("0000" + ch.charCodeAt(0).toString(16)).slice(-4);
    });
    return root.btoa(json);
  }

  function cssText(rules) {
    return Object.keys(rules)
      .map(function (name) {
        return name + ": " + rules[name] + ";";
      })
      .join(" ");
  }

  function teardown() {
    if (!session) return;
    var ending = session;
    session = null;
    root.removeEventListener("message", ending.listener);
    if (ending.frame.parentNode) ending.frame.parentNode.removeChild(ending.frame);
    if (ending.lockedScroll) root.document.body.style.removeProperty("overflow");
  }

  function openUrl(url, onOpenUrl) {
    if (typeof onOpenUrl === "function") return onOpenUrl({ url: url });
    var parsed;
    try {
      parsed = new URL(url);
    } catch (e) {
      return;
    }
    if (parsed.protocol === "https:") root.open(parsed.href, "_blank", "noopener");
  }

  function listen(options) {
    var tokenToHand = options.publicToken;
    return function (event) {
      // Only Transact's own frame, from the origin it was opened on, may speak to us.
      if (event.origin !== options.origin) return;
      if (!event.source || event.source !== options.frame.contentWindow) return;
      var data = event.data;
      if (!data || typeof data !== "object") return;
      var payload = data.payload;
      switch (data.event) {
        case "atomic-transact-request-public-token":
          // Answered once: a second request gets no token.
          event.source.postMessage(
            {
              event: "sdk-atomic-transact-public-token",
              payload: { publicToken: tokenToHand, handshakeId: options.handshakeId },
            },
            options.origin
          );
          tokenToHand = undefined;
          break;
        case "atomic-transact-interaction":
          options.onInteraction(payload);
          break;
        case "atomic-transact-data-request":
          options.onDataRequest(payload);
          break;
        case "atomic-transact-finish":
          options.onFinish(payload);
          teardown();
          break;
        case "atomic-transact-close":
          options.onClose(payload);
          teardown();
          break;
        case "atomic-transact-open-url":
          if (payload && typeof payload.url === "string") openUrl(payload.url, options.onOpenUrl);
          break;
        default:
          break;
      }
    };
  }

  function transact(args) {
    args = args || {};
    var config = Object.assign({}, args.config || {});
    var origin = args.environmentOverride || DEFAULT_ORIGIN;
    var publicToken = config.publicToken;
    delete config.publicToken;

    var mountOn = root.document.body;
    if (args.container) {
      mountOn = root.document.querySelector(args.container);
      if (!mountOn) throw new Error('No container found for "' + args.container + '"');
    }
    teardown();

    var handshakeId = newHandshakeId();
    var launch = Object.assign(
      {
        inSdk: true,
        platform: {
          name: "browser",
          sdkVersion: SDK_VERSION,
          systemVersion: root.navigator.platform + "-" + (root.navigator.vendor || "unknown"),
        },
      },
      config,
      publicToken ? { deferPublicToken: true } : {}
    );
    var label = (config.operation || config.product || "Atomic") + " Interface";

    var frame = root.document.createElement("iframe");
    frame.id = FRAME_ID;
    frame.setAttribute("title", label);
    frame.setAttribute("aria-label", label);
    frame.setAttribute("allow", "web-share; clipboard-write; clipboard-read;");
    frame.style.cssText = cssText(
      args.container ? FRAME_STYLE : Object.assign({}, FRAME_STYLE, OVERLAY_STYLE)
    );
    frame.src = origin + "/initialize/" + encodeConfig(launch) + "#hId=" + handshakeId;

    var listener = listen({
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
    session = { frame: frame, listener: listener, lockedScroll: !args.container };
    if (!args.container) root.document.body.style.overflow = "hidden";
    root.addEventListener("message", listener);
    mountOn.appendChild(frame);

    var mine = session;
    return {
      close: function () {
        if (session === mine) teardown();
      },
    };
  }

  root.Product = { DEPOSIT: "deposit", VERIFY: "verify", IDENTIFY: "identify", WITHHOLD: "withhold" };
  root.Atomic = { transact: transact };
})(window);
