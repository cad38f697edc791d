"""The web server's configuration: threaded workers, values from the environment, checked."""

from __future__ import annotations

import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

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
    "GUNICORN_REUSE_PORT",
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
    # Each worker on a socket of its own, the kernel sharing connections out among them.
    assert conf["reuse_port"] is True


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


def test_reuse_port_can_be_turned_off_and_is_off_for_a_unix_socket(clean_env):
    clean_env.setenv("GUNICORN_REUSE_PORT", "false")
    assert runpy.run_path(str(CONF))["reuse_port"] is False
    clean_env.setenv("GUNICORN_REUSE_PORT", "true")
    clean_env.setenv("GUNICORN_BIND", "unix:/run/paylink.sock")
    assert runpy.run_path(str(CONF))["reuse_port"] is False
    clean_env.setenv("GUNICORN_REUSE_PORT", "sometimes")
    with pytest.raises(
        SystemExit, match="GUNICORN_REUSE_PORT is 'sometimes'; it must be true or false"
    ):
        runpy.run_path(str(CONF))


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_start_on_an_address_another_server_listens_on_is_refused(clean_env, tmp_path):
    clean_env.setenv("PAYLINK_METRICS_DIR", str(tmp_path))
    conf = runpy.run_path(str(CONF))
    with _listener() as taken:
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        server = SimpleNamespace(cfg=SimpleNamespace(reuse_port=True, bind=[address]))
        with pytest.raises(SystemExit, match=f"{address} is in use: another server is listening"):
            conf["on_starting"](server)
        # Without reuse_port gunicorn's own bind would fail, so nothing is asked here.
        conf["on_starting"](SimpleNamespace(cfg=SimpleNamespace(reuse_port=False, bind=[address])))
    conf["on_starting"](server)  # free again
    # A unix socket given beside reuse_port on the command line has no port to share.
    unix = SimpleNamespace(cfg=SimpleNamespace(reuse_port=True, bind=["unix:/tmp/paylink.sock"]))
    conf["on_starting"](unix)


def _listeners(port: int) -> int:
    """How many sockets listen on `port` (IPv4), from /proc/net/tcp."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for line in lines
        if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"  # LISTEN
    )


def test_the_workers_share_the_connections_out_among_them(clean_env, tmp_path):
    with _listener() as probe:
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "PAYLINK_METRICS_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "tests.wsgi_pid:application"],
        cwd=CONF.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Both workers listening, each on a socket of its own (one shared socket counts once).
        deadline = time.monotonic() + 15
        while _listeners(port) < 2:
            assert server.poll() is None, "gunicorn stopped"
            assert time.monotonic() < deadline, "the workers never listened on sockets of their own"
            time.sleep(0.05)
        # Connections opened together, as a proxy's pool or wrk opens them: on one shared socket
        # the first worker to wake took them all. 24 dealt out by the kernel all land on one of
        # two workers once in 8 million.
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(24)]
        for connection in connections:
            connection.connect()
        workers = set()
        for connection in connections:
            connection.request("GET", "/")
            workers.add(connection.getresponse().read())
            connection.close()
        assert len(workers) == 2
    finally:
        server.terminate()
        server.wait(timeout=30)
