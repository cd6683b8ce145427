"""Benchmark: windcore.resample vs pandas resample vs polars group_by_dynamic.

One process, the same data for all three: N sorted 1-minute samples (default
52,560,000 = 100 turbine-years), microsecond UTC timestamps, two float64
variables (wind_speed, power). Each contender computes mean, min, max and std
(ddof = 1) of both variables over 10-minute windows, wide form:

* windcore  windcore.resample(df)                       (polars DataFrame in and out)
* pandas    pdf.resample("10min").agg(["mean", "min", "max", "std"])
* polars    df.group_by_dynamic("timestamp", every="10m").agg(...)

Best of --repeat runs (default 3) each; prints seconds, million input rows per
second and how many times faster windcore is. The results are cross-checked.

    python bench_resample.py                 # the full 52.56 M rows (needs ~6 GB RAM)
    python bench_resample.py --rows 5000000  # a quick run
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from typing import Callable, Tuple

import numpy as np
import pandas as pd
import polars as pl

import windcore

VARIABLES = ("wind_speed", "power")
STATS = ("mean", "min", "max", "std")


def make_data(n: int, seed: int) -> Tuple[pl.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2020-01-01T00:00:00", "us")
    ts = start + np.arange(n, dtype=np.int64) * np.timedelta64(60_000_000, "us")
    wind = rng.weibull(2.0, n) * 8.0
    power = np.clip(wind**3 * 2.0, 0.0, 2000.0) + rng.normal(0.0, 10.0, n)
    df = pl.DataFrame(
        {
            "timestamp": pl.Series("timestamp", ts).dt.replace_time_zone("UTC"),
            "wind_speed": wind,
            "power": power,
        }
    ).set_sorted("timestamp")
    index = pd.DatetimeIndex(ts, name="timestamp").tz_localize("UTC")
    pdf = pd.DataFrame({"wind_speed": wind, "power": power}, index=index)
    return df, pdf


def best_of(repeat: int, f: Callable[[], object]) -> Tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=52_560_000, help="input rows (default 52,560,000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the best counts")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = args.rows

    print(
        f"windcore {windcore.__version__}, polars {pl.__version__}, pandas {pd.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPU(s)"
    )
    t = time.perf_counter()
    df, pdf = make_data(n, args.seed)
    print(f"data: {n:,} sorted 1-minute rows, 2 variables, built in {time.perf_counter() - t:.1f} s")

    aggs = [
        getattr(pl.col(v), s)().alias(f"{v}_{s}") if s != "std" else pl.col(v).std(ddof=1).alias(f"{v}_std")
        for v in VARIABLES
        for s in STATS
    ]
    contenders = {
        "windcore": lambda: windcore.resample(df, every="10m", stats=STATS),
        "pandas": lambda: pdf.resample("10min").agg(list(STATS)),
        "polars": lambda: df.group_by_dynamic("timestamp", every="10m").agg(aggs),
    }
    results = {}
    for name, f in contenders.items():
        secs, out = best_of(args.repeat, f)
        results[name] = (secs, out)
        print(f"  {name:<9} {secs:8.3f} s  {n / secs / 1e6:8.1f} M rows/s", flush=True)

    # Cross-check: same windows, same numbers.
    wc = results["windcore"][1]
    po = results["polars"][1]
    pa_ = results["pandas"][1]
    assert wc.height == po.height == len(pa_), (wc.height, po.height, len(pa_))
    for v in VARIABLES:
        for s in STATS:
            col = f"{v}_{s}"
            np.testing.assert_allclose(wc[col].to_numpy(), po[col].to_numpy(), rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(wc[col].to_numpy(), pa_[(v, s)].to_numpy(), rtol=1e-9, atol=1e-9)
    print(f"results agree ({wc.height:,} windows x {len(VARIABLES) * len(STATS)} statistics)")

    base = results["windcore"][0]
    for name in ("pandas", "polars"):
        print(f"  windcore is {results[name][0] / base:6.1f}x faster than {name}")


if __name__ == "__main__":
    main()
