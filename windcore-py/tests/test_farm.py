"""windcore.resample on wind-farm data (several assets in one table): circular
statistics for angles, min_count, input layouts and errors, against independent
oracles (the keys of every kind: test_farm_keys.py; the data and the oracles:
farm_data.py).

* Linear channels: pandas ``groupby("asset").resample("10min")`` after
  dropping duplicate (asset, timestamp) rows, keeping the last in input order.
* Angles: ``scipy.stats.circmean`` / ``circstd`` per (asset, window); min and
  max from their definition, computed here in numpy.

The farm data (farm_data.py) is built like a real SCADA export: turbines ``WTG01``..,
shared 1-minute timestamps over two days in Europe/Berlin (including the
repeated hour when summer time ends), outages, NaN runs, nulls, per-asset
duplicate timestamps whose later row (in input order) must win, and shuffled
rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import windcore

from farm_data import (
    ANGLE_TOL,
    LINEAR,
    ANGLE,
    VARIABLES,
    ALL_STATS,
    START,
    KEY,
    wrap180,
    farm,
    to_polars,
    _StreamOnly,
    dedupe,
    linear_oracle,
    angle_oracle,
    oracle,
    as_pandas,
    compare,
    stable_order,
    run_farm,
)


# --------------------------------------------------------------------------- tests


def test_farm_data_is_what_it_claims(raw):
    """The generator makes the awkward cases the other tests rely on."""
    assert raw["asset"].nunique() >= 5
    assert raw["timestamp"].dt.tz is not None and str(raw["timestamp"].dt.tz) == "Europe/Berlin"
    # The repeated local hour is there (same wall time, two instants).
    local = raw["timestamp"].dt.tz_localize(None)
    assert (local.dt.strftime("%Y-%m-%d %H") == "2024-10-27 02").sum() > 0
    assert raw[local.dt.strftime("%Y-%m-%d %H") == "2024-10-27 02"]["timestamp"].dt.tz_convert(
        "UTC"
    ).dt.hour.nunique() == 2
    # Unsorted, with per-asset duplicates whose last row differs from the first.
    assert not raw["timestamp"].is_monotonic_increasing
    dup = raw.duplicated(["asset", "timestamp"], keep=False)
    assert dup.sum() > 100
    assert (raw[raw.duplicated(["asset", "timestamp"], keep="first")]["wind_speed"] >= 100).all()
    # NaN everywhere, and windows with few valid samples.
    assert raw[VARIABLES].isna().sum().min() > 100
    # Directions near north on both sides of 0.
    assert ((raw[ANGLE] > 355) & (raw[ANGLE] < 360)).sum() > 100
    assert (raw[ANGLE] < 5).sum() > 100


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow", "stream"])
def test_farm_against_oracles(raw, kind):
    expected = oracle(raw)
    assert len(expected) > 10_000
    if kind == "pandas":
        data = raw
    elif kind == "polars":
        data = to_polars(raw)
    elif kind == "arrow":
        data = pa.Table.from_pandas(raw, preserve_index=False)
    else:
        data = _StreamOnly(pa.Table.from_pandas(raw, preserve_index=False))
    compare(run_farm(data), expected)


def test_linear_channels_only_against_pandas(raw):
    got = windcore.resample(raw, by="asset", variables=LINEAR, stats=ALL_STATS, long=True)
    compare(got, linear_oracle(raw))


def test_angles_against_scipy(raw):
    got = windcore.resample(
        raw, by="asset", variables=[ANGLE], angles=[ANGLE], stats=ALL_STATS, long=True
    )
    expected = angle_oracle(raw)
    # Enough of every kind: near north, wide spread, both sides of 0.
    means = expected[expected["signal"] == f"{ANGLE}_mean"]["value"]
    assert ((means > 350) | (means < 10)).sum() > 200
    assert ((means > 90) & (means < 270)).sum() > 50
    compare(got, expected)


def test_special_windows(raw):
    out = as_pandas(run_farm(raw))
    val = out.set_index(KEY)["value"]

    def at(asset, start):
        t = start.tz_convert("UTC").as_unit("ns")
        return val.xs((asset, t), level=("asset", "timestamp"))

    # Six identical samples: std exactly 0, mean exactly the value.
    w = at("WTG02", START + pd.Timedelta("5h"))
    assert w["wind_speed_count"] == 6
    assert w["wind_speed_std"] == 0.0 and w["power_std"] == 0.0 and w[f"{ANGLE}_std"] == 0.0
    assert w["wind_speed_mean"] == 7.3 and w["power_mean"] == 1234.56
    assert w[f"{ANGLE}_mean"] == 359.9 and w[f"{ANGLE}_min"] == 359.9 and w[f"{ANGLE}_max"] == 359.9
    # 10 and 190 degrees cancel: count only.
    w = at("WTG03", START + pd.Timedelta("7h"))
    assert w[f"{ANGLE}_count"] == 2
    assert not any(f"{ANGLE}_{st}" in w.index for st in ("mean", "min", "max", "std"))
    # Across north: min 355, max 5, mean near 0.
    w = at("WTG04", START + pd.Timedelta("9h"))
    assert abs(wrap180(w[f"{ANGLE}_min"] - 355.0)) < ANGLE_TOL
    assert abs(wrap180(w[f"{ANGLE}_max"] - 5.0)) < ANGLE_TOL
    assert abs(wrap180(w[f"{ANGLE}_mean"] - 0.0)) < 1.0
    assert abs(w["wind_speed_mean"] - 6.5) < 1e-12


def test_min_count(raw):
    counts = (
        dedupe(raw).set_index("timestamp").groupby("asset")[VARIABLES].resample("10min").count()
    )
    sparse = ((counts > 0) & (counts < 8)).to_numpy().sum()
    assert sparse > 100, "the data should have many windows with 1..7 valid samples"
    got = as_pandas(run_farm(raw, min_count=8))
    compare(got, oracle(raw, min_count=8))
    # Spot check: every window with fewer than 8 valid wind speeds has only its count.
    ws = counts["wind_speed"]
    thin = ws[(ws > 0) & (ws < 8)].index
    have = got[got["signal"].str.startswith("wind_speed_")].set_index(["asset", "timestamp"])
    for asset, t in thin[:50]:
        assert set(have.loc[[(asset, t)], "signal"]) == {"wind_speed_count"}


def test_min_count_default_is_one(raw):
    a = as_pandas(run_farm(raw))
    b = as_pandas(run_farm(raw, min_count=1))
    pd.testing.assert_frame_equal(a, b)


def test_wide_matches_long(raw):
    wide = windcore.resample(to_polars(raw), by="asset", angles=ANGLE, stats=ALL_STATS)
    long = as_pandas(run_farm(to_polars(raw)))
    assert wide.columns[:2] == ["asset", "timestamp"]
    assert wide.columns[2:] == [f"{v}_{s}" for v in VARIABLES for s in ALL_STATS]
    assert wide.schema["asset"] == pl.String
    assert wide.schema["wind_speed_count"] == pl.UInt32
    stat_cols = wide.columns[2:]
    melted = (
        wide.with_columns(pl.col(stat_cols).cast(pl.Float64))
        .unpivot(index=["asset", "timestamp"], variable_name="signal", value_name="value")
        .drop_nulls("value")
        .with_columns(pl.col("value").cast(pl.Float64))
    )
    melted = as_pandas(melted).sort_values(KEY).reset_index(drop=True)
    long = long.sort_values(KEY).reset_index(drop=True)
    pd.testing.assert_frame_equal(melted, long, check_exact=True)


def test_output_order_and_columns(raw):
    long = as_pandas(run_farm(raw))
    assert list(long.columns) == ["asset", "timestamp", "signal", "value"]
    # Key, then time, then signal in variable-major, statistic order.
    signals = [f"{v}_{s}" for v in VARIABLES for s in ALL_STATS]
    rank = long["signal"].map({s: i for i, s in enumerate(signals)})
    keys = list(zip(long["asset"], long["timestamp"], rank))
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    wide = windcore.resample(raw, by="asset", angles=ANGLE)
    assert list(wide.columns[:2]) == ["asset", "timestamp"]
    pairs = list(zip(wide["asset"], wide["timestamp"]))
    assert pairs == sorted(pairs) and len(set(pairs)) == len(pairs)
    assert str(wide["timestamp"].dt.tz) == "UTC"


def test_grouped_and_time_major_input_agree(raw):
    shuffled = as_pandas(run_farm(raw))
    # Each asset contiguous and time-sorted (stable: duplicates keep their order).
    grouped = stable_order(raw, "asset", "timestamp")
    # Time-major: every asset at one timestamp, then the next timestamp.
    time_major = stable_order(raw, "timestamp", "asset")
    assert grouped["asset"].is_monotonic_increasing
    assert time_major["timestamp"].dt.tz_convert("UTC").is_monotonic_increasing
    for frame in (grouped, time_major):
        for data in (frame, to_polars(frame)):
            got = as_pandas(run_farm(data))
            pd.testing.assert_frame_equal(got, shuffled, check_exact=True)
    compare(shuffled, oracle(raw))


def test_day_major_and_chunked_input_agree(raw):
    """Rows as a day-by-day extract hands them over: day after day (here
    blocks of 6 hours, for more of them), the assets grouped within each (each asset's rows of a day in time order,
    duplicates in input order), in one chunk or in many (cut at every day and
    at random rows, so windows and duplicate pairs straddle chunks). The
    resampler reads such runs in place; the result must be that of the
    shuffled input, exactly."""
    shuffled = as_pandas(run_farm(raw))
    utc = raw["timestamp"].dt.tz_convert("UTC")
    day = pd.Series(pd.Categorical(utc.dt.floor("6h").astype("int64"), ordered=True), index=raw.index)
    d = raw.assign(_day=day)
    order = np.lexsort(
        (
            np.arange(len(d)),
            utc.astype("int64").to_numpy(),
            pd.Categorical(d["asset"], ordered=True).codes,
            d["_day"].cat.codes.to_numpy(),
        )
    )
    day_major = d.iloc[order].reset_index(drop=True)
    # Day-major indeed: many runs of each asset.
    runs = (day_major["asset"] != day_major["asset"].shift()).sum()
    assert runs > 5 * day_major["asset"].nunique()
    day_starts = np.flatnonzero(day_major["_day"] != day_major["_day"].shift())
    day_major = day_major.drop(columns="_day")
    rng = np.random.default_rng(7)
    cuts = np.unique(
        np.concatenate([day_starts, rng.integers(1, len(day_major), 40), [len(day_major)]])
    )
    cuts = cuts[cuts > 0]
    whole = to_polars(day_major)
    lo = 0
    pieces = []
    for hi in cuts:
        pieces.append(whole.slice(lo, hi - lo))
        lo = hi
    chunked = pl.concat(pieces, rechunk=False)
    assert chunked.n_chunks() == len(pieces) > 40
    for data in (day_major, whole, chunked):
        got = as_pandas(run_farm(data))
        pd.testing.assert_frame_equal(got, shuffled, check_exact=True)


def test_large_farm_parallel_paths():
    """~490k rows: assets long enough to be cut into parallel pieces, and
    time-major input with more key runs than the grouped fast path takes."""
    raw = farm(seed=3, n_assets=6, days=60)
    assert len(raw) > 400_000
    got = as_pandas(run_farm(raw))
    linear = got[~got["signal"].str.startswith(ANGLE)]
    compare(linear, linear_oracle(raw))
    # Angles: scipy on a random sample of 600 windows.
    angles = got[got["signal"].str.startswith(ANGLE)]
    pairs = angles[["asset", "timestamp"]].drop_duplicates()
    pick = pairs.sample(600, random_state=3)
    windows = pd.MultiIndex.from_frame(pick)
    sampled = angles[pd.MultiIndex.from_frame(angles[["asset", "timestamp"]]).isin(windows)]
    compare(sampled, angle_oracle(raw, windows=windows))
    for frame in (stable_order(raw, "asset", "timestamp"), stable_order(raw, "timestamp", "asset")):
        pd.testing.assert_frame_equal(as_pandas(run_farm(frame)), got, check_exact=True)


def test_grouped_input_with_reversed_asset_order(raw):
    """Grouped input whose assets come in descending order: output by key."""
    d = stable_order(raw, "asset", "timestamp", descending_first=True)
    assert d["asset"].is_monotonic_decreasing
    got = as_pandas(run_farm(d))
    assert list(got["asset"].unique()) == sorted(raw["asset"].unique())
    compare(got, oracle(raw))


# --------------------------------------------------------------------------- exact zero


@pytest.mark.parametrize("value,angle", [(7.3, 359.9), (0.1, 0.0), (1e6 + 0.1, 123.456)])
def test_identical_samples_give_exact_zero_std(value, angle):
    ts = pd.date_range("2024-01-01 00:10", periods=6, freq="1min", tz="UTC")
    df = pd.DataFrame(
        {"asset": "WTG01", "timestamp": ts, "x": value, ANGLE: angle}
    )
    wide = windcore.resample(df, by="asset", angles=ANGLE, stats=ALL_STATS)
    assert len(wide) == 1
    row = wide.iloc[0]
    assert row["x_std"] == 0.0 and row[f"{ANGLE}_std"] == 0.0
    assert row["x_mean"] == value and row[f"{ANGLE}_mean"] == angle
    assert row["x_min"] == value and row["x_max"] == value
    assert row[f"{ANGLE}_min"] == angle and row[f"{ANGLE}_max"] == angle
    assert row["x_count"] == 6 and row[f"{ANGLE}_count"] == 6


# ------------------------------------------------------------------------------ errors


def test_unknown_by_column_is_a_column_error(raw):
    with pytest.raises(windcore.ColumnError, match="turbine_id"):
        windcore.resample(raw, by="turbine_id")
    with pytest.raises(windcore.ColumnError, match="turbine_id"):
        windcore.resample(to_polars(raw), by=["asset", "turbine_id"])


def test_float_key_is_a_column_error(raw):
    with pytest.raises(windcore.ColumnError, match="power"):
        windcore.resample(raw, by="power", variables=["wind_speed"])


@pytest.mark.parametrize("bad", [0, -1])
def test_min_count_below_one_is_a_config_error(raw, bad):
    with pytest.raises(windcore.ConfigError, match="min_count"):
        windcore.resample(raw, by="asset", min_count=bad)


def test_angle_not_among_variables_is_a_config_error(raw):
    with pytest.raises(windcore.ConfigError, match=ANGLE):
        windcore.resample(raw, by="asset", variables=LINEAR, angles=ANGLE)


def test_unknown_angle_column_is_a_column_error(raw):
    with pytest.raises(windcore.ColumnError, match="nacelle_position"):
        windcore.resample(raw, by="asset", angles="nacelle_position")


def test_key_as_variable_is_a_config_error(raw):
    with pytest.raises(windcore.ConfigError, match="asset"):
        windcore.resample(raw, by="asset", variables=["asset", "power"])
