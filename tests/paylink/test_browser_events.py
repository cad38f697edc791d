"""The page events are named once, in paylink/browser_events.py: the views, the templates and
hub.js take their names from it, and none spells one of its own."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from django import template
from django.conf import settings
from django.template import engines

from paylink import browser_events
from paylink.browser_events import EVENTS

ROOT = Path(settings.BASE_DIR)
HUB_JS = ROOT / "static" / "paylink" / "js" / "hub.js"
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
# "paylink:" also starts the URL names in `{% url %}` tags; anything else so written is an event.
EVENT_LITERAL = re.compile(r"paylink:[A-Za-z][\w-]*")
URL_TAG = re.compile(r"{%\s*url\s[^%]*%}")


def _declared(name: str) -> str:
    where = "declared" if name in EVENTS.values() else "NOT declared"
    return f"{name} ({where} in paylink/browser_events.py)"


def test_each_event_has_one_name_and_every_name_is_listed():
    constants = {
        value
        for name, value in vars(browser_events).items()
        if name.isupper() and isinstance(value, str)
    }
    assert constants == set(EVENTS.values())
    assert len(set(EVENTS.values())) == len(EVENTS)
    assert all(re.fullmatch(r"paylink:[a-z]+(-[a-z]+)*", name) for name in EVENTS.values())


def test_no_template_spells_an_event_name():
    found = [
        f"{path.relative_to(ROOT)}: {_declared(name)}"
        for path in TEMPLATES
        for name in EVENT_LITERAL.findall(URL_TAG.sub("", path.read_text()))
    ]
    assert not found, found


def test_templates_ask_only_for_events_that_exist():
    keys = {
        key
        for path in TEMPLATES
        for key in re.findall(r"{%\s*browser_event\s+[\"'](\w+)[\"']\s*%}", path.read_text())
    }
    assert keys, "no template listens for a page event: the scan is reading nothing"
    assert keys <= set(EVENTS), sorted(keys - set(EVENTS))


def test_hub_js_spells_no_event_name_and_uses_only_listed_ones():
    source = HUB_JS.read_text()
    assert not EVENT_LITERAL.findall(source), [_declared(n) for n in EVENT_LITERAL.findall(source)]
    # Whatever its prefix: no event of our own is made from a literal, and the only namespaced
    # names listened for are htmx's own (plain DOM events such as "click" have no colon).
    assert not re.findall(r"CustomEvent\(\s*[\"'`]", source)
    listened = re.findall(r"EventListener\(\s*[\"'`]([^\"'`]+)", source)
    assert listened, "no listener found: the scan is reading nothing"
    assert all(":" not in name or name.startswith("htmx:") for name in listened), listened
    used = set(re.findall(r"\bEVENTS\.(\w+)", source))
    assert used == set(EVENTS), (sorted(used - set(EVENTS)), sorted(set(EVENTS) - used))


def _python_modules() -> list[Path]:
    return [
        path
        for package in ("paylink", "reminders")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "paylink" / "browser_events.py" and "migrations" not in path.parts
    ]


def test_views_send_events_by_their_constants():
    found = []
    for path in _python_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in EVENTS.values():
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
            is_trigger = (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", ""))
                == "trigger_client_event"
            )
            if is_trigger and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.args[1].value}")
    assert not found, found


def test_the_page_config_hands_hub_js_every_event(alice_client):
    html = alice_client.get("/hub/").content.decode()
    config = re.search(
        r'<script id="paylink-transact-config" type="application/json">(.*?)</script>', html, re.S
    )
    assert config is not None
    assert json.loads(config.group(1))["events"] == EVENTS


def test_the_tag_gives_the_name_and_refuses_an_unknown_event():
    engine = engines["django"]
    page = engine.from_string("{% load paylink_events %}{% browser_event 'taskCompleted' %}")
    assert page.render({}) == "paylink:task-completed"
    with pytest.raises(template.TemplateSyntaxError, match="taskDone"):
        engine.from_string("{% load paylink_events %}{% browser_event 'taskDone' %}").render({})
