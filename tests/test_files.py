"""Files as a source (`run --source FILE|GLOB|DIR`), with exports shaped like
the four kinds users bring, made here (no downloads):

* a whole farm in one CSV: a turbine-name column, ISO times with local
  offsets across the autumn DST change (the repeated hour), NaN runs,
  directions near north, a comment header, bad rows;
* a met-mast logger file in Campbell Scientific TOA5 format with naive
  local times;
* per-turbine CSV files whose turbine is named only in the file name, with a
  `#` block before the header, column names with spaces and units, `;` as
  delimiter and decimal commas;
* Parquet dumps from a historian: epoch milliseconds, 1 Hz.

Oracles: pandas (read the same file, groupby-resample, last duplicate wins)
and PostgreSQL (the same rows loaded into a table and run through the table
source give the identical target).
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

STATS = ["mean", "min", "max", "std"]
KEY = ["asset", "timestamp", "signal"]


def run(cli, *args, cwd):
    return subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def read_target(target: pathlib.Path) -> pd.DataFrame:
    df = pd.read_parquet(target)
    if "asset" not in df.columns:
        df["asset"] = ""
    df["asset"] = df["asset"].astype(str)
    return df.set_index(KEY)["value"].sort_index()


def oracle(samples: pd.DataFrame, variables, angles=(), asset="asset") -> pd.Series:
    """pandas' statistics per (asset, 10-minute window): duplicates keep the
    last row, NaN is not a sample, angles by scipy's circular statistics."""
    s = samples.drop_duplicates([asset, "timestamp"], keep="last").copy()
    # In UTC: pandas floors an aware time on its local clock and refuses the
    # repeated hour; whole-hour offsets give the same 10-minute windows.
    s["window"] = s["timestamp"].dt.tz_convert("UTC").dt.floor("10min")
    out = []
    for v in variables:
        g = s.dropna(subset=[v]).groupby([asset, "window"])[v]
        if v in angles:
            rad = np.deg2rad
            mean = g.apply(lambda x: np.rad2deg(scipy_stats.circmean(rad(x.to_numpy()))) % 360)
            std = g.apply(
                lambda x: np.rad2deg(scipy_stats.circstd(rad(x.to_numpy()))) if len(x) > 1 else np.nan
            )
            parts = {"mean": mean, "std": std}
        else:
            parts = {"mean": g.mean(), "min": g.min(), "max": g.max(), "std": g.std(ddof=1)}
        for stat, ser in parts.items():
            ser = ser.dropna()
            frame = ser.rename("value").reset_index()
            frame["signal"] = f"{v}_{stat}"
            out.append(frame.rename(columns={asset: "asset", "window": "timestamp"}))
    df = pd.concat(out)
    df["asset"] = df["asset"].astype(str)
    df["timestamp"] = df["timestamp"].dt.tz_convert("UTC")
    return df.set_index(KEY)["value"].sort_index()


def assert_stats_match(got: pd.Series, expected: pd.Series, angles=()):
    angle_signals = {f"{a}_{s}" for a in angles for s in ("min", "max")}
    got = got[~got.index.get_level_values("signal").isin(angle_signals)]
    got.index = got.index.set_levels(got.index.levels[1].astype("datetime64[us, UTC]"), level=1)
    expected.index = expected.index.set_levels(
        expected.index.levels[1].astype("datetime64[us, UTC]"), level=1
    )
    assert not got.index.duplicated().any()
    missing = expected.index.difference(got.index)
    extra = got.index.difference(expected.index)
    assert len(missing) == 0 and len(extra) == 0, (missing[:5], extra[:5])
    got = got.reindex(expected.index)
    is_angle_mean = expected.index.get_level_values("signal").isin([f"{a}_mean" for a in angles])
    diff = got.to_numpy() - expected.to_numpy()
    diff[is_angle_mean] = (diff[is_angle_mean] + 180) % 360 - 180
    tol = 1e-9 * np.maximum(1.0, np.abs(expected.to_numpy()))
    bad = np.abs(diff) > tol
    assert not bad.any(), expected[bad].head()


# --------------------------------------------------------------------------- data


