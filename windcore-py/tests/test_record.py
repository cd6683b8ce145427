"""Counters, states and availability in windcore.resample against pandas oracles
(time differences clipped at the hold and at window edges; diff with the reset rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import windcore

MAPPING = {"available": [1, 2], "unavailable": [5], "excluded": [9]}
TEXT = {1: "running", 2: "low_wind", 5: "fault", 9: "maintenance", 7: "other"}


def samples(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    """Two turbines over ~two days: irregular seconds, gaps longer than the
    hold (and than a window), states carried over midnight, NaN states, an
    energy counter with resets and NaN."""
    rng = np.random.default_rng(seed)
    frames = []
    for asset in ["T1", "T2"]:
        gaps = rng.choice([17, 60, 61, 125, 900, 2400], size=n, p=[0.1, 0.5, 0.2, 0.1, 0.07, 0.03])
        secs = np.cumsum(gaps)
        ts = pd.Timestamp("2024-03-01 22:00:00", tz="UTC") + pd.to_timedelta(secs, unit="s")
        status = rng.choice([1, 2, 5, 9, 7], size=n, p=[0.5, 0.2, 0.1, 0.1, 0.1]).astype(float)
        status[rng.random(n) < 0.05] = np.nan
        energy = np.cumsum(rng.integers(0, 50, size=n)).astype(float)
        energy[n // 3 :] -= energy[n // 3] - 3  # a reset to 3
        energy[rng.random(n) < 0.05] = np.nan
        frames.append(pd.DataFrame({"asset": asset, "timestamp": ts, "status": status, "energy": energy}))
    return pd.concat(frames, ignore_index=True)


EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def secs_of(ts: pd.Series) -> np.ndarray:
    """Whole seconds since the epoch of UTC timestamps (any unit)."""
    return ((ts.dt.tz_convert("UTC") - EPOCH) // pd.Timedelta("1s")).to_numpy()


def state_oracle(df: pd.DataFrame, hold_s: int, every_s: int = 600) -> dict:
    """(asset, window start, signal) -> seconds: each valid sample's state from
    its time to min(next valid sample, time + hold), split at window edges."""
    out: dict = {}
    for asset, g in df.groupby("asset"):
        g = g.dropna(subset=["status"]).sort_values("timestamp")
        t = secs_of(g["timestamp"])
        codes = g["status"].to_numpy()
        windows = set((secs_of(df.loc[df["asset"] == asset, "timestamp"]) // every_s * every_s).tolist())
        for k in range(len(t)):
            end = t[k] + hold_s
            if k + 1 < len(t):
                end = min(end, t[k + 1])
            a = t[k]
            while a < end:
                w = a // every_s * every_s
                b = min(end, w + every_s)
                key = (asset, w, codes[k])
                out[key] = out.get(key, 0) + (b - a)
                windows.add(w)
                a = b
        for w in windows:
            out.setdefault((asset, w, None), 0)
    return out


def long_of(out) -> pd.DataFrame:
    if isinstance(out, pl.DataFrame):
        out = out.to_pandas()
    out = out.copy()
    out["w"] = secs_of(out["timestamp"])
    return out


@pytest.mark.parametrize("codes", ["integer", "text"])
@pytest.mark.parametrize("hold", [120, 600])
@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_states_and_availability_match_pandas(codes, hold, kind):
    df = samples(seed=hold + (codes == "text"))
    mapping = dict(MAPPING)
    if codes == "text":
        df["status"] = df["status"].map(TEXT)  # NaN stays missing
        mapping = {k: [TEXT[v] for v in vs] for k, vs in MAPPING.items()}
    data = df if kind == "pandas" else pl.from_pandas(df)
    out = windcore.resample(
        data, by="asset", states="status", state_hold=f"{hold}s", availability=mapping, long=True,
        stats="mean",
    )
    got = long_of(out)
    oracle = state_oracle(df, hold)
    name = (lambda c: str(int(c))) if codes == "integer" else str
    want: dict = {}
    windows: dict = {}
    for (asset, w, code), secs in oracle.items():
        windows.setdefault((asset, w), {})
        if code is not None:
            windows[(asset, w)][code] = secs
    for (asset, w), by_code in windows.items():
        for code, secs in by_code.items():
            want[(asset, w, f"status_seconds_{name(code)}")] = float(secs)
        covered = sum(by_code.values())
        want[(asset, w, "status_seconds_nodata")] = float(600 - covered)
        cat = {c: k for k, vs in mapping.items() for c in vs}
        per = {"available": 0, "unavailable": 0, "excluded": 0}
        for code, secs in by_code.items():
            c = cat.get(code if codes == "text" else int(code))
            if c:
                per[c] += secs
        for k, v in per.items():
            want[(asset, w, f"{k}_seconds")] = float(v)
        want[(asset, w, "unknown_seconds")] = float(600 - sum(per.values()))
        if per["available"] + per["unavailable"] > 0:
            want[(asset, w, "availability")] = per["available"] / (per["available"] + per["unavailable"])
    sel = got[~got["signal"].str.startswith("energy") & ~got["signal"].str.endswith("_mean")]
    got_d = {(r.asset, r.w, r.signal): r.value for r in sel.itertuples()}
    assert set(got_d) == set(want)
    for k, v in want.items():
        assert got_d[k] == pytest.approx(v, rel=1e-12, abs=0), k
    # Per window the states and nodata add up to the window length, exactly.
    sums = sel[sel["signal"].str.startswith("status_seconds_")].groupby(["asset", "w"])["value"].sum()
    assert (sums == 600.0).all()
    cats = sel[sel["signal"].isin(["available_seconds", "unavailable_seconds", "excluded_seconds", "unknown_seconds"])]
    assert (cats.groupby(["asset", "w"])["value"].sum() == 600.0).all()


def test_counters_match_pandas_diff_with_resets():
    df = samples(seed=5)
    out = windcore.resample(df, by="asset", counters="energy", stats="mean", long=True)
    got = long_of(out)
    for asset, g in df.groupby("asset"):
        g = g.dropna(subset=["energy"]).sort_values("timestamp")
        prev = g["energy"].shift()
        inc = np.where(g["energy"] >= prev, g["energy"] - prev, g["energy"])
        t = g["timestamp"]
        gap_ok = (t - t.shift()) <= pd.Timedelta("1D")
        inc = pd.Series(np.where(prev.isna() | ~gap_ok, np.nan, inc), index=g.index)
        w = pd.Series(secs_of(t) // 600 * 600, index=g.index)
        want_delta = inc.groupby(w).sum(min_count=1).dropna()
        want_last = g["energy"].groupby(w).last()
        mine = got[got["asset"] == asset]
        d = mine[mine["signal"] == "energy_delta"].set_index("w")["value"]
        last = mine[mine["signal"] == "energy_last"].set_index("w")["value"]
        pd.testing.assert_series_equal(d.sort_index(), want_delta.sort_index(), check_names=False, check_index_type=False)
        pd.testing.assert_series_equal(last.sort_index(), want_last.sort_index(), check_names=False, check_index_type=False)
        # The deltas add up to the increase (with the reset), exactly.
        assert d.sum() == inc.sum()


def test_bad_mappings_are_clear_errors(tmp_path):
    df = samples(n=50)
    with pytest.raises(windcore.ConfigError, match="unknown key `availble`"):
        windcore.resample(df, by="asset", states="status", availability={"availble": [1]})
    with pytest.raises(windcore.ConfigError, match="both"):
        windcore.resample(df, by="asset", states="status", availability={"available": [1], "excluded": [1]})
    with pytest.raises(windcore.ConfigError, match="mapping.toml"):
        windcore.resample(df, by="asset", states="status", availability=tmp_path / "mapping.toml")
    p = tmp_path / "m.toml"
    p.write_text('available = [1, 2]\nunavailable = [5]\nexcluded = [9]\n')
    out = windcore.resample(df, by="asset", states="status", availability=str(p))
    assert "availability" in out.columns


# ------------------------------------------------------------------ windcore.run


def farm_csv(tmp_path) -> tuple:
    """Two turbines, three UTC days of 1-minute samples (from 2024-03-01 22:00,
    so the first day has predecessors) as a CSV file, and the frame."""
    rng = np.random.default_rng(11)
    ts = pd.date_range("2024-03-01 22:00", "2024-03-04 23:59", freq="1min", tz="UTC")
    frames = []
    for asset in ["T1", "T2"]:
        n = len(ts)
        status = rng.choice([1, 2, 5, 9], size=n, p=[0.6, 0.2, 0.1, 0.1]).astype(float)
        status = pd.Series(status).where(pd.Series(rng.random(n)) > 0.03).to_numpy()
        energy = np.cumsum(rng.integers(0, 30, size=n)).astype(float)
        energy[n // 2 :] -= energy[n // 2] - 1
        keep = rng.random(n) > 0.02  # gaps
        frames.append(pd.DataFrame({
            "asset": asset, "timestamp": ts, "power": rng.normal(900, 200, n),
            "energy": energy, "status": status,
        })[keep])
    df = pd.concat(frames, ignore_index=True)
    path = tmp_path / "farm.csv"
    df.assign(timestamp=df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(path, index=False)
    return path, df


RUN = dict(asset_column="asset", variables=["power"], counters=["energy"], states=["status"],
           availability=MAPPING, start="2024-03-02", end="2024-03-04")


def read_target(target) -> pd.Series:
    df = pl.read_parquet(str(target / "target" / "*.parquet")).to_pandas()
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df.set_index(["asset", "timestamp", "signal"])["value"].sort_index()


def continuous(df: pd.DataFrame) -> pd.Series:
    """One resampling of every sample, restricted to the run's days."""
    out = windcore.resample(df, by="asset", variables=["power"], counters="energy",
                            states="status", availability=MAPPING, long=True)
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
    lo, hi = pd.Timestamp("2024-03-02", tz="UTC"), pd.Timestamp("2024-03-05", tz="UTC")
    out = out[(out["timestamp"] >= lo) & (out["timestamp"] < hi)]
    return out.set_index(["asset", "timestamp", "signal"])["value"].sort_index()


