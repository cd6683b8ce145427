"""Dagster definitions for the windcore ETL, for one turbine or a wind farm.

- ``SourceDatabase`` / ``TargetDatabase``: one resource per store, URLs from the
  environment (``WINDCORE_SOURCE_URL`` / ``WINDCORE_TARGET_URL``). ``SourceDatabase`` also
  names the source layout (table, time and asset columns), the channels to aggregate
  (``variables``, ``angles``) and ``min_count``; its defaults read windcore's reference
  single-turbine table.
- ``wind_statistics``: a daily-partitioned asset; materializing a partition runs the
  windcore pipeline (Rust) once for that UTC day -- every turbine of the day -- replacing
  the day in the target, and reports rows in/out, the windows per turbine (counted in the
  target), the quality counters and timings as metadata. Its check ``all_144_windows``
  passes when every turbine has all 144 ten-minute windows of the day, and names the
  turbines that do not.
- ``wind_statistics_job`` and a daily schedule that runs the *previous*, complete UTC day
  (never today's partial one).
"""

import datetime as dt
from contextlib import closing
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import dagster as dg
import windcore
from pydantic import Field, field_validator

PARTITIONS_START = "2024-01-01"
EVERY = "10m"
#: Ten-minute windows in a UTC day.
WINDOWS_PER_DAY = 144
CHECK_NAME = "all_144_windows"
#: What windcore counts but leaves out (see the windcore README, "Conventions").
QUALITY_COUNTERS = ("missing", "duplicates", "sparse_windows", "outside")

daily = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")


def _names(value: Any) -> Any:
    """``"a, b"`` as ``["a", "b"]`` (windcore's own convention); lists as they are."""
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()] or None
    return value


