"""Dagster definitions for the windcore ETL, for one turbine or a wind farm, in the farm's
own calendar, with late data.

- ``SourceDatabase`` / ``TargetDatabase``: one resource per store, URLs from the
  environment (``WINDCORE_SOURCE_URL`` / ``WINDCORE_TARGET_URL``). ``SourceDatabase`` also
  names the source layout (table, time and asset columns), the channels to aggregate
  (``variables``, ``angles``), ``min_count``, the reporting ``timezone`` (IANA name, default
  UTC; ``WINDCORE_TIMEZONE``), the window ``label`` and the late-data horizon
  ``late_data_days``; its defaults read windcore's reference single-turbine table.
- ``wind_statistics``: an asset partitioned by *local* days (``DailyPartitionsDefinition``
  in the source's zone: 23 or 25 hours on DST days); materializing a partition runs the
  windcore pipeline (Rust) once for that day -- every turbine of the day -- replacing the
  day in the target, and reports rows in/out, the windows per turbine (counted in the
  target), the quality counters, the incremental-run counters and timings as metadata. Its
  check ``all_windows`` passes when every turbine has all ten-minute windows of the local
  day (144; 138 or 150 on DST days) and names the turbines that do not. A run over a range
  of partitions runs windcore once for the range; with ``changed_only`` (run config, or
  the sync job's run tag) it rewrites only the (day, turbine) pairs whose samples changed.
- ``scada_samples``: the source, an observable source asset with the same partitions. An
  observation fingerprints each day's samples (windcore's own fingerprints per turbine,
  computed by PostgreSQL without moving the rows) and records it as the partition's data
  version,
  so a partition of ``wind_statistics`` whose samples changed after it was materialized
  (late data) is reported stale by Dagster.
- ``wind_statistics_job`` (one partition per run: observe the day, then load it),
  ``scada_observation_job``, and ``wind_statistics_sync_job``: observe the source, then
  materialize a range of partitions with ``changed_only``. The daily schedule runs the sync job at 00:15 local time over the
  last ``late_data_days`` complete local days (never today's partial one): yesterday is
  loaded, late samples of the days before are picked up, unchanged days are not rewritten.

``build_definitions(source, target)`` builds all of it for a given source (its zone and
horizon); the module-level ``defs`` is built from the environment.

The parts live in their own modules -- ``days`` (the calendar and shared names),
``resources`` (and the source's fingerprints), ``checks``, ``assets``, ``schedules``
(the jobs and the schedule) -- and are all importable from here, as before.
"""

import os

import dagster as dg

from windcore_dagster.assets import WindStatisticsConfig, build_assets
from windcore_dagster.checks import check_all_windows, check_days, windows_per_turbine
from windcore_dagster.days import (
    CHANGED_ONLY_TAG,
    CHECK_NAME,
    DEFAULT_LATE_DATA_DAYS,
    EMPTY_DAY_VERSION,
    EVERY,
    PAIR_COUNTERS,
    PARTITIONS_START,
    QUALITY_COUNTERS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    SOURCE_ASSET,
    STATS_ASSET,
    WINDOW,
    WINDOWS_PER_DAY,
    complete_days,
    daily_partitions,
    local_day_bounds,
    partition_range_tags,
    windows_in_day,
)
from windcore_dagster.resources import SourceDatabase, TargetDatabase, source_fingerprints
from windcore_dagster.schedules import build_jobs, build_schedule

__all__ = [
    "CHANGED_ONLY_TAG",
    "CHECK_NAME",
    "DEFAULT_LATE_DATA_DAYS",
    "EMPTY_DAY_VERSION",
    "EVERY",
    "PAIR_COUNTERS",
    "PARTITIONS_START",
    "QUALITY_COUNTERS",
    "RANGE_END_TAG",
    "RANGE_START_TAG",
    "SOURCE_ASSET",
    "STATS_ASSET",
    "WINDOW",
    "WINDOWS_PER_DAY",
    "SourceDatabase",
    "TargetDatabase",
    "WindStatisticsConfig",
    "build_assets",
    "build_definitions",
    "build_jobs",
    "build_schedule",
    "check_all_windows",
    "check_days",
    "complete_days",
    "daily_partitions",
    "local_day_bounds",
    "partition_range_tags",
    "source_fingerprints",
    "windows_in_day",
    "windows_per_turbine",
    "daily",
    "scada_samples",
    "wind_statistics",
    "wind_statistics_job",
    "wind_statistics_sync_job",
    "scada_observation_job",
    "wind_statistics_schedule",
    "source_resource",
    "target_resource",
    "defs",
]


def build_definitions(source: SourceDatabase, target: TargetDatabase) -> dg.Definitions:
    """All of it for ``source`` (its ``timezone`` makes the partitions, its
    ``late_data_days`` the schedule's horizon) and ``target``."""
    scada, stats = build_assets(source.timezone)
    job, sync_job, observation_job = build_jobs(scada, stats)
    return dg.Definitions(
        assets=[scada, stats],
        jobs=[job, sync_job, observation_job],
        schedules=[build_schedule(sync_job, source.timezone, source.late_data_days)],
        resources={"source": source, "target": target},
    )


# The reference single-turbine layout, in UTC days unless WINDCORE_TIMEZONE names a zone.
# For a farm table, name it here, e.g. table="scada", time_column="ts",
# asset_column="turbine_id", variables=["wind_speed", "power", "wind_direction"],
# angles="wind_direction", timezone="Europe/Berlin", late_data_days=3.
source_resource = SourceDatabase(
    url=dg.EnvVar("WINDCORE_SOURCE_URL"),
    timezone=os.environ.get("WINDCORE_TIMEZONE", "UTC"),
    late_data_days=int(os.environ.get("WINDCORE_LATE_DATA_DAYS", DEFAULT_LATE_DATA_DAYS)),
)
target_resource = TargetDatabase(url=dg.EnvVar("WINDCORE_TARGET_URL"))

daily = daily_partitions(source_resource.timezone)
scada_samples, wind_statistics = build_assets(source_resource.timezone)
wind_statistics_job, wind_statistics_sync_job, scada_observation_job = build_jobs(
    scada_samples, wind_statistics
)
wind_statistics_schedule = build_schedule(
    wind_statistics_sync_job, source_resource.timezone, source_resource.late_data_days
)

defs = dg.Definitions(
    assets=[scada_samples, wind_statistics],
    jobs=[wind_statistics_job, wind_statistics_sync_job, scada_observation_job],
    schedules=[wind_statistics_schedule],
    resources={"source": source_resource, "target": target_resource},
)
