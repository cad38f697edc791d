"""The root page shows QA what the simulated Atomic holds; its forms need the page's CSRF."""

from __future__ import annotations

import html
import re


def test_the_root_page_lists_users_tokens_tasks_deliveries_and_faults(sim, person):
    alice = person("alice")
    token = sim.access_token(alice)
    task_id = sim.connect(alice, "streamly")
    sim.control_faults(endpoint="accounts", kind="503", times=4)

    page = sim.session.get(sim.url + "/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert alice in html
    assert task_id in html
    assert token[:9] in html and token not in html
    assert "task-status-updated" in html
    assert "API 503" in html
    ce_id = sim.state()["deliveries"][0]["ce_id"]
    assert ce_id in html
    assert "X-Frame-Options" not in page.headers


def test_a_form_post_without_the_csrf_token_is_refused(sim):
    answer = sim.session.post(
        f"{sim.url}/_sim/faults", data={"endpoint": "accounts", "kind": "500"}
    )

    assert answer.status_code == 403
    assert sim.state()["faults"]["api"] == []


def test_the_pages_own_form_adds_a_fault(sim):
    page = sim.session.get(sim.url + "/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    assert "sim_csrftoken" in sim.session.cookies

    answer = sim.session.post(
        f"{sim.url}/_sim/faults",
        data={"csrfmiddlewaretoken": csrf, "endpoint": "accounts", "kind": "429", "times": "2"},
        headers={"Origin": sim.url, "Referer": sim.url + "/"},
        allow_redirects=False,
    )

    assert answer.status_code == 302
    assert [(f["kind"], f["remaining"]) for f in sim.state()["faults"]["api"]] == [("429", 2)]


def test_logos_are_served_as_svg(sim):
    answer = sim.session.get(sim.url + "/logos/streamly.svg")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.text.startswith("<svg")
    assert sim.session.get(sim.url + "/logos/nope.svg").status_code == 404


def test_the_root_page_and_the_readme_list_the_same_conventions(sim):
    from pathlib import Path

    from simulator.conventions import FROM_ATOMIC, OURS

    page = sim.session.get(f"{sim.url}/", timeout=5).text
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert len(OURS) >= 8
    for behaviour in (*FROM_ATOMIC, *OURS):
        assert f"| {behaviour.what} | {behaviour.source} |" in readme
        assert behaviour.what in html.unescape(page)


def test_the_root_page_has_a_control_for_every_variant(sim):
    from simulator.variants import CHOICES

    sim.configure(webhook_signature="base64")
    page = html.unescape(sim.session.get(f"{sim.url}/", timeout=5).text)
    config = sim.state()["config"]
    for key, (values, _) in CHOICES.items():
        assert f'<select name="{key}">' in page
        for value in values:
            selected = " selected" if value == config[key] else ""
            assert f"<option{selected}>{value}</option>" in page
    assert "<option selected>base64</option>" in page
