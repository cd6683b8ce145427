"""windcore.resample on wind-farm data (several assets in one table): keys,
circular statistics for angles and min_count, against independent oracles.

* Linear channels: pandas ``groupby("asset").resample("10min")`` after
  dropping duplicate (asset, timestamp) rows, keeping the last in input order.
* Angles: ``scipy.stats.circmean`` / ``circstd`` per (asset, window); min and
  max from their definition, computed here in numpy.

The farm data is built like a real SCADA export: turbines ``WTG01``..,
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
from scipy import stats as scipy_stats

import windcore

RTOL = 1e-9
ATOL_ZERO = 1e-12  # where the expected value is 0
ANGLE_TOL = 1e-9  # degrees, on the circular difference
LINEAR = ["wind_speed", "power"]
ANGLE = "wind_direction"
VARIABLES = ["wind_speed", "power", ANGLE]  # the input column order
ALL_STATS = ["mean", "min", "max", "std", "count"]
WINDOW = pd.Timedelta("10min")
# Summer time ends in Berlin on 2024-10-27 at 03:00 CEST (-> 02:00 CET): the
# local hour 02:00..03:00 happens twice; the instants are all distinct.
START = pd.Timestamp("2024-10-26 12:00", tz="Europe/Berlin")
KEY = ["asset", "timestamp", "signal"]


# --------------------------------------------------------------------------- data


def _wrap360(x: np.ndarray) -> np.ndarray:
    return np.mod(x, 360.0)


def wrap180(d):
    """Differences taken into [-180, 180)."""
    return np.mod(np.asarray(d, dtype=float) + 180.0, 360.0) - 180.0


def farm(seed: int = 0, n_assets: int = 6, days: int = 2) -> pd.DataFrame:
    """A farm export: asset, timestamp (Europe/Berlin), wind_speed, power,
    wind_direction; unsorted, with gaps, NaN runs and duplicates.

    Special windows (no random duplicates in them):
    * WTG02, window starting START + 5h: exactly six rows, identical values.
    * WTG03, window starting START + 7h: directions 10 and 190 only (they
      cancel: no angle mean / std / min / max), other rows NaN.
    * WTG04, window starting START + 9h: directions 355, 358, 2, 5 (across north).
    """
    rng = np.random.default_rng(seed)
    n = days * 1440
    ts_all = pd.date_range(START.tz_convert("UTC"), periods=n, freq="1min").tz_convert(
        "Europe/Berlin"
    )
    secs_all = (ts_all.asi8 // 1_000_000_000).astype(np.int64)
    frames = []
    for i in range(n_assets):
        asset = f"WTG{i + 1:02d}"
        keep = np.ones(n, dtype=bool)
        for _ in range(3):  # outages of 15 min .. 4 h
            g0 = int(rng.integers(0, n - 240))
            keep[g0 : g0 + int(rng.integers(15, 240))] = False
        keep &= rng.random(n) > 0.08  # single lost minutes
        idx = np.flatnonzero(keep)
        m = len(idx)
        ws = rng.weibull(2.0, m) * 8.0
        power = np.clip(2.2 * ws**3 + rng.normal(0.0, 25.0, m), 0.0, 3000.0)
        # Direction regime per window: near north (350..370 wrapped), spread
        # all around, or a southern cluster.
        win = secs_all[idx] // 600
        regimes = rng.choice(3, size=int(win.max() - win.min()) + 1, p=[0.6, 0.2, 0.2])
        reg = regimes[win - win.min()]
        wd = np.where(
            reg == 0,
            _wrap360(350.0 + rng.uniform(0.0, 20.0, m)),
            np.where(reg == 1, rng.uniform(0.0, 360.0, m), _wrap360(rng.normal(180.0, 8.0, m))),
        )
        for col in (ws, power, wd):
            for _ in range(4):  # NaN runs of 3 .. 40 minutes
                r0 = int(rng.integers(0, m - 40))
                col[r0 : r0 + int(rng.integers(3, 40))] = np.nan
            col[rng.random(m) < 0.03] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "asset": asset,
                    "timestamp": ts_all[idx],
                    "wind_speed": ws,
                    "power": power,
                    ANGLE: wd,
                    "special": False,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)

    def replace_window(asset: str, start: pd.Timestamp, rows: pd.DataFrame) -> pd.DataFrame:
        inside = (
            (df["asset"] == asset) & (df["timestamp"] >= start) & (df["timestamp"] < start + WINDOW)
        )
        rows = rows.assign(asset=asset, special=True)
        return pd.concat([df[~inside], rows[df.columns]], ignore_index=True)

    t = START + pd.Timedelta("5h")
    df = replace_window(
        "WTG02",
        t,
        pd.DataFrame(
            {
                "timestamp": [t + pd.Timedelta(minutes=k) for k in range(6)],
                "wind_speed": 7.3,
                "power": 1234.56,
                ANGLE: 359.9,
            }
        ),
    )
    t = START + pd.Timedelta("7h")
    wd = np.full(10, np.nan)
    wd[2], wd[7] = 10.0, 190.0
    df = replace_window(
        "WTG03",
        t,
        pd.DataFrame(
            {
                "timestamp": [t + pd.Timedelta(minutes=k) for k in range(10)],
                "wind_speed": rng.uniform(3.0, 9.0, 10),
                "power": rng.uniform(100.0, 900.0, 10),
                ANGLE: wd,
            }
        ),
    )
    t = START + pd.Timedelta("9h")
    df = replace_window(
        "WTG04",
        t,
        pd.DataFrame(
            {
                "timestamp": [t + pd.Timedelta(minutes=k) for k in range(4)],
                "wind_speed": [5.0, 6.0, 7.0, 8.0],
                "power": [300.0, 400.0, 500.0, 600.0],
                ANGLE: [355.0, 358.0, 2.0, 5.0],
            }
        ),
    )

    # Shuffle, then add duplicates of ~2 % of the rows at random later
    # positions (a third of them twice). Their wind speeds are 100 and more,
    # so a window that kept the wrong row cannot match the oracle.
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    pos = np.arange(len(df), dtype=float)
    cand = np.flatnonzero(~df["special"].to_numpy())
    pick = rng.choice(cand, size=len(df) // 50, replace=False)

    def duplicates(src: pd.DataFrame, after: np.ndarray):
        d = src.copy()
        k = len(d)
        d["wind_speed"] = 100.0 + rng.uniform(0.0, 20.0, k)
        d["power"] = rng.uniform(0.0, 3000.0, k)
        d[ANGLE] = rng.uniform(0.0, 360.0, k)
        d.loc[rng.random(k) < 0.1, "power"] = np.nan  # a NaN that wins is a NaN
        return d, rng.uniform(after + 0.25, len(df))

    dup1, pos1 = duplicates(df.iloc[pick], pos[pick])
    third = rng.random(len(dup1)) < 1 / 3
    dup2, pos2 = duplicates(dup1[third], pos1[third])
    out = pd.concat([df, dup1, dup2], ignore_index=True)
    order = np.argsort(np.concatenate([pos, pos1, pos2]), kind="stable")
    return out.iloc[order].drop(columns="special").reset_index(drop=True)


@pytest.fixture(scope="module", params=[0, 1], ids=["seed0", "seed1"])
def raw(request) -> pd.DataFrame:
    return farm(seed=request.param)


def to_polars(df: pd.DataFrame) -> pl.DataFrame:
    """The same rows as polars: NaN (not null) in wind_speed and the
    direction, real nulls in power."""
    out = pl.from_pandas(df, nan_to_null=False)
    return out.with_columns(
        pl.when(pl.col("power").is_nan()).then(None).otherwise(pl.col("power")).alias("power")
    )


class _StreamOnly:
    """An object that only implements the Arrow PyCapsule interface."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


