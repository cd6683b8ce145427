"""Dagster definitions for the windcore ETL.

- ``SourceDatabase`` / ``TargetDatabase``: one resource per store, URLs from the
  environment (``WINDCORE_SOURCE_URL`` / ``WINDCORE_TARGET_URL``).
- ``wind_statistics``: a daily-partitioned asset; materializing a partition runs the
  windcore pipeline (Rust) for that UTC day, replacing the day in the target, and reports
  rows in/out and timings as metadata. Its check ``all_144_windows`` passes when the day
  produced all 144 ten-minute windows.
- ``wind_statistics_job`` and a daily schedule that runs the *previous*, complete UTC day
  (never today's partial one).
"""

import dagster as dg
import windcore

PARTITIONS_START = "2024-01-01"
WINDOWS_PER_DAY = 144

daily = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")


class SourceDatabase(dg.ConfigurableResource):
    """Where the 1-minute samples are: a postgres:// URL or an embedded-store directory."""

    url: str


class TargetDatabase(dg.ConfigurableResource):
    """Where the 10-minute statistics go: a postgres:// URL or an embedded-store directory."""

    url: str


@dg.asset(
    partitions_def=daily,
    check_specs=[dg.AssetCheckSpec(name="all_144_windows", asset="wind_statistics")],
    description="10-minute mean/min/max/std of wind speed and power for one UTC day, computed by windcore.",
)
def wind_statistics(
    context: dg.AssetExecutionContext, source: SourceDatabase, target: TargetDatabase
) -> dg.MaterializeResult:
    day = context.partition_key
    summary = windcore.run(date=day, source=source.url, target=target.url)
    windows = summary.windows
    context.log.info(
        f"{day}: {summary.rows_in} rows in, {summary.rows_out} rows out, {windows} windows"
    )
    return dg.MaterializeResult(
        metadata={
            "day": day,
            "rows_in": summary.rows_in,
            "rows_out": summary.rows_out,
            "windows": windows,
            "duration_s": dg.MetadataValue.float(summary.elapsed_seconds),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="all_144_windows",
                passed=windows == WINDOWS_PER_DAY,
                metadata={"windows": windows, "expected": WINDOWS_PER_DAY},
            )
        ],
    )


wind_statistics_job = dg.define_asset_job("wind_statistics_job", selection=[wind_statistics])

# A partitioned schedule requests the latest *complete* partition: at 00:15 UTC on
# day D it runs partition D-1, never the day still in progress.
wind_statistics_schedule = dg.build_schedule_from_partitioned_job(
    wind_statistics_job, hour_of_day=0, minute_of_hour=15
)

defs = dg.Definitions(
    assets=[wind_statistics],
    jobs=[wind_statistics_job],
    schedules=[wind_statistics_schedule],
    resources={
        "source": SourceDatabase(url=dg.EnvVar("WINDCORE_SOURCE_URL")),
        "target": TargetDatabase(url=dg.EnvVar("WINDCORE_TARGET_URL")),
    },
)
