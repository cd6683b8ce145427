"""windcore.resample on single-chunk polars frames built the way Python users
build them, against pandas resample on the same data and one memory pass over
the same buffers (written by benches/resample_single_chunk.rs).

Usage: python single_chunk_alternatives.py SAMPLES.parquet RUNS

Layouts (each frame is checked to be one chunk):
  numpy_dense        pl.DataFrame({...}) from numpy arrays
  from_pandas_dense  pl.from_pandas(pdf, include_index=True)
  numpy_nan          pl.DataFrame({...}) from numpy arrays with 1 % NaN (NaN stays NaN)
  from_pandas_null   pl.from_pandas of the same pandas frame: NaN becomes null
                     (a validity bitmap)
pandas: pdf.resample("10min").agg(["mean", "min", "max", "std"]) on the dense
and on the 1 % NaN frame. numpy_one_pass: an integer sum of the three columns'
buffers (every byte read once).

Prints `<name> <best seconds>` and `<name>_worst <worst seconds>` per line.
"""

import gc
import sys

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq

from timing import best_worst

VARIABLES = ("wind_speed", "power")
STATS = ("mean", "min", "max", "std")


def report(name, best, worst):
    print(f"{name} {best:.6f}", flush=True)
    print(f"{name}_worst {worst:.6f}", flush=True)


def describe(name, df):
    nulls = {c: df[c].null_count() for c in VARIABLES}
    nans = {c: int(df[c].is_nan().sum()) for c in VARIABLES}
    print(f"layout {name}: {df.n_chunks('all')} chunks per column, nulls {nulls}, NaN {nans}, "
          f"timestamp {df['timestamp'].dtype}", file=sys.stderr, flush=True)
    assert all(n == 1 for n in df.n_chunks("all")), name


def check(name, got, ref):
    assert got.height == len(ref), (name, got.height, len(ref))
    for v in VARIABLES:
        for s in STATS:
            np.testing.assert_allclose(got[f"{v}_{s}"].to_numpy(), ref[(v, s)].to_numpy(),
                                       rtol=1e-9, atol=1e-9, err_msg=f"{name} {v}_{s}")
    print(f"check: windcore on {name} agrees with pandas ({got.height:,} windows)", file=sys.stderr, flush=True)


def with_nan(x, seed):
    """1 % of the values NaN (a fixed random pattern)."""
    y = x.copy()
    y[np.random.default_rng(seed).random(len(y)) < 0.01] = np.nan
    return y


def main():
    path, runs = sys.argv[1], int(sys.argv[2])
    table = pq.read_table(path)
    ts_i64 = np.ascontiguousarray(table.column("timestamp").combine_chunks().cast("int64").to_numpy())
    ws = np.ascontiguousarray(table.column("wind_speed").combine_chunks().to_numpy())
    pw = np.ascontiguousarray(table.column("power").combine_chunks().to_numpy())
    del table
    ts = ts_i64.view("datetime64[us]")

    def one_pass():
        return int(ts_i64.sum()) + int(ws.view(np.int64).sum()) + int(pw.view(np.int64).sum())

    b, w, _ = best_worst(max(runs, 5), one_pass)
    report("numpy_one_pass", b, w)

    import windcore

    def wc(frame):
        return windcore.resample(frame, every="10m", stats=STATS, variables=list(VARIABLES))

    for missing in (False, True):
        a, c = (with_nan(ws, 1), with_nan(pw, 2)) if missing else (ws, pw)
        pdf = pd.DataFrame(
            {"wind_speed": a, "power": c},
            index=pd.DatetimeIndex(ts, name="timestamp").tz_localize("UTC"),
        )
        b, w, ref = best_worst(runs, lambda: pdf.resample("10min").agg(list(STATS)), "pandas")
        report("pandas_nan" if missing else "pandas_dense", b, w)

        df = pl.DataFrame(
            {"timestamp": pl.Series("timestamp", ts).dt.replace_time_zone("UTC"), "wind_speed": a, "power": c}
        )
        name = "numpy_nan" if missing else "numpy_dense"
        describe(name, df)
        b, w, out = best_worst(max(runs, 5), lambda: wc(df), f"windcore {name}")
        report(f"windcore_py_{name}", b, w)
        check(name, out, ref)
        del df, out

        df = pl.from_pandas(pdf, include_index=True)
        name = "from_pandas_null" if missing else "from_pandas_dense"
        describe(name, df)
        b, w, out = best_worst(max(runs, 5), lambda: wc(df), f"windcore {name}")
        report(f"windcore_py_{name}", b, w)
        check(name, out, ref)
        del df, out, pdf, ref
        gc.collect()


if __name__ == "__main__":
    main()
