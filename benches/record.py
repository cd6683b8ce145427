"""Counters, states and availability on a farm, against pandas and polars, in one run.

    benches/run record       (builds and installs the Python module from this tree)

100 turbines x 1 year of 1-minute samples (52,560,000 rows; scale with
WINDCORE_BENCH_TURBINES / WINDCORE_BENCH_DAYS), as one single-chunk polars frame
with a String turbine key, the way a user builds one:
- `energy`: a cumulative energy counter in kWh (the integral of power), with
  a reset to 0 on one turbine and NaN runs;
- `state`: integer operating states in runs (1 running, 2 low-wind standby,
  3 fault, 4 maintenance, 9 owner stop), with gaps of missing rows longer than
  the hold.

Every contender computes, per turbine and 10-minute window (SPEC.md, "Counters,
states and availability"):
- `energy_delta` (the sum of the increments v - v_prev, or v after a reset, of
  the window's valid samples; the first valid sample has none) and `energy_last`;
- `state_seconds_<code>` and `state_seconds_nodata` (a state holds until the next
  sample, at most the hold of 10 minutes, split at window edges);
- `available_seconds`, `unavailable_seconds`, `excluded_seconds`,
  `unknown_seconds` and `availability` for the mapping below.

windcore: `windcore.resample(df, counters=..., states=..., availability=...)`
(the whole frame is one stretch of time: a state carries over midnight, as a
pipeline run's predecessor rule makes it do). The alternatives: polars (lazy,
`shift().over()` + `group_by`) and pandas (`groupby().diff()` + `resample`).
The results are cross-checked before any time is printed. Best and worst of
WINDCORE_BENCH_RUNS (default 3) runs; pandas runs once, in batches of 10
turbines (WINDCORE_BENCH_PANDAS_BATCH): the whole farm as one pandas frame does
not fit in 24 GB.
"""

from __future__ import annotations

import gc
import os
import sys
import time

import numpy as np
import pandas as pd
import polars as pl

from timing import best_worst

RUNS = int(os.environ.get("WINDCORE_BENCH_RUNS", "3"))
TURBINES = int(os.environ.get("WINDCORE_BENCH_TURBINES", "100"))
DAYS = int(os.environ.get("WINDCORE_BENCH_DAYS", "365"))
EVERY_US = 600_000_000
HOLD_US = 600_000_000
MAPPING = {"available": [1, 2], "unavailable": [3], "excluded": [4]}  # 9: unmapped
CODES = (1, 2, 3, 4, 9)
PANDAS_BATCH = int(os.environ.get("WINDCORE_BENCH_PANDAS_BATCH", "10"))


