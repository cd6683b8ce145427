"""Type stubs of the native module ``windcore._windcore``.

Use the ``windcore`` package: it re-exports ``run``, ``generate``, ``init``,
``source_assets``, ``day_fingerprints``, ``target_windows``, ``target_availability``,
``mask_password``
from here, and wraps ``resample`` with the pandas / polars / pyarrow front end.
``run`` returns a :class:`windcore.RunSummary` (``windcore/_report.py``): the
core's report, serialised once and wrapped in Python.
"""

import datetime
import os
from typing import Any, Dict, Iterable, List, Optional, Union, final

from windcore._report import RunSummary

__version__: str
DEFAULT_DATA_DIR: str
DEFAULT_SEED: int

#: A UTC day: 'YYYY-MM-DD', a date, or a datetime (aware: its UTC day; naive: taken as UTC).
_Day = Union[str, datetime.date, datetime.datetime]
#: A directory of the embedded store, a postgres:// URL, or (source only) an http:// URL
#: of windcore's connector API or files: a CSV/TOA5/Parquet file, a glob such as
#: 'exports/*.csv', or a directory of them.
_Location = Union[str, "os.PathLike[str]"]
#: '10m', '90s', '1h', '1h30m', '1d', or a timedelta.
_Every = Union[str, datetime.timedelta]
#: 'a,b' or an iterable of strings.
_Names = Union[str, Iterable[str]]

def resample(
    data: Any,
    every: _Every,
    stats: _Names,
    variables: Optional[_Names],
    by: Optional[_Names],
    angles: Optional[_Names],
    min_count: int,
    long: bool,
    timezone: Optional[str] = None,
    label: Optional[str] = None,
    time_column: Optional[str] = None,
    counters: Optional[_Names] = None,
    states: Optional[_Names] = None,
    state_hold: Optional[_Every] = None,
    availability: Optional[Union[Dict[str, Any], str, "os.PathLike[str]"]] = None,
    numpy: bool = False,
    key_words: Optional[Dict[str, List[Optional[str]]]] = None,
    duplicates: bool = False,
) -> Any:
    """Resamples an object implementing ``__arrow_c_stream__``.

    ``duplicates=True``: returns ``(result, n)``, ``n`` the input rows dropped
    as duplicate timestamps.

    ``counters``: cumulative counters (``<c>_delta``, ``<c>_last``);
    ``states``: state channels (``<s>_seconds_<state>``,
    ``<s>_seconds_nodata``), a state holding for at most ``state_hold``;
    ``availability``: a mapping dict or TOML path (see
    :func:`windcore.resample`).

    ``by``: key columns (string or integer; a dictionary-encoded key column
    is decoded to strings); ``angles``: variables in degrees, given circular
    statistics; ``min_count``: the fewest valid samples (>= 1) a window needs
    for its statistics other than ``count``; ``time_column``: the time column
    (default ``timestamp``). Output columns: the keys, the time column (same
    name as in the input), then the statistics (wide) or ``signal``,
    ``value`` (long), rows ordered by key, then time. ``key_words``: key
    columns given as category codes (a polars ``Categorical`` / ``Enum`` as
    its physical integers) and the word each code stands for.

    Returns a PyCapsule named ``arrow_array_stream`` holding the result as an
    Arrow C stream. With ``numpy=True``: a tuple of that capsule holding the
    columns other than ``Float64``, ``UInt32`` and ``Datetime`` (``None``
    when there are none), a dict of the numeric ones as numpy arrays (the
    core's buffers, not copied: nulls as NaN; ``UInt32`` with nulls as
    ``float64``), a dict of the times (without nulls) as ``(int64 array,
    unit, time zone or None)``, the instants since the epoch, and the names
    of all columns in order. Prefer :func:`windcore.resample`, which takes
    and returns DataFrames.
    """

