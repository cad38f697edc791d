"""The events the host's pages tell each other about: the browser contract, in one place.

Each is a DOM event on `document.body`. Views send one with an `HX-Trigger` header
(`trigger_client_event`); hub.js dispatches them itself; templates listen with
`hx-trigger="{% browser_event 'taskFinished' %} from:body"`. hub.js never spells a name: it reads
`EVENTS` from the JSON config its pages render (`events` in #paylink-transact-config). The key
of each name is what hub.js and the template tag call it. tests/paylink/test_browser_events.py
fails on an event name written anywhere else.
"""

from __future__ import annotations

# A request to a company reached its end, completed or failed. Detail: {taskId, status,
# accountId}; none when the Hub finished without a task of its own (accounts are refreshed).
# Emitted by: views/hub.py `_finished_triggers` (the task page's and a card outcome's polls);
#   hub.js `outcomeSettled` (a card's outcome) and the launch's "finish" without a task.
# Listened for by: templates/paylink/hub.html (the recent list reloads); hub.js
#   `announceOutcome` (says "Done" for the task it launched).
TASK_FINISHED = "paylink:task-finished"

# The same, only for a completed request: only that changes accounts (htmx cannot filter
# TASK_FINISHED on its detail without eval). Same detail.
# Emitted by: views/hub.py `_finished_triggers`; hub.js `outcomeSettled`.
# Listened for by: templates/paylink/dashboard.html (#dashboard-watch waits for the sync it
#   brings).
TASK_COMPLETED = "paylink:task-completed"

# Every event by the name hub.js and the `browser_event` tag know it by.
EVENTS = {
    "taskFinished": TASK_FINISHED,
    "taskCompleted": TASK_COMPLETED,
}
