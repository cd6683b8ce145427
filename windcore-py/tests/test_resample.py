"""windcore.resample against the pandas oracle, and its input / output contract."""

from __future__ import annotations

import datetime as dt
import gc
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import windcore

RTOL = 1e-9
ATOL = 1e-12
STATS = ["mean", "min", "max", "std"]


# --------------------------------------------------------------------------- data


def samples(
    n: int = 5_000,
    seed: int = 0,
    tz: str | None = "Europe/Berlin",
    unit: str = "ns",
    shuffle: bool = True,
) -> pd.DataFrame:
    """Irregular samples: distinct timestamps with gaps (whole empty windows,
    windows with one sample), NaN and None values, optionally unsorted."""
    rng = np.random.default_rng(seed)
    # Distinct second offsets over ~4 n minutes: many windows hold 0, 1 or few samples.
    secs = np.sort(rng.choice(np.arange(0, 240 * n), size=n, replace=False))
    # A long gap: several empty windows in a row.
    secs[n // 2 :] += 3 * 3600
    # Start just before a DST change in Berlin, off any window boundary.
    start = pd.Timestamp("2024-03-30 21:57:13", tz="UTC")
    ts = start + pd.to_timedelta(secs, unit="s")
    ts = ts.tz_convert(tz) if tz is not None else ts.tz_localize(None)
    ts = ts.as_unit(unit)
    a = rng.normal(10.0, 3.0, n)
    b = rng.weibull(2.0, n) * 8.0
    a[rng.random(n) < 0.05] = np.nan
    b_obj = b.astype(object)
    b_obj[rng.random(n) < 0.05] = None
    df = pd.DataFrame({"timestamp": ts, "a": a, "b": pd.array(b_obj, dtype="Float64")})
    df["b"] = df["b"].astype("float64")  # None -> NaN, as pandas holds it
    if shuffle:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return df


def to_polars_with_nulls(df: pd.DataFrame, seed: int = 1) -> pl.DataFrame:
    """The same samples as polars, with real NaNs in `a` and nulls (not NaN) in `b`."""
    out = pl.from_pandas(df, nan_to_null=False)
    return out.with_columns(
        pl.when(pl.col("b").is_nan()).then(None).otherwise(pl.col("b")).alias("b")
    )


# ------------------------------------------------------------------------- oracle


def pandas_oracle(df: pd.DataFrame, stats=STATS) -> pd.DataFrame:
    """pandas resample("10min").agg(stats) in long form, undefined (NaN) rows dropped."""
    wide = df.set_index("timestamp").sort_index().resample("10min").agg(list(stats))
    wide.columns = [f"{var}_{stat}" for var, stat in wide.columns]
    long = wide.reset_index().melt(id_vars="timestamp", var_name="signal", value_name="value")
    long = long.dropna(subset=["value"])
    if long["timestamp"].dt.tz is None:
        long["timestamp"] = long["timestamp"].dt.tz_localize("UTC")
    long["timestamp"] = long["timestamp"].dt.tz_convert("UTC")
    return normalise(long)


def normalise(long: pd.DataFrame) -> pd.DataFrame:
    long = long[["timestamp", "signal", "value"]].copy()
    long["timestamp"] = long["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    long["signal"] = long["signal"].astype(str)
    long["value"] = long["value"].astype("float64")
    return long.sort_values(["timestamp", "signal"]).reset_index(drop=True)


def long_from_windcore(out, long: bool) -> pd.DataFrame:
    """windcore output (pandas, polars or pyarrow; wide or long) as normalised long pandas."""
    if isinstance(out, pa.Table):
        out = pl.from_arrow(out)
    if isinstance(out, pl.DataFrame):
        if not long:
            out = out.unpivot(index="timestamp", variable_name="signal", value_name="value")
            out = out.with_columns(pl.col("value").cast(pl.Float64)).drop_nulls("value")
        out = out.to_pandas()
    elif not long:
        out = out.melt(id_vars="timestamp", var_name="signal", value_name="value")
        out = out.dropna(subset=["value"])
    return normalise(out)


def assert_matches(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want), (len(got), len(want))
    pd.testing.assert_series_equal(got["timestamp"], want["timestamp"])
    pd.testing.assert_series_equal(got["signal"], want["signal"])
    np.testing.assert_allclose(got["value"].to_numpy(), want["value"].to_numpy(), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------- equality with pandas


@pytest.mark.parametrize("long", [False, True], ids=["wide", "long"])
@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
@pytest.mark.parametrize("tz", ["Europe/Berlin", "UTC", None], ids=["berlin", "utc", "naive"])
def test_matches_pandas(kind, tz, long):
    df = samples(tz=tz, seed=zlib.crc32(f"{kind}{tz}{long}".encode()) % 1000)
    want = pandas_oracle(df)
    data = {
        "pandas": lambda: df,
        "polars": lambda: to_polars_with_nulls(df),
        "pyarrow": lambda: to_polars_with_nulls(df).to_arrow(),
    }[kind]()
    out = windcore.resample(data, long=long)
    assert type(out) is type(data)
    assert_matches(long_from_windcore(out, long), want)


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_matches_pandas_every_time_unit(unit):
    df = samples(unit=unit, seed=7)
    out = windcore.resample(to_polars_with_nulls(df), long=True)
    assert out.schema["timestamp"] == pl.Datetime(unit, "UTC")
    assert_matches(long_from_windcore(out, True), pandas_oracle(df))


def test_count_stat_matches_pandas():
    df = samples(seed=3)
    stats = ["mean", "count", "std"]
    want = pandas_oracle(df, stats)
    # pandas counts 0 in empty windows; windcore writes no row there.
    want = want[~(want["signal"].str.endswith("_count") & (want["value"] == 0))].reset_index(drop=True)
    for data in (df, to_polars_with_nulls(df)):
        out = windcore.resample(data, stats=stats, long=True)
        assert_matches(long_from_windcore(out, True), want)
    wide = windcore.resample(to_polars_with_nulls(df), stats="count")
    assert wide.columns == ["timestamp", "a_count", "b_count"]
    assert wide.schema["a_count"] == pl.UInt32


NEW_STATS = ["first", "last", "sum", "median"]


@pytest.mark.parametrize("long", [False, True], ids=["wide", "long"])
@pytest.mark.parametrize("kind", ["pandas", "polars"])
@pytest.mark.parametrize("tz", ["Europe/Berlin", None], ids=["berlin", "naive"])
def test_first_last_sum_median_match_pandas(kind, tz, long):
    """first, last, sum and median (with mean beside them) against pandas'
    resample().first()/last()/sum(min_count=1)/median(); duplicate timestamps
    keep the last sample, as everywhere."""
    df = samples(tz=tz, seed=zlib.crc32(f"new{kind}{tz}{long}".encode()) % 1000)
    # A duplicate timestamp in a window: the later row (in input order) counts.
    dup = df.iloc[[10]].copy()
    dup["a"] = 1234.5
    df = pd.concat([df, dup], ignore_index=True)
    stats = ["mean", *NEW_STATS]
    s = df.set_index("timestamp")
    s = s[~s.index.duplicated(keep="last")].sort_index().resample("10min")
    parts = {
        "mean": s.mean(),
        "first": s.first(),
        "last": s.last(),
        "sum": s.sum(min_count=1),
        "median": s.median(),
    }
    wide = pd.concat({k: v for k, v in parts.items()}, axis=1)
    wide.columns = [f"{var}_{stat}" for stat, var in wide.columns]
    want = wide.reset_index().melt(id_vars="timestamp", var_name="signal", value_name="value")
    want = want.dropna(subset=["value"])
    if want["timestamp"].dt.tz is None:
        want["timestamp"] = want["timestamp"].dt.tz_localize("UTC")
    want = normalise(want)
    data = df if kind == "pandas" else to_polars_with_nulls(df)
    out = windcore.resample(data, stats=stats, long=long)
    assert_matches(long_from_windcore(out, long), want)


def test_first_last_sum_median_of_regular_samples():
    """Regular 1-minute samples (the kernel's fast path for the moments) with
    the new statistics, against pandas."""
    ts = pd.date_range("2024-01-01", periods=600, freq="1min", tz="UTC")
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"timestamp": ts, "x": rng.normal(5, 2, 600)})
    df.loc[[7, 8, 9, 100], "x"] = np.nan
    out = windcore.resample(df, stats=NEW_STATS + ["std"])
    r = df.set_index("timestamp").resample("10min")["x"]
    for st, want in [
        ("first", r.first()),
        ("last", r.last()),
        ("sum", r.sum(min_count=1)),
        ("median", r.median()),
        ("std", r.std()),
    ]:
        np.testing.assert_allclose(out[f"x_{st}"].to_numpy(), want.to_numpy(), rtol=RTOL, atol=ATOL)


def test_longer_windows_match_pandas():
    df = samples(seed=11)
    wide = df.set_index("timestamp").sort_index().resample("1h").agg(["mean", "max"])
    wide.columns = [f"{v}_{s}" for v, s in wide.columns]
    want = normalise(
        wide.reset_index().melt(id_vars="timestamp", var_name="signal").dropna(subset=["value"])
    )
    for every in ("1h", "60m", dt.timedelta(hours=1)):
        out = windcore.resample(df, every=every, stats=["mean", "max"], long=True)
        assert_matches(long_from_windcore(out, True), want)


def test_datetime_index_input():
    df = samples(seed=5)
    want = pandas_oracle(df)
    indexed = df.set_index("timestamp")
    out = windcore.resample(indexed, long=True)
    # The index is kept (as df.resample keeps it): the window labels.
    assert isinstance(out.index, pd.DatetimeIndex) and out.index.name == "timestamp"
    assert_matches(long_from_windcore(out.reset_index(), True), want)
    # The index may have any name; it keeps it.
    out2 = windcore.resample(indexed.rename_axis("time"), long=True)
    assert out2.index.name == "time"
    assert_matches(long_from_windcore(out2.reset_index().rename(columns={"time": "timestamp"}), True), want)


def test_lazyframe_input():
    df = samples(seed=6)
    out = windcore.resample(to_polars_with_nulls(df).lazy(), long=True)
    assert isinstance(out, pl.DataFrame)
    assert_matches(long_from_windcore(out, True), pandas_oracle(df))


# ------------------------------------------------------------------- the contract


def test_wide_output_schema_and_nulls():
    ts = pl.datetime_range(
        dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 0, 19), "1m", time_unit="ms", time_zone="Europe/Berlin", eager=True
    )
    x = [1.0] + [None] * 9 + list(range(10))  # window 1: one valid sample
    y = [float("nan")] * 10 + [2.0] * 10      # window 1: no valid sample
    df = pl.DataFrame({"timestamp": ts, "x": x, "y": y})
    out = windcore.resample(df)
    assert out.columns == ["timestamp"] + [f"{v}_{s}" for v in "xy" for s in STATS]
    assert out.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert out.height == 2
    first = out.row(0, named=True)
    assert first["timestamp"] == dt.datetime(2023, 12, 31, 23, 0, tzinfo=dt.timezone.utc)
    assert first["x_mean"] == 1.0 and first["x_std"] is None  # std of one sample: absent, not 0.0
    assert all(first[f"y_{s}"] is None for s in STATS)         # NaN is not a sample
    long = windcore.resample(df, long=True)
    assert long.columns == ["timestamp", "signal", "value"]
    assert long.schema == pl.Schema(
        {"timestamp": pl.Datetime("ms", "UTC"), "signal": pl.String, "value": pl.Float64}
    )
    assert long.filter(pl.col("timestamp") == first["timestamp"])["signal"].to_list() == [
        "x_mean", "x_min", "x_max"
    ]
    assert long["value"].null_count() == 0


