"""Each part of `make bench-scale` can fail: run on the suite's database with tiny sizes, in
process (Django's test client for the browsers, the suite's task backends for the workers),
against a deliberately broken setting, it reports the figure MISSED.

The parts are the bench's own functions; only the stack around them is the suite's.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.test import Client

from bench import scale
from bench.scale import AtomicStandIn, Report
from paylink.models import WebhookEvent
from tests.workers import database_worker_run

pytestmark = pytest.mark.django_db(transaction=True)

QUEUES = ["default", "webhooks", "atomic"]


@pytest.fixture
def atomic(settings) -> Iterator[AtomicStandIn]:
    """The bench's loopback Atomic, answering at once; the host pointed at it."""
    stand_in = AtomicStandIn(0.0)
    settings.ATOMIC_API_URL = stand_in.url
    settings.ATOMIC_API_SECRET = scale.SECRET
    # The parts' task ids repeat: no window claimed by an earlier test may carry over.
    cache.clear()
    yield stand_in
    stand_in.stop()
    cache.clear()


def figure(report: Report, label: str) -> scale.Figure:
    [found] = [f for f in report.figures if f.label == label]
    return found


class InProcessBrowser:
    """bench.scale.Browser's calls, made through Django's test client with CSRF checks on."""

    def __init__(self, session_cookie: str) -> None:
        self.client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        self.client.cookies["sessionid"] = session_cookie
        self.csrf = ""

    def page(self, url: str) -> tuple[int, str]:
        answer = self.client.get(url)
        self.csrf = scale.csrf_from_page(answer.content.decode())
        return answer.status_code, answer.content[:200].decode(errors="replace")

    def get(self, url: str, headers: dict[str, str]) -> int:
        try:
            return self.client.get(url, headers=headers).status_code
        finally:
            close_old_connections()

    def post(self, url: str, headers: dict[str, str]) -> int:
        try:
            return self.client.post(url, headers={"X-CSRFToken": self.csrf, **headers}).status_code
        finally:
            close_old_connections()

    def copy(self) -> InProcessBrowser:
        twin = InProcessBrowser(self.client.cookies["sessionid"].value)
        twin.client.cookies.update(self.client.cookies)
        twin.csrf = self.csrf
        return twin


# --- (a) reconcile ------------------------------------------------------------------------


def run_reconcile(atomic: AtomicStandIn, *, budget: int = 1000) -> Report:
    report = Report(quiet=True)
    scale.bench_reconcile(atomic, report, sizes=(10, 30), unsettled=2, budget=budget)
    return report


def test_reconcile_asks_only_about_the_unsettled(atomic):
    report = run_reconcile(atomic)

    assert figure(report, "30 people: Atomic calls").met is True


def test_reconcile_that_asks_about_everyone_who_ever_opened_transact_is_missed(atomic, settings):
    # Broken: a settling period so long that nobody who ever opened Transact is settled.
    settings.PAYLINK_RECONCILE_SETTLE_SECONDS = 10**8

    report = run_reconcile(atomic)

    calls = figure(report, "30 people: Atomic calls")
    assert calls.met is False
    assert calls.value == "32"


def test_reconcile_without_its_budget_is_missed(atomic):
    # Broken: the per-second budget never waits.
    with mock.patch("paylink.services.reconcile.atomic_budget_wait"):
        report = run_reconcile(atomic, budget=1)

    assert figure(report, "10 people: Atomic calls in the busiest second").met is False


# --- (b) the webhook drain ----------------------------------------------------------------


def post_in_process(first: int, count: int) -> Counter[int]:
    client = Client()
    statuses: Counter[int] = Counter()
    for n in range(first, first + count):
        body, headers = scale.webhook_signed(n, f"hub_p{n % 1000}")
        answer = client.post(
            "/webhooks/atomic/", data=body, content_type="application/json", headers=headers
        )
        statuses[answer.status_code] += 1
    return statuses


@contextmanager
def database_workers(queue: str, count: int) -> Iterator[None]:
    """`count` of django-tasks-db's workers in threads of this process, on `queue`."""
    from django_tasks_db.management.commands.db_worker import Worker

    workers = [
        Worker(
            queue_names=[queue],
            interval=0.05,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"bench-test-{n}",
            excluded_queue_names=[],
        )
        for n in range(count)
    ]

    def run(worker: Worker) -> None:
        try:
            worker.run()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.running = False
        for thread in threads:
            thread.join(timeout=10)


