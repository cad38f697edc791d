"""The empty dashboard lists the test billers and usernames outside production."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paylink.sandbox_guide import SIMULATOR_BILLERS, TEST_USERNAMES

# The simulator is another Django project (its settings, its models): read its tables, not
# import them.
SIMULATOR = Path(__file__).parents[2] / "simulator"
LOGINS = (SIMULATOR / "logins.py").read_text()
CATALOGUE = (SIMULATOR / "catalogue.py").read_text()
SIMULATOR_USERNAMES = set(re.findall(r'^\s+"(test-[a-z-]+)": Outcome\(', LOGINS, re.MULTILINE))

pytestmark = pytest.mark.django_db


def test_the_host_lists_exactly_the_simulators_billers_and_usernames():
    names = re.findall(r'^\s+name="([^"]+)",$', CATALOGUE, re.MULTILINE)
    assert len(names) >= 8
    assert list(SIMULATOR_BILLERS) == names
    listed = {name.username for name in TEST_USERNAMES}
    # Every username the simulator answers to, plus test-bad (any other name fails that way).
    assert len(SIMULATOR_USERNAMES) >= 6
    assert listed == SIMULATOR_USERNAMES | {"test-bad"}


def test_the_empty_dashboard_lists_them_in_simulator_mode(alice_client):
    html = alice_client.get("/").content.decode()
    assert "Streamly" in html
    assert "<code>test-good</code>" in html
    assert "<code>test-declined</code>" in html


def test_against_the_sandbox_only_the_sandbox_usernames_are_listed(alice_client, settings):
    settings.ATOMIC_ENV = "sandbox"
    settings.SIMULATOR_MODE = False
    html = alice_client.get("/").content.decode()
    assert "<code>test-good</code>" in html
    assert "test-declined" not in html
    assert "Streamly" not in html


def test_production_lists_nothing_to_try(alice_client, settings):
    settings.ATOMIC_ENV = "production"
    settings.SIMULATOR_MODE = False
    html = alice_client.get("/").content.decode()
    assert "test-good" not in html


def test_they_are_spanish_on_a_spanish_page(alice_client, alice_profile):
    alice_profile.language = "es"
    alice_profile.save(update_fields=["language"])
    alice_client.force_login(alice_profile.user)
    html = alice_client.get("/").content.decode()
    assert "<code>test-good</code>" in html
    assert "connects" not in html
