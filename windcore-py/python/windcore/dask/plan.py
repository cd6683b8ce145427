"""Planning :func:`windcore.dask.run`: its days, locations, asset batches, and the
cluster's bounds (the semaphore of ``db_tasks``, the worker resource)."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import windcore
from windcore import _windcore
from windcore.dask.tasks import Batch
from windcore.exceptions import ConfigError

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
    "counters",
    "states",
    "state_hold",
    "availability",
)

#: A day as :func:`windcore.run` takes it: 'YYYY-MM-DD', a date or a datetime.
_Day = Union[str, dt.date, dt.datetime]


def _days(
    date: Optional[_Day],
    start: Optional[_Day],
    end: Optional[_Day],
    days: Optional[Iterable[_Day]],
) -> List[dt.date]:
    """The days of the run, read by windcore's one parser of days (as
    :func:`windcore.run` reads ``date`` / ``start`` / ``end``), or ``days``
    (each read the same way), sorted, without repeats."""
    if days is not None:
        if date is not None or start is not None or end is not None:
            raise ConfigError("give either date=, start= and end=, or days=")
        if isinstance(days, (str, dt.date)):
            days = [days]
        names = ("days", "start", "end")
        out = sorted({d for day in days for d in _windcore.run_days(day, names=names) or ()})
        if not out:
            raise ConfigError("days= is empty")
        return out
    out = _windcore.run_days(date, start, end)
    if out is None:
        raise ConfigError(
            "a Dask run needs its days: give date=, start= and end=, or days= "
            "(e.g. the days_to_rerun of a failed run)"
        )
    return out


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