def run(
    date: Optional[_Day] = None,
    start: Optional[_Day] = None,
    end: Optional[_Day] = None,
    source: Optional[_Location] = "windcore-data",
    target: Optional[_Location] = None,
    variables: Optional[_Names] = None,
    stats: _Names = ("mean", "min", "max", "std"),
    every: _Every = "10m",
    jobs: int = 2,
    table: Optional[str] = None,
    time_column: Optional[str] = None,
    asset_column: Optional[str] = None,
    angles: Optional[_Names] = None,
    min_count: int = 1,
    timezone: Optional[str] = None,
    label: Optional[str] = None,
    changed_only: bool = False,
    source_timezone: Optional[str] = None,
    assets: Optional[_Names] = None,
    asset_pattern: Optional[str] = None,
    delimiter: Optional[str] = None,
    decimal: Optional[str] = "auto",
    comment: Optional[str] = "#",
    skip_lines: int = 0,
    quote: str = '"',
    na_values: Optional[_Names] = None,
    time_format: Optional[str] = "auto",
    rename: Optional[Dict[str, str]] = None,
    counters: Optional[_Names] = None,
    states: Optional[_Names] = None,
    state_hold: Optional[_Every] = None,
    availability: Optional[Union[Dict[str, Any], str, "os.PathLike[str]"]] = None,
) -> "RunSummary":
    """Runs the ETL over one day (``date``), the inclusive range
    ``start``..``end``, or every day present in the source (neither given).

    ``variables`` default to ``wind_speed`` and ``power`` when the source has
    both, otherwise every numeric channel. ``table``, ``time_column`` and
    ``asset_column`` name where the samples are in a PostgreSQL source (a
    farm: statistics per asset). ``angles``: channels in degrees (circular
    statistics). ``min_count``: the fewest valid samples a window needs for
    its statistics (``count`` is always written). ``timezone``: IANA name of
    the reporting days' zone (a day is local midnight to local midnight);
    ``label``: ``'start'`` or ``'end'`` of each window. ``changed_only``:
    incremental, only the (day, asset) pairs whose samples changed since
    their load are rewritten (``RunSummary.pairs_*`` count them).
    ``source_timezone``: the zone of a time column of naive local times.
    ``assets``: only these assets (a batch of a fleet); only their rows are
    read and only their statistics and load records replaced.
    ``counters``, ``states``, ``state_hold``, ``availability``: counters and
    state channels (read besides ``variables``) and the availability mapping,
    as in :func:`windcore.resample`; each day's first sample takes its
    predecessor from the day before (at most 24 h), and a (day, asset)'s
    fingerprint covers it.

    Files as the source (``source="exports/*.csv"``: a file, a glob or a
    directory of CSV, ``.gz``/``.zst`` CSV, TOA5 logger or Parquet files; give
    a ``target``): ``time_column`` and ``asset_column`` are column names
    (default time column: ``timestamp`` in any case, else the first column of
    times), ``source_timezone`` the zone of naive times. ``asset_pattern``: a
    regex with one capture group matched against each file's path, for files
    whose turbine is named only in the file name. ``delimiter``: ``','``,
    ``';'``, ``'tab'`` (default: sniffed). ``decimal``: ``'auto'`` (a comma
    when the delimiter is not a comma), ``'comma'``, ``'point'``.
    ``comment``: comment lines' first character (``None``: none).
    ``skip_lines``: lines before the header. ``quote``: the quote character.
    ``na_values``: more missing-value markers (``NA``, ``NAN``, empty, ... are
    always missing). ``time_format``: ``'auto'`` (ISO 8601 with or without an
    offset, or epoch numbers), ``'epoch-s'``, ``'epoch-ms'`` or a strftime
    format such as ``'%d.%m.%Y %H:%M'``. ``rename``: ``{column: variable}``.
    Rows that do not parse are counted as bad rows, never samples; of
    duplicate rows across files the later file in sorted path order wins.

    Reads ``variables`` from ``source``, computes ``stats`` over windows of
    ``every`` and replaces each day's statistics in ``target`` (default: the
    same store as ``source``), ``jobs`` days in flight at once.

    Raises ``PipelineError`` (with ``.summary``, ``.failed_days``,
    ``.days_to_rerun``) if a day fails; ``ConfigError`` for bad arguments
    (its ``setting`` names which: ``"window_length"``, ``"date_range"``, ...);
    ``DatabaseError`` / ``StoreError`` when the source or target cannot be opened.
    """

def generate(
    days: int = 10,
    start: Optional[_Day] = "2024-01-01",
    seed: int = 42,
    missing_rate: float = 0.0,
    source: Optional[_Location] = "windcore-data",
    turbines: int = 1,
    table: Optional[str] = None,
    time_column: Optional[str] = None,
    asset_column: Optional[str] = None,
) -> int:
    """Writes ``days`` days of seeded, deterministic 1-minute demo samples from
    ``start`` into ``source`` (replacing those days; creating the source if
    needed). Each value is NULL with probability ``missing_rate``. Returns the
    number of rows written.
    """

