/*
 * Transact's postMessage protocol with the integrator's page: every message is {event, payload},
 * and these are all the event names either side sends. Every screen imports them from here.
 * The SDK (/sdk/transact.js) is a classic script, and may be Atomic's own published file, so it
 * spells the same names out itself.
 */

// The parent page to Transact: the public token, the answer to REQUEST_PUBLIC_TOKEN.
export const PUBLIC_TOKEN = "sdk-atomic-transact-public-token";

// Transact to the parent page, each with the SDK callback it ends in.
export const REQUEST_PUBLIC_TOKEN = "atomic-transact-request-public-token"; // (the handshake)
export const INTERACTION = "atomic-transact-interaction"; // onInteraction({name, value})
export const DATA_REQUEST = "atomic-transact-data-request"; // onDataRequest({taskId, fields, ...})
export const FINISH = "atomic-transact-finish"; // onFinish({taskId})
export const CLOSE = "atomic-transact-close"; // onClose({reason} or {handoff})
export const OPEN_URL = "atomic-transact-open-url"; // onOpenUrl({url})

// To "*": the page cannot know its parent's origin, and the SDK filters messages by origin and
// source on its side. Opened outside a frame, there is no one to tell.
export function post(event, payload) {
  if (window.parent === window) return;
  window.parent.postMessage(payload === undefined ? { event } : { event, payload }, "*");
}

// What the person did, for the integrator's analytics (Atomic's interaction names).
export function interaction(name, value) {
  post(INTERACTION, { name, value: value || {} });
}
