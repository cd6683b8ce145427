"""windcore-cli run with --counters, --states and --availability: the target equals
windcore.resample of every sample (day by day with predecessors = one continuous
resampling), and bad mapping files are named."""

from __future__ import annotations

import pathlib
import subprocess

import numpy as np
import pandas as pd
import polars as pl

import windcore

MAPPING_TOML = 'channel = "status"\navailable = [1, 2]\nunavailable = [5]\nexcluded = [9]\n'
MAPPING = {"available": [1, 2], "unavailable": [5], "excluded": [9]}


def run(cli, *args, cwd):
    return subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def farm(tmp_path: pathlib.Path) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ts = pd.date_range("2024-03-01 21:00", "2024-03-03 23:59", freq="1min", tz="UTC")
    frames = []
    for asset in ["T1", "T2", "T3"]:
        n = len(ts)
        status = rng.choice([1, 2, 5, 9, 4], size=n).astype(float)
        energy = np.cumsum(rng.integers(0, 40, size=n)).astype(float)
        energy[n // 3 :] -= energy[n // 3]  # a reset to 0
        keep = rng.random(n) > 0.05
        frames.append(pd.DataFrame({"asset": asset, "timestamp": ts, "power": rng.normal(1000, 300, n),
                                    "energy": energy, "status": status})[keep])
    df = pd.concat(frames, ignore_index=True)
    df.loc[df.sample(frac=0.02, random_state=1).index, "energy"] = np.nan
    out = df.assign(timestamp=df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out.to_csv(tmp_path / "farm.csv", index=False)
    return df


def test_cli_counters_states_availability_equal_one_resampling(cli, tmp_path):
    df = farm(tmp_path)
    (tmp_path / "m.toml").write_text(MAPPING_TOML)
    out = run(cli, "run", "--source", "farm.csv", "--asset-column", "asset", "--variables", "power",
              "--counters", "energy", "--states", "status", "--state-hold", "5m",
              "--availability", "m.toml", "--from", "2024-03-02", "--to", "2024-03-03",
              "--target", "out", "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    got = pl.read_parquet(str(tmp_path / "out" / "target" / "*.parquet")).to_pandas()
    got["timestamp"] = pd.to_datetime(got["timestamp"], utc=True)
    got = got.set_index(["asset", "timestamp", "signal"])["value"].sort_index()
    want = windcore.resample(df, by="asset", variables="power", counters="energy", states="status",
                             state_hold="5m", availability=MAPPING, long=True)
    want["timestamp"] = pd.to_datetime(want["timestamp"], utc=True)
    # (A state held past the last sample reaches into 03-04: not a day of the run.)
    lo, hi = pd.Timestamp("2024-03-02", tz="UTC"), pd.Timestamp("2024-03-04", tz="UTC")
    want = want[(want["timestamp"] >= lo) & (want["timestamp"] < hi)]
    want = want.set_index(["asset", "timestamp", "signal"])["value"].sort_index()
    assert {"energy_delta", "energy_last", "status_seconds_4", "status_seconds_nodata",
            "availability", "unknown_seconds"} <= set(got.index.get_level_values(2))
    pd.testing.assert_index_equal(got.index, want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=0)


def test_cli_names_bad_mapping_files(cli, tmp_path):
    farm(tmp_path)
    base = ["run", "--source", "farm.csv", "--asset-column", "asset", "--states", "status",
            "--date", "2024-03-02", "--target", "out", "--quiet"]
    (tmp_path / "typo.toml").write_text("availble = [1]\n")
    (tmp_path / "twice.toml").write_text("available = [1]\nexcluded = [1]\n")
    for args, needle in [
        (["--availability", "missing.toml"], "missing.toml"),
        (["--availability", "typo.toml"], "unknown key `availble`"),
        (["--availability", "twice.toml"], "both `available` and `excluded`"),
        (["--state-hold", "2d"], "invalid state hold: 2d"),
    ]:
        out = run(cli, *base, *args, cwd=tmp_path)
        assert out.returncode != 0, args
        assert needle in out.stderr, (args, out.stderr)