def test_run_day_by_day_equals_one_resampling(tmp_path):
    path, df = farm_csv(tmp_path)
    summary = windcore.run(source=str(path), target=str(tmp_path / "out"), **RUN)
    assert summary.ok and summary.days_loaded == 3
    got = read_target(tmp_path / "out")
    want = continuous(df)
    assert {"energy_delta", "status_seconds_5", "availability"} <= set(got.index.get_level_values(2))
    pd.testing.assert_index_equal(got.index, want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=0)


def test_dask_run_passes_counters_and_states_on(dask_cluster_or_skip, tmp_path):
    client = dask_cluster_or_skip
    path, _ = farm_csv(tmp_path)
    windcore.run(source=str(path), target=str(tmp_path / "one"), **RUN)
    options = dict(RUN)
    start, end = options.pop("start"), options.pop("end")
    summary = windcore.dask.run(client, start=start, end=end, source=str(path),
                                target=str(tmp_path / "many"), **options)
    assert summary.ok and summary.days_loaded == 3
    pd.testing.assert_series_equal(read_target(tmp_path / "one"), read_target(tmp_path / "many"))


@pytest.fixture(scope="module")
def dask_cluster_or_skip():
    distributed = pytest.importorskip("distributed")
    import windcore.dask  # noqa: F401

    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as lc:
        with distributed.Client(lc) as client:
            yield client


