"""windcore: wind-turbine SCADA ETL, 1-minute samples to 10-minute statistics, in Rust.

>>> import polars as pl, windcore
>>> stats = windcore.resample(samples)                 # polars, pandas or pyarrow in
>>> farm = windcore.resample(scada, by="asset", angles="wind_direction")   # per turbine
>>> summary = windcore.run(date="2024-01-03")          # the whole ETL for one UTC day
>>> windcore.run(source="exports/*.csv", target="out",  # files as the source
...              time_column="Date and time", asset_column="Wind_turbine_name")

Functions
---------
resample   window statistics of a DataFrame (pure, in memory)
run        the ETL over one day, a range of days or every source day (from a store,
           PostgreSQL, or files: CSV / TOA5 logger / Parquet, a glob or a directory)
generate   seeded, deterministic demo data into a source
init       create a source and/or target (directories or PostgreSQL tables)

Conventions
-----------
* Time is UTC. A timestamp with a time zone is taken as the instant it is; a
  naive timestamp is taken as UTC. A day is ``[00:00, 24:00)`` UTC.
* A window is half-open ``[t, t + every)``, aligned to the Unix epoch and
  labelled by its start ``t`` (pandas ``resample`` / polars
  ``group_by_dynamic`` defaults).
* ``std`` is the sample standard deviation (ddof = 1).
* NULL and NaN are not samples. An undefined statistic (std of one sample,
  anything of a window with fewer than ``min_count`` valid samples) is absent:
  null / NaN in wide form, no row in long form -- never 0.0.
* Statistics are per key (``by``, e.g. the turbine) and window. Of several
  samples of one key with the same timestamp the last one (in input order) is kept.
* Angles (``angles``, degrees) get circular statistics: the mean direction,
  ``scipy.stats.circstd``, and min / max as the mean plus the extreme deviations.

Errors derive from :class:`windcore.WindcoreError` (see :mod:`windcore.exceptions`).
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union, overload

from windcore import _windcore
from windcore._frames import (
    TIMESTAMP,
    _decode_arrow_keys,
    _decode_polars_keys,
    _from_pandas,
    _to_pandas,
)
from windcore._report import DayReport, Quality, RunSummary
from windcore._windcore import (
    DEFAULT_DATA_DIR,
    DEFAULT_SEED,
    __version__,
    day_fingerprints,
    generate,
    init,
    mask_password,
    run,
    source_assets,
    target_availability,
    target_windows,
)
from windcore.exceptions import (
    ColumnError,
    ConfigError,
    DatabaseError,
    DataError,
    DuplicateTimestampsWarning,
    PipelineError,
    ProtocolError,
    SchemaError,
    StoreError,
    WindcoreError,
    is_transient,
)

if TYPE_CHECKING:  # pragma: no cover
    import datetime

    import pandas as pd
    import polars as pl
    import pyarrow as pa

__all__ = [
    "resample",
    "run",
    "generate",
    "init",
    "source_assets",
    "day_fingerprints",
    "target_availability",
    "target_windows",
    "mask_password",
    "is_transient",
    "DuplicateTimestampsWarning",
    "RunSummary",
    "DayReport",
    "Quality",
    "WindcoreError",
    "ConfigError",
    "ColumnError",
    "DatabaseError",
    "DataError",
    "SchemaError",
    "ProtocolError",
    "StoreError",
    "PipelineError",
    "DEFAULT_DATA_DIR",
    "DEFAULT_SEED",
    "DEFAULT_STATS",
    "DEFAULT_VARIABLES",
    "STATS",
    "TIMESTAMP",
    "__version__",
]

#: The statistics computed when none are asked for.
DEFAULT_STATS = ("mean", "min", "max", "std")
#: Every statistic windcore knows.
STATS = ("mean", "min", "max", "std", "count", "first", "last", "sum", "median")
#: The variables :func:`run` aggregates when none are asked for.
DEFAULT_VARIABLES = ("wind_speed", "power")

Every = Union[str, "datetime.timedelta"]
Names = Union[str, Iterable[str]]


class _ArrowStream:
    """Hands a native Arrow C stream capsule to polars / pyarrow (``__arrow_c_stream__``).

    The stream can be consumed once.
    """

    __slots__ = ("_capsule",)

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        # The schema is fixed; a consumer asking for another one casts itself.
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise RuntimeError("this Arrow stream was already consumed")
        return capsule


def _warn_duplicates(dropped: int, by: list[str]) -> None:
    """A :class:`DuplicateTimestampsWarning` for ``dropped`` rows, pointing at
    the caller of :func:`resample`."""
    hint = (
        f" (per key of {', '.join(by)})"
        if by
        else "; a table of several series (turbines) needs by=, e.g. by=\"asset\""
    )
    warnings.warn(
        f"windcore.resample: {dropped:,} input {'row' if dropped == 1 else 'rows'} dropped as "
        f"duplicate timestamps, the last of each timestamp kept{hint}",
        DuplicateTimestampsWarning,
        stacklevel=3,
    )


def _names(names: Optional[Names]) -> list[str]:
    """``"a,b"`` or an iterable of names as a list (empty for None)."""
    if names is None:
        return []
    if isinstance(names, str):
        return [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"expected strings, got {type(n).__name__}")
        out.append(n)
    return out


@overload
def resample(
    data: Union["pd.DataFrame", "pd.Series"],
    every: Every = ...,
    stats: Names = ...,
    variables: Optional[Names] = ...,
    by: Optional[Names] = ...,
    angles: Optional[Names] = ...,
    min_count: int = ...,
    long: bool = ...,
    timezone: Optional[str] = ...,
    label: str = ...,
    time_column: Optional[str] = ...,
    counters: Optional[Names] = ...,
    states: Optional[Names] = ...,
    state_hold: Optional[Every] = ...,
    availability: Optional[Any] = ...,
) -> "pd.DataFrame": ...
@overload
def resample(
    data: Union["pa.Table", "pa.RecordBatch"],
    every: Every = ...,
    stats: Names = ...,
    variables: Optional[Names] = ...,
    by: Optional[Names] = ...,
    angles: Optional[Names] = ...,
    min_count: int = ...,
    long: bool = ...,
    timezone: Optional[str] = ...,
    label: str = ...,
    time_column: Optional[str] = ...,
    counters: Optional[Names] = ...,
    states: Optional[Names] = ...,
    state_hold: Optional[Every] = ...,
    availability: Optional[Any] = ...,
) -> "pa.Table": ...
@overload
def resample(
    data: Union["pl.DataFrame", "pl.LazyFrame", Any],
    every: Every = ...,
    stats: Names = ...,
    variables: Optional[Names] = ...,
    by: Optional[Names] = ...,
    angles: Optional[Names] = ...,
    min_count: int = ...,
    long: bool = ...,
    timezone: Optional[str] = ...,
    label: str = ...,
    time_column: Optional[str] = ...,
    counters: Optional[Names] = ...,
    states: Optional[Names] = ...,
    state_hold: Optional[Every] = ...,
    availability: Optional[Any] = ...,
) -> "pl.DataFrame": ...
def resample(
    data: Any,
    every: Every = "10m",
    stats: Names = DEFAULT_STATS,
    variables: Optional[Names] = None,
    by: Optional[Names] = None,
    angles: Optional[Names] = None,
    min_count: int = 1,
    long: bool = False,
    timezone: Optional[str] = None,
    label: str = "start",
    time_column: Optional[str] = None,
    counters: Optional[Names] = None,
    states: Optional[Names] = None,
    state_hold: Optional[Every] = None,
    availability: Optional[Any] = None,
) -> Any:
    """Window statistics of 1-minute (or any) samples, computed in Rust.

    Parameters
    ----------
    data
        The samples: a polars DataFrame (or LazyFrame, collected first), a
        pandas DataFrame or Series, a pyarrow Table, or any object
        implementing the Arrow PyCapsule interface (``__arrow_c_stream__``).
        It needs a time column (``time_column``, default ``timestamp``) of a
        datetime type (ms, us or ns; any time zone, naive = UTC). A pandas
        DataFrame without that column may have a ``DatetimeIndex`` instead
        (when ``time_column`` is given, only an index of that name counts).
        A pandas Series needs a ``DatetimeIndex``; its values are the one
        variable, named after the Series (``value`` when unnamed). polars and
        pyarrow data are read without copying. The rows may come in any
        order.
    every
        Window length: ``"10m"``, ``"90s"``, ``"1h"``, ``"1h30m"``, ``"1d"`` or
        a ``datetime.timedelta``; whole seconds from 1 minute to 1 day.
    stats
        Statistics of the analog variables, in output order: any of ``mean``,
        ``min``, ``max``, ``std`` (ddof = 1), ``count`` (valid samples),
        ``first``, ``last``, ``sum`` and ``median`` (the mean of the two middle
        samples for an even count, as pandas; angles have no sum or median);
        a sequence or ``"mean,std"``.
    variables
        Columns to aggregate (numeric). Default: every numeric column except
        the time column and the ``by`` columns.
    by
        Key columns, e.g. ``"asset"`` (a sequence or ``"a,b"``): statistics
        are computed per key and window, and duplicate timestamps are found
        per key. A key is a string or an integer column; a pandas
        ``category``, a polars ``Categorical`` / ``Enum`` or a pyarrow
        dictionary key column counts as its values (strings, grouped by
        their rank without copying a string, the result holding the
        strings; the integers of a pandas category of integers). Default:
        none, the whole table is one series.
    angles
        Variables that are angles in degrees, e.g. ``"wind_direction"`` (a
        sequence or ``"a,b"``); each must be among ``variables`` when those
        are given. Their statistics are circular: ``mean`` is the direction
        of the mean unit vector, in ``[0, 360)``; ``std`` is
        ``sqrt(-2 ln R)`` in degrees, ``R`` the length of the mean unit vector
        (``scipy.stats.circstd(x, high=360, low=0)``); ``min`` / ``max`` are
        the mean plus the most negative / positive deviation from it (each
        deviation taken into ``[-180, 180)``), in ``[0, 360)``. A window whose
        directions cancel (``R < 1e-9``) has no angle mean, std, min or max.
    min_count
        The fewest valid samples a window needs for its statistics (at least
        1; default 1): with fewer, every statistic but ``count`` is absent.
        ``count`` is always given (absent only when 0); ``std`` needs at least
        two samples in any case.
    long
        Long form (key columns, time, ``signal``, ``value``; one row
        per defined statistic) instead of wide form (key columns,
        time, then one ``<variable>_<stat>`` column per variable and
        statistic; one row per key and window holding at least one input row).
    timezone
        IANA time zone (e.g. ``"Europe/Berlin"``) whose clock the windows line
        up with; the output time column is shown in that zone. Default UTC.
        10-minute windows of whole- and half-hour zones equal the UTC ones.
    label
        ``"start"`` (default, as pandas and polars) or ``"end"``: label each
        window by ``t`` or by ``t + every`` (as many SCADA systems do).
    time_column
        Name of the time column, as in :func:`run` (default ``timestamp``).
        The output's time column keeps that name.
    counters
        Cumulative counters (energy in kWh, operating hours), taken out of
        the analog variables: per window ``<c>_delta``, the sum of the
        increments of the window's samples (``v - v_prev``, or ``v`` after a
        decrease: a reset; absent without one) and ``<c>_last``. The first
        sample of a (local) day takes its predecessor from at most 24 h
        before the day, so a day's deltas add up to its increase.
    states
        State channels (integer or text codes, e.g. ``"status"``), taken out
        of the analog variables: per window ``<s>_seconds_<state>`` for each
        state present (whole numbers without ``.0``: ``status_seconds_3``)
        and ``<s>_seconds_nodata``, adding up to the window length. A
        sample's state holds from its time until the next sample, for at
        most ``state_hold``. With timestamps at whole seconds the values are
        whole numbers and add up exactly; with sub-second timestamps each is
        its exact duration in the input's unit, converted to seconds.
    state_hold
        How long a state sample holds at most (like ``every``; 1 second to 1
        day). Default: the window length.
    availability
        Time-based availability (IEC 61400-26-1) from a state channel: a dict
        ``{"available": [1, 2, "running"], "unavailable": [5], "excluded":
        [9], "channel": "status"}`` (``channel`` optional with one state
        channel) or the path of such a TOML file. Adds ``availability``
        (``available / (available + unavailable)``, absent when both are 0),
        ``available_seconds``, ``unavailable_seconds``, ``excluded_seconds``
        and ``unknown_seconds`` (unmapped states and no data) per window.

    Returns
    -------
    The same kind of table as the input: polars in, polars out; pyarrow in,
    pyarrow Table out; pandas in, pandas DataFrame out; anything else, polars.
    Columns: the ``by`` columns first (strings or integers, as in the
    input; decoded categoricals as their values), then the time column
    (named as in the input), the window label, a datetime in UTC (or in
    ``timezone``) with the input's time unit, then the statistics.
    Rows are ordered by key, then time (long form: then variable, then
    statistic). Wide statistics are Float64 (``count`` UInt32) with null
    where undefined (pandas: NaN, and ``count`` becomes float64 when it has
    gaps); long ``value`` is Float64 and ``signal`` a string such as
    ``power_std``.

    pandas: a time column in gives a time column out (``RangeIndex``). A
    ``DatetimeIndex`` in gives, as ``df.resample(every).agg(stats)`` does,
    a ``DatetimeIndex`` of the window labels out, with the input index's
    name and, unless ``timezone`` is given, its time zone (naive stays
    naive, in UTC); with ``by``, a ``MultiIndex`` (keys..., time), as
    ``df.groupby(by).resample(every)`` gives. Unlike pandas, windows without
    samples have no row, and the columns stay flat (``power_mean``). A
    Series gives a DataFrame whose wide columns are the statistics
    (``mean``, ``std``, ...), as ``s.resample(every).agg(stats)``; its long
    form keeps ``<variable>_<stat>`` signals.

    Duplicate timestamps: of the rows of one key (the whole table without
    ``by``) with the same timestamp, the last in input order is kept; the
    others are dropped, and a :class:`DuplicateTimestampsWarning` says how
    many (often a table of several turbines resampled without ``by``).

    Raises
    ------
    ColumnError
        No time column, a missing ``by``, ``angles`` or ``variables``
        column, a column of the wrong type (e.g. a float key), null timestamps.
    ConfigError
        A bad ``every``, an unknown statistic, an empty list, ``min_count``
        below 1, an angle that is not among ``variables``, a column that is
        both a key and a variable.
    TypeError
        ``data`` is not a table: e.g. a polars Series or a pyarrow Array (no
        sample times), or a pandas Series without a ``DatetimeIndex``.
    """
    by_names = _names(by)
    angle_names = _names(angles)
    counter_names = _names(counters)
    state_names = _names(states)
    # Text states may be categoricals: decoded like keys.
    decode = by_names + [s for s in state_names if s not in by_names]
    # A pandas / pyarrow / polars object implies its module is imported already.
    pd = sys.modules.get("pandas")
    pa = sys.modules.get("pyarrow")
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(data, pl.Series) or (
        pa is not None and isinstance(data, (pa.Array, pa.ChunkedArray))
    ):
        raise TypeError(
            f"a {type(data).__module__.split('.')[0]} {type(data).__name__} has no sample "
            "times: pass a DataFrame with a time column (e.g. df.select('timestamp', 'power')) "
            "or a pandas Series with a DatetimeIndex"
        )
    is_pandas = pd is not None and isinstance(data, (pd.DataFrame, pd.Series))
    is_arrow = pa is not None and isinstance(data, (pa.Table, pa.RecordBatch))
    restore = None
    key_words: dict[str, list[Optional[str]]] = {}
    if is_pandas:
        try:
            asked = _names(variables)
        except TypeError:
            asked = []  # (the call below says what is wrong with them)
        named = {*by_names, *counter_names, *state_names, *asked}
        table, time_column, restore = _from_pandas(data, time_column, named)
        if restore is not None and restore.variable is not None and variables is None:
            variables = [restore.variable]  # a Series: its values, whatever their type
        data = _decode_arrow_keys(table, decode, by_names)
    elif is_arrow and decode:
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        data = _decode_arrow_keys(data, decode, by_names)
    elif pl is not None and isinstance(data, pl.LazyFrame):
        data, key_words = _decode_polars_keys(data.collect(), decode, by_names)
    elif pl is not None and isinstance(data, pl.DataFrame) and decode:
        data, key_words = _decode_polars_keys(data, decode, by_names)
    result = _windcore.resample(
        data,
        every,
        stats,
        variables,
        by_names,
        angle_names,
        min_count,
        long,
        timezone,
        label,
        time_column,
        counter_names,
        state_names,
        state_hold,
        availability,
        numpy=is_pandas,
        key_words=key_words,
        duplicates=True,
    )
    result, dropped = result
    if dropped:
        _warn_duplicates(dropped, by_names)
    import polars

    if is_pandas:
        # The statistics come as numpy arrays (not copied); the keys and
        # times through Arrow.
        capsule, arrays, times, order = result
        rest = None if capsule is None else polars.DataFrame(_ArrowStream(capsule))
        return _to_pandas(rest, restore, by_names, timezone, long, arrays, times, order)
    stream = _ArrowStream(result)
    if is_arrow:
        import pyarrow

        return pyarrow.table(stream)
    return polars.DataFrame(stream)
