"""Which of the simulator's behaviours come from Atomic's documents, and which are ours.

QA re-checks the second list against Atomic's sandbox: where Atomic publishes nothing we could
read, the simulator follows a convention, and the host must not assume more than it does. The
root page shows both lists and the README's "What is Atomic's and what is ours" repeats them (a
test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    what: str
    source: str


FROM_ATOMIC = (
    Behaviour(
        "POST /access-token, GET /{identifier}/pay-link/accounts, GET /task/{id}/status and "
        "/details, GET /user/{identifier}/tasks: paths, bodies and error shapes",
        "Atomic's PayLink API reference (seed-paylink-api-reference.txt)",
    ),
    Behaviour(
        "The account shape, with the Hulu example key by key",
        "Atomic's PayLink API reference (seed-paylink-api-reference.txt)",
    ),
    Behaviour(
        "Transact's URL, the public-token handshake, the postMessage events and close reasons",
        "@atomicfi/transact-javascript 3.2.0 (index.js); the suite runs against it in CI",
    ),
    Behaviour(
        "The Payments Hub config: scope pay-link, the manage task and its apps, one action task",
        "Atomic's Payments Hub guide (seed-payments-hub-guide.txt)",
    ),
    Behaviour(
        "Webhook headers (CloudEvents binary mode), the HMAC-SHA256 signature, 3 retries 30 s "
        "apart, and the event types",
        "Atomic's webhook documentation",
    ),
    Behaviour(
        "Sandbox usernames test-good, test-bad, test-failure, test-code-mfa, test-question-mfa",
        "Atomic's sandbox test credentials",
    ),
    Behaviour(
        "Failure reasons (failReason values) for PayLink and shared failures",
        "Atomic's PayLink API reference",
    ),
    Behaviour(
        "Webhooks with a top-level task, company and product and reason in data; "
        "task-status-patched; a hex digest signature",
        "Atomic's developer documentation (atomicfi/docs, source/index.html.md)",
    ),
    Behaviour(
        "Close reasons dismissed (native sheet) and handoffs exit-prompt and high-latency; "
        "taskId sent as an empty string when missing",
        "Atomic's iOS, Capacitor and Flutter SDKs; its docs' Handoff Pages",
    ),
    Behaviour(
        "An account that manages several named bills, each with its own actions",
        "Atomic's PayLink glossary (an Apple account with Apple TV+ and NY Times bills)",
    ),
)

OURS = (
    Behaviour("The biller catalogue, its plans, prices and logos", "ours: fictional companies"),
    Behaviour(
        "test-declined (payment-method-declined) and test-inactive (subscription-inactive)",
        "ours: PayLink failures the sandbox list does not name",
    ),
    Behaviour(
        "Interaction names beyond Initialized Transact and Viewed Task Completed Page "
        "(Viewed Payments Hub, Viewed Login Page, Viewed MFA Page, ...)",
        "ours: Atomic lists only some names",
    ),
    Behaviour(
        'product: "pay-link" on tasks, their details and webhook data',
        "ours: the value Atomic's other products suggest",
    ),
    Behaviour(
        "The exact keys of task-status-updated data; failReason or reason for a failure "
        "(SIMULATOR_FAIL_REASON_KEY)",
        "ours: Atomic's pages disagree on the key; the host reads both",
    ),
    Behaviour(
        "The pay-link-accounts-updated data, {accountIds: [...]}, with the accounts "
        "themselves when accounts_webhook_data is accounts",
        "ours: a nudge to fetch the accounts; Atomic says it may send the user's data",
    ),
    Behaviour(
        "GET /pay-link/accounts (x-api-version: v2) naming the user by an identifier query "
        "parameter",
        "ours: the newer guides name the route and header, not how the user is named",
    ),
    Behaviour(
        "The webhook variants QA switches (task id placement, signature encoding, metadata, "
        "accounts-updated data) and their combinations",
        "ours: each value is one of Atomic's published shapes; the mix is a test device",
    ),
    Behaviour(
        "The bodies PUT /user and PUT /user/{identifier}/end-monitoring answer with",
        "ours: Atomic documents the calls, not their answers",
    ),
    Behaviour(
        "Data requests (onDataRequest) whenever the user's name or email is missing, whatever "
        "deferredPaymentMethodStrategy says",
        "ours: a simplification; the host answers with PUT /user either way",
    ),
    Behaviour(
        "Action ids expiring after an hour (action_lifetime_seconds)",
        'ours: Atomic says only "about 1 hour"',
    ),
)
