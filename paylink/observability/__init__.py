"""What the host tells the people running it: metrics a Prometheus scrapes, one structured log line
per request with an id that follows its jobs, and scrubbed error reports.

- `scrub`: the one rule for what never leaves the process (secrets, tokens, account numbers).
- `log_context`, `logs`, `request_log`, `jobs`: the request id and ce-id on every line (JSON in
  production), one line per request, and the context carried into the jobs a request enqueues.
- `metrics`: the counters and histograms, shared by every process through prometheus-client's
  multiprocess files (`metrics_files` prunes those of processes that are gone);
  `exposition`: the bearer-token `/metrics` endpoint and the figures read at scrape time.
- `tallies`: hourly counts in the database for the operations page's last 24 hours
  (paylink/admin_operations.py).
- `errors`: Sentry, when SENTRY_DSN is set.
"""