def _interleaved(df: pd.DataFrame) -> pl.DataFrame:
    """The samples as a farm export holds them: ordered by time, turbines interleaved."""
    return pl.from_pandas(df.sort_values("timestamp", kind="stable").reset_index(drop=True))


@pytest.mark.parametrize("key", ["string", "null_key", "chunked", "integer"])
def test_long_output_is_the_wide_output_unpivoted(key):
    """The long form (written in parallel blocks, key and signal columns as shared
    views) holds exactly the defined cells of the wide form, whatever the key."""
    df = _interleaved(samples(seed=5, n=1500))
    if key == "null_key":
        every_7th = pl.int_range(pl.len()) % 7 == 0
        df = df.with_columns(pl.when(every_7th).then(None).otherwise(pl.col("asset")).alias("asset"))
    elif key == "chunked":
        half = df.height // 2
        df = pl.concat([df[:half], df[half:]], rechunk=False)
        assert df["asset"].n_chunks() == 2
    elif key == "integer":
        df = df.with_columns(pl.col("asset").str.slice(1).cast(pl.Int32))
    kw = dict(by="asset", counters="energy", states="status", availability=MAPPING, stats="mean")
    wide = pl.DataFrame(windcore.resample(df, **kw))
    long = pl.DataFrame(windcore.resample(df, long=True, **kw))
    stats = [c for c in wide.columns if c not in ("asset", "timestamp")]
    expected = (
        wide.unpivot(index=["asset", "timestamp"], on=stats, variable_name="signal", value_name="value")
        .filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
        .sort("asset", "timestamp", "signal", nulls_last=True)
    )
    got = long.sort("asset", "timestamp", "signal", nulls_last=True)
    assert got.height == expected.height > 0
    nulls = got["asset"].null_count()
    assert nulls == expected["asset"].null_count()
    assert (nulls > 0) == (key == "null_key")
    assert got.equals(expected.select(got.columns)), (key, got.head(), expected.head())


