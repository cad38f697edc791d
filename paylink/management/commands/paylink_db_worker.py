"""`manage.py paylink_db_worker`: django-tasks-db's `db_worker`, claiming jobs a few at a time,
with a heartbeat.

The same options and behaviour as `db_worker`, with these differences:

- The worker claims up to `--claim` ready jobs (default CLAIM) in one query (`SELECT ... FOR
  UPDATE SKIP LOCKED` in one short transaction, on PostgreSQL), runs them in turn and writes
  their results in one statement, where `db_worker` spends a transaction and three statements
  on each job before running it and one more after. A webhook's job takes a few milliseconds,
  so that bookkeeping was a large part of it. (A job's `finished_at` is thus when the results
  of its claim were written.) Should the jobs prove slow (CLAIM_SECONDS spent) or the worker
  be asked to stop, the ones not yet started go back to the queue as they were. While claims
  come back full and run whole in time, each takes twice the last, up to CLAIM_MOST; after
  one that came back short, the next waits a moment (CLAIM_SETTLE_SECONDS).
- Jobs of a task listed in `paylink.tasks.RUN_TOGETHER` that were claimed side by side are run
  by one call of the function named there (webhook events: many to a transaction), each job
  still started, finished and logged as its own, under its own log fields.
- It records a beat under its worker id before it takes any job and every
  PAYLINK_WORKER_HEARTBEAT_SECONDS after, from a thread of its own, so recovery can tell within
  a minute or two that a worker was killed (paylink/services/maintenance.py) and queue its jobs
  again, without ever re-running a live worker's job.
"""

from __future__ import annotations

import contextvars
import json
import os
import random
import time
from argparse import ArgumentParser
from traceback import format_exception
from typing import Any

from django.core.management.base import CommandError
from django.db import close_old_connections
from django.db.models import QuerySet
from django.db.utils import OperationalError
from django.tasks import TaskContext
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker, logger, valid_max_tasks
from django_tasks_db.models import DBTaskResult, TaskResultStatus
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception, retry

from paylink.observability.log_context import JOB_ROW_FIELDS, job_contexts_fetch
from paylink.observability.log_context import current as log_fields
from paylink.services.worker_heartbeats import HeartbeatThread
from paylink.tasks import RUN_TOGETHER

# Jobs claimed at once: enough that the bookkeeping of each is small, few enough that a worker
# never sits on much of the queue.
CLAIM = 20
# While claims come back full and run whole within CLAIM_SECONDS (a deep queue of quick jobs,
# such as a burst of webhooks), each claim takes twice the last, up to this many: the claim's
# own statements, and those of jobs run together, are then shared by more jobs.
CLAIM_MOST = 100
# After a claim that came back short (the queue nearly empty), the worker waits this long before
# the next (never longer than --interval): keeping up with a stream of webhooks, it then takes
# them a few at a time, each claim's statements shared, rather than one by one.
CLAIM_SETTLE_SECONDS = 0.05
# Past this many seconds into a claim, the jobs not yet started are handed back.
CLAIM_SECONDS = 1.0

_CLAIM_FIELDS = ["status", "started_at", "worker_ids"]
_RESULT_FIELDS = ["status", "return_value", "finished_at", "exception_class_path", "traceback"]


@retry()
def _save(jobs: list[DBTaskResult], fields: list[str]) -> None:
    """Write `fields` of `jobs`: one UPDATE per set of equal values (nearly always one for a
    whole claim), where a per-row CASE (`bulk_update`) costs more to build than it saves.
    Retried as django-tasks-db retries its own writes (a locked SQLite database)."""
    groups: dict[str, tuple[dict[str, Any], list[Any]]] = {}
    for job in jobs:
        values = {name: getattr(job, name) for name in fields}
        key = json.dumps(values, sort_keys=True, default=str)
        groups.setdefault(key, (values, []))[1].append(job.pk)
    for values, pks in groups.values():
        DBTaskResult.objects.filter(pk__in=pks).update(**values)


def _runs_together(job: DBTaskResult) -> bool:
    return job.task_path in RUN_TOGETHER and not job.args_kwargs.get("kwargs")


def _side_by_side(claimed: list[DBTaskResult], first: int) -> list[DBTaskResult]:
    """The job at `first` and, when its task is run together (RUN_TOGETHER), the jobs of that
    task right after it: the order of the claim is kept."""
    if not _runs_together(claimed[first]):
        return [claimed[first]]
    last = first + 1
    while (
        last < len(claimed)
        and claimed[last].task_path == claimed[first].task_path
        and _runs_together(claimed[last])
    ):
        last += 1
    return claimed[first:last]


