"""gunicorn's configuration for the host: `gunicorn -c gunicorn.conf.py` (the app is named here).

Threaded workers (gthread), because a request may wait on Atomic: a waiting thread holds one
slot, not a whole process, so the sign-in page keeps answering while a few people's tokens
are slow. Calls to Atomic inside a request end within ATOMIC_REQUEST_DEADLINE_SECONDS, well
under `timeout`, so a worker is never killed for waiting on Atomic.

Every value can be set from the environment; a value that is not a number stops the start with
a sentence naming it, rather than running with a surprise.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Any


def _whole(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} is {raw!r}; it must be a whole number.") from None
    if value < minimum:
        raise SystemExit(f"{name} is {value}; it must be at least {minimum}.")
    return value


def _switch(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name} is {raw!r}; it must be true or false.")


wsgi_app = "hubsite.wsgi:application"
# Every interface on $PORT, as a Procfile platform's router or a load balancer on another host
# must reach it; GUNICORN_BIND=127.0.0.1:8000 when the proxy runs on this machine.
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT') or 8000}")

# Each worker listens on a socket of its own on the same port (SO_REUSEPORT), and the kernel
# deals new connections out among them. On one shared socket the worker that woke first took
# them: in `python -m bench --server`, every keep-alive connection of a run went to one worker
# while the other sat idle (8 connections to /healthz: 2,146 requests a second, against 7,384
# with the connections spread). What it costs: connections still queued on a worker's socket
# when that worker stops are refused, and a second server started on the same port would share
# it silently, which `on_starting` below refuses. Off for a unix socket, which it cannot share.
reuse_port = _switch("GUNICORN_REUSE_PORT", True) and not bind.startswith(("unix:", "fd://"))

worker_class = "gthread"
# WEB_CONCURRENCY is the name platforms set; two processes survive one crashing.
workers = _whole("WEB_CONCURRENCY", 2)
threads = _whole("GUNICORN_THREADS", 8)
# A worker silent this long is restarted; requests end long before (Atomic's deadline is 4 s).
timeout = _whole("GUNICORN_TIMEOUT", 30)
graceful_timeout = _whole("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than gunicorn's 2 s so a proxy's pooled connections are not dropped between requests.
keepalive = _whole("GUNICORN_KEEPALIVE", 5)


def _proxy_ranges(raw: str) -> str:
    """PAYLINK_TRUSTED_PROXIES (comma-separated addresses or CIDR ranges) as gunicorn takes them."""
    ranges = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            ranges.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SystemExit(
                f"PAYLINK_TRUSTED_PROXIES holds {item!r}; it must list addresses or CIDR ranges."
            ) from None
    return ",".join(ranges)


# Addresses whose X-Forwarded-* headers are believed (the proxy's); others' are ignored. The
# host's own setting names the proxies once (paylink/lib/client_address.py reads the same), so
# gunicorn believes exactly the peers the sign-in throttle does; FORWARDED_ALLOW_IPS overrides.
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS", "").strip()
    or _proxy_ranges(os.environ.get("PAYLINK_TRUSTED_PROXIES", ""))
    or "127.0.0.1,::1"
)

# The host writes one structured line per request itself (route, status, duration, request
# id; never the raw path, which may hold a token), so gunicorn's own access line is off unless
# GUNICORN_ACCESSLOG=- asks for it. Errors on stderr: the platform collects both.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def on_starting(server: Any) -> None:
    """Metric files of the last run's processes are dropped before the workers start counting
    (paylink/observability/metrics_files.py); with reuse_port, a start on an address another
    server listens on is refused."""
    from paylink.observability.metrics_files import dead_process_files_remove

    # The settings' order: PROMETHEUS_MULTIPROC_DIR, PAYLINK_METRICS_DIR, var/metrics.
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "var", "metrics")
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get(
        "PAYLINK_METRICS_DIR", default
    )
    dead_process_files_remove(directory)
    cfg = getattr(server, "cfg", None)
    if cfg is not None and cfg.reuse_port:
        for address in cfg.bind:
            address_free_or_exit(address)


def when_ready(server: Any) -> None:
    # gunicorn's own "Listening at" names the sockets the master holds: none, with reuse_port.
    if server.cfg.reuse_port:
        server.log.info("Each worker listens on %s (reuse_port)", ", ".join(server.cfg.bind))


def address_free_or_exit(address: str) -> None:
    """Stops the start with a sentence if something listens on `address` already: with
    reuse_port the workers' sockets would bind beside it and share its connections."""
    from gunicorn.util import parse_address

    parsed = parse_address(address)
    if not isinstance(parsed, tuple):
        return  # a unix socket's path or a file descriptor: nothing of reuse_port's to share
    host, port = parsed
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn binds (SO_REUSEADDR), less SO_REUSEPORT: only a listener refuses it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise SystemExit(f"{address} is in use: another server is listening there.") from None
