"""`python -m bench --server` can fail: its throughput table, driven in process against
endpoints of known cost, judges each ratio against issue 26's targets and reports MISSED."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from bench.run import Endpoint
from bench.server import HEALTHZ, gunicorn_label, measure_concurrency, report_concurrency


def costing(seconds: float):
    def request() -> int:
        time.sleep(seconds)
        return 200

    return request


def test_a_page_costing_more_than_its_target_is_missed(capsys):
    # Broken: the warm dashboard costs four times the trivial view (target 1.5x).
    measured = [
        Endpoint(HEALTHZ, costing(0.003)),
        Endpoint("trivial view", costing(0.004)),
        Endpoint("/ warm, 1 accounts", costing(0.016)),
    ]

    result = measure_concurrency(measured, levels=(1, 2), repetitions=2, seconds=0.2)
    missed = report_concurrency(
        result, names=[e.name for e in measured], levels=(1, 2), repetitions=2
    )

    assert missed == 1
    rows = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows["/ warm, 1 accounts"].rstrip().endswith("MISSED")
    assert rows["trivial view"].rstrip().endswith("met")
    assert len(result.rates[("/ warm, 1 accounts", 2)]) == 2


def test_an_endpoint_that_answers_an_error_is_not_measured_and_is_missed(capsys):
    measured = [
        Endpoint(HEALTHZ, costing(0.001)),
        Endpoint("trivial view", costing(0.001)),
        Endpoint("webhook ingest (no processing)", lambda: 403),
    ]

    result = measure_concurrency(measured, levels=(1,), repetitions=1, seconds=0.1)

    assert result.failures == {"webhook ingest (no processing)": "answered 403 at c=1"}
    assert (
        report_concurrency(result, names=[e.name for e in measured], levels=(1,), repetitions=1)
        == 1
    )


def test_the_label_is_what_gunicorn_conf_py_configures(monkeypatch):
    monkeypatch.setenv("GUNICORN_THREADS", "3")

    assert gunicorn_label(2) == "gunicorn.conf.py: gthread, 2 worker(s) x 3 threads, keep-alive 5 s"


def test_throughput_counts_requests_in_flight_together():
    with ThreadPoolExecutor(4) as pool:
        from bench.server import throughput

        alone, _ = throughput(costing(0.02), concurrency=1, seconds=0.3, pool=pool, ok=(200,))
        four, _ = throughput(costing(0.02), concurrency=4, seconds=0.3, pool=pool, ok=(200,))

    assert four > 2.5 * alone
