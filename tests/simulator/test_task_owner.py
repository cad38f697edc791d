"""What the host asks before recording a browser-reported task: whose it is, over real HTTP."""

from __future__ import annotations

import pytest

from paylink.client import AtomicError, atomic_client


@pytest.fixture
def host_client_on(sim, settings):
    settings.ATOMIC_API_URL = sim.url
    settings.ATOMIC_API_KEY = sim.api_key
    settings.ATOMIC_API_SECRET = sim.api_secret
    return sim


def test_task_details_name_the_identifier_the_task_was_launched_for(host_client_on, person):
    alice = person("alice")
    host_client_on.access_token(alice)
    task_id = host_client_on.connect(alice, "streamly", wait=False)
    details = atomic_client().task_details_get(task_id=task_id)
    assert details.identifier == alice
    assert details.id == task_id


def test_a_task_id_atomic_never_issued_is_a_permanent_404(host_client_on):
    with pytest.raises(AtomicError) as info:
        atomic_client().task_details_get(task_id="000000000000000000000000")
    assert (info.value.status, info.value.retryable) == (404, False)
