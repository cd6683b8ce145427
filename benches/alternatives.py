"""The alternatives to windcore's resampler, timed on the same Parquet file.

Usage: python alternatives.py SAMPLES.parquet RUNS
Prints one line per implementation: `<name> <best seconds>`.
"""

import sys
import time

import pandas as pd
import polars as pl


def best_of(runs, f):
    """Best wall time of `runs` calls. As in the Rust harness (benches/lib.rs), the
    result is freed after the clock stops, not inside the timed region."""
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
        del out
    return best


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    pdf = pd.read_parquet(path).set_index("timestamp")
    t = best_of(runs, lambda: pdf.resample("10min").agg(["mean", "min", "max", "std"]))
    print(f"pandas_resample {t:.6f}", flush=True)
    del pdf

    df = pl.read_parquet(path)
    aggs = [
        getattr(pl.col(v), s)().alias(f"{v}_{s}")
        for v in ("wind_speed", "power")
        for s in ("mean", "min", "max", "std")
    ]
    t = best_of(runs, lambda: df.group_by_dynamic("timestamp", every="10m").agg(aggs))
    print(f"polars_group_by_dynamic {t:.6f}", flush=True)

    try:
        import windcore
    except ImportError:
        print("windcore (Python module) not installed: skipping windcore_python", file=sys.stderr)
        return
    t = best_of(max(runs, 5), lambda: windcore.resample(df, variables=["wind_speed", "power"]))
    print(f"windcore_python {t:.6f}", flush=True)


if __name__ == "__main__":
    main()