def test_pandas_output_has_timestamp_column():
    df = samples(n=200, seed=2)
    wide = windcore.resample(df)
    long = windcore.resample(df, long=True)
    for out in (wide, long):
        assert isinstance(out, pd.DataFrame)
        assert out.columns[0] == "timestamp"
        assert str(out["timestamp"].dt.tz) == "UTC"
        assert isinstance(out.index, pd.RangeIndex)
    assert list(long.columns) == ["timestamp", "signal", "value"]


def test_duplicate_timestamps_keep_last():
    ts = [dt.datetime(2024, 1, 1, 0, 0), dt.datetime(2024, 1, 1, 0, 1), dt.datetime(2024, 1, 1, 0, 1)]
    df = pl.DataFrame({"timestamp": ts, "v": [1.0, 2.0, 5.0]})
    dropped = r"\b1 input row dropped as duplicate timestamps"
    with pytest.warns(windcore.DuplicateTimestampsWarning, match=dropped) as caught:
        out = windcore.resample(df, stats=["mean", "count"])
    assert out["v_mean"].to_list() == [3.0] and out["v_count"].to_list() == [2]
    # The warning points at the caller's line, not at windcore's.
    assert [w.filename for w in caught] == [__file__]


def farm_sharing_timestamps(seed: int = 5) -> pd.DataFrame:
    """Three turbines' 1-minute samples over the same timestamps (a farm
    export), shuffled, with a few rows of one turbine repeated."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-03-30 22:00", periods=300, freq="1min", tz="UTC")
    turbine = lambda a: pd.DataFrame({"asset": a, "timestamp": times, "power": rng.normal(900, 300, len(times))})
    rows = pd.concat([turbine(a) for a in ("T01", "T02", "T03")])
    rows = pd.concat([rows, rows[rows["asset"] == "T02"].sample(7, random_state=seed)])
    return rows.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("kind", ["polars", "pandas"])
@pytest.mark.parametrize("long", [False, True])
def test_rows_dropped_as_duplicate_timestamps_are_reported(kind, long):
    farm = farm_sharing_timestamps()
    data = pl.from_pandas(farm) if kind == "polars" else farm
    # The oracle: pandas' own count of repeated (key, timestamp) rows.
    per_asset = int(farm.duplicated(["asset", "timestamp"]).sum())
    whole = int(farm.duplicated(["timestamp"]).sum())
    assert (per_asset, whole) == (7, len(farm) - 300)
    with pytest.warns(windcore.DuplicateTimestampsWarning) as caught:
        windcore.resample(data, variables=["power"], long=long)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f" {whole:,} input rows dropped" in message and 'by="asset"' in message
    with pytest.warns(windcore.DuplicateTimestampsWarning) as caught:
        windcore.resample(data, by="asset", long=long)
    assert len(caught) == 1 and f" {per_asset:,} input rows dropped" in str(caught[0].message)
    # Without duplicates: no warning at all.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = farm.drop_duplicates(["asset", "timestamp"], keep="last")
        windcore.resample(pl.from_pandas(clean) if kind == "polars" else clean, by="asset", long=long)


def test_variables_and_stats_selection():
    df = samples(n=500, seed=4)
    out = windcore.resample(df, variables=["b"], stats="max,mean")
    assert list(out.columns) == ["timestamp", "b_max", "b_mean"]
    out = windcore.resample(to_polars_with_nulls(df), variables="a", stats=("std",))
    assert out.columns == ["timestamp", "a_std"]


def test_non_numeric_columns_are_ignored_by_default():
    df = samples(n=100, seed=8)
    df["label"] = "x"
    out = windcore.resample(df)
    assert [c for c in out.columns if c.startswith("label")] == []


def test_empty_input():
    df = pl.DataFrame(
        {"timestamp": pl.Series([], dtype=pl.Datetime("us", "UTC")), "v": pl.Series([], dtype=pl.Float64)}
    )
    out = windcore.resample(df)
    assert out.height == 0
    assert out.columns == ["timestamp", "v_mean", "v_min", "v_max", "v_std"]
    assert windcore.resample(df, long=True).height == 0


def test_million_rows():
    n = 1_000_000
    start = np.datetime64("2024-01-01T00:00:00", "us")
    ts = start + np.arange(n).astype("timedelta64[m]")
    rng = np.random.default_rng(0)
    df = pl.DataFrame({"timestamp": ts, "a": rng.normal(size=n), "b": rng.normal(size=n)})
    df = df.with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))
    out = windcore.resample(df, stats=["mean", "count"])
    assert out.height == n // 10
    assert out["a_count"].sum() == n
    expected = df.group_by_dynamic("timestamp", every="10m").agg(pl.col("a").mean())
    np.testing.assert_allclose(out["a_mean"].to_numpy(), expected["a"].to_numpy(), rtol=RTOL, atol=ATOL)


def two_frames(seed: int, n: int = 2_000_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two pandas frames of 1-minute samples with the same timestamps and
    other values (NaN runs in `a`)."""
    start = np.datetime64("2024-01-01T00:00:00", "us")
    ts = (start + np.arange(n).astype("timedelta64[m]")).astype("datetime64[us]")
    rng = np.random.default_rng(seed)

    def frame(scale):
        a = rng.normal(10.0, 3.0, n) * scale
        b = rng.weibull(2.0, n) * 8.0 * scale
        a[rng.integers(0, n - 50, 20)[:, None] + np.arange(50)] = np.nan
        return pd.DataFrame({"a": a, "b": b}, index=pd.DatetimeIndex(ts, name="timestamp").tz_localize("UTC"))

    return frame(1.0), frame(-1000.0)


