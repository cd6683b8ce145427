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

import contextlib
import dataclasses
import datetime as dt
import os
import re
import socket
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import windcore
from windcore.exceptions import ConfigError, PipelineError, WindcoreError, is_transient

__all__ = [
    "run",
    "RESOURCE",
    "DEFAULT_DB_TASKS",
    "DaskRunSummary",
    "DaskDayReport",
    "TaskRecord",
    "TaskError",
]

#: The conventional name of the optional worker resource (``resource=RESOURCE``;
#: ``dask worker --resources "windcore_db=2"``).
RESOURCE = "windcore_db"
#: The tasks touching the databases at once, across the cluster, by default.
DEFAULT_DB_TASKS = 8
#: Times a failed task is run again (Dask ``retries``).
DEFAULT_RETRIES = 3

#: The options of :func:`windcore.run` a task passes on (besides the source, target, day, assets).
RUN_OPTIONS = (
    "variables",
    "stats",
    "every",
    "table",
    "time_column",
    "asset_column",
    "angles",
    "min_count",
    "timezone",
    "label",
    "changed_only",
    "source_timezone",
)

Batch = Optional[Tuple[str, ...]]
_Day = Union[str, dt.date, dt.datetime]


class TaskError(WindcoreError):
    """A (day, asset batch) task failed on a worker; the message says why.

    Raised inside the task (so that Dask retries it) and set as the
    ``__cause__`` of the :class:`windcore.PipelineError` of :func:`run`.
    A plain message, so that it pickles between the worker and the client.
    """


# ---------------------------------------------------------------------------
# The task (runs on a worker)
# ---------------------------------------------------------------------------


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not in a Dask worker
        return f"local:{os.getpid()}"


def _report_dict(r: Any) -> Dict[str, Any]:
    return {
        name: getattr(r, name)
        for name in (
            "outcome", "error", "rows_in", "windows", "rows_out",
            "extract_seconds", "transform_seconds", "load_seconds",
            "missing", "duplicates", "sparse_windows", "outside",
            "assets", "assets_unchanged", "assets_changed", "assets_new", "assets_removed",
        )
    }


def _describe(day: str, batch: Batch) -> str:
    if batch is None:
        return f"day {day}"
    shown = ", ".join(batch[:5]) + (f", ... ({len(batch)} assets)" if len(batch) > 5 else "")
    return f"day {day} (assets {shown})"


