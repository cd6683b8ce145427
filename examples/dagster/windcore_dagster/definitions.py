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
"""

import datetime as dt
import hashlib
import os
import warnings
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
import windcore
from pydantic import Field, field_validator

PARTITIONS_START = "2024-01-01"
EVERY = "10m"
#: The window length, as ``EVERY``.
WINDOW = dt.timedelta(minutes=10)
#: Ten-minute windows in a UTC day (a local day has 138 or 150 on DST days).
WINDOWS_PER_DAY = 144
CHECK_NAME = "all_windows"
#: What windcore counts but leaves out (see the windcore README, "Conventions").
QUALITY_COUNTERS = ("missing", "duplicates", "sparse_windows", "outside")
#: What an incremental run (``changed_only``) counts, per (day, turbine) pair.
PAIR_COUNTERS = ("pairs_unchanged", "pairs_changed", "pairs_new", "pairs_removed", "days_unchanged")
DEFAULT_LATE_DATA_DAYS = 3
SOURCE_ASSET = "scada_samples"
STATS_ASSET = "wind_statistics"
#: The run tags of a run over a range of partitions (Dagster's own, as its backfills set).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
#: The run tag that makes a run of wind_statistics incremental (the sync job sets it).
CHANGED_ONLY_TAG = "windcore/changed_only"
#: The data version of a day without samples.
EMPTY_DAY_VERSION = "empty"


# --- The calendar ------------------------------------------------------------------------


def _day(day: Any) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))


def local_day_bounds(day: Any, timezone: str = "UTC") -> Tuple[dt.datetime, dt.datetime]:
    """The local day ``[local 00:00, next local 00:00)`` of ``timezone`` as UTC instants.

    Where local midnight does not exist (São Paulo, 2018-11-04: the clocks jumped from
    00:00 to 01:00) the day starts at the first local time after it, as windcore's days do.
    """
    zone = ZoneInfo(timezone)
    d = _day(day)
    # fold=0 on a skipped time uses the offset before the jump: 00:00 -03 = 01:00 -02.
    start = dt.datetime.combine(d, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def windows_in_day(day: Any, timezone: str = "UTC", every: dt.timedelta = WINDOW) -> int:
    """The windows of the local ``day``: 144 ten-minute windows, 138 or 150 on DST days."""
    start, end = local_day_bounds(day, timezone)
    return (end - start) // every


def complete_days(
    timezone: str, n: int, now: Optional[dt.datetime] = None, first: str = PARTITIONS_START
) -> List[str]:
    """The last ``n`` complete local days before ``now`` (default: the current time), oldest
    first, not before ``first``; never today's, which is still in progress."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    today = now.astimezone(ZoneInfo(timezone)).date()
    days = [today - dt.timedelta(days=k) for k in range(n, 0, -1)]
    return [d.isoformat() for d in days if d >= _day(first)]


def partition_range_tags(start: str, end: str) -> Dict[str, str]:
    """The run tags of one run over the partitions ``start``..``end`` (inclusive)."""
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}


def daily_partitions(timezone: str = "UTC") -> dg.DailyPartitionsDefinition:
    """Daily partitions, each a local day of ``timezone``."""
    return dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone=timezone)


# --- Resources ---------------------------------------------------------------------------


def _names(value: Any) -> Any:
    """``"a, b"`` as ``["a", "b"]`` (windcore's own convention); lists as they are."""
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()] or None
    return value


