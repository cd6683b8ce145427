"""The README's main job, checked against independent oracles (pandas, polars, DuckDB)."""

import pathlib
import signal
import subprocess
import time

import duckdb
import numpy as np
import pandas as pd
import polars as pl

STATS = ["mean", "min", "max", "std"]


def run(cli, *args, cwd):
    return subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def pandas_oracle(source_dir: pathlib.Path, variables=("wind_speed", "power")) -> pd.Series:
    """pandas' resample of the raw samples, as a (timestamp, signal) -> value series without NaN."""
    src = pd.read_parquet(source_dir)
    agg = src.set_index("timestamp")[list(variables)].resample("10min").agg(STATS)
    agg.columns = [f"{v}_{s}" for v, s in agg.columns]
    long = agg.stack(future_stack=True).dropna()
    long.index.names = ["timestamp", "signal"]
    return long


def read_target(target_dir: pathlib.Path) -> pd.Series:
    tgt = pd.read_parquet(target_dir)
    return tgt.set_index(["timestamp", "signal"])["value"]


def assert_matches(got: pd.Series, expected: pd.Series):
    assert not got.index.duplicated().any(), "duplicate (timestamp, signal) rows"
    assert set(got.index) == set(expected.index)
    got = got.sort_index()
    expected = expected.sort_index()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)


# The demo run's settings (windcore::demo): linear statistics of these, circular ones of the
# wind direction, the energy counter's increments, the state durations, and availability by
# the mapping of windcore::STATE_AVAILABILITY_TOML, as the README's table of the demo states
# gives it: running, low wind and high wind available, a fault unavailable, maintenance excluded.
DEMO_LINEAR = ("wind_speed", "power")
AVAILABLE, UNAVAILABLE, EXCLUDED = (1, 2, 5), (3,), (4,)


def wrap180(x):
    return (x + 180.0) % 360.0 - 180.0


def demo_oracle(source_dir: pathlib.Path) -> pd.Series:
    """The demo run's statistics by pandas and scipy, as an (asset, timestamp, signal) ->
    value series, from the raw samples: the SPEC's rules written out for complete 1-minute
    samples (each state sample holds for its minute; a counter's predecessor is the asset's
    previous sample, the day before for a day's first)."""
    from scipy import stats as scipy_stats

    src = pd.read_parquet(source_dir).sort_values(["asset", "timestamp"]).reset_index(drop=True)
    src["window"] = src["timestamp"].dt.floor("10min")
    g = src.groupby(["asset", "window"])
    parts = {}
    for v in DEMO_LINEAR:
        for st in STATS:
            parts[f"{v}_{st}"] = g[v].std(ddof=1) if st == "std" else g[v].agg(st)
    mean = g["wind_direction"].apply(lambda x: np.rad2deg(scipy_stats.circmean(np.deg2rad(x))) % 360)
    at = pd.MultiIndex.from_frame(src[["asset", "window"]])
    src["dev"] = wrap180(src["wind_direction"] - mean.reindex(at).to_numpy())
    g = src.groupby(["asset", "window"])
    parts["wind_direction_mean"] = mean
    parts["wind_direction_std"] = g["wind_direction"].apply(lambda x: np.rad2deg(scipy_stats.circstd(np.deg2rad(x))))
    parts["wind_direction_min"] = (mean + g["dev"].min()) % 360
    parts["wind_direction_max"] = (mean + g["dev"].max()) % 360
    # Counter: v - prev, or v after a decrease (a reset); the first sample has no predecessor.
    prev = src.groupby("asset")["energy"].shift()
    src["inc"] = np.where(src["energy"] >= prev, src["energy"] - prev, src["energy"])
    src.loc[prev.isna(), "inc"] = np.nan
    g = src.groupby(["asset", "window"])
    parts["energy_delta"] = g["inc"].sum(min_count=1)
    parts["energy_last"] = g["energy"].last()
    # States: a sample holds its minute; a state absent from a window has no row.
    seconds = src.assign(s=60.0).pivot_table(index=["asset", "window"], columns="state", values="s",
                                             aggfunc="sum", fill_value=0.0)
    for code in seconds.columns:
        parts[f"state_seconds_{int(code)}"] = seconds[code][seconds[code] > 0]
    cat = lambda codes: seconds[[c for c in seconds.columns if int(c) in codes]].sum(axis=1)
    available, unavailable, excluded = cat(AVAILABLE), cat(UNAVAILABLE), cat(EXCLUDED)
    nodata = 600.0 - seconds.sum(axis=1)
    parts["state_seconds_nodata"] = nodata
    parts["available_seconds"] = available
    parts["unavailable_seconds"] = unavailable
    parts["excluded_seconds"] = excluded
    parts["unknown_seconds"] = nodata
    both = available + unavailable
    parts["availability"] = (available / both)[both > 0]
    frames = []
    for name, ser in parts.items():
        f = ser.dropna().rename("value").reset_index()
        f["signal"] = name
        frames.append(f.rename(columns={"window": "timestamp"}))
    return pd.concat(frames).set_index(["asset", "timestamp", "signal"])["value"].sort_index()