def database_queue(settings: Any) -> None:
    """Jobs go to the database queue, with the host's queues, as the workers here read them."""
    settings.TASKS = {
        "default": {"BACKEND": django_settings.DATABASE_TASKS_BACKEND, "QUEUES": QUEUES}
    }


def test_a_drain_whose_workers_serve_another_queue_is_missed(atomic, settings):
    database_queue(settings)
    report = Report(quiet=True)

    # Broken: the workers serve the default queue, not the webhooks queue.
    scale.bench_webhooks(
        post_in_process,
        database_workers,
        report,
        count=3,
        worker_counts=(1, 2),
        queue="default",
        first_wait=1.0,
        drain_wait=1.0,
    )

    assert report.missed
    assert figure(report, "1 worker(s): the first webhook processed").met is False
    assert WebhookEvent.objects.filter(state="received").count() == 1


def test_a_burst_taken_in_with_no_worker_is_drained_by_the_workers_started_on_it(
    atomic: AtomicStandIn, settings: Any
) -> None:
    database_queue(settings)
    report = Report(quiet=True)

    scale._drain_alone(
        post_in_process, database_workers, report, count=3, worker_counts=(1, 2), queue="webhooks"
    )

    assert figure(report, "no worker: answers to the burst (round 1)").met is True
    for workers in (1, 2):
        assert figure(report, f"{workers} worker(s) alone: drained").met is True
        assert float(figure(report, f"{workers} worker(s) alone: drain rate (events/s)").value) > 0
    assert WebhookEvent.objects.filter(state="processed").count() == 6


def test_a_drain_alone_whose_workers_serve_another_queue_is_missed(
    atomic: AtomicStandIn, settings: Any
) -> None:
    database_queue(settings)
    report = Report(quiet=True)

    # Broken: the workers serve the default queue, not the webhooks queue.
    scale._drain_alone(
        post_in_process,
        database_workers,
        report,
        count=3,
        worker_counts=(1,),
        queue="default",
        drain_wait=1.0,
    )

    assert figure(report, "1 worker(s) alone: drained").met is False
    assert figure(report, "1 worker(s) alone: drain rate (events/s)").value == "0"


def test_drain_growth_is_judged_only_where_one_worker_fell_behind_the_ingest() -> None:
    kept_pace = Report(quiet=True)
    scale.drain_growth_row(kept_pace, rates={1: 600, 2: 570}, ingest_rates={1: 620, 2: 600})
    # One worker drained as fast as the burst came in: a second could not show growth here.
    row = figure(kept_pace, "drain rate ratio, 2 / 1 workers (1 kept pace)")
    assert (row.value, row.met) == ("0.95", None)
    assert not kept_pace.missed

    behind = Report(quiet=True)
    scale.drain_growth_row(behind, rates={1: 300, 2: 280}, ingest_rates={1: 620, 2: 600})
    assert figure(behind, "drain rate ratio, 2 / 1 workers").met is False
    assert behind.missed


# --- (c) pollers ----------------------------------------------------------------------------


def run_pollers(atomic: AtomicStandIn) -> Report:
    scale._people(0, 3)
    report = Report(quiet=True)
    # The suite runs tasks inline: the status check a poll asks for runs then, as the atomic
    # queue's worker would run it.
    scale.bench_pollers(
        InProcessBrowser, nullcontext, atomic, report, pollers=3, every=0.1, seconds=1.0
    )
    return report


def test_pollers_on_one_task_ask_atomic_once_a_window(atomic):
    report = run_pollers(atomic)

    assert figure(report, "Atomic status calls per task per window").met is True
    assert figure(report, "Atomic status calls").met is True


def test_pollers_without_coalescing_are_missed(atomic, settings):
    # Broken: no window, so every poll asks Atomic.
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 0

    report = run_pollers(atomic)

    assert figure(report, "Atomic status calls per task per window").met is False


def test_pollers_whose_checks_no_worker_runs_are_missed(atomic, settings):
    # Broken: the checks are enqueued and nothing runs them (the part's old blind spot).
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": QUEUES}
    }

    report = run_pollers(atomic)

    assert figure(report, "Atomic status calls").met is False


# --- (d) Refresh ----------------------------------------------------------------------------


@contextmanager
def atomic_queue_worker() -> Iterator[None]:
    """The atomic queue's worker, started after the presses as the bench starts it: runs what
    they enqueued, then stops."""
    database_worker_run(queue_name="atomic")
    yield


def run_refresh(atomic: AtomicStandIn, settings) -> Report:
    database_queue(settings)
    scale._people(0, 3)
    report = Report(quiet=True)
    scale.bench_refresh(InProcessBrowser, atomic_queue_worker, atomic, report, presses=8, wait=0.5)
    return report