def init(
    source: Optional[_Location] = None,
    target: Optional[_Location] = None,
) -> None:
    """Creates the source and/or the target (directories of the embedded store,
    or PostgreSQL tables); safe to repeat. With neither given, both in
    ``windcore-data``.
    """

def source_assets(
    source: _Location,
    from_: Optional[_Day] = None,
    to: Optional[_Day] = None,
    *,
    table: Optional[str] = None,
    time_column: Optional[str] = None,
    asset_column: Optional[str] = None,
    source_timezone: Optional[str] = None,
    timezone: Optional[str] = None,
) -> List[str]:
    """The assets with samples in ``source`` on the local days ``from_``..``to``
    of ``timezone`` (with neither: on any day), sorted; ``['']`` for a source
    with one asset. A PostgreSQL source answers with one aggregate query.
    """

def day_fingerprints(
    source: _Location,
    from_: _Day,
    to: _Day,
    *,
    variables: Optional[_Names] = None,
    table: Optional[str] = None,
    time_column: Optional[str] = None,
    asset_column: Optional[str] = None,
    source_timezone: Optional[str] = None,
    timezone: Optional[str] = None,
) -> Dict[datetime.date, Dict[str, Any]]:
    """Per local day ``from_``..``to``: ``{"rows": int, "assets": {asset:
    fingerprint}}`` -- the fingerprints an incremental run compares, over the
    timestamp and ``variables`` (default: every variable of the source). A
    day without samples: ``rows`` 0, no assets.
    """

def target_availability(
    target: _Location,
    from_: _Day,
    to: _Day,
    *,
    timezone: Optional[str] = None,
    label: Optional[str] = None,
    every: _Every = "10m",
    per_day: bool = True,
) -> Dict[str, List[Any]]:
    """Time-based availability per (local day, asset) in ``target``, from its
    windows' ``available_seconds`` / ``unavailable_seconds`` /
    ``excluded_seconds`` / ``unknown_seconds``: columns ``{"day": [date],
    "asset": [str], "windows": [int], "available_seconds": [float],
    "unavailable_seconds": [float], "excluded_seconds": [float],
    "unknown_seconds": [float], "availability": [float | None]}`` ordered by day
    and asset. ``availability`` is ``available / (available + unavailable)`` of
    the day's sums (None when both are 0), never a mean of window ratios. With
    ``per_day=False``: one row per asset over the whole range, the same ratio of
    its days' sums (no ``day`` column). A (day, asset) without availability signals is
    absent; the asset is ``''`` for a single turbine.
    """

def target_windows(
    target: _Location,
    from_: _Day,
    to: _Day,
    *,
    timezone: Optional[str] = None,
    signals: Optional[_Names] = None,
    label: Optional[str] = None,
    every: _Every = "10m",
) -> Dict[str, List[Any]]:
    """Windows per (local day, asset) in ``target``: columns ``{"day": [date],
    "asset": [str], "windows": [int]}`` ordered by day and asset (distinct window
    timestamps of any of ``signals``; ``label="end"``: stamps ``every`` after
    the window start). A (day, asset) without windows is absent.
    """

def mask_password(text: str) -> str:
    """``text`` with the password of a URL (``postgres://user:***@host``) or of a
    ``password=`` key masked."""

def run_days(
    date: Optional[_Day] = None,
    start: Optional[_Day] = None,
    end: Optional[_Day] = None,
) -> Optional[List[datetime.date]]:
    """The days :func:`run` would run for ``date``, or ``start``..``end`` (both
    included); None when neither is given (every day in the source). The core's
    one parser of days, with the same errors as :func:`run`."""

def merge_summaries(
    parts: List[str],
    elapsed_seconds: Optional[float] = None,
    source: str = "",
    target: str = "",
    signals: List[str] = ...,
) -> RunSummary:
    """The summaries of parts of one run (each ``RunSummary._report_json()``)
    merged by the core (``RunSummary::merge``): one report per day, its counters
    summed over the parts; ``elapsed_seconds`` replaces the parts' summed time."""