@pytest.mark.parametrize("seed", [3, 4])
def test_a_call_after_another_writes_every_value_anew(seed):
    """The output of a call may go into memory kept from the result freed
    before it (the module's allocator keeps large blocks): every value is
    written anew, none of the earlier result shows through."""
    first, second = two_frames(seed)
    out = windcore.resample(pl.from_pandas(first, include_index=True), stats=STATS)
    del out
    gc.collect()
    out = windcore.resample(pl.from_pandas(second, include_index=True), stats=STATS)
    want = second.resample("10min").agg(STATS)
    assert out.height == len(want) == len(second) // 10
    for v in ("a", "b"):
        for st in STATS:
            np.testing.assert_allclose(
                out[f"{v}_{st}"].to_numpy(), want[(v, st)].to_numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{v}_{st}"
            )


BACK_TO_BACK = """
import gc, resource, sys
import polars as pl, windcore
sys.path.insert(0, sys.argv[1])
from test_resample import STATS, two_frames
frames = [pl.from_pandas(f, include_index=True) for f in two_frames(5)]
out = None
for df in frames + frames:
    out = None
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    out = windcore.resample(df, stats=STATS)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the allocator that keeps memory is the Linux module's")
def test_back_to_back_calls_write_into_the_memory_of_the_result_freed():
    """In a process calling windcore in a loop (its own, as a script or a
    worker would), a call writes its output into the memory of the result
    freed before it: a few page faults, where fresh memory takes one per
    4 KiB page of the output."""
    run = subprocess.run(
        [sys.executable, "-c", BACK_TO_BACK, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    faults = [int(x) for x in run.stdout.split()]
    pages = 9 * 200_000 * 8 // 4096  # 9 columns of 200,000 windows
    assert faults[0] > pages / 2, faults  # the first call: fresh memory
    assert all(f < pages / 10 for f in faults[1:]), (faults, pages)


# ------------------------------------------------------------------------ errors


def test_missing_timestamp_column():
    df = pl.DataFrame({"time": [dt.datetime(2024, 1, 1)], "v": [1.0]})
    with pytest.raises(windcore.ColumnError, match="timestamp"):
        windcore.resample(df)
    with pytest.raises(ValueError):  # ColumnError is a ValueError too
        windcore.resample(df.to_pandas())


def test_timestamp_of_wrong_type():
    df = pl.DataFrame({"timestamp": ["2024-01-01 00:00"], "v": [1.0]})
    with pytest.raises(windcore.ColumnError, match="Datetime"):
        windcore.resample(df)


def test_null_timestamps():
    df = pl.DataFrame({"timestamp": [dt.datetime(2024, 1, 1), None], "v": [1.0, 2.0]})
    with pytest.raises(windcore.ColumnError, match="null"):
        windcore.resample(df)


def test_string_variable_column():
    df = samples(n=50, seed=9)
    df["status"] = "ok"
    with pytest.raises(windcore.ColumnError, match="status"):
        windcore.resample(df, variables=["a", "status"])
    with pytest.raises(windcore.ColumnError, match="status"):
        windcore.resample(pl.from_pandas(df), variables=["status"])


def test_missing_variable():
    with pytest.raises(windcore.ColumnError, match="nope"):
        windcore.resample(samples(n=50), variables=["nope"])


@pytest.mark.parametrize("every", ["10x", "", "ten minutes", "30s", "2d", dt.timedelta(seconds=90.5)])
def test_bad_every(every):
    with pytest.raises(windcore.ConfigError):
        windcore.resample(samples(n=50), every=every)


def test_bad_stats():
    with pytest.raises(windcore.ConfigError, match="mode"):
        windcore.resample(samples(n=50), stats=["mean", "mode"])
    with pytest.raises(windcore.ConfigError):
        windcore.resample(samples(n=50), stats=[])
    with pytest.raises(ValueError):  # ConfigError is a ValueError too
        windcore.resample(samples(n=50), stats="p99")


def test_config_error_names_its_setting():
    with pytest.raises(windcore.ConfigError, match="invalid window length") as e:
        windcore.resample(samples(n=50), every="10x")
    assert e.value.setting == "window_length"
    with pytest.raises(windcore.ConfigError, match="mode") as e:
        windcore.resample(samples(n=50), stats=["mean", "mode"])
    assert e.value.setting == "stat"
    assert windcore.ConfigError("made in Python").setting is None


def test_error_hierarchy():
    for cls in (
        windcore.ConfigError,
        windcore.ColumnError,
        windcore.DatabaseError,
        windcore.StoreError,
        windcore.PipelineError,
    ):
        assert issubclass(cls, windcore.WindcoreError)
    assert issubclass(windcore.WindcoreError, Exception)
    assert issubclass(windcore.ConfigError, ValueError)
    assert issubclass(windcore.ColumnError, ValueError)


def test_not_a_table():
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        windcore.resample([{"timestamp": 1, "v": 2.0}])
    with pytest.raises(TypeError):
        windcore.resample(samples(n=10), stats=[1, 2])


def test_other_column_types():
    """Small integers and decimals are read; columns nobody asked for are never
    converted, so unusual types there do no harm; asking for one is a ColumnError."""
    import decimal

    ts = [dt.datetime(2024, 1, 1, 0, m) for m in range(4)]
    df = pl.DataFrame(
        {
            "timestamp": ts,
            "i8": pl.Series([1, None, 3, 4], dtype=pl.Int8),
            "u16": pl.Series([10, 20, 30, 40], dtype=pl.UInt16),
            "dec": pl.Series([decimal.Decimal(x) for x in ("1.5", "-2.25", "0", "1")]),
            "label": ["a", "b", "c", "d"],
            "tags": pl.Series([["x"], [], ["y"], []]),
            "meta": pl.Series([{"k": 1}] * 4),
            "huge": pl.Series([1, 2, 3, 4], dtype=pl.Int128),
        }
    )
    out = windcore.resample(df, variables=["i8", "u16", "dec"], stats=["mean", "count"])
    assert out.row(0, named=True) == {
        "timestamp": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        "i8_mean": 8 / 3,
        "i8_count": 3,
        "u16_mean": 25.0,
        "u16_count": 4,
        "dec_mean": 0.0625,
        "dec_count": 4,
    }
    with pytest.raises(windcore.ColumnError, match="meta"):
        windcore.resample(df, variables=["meta"])
    with pytest.raises(windcore.ColumnError, match="label"):
        windcore.resample(df, variables=["label"])
    # By default every numeric column, and Int128 is one this build cannot read.
    with pytest.raises(windcore.ColumnError, match="huge"):
        windcore.resample(df)
    assert windcore.resample(df.drop("huge")).columns[1:5] == ["i8_mean", "i8_min", "i8_max", "i8_std"]
    # Unrequested columns still show in "not found" messages.
    with pytest.raises(windcore.ColumnError, match="label"):
        windcore.resample(df, variables=["nope"])


def test_time_zone_polars_does_not_know():
    """An Arrow time zone such as +05:30 still denotes instants: the result is the same."""
    df = samples(n=300, tz="UTC", seed=12)
    want = pandas_oracle(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    odd = table.set_column(0, "timestamp", table["timestamp"].cast(pa.timestamp("ns", tz="+05:30")))
    out = windcore.resample(odd, long=True)
    assert out.schema.field("timestamp").type == pa.timestamp("ns", tz="UTC")
    assert_matches(long_from_windcore(out, True), want)
    shifted = df.assign(timestamp=df["timestamp"].dt.tz_convert("Asia/Kolkata"))
    assert_matches(long_from_windcore(windcore.resample(shifted, long=True), True), want)
