"""Wide 1 Hz frames: one column per turbine and channel, against pandas, in one run.

    benches/run wide         (builds and installs the Python module from this tree)

10 turbines x 3 channels (wind speed, power, wind direction near north) at 1 Hz:
30 columns, 86,400 rows a day, with NaN runs. The frame is a pandas DataFrame
with a DatetimeIndex, the way such exports are held; windcore gets the same
frame (its conversion counted) and, separately, the polars frame built from it.

1. Means only, every column linear (as pandas computes it):
   `windcore.resample(df, stats="mean")` vs `df.resample("10min").mean()`.
2. mean/min/max/std, with circular statistics for the 10 direction columns
   (mean direction atan2(mean sin, mean cos), circular std sqrt(-2 ln R), min /
   max as the mean plus the most negative / positive deviation): windcore with
   `angles=` vs pandas `resample().agg(["mean", "min", "max", "std"])` on the
   linear columns plus the circular statistics from resampled sin / cos and
   the deviations.

The floor: one read pass over the values, numpy's sum of each column (one
thread) and polars' sum of the columns (every core side by side).

For 14 days (1,209,600 rows) and for 1 day (86,400 rows), where fixed costs
dominate. Results are cross-checked before times are printed. Best and worst of
WINDCORE_BENCH_RUNS (default 5) runs of each.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import polars as pl

import windcore

from timing import best_worst

RUNS = int(os.environ.get("WINDCORE_BENCH_RUNS", "5"))
TURBINES = int(os.environ.get("WINDCORE_BENCH_TURBINES", "10"))


def with_nan_runs(x: np.ndarray, rng) -> np.ndarray:
    """About 1 % of the values missing, in runs of 1 s to 5 min."""
    x = x.copy()
    n = len(x)
    for s in rng.integers(0, n, max(1, n // 20_000)):
        x[s : s + rng.integers(1, 300)] = np.nan
    return x


def wide_frame(days: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * 86_400
    index = pd.date_range("2024-03-01", periods=n, freq="1s", tz="UTC", name="timestamp")
    cols = {}
    for k in range(1, TURBINES + 1):
        ws = np.abs(8 + np.cumsum(rng.normal(0, 0.05, n)) % 6 + rng.normal(0, 0.5, n))
        cols[f"WT{k:02d}_wind_speed"] = with_nan_runs(ws, rng)
        cols[f"WT{k:02d}_power"] = with_nan_runs(np.clip(2.2 * ws**3, 0, 3000), rng)
        wd = (np.cumsum(rng.normal(0, 0.2, n)) + rng.normal(0, 8, n)) % 360.0  # near north
        cols[f"WT{k:02d}_wind_direction"] = with_nan_runs(wd, rng)
    return pd.DataFrame(cols, index=index)


def directions(df) -> list[str]:
    return [c for c in df.columns if c.endswith("_wind_direction")]


def pandas_means(df: pd.DataFrame) -> pd.DataFrame:
    return df.resample("10min").mean()


def pandas_full(df: pd.DataFrame) -> pd.DataFrame:
    """mean/min/max/std of the linear columns, circular ones for the directions."""
    dirs = directions(df)
    lin = df.drop(columns=dirs)
    r = lin.resample("10min")
    out = {f"{c}_{s}": v for s in ("mean", "min", "max", "std") for c, v in getattr(r, s)().items()}
    rad = np.radians(df[dirs].to_numpy())
    sin = pd.DataFrame(np.sin(rad), index=df.index, columns=dirs).resample("10min").mean()
    cos = pd.DataFrame(np.cos(rad), index=df.index, columns=dirs).resample("10min").mean()
    mean = np.degrees(np.arctan2(sin, cos)) % 360.0
    r_len = np.hypot(sin, cos)
    std = np.degrees(np.sqrt(-2.0 * np.log(np.minimum(r_len, 1.0))))
    # deviations from each row's window mean, wrapped to [-180, 180)
    win = df.index.floor("10min")
    dev = df[dirs] - mean.reindex(win).to_numpy()
    dev = (dev + 180.0) % 360.0 - 180.0
    dr = dev.resample("10min")
    lo, hi = dr.min(), dr.max()
    counts = df[dirs].resample("10min").count()
    for c in dirs:
        out[f"{c}_mean"] = mean[c]
        out[f"{c}_min"] = (mean[c] + lo[c]) % 360.0
        out[f"{c}_max"] = (mean[c] + hi[c]) % 360.0
        out[f"{c}_std"] = std[c].where(counts[c] > 1)
    return pd.DataFrame(out)


def check(name: str, got, ref: pd.DataFrame, angles: list[str]):
    got = got.to_pandas() if isinstance(got, pl.DataFrame) else got
    if "timestamp" in got.columns:
        got = got.set_index("timestamp")
    ref = ref.dropna(how="all")
    got = got.reindex(index=ref.index)
    for c in ref.columns:
        a, b = got[c].to_numpy(dtype=float), ref[c].to_numpy(dtype=float)
        diff = np.abs(a - b)
        if any(c.startswith(x) and not c.endswith("_std") for x in angles):
            diff = np.minimum(diff, 360.0 - diff)
        bad = ~((diff <= 1e-6 * (1 + np.abs(b))) | (np.isnan(a) & np.isnan(b)))
        if bad.any():
            sys.exit(f"{name}: column {c} differs in {bad.sum()} windows, e.g. {a[bad][:3]} vs {b[bad][:3]}")


def line(what: str, wb: float, ww: float, pb: float, pw: float, goal: float):
    print(
        f"    {what}: windcore best {wb * 1e3:.1f} ms, worst {ww * 1e3:.1f} ms; pandas best {pb * 1e3:.1f} ms, "
        f"worst {pw * 1e3:.1f} ms; pandas best / windcore worst = {pb / ww:.1f}x, "
        f"pandas worst / windcore best = {pw / wb:.1f}x (goal >= {goal:g}x)",
        flush=True,
    )


def read_pass(arrays: list[np.ndarray]) -> float:
    """The floor: every input value read once (a plain sum per column)."""
    return sum(float(np.add.reduce(a)) for a in arrays)


def read_pass_threads(values: pl.DataFrame) -> pl.DataFrame:
    """The same pass on every core: polars sums the columns side by side."""
    return values.sum()


def main():
    for days, goals in ((14, (20, 50)), (1, (10, 10))):
        df = wide_frame(days)
        pdf = pl.from_pandas(df.reset_index())
        print(f"{days} day(s): {len(df)} rows x {df.shape[1]} columns", flush=True)
        dirs = directions(df)
        arrays = [df[c].to_numpy() for c in df.columns]
        values = pl.from_pandas(df, nan_to_null=False)
        fb, fw, _ = best_worst(RUNS, lambda: read_pass(arrays))
        tb, tw, _ = best_worst(RUNS, lambda: read_pass_threads(values))
        pb, pw, ref = best_worst(RUNS, lambda: pandas_means(df))
        print(
            f"    the floor, one read pass of the {df.size} values (numpy sum per column): best {fb * 1e3:.1f} ms, "
            f"worst {fw * 1e3:.1f} ms; on every core (polars sum of the columns, {pl.thread_pool_size()} threads): "
            f"best {tb * 1e3:.1f} ms, worst {tw * 1e3:.1f} ms; {goals[0]}x pandas means needs "
            f"{pb / goals[0] * 1e3:.1f} ms = {pb / goals[0] / fb:.2f}x the floor, {pb / goals[0] / tb:.2f}x the pass on "
            f"every core",
            flush=True,
        )
        for kind, data in (("pandas frame", df), ("polars frame", pdf)):
            wb, ww, got = best_worst(RUNS, lambda: windcore.resample(data, stats="mean"))
            check(f"means, {kind}", got.rename(columns=lambda c: c.removesuffix("_mean")) if isinstance(got, pd.DataFrame)
                  else got.rename({c: c.removesuffix("_mean") for c in got.columns}), ref, [])
            line(f"means only, {kind}", wb, ww, pb, pw, goals[0])
        pb, pw, ref = best_worst(RUNS, lambda: pandas_full(df))
        print(
            f"    {goals[1]}x pandas full needs {pb / goals[1] * 1e3:.1f} ms = {pb / goals[1] / fb:.2f}x the floor, "
            f"{pb / goals[1] / tb:.2f}x the pass on every core",
            flush=True,
        )
        for kind, data in (("pandas frame", df), ("polars frame", pdf)):
            wb, ww, got = best_worst(RUNS, lambda: windcore.resample(data, angles=dirs))
            check(f"full, {kind}", got, ref, dirs)
            line(f"mean/min/max/std + circular, {kind}", wb, ww, pb, pw, goals[1])


if __name__ == "__main__":
    main()
