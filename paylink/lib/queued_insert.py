"""A row and the job that processes it, written by one statement (PostgreSQL, database queue).

`row_insert_queued` stands for `obj.save()` then `task.enqueue(obj.pk)` in one transaction:
on PostgreSQL with django-tasks-db's DatabaseBackend it is a single INSERT of both rows (the
job's in a data-modifying WITH reading the new id), so it costs one round trip, with the
server's own transaction around it, where BEGIN, two INSERTs built by the ORM and COMMIT cost
four round trips and most of a webhook request's time. Elsewhere (SQLite, another backend) it
is the two steps in a transaction, the enqueue as the backend does it.

The job row is the one `DatabaseBackend.enqueue` writes, its one argument the new row's id,
plus the enqueuer's log fields under `log` (paylink/observability/log_context.py reads them
there instead of the cache). `task_enqueued` is not sent for it: its receivers log the job and
keep the log fields, which the row now carries.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model
from django.tasks import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from paylink.observability.log_context import JOB_ROW_FIELDS, job_row_fields

# The statement's text per (model, connection alias): only its parameters change.
_statements: dict[tuple[type[Model], str], str] = {}


def row_insert_queued(obj: Model, task: Task[Any, Any]) -> None:
    """Insert `obj` (new, its id the database's) and enqueue `task` with its id, together or
    not at all; `obj.pk` is set. An IntegrityError of the INSERT leaves neither."""
    backend = task.get_backend()
    alias = router.db_for_write(type(obj))
    connection = connections[alias]
    if not isinstance(backend, DatabaseBackend):
        # A backend that runs the job as it is enqueued (tests' immediate one) runs it after
        # the commit, as a worker would find it.
        with transaction.atomic(using=alias):
            obj.save(force_insert=True, using=alias)
            transaction.on_commit(lambda: task.enqueue(obj.pk), using=alias)
        return
    if connection.vendor != "postgresql":
        with transaction.atomic(using=alias):
            obj.save(force_insert=True, using=alias)
            task.enqueue(obj.pk)
        return
    backend.validate_task(task)
    job: DBTaskResult[Any, Any] = DBTaskResult(
        args_kwargs={},
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after or get_date_max(),
        backend_name=backend.alias,
    )
    row_columns, row_params = _insert_parts(obj, connection)
    job_columns, job_params = _insert_parts(job, connection, leave_out="args_kwargs")
    pk = obj._meta.pk
    assert pk is not None
    key = (type(obj), alias)
    if key not in _statements:
        quote = connection.ops.quote_name
        table, jobs, id_column = (
            quote(obj._meta.db_table),
            quote(DBTaskResult._meta.db_table),
            quote(str(pk.column)),
        )
        arguments = quote(str(DBTaskResult._meta.get_field("args_kwargs").column))
        values, job_values = (
            ", ".join(["%s"] * len(columns)) for columns in (row_columns, job_columns)
        )
        # Names from the models' metadata, quoted; every value is a parameter.
        _statements[key] = (
            f"WITH new_row AS (INSERT INTO {table} ({', '.join(row_columns)})"  # noqa: S608
            f" VALUES ({values}) RETURNING {id_column})"
            f" INSERT INTO {jobs} ({', '.join(job_columns)}, {arguments}) SELECT {job_values},"
            f" jsonb_build_object('args', jsonb_build_array(new_row.{id_column}),"
            f" 'kwargs', '{{}}'::jsonb, '{JOB_ROW_FIELDS}', %s::jsonb)"
            f" FROM new_row RETURNING {arguments} -> 'args' ->> 0"
        )
    params = [*row_params, *job_params, json.dumps(job_row_fields())]
    with savepoint_if_nested(alias), connection.cursor() as cursor:
        cursor.execute(_statements[key], params)
        (created,) = cursor.fetchone()
    obj.pk = pk.to_python(created)
    obj._state.adding = False
    obj._state.db = alias


def _insert_parts(
    obj: Model, connection: Any, *, leave_out: str = ""
) -> tuple[list[str], list[Any]]:
    """The columns and parameters Django's INSERT of `obj` would have (each field's `pre_save`,
    so automatic times are set, and its preparation for the database), but for an id the
    database assigns."""
    columns, params = [], []
    for field in obj._meta.local_concrete_fields:
        if field.name == leave_out or (field.primary_key and field.db_returning):
            continue
        columns.append(connection.ops.quote_name(field.column))
        params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    return columns, params


def savepoint_if_nested(using: str | None = None) -> AbstractContextManager[Any]:
    """A savepoint inside a transaction already open, so a statement that fails (a unique
    claim refused) leaves the caller's transaction usable; nothing outside one, where a
    statement is its own transaction and BEGIN and COMMIT would only add round trips."""
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()
