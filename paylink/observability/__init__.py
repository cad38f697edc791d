"""What the host tells the people running it: metrics a Prometheus scrapes, one structured log line
per request with an id that follows its jobs, and scrubbed error reports.

- `scrub`: the one rule for what never leaves the process (secrets, tokens, account numbers).
- `log_context`, `logs`: the request id and ce-id on every line, JSON in production.
- `metrics`: the counters and histograms, shared by every process through prometheus-client's
  multiprocess files; `exposition`: the bearer-token `/metrics` endpoint and the figures read
  from the database at scrape time.
- `tallies`: hourly counts in the database for the operations page's last 24 hours.
- `errors`: Sentry, when SENTRY_DSN is set.
"""
