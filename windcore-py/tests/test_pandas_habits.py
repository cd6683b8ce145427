"""windcore.resample follows pandas habits: any time column name (``time_column=``),
a ``DatetimeIndex`` kept as the index (``df.resample``), keys as a MultiIndex
(``df.groupby(...).resample``), and a Series (``s.resample``), each compared with
pandas on a realistic export: several turbines sharing timestamps, gaps, NaN runs,
read back by ``pd.read_csv``."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import windcore

STATS = ["mean", "min", "max", "std", "count"]
VARIABLES = ["wind_speed", "power"]
TIME = "PCTimeStamp"  # what a SCADA export calls its time column
TURBINES = ("T01", "T02", "T03")


def export_csv(seed: int = 0, minutes: int = 6 * 60) -> str:
    """A CSV export: one row per turbine and minute (shared timestamps, UTC,
    naive), turbines interleaved, with missing minutes (windows of one sample
    and empty windows), NaN runs and a turbine that stops for an hour."""
    rng = np.random.default_rng(seed)
    # Across the Berlin DST change (2024-03-31 01:00 UTC).
    start = pd.Timestamp("2024-03-30 22:00:00")
    times = start + pd.to_timedelta(np.arange(minutes), unit="min")
    parts = []
    for k, turbine in enumerate(TURBINES):
        wind = np.clip(rng.normal(8.0 + k, 2.0, minutes), 0.0, None)
        power = np.clip(wind**3 * 2.5 + rng.normal(0.0, 20.0, minutes), 0.0, 2050.0)
        power[40 + 30 * k : 95 + 30 * k] = np.nan  # a NaN run over several windows
        wind[200:203] = np.nan
        keep = rng.random(minutes) > 0.15
        minute = np.arange(minutes)
        keep[(minute >= 120) & (minute < 130) & (minute != 125)] = False  # one sample in a window
        if turbine == "T02":
            keep[(minute >= 250) & (minute < 310)] = False  # an hour without rows
        parts.append(
            pd.DataFrame({TIME: times[keep], "asset": turbine, "wind_speed": wind[keep], "power": power[keep]})
        )
    df = pd.concat(parts).sort_values([TIME, "asset"], kind="stable")
    return df.to_csv(index=False)


def read_export(seed: int = 0) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(export_csv(seed)), parse_dates=[TIME])


def flat(wide: pd.DataFrame) -> pd.DataFrame:
    """pandas ``agg([...])`` columns (variable, stat) as ``variable_stat``."""
    out = wide.copy()
    out.columns = [f"{v}_{s}" for v, s in wide.columns]
    return out


def oracle(indexed: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """pandas ``resample("10min").agg(STATS)`` (per ``by`` key: groupby-resample),
    restricted to windows that hold a row, with windcore's count convention
    (0 is absent) and its column order (variable, then statistic)."""
    if by is None:
        wide = flat(indexed[VARIABLES].resample("10min").agg(STATS))
        held = indexed.index.floor("10min").unique()
        wide = wide[wide.index.isin(held)]
    else:
        # What indexed.groupby(by)[VARIABLES].resample("10min").agg(STATS) means
        # (pandas 3.1 mislabels that call's columns), one group at a time.
        wide = pd.concat(
            {k: flat(g[VARIABLES].resample("10min").agg(STATS)) for k, g in indexed.groupby(by, observed=True)},
            names=[by, indexed.index.name],
        )
        held = pd.MultiIndex.from_arrays([indexed[by], indexed.index.floor("10min")]).unique()
        wide = wide[wide.index.isin(held)]
    for v in VARIABLES:
        wide[f"{v}_count"] = wide[f"{v}_count"].where(wide[f"{v}_count"] > 0)
    return wide[[f"{v}_{s}" for v in VARIABLES for s in STATS]]


def assert_like_pandas(got: pd.DataFrame, want: pd.DataFrame) -> None:
    # windcore gives flat Float64 statistics (count UInt32, float64 with gaps);
    # pandas' resample index carries a freq. Values, labels and names must agree.
    pd.testing.assert_frame_equal(
        got, want, check_dtype=False, check_freq=False, check_index_type=False, rtol=1e-9, atol=1e-9
    )
    assert got.index.names == want.index.names
    for g, w in zip(
        [got.index] if got.index.nlevels == 1 else [got.index.get_level_values(i) for i in range(got.index.nlevels)],
        [want.index] if want.index.nlevels == 1 else [want.index.get_level_values(i) for i in range(want.index.nlevels)],
    ):
        if isinstance(w, pd.DatetimeIndex):
            assert isinstance(g, pd.DatetimeIndex)
            assert str(g.tz) == str(w.tz)
            assert g.unit == w.unit


# ------------------------------------------------------------------ time_column=


def test_time_column_keeps_its_name():
    df = read_export()
    assert TIME in df.columns and "timestamp" not in df.columns
    out = windcore.resample(df, by="asset", stats=STATS, time_column=TIME)
    assert isinstance(out.index, pd.RangeIndex)
    assert list(out.columns[:2]) == ["asset", TIME]
    assert str(out[TIME].dt.tz) == "UTC"
    got = out.set_index(["asset", TIME])
    got.index = got.index.set_levels(got.index.levels[1].tz_localize(None), level=1)
    assert_like_pandas(got, oracle(df.set_index(TIME), by="asset"))


def test_time_column_in_polars_and_pyarrow_and_long_form():
    df = read_export(seed=1)
    frame = pl.from_pandas(df)
    want = windcore.resample(frame.rename({TIME: "timestamp"}), by="asset", stats=STATS)
    out = windcore.resample(frame, by="asset", stats=STATS, time_column=TIME)
    assert out.columns[:2] == ["asset", TIME]
    assert out.rename({TIME: "timestamp"}).equals(want)
    table = windcore.resample(frame.to_arrow(), by="asset", time_column=TIME, long=True)
    assert table.column_names == ["asset", TIME, "signal", "value"]
    assert isinstance(table, pa.Table)


def test_time_column_errors():
    df = read_export()
    with pytest.raises(windcore.ColumnError, match="Time"):
        windcore.resample(df, time_column="Time")
    # The default still wants `timestamp`.
    with pytest.raises(windcore.ColumnError, match="timestamp"):
        windcore.resample(df)
    with pytest.raises(windcore.ConfigError, match=TIME):
        windcore.resample(df, time_column=TIME, variables=[TIME])


# ---------------------------------------------------------------- DatetimeIndex


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Berlin"], ids=["naive", "utc", "berlin"])
def test_datetime_index_is_kept_like_df_resample(tz):
    df = read_export(seed=2)
    one = df[df["asset"] == "T02"].drop(columns="asset").set_index(TIME)
    if tz is not None:
        one.index = one.index.tz_localize("UTC").tz_convert(tz)
    out = windcore.resample(one, stats=STATS)
    assert isinstance(out.index, pd.DatetimeIndex)
    assert out.index.name == TIME
    assert str(out.index.tz) == str(tz) if tz else out.index.tz is None
    assert TIME not in out.columns
    assert_like_pandas(out, oracle(one))


def test_datetime_index_unnamed_and_named_timestamp():
    df = read_export(seed=3)
    one = df[df["asset"] == "T01"].drop(columns="asset").set_index(TIME)
    want = oracle(one)
    unnamed = windcore.resample(one.rename_axis(None), stats=STATS)
    assert unnamed.index.name is None
    assert_like_pandas(unnamed, want.rename_axis(None))
    named = windcore.resample(one.rename_axis("timestamp"), stats=STATS)
    assert named.index.name == "timestamp"
    # time_column= may name the index, as in df.resample(on=...) for a column.
    assert_like_pandas(windcore.resample(one, stats=STATS, time_column=TIME), want)


@pytest.mark.parametrize("tz", [None, "Europe/Berlin"], ids=["naive", "berlin"])
def test_datetime_index_with_keys_like_groupby_resample(tz):
    df = read_export(seed=4)
    indexed = df.set_index(TIME)
    if tz is not None:
        indexed.index = indexed.index.tz_localize("UTC").tz_convert(tz)
    # Keys as a pandas category, as many users keep them.
    out = windcore.resample(indexed.astype({"asset": "category"}), by="asset", stats=STATS)
    assert isinstance(out.index, pd.MultiIndex)
    assert list(out.index.names) == ["asset", TIME]
    assert list(out.columns) == [f"{v}_{s}" for v in VARIABLES for s in STATS]
    assert_like_pandas(out, oracle(indexed, by="asset"))
    assert_like_pandas(out.loc["T03"], oracle(indexed[indexed["asset"] == "T03"].drop(columns="asset")))


def test_datetime_index_long_form_and_timezone():
    df = read_export(seed=5)
    indexed = df.set_index(TIME)
    indexed.index = indexed.index.tz_localize("UTC")
    long = windcore.resample(indexed, by="asset", long=True)
    assert list(long.index.names) == ["asset", TIME]
    assert list(long.columns) == ["signal", "value"]
    assert long["value"].notna().all()
    # `timezone=` decides the zone of the labels (and the windows' clock).
    out = windcore.resample(indexed, by="asset", every="1h", timezone="Asia/Kathmandu")
    assert str(out.index.levels[1].tz) == "Asia/Kathmandu"
    assert (out.index.get_level_values(TIME).minute == 0).all()


def test_timestamp_column_wins_over_the_index():
    """The rule is unchanged for frames that have both: the column is the time."""
    df = read_export(seed=6).rename(columns={TIME: "timestamp"})
    df.index = pd.date_range("2000-01-01", periods=len(df), freq="s")
    out = windcore.resample(df, by="asset")
    assert isinstance(out.index, pd.RangeIndex)
    assert list(out.columns[:2]) == ["asset", "timestamp"]


# ------------------------------------------------------------------------ Series


@pytest.mark.parametrize("tz", [None, "Europe/Berlin"], ids=["naive", "berlin"])
def test_series_like_s_resample(tz):
    df = read_export(seed=7)
    s = df[df["asset"] == "T03"].set_index(TIME)["power"]
    if tz is not None:
        s.index = s.index.tz_localize("UTC").tz_convert(tz)
    out = windcore.resample(s, stats=STATS)
    want = s.resample("10min").agg(STATS)
    want = want[want.index.isin(s.index.floor("10min").unique())]
    want["count"] = want["count"].where(want["count"] > 0)
    assert list(out.columns) == STATS
    assert out.index.name == TIME
    assert_like_pandas(out, want)


def test_unnamed_series_is_value():
    idx = pd.date_range("2024-01-01", periods=30, freq="min", tz="UTC", name="t")
    s = pd.Series(np.arange(30.0), index=idx)
    s.iloc[10] = np.nan
    out = windcore.resample(s)
    assert list(out.columns) == ["mean", "min", "max", "std"]
    assert out.index.name == "t" and len(out) == 3
    long = windcore.resample(s, long=True)
    assert set(long["signal"]) == {"value_mean", "value_min", "value_max", "value_std"}
    np.testing.assert_allclose(out["mean"], s.resample("10min").mean())


def test_series_errors():
    s = pd.Series([1.0, 2.0])
    with pytest.raises(TypeError, match="DatetimeIndex"):
        windcore.resample(s)
    with pytest.raises(TypeError, match="polars Series"):
        windcore.resample(pl.Series("power", [1.0, 2.0]))
    with pytest.raises(TypeError, match="no sample times"):
        windcore.resample(pa.chunked_array([[1.0, 2.0]]))
    idx = pd.date_range("2024-01-01", periods=3, freq="min")
    with pytest.raises(windcore.ColumnError, match="status"):
        windcore.resample(pd.Series(["ok", "ok", "fault"], index=idx, name="status"))


def test_pandas_columns_of_every_kind_read_as_their_values():
    """numpy float columns with NaN (shared with windcore, not copied), integers,
    pandas' nullable Float64 with NA, float32, the pyarrow-backed ``str`` key of
    pandas 3 and a ``category`` key: the same statistics as the same data as
    polars, and as pandas itself."""
    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="30s", tz="UTC"),
            "turbine": pd.Series(np.where(np.arange(n) % 2 == 0, "T01", "T02"), dtype="str"),
            "wind_speed": np.where(rng.random(n) < 0.1, np.nan, rng.normal(8, 2, n)),
            "power": pd.array(np.where(rng.random(n) < 0.1, None, rng.normal(900, 50, n)), dtype="Float64"),
            "rpm": rng.integers(0, 20, n),
            "pitch": rng.normal(2, 1, n).astype(np.float32),
        }
    )
    variables = ["wind_speed", "power", "rpm", "pitch"]
    got = windcore.resample(df, by="turbine", stats=STATS)
    as_polars = windcore.resample(pl.from_pandas(df), by="turbine", stats=STATS).to_pandas()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), as_polars, check_dtype=False)
    ref = (
        df.assign(power=df["power"].astype(float))
        .set_index("timestamp")
        .groupby("turbine")[variables]
        .resample("10min")
    )
    for stat in STATS:
        expect = getattr(ref, stat)()
        for v in variables:
            want = expect[v].to_numpy(dtype=float)
            have = got.set_index(["turbine", "timestamp"])[f"{v}_{stat}"].reindex(expect.index).to_numpy(dtype=float)
            np.testing.assert_allclose(have, want, rtol=1e-6, equal_nan=True, err_msg=f"{v}_{stat}")
    cat = windcore.resample(df.astype({"turbine": "category"}), by="turbine", stats=STATS)
    pd.testing.assert_frame_equal(cat.astype({"turbine": str}), got.astype({"turbine": str}), check_dtype=False)


@pytest.mark.parametrize("string_type", [pa.string(), pa.large_string()])
def test_arrow_string_keys_read_as_views_of_their_bytes(string_type):
    """Arrow string keys (32- and 64-bit offsets: pandas' ``str``, pyarrow
    tables) are made string views on every core, pointing into the strings'
    own bytes: names of up to and over 12 bytes, a null key, and a sliced
    array (an offset into its buffers) give the statistics of the same keys
    as a polars String column."""
    n = 3_000
    names = np.array(["T01", "a turbine name of over twelve bytes", "exactly12byt", None], dtype=object)
    keys = names[np.arange(n) % 4]
    table = pa.table(
        {
            "turbine": pa.array(keys, type=string_type),
            "timestamp": pa.array(np.arange(n, dtype=np.int64) * 15_000_000, type=pa.timestamp("us", "UTC")),
            "x": pa.array(np.sin(np.arange(n) / 50.0)),
        }
    ).slice(7, n - 20)
    got = pl.from_arrow(windcore.resample(table, by="turbine", stats=STATS))
    want = windcore.resample(pl.from_arrow(table).with_columns(pl.col("turbine").cast(pl.String)), by="turbine", stats=STATS)
    assert got.equals(want), (got, want)
    assert got["turbine"].null_count() > 0 and got["turbine"].n_unique() == 4


def test_pandas_columns_the_call_does_not_read_are_not_converted():
    """A text or object column windcore does not read (an operator's comment,
    even one pyarrow cannot convert) is left alone; named as a variable it is
    still a clear error."""
    n = 40
    df = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC"),
            "turbine": pd.Series(np.where(np.arange(n) % 2 == 0, "T01", "T02"), dtype="str"),
            "power": np.arange(n, dtype=float),
            "status": pd.Series(np.where(np.arange(n) % 3 == 0, "ok", "alarm"), dtype="str"),
            "comment": pd.Series([1, "a", {"x": 1}, None] * (n // 4), dtype=object),
        }
    )
    got = windcore.resample(df, by="turbine", stats=STATS)
    want = windcore.resample(df[["timestamp", "turbine", "power"]], by="turbine", stats=STATS)
    pd.testing.assert_frame_equal(got, want)
    with pytest.raises(windcore.ColumnError, match="comment"):
        windcore.resample(df, by="turbine", variables=["power", "comment"])
    with pytest.raises(windcore.ColumnError, match="status"):
        windcore.resample(df, by="turbine", variables=["status"])


def test_duplicate_pandas_column_names_are_named():
    df = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=3, freq="1min"), "a": [1.0, 2.0, 3.0]})
    df.columns = ["timestamp", "a"]
    df.insert(2, "a", [4.0, 5.0, 6.0], allow_duplicates=True)
    with pytest.raises(windcore.ColumnError, match="'a'"):
        windcore.resample(df)


@pytest.mark.parametrize("long", [False, True])
def test_pandas_results_are_the_frames_polars_would_give_and_can_be_written(long):
    """The statistics reach pandas as the core's own buffers (not copied):
    the frame equals polars' ``to_pandas`` of the same result (floats with
    NaN for missing windows, counts ``uint32`` or, with a missing window,
    ``float64``; keys, times, counter and state columns), every column can be
    assigned to, and the result owns its memory."""
    df = read_export(3)
    df["energy"] = df.groupby("asset").cumcount().astype("float64") * 0.5
    df["state"] = np.where(df["wind_speed"].fillna(0) > 8, 1, 2)
    kwargs = dict(
        by="asset",
        time_column=TIME,
        variables=VARIABLES,
        stats=STATS,
        counters="energy",
        states="state",
        long=long,
    )
    got = windcore.resample(df, **kwargs)
    want = windcore.resample(pl.from_pandas(df), **kwargs).to_pandas()
    pd.testing.assert_frame_equal(got, want)
    if not long:
        # Both kinds of count: one with a missing window, one without.
        assert got["power_count"].dtype == np.float64 and got["power_count"].isna().any()
        assert got["wind_speed_mean"].isna().any()
    for column in got.columns:
        if got[column].dtype.kind in "fu":
            before = got[column].copy()
            got.loc[got.index[0], column] = 7
            assert got[column].iloc[0] == 7
            pd.testing.assert_series_equal(got[column].iloc[1:], before.iloc[1:])
    # A DatetimeIndex and a Series come back as pandas gives them too.
    indexed = df.set_index(TIME)
    series = indexed.loc[indexed["asset"] == "T01", "power"]
    got = windcore.resample(series, stats=STATS)
    got.iloc[0, 0] = -1.0
    assert got.iloc[0, 0] == -1.0
    assert list(got.columns) == STATS


@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Berlin"])
@pytest.mark.parametrize("days", [1, 30])
def test_pandas_results_are_built_from_blocks_as_polars_gives_the_frame(zone, days):
    """The result is assembled from the core's arrays block by block: a short
    one (up to 2048 windows) as one block per type, a longer one a block per
    column (not copied), the times from their integers in the zone they
    carry. Either way the frame equals polars' ``to_pandas`` of the same
    result, the time column too (naive in, UTC out; a zone asked for)."""
    rng = np.random.default_rng(days)
    n = days * 24 * 60
    times = pd.date_range("2024-03-30", periods=n, freq="1min").repeat(2)
    df = pd.DataFrame(
        {
            "timestamp": times,
            "asset": np.tile(["T01", "T02"], n),
            "wind_speed": rng.random(2 * n) * 12,
            "wind_direction": rng.random(2 * n) * 360,
        }
    )
    kwargs = dict(by="asset", angles="wind_direction", stats=STATS, timezone=zone)
    got = windcore.resample(df, **kwargs)
    want = windcore.resample(pl.from_pandas(df), **kwargs).to_pandas()
    pd.testing.assert_frame_equal(got, want)
    assert str(got["timestamp"].dtype) == f"datetime64[us, {zone or 'UTC'}]"
    blocks = got._mgr.nblocks
    if days == 1:  # 288 windows: the times, the keys, the floats, the counts
        assert blocks == 4, blocks
    else:  # 8640 windows: a block per column
        assert blocks == got.shape[1], blocks


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_pandas_times_of_every_unit_cross_as_polars_reads_them(unit):
    """A time column or ``DatetimeIndex`` without NaT crosses as its integers
    (not converted): the result equals polars' for the same frame, whatever
    the unit and zone; a NaT is named, as a null timestamp, in both places."""
    times = pd.date_range("2024-03-31 00:00", periods=300, freq="1min", tz="Europe/Berlin").as_unit(unit)
    df = pd.DataFrame({"timestamp": times, "x": np.arange(300.0)})
    want = windcore.resample(pl.from_pandas(df)).to_pandas()
    pd.testing.assert_frame_equal(windcore.resample(df), want)
    indexed = windcore.resample(df.set_index("timestamp"))
    pd.testing.assert_frame_equal(indexed.reset_index(), want.assign(timestamp=want["timestamp"].dt.tz_convert("Europe/Berlin")))
    df.loc[7, "timestamp"] = pd.NaT
    with pytest.raises(windcore.ColumnError, match="1 null timestamp"):
        windcore.resample(df)
    with pytest.raises(windcore.ColumnError, match="1 null timestamp"):
        windcore.resample(df.set_index("timestamp"))