def farm_samples(seed=0, turbines=4) -> pd.DataFrame:
    """1-minute samples of a farm over the autumn DST change in Berlin."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-10-25 20:00", tz="Europe/Berlin")
    ts = pd.date_range(start.tz_convert("UTC"), periods=36 * 60, freq="1min")
    frames = []
    for i in range(turbines):
        n = len(ts)
        ws = rng.weibull(2.0, n) * 8
        power = np.clip(2.2 * ws**3 + rng.normal(0, 25, n), 0, 3000)
        wd = (350 + rng.normal(0, 15, n)) % 360  # near north
        nan0 = int(rng.integers(0, n - 60))
        ws[nan0 : nan0 + 37] = np.nan  # a NaN run
        frames.append(
            pd.DataFrame(
                {
                    "Date and time": ts.tz_convert("Europe/Berlin"),
                    "Wind_turbine_name": f"T{i + 1:02d}",
                    "Wind speed (m/s)": ws.round(3),
                    "Power (kW)": power.round(2),
                    "Wind direction (°)": wd.round(2),
                }
            )
        )
    farm = pd.concat(frames).sort_values(["Date and time", "Wind_turbine_name"], kind="stable")
    # A per-turbine duplicate whose later row must win.
    dup = farm.iloc[[100]].copy()
    dup["Power (kW)"] = 12345.0
    return pd.concat([farm, dup]).reset_index(drop=True)


def iso_with_offset(ts: pd.Series) -> pd.Series:
    """`2025-10-26T02:30:00+02:00`, as exports write local times."""
    s = ts.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return s.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)


def test_farm_csv_with_local_offsets_matches_pandas_and_postgres(cli, tmp_path, pg_url):
    samples = farm_samples()
    text = samples.assign(**{"Date and time": iso_with_offset(samples["Date and time"])})
    path = tmp_path / "farm.csv"
    with open(path, "w") as f:
        f.write("# SCADA export, site Kelmarsh\n# generated 2025-11-01\n")
        text.to_csv(f, index=False)
        f.write("2025-10-26T05:00:00+01:00,T01,abc,1,1\n")  # a bad number
        f.write("yesterday,T01,1,1,1\n")  # a bad time
    # The repeated hour is in the file twice, with its two offsets.
    assert text["Date and time"].str.startswith("2025-10-26T02:30:00").sum() == 2 * 4
    args = [
        "run", "--source", str(path), "--time-column", "Date and time",
        "--asset-column", "Wind_turbine_name", "--angles", "Wind direction (°)",
        "--target", "out", "--quiet",
    ]
    out = run(cli, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "2 bad rows" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "farm.csv:" in out.stdout + out.stderr
    got = read_target(tmp_path / "out" / "target")
    variables = ["Wind speed (m/s)", "Power (kW)", "Wind direction (°)"]
    samples = samples.rename(columns={"Wind_turbine_name": "asset", "Date and time": "timestamp"})
    expected = oracle(samples, variables, angles=["Wind direction (°)"])
    assert_stats_match(got, expected, angles=["Wind direction (°)"])

    # The same rows in PostgreSQL, through the table source: the same target.
    import psycopg2

    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute('DROP TABLE IF EXISTS farm_files')
        cur.execute(
            'CREATE TABLE farm_files (ts timestamptz, turbine text, "Wind speed (m/s)" float8, '
            '"Power (kW)" float8, "Wind direction (°)" float8, PRIMARY KEY (ts, turbine))'
        )
        dedup = samples.drop_duplicates(["asset", "timestamp"], keep="last")
        rows = dedup[["timestamp", "asset", *variables]].astype(object).where(dedup.notna(), None)
        cur.executemany("INSERT INTO farm_files VALUES (%s, %s, %s, %s, %s)", rows.values.tolist())
    out = run(
        cli, "run", "--source", pg_url, "--table", "farm_files", "--time-column", "ts",
        "--asset-column", "turbine", "--variables", ",".join(variables),
        "--angles", "Wind direction (°)", "--target", "pgout", "--quiet", cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    from_pg = read_target(tmp_path / "pgout" / "target")
    pd.testing.assert_series_equal(got, from_pg)


def test_per_turbine_files_semicolon_decimal_comma(cli, tmp_path):
    samples = farm_samples(seed=1, turbines=3).rename(
        columns={"Wind_turbine_name": "asset", "Date and time": "timestamp"}
    )
    exports = tmp_path / "exports"
    exports.mkdir()
    for turbine, rows in samples.groupby("asset"):
        with open(exports / f"Turbine_Data_{turbine}_2025-10-01_-_2025-11-01_1044.csv", "w") as f:
            f.write("# This file contains the data for one turbine.\n# Columns:\n#   Date and time: UTC\n")
            out = rows.drop(columns=["asset"]).assign(timestamp=rows["timestamp"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S"))
            out.rename(columns={"timestamp": "# Date and time"}).to_csv(f, sep=";", decimal=",", index=False)
    out = run(
        cli, "run", "--source", str(exports / "*.csv"), "--time-column", "# Date and time",
        "--asset-pattern", r"Turbine_Data_(T\d+)_", "--comment", "none",
        "--target", "out", "--quiet", cwd=tmp_path,
    )
    # With `#` comments off, the `#` block is not skipped: the header is wrong.
    assert out.returncode != 0
    out = run(
        cli, "run", "--source", str(exports / "*.csv"), "--skip-lines", "3",
        "--comment", "none", "--time-column", "# Date and time",
        "--asset-pattern", r"Turbine_Data_(T\d+)_", "--target", "out", "--quiet", cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    got = read_target(tmp_path / "out" / "target")
    variables = ["Wind speed (m/s)", "Power (kW)", "Wind direction (°)"]
    assert_stats_match(got, oracle(samples, variables), angles=())


def test_toa5_logger_file_with_naive_local_times(cli, tmp_path):
    rng = np.random.default_rng(3)
    local = pd.date_range("2025-10-25 22:00", periods=6 * 60 * 6, freq="10s")  # naive, Berlin
    ws = (rng.weibull(2.0, len(local)) * 7).round(3)
    t = (rng.normal(8, 1, len(local))).round(2)
    lines = [
        '"TOA5","Mast01","CR1000","1234","CR1000.Std.32","CPU:mast.CR1","5678","Table10"',
        '"TIMESTAMP","RECORD","WS_80m","AirT_C"',
        '"TS","RN","meters/second","Deg C"',
        '"","","Smp","Smp"',
    ]
    for i, (ts, w, a) in enumerate(zip(local, ws, t)):
        a_text = "NAN" if i % 97 == 0 else str(a)
        lines.append(f'"{ts:%Y-%m-%d %H:%M:%S}",{i},{w},{a_text}')
    (tmp_path / "CR1000_Table10.dat").write_text("\r\n".join(lines) + "\r\n")
    out = run(
        cli, "run", "--source", str(tmp_path / "CR1000_Table10.dat"),
        "--source-timezone", "Europe/Berlin", "--target", "out", "--quiet", cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    got = read_target(tmp_path / "out" / "target")
    samples = pd.DataFrame({"asset": "", "local": local, "WS_80m": ws, "AirT_C": t})
    samples.loc[samples.index % 97 == 0, "AirT_C"] = np.nan
    # Naive local times: the repeated hour's second pass collides with the first
    # (standard time), as PostgreSQL's AT TIME ZONE reads them; the later row wins.
    samples["timestamp"] = samples["local"].dt.tz_localize("Europe/Berlin", ambiguous=False)
    assert_stats_match(got, oracle(samples, ["WS_80m", "AirT_C"]))


def test_parquet_dump_epoch_millis_1hz(cli, tmp_path):
    rng = np.random.default_rng(4)
    start = pd.Timestamp("2024-06-01", tz="UTC")
    frames = []
    for k in range(2):
        ts = pd.date_range(start, periods=2 * 3600, freq="1s")
        frames.append(
            pd.DataFrame(
                {
                    "time_ms": ts.asi8 // 1_000_000,
                    "turbine": f"WT{k}",
                    "power": rng.normal(1500, 200, len(ts)),
                }
            )
        )
    dump = pd.concat(frames)
    # Without the pandas index, which would be one more numeric column.
    dump.iloc[:3000].to_parquet(tmp_path / "dump_part1.parquet", index=False)
    dump.iloc[3000:].to_parquet(tmp_path / "dump_part2.parquet", index=False)
    out = run(
        cli, "run", "--source", str(tmp_path / "dump_*.parquet"), "--time-column", "time_ms",
        "--time-format", "epoch-ms", "--asset-column", "turbine", "--target", "out", "--quiet",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    got = read_target(tmp_path / "out" / "target")
    samples = dump.rename(columns={"turbine": "asset"})
    samples["timestamp"] = pd.to_datetime(samples["time_ms"], unit="ms", utc=True)
    assert_stats_match(got, oracle(samples, ["power"]))


def test_bad_inputs_are_named(cli, tmp_path):
    (tmp_path / "a.csv").write_text("when,power\n2024-01-01T00:00:00Z,1\n")
    out = run(cli, "run", "--source", str(tmp_path / "a.csv"), "--target", "out", cwd=tmp_path)
    # The time column is found by its values when not named.
    assert out.returncode == 0, out.stderr
    out = run(cli, "run", "--source", str(tmp_path / "a.csv"), "--time-column", "ts",
              "--target", "out2", cwd=tmp_path)
    assert out.returncode != 0
    assert "a.csv" in out.stderr and "no time column `ts`" in out.stderr and "when, power" in out.stderr
    out = run(cli, "run", "--source", str(tmp_path / "*.xlsx"), "--target", "out3", cwd=tmp_path)
    assert out.returncode != 0 and "no file matches" in out.stderr, out.stderr
    (tmp_path / "locked.csv").write_text("timestamp,power\n")
    os.chmod(tmp_path / "locked.csv", 0)
    if os.geteuid() != 0:  # root reads any file
        out = run(cli, "run", "--source", str(tmp_path / "locked.csv"), "--target", "o4", cwd=tmp_path)
        assert out.returncode != 0 and "locked.csv" in out.stderr


def test_python_run_on_a_glob(tmp_path):
    import windcore
    samples = farm_samples(seed=5, turbines=2)
    text = samples.assign(**{"Date and time": iso_with_offset(samples["Date and time"])})
    (tmp_path / "exports").mkdir()
    for name, part in text.groupby("Wind_turbine_name"):
        part.to_csv(tmp_path / "exports" / f"{name}.csv", index=False)
    summary = windcore.run(
        source=str(tmp_path / "exports" / "*.csv"),
        target=str(tmp_path / "out"),
        time_column="Date and time",
        asset_column="Wind_turbine_name",
        variables=["Power (kW)"],
    )
    assert summary.ok and summary.failed_days == [], summary
    got = read_target(tmp_path / "out" / "target")
    samples = samples.rename(columns={"Wind_turbine_name": "asset", "Date and time": "timestamp"})
    assert_stats_match(got, oracle(samples, ["Power (kW)"]))


def test_changed_files_rewrite_only_their_pairs(cli, tmp_path):
    """`run --changed` on files: a file edited on one turbine's day rewrites
    that (day, turbine) pair only, and the target equals a full recompute."""
    rng = np.random.default_rng(6)
    ts = pd.date_range("2024-05-01", periods=2 * 1440, freq="1min", tz="UTC")
    exports = tmp_path / "exports"
    exports.mkdir()

    def write(turbine, power):
        pd.DataFrame({"time": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "turbine": turbine,
                      "power": power.round(3)}).to_csv(exports / f"{turbine}.csv", index=False)

    powers = {t: rng.normal(1000, 100, len(ts)) for t in ("T01", "T02")}
    for t, p in powers.items():
        write(t, p)
    args = ["run", "--source", str(exports / "*.csv"), "--time-column", "time",
            "--asset-column", "turbine"]
    first = run(cli, *args, "--changed", "--target", "inc", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "0 unchanged, 0 changed, 4 new, 0 removed" in first.stdout, first.stdout
    again = run(cli, *args, "--changed", "--target", "inc", cwd=tmp_path)
    assert "4 unchanged, 0 changed, 0 new, 0 removed" in again.stdout, again.stdout
    # T02's second day changes (late data).
    p = powers["T02"].copy()
    p[1440 + 100 : 1440 + 160] += 50.0
    write("T02", p)
    changed = run(cli, *args, "--changed", "--target", "inc", cwd=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert "3 unchanged, 1 changed, 0 new, 0 removed" in changed.stdout, changed.stdout
    full = run(cli, *args, "--target", "full", "--quiet", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    got = read_target(tmp_path / "inc" / "target")
    pd.testing.assert_series_equal(got, read_target(tmp_path / "full" / "target"))
    samples = pd.concat(
        [pd.DataFrame({"timestamp": ts, "asset": t, "power": (p if t == "T02" else powers[t]).round(3)})
         for t in ("T01", "T02")]
    )
    assert_stats_match(got, oracle(samples, ["power"]))
