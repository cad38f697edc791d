"""task_record: whichever source hears of a task first creates it; status only moves forward."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from paylink.models import Task
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import TaskOwnershipError, task_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return profile_for_user(user=User.objects.create_user("alice"))


@pytest.fixture
def bob():
    return profile_for_user(user=User.objects.create_user("bob"))


def test_it_creates_a_task_the_host_has_not_seen(alice):
    change = task_record(profile=alice, atomic_id="t1", status="queued", company_name="Hulu")
    assert change.created
    assert Task.objects.get(atomic_id="t1").company_name == "Hulu"


def test_status_moves_forward(alice):
    task_record(profile=alice, atomic_id="t1", status="queued")
    change = task_record(profile=alice, atomic_id="t1", status="processing")
    assert change.status_changed
    assert change.task.status == "processing"


def test_a_late_processing_never_undoes_completed(alice):
    task_record(profile=alice, atomic_id="t1", status="completed")
    change = task_record(profile=alice, atomic_id="t1", status="processing")
    assert not change.status_changed
    assert Task.objects.get(atomic_id="t1").status == "completed"


def test_a_final_status_does_not_change_without_a_patch(alice):
    task_record(profile=alice, atomic_id="t1", status="failed", fail_reason="bad-credentials")
    task_record(profile=alice, atomic_id="t1", status="completed")
    task = Task.objects.get(atomic_id="t1")
    assert (task.status, task.fail_reason) == ("failed", "bad-credentials")


def test_a_patch_corrects_a_final_status(alice):
    task_record(profile=alice, atomic_id="t1", status="failed", fail_reason="unknown-failure")
    change = task_record(profile=alice, atomic_id="t1", status="completed", patched=True)
    assert change.completed_now
    assert (change.task.status, change.task.fail_reason) == ("completed", "")


def test_an_unknown_status_is_kept_but_never_undoes_progress(alice):
    task_record(profile=alice, atomic_id="t1", status="awaiting-user")
    assert Task.objects.get(atomic_id="t1").status == "awaiting-user"
    task_record(profile=alice, atomic_id="t1", status="processing")
    task_record(profile=alice, atomic_id="t1", status="awaiting-user")
    assert Task.objects.get(atomic_id="t1").status == "processing"


def test_blank_details_never_erase_known_ones(alice):
    task_record(profile=alice, atomic_id="t1", company_name="Hulu", operation="action")
    task_record(profile=alice, atomic_id="t1", company_name="", operation="")
    task = Task.objects.get(atomic_id="t1")
    assert (task.company_name, task.operation) == ("Hulu", "action")


def test_it_refuses_a_task_that_belongs_to_another_user(alice, bob):
    task_record(profile=alice, atomic_id="t1", status="queued")
    with pytest.raises(TaskOwnershipError):
        task_record(profile=bob, atomic_id="t1", status="completed")
    assert Task.objects.get(atomic_id="t1").status == "queued"


def test_it_rejects_details_it_does_not_know(alice):
    with pytest.raises(TypeError, match="colour"):
        task_record(profile=alice, atomic_id="t1", colour="red")


def test_each_user_gets_an_opaque_stable_identifier(alice):
    user = alice.user
    assert profile_for_user(user=user).identifier == alice.identifier
    assert alice.identifier.startswith("hub_")
    assert user.username not in alice.identifier
    assert str(user.pk) != alice.identifier
