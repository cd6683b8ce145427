"""Backfills on a Dask cluster: the ``wind_statistics`` asset, a range of days per run.

Dagster stays the orchestrator; the work of a run goes to a Dask cluster. Dagster's
executors spread the *steps* of one run, not partitions: the asset of
:mod:`windcore_dagster.definitions` computes all the partitions of a run in one process.
Here the asset has a ``BackfillPolicy``: a backfill of 3 years becomes runs of up to
:data:`MAX_PARTITIONS_PER_RUN` days each, and each run hands its days to
:func:`windcore.dask.run`, which splits them into (day, asset batch) tasks over the
cluster's workers -- with retries, and at most ``db_tasks`` tasks touching the databases
at once across the whole cluster (see ``docs/scale-out.md``).

- ``DaskCluster``: the scheduler's address (``WINDCORE_DASK_SCHEDULER``, e.g.
  ``tcp://scheduler:8786``) and how to split the work (``asset_batch_size``, ``retries``).
- ``wind_statistics``: the same asset key, target and statistics as in ``definitions.py``
  (a drop-in), partitioned by the local days of the source's ``timezone``, with
  ``BackfillPolicy.multi_run``. A run of one partition (the daily schedule, at 00:15 local
  time for the previous day) goes to the cluster too. Its metadata: totals of the range,
  the quality counters, which worker did how many tasks.
- ``build_dask_definitions(source, target, dask)`` builds the asset, its job and schedule
  for a given source (its zone); the module-level ``defs`` is built from the environment
  (``WINDCORE_SOURCE_URL``, ``WINDCORE_TARGET_URL``, ``WINDCORE_TIMEZONE``,
  ``WINDCORE_DASK_SCHEDULER``). Use this module as the code location instead of
  ``definitions.py``::

      WINDCORE_DASK_SCHEDULER=tcp://scheduler:8786 dagster dev -m windcore_dagster.dask_backfill

A failed run raises ``dagster.Failure`` naming the days to re-run (their partitions);
the other days of the run were loaded, and re-running a day is idempotent.
"""

import os
import warnings
from contextlib import contextmanager
from typing import Iterator, Optional

import dagster as dg
import windcore
import windcore.dask
from pydantic import Field

from windcore_dagster.definitions import (
    EVERY,
    QUALITY_COUNTERS,
    SourceDatabase,
    TargetDatabase,
    daily_partitions,
)

#: The most days (partitions) one Dagster run hands to the cluster.
MAX_PARTITIONS_PER_RUN = 100
#: Log progress every this many tasks.
LOG_EVERY = 50


class DaskCluster(dg.ConfigurableResource):
    """A Dask distributed cluster whose workers can import windcore and reach the source
    and target databases (any cluster: no worker resources needed)."""

    scheduler_address: str = Field(
        description="The scheduler, e.g. tcp://scheduler:8786 (env WINDCORE_DASK_SCHEDULER)."
    )
    asset_batch_size: Optional[int] = Field(
        default=None,
        ge=1,
        description="Turbines per task; default: one task per day with every turbine. "
        "Batches need a PostgreSQL source with an asset column, or `turbines` on the source.",
    )
    retries: int = Field(default=3, ge=0, description="Times a failed task is run again.")
    db_tasks: Optional[int] = Field(
        default=windcore.dask.DEFAULT_DB_TASKS,
        ge=1,
        description="The most tasks touching the databases at once, across the cluster "
        "(a distributed.Semaphore; None: no bound). A task holds at most 2 connections "
        "per database.",
    )
    resource: Optional[str] = Field(
        default=None,
        description="Optionally, a worker resource each task needs one unit of as well "
        "(workers started with --resources \"windcore_db=K\": at most K tasks per worker).",
    )
    connect_timeout_seconds: float = Field(default=30.0, description="Connecting to the scheduler.")
    timeout_seconds: Optional[float] = Field(default=None, description="The most a run may take.")

    @contextmanager
    def client(self) -> Iterator["distributed.Client"]:  # noqa: F821
        from distributed import Client

        client = Client(self.scheduler_address, timeout=self.connect_timeout_seconds)
        try:
            yield client
        finally:
            client.close()


