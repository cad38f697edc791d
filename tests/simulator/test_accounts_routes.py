"""Both accounts routes, as the host's client asks them, against the simulator over HTTP."""

from __future__ import annotations

import pytest

from paylink.client import AtomicError, atomic_client


@pytest.fixture
def host_client(sim, settings):
    settings.ATOMIC_API_URL = sim.url
    settings.ATOMIC_API_KEY = sim.api_key
    settings.ATOMIC_API_SECRET = sim.api_secret
    return sim


@pytest.fixture
def alice(sim, person):
    identifier = person("alice")
    sim.access_token(identifier)
    sim.connect(identifier, "streamly")
    return identifier


def test_the_seeds_route_lists_the_accounts(host_client, alice, settings):
    settings.ATOMIC_ACCOUNTS_API = "v1"
    (account,) = atomic_client().accounts_get(identifier=alice)["accounts"]
    assert account["company"]["name"] == "Streamly"


def test_the_v2_route_lists_the_same_accounts(host_client, alice, settings):
    settings.ATOMIC_ACCOUNTS_API = "v2"
    v2 = atomic_client().accounts_get(identifier=alice)["accounts"]
    settings.ATOMIC_ACCOUNTS_API = "v1"
    v1 = atomic_client().accounts_get(identifier=alice)["accounts"]
    assert [a["_id"] for a in v2] == [a["_id"] for a in v1]


def test_the_v2_route_needs_its_version_header_and_an_identifier(host_client, alice):
    sim = host_client
    assert sim.api("GET", f"/pay-link/accounts?identifier={alice}").status_code == 404
    missing = sim.api("GET", "/pay-link/accounts", headers={"x-api-version": "v2"})
    assert (missing.status_code, missing.json()["message"]) == (422, "identifier is required.")


@pytest.mark.parametrize(("served", "asked"), [("v2", "v1"), ("v1", "v2")])
def test_a_route_atomic_does_not_serve_is_a_404_for_the_client(
    host_client, alice, settings, served, asked
):
    host_client.configure(accounts_routes=served)
    settings.ATOMIC_ACCOUNTS_API = asked
    with pytest.raises(AtomicError) as info:
        atomic_client().accounts_get(identifier=alice)
    assert info.value.status == 404


@pytest.mark.parametrize("served", ["both", "v1", "v2"])
def test_auto_finds_the_accounts_whichever_route_atomic_serves(
    host_client, alice, settings, served
):
    host_client.configure(accounts_routes=served)
    settings.ATOMIC_ACCOUNTS_API = "auto"
    (account,) = atomic_client().accounts_get(identifier=alice)["accounts"]
    assert account["company"]["name"] == "Streamly"
