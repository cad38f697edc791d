"""The dashboard's SQL cost does not grow with the number of accounts."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paylink.models import AccountSnapshot, Profile

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "accounts"


def accounts(count: int) -> dict:
    hulu = json.loads((FIXTURES / "hulu.json").read_text())["accounts"][0]
    result = []
    for index in range(count):
        account = copy.deepcopy(hulu)
        account["_id"] = f"acct{index:04d}"
        account["company"]["name"] = f"Biller {index}"
        result.append(account)
    return {"accounts": result}


def dashboard_queries(username: str, count: int) -> tuple[int, str]:
    user = User.objects.create_user(username)
    profile = Profile.objects.create(user=user)
    AccountSnapshot.objects.create(
        profile=profile, payload=accounts(count), version=1, fetched_at=timezone.now()
    )
    client = Client()
    client.force_login(user)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
def test_fifty_accounts_cost_the_same_queries_as_one():
    one, html_one = dashboard_queries("alice", 1)
    fifty, html_fifty = dashboard_queries("bob", 50)
    assert html_one.count('class="card account-card"') == 1
    assert html_fifty.count('class="card account-card"') == 50
    assert one == fifty
    assert fifty <= 6


@pytest.mark.django_db
def test_a_warm_dashboard_stays_within_six_queries(django_assert_max_num_queries):
    user = User.objects.create_user("alice")
    profile = Profile.objects.create(user=user)
    AccountSnapshot.objects.create(profile=profile, payload=accounts(50), version=1)
    client = Client()
    client.force_login(user)
    client.get("/")
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200
