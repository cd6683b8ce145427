"""Files as a source, against the alternatives, in one run.

    benches/run files            (WINDCORE_CLI: a release windcore-cli)

1. CSV as exported: 100 turbines x 1 year of 10-minute rows (5,256,000 rows;
   a turbine column, ISO times with the local offset, +01:00 / +02:00),
   `windcore-cli run --source farm.csv` into the embedded target, against
   - the parse floor: `polars.read_csv` of the same file alone (nothing else),
   - pandas: `read_csv` + `to_datetime` + groupby-resample (mean/min/max/std),
   - the write floor: polars writing windcore's own output (held in memory) as
     the same per-day Parquet files; with the parse floor, the least any tool
     that reads this file and writes this target can take.
2. 1 Hz Parquet: 5 turbines x 30 days (12,960,000 rows), epoch milliseconds,
   against `polars.read_parquet` alone and pandas.
3. Peak RSS of the run on 1 such CSV file vs 4 (four years, one file each).

Each windcore run is a fresh process (its peak RSS is read from
getrusage(RUSAGE_CHILDREN) of a child that runs only it). The best and worst
of `WINDCORE_BENCH_RUNS` (default 3) runs are printed with the ratios.
Scale with WINDCORE_BENCH_TURBINES / WINDCORE_BENCH_DAYS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from timing import best_worst

CLI = os.environ.get("WINDCORE_CLI") or shutil.which("windcore-cli")
RUNS = int(os.environ.get("WINDCORE_BENCH_RUNS", "3"))
TURBINES = int(os.environ.get("WINDCORE_BENCH_TURBINES", "100"))
DAYS = int(os.environ.get("WINDCORE_BENCH_DAYS", "365"))


def farm_csv(path: Path, year: int, turbines: int, days: int, seed: int) -> int:
    """10-minute rows of a farm, local times with their offset (Europe/Berlin)."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(f"{year}-01-01", periods=days * 144, freq="10min", tz="Europe/Berlin")
    text = pd.Series(ts.strftime("%Y-%m-%dT%H:%M:%S%z")).str.replace(
        r"(\d\d)(\d\d)$", r"\1:\2", regex=True
    )
    n = len(ts)
    frames = []
    for k in range(turbines):
        ws = rng.weibull(2.0, n) * 8
        frames.append(
            pl.DataFrame(
                {
                    "Date and time": text.to_numpy(),
                    "turbine": f"T{k + 1:03d}",
                    "wind_speed": ws.round(2),
                    "power": np.clip(2.2 * ws**3, 0, 3000).round(1),
                    "wind_direction": ((rng.normal(200, 60, n)) % 360).round(1),
                }
            )
        )
    df = pl.concat(frames).sort("Date and time", maintain_order=True)
    df.write_csv(path)
    return df.height