def test_empty_input_gives_empty_long_and_wide_output():
    df = _interleaved(samples(n=10)).clear()
    kw = dict(by="asset", counters="energy", states="status", availability=MAPPING)
    for long in (False, True):
        out = pl.DataFrame(windcore.resample(df, long=long, **kw))
        assert out.height == 0, long


def test_unsorted_and_duplicate_timestamps():
    """Rows in any order give the result of the sorted rows; of rows with equal
    (asset, timestamp) the later one in input order wins, for counters and states."""
    df = pl.from_pandas(samples(seed=9, n=800))
    kw = dict(by="asset", counters="energy", states="status", availability=MAPPING, stats="mean", long=True)
    ref = pl.DataFrame(windcore.resample(df, **kw)).sort("asset", "timestamp", "signal")
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=1)
    got = pl.DataFrame(windcore.resample(shuffled, **kw)).sort("asset", "timestamp", "signal")
    assert got.equals(ref)
    # Every 10th row again, later in the input, with other values: those win.
    again = df.gather_every(10).with_columns(
        (pl.col("energy") + 1000.0).alias("energy"), pl.lit(5.0).alias("status")
    )
    got = pl.DataFrame(windcore.resample(pl.concat([df, again]), **kw)).sort("asset", "timestamp", "signal")
    winners = pl.concat([df.join(again, on=["asset", "timestamp"], how="anti"), again]).sort("asset", "timestamp")
    want = pl.DataFrame(windcore.resample(winners, **kw)).sort("asset", "timestamp", "signal")
    assert got.equals(want)
    assert not got.equals(ref)


def test_integer_states_with_nulls_in_any_row_order():
    """Integer states with nulls (read as integers, coded where they lie and
    moved to key order as codes) give the statistics of the same states as
    floats with NaN, whether the rows come grouped by turbine (read in place),
    with the turbines alternating row by row (more runs than the in-place
    path takes: moved by a scatter) or shuffled (a gather)."""
    df = pl.from_pandas(samples(seed=4, n=60_000))
    kw = dict(by="asset", counters="energy", states="status", availability=MAPPING, stats="mean", long=True)
    ref = pl.DataFrame(windcore.resample(df, **kw)).sort("asset", "timestamp", "signal")
    ints = df.with_columns(pl.col("status").fill_nan(None).cast(pl.Int64))
    assert ints["status"].null_count() > 0
    # The turbines alternating row by row, each in time order: 120,000 runs.
    alternating = (
        ints.with_columns(pl.int_range(pl.len()).over("asset").alias("k")).sort("k", "asset").drop("k")
    )
    assert (alternating["asset"] != alternating["asset"].shift(1)).sum() > 100_000
    for frame in (ints, alternating, ints.sample(fraction=1.0, shuffle=True, seed=2)):
        got = pl.DataFrame(windcore.resample(frame, **kw)).sort("asset", "timestamp", "signal")
        assert got.equals(ref)
