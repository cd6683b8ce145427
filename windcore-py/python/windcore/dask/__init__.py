"""windcore on a Dask distributed cluster: one backfill spread over many machines.

>>> from distributed import Client
>>> import windcore.dask
>>> client = Client("tcp://scheduler:8786")
>>> summary = windcore.dask.run(
...     client, start="2021-01-01", end="2023-12-31",
...     source="postgres://...", target="postgres://...",
...     table="scada", time_column="ts", asset_column="turbine_id",
...     asset_batch_size=50,
... )
>>> summary.rows_out, summary.by_worker

Install with ``pip install 'windcore[dask]'``. See ``docs/scale-out.md``.

How it works
------------
Every (day, asset batch) of a run is independent and idempotent, and
:func:`windcore.run` does its own extract and load. So the cluster ships
small keys, not data: the range is split into tasks ``(day, batch)``, each
one ``windcore.run(date=day, assets=batch, jobs=1, ...)`` on a worker, and
the tasks are mapped over the cluster with ``retries``. A task that fails, or
runs on a worker that dies, is run again (possibly elsewhere): a (day, batch)
is replaced as a whole in one transaction, so a repeat changes nothing.

Database connections
--------------------
A task holds at most 2 connections to the source and 2 to the target
(measured: 2 and 1), for its duration only. PostgreSQL's ``max_connections``
is a limit of the whole database, so the tasks touching the databases are
bounded across the whole cluster: by default with a
``distributed.Semaphore(max_leases=db_tasks, name="windcore-db-<db_tasks>")``
that each task holds while it runs (``db_tasks=``, default
:data:`DEFAULT_DB_TASKS`). At most ``db_tasks`` tasks run at once, whatever
the number of workers and threads, so the cluster opens at most
``2 x db_tasks`` connections per database. This works on any cluster, e.g. a
plain ``Client(LocalCluster())``: no worker needs to be started in a special
way. Runs with the same ``db_tasks`` share one semaphore (by its name), so
concurrent runs stay within the bound together; pass your own
``distributed.Semaphore`` as ``db_tasks=`` to choose its name, or
``db_tasks=None`` for no bound. A worker whose process dies loses its lease
after the scheduler's lease timeout (``distributed.scheduler.locks.lease-timeout``).

Optionally, ``resource=`` also names a worker resource that each task needs
one unit of (``dask worker --resources "windcore_db=K"``): a limit *per
worker* (at most ``K`` tasks at once on it), on top of the semaphore's. If no
worker offers it, :func:`run` fails at once rather than queueing tasks no
worker can run.

Retries
-------
A task whose error is transient (:func:`windcore.is_transient`: a store that
could not be reached, a failed statement, a cut stream -- ``DatabaseError``,
``ProtocolError``, ``StoreError``) is run again, up to ``retries`` times. An
error that a repeat cannot fix (``ConfigError``, ``ColumnError``,
``DataError``, ``SchemaError``) stops the task at once.

Differences to :func:`windcore.run`
-----------------------------------
* Days are independent: a failed (day, batch) does not stop the other
  tasks; ``days_to_rerun`` are the days with a failed batch (nothing is
  "skipped"). :func:`run` raises a :class:`windcore.PipelineError` naming them
  once every task has finished; ``err.summary`` has what was loaded.
* ``jobs`` is accepted and ignored: a task is one day (``jobs=1``); the
  cluster's size and ``db_tasks`` are the parallelism.
* The days must be given (``date``, ``start`` + ``end`` or ``days``).
* With asset batches, a batch's assets without samples on a day have their
  statistics of the day removed (as ``windcore.run(assets=...)`` does), and a
  day is reported ``no_source_rows`` when none of its batches read a row.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from windcore.dask.plan import (
    DEFAULT_DB_TASKS,
    DEFAULT_RETRIES,
    RESOURCE,
    RUN_OPTIONS,
    _batches,
    _check_resource,
    _Day,
    _days,
    _location,
    _mask,  # noqa: F401 (windcore.dask._mask: the masking the tasks use)
    _semaphore,
)
from windcore.dask.summary import (
    DaskDayReport,
    Failure,
    DaskRunSummary,
    TaskRecord,
    _merge,
    _raise,
    _record,
)
from windcore.dask.tasks import Batch, TaskError, _describe, _task
from windcore.exceptions import ConfigError

__all__ = [
    "run",
    "RESOURCE",
    "DEFAULT_DB_TASKS",
    "DaskRunSummary",
    "DaskDayReport",
    "TaskRecord",
    "TaskError",
]


def run(
    client: Any,
    date: Optional[_Day] = None,
    start: Optional[_Day] = None,
    end: Optional[_Day] = None,
    *,
    source: Any,
    target: Any = None,
    days: Optional[Iterable[_Day]] = None,
    assets: Optional[Iterable[str]] = None,
    asset_batch_size: Optional[int] = None,
    retries: int = DEFAULT_RETRIES,
    db_tasks: Any = DEFAULT_DB_TASKS,
    resource: Optional[str] = None,
    wait_for_workers: float = 60.0,
    timeout: Optional[float] = None,
    on_task: Optional[Callable[[TaskRecord], None]] = None,
    jobs: Optional[int] = None,
    **options: Any,
) -> DaskRunSummary:
    """Runs the windcore ETL over days on a Dask cluster; returns the merged summary.

    ``client``: a ``distributed.Client`` (or a scheduler address, for which a
    client is opened and closed). The days: ``date``, the inclusive range
    ``start``..``end``, or ``days`` (any days, e.g. ``err.days_to_rerun``).
    ``source``, ``target`` and ``**options`` are those of :func:`windcore.run`
    (``variables``, ``stats``, ``every``, ``table``, ``time_column``,
    ``asset_column``, ``angles``, ``min_count``, ``timezone``, ``label``,
    ``changed_only``, ``source_timezone``, ``counters``, ``states``,
    ``state_hold``, ``availability``); they must be reachable from every
    worker (a PostgreSQL URL, or a directory on a shared file system; an
    ``availability`` mapping given as a path, a file every worker can read).

    Tasks: one per day (``asset_batch_size=None``, the default; every asset of
    the day, or those of ``assets``), or one per (day, batch of
    ``asset_batch_size`` assets) of ``assets`` -- by default the assets the
    source has over the range (:func:`windcore.source_assets`; a PostgreSQL
    source needs ``table`` / ``asset_column``).

    ``retries``: times a task whose error is transient
    (:func:`windcore.is_transient`) is run again (a task whose worker dies is
    rescheduled by Dask as well); other errors stop the task at once.
    ``db_tasks``: the most tasks touching the databases at once, across the
    whole cluster (default :data:`DEFAULT_DB_TASKS`; a task holds at most 2
    connections per database): an int (a ``distributed.Semaphore`` named
    ``windcore-db-<n>``, shared by the runs with the same bound), your own
    ``distributed.Semaphore``, or ``None`` (no bound). It works on any
    cluster. ``resource``: optionally, a worker resource each task needs one
    unit of as well (``dask worker --resources "windcore_db=K"``: at most ``K``
    tasks at once per worker); ``None`` (the default): none.
    ``wait_for_workers``: seconds to
    wait for a first worker when the cluster has none. ``timeout``: seconds
    for the whole run (then the remaining tasks are cancelled and
    ``TimeoutError`` is raised). ``on_task``: called on the client with each
    :class:`TaskRecord` as it arrives (progress, logging).

    Raises :class:`windcore.PipelineError` (``.days_to_rerun``,
    ``.failed_days``, ``.failed_tasks``, ``.summary``) once every task has
    finished if any failed after its retries; :class:`windcore.ConfigError`
    for bad arguments, a cluster without the resource, or when every failure
    was a configuration error.
    """
    unknown = sorted(set(options) - set(RUN_OPTIONS))
    if unknown:
        raise TypeError(
            f"windcore.dask.run() got unexpected keyword argument(s): {', '.join(unknown)}"
        )
    del jobs  # one day per task: jobs=1 on the workers
    if source is None:
        raise ConfigError("source= is required")
    if not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be a non-negative integer, got {retries!r}")
    options = {k: v for k, v in options.items() if v is not None}
    for name in ("variables", "stats", "angles", "counters", "states"):
        if name in options and not isinstance(options[name], str):
            options[name] = list(options[name])
    day_list = _days(date, start, end, days)
    run_options = dict(options, source=_location(source))
    if target is not None:
        run_options["target"] = _location(target)
    batches = _batches(
        day_list, run_options["source"], run_options.get("target"), assets, asset_batch_size,
        options,
    )

    own_client = None
    if isinstance(client, str):
        from distributed import Client

        client = own_client = Client(client)
    try:
        _check_resource(client, resource, wait_for_workers)
        return _run(
            client, day_list, batches, run_options, retries, _semaphore(client, db_tasks),
            resource, timeout, on_task,
        )
    finally:
        if own_client is not None:
            own_client.close()


def _run(
    client: Any,
    day_list: List[dt.date],
    batches: List[Batch],
    options: Dict[str, Any],
    retries: int,
    limit: Any,
    resource: Optional[str],
    timeout: Optional[float],
    on_task: Optional[Callable[[TaskRecord], None]],
) -> DaskRunSummary:
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    specs: Dict[str, Tuple[dt.date, Batch]] = {}
    for day in day_list:
        for i, batch in enumerate(batches):
            specs[f"windcore-{day.isoformat()}-{i}-{token}"] = (day, batch)
    keys = list(specs)
    t0 = time.perf_counter()
    futures = client.map(
        _task,
        [specs[k][0].isoformat() for k in keys],
        [specs[k][1] for k in keys],
        [options] * len(keys),
        [limit] * len(keys),
        key=keys,
        retries=retries,
        resources={resource: 1} if resource else None,
        pure=False,
    )
    pending = as_completed(futures, timeout=timeout)
    by_key = {f.key: f for f in futures}
    del futures
    records: Dict[str, Dict[str, Any]] = {}
    failures: Dict[str, Failure] = {}
    try:
        for future in pending:
            key = future.key
            day, batch = specs[key]
            if future.status == "error" or future.cancelled():
                exc = future.exception() if future.status == "error" else None
                why = str(exc) if exc is not None else "cancelled"
                if exc is not None and not isinstance(exc, TaskError):
                    # Not windcore's own error: e.g. KilledWorker, the task's workers kept dying.
                    why = f"{_describe(day.isoformat(), batch)}: {type(exc).__name__}: {exc}"
                elif exc is None:
                    why = f"{_describe(day.isoformat(), batch)}: cancelled"
                failures[key] = (why, exc, None)
            else:
                out = future.result()
                if "error" in out:
                    failures[key] = (out["error"], None, out.get("error_class"))
                else:
                    records[key] = out
                    if on_task is not None:
                        on_task(_record(day, batch, out))
            # Let the cluster forget the result: a worker lost later does not
            # make the scheduler compute it again.
            future.release()
            by_key.pop(key, None)
    except BaseException:
        client.cancel(list(by_key.values()))
        raise
    elapsed = time.perf_counter() - t0
    summary, rerun_text = _merge(day_list, specs, records, failures, options, elapsed)
    if failures:
        _raise(summary, rerun_text, specs, failures, len(keys), retries)
    return summary