def farm(turbines: int, days: int, seed: int = 7) -> pl.DataFrame:
    """1-minute rows of a farm; about 0.5 % of rows missing in gaps of 5-40 minutes."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    t0 = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    minute = np.arange(n, dtype=np.int64) * 60_000_000
    frames = []
    for k in range(turbines):
        power = np.clip(rng.normal(900, 500, n), 0, 3000)
        energy = np.cumsum(power / 60.0)
        if k == 3:  # the meter is replaced half-way through the year
            energy[n // 2 :] -= energy[n // 2]
        energy[rng.integers(0, n, n // 500)] = np.nan
        # state runs: lengths ~ geometric, codes weighted towards running
        runs = rng.geometric(1 / 45, n // 20 + 10)
        codes = rng.choice(CODES, len(runs), p=[0.72, 0.18, 0.05, 0.03, 0.02])
        state = np.repeat(codes, runs)[:n].astype(np.float64)
        state[rng.integers(0, n, n // 1000)] = np.nan
        keep = np.ones(n, dtype=bool)
        for s in rng.integers(0, n - 40, max(1, n // 8000)):
            keep[s : s + rng.integers(5, 40)] = False
        frames.append(
            pl.DataFrame(
                {
                    "turbine": np.full(keep.sum(), f"WT{k + 1:03d}"),
                    "timestamp": (t0 + minute[keep]),
                    "energy": energy[keep],
                    "state": state[keep],
                }
            )
        )
    df = pl.concat(frames).sort("timestamp", "turbine", maintain_order=True)
    return df.with_columns(
        pl.col("timestamp").cast(pl.Datetime("us", "UTC")),
        pl.col("state").fill_nan(None).cast(pl.Int64),
    ).rechunk()


def polars_record(df: pl.DataFrame) -> pl.DataFrame:
    """The same record with polars expressions, in long form (turbine, window, signal, value)."""
    lf = df.lazy()
    t = pl.col("timestamp").cast(pl.Int64)
    # counters: valid samples per turbine in time order
    c = (
        lf.filter(pl.col("energy").is_not_nan())
        .sort("turbine", "timestamp")
        .with_columns(prev=pl.col("energy").shift(1).over("turbine"))
        .with_columns(
            inc=pl.when(pl.col("prev").is_null())
            .then(None)
            .when(pl.col("energy") >= pl.col("prev"))
            .then(pl.col("energy") - pl.col("prev"))
            .otherwise(pl.col("energy")),
            w=t - t % EVERY_US,
        )
        .group_by("turbine", "w")
        .agg(
            delta=pl.when(pl.col("inc").count() > 0).then(pl.col("inc").sum()),
            last=pl.col("energy").last(),
        )
        .unpivot(index=["turbine", "w"], variable_name="signal")
        .drop_nulls("value")
        .with_columns(signal="energy_" + pl.col("signal"))
    )
    # states: each valid sample holds until the next one, at most the hold,
    # split into its window and (when it crosses the edge) the next one
    s = (
        lf.filter(pl.col("state").is_not_null())
        .sort("turbine", "timestamp")
        .with_columns(t=t, nxt=t.shift(-1).over("turbine"))
        .with_columns(
            end=pl.min_horizontal(pl.col("nxt").fill_null(pl.col("t") + HOLD_US), pl.col("t") + HOLD_US),
            w=pl.col("t") - pl.col("t") % EVERY_US,
        )
        .with_columns(edge=pl.col("w") + EVERY_US)
    )
    first = s.select(
        "turbine", "w", "state", us=pl.min_horizontal("end", "edge") - pl.col("t")
    )
    spill = s.filter(pl.col("end") > pl.col("edge")).select(
        "turbine", w=pl.col("edge"), state="state", us=pl.col("end") - pl.col("edge")
    )
    per_state = (
        pl.concat([first, spill])
        .group_by("turbine", "w", "state")
        .agg(pl.col("us").sum())
    )
    cat = (
        pl.when(pl.col("state").is_in(MAPPING["available"]))
        .then(pl.lit("available"))
        .when(pl.col("state").is_in(MAPPING["unavailable"]))
        .then(pl.lit("unavailable"))
        .when(pl.col("state").is_in(MAPPING["excluded"]))
        .then(pl.lit("excluded"))
        .otherwise(pl.lit("unknown"))
    )
    covered = per_state.group_by("turbine", "w").agg(cov=pl.col("us").sum())
    seconds = per_state.select(
        "turbine", "w", signal="state_seconds_" + pl.col("state").cast(pl.String), value=pl.col("us") / 1e6
    )
    nodata = covered.select(
        "turbine", "w", signal=pl.lit("state_seconds_nodata"), value=(EVERY_US - pl.col("cov")) / 1e6
    )
    cats = (
        per_state.with_columns(cat=cat)
        .group_by("turbine", "w")
        .agg(
            **{
                f"{k}_seconds": pl.col("us").filter(pl.col("cat") == k).sum() / 1e6
                for k in ("available", "unavailable", "excluded")
            },
            unknown_seconds=(EVERY_US - pl.col("us").filter(pl.col("cat") != "unknown").sum()) / 1e6,
        )
        .with_columns(
            availability=pl.when(pl.col("available_seconds") + pl.col("unavailable_seconds") > 0).then(
                pl.col("available_seconds") / (pl.col("available_seconds") + pl.col("unavailable_seconds"))
            )
        )
        .unpivot(index=["turbine", "w"], variable_name="signal")
        .drop_nulls("value")
    )
    return pl.concat([c, seconds, nodata, cats], how="vertical_relaxed").collect()


def pandas_record(df: pd.DataFrame) -> pd.DataFrame:
    """The same record with pandas (groupby diff + resample), in long form."""
    out = []
    e = df.loc[df["energy"].notna(), ["turbine", "timestamp", "energy"]].sort_values(["turbine", "timestamp"], kind="stable")
    prev = e.groupby("turbine", sort=False)["energy"].shift(1)
    d = e["energy"] - prev
    e["inc"] = d.where(d >= 0, e["energy"]).where(prev.notna())
    g = e.set_index("timestamp").groupby("turbine")
    r = g.resample("10min")
    delta = r["inc"].sum(min_count=1)
    last = r["energy"].last()
    for name, ser in (("energy_delta", delta), ("energy_last", last)):
        ser = ser.dropna()
        out.append(pd.DataFrame({"turbine": ser.index.get_level_values(0), "w": ser.index.get_level_values(1), "signal": name, "value": ser.to_numpy()}))
    s = df.loc[df["state"].notna(), ["turbine", "timestamp", "state"]].sort_values(["turbine", "timestamp"], kind="stable")
    t = s["timestamp"].astype("int64").to_numpy() // 1000 if s["timestamp"].dt.unit == "ns" else s["timestamp"].astype("int64").to_numpy()
    nxt = pd.Series(t, index=s.index).groupby(s["turbine"].to_numpy(), sort=False).shift(-1)
    nxt = nxt.to_numpy()
    end = np.minimum(np.where(np.isnan(nxt), t + HOLD_US, nxt).astype(np.int64), t + HOLD_US)
    w = t - t % EVERY_US
    edge = w + EVERY_US
    parts = pd.concat(
        [
            pd.DataFrame({"turbine": s["turbine"].to_numpy(), "w": w, "state": s["state"].to_numpy(), "us": np.minimum(end, edge) - t}),
            pd.DataFrame({"turbine": s["turbine"].to_numpy(), "w": edge, "state": s["state"].to_numpy(), "us": end - edge})[end > edge],
        ]
    )
    per_state = parts.groupby(["turbine", "w", "state"], sort=False)["us"].sum().reset_index()
    covered = per_state.groupby(["turbine", "w"], sort=False)["us"].sum()
    out.append(per_state.assign(signal="state_seconds_" + per_state["state"].astype(str), value=per_state["us"] / 1e6)[["turbine", "w", "signal", "value"]])
    out.append(pd.DataFrame({"turbine": covered.index.get_level_values(0), "w": covered.index.get_level_values(1), "signal": "state_seconds_nodata", "value": (EVERY_US - covered.to_numpy()) / 1e6}))
    cat = np.full(len(per_state), "unknown", dtype=object)
    for k in ("available", "unavailable", "excluded"):
        cat[per_state["state"].isin(MAPPING[k]).to_numpy()] = k
    by_cat = per_state.assign(cat=cat).pivot_table(index=["turbine", "w"], columns="cat", values="us", aggfunc="sum", fill_value=0)
    for k in ("available", "unavailable", "excluded", "unknown"):
        if k not in by_cat:
            by_cat[k] = 0
    secs = pd.DataFrame(
        {
            "available_seconds": by_cat["available"] / 1e6,
            "unavailable_seconds": by_cat["unavailable"] / 1e6,
            "excluded_seconds": by_cat["excluded"] / 1e6,
            "unknown_seconds": (EVERY_US - by_cat["available"] - by_cat["unavailable"] - by_cat["excluded"]) / 1e6,
        }
    )
    den = secs["available_seconds"] + secs["unavailable_seconds"]
    secs["availability"] = (secs["available_seconds"] / den).where(den > 0)
    long = secs.reset_index().melt(id_vars=["turbine", "w"], var_name="signal", value_name="value").dropna(subset=["value"])
    out.append(long)
    res = pd.concat(out, ignore_index=True)
    res["w"] = pd.to_datetime(res["w"], utc=True) if not np.issubdtype(res["w"].dtype, np.integer) else pd.to_datetime(res["w"], unit="us", utc=True)
    return res


def windcore_record(df: pl.DataFrame) -> pl.DataFrame:
    import windcore

    return windcore.resample(
        df,
        every="10min",
        by="turbine",
        long=True,
        counters=["energy"],
        states=["state"],
        availability={"channel": "state", **MAPPING},
    )


def canon(df: pl.DataFrame | pd.DataFrame) -> pl.DataFrame:
    """(turbine, window start in us, signal, value), sorted."""
    if isinstance(df, pd.DataFrame):
        df = pl.from_pandas(df)
    cols = df.columns
    ts = "w" if "w" in cols else "timestamp"
    key = "turbine"
    w = pl.col(ts)
    if df.schema[ts] != pl.Int64:
        w = w.dt.cast_time_unit("us").cast(pl.Int64)
    return df.select(pl.col(key).cast(pl.String).alias("turbine"), w.alias("w"), pl.col("signal").cast(pl.String), pl.col("value").cast(pl.Float64)).sort(
        "turbine", "w", "signal"
    )


def same(a: pl.DataFrame, b: pl.DataFrame, what: str):
    if a.height != b.height:
        sa, sb = set(a["signal"].unique()), set(b["signal"].unique())
        sys.exit(f"{what}: {a.height} vs {b.height} rows; signals only in one: {sorted(sa ^ sb)[:10]}")
    j = a.join(b, on=["turbine", "w", "signal"], how="full", coalesce=True)
    bad = j.filter(~((pl.col("value") - pl.col("value_right")).abs() <= 1e-9 * (1 + pl.col("value").abs())))
    if bad.height:
        sys.exit(f"{what}: {bad.height} values differ, e.g.\n{bad.head(5)}")


def main():
    df = farm(TURBINES, DAYS)
    print(f"{df.height} rows ({TURBINES} turbines x {DAYS} days of 1-minute samples), one chunk: {df.n_chunks() == 1}", flush=True)
    turbines = df["turbine"].unique().sort().to_list()
    # The results are compared on every 10th turbine (all of their windows):
    # three full copies of 47 M statistics do not fit beside the data.
    checked = pl.col("turbine").is_in(turbines[::10])
    wb, ww, w_out = best_worst(RUNS, lambda: windcore_record(df))
    ref = canon(w_out.filter(checked))
    del w_out
    gc.collect()
    lb, lw, l_out = best_worst(RUNS, lambda: polars_record(df))
    same(canon(l_out.filter(checked)), ref, "polars vs windcore")
    del l_out
    gc.collect()
    # pandas on all 52 M rows at once needs more than this machine's 24 GB:
    # it runs in batches of PANDAS_BATCH turbines, each a frame of its own (as
    # a user would split it), and its time is the sum of the batches'.
    p_time, p_parts = 0.0, []
    for k in range(0, len(turbines), PANDAS_BATCH):
        part = df.filter(pl.col("turbine").is_in(turbines[k : k + PANDAS_BATCH])).to_pandas()
        gc.collect()
        t = time.perf_counter()
        out = pandas_record(part)
        p_time += time.perf_counter() - t
        p_parts.append(canon(pl.from_pandas(out).filter(checked)))
        del part, out
    same(pl.concat(p_parts).sort("turbine", "w", "signal"), ref, "pandas vs windcore")
    print(f"results agree on {len(turbines[::10])} turbines: {ref.height} statistics (windcore, polars, pandas)", flush=True)
    print(f"  windcore.resample: best {wb:.3f} s, worst {ww:.3f} s", flush=True)
    batches = (len(turbines) + PANDAS_BATCH - 1) // PANDAS_BATCH
    for name, b, w in (("polars", lb, lw), (f"pandas ({batches} batches of {PANDAS_BATCH} turbines, 1 run)", p_time, p_time)):
        print(
            f"  {name}: best {b:.3f} s, worst {w:.3f} s; best / windcore worst = {b / ww:.1f}x, "
            f"worst / windcore best = {w / wb:.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
