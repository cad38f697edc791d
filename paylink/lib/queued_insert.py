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
keep the log fields, which the row now carries. `jobs_enqueue` writes many jobs of one task
(the accounts syncs a claim of webhooks asks for) in one INSERT the same way.

Outside a transaction the statement goes out without Django's health check before it
(CONN_HEALTH_CHECKS: a `SELECT 1` before a request's first statement on a kept connection, a
round trip of its own, the webhook's only other one): should it fail on a connection that
proves dead, that connection is closed and the statement sent once more on a new one, which is
what the check would have done. Had the dead connection committed it before dying, the second
is refused by the row's unique constraints, as any repeated delivery is (the webhook's ce-id and
body digest).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Field, Model
from django.tasks import Task
from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from paylink.observability.log_context import JOB_ROW_FIELDS, job_row_fields, log_context


@dataclass(frozen=True)
class _Statement:
    """The INSERT of one model's row and its job, and the fields whose values it takes, in
    order: built once per model and database, only the values change."""

    sql: str
    row_fields: tuple[Field[Any, Any], ...]
    job_fields: tuple[Field[Any, Any], ...]


_statements: dict[tuple[type[Model], str], _Statement] = {}


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
    statement = _statements.get((type(obj), alias)) or _statement(type(obj), connection)
    params = [
        *_values(obj, statement.row_fields, connection),
        *_values(job, statement.job_fields, connection),
        json.dumps(job_row_fields()),
    ]
    with savepoint_if_nested(alias):
        created = _first_value_unchecked(connection, statement.sql, params)
    pk = obj._meta.pk
    assert pk is not None
    obj.pk = pk.to_python(created)
    obj._state.adding = False
    obj._state.db = alias


def jobs_enqueue(
    task: Task[Any, Any], calls: Sequence[tuple[list[Any], Mapping[str, str]]]
) -> None:
    """Enqueue `task` once for each call, with its arguments, as `task.enqueue(*arguments)` run
    under `log_context(**fields)` would. With the database queue every job is written by one
    INSERT, each row carrying its log fields (as `row_insert_queued`'s job does) where an
    enqueue one at a time spent an INSERT, a commit and a cache write on each; `task_enqueued`
    is not sent for them (the module's docstring)."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for arguments, fields in calls:
            with log_context(**fields):
                task.enqueue(*arguments)
        return
    if not calls:
        return
    backend.validate_task(task)
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            id=backend._get_id(),
            args_kwargs=normalize_json(
                {"args": arguments, "kwargs": {}, JOB_ROW_FIELDS: dict(fields)}
            ),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after or get_date_max(),
            backend_name=backend.alias,
        )
        for arguments, fields in calls
    )


def _first_value_unchecked(connection: Any, sql: str, params: list[Any]) -> Any:
    """The first value `sql` returns. Outside a transaction, as the request's first statement on
    a kept connection, Django's health check is skipped and the statement is the check: sent once
    more, on a new connection, when it failed on one that proves dead (the module's docstring)."""
    unchecked = (
        not connection.in_atomic_block
        and connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
    )
    if unchecked:
        connection.health_check_done = True
    try:
        return _first_value(connection, sql, params)
    except DatabaseError:
        # A refusal (a unique claim taken) on a live connection is the caller's to handle.
        if not unchecked or connection.is_usable():
            raise
    connection.close()
    return _first_value(connection, sql, params)


def _first_value(connection: Any, sql: str, params: list[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _inserted_fields(model: type[Model], *, leave_out: str = "") -> tuple[Field[Any, Any], ...]:
    """The fields Django's INSERT of `model` gives values, but for an id the database assigns."""
    return tuple(
        field
        for field in model._meta.local_concrete_fields
        if field.name != leave_out and not (field.primary_key and field.db_returning)
    )


def _statement(model: type[Model], connection: Any) -> _Statement:
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    row_fields = _inserted_fields(model)
    job_fields = _inserted_fields(DBTaskResult, leave_out="args_kwargs")
    table, jobs, id_column = (
        quote(model._meta.db_table),
        quote(DBTaskResult._meta.db_table),
        quote(str(pk.column)),
    )
    arguments = quote(str(DBTaskResult._meta.get_field("args_kwargs").column))
    row_columns, job_columns = (
        ", ".join(quote(str(field.column)) for field in fields)
        for fields in (row_fields, job_fields)
    )
    row_values, job_values = (
        ", ".join(["%s"] * len(fields)) for fields in (row_fields, job_fields)
    )
    statement = _Statement(
        # Names from the models' metadata, quoted; every value is a parameter.
        sql=(
            f"WITH new_row AS (INSERT INTO {table} ({row_columns})"  # noqa: S608
            f" VALUES ({row_values}) RETURNING {id_column})"
            f" INSERT INTO {jobs} ({job_columns}, {arguments}) SELECT {job_values},"
            f" jsonb_build_object('args', jsonb_build_array(new_row.{id_column}),"
            f" 'kwargs', '{{}}'::jsonb, '{JOB_ROW_FIELDS}', %s::jsonb)"
            f" FROM new_row RETURNING {arguments} -> 'args' ->> 0"
        ),
        row_fields=row_fields,
        job_fields=job_fields,
    )
    _statements[(model, connection.alias)] = statement
    return statement


def _values(obj: Model, fields: tuple[Field[Any, Any], ...], connection: Any) -> list[Any]:
    """What Django's INSERT of `obj` would send for `fields`: each field's `pre_save` (so
    automatic times are set), prepared for the database."""
    return [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]


def savepoint_if_nested(using: str | None = None) -> AbstractContextManager[Any]:
    """A savepoint inside a transaction already open, so a statement that fails (a unique
    claim refused) leaves the caller's transaction usable; nothing outside one, where a
    statement is its own transaction and BEGIN and COMMIT would only add round trips."""
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()
