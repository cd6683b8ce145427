"""The calendar of the Dagster project: daily partitions of local days, the windows in a
day, the last complete days, and the names and tags the definitions share."""

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import dagster as dg

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
