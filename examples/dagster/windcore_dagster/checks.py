"""The windows per turbine in the target, and the check ``all_windows``."""

from typing import Dict, Iterable, Mapping, Optional, Sequence

import dagster as dg
import windcore

from windcore_dagster.days import CHECK_NAME, EVERY, WINDOWS_PER_DAY


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
