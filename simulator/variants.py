"""The variants of Atomic's published shapes the simulator can send, as plain constants.

QA switches them at runtime (POST /_sim/config, or the root page); each has a setting for its
default. Kept free of Django so the host's contract tests can list them.
"""

from __future__ import annotations

FAIL_REASON_KEYS = ("failReason", "reason")
ACCOUNT_SHAPES = ("seed", "newer")
# Where a webhook names its task: each is a shape one of Atomic's published examples uses.
WEBHOOK_TASK_ID_PLACES = ("data.taskId", "task", "data.task", "data.task._id")
WEBHOOK_SIGNATURES = ("hex", "base64")
# `echo`: the metadata Transact was launched with; `empty`: always {}; `absent`: no key at all.
WEBHOOK_METADATA = ("echo", "empty", "absent")
# What pay-link-accounts-updated carries: the ids of the accounts that changed, or with them the
# user's accounts themselves ("Atomic will send the users data via webhook").
ACCOUNTS_WEBHOOK_DATA = ("ids", "accounts")
# Which accounts routes answer: the seed's, the v2 one, or both (the other answers 404).
ACCOUNTS_ROUTES = ("both", "v1", "v2")
# What Transact's close button reports: `auto` (task-pending while a task runs, else unknown),
# or one reason every time, a handoff included, so the host's sentence for each can be seen.
CLOSE_REASONS = (
    "auto",
    "unknown",
    "dismissed",
    "task-pending",
    "zero-search-results",
    "manual-fallback",
    "handoff:exit-prompt",
    "handoff:high-latency",
)

# Runtime choices QA can switch (POST /_sim/config, or the root page): key -> (values, setting).
CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "fail_reason_key": (FAIL_REASON_KEYS, "SIMULATOR_FAIL_REASON_KEY"),
    "account_shape": (ACCOUNT_SHAPES, "SIMULATOR_ACCOUNT_SHAPE"),
    "accounts_routes": (ACCOUNTS_ROUTES, "SIMULATOR_ACCOUNTS_ROUTES"),
    "webhook_task_id": (WEBHOOK_TASK_ID_PLACES, "SIMULATOR_WEBHOOK_TASK_ID"),
    "webhook_signature": (WEBHOOK_SIGNATURES, "SIMULATOR_WEBHOOK_SIGNATURE"),
    "webhook_metadata": (WEBHOOK_METADATA, "SIMULATOR_WEBHOOK_METADATA"),
    "accounts_webhook_data": (ACCOUNTS_WEBHOOK_DATA, "SIMULATOR_ACCOUNTS_WEBHOOK_DATA"),
    "close_reason": (CLOSE_REASONS, "SIMULATOR_CLOSE_REASON"),
}