class SourceDatabase(dg.ConfigurableResource):
    """Where the 1-minute samples are, and what to compute from them.

    The defaults read windcore's reference single-turbine table (``data``, column
    ``timestamp``, ``wind_speed`` and ``power``). For a farm table such as
    ``scada(turbine_id text, ts timestamptz, wind_speed, power, wind_direction float8)``::

        SourceDatabase(
            url=dg.EnvVar("WINDCORE_SOURCE_URL"),
            table="scada", time_column="ts", asset_column="turbine_id",
            variables=["wind_speed", "power", "wind_direction"], angles="wind_direction",
        )
    """

    url: str = Field(description="A postgres:// URL or an embedded-store directory.")
    table: Optional[str] = Field(
        default=None, description="PostgreSQL source table (default: the reference `data`)."
    )
    time_column: Optional[str] = Field(
        default=None, description="Its timestamptz column (default: `timestamp`)."
    )
    asset_column: Optional[str] = Field(
        default=None,
        description="Its turbine column, e.g. `turbine_id`: statistics per turbine. "
        "Default: one turbine (asset '').",
    )
    variables: Optional[List[str]] = Field(
        default=None,
        description="Channels to aggregate (a list or 'a,b'); default wind_speed and power "
        "(when the source has both). Angle channels must be listed too.",
    )
    angles: Optional[List[str]] = Field(
        default=None,
        description="Channels in degrees, e.g. wind_direction: circular statistics.",
    )
    min_count: int = Field(
        default=1,
        ge=1,
        description="The fewest valid samples a window needs for its statistics.",
    )
    turbines: Optional[List[str]] = Field(
        default=None,
        description="The farm's turbines (asset values). When given, the check also fails "
        "for a listed turbine without a single window that day; by default it checks the "
        "turbines that have windows that day.",
    )

    @field_validator("variables", "angles", "turbines", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        return _names(value)

    def run_options(self) -> Dict[str, Any]:
        """The keyword arguments of ``windcore.run`` this resource sets (unset ones keep
        windcore's defaults)."""
        options: Dict[str, Any] = {"min_count": self.min_count}
        for name in ("table", "time_column", "asset_column", "variables", "angles"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        return options


class TargetDatabase(dg.ConfigurableResource):
    """Where the 10-minute statistics go: a postgres:// URL or an embedded-store directory."""

    url: str = Field(description="A postgres:// URL or an embedded-store directory.")


def _day_bounds(day: str) -> "tuple[dt.datetime, dt.datetime]":
    start = dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


# Distinct window timestamps per asset of the run's signals in [start, end). The target's
# primary key (signal_id, timestamp) makes this an index range scan per signal.
WINDOWS_PER_ASSET_SQL = """
select s.asset, count(distinct d.timestamp)
from data d
join signal s on s.id = d.signal_id
where s.name = any(%(signals)s)
  and d.timestamp >= %(start)s and d.timestamp < %(end)s
group by s.asset
order by s.asset
"""


def windows_per_turbine(target: str, day: str, signals: Sequence[str]) -> Dict[str, int]:
    """The windows each turbine (asset; ``''`` for a single turbine) has in ``target`` on
    the UTC ``day`` ('YYYY-MM-DD'): distinct timestamps of any of ``signals``.

    ``target`` is a postgres:// URL (counted with SQL) or an embedded-store directory
    (counted in its ``target/<day>.parquet``). A turbine without any window is absent.
    """
    signals = list(signals)
    if not signals:
        return {}
    start, end = _day_bounds(day)
    location = target.strip()
    if location.startswith(("postgres://", "postgresql://")):
        import psycopg2

        with closing(psycopg2.connect(location)) as conn, conn.cursor() as cur:
            cur.execute(WINDOWS_PER_ASSET_SQL, {"signals": signals, "start": start, "end": end})
            return {asset: int(n) for asset, n in cur.fetchall()}

    import polars as pl  # a dependency of windcore

    if location.startswith("parquet:"):
        location = location[len("parquet:") :]
    path = Path(location) / "target" / f"{day}.parquet"
    if not path.exists():
        return {}
    frame = pl.read_parquet(path)
    if "asset" not in frame.columns:
        frame = frame.with_columns(asset=pl.lit(""))
    counts = (
        frame.filter(
            pl.col("signal").is_in(signals)
            & (pl.col("timestamp") >= start)
            & (pl.col("timestamp") < end)
        )
        .group_by("asset")
        .agg(pl.col("timestamp").n_unique().alias("windows"))
        .sort("asset")
    )
    return {asset: int(n) for asset, n in counts.iter_rows()}


def _turbine(asset: str) -> str:
    return asset if asset else "the turbine (asset '')"


def _plural(n: int) -> str:
    return f"{n} turbine" if n == 1 else f"{n} turbines"


def check_all_windows(
    per_turbine: Mapping[str, int],
    expected_turbines: Optional[Sequence[str]] = None,
    source_empty: bool = False,
) -> dg.AssetCheckResult:
    """``all_144_windows``: passes when every turbine has all 144 windows of the day.

    The turbines are those of ``per_turbine`` plus ``expected_turbines`` (counted 0 when
    they have no window). Fails, naming the short turbines and their counts, otherwise;
    fails too when the day has no windows or no source rows.
    """
    counts = dict(per_turbine)
    for turbine in expected_turbines or ():
        counts.setdefault(turbine, 0)
    counts = dict(sorted(counts.items()))
    incomplete = {t: n for t, n in counts.items() if n < WINDOWS_PER_DAY}
    passed = bool(counts) and not incomplete and not source_empty
    if source_empty:
        description = "the source has no rows for the day: nothing was loaded"
    elif not counts:
        description = "the target has no windows for the day"
    elif incomplete:
        short = ", ".join(
            f"{_turbine(t)} has {n} of {WINDOWS_PER_DAY}" for t, n in incomplete.items()
        )
        description = (
            f"{len(incomplete)} of {_plural(len(counts))} short of {WINDOWS_PER_DAY} "
            f"windows: {short}"
        )
    else:
        description = f"{_plural(len(counts))}, each with all {WINDOWS_PER_DAY} windows"
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=passed,
        description=description,
        metadata={
            # Totals over the turbines (for one turbine: its windows, of 144).
            "windows": sum(counts.values()),
            "expected": WINDOWS_PER_DAY * len(counts),
            "turbines": len(counts),
            "expected_per_turbine": WINDOWS_PER_DAY,
            "incomplete_turbines": dg.MetadataValue.json(incomplete),
        },
    )


@dg.asset(
    partitions_def=daily,
    check_specs=[
        dg.AssetCheckSpec(
            name=CHECK_NAME,
            asset="wind_statistics",
            description="Every turbine has all 144 ten-minute windows of the UTC day in the "
            "target; a failure names the turbines that do not, with their window counts.",
        )
    ],
    description="10-minute statistics (default mean/min/max/std of wind speed and power) "
    "of every turbine for one UTC day, computed by windcore.",
)
def wind_statistics(
    context: dg.AssetExecutionContext, source: SourceDatabase, target: TargetDatabase
) -> dg.MaterializeResult:
    day = context.partition_key
    # One call covers the whole day: every turbine of a farm source.
    summary = windcore.run(
        date=day, source=source.url, target=target.url, every=EVERY, **source.run_options()
    )
    per_turbine = windows_per_turbine(target.url, day, summary.signals)
    check = check_all_windows(
        per_turbine, expected_turbines=source.turbines, source_empty=bool(summary.empty_days)
    )
    quality = {name: int(getattr(summary, name)) for name in QUALITY_COUNTERS}
    context.log.info(
        f"{day}: {summary.rows_in} rows in, {summary.rows_out} rows out, "
        f"{summary.windows} windows over {len(per_turbine)} turbine(s); quality {quality}"
    )
    if not check.passed:
        context.log.warning(f"{day}: {check.description}")
    return dg.MaterializeResult(
        metadata={
            "day": day,
            "source": summary.source,  # the password is masked
            "rows_in": summary.rows_in,
            "rows_out": summary.rows_out,
            "windows": summary.windows,
            "turbines": len(per_turbine),
            "windows_per_turbine": dg.MetadataValue.json(per_turbine),
            **quality,
            "signals": dg.MetadataValue.json(list(summary.signals)),
            "duration_s": dg.MetadataValue.float(summary.elapsed_seconds),
        },
        check_results=[check],
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
        # The reference single-turbine layout. For a farm table, name it here, e.g.
        # table="scada", time_column="ts", asset_column="turbine_id",
        # variables=["wind_speed", "power", "wind_direction"], angles="wind_direction".
        "source": SourceDatabase(url=dg.EnvVar("WINDCORE_SOURCE_URL")),
        "target": TargetDatabase(url=dg.EnvVar("WINDCORE_TARGET_URL")),
    },
)
