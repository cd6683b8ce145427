"""The jobs and the daily sync schedule."""

from typing import Any, Tuple

import dagster as dg

from windcore_dagster.days import (
    CHANGED_ONLY_TAG,
    DEFAULT_LATE_DATA_DAYS,
    PARTITIONS_START,
    complete_days,
    partition_range_tags,
)


def build_jobs(
    scada_samples: dg.SourceAsset, wind_statistics: dg.AssetsDefinition
) -> Tuple[Any, Any, Any]:
    """``wind_statistics_job`` (one partition per run: observes the day of the source,
    then replaces the day), ``wind_statistics_sync_job`` (observes the source, then
    materializes the run's partitions with ``changed_only``: only changed pairs are
    rewritten) and ``scada_observation_job``.

    Both materializing jobs observe first, so that each materialization records the data
    version of exactly the source day it was computed from: a later observation that finds
    the day changed then makes the partition stale.
    """
    job = dg.define_asset_job(
        "wind_statistics_job",
        selection=dg.AssetSelection.assets(scada_samples.key, wind_statistics.key),
    )
    sync_job = dg.define_asset_job(
        "wind_statistics_sync_job",
        selection=dg.AssetSelection.assets(scada_samples.key, wind_statistics.key),
        # A job tag (not run config, which Dagster applies to single partitions only) marks
        # every run of this job as incremental, whatever launches it: the schedule, a
        # backfill, the launchpad.
        tags={CHANGED_ONLY_TAG: "true"},
        description="Late data: observe the source's days, then rewrite the (day, turbine) "
        "pairs whose samples changed, in one windcore run over the range of partitions.",
    )
    observation_job = dg.define_asset_job(
        "scada_observation_job", selection=dg.AssetSelection.assets(scada_samples.key)
    )
    return job, sync_job, observation_job


def build_schedule(sync_job: Any, timezone: str = "UTC", late_data_days: int = DEFAULT_LATE_DATA_DAYS):
    """Daily at 00:15 local time: the sync job over the last ``late_data_days`` complete
    local days (yesterday is new; the days before get their late samples)."""

    @dg.schedule(
        name="wind_statistics_schedule",
        job=sync_job,
        cron_schedule="15 0 * * *",
        execution_timezone=timezone,
        description=f"Daily at 00:15 {timezone}: sync the last {late_data_days} complete local "
        "days (changed_only), never today's partial one.",
    )
    def wind_statistics_schedule(context: dg.ScheduleEvaluationContext):
        days = complete_days(timezone, late_data_days, context.scheduled_execution_time)
        if not days:
            return dg.SkipReason(f"no complete day since {PARTITIONS_START} yet")
        return dg.RunRequest(
            run_key=f"sync {days[0]}..{days[-1]}",
            tags=partition_range_tags(days[0], days[-1]),
        )

    return wind_statistics_schedule