def _task(day: str, batch: Batch, options: Dict[str, Any], limit: Any = None) -> Dict[str, Any]:
    """One (day, asset batch): ``windcore.run`` on this worker, holding a lease of
    ``limit`` (a ``distributed.Semaphore``) if given. Returns a picklable record;
    raises :class:`TaskError` on a transient failure (so that Dask retries it)."""
    queued = time.time()
    record: Dict[str, Any] = {
        "worker": _worker_address(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    failure = None
    with limit if limit is not None else contextlib.nullcontext():
        record["started"] = time.time()
        record["waited"] = record["started"] - queued
        try:
            summary = windcore.run(
                date=day, assets=list(batch) if batch is not None else None, jobs=1, **options
            )
        except WindcoreError as e:
            cause = e.__cause__ if isinstance(e, PipelineError) and e.__cause__ is not None else e
            message = f"{_describe(day, batch)}: {type(cause).__name__}: {cause}"
            if not is_transient(e):
                # A repeat would fail the same way: no retry.
                record.update(finished=time.time(), error=message, error_class=type(cause))
                return record
            failure = message
        finally:
            record["finished"] = time.time()
    if failure is not None:
        # Raised outside the except block: no chained windcore error (its native
        # summary does not pickle) travels back to the client.
        raise TaskError(failure)
    record.update(
        summary=summary.to_dict(),
        reports=[_report_dict(r) for r in summary.reports],
    )
    return record


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TaskRecord:
    """One (day, asset batch) task that ran to its end on a worker."""

    day: dt.date
    #: The batch's assets, or None (every asset of the day).
    assets: Optional[Tuple[str, ...]]
    #: The Dask worker's address, its host and process id.
    worker: str
    host: str
    pid: int
    #: Wall-clock start and end of the work on the worker (``time.time()``), while
    #: it held its lease of the database bound.
    started: float
    finished: float
    #: What windcore itself reported for the day (``RunSummary.elapsed_seconds``).
    work_seconds: float
    outcome: str
    rows_in: int
    rows_out: int
    windows: int
    #: Seconds the task waited for its lease of the database bound (``db_tasks``).
    waited: float = 0.0

    @property
    def seconds(self) -> float:
        """The task's wall time on the worker."""
        return self.finished - self.started


@dataclasses.dataclass(frozen=True)
class DaskDayReport:
    """What happened to one day, over its batches (the attributes of
    :class:`windcore.DayReport`, summed over the batches, plus ``tasks``)."""

    day: dt.date
    #: ``'loaded'``, ``'no_source_rows'``, ``'unchanged'`` or ``'failed'``.
    outcome: str
    error: Optional[str]
    rows_in: int
    windows: int
    rows_out: int
    extract_seconds: float
    transform_seconds: float
    load_seconds: float
    missing: int
    duplicates: int
    sparse_windows: int
    outside: int
    assets: int
    assets_unchanged: int
    assets_changed: int
    assets_new: int
    assets_removed: int
    #: The day's tasks (batches).
    tasks: int


_DAY_SUMS = (
    "rows_in", "windows", "rows_out", "extract_seconds", "transform_seconds", "load_seconds",
    "missing", "duplicates", "sparse_windows", "outside",
    "assets", "assets_unchanged", "assets_changed", "assets_new", "assets_removed",
)


@dataclasses.dataclass
class DaskRunSummary:
    """The report of :func:`run`: :class:`windcore.RunSummary`'s attributes,
    merged over the tasks, plus which worker did what.

    ``elapsed_seconds`` is the wall time of the whole run, on the client.
    """

    days: int
    days_loaded: int
    rows_in: int
    rows_out: int
    windows: int
    elapsed_seconds: float
    source: str
    target: str
    signals: List[str]
    error: Optional[str]
    missing: int
    duplicates: int
    sparse_windows: int
    outside: int
    days_unchanged: int
    pairs_unchanged: int
    pairs_changed: int
    pairs_new: int
    pairs_removed: int
    failed_days: List[dt.date]
    days_to_rerun: List[dt.date]
    empty_days: List[dt.date]
    reports: List[DaskDayReport]
    #: Every task that ran to its end, in (day, batch) order.
    tasks: List[TaskRecord]
    #: Worker address -> the (day 'YYYY-MM-DD', batch) tasks whose result came from it.
    by_worker: Dict[str, List[Tuple[str, Optional[Tuple[str, ...]]]]]
    #: The (day, batch) tasks that failed after their retries, with why.
    failed_tasks: List[Tuple[dt.date, Optional[Tuple[str, ...]], str]]

    @property
    def ok(self) -> bool:
        """True when no task failed."""
        return not self.days_to_rerun

    @property
    def days_with_issues(self) -> List[dt.date]:
        """Days where a rule left something out (missing values, duplicates,
        sparse windows, rows outside the day)."""
        return [
            r.day
            for r in self.reports
            if r.missing + r.duplicates + r.sparse_windows + r.outside > 0
        ]

    @property
    def workers(self) -> List[str]:
        """The workers that did work."""
        return sorted(self.by_worker)

    def to_dict(self) -> Dict[str, Any]:
        """The totals as a JSON-friendly dict (the keys of
        :meth:`windcore.RunSummary.to_dict`, plus ``tasks``, ``by_worker``
        as task counts, ``failed_tasks``)."""
        iso = lambda days: [d.isoformat() for d in days]  # noqa: E731
        return {
            "days": self.days,
            "days_loaded": self.days_loaded,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "windows": self.windows,
            "elapsed_seconds": self.elapsed_seconds,
            "failed_days": iso(self.failed_days),
            "days_to_rerun": iso(self.days_to_rerun),
            "empty_days": iso(self.empty_days),
            "source": self.source,
            "target": self.target,
            "signals": list(self.signals),
            "error": self.error,
            "missing": self.missing,
            "duplicates": self.duplicates,
            "sparse_windows": self.sparse_windows,
            "outside": self.outside,
            "days_unchanged": self.days_unchanged,
            "pairs_unchanged": self.pairs_unchanged,
            "pairs_changed": self.pairs_changed,
            "pairs_new": self.pairs_new,
            "pairs_removed": self.pairs_removed,
            "tasks": len(self.tasks) + len(self.failed_tasks),
            "by_worker": {w: len(t) for w, t in sorted(self.by_worker.items())},
            "failed_tasks": [
                {"day": d.isoformat(), "assets": list(b) if b is not None else None, "error": e}
                for d, b, e in self.failed_tasks
            ],
        }

    def __repr__(self) -> str:
        days = lambda ds: "[" + ", ".join(f"'{d}'" for d in ds) + "]"  # noqa: E731
        return (
            f"DaskRunSummary(days={self.days}, days_loaded={self.days_loaded}, "
            f"rows_in={self.rows_in}, rows_out={self.rows_out}, windows={self.windows}, "
            f"elapsed_seconds={self.elapsed_seconds:.3f}, tasks={len(self.tasks)}, "
            f"workers={len(self.by_worker)}, failed_days={days(self.failed_days)}, "
            f"empty_days={days(self.empty_days)})"
        )


# ---------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------


def _as_day(value: _Day, what: str) -> dt.date:
    """A day as ``windcore.run`` reads it: 'YYYY-MM-DD', a date, or a datetime (aware:
    its UTC day; naive: taken as UTC) -- whatever the reporting ``timezone``."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ConfigError(f"{what}: expected a day as YYYY-MM-DD, got {value!r}")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as e:
            raise ConfigError(f"{what}: {value!r} is not a day (YYYY-MM-DD)") from e
    raise TypeError(
        f"{what}: expected 'YYYY-MM-DD', a date or a datetime, got {type(value).__name__}"
    )


def _days(
    date: Optional[_Day],
    start: Optional[_Day],
    end: Optional[_Day],
    days: Optional[Iterable[_Day]],
) -> List[dt.date]:
    given = [date is not None, start is not None or end is not None, days is not None]
    if sum(given) > 1:
        raise ConfigError("give either date=, start= and end=, or days=")
    if date is not None:
        return [_as_day(date, "date")]
    if start is not None or end is not None:
        if start is None or end is None:
            raise ConfigError("start= and end= go together")
        first, last = _as_day(start, "start"), _as_day(end, "end")
        if last < first:
            raise ConfigError(f"empty date range: end {last} is before start {first}")
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    if days is not None:
        if isinstance(days, (str, dt.date)):
            days = [days]
        out = sorted({_as_day(d, "days") for d in days})
        if not out:
            raise ConfigError("days= is empty")
        return out
    raise ConfigError(
        "a Dask run needs its days: give date=, start= and end=, or days= "
        "(e.g. the days_to_rerun of a failed run)"
    )


def _is_postgres(location: Any) -> bool:
    return isinstance(location, str) and location.strip().startswith(
        ("postgres://", "postgresql://")
    )


def _location(location: Any) -> str:
    """A URL as it is; a directory of the embedded store made absolute (the workers'
    working directories are not the client's)."""
    text = os.fspath(location)
    if not isinstance(text, str):
        raise TypeError(f"expected a URL or a directory, got {type(location).__name__}")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text.strip()):
        return text
    prefix = "parquet:" if text.startswith("parquet:") else ""
    return prefix + os.path.abspath(text[len(prefix) :])


def _mask(location: Any) -> str:
    """A location without its password (windcore's own masking)."""
    text = os.fspath(location) if not isinstance(location, str) else location
    return windcore.mask_password(text)


#: The options of :func:`windcore.run` that say where the source's samples are.
_LAYOUT = ("table", "time_column", "asset_column", "source_timezone", "timezone")


def _batches(
    days: Sequence[dt.date],
    source: Any,
    target: Any,
    assets: Optional[Iterable[str]],
    asset_batch_size: Optional[int],
    options: Dict[str, Any],
) -> List[Batch]:
    names = windcore._names(assets) if assets is not None else None
    if asset_batch_size is None:
        return [tuple(names) if names is not None else None]
    size = asset_batch_size
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ConfigError(f"asset_batch_size must be a positive integer or None, got {size!r}")
    if not _is_postgres(target if target is not None else source):
        raise ConfigError(
            "asset batches need a PostgreSQL target (it serializes the batches of a day); "
            "with an embedded store use asset_batch_size=None (one task per day)"
        )
    if names is None:
        if _is_postgres(source) and not options.get("asset_column"):
            raise ConfigError(
                "asset batches need the assets: pass assets=[...], or a source with "
                "assets (a PostgreSQL source: table= and asset_column=) to list them from"
            )
        # The source lists them itself (PostgreSQL: one aggregate query).
        names = windcore.source_assets(
            source, days[0], days[-1],
            **{k: options[k] for k in _LAYOUT if options.get(k) is not None},
        )
        if not names or names == [""]:  # no samples, or one asset: one task per day
            return [None]
    names = list(dict.fromkeys(names))
    return [tuple(names[i : i + asset_batch_size]) for i in range(0, len(names), asset_batch_size)]


def _workers(client: Any) -> Dict[str, Any]:
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker (newer distributed)
    except TypeError:  # older distributed: every worker anyway
        info = client.scheduler_info()
    return info.get("workers", {})


def _semaphore(client: Any, db_tasks: Any) -> Any:
    """The ``distributed.Semaphore`` bounding the tasks on the databases, or None."""
    if db_tasks is None:
        return None
    from distributed import Semaphore

    if isinstance(db_tasks, Semaphore):
        return db_tasks
    if not isinstance(db_tasks, int) or isinstance(db_tasks, bool) or db_tasks < 1:
        raise ConfigError(
            f"db_tasks must be a positive integer, a distributed.Semaphore or None, "
            f"got {db_tasks!r}"
        )
    return Semaphore(
        max_leases=db_tasks, name=f"windcore-db-{db_tasks}",
        scheduler_rpc=client.scheduler, loop=client.loop,
    )


def _check_resource(client: Any, resource: Optional[str], wait: float) -> None:
    workers = _workers(client)
    if not workers and wait > 0:
        # An adaptive cluster may start its workers on demand.
        client.wait_for_workers(1, timeout=wait)
        workers = _workers(client)
    if resource is None:
        return
    slots = sum(float((w.get("resources") or {}).get(resource, 0)) for w in workers.values())
    if slots < 1:
        raise ConfigError(
            f"none of the cluster's {len(workers)} worker(s) offers the resource {resource!r} "
            f"that bounds the tasks per worker: start the workers with "
            f'`dask worker --resources "{resource}=2" ...` (2 tasks at once per worker), '
            f"or pass resource=None (the cluster-wide bound db_tasks= applies either way)"
        )


# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------


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
    ``changed_only``, ``source_timezone``); they must be reachable from every
    worker (a PostgreSQL URL, or a directory on a shared file system).

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
    for name in ("variables", "stats", "angles"):
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
    failures: Dict[str, Tuple[str, Optional[BaseException], Optional[type]]] = {}
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
    summary = _merge(day_list, specs, records, failures, options, elapsed)
    if failures:
        _raise(summary, specs, failures, len(keys), retries)
    return summary


def _record(day: dt.date, batch: Batch, out: Dict[str, Any]) -> TaskRecord:
    s = out["summary"]
    outcome = out["reports"][0]["outcome"] if out["reports"] else "loaded"
    return TaskRecord(
        day=day, assets=batch, worker=out["worker"], host=out["host"], pid=out["pid"],
        started=out["started"], finished=out["finished"], work_seconds=s["elapsed_seconds"],
        outcome=outcome, rows_in=s["rows_in"], rows_out=s["rows_out"], windows=s["windows"],
        waited=out.get("waited", 0.0),
    )


def _merge(
    day_list: List[dt.date],
    specs: Dict[str, Tuple[dt.date, Batch]],
    records: Dict[str, Dict[str, Any]],
    failures: Dict[str, Tuple[str, Optional[BaseException], Optional[type]]],
    options: Dict[str, Any],
    elapsed: float,
) -> DaskRunSummary:
    per_day: Dict[dt.date, List[str]] = {d: [] for d in day_list}
    for key, (day, _) in specs.items():
        per_day[day].append(key)
    order = lambda key: (specs[key][0], specs[key][1] or ())  # noqa: E731

    reports: List[DaskDayReport] = []
    for day, keys in per_day.items():
        sums = dict.fromkeys(_DAY_SUMS, 0)
        outcomes = []
        for key in keys:
            for r in records.get(key, {}).get("reports", []):
                outcomes.append(r["outcome"])
                for name in _DAY_SUMS:
                    sums[name] += r[name]
        failed = sorted((k for k in keys if k in failures), key=order)
        if failed:
            outcome, error = "failed", failures[failed[0]][0]
        elif sums["rows_in"] == 0 and all(o in ("loaded", "no_source_rows") for o in outcomes):
            outcome, error = "no_source_rows", None
        elif outcomes and all(o == "unchanged" for o in outcomes):
            outcome, error = "unchanged", None
        else:
            outcome, error = "loaded", None
        reports.append(
            DaskDayReport(day=day, outcome=outcome, error=error, tasks=len(keys), **sums)
        )

    first = next((records[k]["summary"] for k in sorted(records, key=order)), None)
    total = lambda name: sum(r["summary"][name] for r in records.values())  # noqa: E731
    by_worker: Dict[str, List[Tuple[str, Batch]]] = {}
    for key in sorted(records, key=order):
        day, batch = specs[key]
        by_worker.setdefault(records[key]["worker"], []).append((day.isoformat(), batch))
    failed_keys = sorted(failures, key=order)
    failed_days = sorted({specs[k][0] for k in failed_keys})
    return DaskRunSummary(
        days=len(day_list),
        days_loaded=sum(r.outcome == "loaded" for r in reports),
        rows_in=total("rows_in"),
        rows_out=total("rows_out"),
        windows=total("windows"),
        elapsed_seconds=elapsed,
        source=first["source"] if first else _mask(options["source"]),
        target=first["target"] if first else _mask(options.get("target", options["source"])),
        signals=list(first["signals"]) if first else [],
        error=failures[failed_keys[0]][0] if failed_keys else None,
        missing=total("missing"),
        duplicates=total("duplicates"),
        sparse_windows=total("sparse_windows"),
        outside=total("outside"),
        days_unchanged=sum(r.outcome == "unchanged" for r in reports),
        pairs_unchanged=total("pairs_unchanged"),
        pairs_changed=total("pairs_changed"),
        pairs_new=total("pairs_new"),
        pairs_removed=total("pairs_removed"),
        failed_days=failed_days,
        days_to_rerun=list(failed_days),
        empty_days=[r.day for r in reports if r.outcome == "no_source_rows"],
        reports=reports,
        tasks=[_record(*specs[k], records[k]) for k in sorted(records, key=order)],
        by_worker=by_worker,
        failed_tasks=[(specs[k][0], specs[k][1], failures[k][0]) for k in failed_keys],
    )


def _raise(
    summary: DaskRunSummary,
    specs: Dict[str, Tuple[dt.date, Batch]],
    failures: Dict[str, Tuple[str, Optional[BaseException], Optional[type]]],
    tasks: int,
    retries: int,
) -> None:
    kinds = [kind for _, _, kind in failures.values()]
    first_day, first_batch, first_error = summary.failed_tasks[0]
    if all(kind is not None and issubclass(kind, ConfigError) for kind in kinds):
        # A setting every task rejects: no day to re-run, a setting to fix.
        raise ConfigError(first_error)
    rerun = summary.days_to_rerun
    message = (
        f"{len(failures)} of {tasks} task(s) failed (after up to {retries} retries), "
        f"on {len(rerun)} day(s); first: {first_error}\n"
        f"  the other tasks were loaded; a failed (day, asset batch) kept its previous contents.\n"
        f"  re-run these {len(rerun)} day(s): {' '.join(d.isoformat() for d in rerun)}"
    )
    err = PipelineError(message)
    err.day = first_day
    err.failed_days = list(summary.failed_days)
    err.days_to_rerun = list(rerun)
    err.failed_tasks = list(summary.failed_tasks)
    err.summary = summary
    first_key = sorted(failures, key=lambda k: (specs[k][0], specs[k][1] or ()))[0]
    cause = failures[first_key][1]
    raise err from (cause if isinstance(cause, BaseException) else None)