class SourceDatabase(dg.ConfigurableResource):
    """Where the 1-minute samples are, what to compute from them, and in which calendar.

    The defaults read windcore's reference single-turbine table (``data``, column
    ``timestamp``, ``wind_speed`` and ``power``) in UTC days. For a farm table such as
    ``scada(turbine_id text, ts timestamptz, wind_speed, power, wind_direction float8)``
    reporting in Berlin time::

        SourceDatabase(
            url=dg.EnvVar("WINDCORE_SOURCE_URL"),
            table="scada", time_column="ts", asset_column="turbine_id",
            variables=["wind_speed", "power", "wind_direction"], angles="wind_direction",
            timezone="Europe/Berlin", late_data_days=3,
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
    timezone: str = Field(
        default="UTC",
        description="IANA name of the farm's reporting zone, e.g. Europe/Berlin: a day (a "
        "partition) is local midnight to local midnight, 23 or 25 hours on DST days. The "
        "partitions are built in this zone (build_definitions).",
    )
    label: Literal["start", "end"] = Field(
        default="start",
        description="Stamp each window at its start (default) or at its end, as many SCADA "
        "systems do.",
    )
    late_data_days: int = Field(
        default=DEFAULT_LATE_DATA_DAYS,
        ge=1,
        description="The late-data horizon: the daily sync (and an observation without a "
        "partition) covers the last N complete local days.",
    )

    @field_validator("variables", "angles", "turbines", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        return _names(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)") from e
        return value

    def run_options(self) -> Dict[str, Any]:
        """The keyword arguments of ``windcore.run`` this resource sets (unset ones keep
        windcore's defaults: UTC days, windows labelled by their start)."""
        options: Dict[str, Any] = {"min_count": self.min_count}
        for name in ("table", "time_column", "asset_column", "variables", "angles"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        if self.timezone != "UTC":
            options["timezone"] = self.timezone
        if self.label != "start":
            options["label"] = self.label
        return options


class TargetDatabase(dg.ConfigurableResource):
    """Where the 10-minute statistics go: a postgres:// URL or an embedded-store directory."""

    url: str = Field(description="A postgres:// URL or an embedded-store directory.")


# --- Fingerprints of the source: the data versions of scada_samples -------------------------


def _version(rows: int, assets: Mapping[str, str]) -> str:
    """A day's data version: ``<rows>-<digest of the per-turbine fingerprints>``, or
    ``empty``."""
    if not rows:
        return EMPTY_DAY_VERSION
    text = "\n".join(f"{asset}={fp}" for asset, fp in sorted(assets.items()))
    return f"{rows}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def source_fingerprints(source: SourceDatabase, days: Sequence[str]) -> Dict[str, str]:
    """The data version of each local day of ``days`` (contiguous, 'YYYY-MM-DD') in the
    source: ``<rows>-<digest>``, or ``empty`` for a day without samples. Any change of a
    sample (a late row, a corrected value, a deleted row) changes the day's version.

    The fingerprints are windcore's own (:func:`windcore.day_fingerprints`, those an
    incremental run compares), per turbine over the time and the channels
    (``variables``; by default every channel of the source): a PostgreSQL source
    computes them in the database without moving the rows; an embedded store from its
    files.
    """
    days = sorted(days)
    if not days:
        return {}
    layout = {
        name: getattr(source, name)
        for name in ("table", "time_column", "asset_column")
        if getattr(source, name) is not None
    }
    found = windcore.day_fingerprints(
        source.url.strip(), days[0], days[-1], variables=source.variables,
        timezone=source.timezone, **layout,
    )
    versions = {day.isoformat(): _version(v["rows"], v["assets"]) for day, v in found.items()}
    return {day: versions.get(day, EMPTY_DAY_VERSION) for day in days}


# --- Counting the windows in the target ---------------------------------------------------


def windows_per_turbine(
    target: str,
    day: str,
    signals: Sequence[str],
    timezone: str = "UTC",
    label: str = "start",
) -> Dict[str, int]:
    """The windows each turbine (asset; ``''`` for a single turbine) has in ``target`` on
    the local ``day`` ('YYYY-MM-DD') of ``timezone``: distinct timestamps of any of
    ``signals`` (windows stamped by their start, or with ``label="end"`` by their end).

    ``target`` is a postgres:// URL or an embedded-store directory; windcore counts
    (:func:`windcore.target_windows`). A turbine without any window is absent.
    """
    signals = list(signals)
    if not signals:
        return {}
    counts = windcore.target_windows(
        target.strip(), day, day, timezone=timezone, signals=signals, label=label, every=EVERY
    )
    return {asset: int(n) for asset, n in zip(counts["asset"], counts["windows"])}


# --- The check ---------------------------------------------------------------------------


def _turbine(asset: str) -> str:
    return asset if asset else "the turbine (asset '')"


def _plural(n: int) -> str:
    return f"{n} turbine" if n == 1 else f"{n} turbines"


def check_all_windows(
    per_turbine: Mapping[str, int],
    expected_turbines: Optional[Sequence[str]] = None,
    source_empty: bool = False,
    expected_windows: int = WINDOWS_PER_DAY,
) -> dg.AssetCheckResult:
    """``all_windows``: passes when every turbine has all ``expected_windows`` windows of
    the day (144 for a UTC day; see ``windows_in_day`` for a local one).

    The turbines are those of ``per_turbine`` plus ``expected_turbines`` (counted 0 when
    they have no window). Fails, naming the short turbines and their counts, otherwise;
    fails too when the day has no windows or no source rows.
    """
    counts = dict(per_turbine)
    for turbine in expected_turbines or ():
        counts.setdefault(turbine, 0)
    counts = dict(sorted(counts.items()))
    incomplete = {t: n for t, n in counts.items() if n < expected_windows}
    passed = bool(counts) and not incomplete and not source_empty
    if source_empty:
        description = "the source has no rows for the day: nothing was loaded"
    elif not counts:
        description = "the target has no windows for the day"
    elif incomplete:
        short = ", ".join(
            f"{_turbine(t)} has {n} of {expected_windows}" for t, n in incomplete.items()
        )
        description = (
            f"{len(incomplete)} of {_plural(len(counts))} short of {expected_windows} "
            f"windows: {short}"
        )
    else:
        description = f"{_plural(len(counts))}, each with all {expected_windows} windows"
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=passed,
        description=description,
        metadata={
            # Totals over the turbines (for one turbine: its windows, of the day's).
            "windows": sum(counts.values()),
            "expected": expected_windows * len(counts),
            "turbines": len(counts),
            "expected_per_turbine": expected_windows,
            "incomplete_turbines": dg.MetadataValue.json(incomplete),
        },
    )


def check_days(
    per_day: Mapping[str, Mapping[str, int]],
    expected_windows: Mapping[str, int],
    expected_turbines: Optional[Sequence[str]] = None,
    empty_days: Iterable[str] = (),
) -> dg.AssetCheckResult:
    """``all_windows`` over several days (a run over a range of partitions): passes when
    every turbine has all windows of each day; otherwise names the days and turbines."""
    empty = set(empty_days)
    results = {
        day: check_all_windows(counts, expected_turbines, day in empty, expected_windows[day])
        for day, counts in sorted(per_day.items())
    }
    failed = {day: r for day, r in results.items() if not r.passed}
    days = list(results)
    if failed:
        description = "; ".join(f"{day}: {r.description}" for day, r in failed.items())
    else:
        description = (
            f"{len(days)} days ({days[0]}..{days[-1]}): every turbine has all windows of "
            "each day"
        )
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=bool(results) and not failed,
        description=description,
        metadata={
            "days": len(days),
            "windows": sum(int(r.metadata["windows"].value) for r in results.values()),
            "expected": sum(int(r.metadata["expected"].value) for r in results.values()),
            "expected_per_turbine": dg.MetadataValue.json(dict(expected_windows)),
            "incomplete_days": dg.MetadataValue.json(
                {day: r.metadata["incomplete_turbines"].value for day, r in failed.items()}
            ),
        },
    )