def windcore(args: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one windcore-cli run in a child."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "e = time.perf_counter() - t\n"
        "assert p.returncode == 0, p.stderr\n"
        "print(e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, CLI, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"windcore-cli {' '.join(args)} failed:\n{out.stderr}")
    e, rss = out.stdout.split()
    return float(e), int(rss)


def windcore_runs(args: list[str], workdir: Path):
    times, rss = [], []
    for _ in range(RUNS):
        shutil.rmtree(workdir / "out", ignore_errors=True)
        e, r = windcore(args)
        times.append(e)
        rss.append(r)
    return min(times), max(times), max(rss)


STATS = ("mean", "min", "max", "std")


def pandas_stats(r):
    """(stat, variable) columns of a groupby-resample. One call per statistic:
    pandas 3.1's `.agg([...])` on a grouped resampler adds the key as a level."""
    return pd.concat({s: getattr(r, s)() for s in STATS}, axis=1)


def pandas_csv(path: Path):
    df = pd.read_csv(path)
    df["timestamp"] = pd.to_datetime(df.pop("Date and time"), utc=True, format="ISO8601")
    g = df.set_index("timestamp").groupby("turbine")[["wind_speed", "power", "wind_direction"]]
    return pandas_stats(g.resample("10min"))


def ratio_line(name, wc_best, wc_worst, alt_best, alt_worst):
    print(
        f"  {name}: best {alt_best:.3f} s, worst {alt_worst:.3f} s; "
        f"windcore worst / {name} best = {wc_worst / alt_best:.2f}x, "
        f"windcore best / {name} worst = {wc_best / alt_worst:.2f}x",
        flush=True,
    )


def main():
    if not CLI:
        sys.exit("set WINDCORE_CLI to a release windcore-cli")
    work = Path(tempfile.mkdtemp(prefix="windcore-bench-files-"))
    try:
        csv = work / "farm.csv"
        rows = farm_csv(csv, 2024, TURBINES, DAYS, seed=1)
        size = csv.stat().st_size / 1e6
        print(f"1. CSV: {rows} rows ({TURBINES} turbines x {DAYS} days of 10-minute rows), {size:.0f} MB")
        args = ["run", "--source", str(csv), "--time-column", "Date and time",
                "--asset-column", "turbine", "--variables", "wind_speed,power,wind_direction",
                "--angles", "wind_direction",
                "--target", str(work / "out"), "--quiet"]
        wc_best, wc_worst, rss1 = windcore_runs(args, work)
        print(f"  windcore-cli run: best {wc_best:.3f} s, worst {wc_worst:.3f} s, peak RSS {rss1 / 2**20:.0f} MiB", flush=True)
        fb, fw, df = best_worst(RUNS, lambda: pl.read_csv(csv))
        assert df.height == rows
        ratio_line("polars.read_csv (the parse floor)", wc_best, wc_worst, fb, fw)
        pb, pw, res = best_worst(1, lambda: pandas_csv(csv))
        ratio_line("pandas read_csv + groupby-resample", wc_best, wc_worst, pb, pw)
        got = pd.read_parquet(work / "out" / "target")
        n_mean = (got["signal"] == "power_mean").sum()
        assert n_mean == res[("mean", "power")].notna().sum(), (n_mean, res[("mean", "power")].notna().sum())
        del got
        # The goal above compares with a parse that writes nothing. windcore
        # must also write its output: one long row per statistic, 9x the rows
        # read. Measure that write alone: the very frames windcore wrote, held
        # in memory, written by polars as the same per-day Parquet files (zstd).
        day_frames = [pl.read_parquet(f) for f in sorted((work / "out" / "target").glob("*.parquet"))]
        n_out = sum(d.height for d in day_frames)
        floor_dir = work / "write-floor"
        floor_dir.mkdir()

        def write_floor():
            for k, d in enumerate(day_frames):
                d.write_parquet(floor_dir / f"{k}.parquet", compression="zstd")

        wb, ww, _ = best_worst(RUNS, write_floor)
        print(f"  the write floor: polars.write_parquet of windcore's {n_out} output rows "
              f"({len(day_frames)} day files, in memory before the clock starts): "
              f"best {wb:.3f} s, worst {ww:.3f} s = {wb / fb:.1f}x the parse floor", flush=True)
        ratio_line("parse floor + write floor", wc_best, wc_worst, fb + wb, fw + ww)
        del day_frames
        shutil.rmtree(floor_dir)

        print(f"3. Peak RSS, 1 file vs 4 files (4 years, one file each)")
        for k, year in enumerate((2021, 2022, 2023)):
            farm_csv(work / f"farm_{year}.csv", year, TURBINES, DAYS, seed=10 + k)
        os.rename(csv, work / "farm_2024.csv")
        args4 = [*args]
        args4[2] = str(work / "farm_*.csv")
        b4, w4, rss4 = windcore_runs(args4, work)
        print(f"  1 file: {rss1 / 2**20:.0f} MiB; 4 files: {rss4 / 2**20:.0f} MiB "
              f"(ratio {rss4 / rss1:.2f}); 4 files took {b4:.3f}-{w4:.3f} s", flush=True)
        for f in work.glob("farm_*.csv"):
            f.unlink()

        pq = work / "hz.parquet"
        hz_turbines, hz_days = 5, int(os.environ.get("WINDCORE_BENCH_HZ_DAYS", "30"))
        rng = np.random.default_rng(2)
        n = hz_days * 86_400
        start = pd.Timestamp("2024-06-01", tz="UTC").value // 1_000_000
        ms = start + np.arange(n, dtype=np.int64) * 1000
        frames = [
            pl.DataFrame({"time_ms": ms, "turbine": f"WT{k}", "power": rng.normal(1500, 200, n),
                          "wind_speed": rng.weibull(2.0, n) * 8})
            for k in range(hz_turbines)
        ]
        pl.concat(frames).write_parquet(pq)
        print(f"2. 1 Hz Parquet: {hz_turbines * n} rows ({hz_turbines} turbines x {hz_days} days), epoch ms")
        args = ["run", "--source", str(pq), "--time-column", "time_ms", "--time-format", "epoch-ms",
                "--asset-column", "turbine", "--target", str(work / "out"), "--quiet"]
        wc_best, wc_worst, rss = windcore_runs(args, work)
        print(f"  windcore-cli run: best {wc_best:.3f} s, worst {wc_worst:.3f} s, peak RSS {rss / 2**20:.0f} MiB", flush=True)
        fb, fw, _ = best_worst(RUNS, lambda: pl.read_parquet(pq))
        ratio_line("polars.read_parquet (the read floor)", wc_best, wc_worst, fb, fw)

        def pandas_pq():
            df = pd.read_parquet(pq)
            df["timestamp"] = pd.to_datetime(df["time_ms"], unit="ms", utc=True)
            g = df.set_index("timestamp").groupby("turbine")[["power", "wind_speed"]]
            return pandas_stats(g.resample("10min"))

        pb, pw, _ = best_worst(1, pandas_pq)
        ratio_line("pandas read_parquet + groupby-resample", wc_best, wc_worst, pb, pw)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