def build_backfill_asset(
    timezone: str = "UTC", max_partitions_per_run: int = MAX_PARTITIONS_PER_RUN
) -> dg.AssetsDefinition:
    """``wind_statistics`` partitioned by the local days of ``timezone``, up to
    ``max_partitions_per_run`` days per run, computed on the ``dask`` cluster."""
    partitions = daily_partitions(timezone)

    with warnings.catch_warnings():
        # BackfillPolicy is beta in Dagster 1.13.
        warnings.simplefilter("ignore", dg.BetaWarning)

        @dg.asset(
            name="wind_statistics",
            partitions_def=partitions,
            backfill_policy=dg.BackfillPolicy.multi_run(
                max_partitions_per_run=max_partitions_per_run
            ),
            description="10-minute statistics (default mean/min/max/std of wind speed and "
            f"power) of every turbine for local days ({timezone}), computed by windcore on a "
            f"Dask cluster: a run covers a range of days (a backfill: up to "
            f"{max_partitions_per_run} per run).",
        )
        def wind_statistics(
            context: dg.AssetExecutionContext,
            source: SourceDatabase,
            target: TargetDatabase,
            dask: DaskCluster,
        ) -> dg.MaterializeResult:
            if source.timezone != timezone:
                raise dg.Failure(
                    f"the source resource reports in {source.timezone!r} but the partitions "
                    f"are days of {timezone!r}: build the definitions from the resource "
                    "(build_dask_definitions)"
                )
            days = list(context.partition_keys)
            first, last = days[0], days[-1]
            done = []

            def progress(task: windcore.dask.TaskRecord) -> None:
                done.append(task)
                if len(done) % LOG_EVERY == 0:
                    context.log.info(
                        f"{len(done)} tasks done; last: {task.day} on {task.worker}"
                    )

            options = source.run_options()
            assets = source.turbines if dask.asset_batch_size else None
            with dask.client() as client:
                context.log.info(
                    f"{first}..{last} ({timezone}): {len(days)} day(s) to the cluster at "
                    f"{dask.scheduler_address}"
                )
                try:
                    summary = windcore.dask.run(
                        client,
                        days=days,
                        source=source.url,
                        target=target.url,
                        every=EVERY,
                        assets=assets,
                        asset_batch_size=dask.asset_batch_size,
                        retries=dask.retries,
                        db_tasks=dask.db_tasks,
                        resource=dask.resource,
                        timeout=dask.timeout_seconds,
                        on_task=progress,
                        **options,
                    )
                except windcore.PipelineError as err:
                    rerun = [d.isoformat() for d in err.days_to_rerun]
                    raise dg.Failure(
                        description=f"{len(rerun)} of {len(days)} day(s) failed; re-run their "
                        f"partitions: {', '.join(rerun)}. {err}",
                        metadata={
                            "days_to_rerun": dg.MetadataValue.json(rerun),
                            "days_loaded": err.summary.days_loaded,
                        },
                    ) from err

            quality = {name: int(getattr(summary, name)) for name in QUALITY_COUNTERS}
            tasks_per_worker = summary.to_dict()["by_worker"]
            context.log.info(
                f"{first}..{last} ({timezone}): {summary.days_loaded} of {summary.days} day(s) "
                f"loaded, {summary.rows_in} rows in, {summary.rows_out} rows out, "
                f"{len(summary.tasks)} tasks on {len(tasks_per_worker)} worker(s) in "
                f"{summary.elapsed_seconds:.1f} s; quality {quality}"
            )
            if summary.empty_days:
                context.log.warning(
                    f"no source rows on {len(summary.empty_days)} day(s): "
                    + ", ".join(d.isoformat() for d in summary.empty_days)
                )
            return dg.MaterializeResult(
                metadata={
                    "first_day": first,
                    "last_day": last,
                    "timezone": timezone,
                    "days": summary.days,
                    "days_loaded": summary.days_loaded,
                    "empty_days": dg.MetadataValue.json(
                        [d.isoformat() for d in summary.empty_days]
                    ),
                    "days_with_issues": dg.MetadataValue.json(
                        [d.isoformat() for d in summary.days_with_issues]
                    ),
                    "source": summary.source,  # the password is masked
                    "rows_in": summary.rows_in,
                    "rows_out": summary.rows_out,
                    "windows": summary.windows,
                    **quality,
                    "tasks": len(summary.tasks),
                    "tasks_per_worker": dg.MetadataValue.json(tasks_per_worker),
                    "signals": dg.MetadataValue.json(list(summary.signals)),
                    "duration_s": dg.MetadataValue.float(summary.elapsed_seconds),
                }
            )

    return wind_statistics


def build_dask_definitions(
    source: SourceDatabase,
    target: TargetDatabase,
    dask: DaskCluster,
    asset: Optional[dg.AssetsDefinition] = None,
) -> dg.Definitions:
    """The asset (by default built for ``source.timezone``), its job and a daily schedule
    at 00:15 local time for the previous, complete local day."""
    asset = asset if asset is not None else build_backfill_asset(source.timezone)
    job = dg.define_asset_job("wind_statistics_dask_job", selection=[asset])
    schedule = dg.build_schedule_from_partitioned_job(job, hour_of_day=0, minute_of_hour=15)
    return dg.Definitions(
        assets=[asset],
        jobs=[job],
        schedules=[schedule],
        resources={"source": source, "target": target, "dask": dask},
    )


# As in definitions.py: the reference single-turbine layout in UTC days unless
# WINDCORE_TIMEZONE names a zone; for a farm table name its layout on SourceDatabase.
source_resource = SourceDatabase(
    url=dg.EnvVar("WINDCORE_SOURCE_URL"),
    timezone=os.environ.get("WINDCORE_TIMEZONE", "UTC"),
)
wind_statistics = build_backfill_asset(source_resource.timezone)
defs = build_dask_definitions(
    source_resource,
    TargetDatabase(url=dg.EnvVar("WINDCORE_TARGET_URL")),
    DaskCluster(scheduler_address=dg.EnvVar("WINDCORE_DASK_SCHEDULER")),
    wind_statistics,
)