# --- Assets, jobs, schedule ---------------------------------------------------------------


class WindStatisticsConfig(dg.Config):
    changed_only: bool = Field(
        default=False,
        description="Incremental: rewrite only the (day, turbine) pairs whose source samples "
        "changed since they were loaded (windcore's fingerprints); unchanged days are not "
        "written at all. Default: replace the whole day(s). Runs tagged "
        f"{CHANGED_ONLY_TAG}=true (the sync job's) are incremental too.",
    )


def _require_zone(source: SourceDatabase, timezone: str) -> None:
    if source.timezone != timezone:
        raise dg.Failure(
            f"the source resource reports in {source.timezone!r} but the partitions are days "
            f"of {timezone!r}: build the definitions from the resource "
            "(build_definitions(source=...)) so that both agree"
        )


def build_assets(timezone: str = "UTC") -> Tuple[dg.SourceAsset, dg.AssetsDefinition]:
    """``scada_samples`` (observable source) and ``wind_statistics``, partitioned by the
    local days of ``timezone``."""
    partitions = daily_partitions(timezone)

    def scada_samples_fn(context, source: SourceDatabase):
        _require_zone(source, timezone)
        if context.has_partition_key or context.has_partition_key_range:
            # The run's partition, or its range of partitions.
            days = list(partitions.get_partition_keys_in_range(context.partition_key_range))
        else:
            days = complete_days(timezone, source.late_data_days)
        versions = source_fingerprints(source, days)
        context.log.info(f"observed {len(versions)} day(s) of the source: {versions}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            return dg.DataVersionsByPartition(versions)

    with warnings.catch_warnings():
        # Observable source assets and DataVersionsByPartition are beta in Dagster 1.13.
        warnings.simplefilter("ignore", dg.BetaWarning)
        scada_samples = dg.observable_source_asset(
            name=SOURCE_ASSET,
            partitions_def=partitions,
            description="The 1-minute SCADA samples. Observing records a fingerprint of each "
            "local day's samples as its data version (the run's partitions, or without one the "
            "last `late_data_days` complete days); a changed day makes that partition of "
            "wind_statistics stale.",
        )(scada_samples_fn)

    @dg.asset(
        name=STATS_ASSET,
        partitions_def=partitions,
        deps=[scada_samples],
        check_specs=[
            dg.AssetCheckSpec(
                name=CHECK_NAME,
                asset=STATS_ASSET,
                description="Every turbine has all ten-minute windows of the local day in the "
                "target (144; 138 or 150 on DST days); a failure names the turbines that do "
                "not, with their window counts.",
            )
        ],
        description="10-minute statistics (default mean/min/max/std of wind speed and power) "
        f"of every turbine for one local day ({timezone}), computed by windcore.",
    )
    def wind_statistics(
        context: dg.AssetExecutionContext,
        config: WindStatisticsConfig,
        source: SourceDatabase,
        target: TargetDatabase,
    ) -> dg.MaterializeResult:
        _require_zone(source, timezone)
        days = list(context.partition_keys)
        single = len(days) == 1
        changed_only = config.changed_only or context.run.tags.get(CHANGED_ONLY_TAG) == "true"
        # One call covers the day, or the range of days: every turbine of a farm source.
        when = {"date": days[0]} if single else {"start": days[0], "end": days[-1]}
        summary = windcore.run(
            **when,
            source=source.url,
            target=target.url,
            every=EVERY,
            changed_only=changed_only,
            **source.run_options(),
        )
        per_day = {
            day: windows_per_turbine(target.url, day, summary.signals, timezone, source.label)
            for day in days
        }
        expected = {day: windows_in_day(day, timezone) for day in days}
        empty = {d.isoformat() for d in summary.empty_days}
        if single:
            day = days[0]
            check = check_all_windows(
                per_day[day], source.turbines, day in empty, expected[day]
            )
        else:
            check = check_days(per_day, expected, source.turbines, empty)
        quality = {name: int(getattr(summary, name)) for name in QUALITY_COUNTERS}
        pairs = {name: int(getattr(summary, name)) for name in PAIR_COUNTERS}
        reports = {
            r.day.isoformat(): {
                "outcome": r.outcome,
                "windows": r.windows,
                **{
                    f"assets_{k}": int(getattr(r, f"assets_{k}"))
                    for k in ("unchanged", "changed", "new", "removed")
                },
            }
            for r in summary.reports
        }
        turbines = sorted({t for counts in per_day.values() for t in counts})
        span = days[0] if single else f"{days[0]}..{days[-1]}"
        context.log.info(
            f"{span} ({timezone}): {summary.rows_in} rows in, {summary.rows_out} rows out, "
            f"{summary.windows} windows over {len(turbines)} turbine(s); quality {quality}"
            + (f"; pairs {pairs}" if changed_only else "")
        )
        if not check.passed:
            context.log.warning(f"{span}: {check.description}")
        metadata: Dict[str, Any] = {
            "day": span,
            "timezone": timezone,
            "source": summary.source,  # the password is masked
            "rows_in": summary.rows_in,
            "rows_out": summary.rows_out,
            "windows": summary.windows,
            "turbines": len(turbines),
        }
        if single:
            metadata["windows_per_turbine"] = dg.MetadataValue.json(per_day[days[0]])
            metadata["expected_windows"] = expected[days[0]]
            metadata["outcome"] = reports.get(days[0], {}).get("outcome", "none")
        else:
            metadata["windows_per_day"] = dg.MetadataValue.json(per_day)
            metadata["days"] = dg.MetadataValue.json(reports)
        metadata.update(quality)
        metadata["changed_only"] = changed_only
        metadata.update(pairs)
        metadata["signals"] = dg.MetadataValue.json(list(summary.signals))
        metadata["duration_s"] = dg.MetadataValue.float(summary.elapsed_seconds)
        return dg.MaterializeResult(metadata=metadata, check_results=[check])

    return scada_samples, wind_statistics


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
