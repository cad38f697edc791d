"""Atomic's task `failReason` codes, each as a sentence a user can act on."""

from __future__ import annotations

FAIL_REASON_SENTENCES: dict[str, str] = {
    # PayLink
    "subscription-inactive": "This subscription is no longer active with the company.",
    "subscription-managed-by-partner-provider": (
        "This subscription is billed through a partner, so it has to be changed there."
    ),
    "payment-method-locked": "The company has locked the payment method on this account.",
    "payment-method-not-supported": "The company doesn't accept this payment method.",
    "payment-method-insufficient-funds": (
        "The payment method didn't have enough funds for the company to accept it."
    ),
    "payment-method-limit-reached": "The payment method has reached its limit.",
    "payment-method-declined": "The company declined the payment method.",
    "payment-token-expired": "The payment details expired before the change could be made.",
    "payment-switch-unsuccessful": "The company didn't accept the new payment method.",
    # Shared by every product
    "bad-credentials": (
        "The username or password wasn't accepted by the company. Check them and try again."
    ),
    "account-lockout": (
        "The company has locked this account after too many attempts. Unlock it with the "
        "company first, then try again."
    ),
    "connection-error": "We couldn't reach the company. Try again in a few minutes.",
    "session-timeout": "The session with the company timed out. Try again.",
    "system-unavailable": "The company's system is unavailable right now. Try again later.",
    "device-disconnected": "The connection was lost before the request finished. Try again.",
    "user-abandon": "The request was left unfinished.",
    "unknown-failure": "Something went wrong at the company. Try again later.",
}


def fail_reason_sentence(reason: str) -> str:
    """The human sentence for `reason`; unknown codes are named, never raised on.

    Plain text: templates escape it, so a hostile code cannot inject markup.
    """
    if not reason:
        return "The company couldn't complete the request."
    known = FAIL_REASON_SENTENCES.get(reason)
    if known is not None:
        return known
    return f"The company couldn't complete the request (reason: {reason})."
