"""Atomic's task `failReason` codes, each as a sentence a user can act on."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Lazy: each sentence is translated when shown, in the language of that page.
FAIL_REASON_SENTENCES: dict[str, Promise] = {
    # PayLink
    "subscription-inactive": _("This subscription is no longer active with the company."),
    "subscription-managed-by-partner-provider": _(
        "This subscription is billed through a partner, so it has to be changed there."
    ),
    "payment-method-locked": _("The company has locked the payment method on this account."),
    "payment-method-not-supported": _("The company doesn't accept this payment method."),
    "payment-method-insufficient-funds": _(
        "The payment method didn't have enough funds for the company to accept it."
    ),
    "payment-method-limit-reached": _("The payment method has reached its limit."),
    "payment-method-declined": _("The company declined the payment method."),
    "payment-token-expired": _("The payment details expired before the change could be made."),
    "payment-switch-unsuccessful": _("The company didn't accept the new payment method."),
    # Shared by every product
    "bad-credentials": _(
        "The username or password wasn't accepted by the company. Check them and try again."
    ),
    "account-lockout": _(
        "The company has locked this account after too many attempts. Unlock it with the "
        "company first, then try again."
    ),
    "connection-error": _("We couldn't reach the company. Try again in a few minutes."),
    "session-timeout": _("The session with the company timed out. Try again."),
    "system-unavailable": _("The company's system is unavailable right now. Try again later."),
    "device-disconnected": _("The connection was lost before the request finished. Try again."),
    "user-abandon": _("The request was left unfinished."),
    "unknown-failure": _("Something went wrong at the company. Try again later."),
}


def fail_reason_sentence(reason: str) -> str:
    """The human sentence for `reason`; unknown codes are named, never raised on.

    Plain text: templates escape it, so a hostile code cannot inject markup.
    """
    if not reason:
        return gettext("The company couldn't complete the request.")
    known = FAIL_REASON_SENTENCES.get(reason)
    if known is not None:
        return str(known)
    return gettext("The company couldn't complete the request (reason: %(reason)s).") % {
        "reason": reason
    }