def test_refresh_pressed_at_once_makes_one_accounts_call(atomic, settings):
    report = run_refresh(atomic, settings)

    assert figure(report, "the dashboard before the presses").met is True
    assert figure(report, "answers (302 taken, 429 over the per-person limit)").met is True
    assert figure(report, "Atomic accounts calls").met is True


def test_refresh_without_coalescing_is_missed(atomic, settings):
    # Broken: a queued sync's claim lapses at once, so every press enqueues one of its own.
    # Lapsed a minute ahead, not at 0: at 0 a press whose clock read came before another's claim
    # was written still saw that claim as fresh, and on a loaded machine all but one did.
    settings.PAYLINK_SYNC_QUEUED_LAPSE_SECONDS = -60

    report = run_refresh(atomic, settings)

    calls = figure(report, "Atomic accounts calls")
    assert calls.met is False
    assert int(calls.value) > 1


def test_refresh_with_a_page_that_fails_is_missed(atomic, settings, tmp_path):
    # Broken: production's static files storage without collectstatic's manifest, which made
    # the page answer 500 and every press 403 (no CSRF cookie) when the bench skipped it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = tmp_path

    report = run_refresh(atomic, settings)

    assert figure(report, "the dashboard before the presses").met is False
    assert figure(report, "answers (302 taken, 429 over the per-person limit)").value == "{403: 8}"
    assert figure(report, "answers (302 taken, 429 over the per-person limit)").met is False


# --- (e) searches by index ------------------------------------------------------------------


@contextmanager
def small_tables_searched_as_large_ones() -> Iterator[None]:
    """PostgreSQL reads a table of a few dozen rows whole, index or not; at the bench's sizes
    it would not. Within this block, sequential scans are priced out as they are there."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        yield


def test_a_search_without_its_index_is_missed():
    from paylink.models import WebhookEvent

    index = next(i for i in WebhookEvent._meta.indexes if i.name == "webhookevent_identifier")
    with connection.schema_editor() as editor:
        editor.remove_index(WebhookEvent, index)
    try:
        report = Report(quiet=True)
        with small_tables_searched_as_large_ones():
            scale.bench_indexes(report, profiles=30, open_profiles=2, events=40)
    finally:
        with connection.schema_editor() as editor:
            editor.add_index(WebhookEvent, index)

    assert figure(report, "people selected").met is True
    assert figure(report, "data download's events: uses webhookevent_identifier").met is False
    assert figure(report, "account deletion's events: uses webhookevent_identifier").met is False


def test_searches_by_identifier_use_their_index():
    report = Report(quiet=True)

    with small_tables_searched_as_large_ones():
        scale.bench_indexes(report, profiles=30, open_profiles=2, events=40)

    assert figure(report, "data download's events: uses webhookevent_identifier").met is True
    assert figure(report, "account deletion's events: uses webhookevent_identifier").met is True


def test_the_benchs_browser_keeps_one_session_cookie_when_the_host_sets_it_again():
    # The bench's HTTP browser against a loopback host that saves the session anew on its page,
    # as the dashboard may: the cookie it set replaces the one planted, in every copy too.
    class Host(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Set-Cookie", "sessionid=renewed; Path=/; HttpOnly")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            received.append(self.headers.get("Cookie", ""))
            self.send_response(302)
            self.send_header("Content-Length", "0")
            self.end_headers()

    received: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser = scale.Browser(f"http://127.0.0.1:{server.server_address[1]}", "planted")
        assert browser.page("/")[0] == 200
        assert browser.copy().post("/refresh/", {}) == 302
    finally:
        server.shutdown()
        server.server_close()
    assert received == ["sessionid=renewed"]


def test_the_burst_sender_sends_each_request_once_and_reads_every_kind_of_answer():
    # A loopback host answering by turns with a length, in chunks, and closing the connection:
    # every request arrives once, and every answer's status is counted.
    class Host(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                received.append(body)
                turn = len(received) % 3
            if turn == 0:
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            else:
                self.send_response(201 if turn == 1 else 409)
                if turn == 2:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

    lock = threading.Lock()
    received: list[bytes] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    requests = [
        f"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(str(n))}\r\n\r\n{n}".encode()
        for n in range(30)
    ]
    try:
        statuses = scale.raw_http_send("127.0.0.1", port, requests, connections=4)
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(received) == sorted(str(n).encode() for n in range(30))
    assert statuses == Counter({201: 10, 409: 10, 200: 10})