def test_readme_main_job_matches_pandas(cli, tmp_path):
    out = run(cli, "run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "generating 10 days of demo data" in out.stderr
    assert "days loaded   10" in out.stdout
    data = tmp_path / "windcore-data"
    assert len(list((data / "source").glob("*.parquet"))) == 10
    assert len(list((data / "target").glob("*.parquet"))) == 10

    src = pd.read_parquet(data / "source")
    assets = sorted(src["asset"].unique())
    assert assets == ["T01", "T02", "T03"]
    assert len(src) == 10 * len(assets) * 1440
    assert f"rows in       {len(src)}" in out.stdout

    expected = demo_oracle(data / "source")
    tgt = pd.read_parquet(data / "target")
    got = tgt.set_index(["asset", "timestamp", "signal"])["value"]
    assert not got.index.duplicated().any(), "duplicate (asset, timestamp, signal) rows"
    assert set(got.index) == set(expected.index)
    got, expected = got.sort_index(), expected.sort_index()
    angle = got.index.get_level_values("signal").str.startswith("wind_direction_")
    np.testing.assert_allclose(got[~angle].to_numpy(), expected[~angle].to_numpy(), rtol=1e-9, atol=1e-9)
    # Angles: compared on the circle (359.9999 and 0.0000 are the same direction).
    diff = wrap180(got[angle].to_numpy() - expected[angle].to_numpy())
    assert np.abs(diff).max() < 1e-9
    assert f"rows out      {len(got)}" in out.stdout
    # The states the demo farm went through, and a fault among them.
    names = set(got.index.get_level_values("signal"))
    assert {"state_seconds_1", "state_seconds_2", "state_seconds_3"} <= names
    assert (got.xs("availability", level="signal") < 1).any()
    # A day's energy increments add up to the energy of its power samples (kWh = kW/60 a
    # minute), on every day but the first (whose first sample has no predecessor).
    delta = got.xs("energy_delta", level="signal").reset_index()
    delta["day"] = delta["timestamp"].dt.date
    src["day"] = src["timestamp"].dt.date
    produced = (src["power"] / 60).groupby([src["asset"], src["day"]]).sum()
    summed = delta.groupby(["asset", "day"])["value"].sum()
    later = produced.index.get_level_values("day") > min(src["day"])
    np.testing.assert_allclose(summed[later].to_numpy(), produced[later].to_numpy(), rtol=1e-9)

    # The same files read back with polars and DuckDB.
    pl_df = pl.read_parquet(data / "target" / "*.parquet")
    assert pl_df.height == len(got)
    assert pl_df.schema["timestamp"] == pl.Datetime("us", "UTC")
    con = duckdb.connect()
    n, signals = con.execute(
        f"select count(*), count(distinct signal) from read_parquet('{data}/target/*.parquet')"
    ).fetchone()
    assert (n, signals) == (len(got), len(names))
    first = con.execute(
        f"select min(timestamp) from read_parquet('{data}/source/*.parquet')"
    ).fetchone()[0]
    assert first.isoformat().startswith("2024-01-01T00:00:00")

    # A second run leaves the target identical.
    again = run(cli, "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "generating" not in again.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(data / "target").sort_values(["asset", "timestamp", "signal"]).reset_index(drop=True),
        tgt.sort_values(["asset", "timestamp", "signal"]).reset_index(drop=True),
    )


def test_missing_values_and_other_stats_match_pandas(cli, tmp_path):
    gen = run(cli, "generate", "--days", "3", "--start", "2023-12-30", "--missing-rate", "0.3",
              "--seed", "7", "--data-dir", "d", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    out = run(cli, "run", "--data-dir", "d", "--variables", "wind_speed,power,ambient_temperature",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    expected = pandas_oracle(tmp_path / "d" / "source", ("wind_speed", "power", "ambient_temperature"))
    assert_matches(read_target(tmp_path / "d" / "target"), expected)


def test_killed_run_then_rerun_equals_clean_run(cli, tmp_path):
    for d in ("killed", "clean"):
        gen = run(cli, "generate", "--days", "400", "--data-dir", d, "--quiet", cwd=tmp_path)
        assert gen.returncode == 0, gen.stderr
    proc = subprocess.Popen([cli, "run", "--data-dir", "killed", "--quiet"], cwd=tmp_path)
    target = tmp_path / "killed" / "target"
    deadline = time.time() + 120
    while time.time() < deadline:
        if target.exists() and len(list(target.glob("*.parquet"))) >= 3:
            break
        time.sleep(0.001)
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert still_running, "the run finished before it could be killed; make the test data larger"
    assert len(list(target.glob("*.parquet"))) < 400

    assert run(cli, "run", "--data-dir", "killed", "--quiet", cwd=tmp_path).returncode == 0
    assert run(cli, "run", "--data-dir", "clean", "--quiet", cwd=tmp_path).returncode == 0
    killed = pd.read_parquet(target)
    clean = pd.read_parquet(tmp_path / "clean" / "target")
    assert len(clean) == 400 * 144 * 8
    pd.testing.assert_frame_equal(killed, clean)
