"""The config the SDK puts in the iframe's URL: decoded, checked and reduced to what the UI uses."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import SimulatorError

HUB_APPS = ("pay-now", "expenses", "orders", "suggestions")
LANGUAGES = ("en", "es")
# A brand colour lands in CSS, so only plain hex colours get through.
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_MAX_ENCODED = 16 * 1024


@dataclass(frozen=True)
class TransactConfig:
    operation: str  # "manage" | "action"
    apps: tuple[str, ...] = HUB_APPS
    action_id: str = ""
    brand_color: str = ""
    dark: bool = False
    language: str = "en"
    deeplink_company_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # Only set when the integrator passed the token in the config instead of the handshake.
    public_token: str = ""

    def for_page(self) -> dict[str, Any]:
        """What the page's script reads from its JSON element."""
        return {
            "operation": self.operation,
            "apps": list(self.apps),
            "actionId": self.action_id,
            "brandColor": self.brand_color,
            "dark": self.dark,
            "language": self.language,
            "deeplinkCompanyId": self.deeplink_company_id,
            "metadata": self.metadata,
            "publicToken": self.public_token,
        }


def config_decode(encoded: str) -> TransactConfig:
    """Decode `base64(JSON)` as the SDK builds it; raise SimulatorError with a plain reason."""
    if not encoded or len(encoded) > _MAX_ENCODED:
        raise SimulatorError("The Transact configuration is missing or too long.")
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SimulatorError("The Transact configuration is not valid base64.") from exc
    try:
        # btoa() encodes one byte per character (Latin-1); UTF-8 is accepted from other callers.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SimulatorError("The Transact configuration is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise SimulatorError("The Transact configuration must be a JSON object.")
    return config_parse(data)


def config_parse(data: dict[str, Any]) -> TransactConfig:
    """Check the decoded config's shape; unknown keys are ignored, as Transact does."""
    scope = data.get("scope", "pay-link")
    if scope != "pay-link":
        raise SimulatorError(f"This simulator supports the pay-link scope only, not {scope!r}.")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks or not isinstance(tasks[0], dict):
        raise SimulatorError("The Transact configuration needs a tasks list with one task.")
    task = tasks[0]
    options = _options(data)
    match task.get("operation"):
        case "manage":
            return TransactConfig(operation="manage", apps=_apps(task.get("apps")), **options)
        case "action":
            action = task.get("action")
            action_id = action.get("id") if isinstance(action, dict) else None
            if not isinstance(action_id, str) or not action_id.strip():
                raise SimulatorError("An action task needs action.id.")
            return TransactConfig(operation="action", action_id=action_id.strip(), **options)
        case other:
            raise SimulatorError(f"The task operation {other!r} is not supported here.")


def _apps(value: object) -> tuple[str, ...]:
    if value is None:
        return HUB_APPS
    if not isinstance(value, list) or not all(isinstance(app, str) for app in value):
        raise SimulatorError("tasks[0].apps must be a list of app names.")
    unknown = [app for app in value if app not in HUB_APPS]
    if unknown:
        raise SimulatorError(f"Unknown Payments Hub app: {unknown[0]!r}.")
    return tuple(dict.fromkeys(value)) or HUB_APPS


def _options(data: dict[str, Any]) -> dict[str, Any]:
    theme = data["theme"] if isinstance(data.get("theme"), dict) else {}
    brand = theme.get("brandColor")
    deeplink = data["deeplink"] if isinstance(data.get("deeplink"), dict) else {}
    company_id = deeplink.get("companyId")
    language = data.get("language")
    token = data.get("publicToken")
    return {
        "brand_color": brand if isinstance(brand, str) and _HEX_COLOR.match(brand) else "",
        "dark": theme.get("dark") is True,
        "language": language if language in LANGUAGES else "en",
        "deeplink_company_id": company_id if isinstance(company_id, str) else "",
        "metadata": _metadata(data.get("metadata")),
        "public_token": "" if data.get("deferPublicToken") or not isinstance(token, str) else token,
    }


def _metadata(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SimulatorError("metadata must be an object of strings.")
    return {str(key): str(item) for key, item in value.items() if isinstance(item, str | int)}
