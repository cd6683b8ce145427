"""The alternatives to windcore's resampler, timed on the same Parquet file.

Usage: python alternatives.py SAMPLES.parquet RUNS
Prints one line per implementation: `<name> <best seconds>`.
"""

import sys
import time

import pandas as pd
import polars as pl


def best_worst(runs, f):
    """Best and worst wall time of `runs` calls. As in the Rust harness
    (benches/lib.rs), the result is freed after the clock stops, not inside the
    timed region."""
    best, worst = float("inf"), 0.0
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        e = time.perf_counter() - t
        best, worst = min(best, e), max(worst, e)
        del out
    return best, worst


def report(name, times):
    print(f"{name} {times[0]:.6f}", flush=True)
    print(f"{name}_worst {times[1]:.6f}", flush=True)


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    pdf = pd.read_parquet(path).set_index("timestamp")
    report("pandas_resample", best_worst(runs, lambda: pdf.resample("10min").agg(["mean", "min", "max", "std"])))
    del pdf

    df = pl.read_parquet(path)
    aggs = [
        getattr(pl.col(v), s)().alias(f"{v}_{s}")
        for v in ("wind_speed", "power")
        for s in ("mean", "min", "max", "std")
    ]
    report("polars_group_by_dynamic", best_worst(runs, lambda: df.group_by_dynamic("timestamp", every="10m").agg(aggs)))

    try:
        import windcore
    except ImportError:
        print("windcore (Python module) not installed: skipping windcore_python", file=sys.stderr)
        return
    report("windcore_python", best_worst(max(runs, 5), lambda: windcore.resample(df, variables=["wind_speed", "power"])))


if __name__ == "__main__":
    main()
