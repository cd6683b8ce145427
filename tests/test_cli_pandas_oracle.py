"""The README's main job, checked against independent oracles (pandas, polars, DuckDB)."""

import os
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


def test_readme_main_job_matches_pandas(cli, tmp_path):
    out = run(cli, "run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "generating 10 days of demo data" in out.stderr
    assert "days loaded   10" in out.stdout
    data = tmp_path / "windcore-data"
    assert len(list((data / "source").glob("*.parquet"))) == 10
    assert len(list((data / "target").glob("*.parquet"))) == 10

    expected = pandas_oracle(data / "source")
    got = read_target(data / "target")
    assert len(got) == 10 * 144 * 8
    assert_matches(got, expected)

    # The same files read back with polars and DuckDB.
    pl_df = pl.read_parquet(data / "target" / "*.parquet")
    assert pl_df.height == len(got)
    assert pl_df.schema["timestamp"] == pl.Datetime("us", "UTC")
    con = duckdb.connect()
    n, signals = con.execute(
        f"select count(*), count(distinct signal) from read_parquet('{data}/target/*.parquet')"
    ).fetchone()
    assert (n, signals) == (len(got), 8)
    first = con.execute(
        f"select min(timestamp) from read_parquet('{data}/source/*.parquet')"
    ).fetchone()[0]
    assert first.isoformat().startswith("2024-01-01T00:00:00")

    # A second run leaves the target identical.
    again = run(cli, "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "generating" not in again.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(data / "target").sort_values(["timestamp", "signal"]).reset_index(drop=True),
        got.reset_index().sort_values(["timestamp", "signal"]).reset_index(drop=True),
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
