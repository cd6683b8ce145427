"""The assets ``scada_samples`` (observable source) and ``wind_statistics`` (the
windcore run of its partitions)."""

import warnings
from typing import Any, Dict, Tuple

import dagster as dg
import windcore
from pydantic import Field

from windcore_dagster.checks import check_all_windows, check_days, windows_per_turbine
from windcore_dagster.days import (
    CHANGED_ONLY_TAG,
    CHECK_NAME,
    EVERY,
    PAIR_COUNTERS,
    QUALITY_COUNTERS,
    SOURCE_ASSET,
    STATS_ASSET,
    complete_days,
    daily_partitions,
    windows_in_day,
)
from windcore_dagster.resources import SourceDatabase, TargetDatabase, source_fingerprints


class WindStatisticsConfig(dg.Config):
    changed_only: bool = Field(
        default=False,
        description="Incremental: rewrite only the (day, turbine) pairs whose source samples "
        "changed since they were loaded (windcore's fingerprints); unchanged days are not "
        "written at all. Default: replace the whole day(s). Runs tagged "
        f"{CHANGED_ONLY_TAG}=true (the sync job's) are incremental too.",
    )


def availability_per_turbine(
    target: str, days: list, timezone: str, label: str, every: str
) -> Dict[str, Any]:
    """Time-based availability of each turbine over ``days`` (windcore's ratio of
    the summed seconds of its windows; None when it has neither available nor
    unavailable time), with those seconds."""
    table = windcore.target_availability(
        target, days[0], days[-1], timezone=timezone, label=label, every=every, per_day=False
    )
    return {
        asset or "turbine": {
            "availability": table["availability"][i],
            "available_seconds": table["available_seconds"][i],
            "unavailable_seconds": table["unavailable_seconds"][i],
        }
        for i, asset in enumerate(table["asset"])
    }


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
        if source.availability is not None:
            per_turbine = availability_per_turbine(
                target.url, days, timezone, source.label, EVERY
            )
            metadata["availability_per_turbine"] = dg.MetadataValue.json(per_turbine)
        metadata["signals"] = dg.MetadataValue.json(list(summary.signals))
        metadata["duration_s"] = dg.MetadataValue.float(summary.elapsed_seconds)
        return dg.MaterializeResult(metadata=metadata, check_results=[check])

    return scada_samples, wind_statistics
