"""task_record: whichever source hears of a task first creates it; status only moves forward."""

from __future__ import annotations

import pytest

from paylink.models import Task
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import TaskOwnershipError, task_record

pytestmark = pytest.mark.django_db


def test_it_creates_a_task_the_host_has_not_seen(alice_profile):
    change = task_record(
        profile=alice_profile, atomic_id="t1", status="queued", company_name="Hulu"
    )
    assert change.created
    assert Task.objects.get(atomic_id="t1").company_name == "Hulu"


def test_status_moves_forward(alice_profile):
    task_record(profile=alice_profile, atomic_id="t1", status="queued")
    change = task_record(profile=alice_profile, atomic_id="t1", status="processing")
    assert change.status_changed
    assert change.task.status == "processing"


def test_a_late_processing_never_undoes_completed(alice_profile):
    task_record(profile=alice_profile, atomic_id="t1", status="completed")
    change = task_record(profile=alice_profile, atomic_id="t1", status="processing")
    assert not change.status_changed
    assert Task.objects.get(atomic_id="t1").status == "completed"


def test_a_final_status_does_not_change_without_a_patch(alice_profile):
    task_record(
        profile=alice_profile, atomic_id="t1", status="failed", fail_reason="bad-credentials"
    )
    task_record(profile=alice_profile, atomic_id="t1", status="completed")
    task = Task.objects.get(atomic_id="t1")
    assert (task.status, task.fail_reason) == ("failed", "bad-credentials")


def test_a_patch_corrects_a_final_status(alice_profile):
    task_record(
        profile=alice_profile, atomic_id="t1", status="failed", fail_reason="unknown-failure"
    )
    change = task_record(profile=alice_profile, atomic_id="t1", status="completed", patched=True)
    assert change.completed_now
    assert (change.task.status, change.task.fail_reason) == ("completed", "")


def test_an_unknown_status_is_kept_but_never_undoes_progress(alice_profile):
    task_record(profile=alice_profile, atomic_id="t1", status="awaiting-user")
    assert Task.objects.get(atomic_id="t1").status == "awaiting-user"
    task_record(profile=alice_profile, atomic_id="t1", status="processing")
    task_record(profile=alice_profile, atomic_id="t1", status="awaiting-user")
    assert Task.objects.get(atomic_id="t1").status == "processing"


def test_blank_details_never_erase_known_ones(alice_profile):
    task_record(profile=alice_profile, atomic_id="t1", company_name="Hulu", operation="action")
    task_record(profile=alice_profile, atomic_id="t1", company_name="", operation="")
    task = Task.objects.get(atomic_id="t1")
    assert (task.company_name, task.operation) == ("Hulu", "action")


def test_it_refuses_a_task_that_belongs_to_another_user(alice_profile, bob_profile):
    task_record(profile=alice_profile, atomic_id="t1", status="queued")
    with pytest.raises(TaskOwnershipError):
        task_record(profile=bob_profile, atomic_id="t1", status="completed")
    assert Task.objects.get(atomic_id="t1").status == "queued"


def test_it_rejects_details_it_does_not_know(alice_profile):
    with pytest.raises(TypeError, match="colour"):
        task_record(profile=alice_profile, atomic_id="t1", colour="red")


def test_each_user_gets_an_opaque_stable_identifier(alice):
    profile = profile_for_user(user=alice)
    assert profile_for_user(user=alice).identifier == profile.identifier
    assert profile.identifier.startswith("hub_")
    assert alice.username not in profile.identifier
    assert str(alice.pk) != profile.identifier
