"""The task of :func:`windcore.dask.run`: one (day, asset batch), run on a worker."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any, Dict, Optional, Tuple

import windcore
from windcore.exceptions import PipelineError, WindcoreError, is_transient

#: A task's assets, or None (every asset of the day).
Batch = Optional[Tuple[str, ...]]


class TaskError(WindcoreError):
    """A (day, asset batch) task failed on a worker; the message says why.

    Raised inside the task (so that Dask retries it) and set as the
    ``__cause__`` of the :class:`windcore.PipelineError` of :func:`run`.
    A plain message, so that it pickles between the worker and the client.
    """


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not in a Dask worker
        return f"local:{os.getpid()}"



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
        # Raised outside the except block: no chained windcore error (with its
        # summary) travels back to the client, only the message.
        raise TaskError(failure)
    reports = summary.reports
    record.update(
        summary=summary.to_dict(),
        # The core's report as it serialised it, for windcore's own merge on the client.
        report=summary._report_json(),
        outcome=reports[0].outcome if reports else "loaded",
    )
    return record