class ClaimingWorker(Worker):
    """db_worker's loop, claiming up to `claim` jobs at once and writing their results together."""

    def __init__(self, *, claim: int, **options: Any) -> None:
        super().__init__(**options)
        self.claim = claim
        # The size of the next claim: `claim`, or more while the queue is deep and quick.
        self.claiming = claim

    def run(self) -> None:
        logger.info(
            "Starting worker worker_id=%s queues=%s claim=%s",
            self.worker_id,
            ",".join(self.queue_names),
            self.claim,
        )
        if self.startup_delay and self.interval:
            # Workers started together do not all ask at once.
            time.sleep(random.random())  # noqa: S311 - a delay, not a secret
        while self.running:
            close_old_connections()
            # From the claim on, a first SIGTERM only asks the loop to stop, so no claimed job
            # is left behind (db_worker's handler exits at once when no job is running).
            self.running_task = True
            try:
                claimed = self.jobs_claim()
                if claimed:
                    whole = self.jobs_run(claimed)
                    full = len(claimed) >= self.claiming
                    self.claiming = (
                        min(self.claiming * 2, max(self.claim, CLAIM_MOST))
                        if whole and full
                        else self.claim
                    )
            finally:
                self.running_task = False
            if claimed == [] and self.batch:
                logger.info("No more tasks for worker_id=%s - exiting gracefully.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("Ran %d tasks on worker=%s - exiting.", self._run_tasks, self.worker_id)
                return
            close_old_connections()
            if self.running and not claimed:
                time.sleep(self.interval)
            elif self.running and not self.batch and claimed and len(claimed) < self.claim:
                time.sleep(min(self.interval, CLAIM_SETTLE_SECONDS))

    def _ready(self) -> QuerySet[DBTaskResult]:
        jobs = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            jobs = jobs.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            jobs = jobs.exclude(queue_name__in=self.excluded_queue_names)
        return jobs

    def jobs_claim(self) -> list[DBTaskResult] | None:
        """Up to `claim` ready jobs, marked RUNNING under this worker in one short transaction
        (None when the database was locked: SQLite; the next round tries again)."""
        limit = self.claiming
        if self.max_tasks is not None:
            limit = min(limit, self.max_tasks - self._run_tasks)
        jobs = self._ready()
        try:
            with exclusive_transaction(jobs.db):
                claimed = list(jobs.select_for_update(skip_locked=True)[:limit])
                now = timezone.now()
                for job in claimed:
                    job.status = TaskResultStatus.RUNNING
                    job.started_at = now
                    job.worker_ids = [*job.worker_ids, self.worker_id]
                if claimed:
                    _save(claimed, _CLAIM_FIELDS)
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None
            raise
        return claimed

    def jobs_run(self, claimed: list[DBTaskResult]) -> bool:
        """Run the claimed jobs in turn (those of a task in RUN_TOGETHER claimed side by side
        in one call), then write their results in one statement; hand back the ones not
        started when they take too long or the worker is asked to stop. True when every one
        was run."""
        # What each job's enqueuer logged under: carried by its row, or read for all the others
        # in one round trip.
        carried = {
            str(job.id): job.args_kwargs[JOB_ROW_FIELDS]
            for job in claimed
            if isinstance(job.args_kwargs.get(JOB_ROW_FIELDS), dict)
        }
        job_contexts_fetch(job_ids=[job.id for job in claimed], carried=carried)
        deadline = time.monotonic() + CLAIM_SECONDS
        finished: list[DBTaskResult] = []
        number = 0
        try:
            while number < len(claimed):
                if not self.running or (number and time.monotonic() > deadline):
                    _save(self.jobs_unclaimed(claimed[number:]), _CLAIM_FIELDS)
                    return False
                group = _side_by_side(claimed, number)
                finished.extend(group)
                try:
                    if _runs_together(group[0]):
                        self.jobs_run_together(group)
                    else:
                        self.job_run(group[0])
                except BaseException:
                    # Cut short (a second SIGTERM): the rest go back before the worker does.
                    _save(self.jobs_unclaimed(claimed[number + len(group) :]), _CLAIM_FIELDS)
                    raise
                number += len(group)
        finally:
            if finished:
                # One moment for all: when their results were written.
                now = timezone.now()
                for job in finished:
                    job.finished_at = now
                _save(finished, _RESULT_FIELDS)
        return True

    def jobs_run_together(self, jobs: list[DBTaskResult]) -> None:
        """Jobs of one task in RUN_TOGETHER, run by one call of its function; each is started
        and finished (the signals, the framework's log lines) in a context of its own, as
        `job_run` would, and all fail together should the call raise."""
        run = RUN_TOGETHER[jobs[0].task_path]
        started: list[tuple[DBTaskResult, contextvars.Context]] = []
        sender = None
        try:
            calls = []
            for job in jobs:
                task = job.task
                sender = type(task.get_backend())
                result = job.task_result
                context = contextvars.copy_context()
                context.run(task_started.send, sender=sender, task_result=result)
                started.append((job, context))
                calls.append((list(result.args), context.run(log_fields)))
            run(calls)
        except BaseException as error:
            for job in jobs:
                self._failed(job, error)
            for job, context in started:
                # Within the handler, so the framework's line carries the traceback.
                context.run(self._finished, job, sender)
            if not started:
                logger.exception("Tasks %s failed unexpectedly", [str(job.id) for job in jobs])
            if not isinstance(error, Exception):
                raise
            return
        now = timezone.now()
        for job, context in started:
            self._run_tasks += 1
            job.status = TaskResultStatus.SUCCESSFUL
            job.finished_at = now
            job.return_value = None
            job.exception_class_path = job.traceback = ""
            context.run(self._finished, job, sender)

    def jobs_unclaimed(self, jobs: list[DBTaskResult]) -> list[DBTaskResult]:
        """Jobs claimed but never started, put back as they were before the claim."""
        for job in jobs:
            job.status = TaskResultStatus.READY
            job.started_at = None
            job.worker_ids = job.worker_ids[:-1]
        return jobs

    def job_run(self, job: DBTaskResult) -> None:
        """db_worker's `run_task`, the result kept on the row for `jobs_run` to write."""
        sender = None
        try:
            task = job.task
            sender = type(task.get_backend())
            result = job.task_result
            task_started.send(sender=sender, task_result=result)
            if task.takes_context:
                value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = task.call(*result.args, **result.kwargs)
            # Written with the others later: a value JSON cannot hold fails the job now.
            json.dumps(value)
        except BaseException as error:
            self._failed(job, error)
            if sender is None:
                # No task at that path (renamed, removed): nothing to tell the receivers.
                logger.exception("Task id=%s failed unexpectedly", job.id)
            else:
                # Within the handler, so the framework's line carries the traceback.
                self._finished(job, sender)
            if not isinstance(error, Exception):
                # A second SIGTERM (SystemExit) or Ctrl-C: the job is cut short, the worker goes.
                raise
            return
        self._run_tasks += 1
        job.status = TaskResultStatus.SUCCESSFUL
        job.finished_at = timezone.now()
        job.return_value = value
        job.exception_class_path = job.traceback = ""
        self._finished(job, sender)

    def _failed(self, job: DBTaskResult, error: BaseException) -> None:
        self._run_tasks += 1
        job.status = TaskResultStatus.FAILED
        job.finished_at = timezone.now()
        job.return_value = None
        job.exception_class_path = f"{type(error).__module__}.{type(error).__qualname__}"
        job.traceback = "".join(format_exception(error))

    def _finished(self, job: DBTaskResult, sender: type | None) -> None:
        try:
            task_finished.send(sender=sender, task_result=job.task_result)
        except Exception:
            logger.exception("Task id=%s: a task_finished receiver failed", job.id)


class Command(DbWorkerCommand):
    help = "Run a database background worker that claims jobs a few at a time and beats"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--claim",
            type=valid_max_tasks,
            default=CLAIM,
            help="The most ready jobs claimed at once (default: %(default)r)",
        )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        # Read from options: a parameter of its own would not match db_worker's signature.
        claim: int = options.get("claim", CLAIM)
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ClaimingWorker(
            claim=claim,
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        heartbeat = HeartbeatThread(worker_id=worker_id)
        # The first beat before any job is claimed: a claimed job always has a beating worker.
        heartbeat.beat()
        heartbeat.start()
        try:
            if reload and not batch:
                # Only the reloader's child handles signals, as db_worker does.
                if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                    worker.configure_signals()
                run_with_reloader(worker.run)
            else:
                worker.configure_signals()
                worker.run()
        finally:
            heartbeat.stop()
