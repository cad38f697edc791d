"""Integrator pages for the simulator's browser tests, and what their SDK callbacks heard.

The steps a person takes inside Transact are in tests/transact_steps.py, shared with the host's
end-to-end tests."""

from __future__ import annotations

import base64
import json
from typing import Any

from playwright.sync_api import FrameLocator, Page

from tests.transact_steps import FRAME

# Loads an SDK script and records every callback in `window.events`.
_INTEGRATOR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Integrator</title>
<link rel="icon" href="data:,">
<script src="{sdk_url}"></script></head>
<body><h1>Integrator's app</h1><div id="slot"></div>
<script>
window.events = [];
function record(kind) {{
  return function (payload) {{ window.events.push({{kind: kind, payload: payload}}); }};
}}
window.launch = function (options) {{
  window.handle = Atomic.transact(Object.assign({{
    onInteraction: record("interaction"),
    onDataRequest: record("dataRequest"),
    onFinish: record("finish"),
    onClose: record("close"),
    onOpenUrl: record("openUrl"),
  }}, options));
}};
</script></body></html>
"""

# Frames Transact by hand and answers the handshake with whatever handshake id it is given.
_HANDSHAKE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hand-made integrator</title>
<link rel="icon" href="data:,"></head>
<body><iframe id="atomic-transact-iframe" title="Transact" style="width:100%;height:600px"
  src="{frame_url}"></iframe>
<script>
window.requests = 0;
var frame = document.getElementById("atomic-transact-iframe");
window.addEventListener("message", function (event) {{
  if (event.source !== frame.contentWindow) return;
  if (!event.data || event.data.event !== "atomic-transact-request-public-token") return;
  window.requests += 1;
  frame.contentWindow.postMessage({{
    event: "sdk-atomic-transact-public-token",
    payload: {{publicToken: {token}, handshakeId: {handshake_id}}},
  }}, {origin});
}});
</script></body></html>
"""


def integrator_page(*, sdk_url: str) -> str:
    return _INTEGRATOR_PAGE.format(sdk_url=sdk_url)


def handshake_page(*, simulator_url: str, token: str, sent_id: str, frame_id: str) -> str:
    config = {
        "inSdk": True,
        "scope": "pay-link",
        "tasks": [{"operation": "manage", "apps": ["expenses"]}],
        "deferPublicToken": True,
    }
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    return _HANDSHAKE_PAGE.format(
        frame_url=f"{simulator_url}/initialize/{encoded}#hId={frame_id}",
        token=json.dumps(token),
        handshake_id=json.dumps(sent_id),
        origin=json.dumps(simulator_url),
    )


def manage_config(token: str, **extra: Any) -> dict[str, Any]:
    return {
        "scope": "pay-link",
        "publicToken": token,
        "tasks": [{"operation": "manage", "apps": ["expenses", "suggestions"]}],
        **extra,
    }


def launch(
    page: Page, *, simulator_url: str, config: dict[str, Any], **options: Any
) -> FrameLocator:
    page.evaluate(
        "options => window.launch(options)",
        {"config": config, "environmentOverride": simulator_url, **options},
    )
    return page.frame_locator(FRAME)


def events(page: Page, kind: str) -> list[Any]:
    return page.evaluate(
        "kind => window.events.filter(e => e.kind === kind).map(e => e.payload)", kind
    )


def wait_for_event(page: Page, kind: str) -> Any:
    page.wait_for_function("kind => window.events.some(e => e.kind === kind)", arg=kind)
    return events(page, kind)[-1]


def wait_for_interaction(page: Page, name: str) -> Any:
    """The payload of the interaction `name`, once the page's handler has heard it."""
    page.wait_for_function(
        "name => window.events.some(e => e.kind === 'interaction' && e.payload.name === name)",
        arg=name,
    )
    return next(e for e in events(page, "interaction") if e["name"] == name)


def interaction_names(page: Page) -> list[str]:
    return [payload["name"] for payload in events(page, "interaction")]
