"""The result of :func:`windcore.dask.run`: what each task reported, merged by
windcore itself (``RunSummary::merge``), and the error that names the days to re-run."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
from typing import Any, Dict, List, Optional, Tuple

from windcore import _windcore
from windcore.dask.plan import _mask
from windcore.dask.tasks import Batch
from windcore.exceptions import ConfigError, PipelineError

#: Why a task failed: its message, the exception (or None), the windcore error class (or None).
Failure = Tuple[str, Optional[BaseException], Optional[type]]


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


def _record(day: dt.date, batch: Batch, out: Dict[str, Any]) -> TaskRecord:
    s = out["summary"]
    outcome = out["outcome"]
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
    failures: Dict[str, Failure],
    options: Dict[str, Any],
    elapsed: float,
) -> Tuple[DaskRunSummary, str]:
    """The summary of the run, and its days to re-run as ranges. The days are
    merged by windcore (``RunSummary::merge``), from the report of each task
    that ran and a failed day for each task that failed, in (day, batch) order
    (so that a day's error is that of its first failed batch)."""
    order = lambda key: (specs[key][0], specs[key][1] or ())  # noqa: E731
    parts = []
    for key in sorted([*records, *failures], key=order):
        if key in records:
            parts.append(records[key]["report"])
        else:
            day = specs[key][0].isoformat()
            failed = {"day": day, "outcome": "failed", "error": failures[key][0]}
            parts.append(json.dumps({"days": [failed]}))
    first = next((records[k]["summary"] for k in sorted(records, key=order)), None)
    merged = _windcore.merge_summaries(
        parts,
        elapsed,
        source=first["source"] if first else _mask(options["source"]),
        target=first["target"] if first else _mask(options.get("target", options["source"])),
        signals=list(first["signals"]) if first else [],
    )
    tasks_per_day = collections.Counter(day for day, _ in specs.values())
    day_fields = [f.name for f in dataclasses.fields(DaskDayReport) if f.name != "tasks"]
    reports = [
        DaskDayReport(tasks=tasks_per_day[r.day], **{name: getattr(r, name) for name in day_fields})
        for r in merged.reports
    ]
    by_worker: Dict[str, List[Tuple[str, Batch]]] = {}
    for key in sorted(records, key=order):
        day, batch = specs[key]
        by_worker.setdefault(records[key]["worker"], []).append((day.isoformat(), batch))
    failed_keys = sorted(failures, key=order)
    extra = dict(
        days=len(day_list),
        reports=reports,
        tasks=[_record(*specs[k], records[k]) for k in sorted(records, key=order)],
        by_worker=by_worker,
        failed_tasks=[(specs[k][0], specs[k][1], failures[k][0]) for k in failed_keys],
    )
    totals = {
        f.name: getattr(merged, f.name)
        for f in dataclasses.fields(DaskRunSummary)
        if f.name not in extra
    }
    return DaskRunSummary(**totals, **extra), merged.rerun_days_text


def _raise(
    summary: DaskRunSummary,
    rerun_text: str,
    specs: Dict[str, Tuple[dt.date, Batch]],
    failures: Dict[str, Failure],
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
        f"  re-run these {len(rerun)} day(s): {rerun_text}"
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
