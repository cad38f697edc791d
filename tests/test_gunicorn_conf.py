"""The web server's configuration: threaded workers, values from the environment, checked."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
NAMES = (
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_BIND",
    "FORWARDED_ALLOW_IPS",
    "PAYLINK_TRUSTED_PROXIES",
    "PORT",
    "GUNICORN_ACCESSLOG",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_are_threaded_workers_that_outlast_atomics_deadline(clean_env, settings):
    conf = runpy.run_path(str(CONF))
    assert conf["worker_class"] == "gthread"
    assert conf["wsgi_app"] == "hubsite.wsgi:application"
    assert (conf["workers"], conf["threads"]) == (2, 8)
    assert conf["timeout"] > settings.ATOMIC_REQUEST_DEADLINE_SECONDS * 2
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    # The host logs each request itself, without the raw path: gunicorn's line is off.
    assert conf["accesslog"] is None


def test_every_value_comes_from_the_environment(clean_env):
    values = {
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "16",
        "GUNICORN_TIMEOUT": "60",
        "GUNICORN_GRACEFUL_TIMEOUT": "20",
        "GUNICORN_KEEPALIVE": "75",
        "FORWARDED_ALLOW_IPS": "10.0.0.5",
        "PORT": "9000",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)
    conf = runpy.run_path(str(CONF))
    assert (conf["workers"], conf["threads"], conf["timeout"]) == (3, 16, 60)
    assert (conf["graceful_timeout"], conf["keepalive"]) == (20, 75)
    assert conf["forwarded_allow_ips"] == "10.0.0.5"
    assert conf["bind"] == "0.0.0.0:9000"


@pytest.mark.parametrize("value,says", [("many", "whole number"), ("0", "at least 1")])
def test_a_bad_value_stops_the_start_with_a_sentence_naming_it(clean_env, value, says):
    clean_env.setenv("GUNICORN_THREADS", value)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(CONF))
    assert "GUNICORN_THREADS" in str(info.value)
    assert says in str(info.value)


def test_gunicorn_believes_forwarded_headers_from_the_proxies_the_host_names(clean_env):
    clean_env.setenv("PAYLINK_TRUSTED_PROXIES", "10.0.0.0/16, 192.168.1.7/24,fd00::/8")
    conf = runpy.run_path(str(CONF))
    assert conf["forwarded_allow_ips"] == "10.0.0.0/16,192.168.1.0/24,fd00::/8"
    # FORWARDED_ALLOW_IPS, gunicorn's own, still wins where set.
    clean_env.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")
    assert runpy.run_path(str(CONF))["forwarded_allow_ips"] == "10.0.0.5"


def test_a_proxy_range_that_is_not_one_stops_the_start_with_a_sentence(clean_env):
    clean_env.setenv("PAYLINK_TRUSTED_PROXIES", "10.0.0.0/99")
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(CONF))
    assert "PAYLINK_TRUSTED_PROXIES" in str(info.value)