# ------------------------------------------------------------------------- oracles


def dedupe(df: pd.DataFrame, by=("asset",)) -> pd.DataFrame:
    """Of several rows of one key with the same timestamp, the last (input order)."""
    d = df.drop_duplicates([*by, "timestamp"], keep="last").copy()
    d["timestamp"] = d["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    return d


def linear_oracle(df: pd.DataFrame, min_count: int = 1) -> pd.DataFrame:
    """pandas per asset and 10-minute window; long form, undefined stats dropped."""
    d = dedupe(df)
    res = d.set_index("timestamp").groupby("asset")[LINEAR].resample("10min")
    per_stat = {st: getattr(res, st)() for st in ALL_STATS}
    parts = []
    for var in LINEAR:
        count = per_stat["count"][var]
        for st in ALL_STATS:
            s = per_stat[st][var].astype(float)
            if st == "count":
                s = s[count > 0]
            else:
                s = s[count >= min_count]
            s = s.dropna()
            part = s.rename("value").reset_index()
            part["signal"] = f"{var}_{st}"
            parts.append(part)
    return pd.concat(parts, ignore_index=True)[KEY + ["value"]]


def circular_expected(x: np.ndarray, min_count: int = 1) -> dict:
    """The circular statistics of the valid samples ``x`` of one window
    (degrees): scipy for mean and std, the definition for min and max."""
    n = len(x)
    out = {"count": float(n)}
    if n == 0 or n < min_count:
        return out if n else {}
    if np.all(x == x[0]):
        m = float(x[0] % 360.0)
        out.update(mean=m, min=m, max=m)
        if n >= 2:
            out["std"] = 0.0
        return out
    if abs(np.exp(1j * np.deg2rad(x)).mean()) < 1e-9:
        return out  # the directions cancel: no mean
    m = float(scipy_stats.circmean(x, high=360, low=0))
    d = wrap180(x - m)
    out.update(mean=m, min=float((m + d.min()) % 360.0), max=float((m + d.max()) % 360.0))
    if n >= 2:
        out["std"] = float(scipy_stats.circstd(x, high=360, low=0))
    return out


def angle_oracle(
    df: pd.DataFrame, var: str = ANGLE, min_count: int = 1, windows: pd.MultiIndex | None = None
) -> pd.DataFrame:
    """scipy per (asset, window); only the (asset, window start) pairs of
    `windows` if given."""
    d = dedupe(df)
    d["window"] = d["timestamp"].dt.floor("10min")
    if windows is not None:
        d = d[pd.MultiIndex.from_frame(d[["asset", "window"]]).isin(windows)]
    rows = []
    for (asset, window), g in d.groupby(["asset", "window"], sort=True):
        x = g[var].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        for st, v in circular_expected(x, min_count).items():
            rows.append((asset, window, f"{var}_{st}", v))
    return pd.DataFrame(rows, columns=KEY + ["value"])


def oracle(df: pd.DataFrame, min_count: int = 1) -> pd.DataFrame:
    return pd.concat(
        [linear_oracle(df, min_count), angle_oracle(df, min_count=min_count)], ignore_index=True
    )


# ------------------------------------------------------------------------- helpers


def as_pandas(out) -> pd.DataFrame:
    if isinstance(out, pl.DataFrame):
        out = out.to_pandas()
    elif isinstance(out, pa.Table):
        out = out.to_pandas()
    out = out.copy()
    out["timestamp"] = out["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    return out


def compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Identical (asset, timestamp, signal) sets; values within RTOL (linear,
    std), ATOL_ZERO where 0 is expected, ANGLE_TOL circularly (angle mean,
    min, max)."""
    got = as_pandas(got)
    expected = expected.copy()
    expected["timestamp"] = expected["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    g = got.set_index(KEY)["value"]
    e = expected.set_index(KEY)["value"]
    assert not g.index.duplicated().any(), g[g.index.duplicated(keep=False)].head(10)
    assert not e.index.duplicated().any()
    missing = e.index.difference(g.index)
    extra = g.index.difference(e.index)
    assert len(missing) == 0 and len(extra) == 0, (
        f"{len(missing)} expected statistics missing, e.g.\n{e.loc[missing[:8]]}\n"
        f"{len(extra)} unexpected statistics, e.g.\n{g.loc[extra[:8]]}"
    )
    g = g.loc[e.index].to_numpy(dtype=float)
    sig = e.index.get_level_values("signal")
    e = e.to_numpy(dtype=float)
    assert np.isfinite(g).all()
    circ = sig.isin([f"{ANGLE}_{st}" for st in ("mean", "min", "max")])
    diff = np.abs(wrap180(g[circ] - e[circ]))
    bad = diff >= ANGLE_TOL
    if bad.any():
        table = pd.DataFrame(
            {"signal": sig[circ][bad], "got": g[circ][bad], "expected": e[circ][bad]}
        )
        raise AssertionError(
            f"{bad.sum()} angle statistics differ, worst {diff.max()}:\n{table.head(10)}"
        )
    assert ((g[circ] >= 0.0) & (g[circ] < 360.0)).all()
    lin = ~circ
    ok = np.where(
        e[lin] == 0.0,
        np.abs(g[lin]) <= ATOL_ZERO,
        np.abs(g[lin] - e[lin]) <= RTOL * np.abs(e[lin]),
    )
    if not ok.all():
        table = pd.DataFrame({"signal": sig[lin][~ok], "got": g[lin][~ok], "expected": e[lin][~ok]})
        raise AssertionError(f"{(~ok).sum()} statistics differ:\n{table.head(10)}")


def stable_order(df: pd.DataFrame, first: str, second: str, descending_first: bool = False):
    """Rows sorted by `first`, then `second` (timestamps as instants), keeping
    the input order of ties (so duplicates keep theirs)."""

    def codes(col):
        s = df[col]
        if col == "timestamp":
            return s.dt.tz_convert("UTC").astype("int64").to_numpy()
        c = pd.Categorical(s, ordered=True).codes.astype(np.int64)
        return -c if col == first and descending_first else c

    order = np.lexsort((np.arange(len(df)), codes(second), codes(first)))
    return df.iloc[order].reset_index(drop=True)


def run_farm(data, **kw):
    kw.setdefault("stats", ALL_STATS)
    return windcore.resample(data, by="asset", angles=ANGLE, long=True, **kw)


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


# ----------------------------------------------------------------------- key types


def test_integer_keys_keep_their_type(raw):
    ids = {a: int(a[3:]) * 7 for a in raw["asset"].unique()}  # 7, 14, ..., 42: not lexicographic
    pdf = raw.assign(turbine=raw["asset"].map(ids).astype("int64")).drop(columns="asset")
    for dtype in (pl.Int64, pl.Int32, pl.UInt64):
        data = to_polars(pdf).with_columns(pl.col("turbine").cast(dtype))
        wide = windcore.resample(data, by="turbine", angles=ANGLE)
        assert wide.columns[:2] == ["turbine", "timestamp"]
        assert wide.schema["turbine"] == dtype
        pairs = list(zip(wide["turbine"], wide["timestamp"]))
        assert pairs == sorted(pairs)
        assert wide["turbine"].unique().sort().to_list() == sorted(ids.values())
    # Same numbers as the string keys.
    by_int = as_pandas(
        windcore.resample(pdf, by="turbine", angles=ANGLE, stats=ALL_STATS, long=True)
    )
    assert by_int["turbine"].dtype == np.int64
    back = {v: k for k, v in ids.items()}
    by_int = by_int.assign(asset=by_int["turbine"].map(back)).drop(columns="turbine")
    compare(by_int, oracle(raw))


def test_small_integer_key_is_widened_not_lost(raw):
    d = to_polars(raw).with_columns(
        pl.col("asset").str.slice(3).cast(pl.UInt8).alias("turbine")
    ).drop("asset")
    wide = windcore.resample(d, by="turbine", angles=ANGLE)
    assert wide.schema["turbine"].is_integer()
    assert wide["turbine"].unique().sort().to_list() == list(range(1, raw["asset"].nunique() + 1))


def test_pandas_category_key(raw):
    cat = raw.assign(asset=raw["asset"].astype("category"))
    got = as_pandas(run_farm(cat))
    assert got["asset"].map(type).eq(str).all()
    pd.testing.assert_frame_equal(got, as_pandas(run_farm(raw)), check_exact=True)


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]"])
def test_pandas_string_dtype_key(raw, dtype):
    got = as_pandas(run_farm(raw.assign(asset=raw["asset"].astype(dtype))))
    pd.testing.assert_frame_equal(got, as_pandas(run_farm(raw)), check_exact=True)


def test_pandas_integer_category_key(raw):
    ids = raw["asset"].str.slice(3).astype(int)
    cat = raw.assign(asset=ids.astype("category"))
    got = as_pandas(run_farm(cat))
    assert got["asset"].dtype.kind in "iu"


@pytest.mark.parametrize("dtype", ["categorical", "enum"])
def test_polars_categorical_key(raw, dtype):
    base = to_polars(raw)
    kind = pl.Categorical() if dtype == "categorical" else pl.Enum(sorted(raw["asset"].unique()))
    data = base.with_columns(pl.col("asset").cast(kind))
    got = run_farm(data)
    assert got.schema["asset"] == pl.String
    pd.testing.assert_frame_equal(as_pandas(got), as_pandas(run_farm(base)), check_exact=True)
    # LazyFrame too.
    pd.testing.assert_frame_equal(
        as_pandas(run_farm(data.lazy())), as_pandas(run_farm(base)), check_exact=True
    )


def test_dictionary_keys_with_long_names_and_nulls_read_as_their_strings(raw):
    """Entries longer than a string view's inline 12 bytes, unused entries and
    null keys: a dictionary key column decodes to exactly the strings."""
    names = {a: f"Windpark Nordsee-Ost {a} (nacelle)" for a in raw["asset"].unique()}
    base = to_polars(raw.assign(asset=raw["asset"].map(names))).with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("asset")).alias("asset")
    )
    reference = as_pandas(run_farm(base))
    assert reference["asset"].isna().any() and reference["asset"].str.len().max() > 12
    unused = pl.Enum(["an unused entry, longer than twelve bytes", *sorted(names.values())])
    for kind in (pl.Categorical(), unused):
        data = base.with_columns(pl.col("asset").cast(kind))
        for frame in (data, _StreamOnly(data.to_arrow())):
            pd.testing.assert_frame_equal(as_pandas(run_farm(frame)), reference, check_exact=True)


def test_arrow_dictionary_key_in_python_and_in_rust(raw):
    table = pa.Table.from_pandas(raw, preserve_index=False)
    dict_table = table.set_column(
        table.schema.get_field_index("asset"), "asset", table.column("asset").dictionary_encode()
    )
    assert pa.types.is_dictionary(dict_table.schema.field("asset").type)
    reference = as_pandas(run_farm(table))
    batch = dict_table.combine_chunks().to_batches()[0]
    assert batch.num_rows == dict_table.num_rows
    # pyarrow Table / RecordBatch: decoded in Python; a bare stream: decoded
    # by the native module.
    for data in (dict_table, batch, _StreamOnly(dict_table)):
        got = as_pandas(run_farm(data))
        pd.testing.assert_frame_equal(got, reference, check_exact=True)
    # polars Categorical exported over the C stream (not cast in Python).
    cat = to_polars(raw).with_columns(pl.col("asset").cast(pl.Categorical()))
    got = as_pandas(run_farm(_StreamOnly(cat.to_arrow())))
    pd.testing.assert_frame_equal(got, as_pandas(run_farm(to_polars(raw))), check_exact=True)


def test_dictionary_keys_in_any_order_are_ranked_by_their_strings(raw):
    """A dictionary key is resampled by the rank of its words and gets its
    words back: categories in order of appearance (not sorted), an Enum in
    reverse order, and a stream whose chunks have dictionaries of their own
    (8-bit indices, a word twice, a null entry, null indices) give exactly the
    statistics of the plain strings, in string order."""
    # Categories appear in reverse order (and, of duplicate timestamps,
    # another row is the last: the reference is the same rows as strings).
    backwards = to_polars(raw).reverse()
    reference = as_pandas(run_farm(backwards))
    assert reference["asset"].is_monotonic_increasing
    kinds = (pl.Categorical(), pl.Enum(sorted(raw["asset"].unique(), reverse=True)))
    for kind in kinds:
        data = backwards.with_columns(pl.col("asset").cast(kind))
        for frame in (data, _StreamOnly(data.to_arrow())):
            got = as_pandas(run_farm(frame))
            assert got["asset"].map(type).eq(str).all()
            pd.testing.assert_frame_equal(got, reference, check_exact=True)

    # pyarrow: two chunks, each with its own dictionary.
    table = pa.Table.from_pandas(raw, preserve_index=False)
    names = table.column("asset").to_pylist()
    words = sorted(set(names))
    half = len(names) // 2
    chunks = []
    expect = []
    for part, start in ((names[:half], 0), (names[half:], half)):
        # Reverse order, the first word twice, a null entry in the middle.
        dictionary = [words[0], *reversed(words), None]
        index = {w: i for i, w in enumerate(dictionary) if w is not None}
        idx = []
        for j, w in enumerate(part):
            row = start + j
            if row % 53 == 0:
                idx.append(None)  # a null key
                expect.append(None)
            elif row % 61 == 0:
                idx.append(len(dictionary) - 1)  # the null entry
                expect.append(None)
            else:
                # The first copy of words[0] for even rows, the second for odd.
                idx.append(0 if w == words[0] and row % 2 == 0 else index[w])
                expect.append(w)
        chunks.append(
            pa.DictionaryArray.from_arrays(pa.array(idx, pa.int8()), pa.array(dictionary, pa.string()))
        )
    assert any(e is None for e in expect)
    dict_table = table.set_column(
        table.schema.get_field_index("asset"), "asset", pa.chunked_array(chunks)
    )
    plain = table.set_column(
        table.schema.get_field_index("asset"), "asset", pa.array(expect, pa.string())
    )
    want = as_pandas(run_farm(plain))
    got = as_pandas(run_farm(_StreamOnly(dict_table)))
    assert got["asset"].isna().any()
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # An index past the dictionary is an error naming the column, not a null.
    bad = pa.DictionaryArray.from_arrays(
        pa.array([0, 5] + [0] * (len(names) - 2), pa.int8()), pa.array(["a", "b"]), safe=False
    )
    with pytest.raises(windcore.ColumnError, match="asset"):
        run_farm(_StreamOnly(table.set_column(table.schema.get_field_index("asset"), "asset", bad)))


@pytest.mark.parametrize("string_type", [pa.string(), pa.large_string()])
def test_arrow_string_keys_are_ranked_as_their_strings(string_type):
    """Arrow string keys (pandas' ``str``, pyarrow strings) are grouped by the
    rank of their words, numbered in blocks of 2**20 rows: over two million
    rows in three chunks, keys interleaved and in runs, short and long words,
    a word with a trailing space, nulls. Same statistics, same order, as the
    same rows in a polars frame (whose string keys take another path)."""
    n = (1 << 21) + 12_345
    words = ["T01", "T02", "Windpark Nordsee-Ost T03 (nacelle)", "a", None, "Zz", "T01 "]
    i = np.arange(n)
    # Interleaved row by row for a while, then in runs of 1000 rows.
    pick = np.where(i < n // 2, i % len(words), (i // 1000) % len(words))
    keys = [words[k] for k in pick]
    rng = np.random.default_rng(7)
    ws = rng.gamma(2.0, 4.0, n)
    ws[rng.random(n) < 0.01] = np.nan
    direction = rng.uniform(0.0, 360.0, n)
    times = pa.array(i.astype("int64") * 1_000_000, pa.timestamp("us", tz="UTC"))
    cuts = [0, 700_001, 1_900_000, n]
    key_chunks = [pa.array(keys[a:b], string_type) for a, b in zip(cuts, cuts[1:])]
    table = pa.table(
        {
            "asset": pa.chunked_array(key_chunks),
            "timestamp": times,
            "wind_speed": ws,
            ANGLE: direction,
        }
    )
    assert table.column("asset").num_chunks == 3
    kw = dict(by="asset", angles=ANGLE, stats=ALL_STATS)
    got = windcore.resample(table, **kw).to_pandas()
    want = windcore.resample(pl.from_arrow(table).rechunk(), **kw).to_pandas()
    assert pl.from_arrow(table).schema["asset"] == pl.String
    assert got["asset"].isna().any() and (got["asset"] == "T01 ").any()
    assert list(got["asset"].dropna().unique()) == sorted(w for w in words if w is not None)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_two_keys(raw):
    farm_of = {a: ("north" if int(a[3:]) % 2 else "south") for a in raw["asset"].unique()}
    d = raw.assign(
        farm=raw["asset"].map(farm_of), turbine=raw["asset"].str.slice(3).astype("int32")
    ).drop(columns="asset")
    long = as_pandas(
        windcore.resample(d, by=["farm", "turbine"], angles=ANGLE, stats=ALL_STATS, long=True)
    )
    assert list(long.columns[:3]) == ["farm", "turbine", "timestamp"]
    keys = list(zip(long["farm"], long["turbine"], long["timestamp"]))
    assert keys == sorted(keys)
    back = {int(a[3:]): a for a in raw["asset"].unique()}
    long = long.assign(asset=long["turbine"].map(back))
    assert (long["farm"] == long["asset"].map(farm_of)).all()
    compare(long.drop(columns=["farm", "turbine"]), oracle(raw))
    # "a,b" spelling.
    again = windcore.resample(d, by="farm, turbine", angles=ANGLE, stats=ALL_STATS, long=True)
    pd.testing.assert_frame_equal(as_pandas(again), long.drop(columns="asset"), check_exact=True)


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
