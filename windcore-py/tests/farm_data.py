"""The farm data and oracles of the farm tests (test_farm.py, test_farm_keys.py):
a table built like a real SCADA export and the independent oracles its statistics are
compared with. See test_farm.py for what the data holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from scipy import stats as scipy_stats

import windcore

RTOL = 1e-9
ATOL_ZERO = 1e-12  # where the expected value is 0
ANGLE_TOL = 1e-9  # degrees, on the circular difference
LINEAR = ["wind_speed", "power"]
ANGLE = "wind_direction"
VARIABLES = ["wind_speed", "power", ANGLE]  # the input column order
ALL_STATS = ["mean", "min", "max", "std", "count"]
WINDOW = pd.Timedelta("10min")
# Summer time ends in Berlin on 2024-10-27 at 03:00 CEST (-> 02:00 CET): the
# local hour 02:00..03:00 happens twice; the instants are all distinct.
START = pd.Timestamp("2024-10-26 12:00", tz="Europe/Berlin")
KEY = ["asset", "timestamp", "signal"]


# --------------------------------------------------------------------------- data


def _wrap360(x: np.ndarray) -> np.ndarray:
    return np.mod(x, 360.0)


def wrap180(d):
    """Differences taken into [-180, 180)."""
    return np.mod(np.asarray(d, dtype=float) + 180.0, 360.0) - 180.0


def farm(seed: int = 0, n_assets: int = 6, days: int = 2) -> pd.DataFrame:
    """A farm export: asset, timestamp (Europe/Berlin), wind_speed, power,
    wind_direction; unsorted, with gaps, NaN runs and duplicates.

    Special windows (no random duplicates in them):
    * WTG02, window starting START + 5h: exactly six rows, identical values.
    * WTG03, window starting START + 7h: directions 10 and 190 only (they
      cancel: no angle mean / std / min / max), other rows NaN.
    * WTG04, window starting START + 9h: directions 355, 358, 2, 5 (across north).
    """
    rng = np.random.default_rng(seed)
    n = days * 1440
    ts_all = pd.date_range(START.tz_convert("UTC"), periods=n, freq="1min").tz_convert(
        "Europe/Berlin"
    )
    secs_all = (ts_all.asi8 // 1_000_000_000).astype(np.int64)
    frames = []
    for i in range(n_assets):
        asset = f"WTG{i + 1:02d}"
        keep = np.ones(n, dtype=bool)
        for _ in range(3):  # outages of 15 min .. 4 h
            g0 = int(rng.integers(0, n - 240))
            keep[g0 : g0 + int(rng.integers(15, 240))] = False
        keep &= rng.random(n) > 0.08  # single lost minutes
        idx = np.flatnonzero(keep)
        m = len(idx)
        ws = rng.weibull(2.0, m) * 8.0
        power = np.clip(2.2 * ws**3 + rng.normal(0.0, 25.0, m), 0.0, 3000.0)
        # Direction regime per window: near north (350..370 wrapped), spread
        # all around, or a southern cluster.
        win = secs_all[idx] // 600
        regimes = rng.choice(3, size=int(win.max() - win.min()) + 1, p=[0.6, 0.2, 0.2])
        reg = regimes[win - win.min()]
        wd = np.where(
            reg == 0,
            _wrap360(350.0 + rng.uniform(0.0, 20.0, m)),
            np.where(reg == 1, rng.uniform(0.0, 360.0, m), _wrap360(rng.normal(180.0, 8.0, m))),
        )
        for col in (ws, power, wd):
            for _ in range(4):  # NaN runs of 3 .. 40 minutes
                r0 = int(rng.integers(0, m - 40))
                col[r0 : r0 + int(rng.integers(3, 40))] = np.nan
            col[rng.random(m) < 0.03] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "asset": asset,
                    "timestamp": ts_all[idx],
                    "wind_speed": ws,
                    "power": power,
                    ANGLE: wd,
                    "special": False,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)

    def replace_window(asset: str, start: pd.Timestamp, rows: pd.DataFrame) -> pd.DataFrame:
        inside = (
            (df["asset"] == asset) & (df["timestamp"] >= start) & (df["timestamp"] < start + WINDOW)
        )
        rows = rows.assign(asset=asset, special=True)
        return pd.concat([df[~inside], rows[df.columns]], ignore_index=True)

    t = START + pd.Timedelta("5h")
    df = replace_window(
        "WTG02",
        t,
        pd.DataFrame(
            {
                "timestamp": [t + pd.Timedelta(minutes=k) for k in range(6)],
                "wind_speed": 7.3,
                "power": 1234.56,
                ANGLE: 359.9,
            }
        ),
    )
    t = START + pd.Timedelta("7h")
    wd = np.full(10, np.nan)
    wd[2], wd[7] = 10.0, 190.0
    df = replace_window(
        "WTG03",
        t,
        pd.DataFrame(
            {
                "timestamp": [t + pd.Timedelta(minutes=k) for k in range(10)],
                "wind_speed": rng.uniform(3.0, 9.0, 10),
                "power": rng.uniform(100.0, 900.0, 10),
                ANGLE: wd,
            }
        ),
    )
    t = START + pd.Timedelta("9h")
    df = replace_window(
        "WTG04",
        t,
        pd.DataFrame(
            {
                "timestamp": [t + pd.Timedelta(minutes=k) for k in range(4)],
                "wind_speed": [5.0, 6.0, 7.0, 8.0],
                "power": [300.0, 400.0, 500.0, 600.0],
                ANGLE: [355.0, 358.0, 2.0, 5.0],
            }
        ),
    )

    # Shuffle, then add duplicates of ~2 % of the rows at random later
    # positions (a third of them twice). Their wind speeds are 100 and more,
    # so a window that kept the wrong row cannot match the oracle.
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    pos = np.arange(len(df), dtype=float)
    cand = np.flatnonzero(~df["special"].to_numpy())
    pick = rng.choice(cand, size=len(df) // 50, replace=False)

    def duplicates(src: pd.DataFrame, after: np.ndarray):
        d = src.copy()
        k = len(d)
        d["wind_speed"] = 100.0 + rng.uniform(0.0, 20.0, k)
        d["power"] = rng.uniform(0.0, 3000.0, k)
        d[ANGLE] = rng.uniform(0.0, 360.0, k)
        d.loc[rng.random(k) < 0.1, "power"] = np.nan  # a NaN that wins is a NaN
        return d, rng.uniform(after + 0.25, len(df))

    dup1, pos1 = duplicates(df.iloc[pick], pos[pick])
    third = rng.random(len(dup1)) < 1 / 3
    dup2, pos2 = duplicates(dup1[third], pos1[third])
    out = pd.concat([df, dup1, dup2], ignore_index=True)
    order = np.argsort(np.concatenate([pos, pos1, pos2]), kind="stable")
    return out.iloc[order].drop(columns="special").reset_index(drop=True)



def to_polars(df: pd.DataFrame) -> pl.DataFrame:
    """The same rows as polars: NaN (not null) in wind_speed and the
    direction, real nulls in power."""
    out = pl.from_pandas(df, nan_to_null=False)
    return out.with_columns(
        pl.when(pl.col("power").is_nan()).then(None).otherwise(pl.col("power")).alias("power")
    )


class _StreamOnly:
    """An object that only implements the Arrow PyCapsule interface."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


# ------------------------------------------------------------------------- oracles


def dedupe(df: pd.DataFrame, by=("asset",)) -> pd.DataFrame:
    """Of several rows of one key with the same timestamp, the last (input order)."""
    d = df.drop_duplicates([*by, "timestamp"], keep="last").copy()
    d["timestamp"] = d["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    return d


def linear_oracle(df: pd.DataFrame, min_count: int = 1) -> pd.DataFrame:
    """pandas per asset and 10-minute window; long form, undefined stats dropped."""
    d = dedupe(df)
    res = d.set_index("timestamp").groupby("asset")[LINEAR].resample("10min")
    per_stat = {st: getattr(res, st)() for st in ALL_STATS}
    parts = []
    for var in LINEAR:
        count = per_stat["count"][var]
        for st in ALL_STATS:
            s = per_stat[st][var].astype(float)
            if st == "count":
                s = s[count > 0]
            else:
                s = s[count >= min_count]
            s = s.dropna()
            part = s.rename("value").reset_index()
            part["signal"] = f"{var}_{st}"
            parts.append(part)
    return pd.concat(parts, ignore_index=True)[KEY + ["value"]]


def circular_expected(x: np.ndarray, min_count: int = 1) -> dict:
    """The circular statistics of the valid samples ``x`` of one window
    (degrees): scipy for mean and std, the definition for min and max."""
    n = len(x)
    out = {"count": float(n)}
    if n == 0 or n < min_count:
        return out if n else {}
    if np.all(x == x[0]):
        m = float(x[0] % 360.0)
        out.update(mean=m, min=m, max=m)
        if n >= 2:
            out["std"] = 0.0
        return out
    if abs(np.exp(1j * np.deg2rad(x)).mean()) < 1e-9:
        return out  # the directions cancel: no mean
    m = float(scipy_stats.circmean(x, high=360, low=0))
    d = wrap180(x - m)
    out.update(mean=m, min=float((m + d.min()) % 360.0), max=float((m + d.max()) % 360.0))
    if n >= 2:
        out["std"] = float(scipy_stats.circstd(x, high=360, low=0))
    return out


def angle_oracle(
    df: pd.DataFrame, var: str = ANGLE, min_count: int = 1, windows: pd.MultiIndex | None = None
) -> pd.DataFrame:
    """scipy per (asset, window); only the (asset, window start) pairs of
    `windows` if given."""
    d = dedupe(df)
    d["window"] = d["timestamp"].dt.floor("10min")
    if windows is not None:
        d = d[pd.MultiIndex.from_frame(d[["asset", "window"]]).isin(windows)]
    rows = []
    for (asset, window), g in d.groupby(["asset", "window"], sort=True):
        x = g[var].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        for st, v in circular_expected(x, min_count).items():
            rows.append((asset, window, f"{var}_{st}", v))
    return pd.DataFrame(rows, columns=KEY + ["value"])


def oracle(df: pd.DataFrame, min_count: int = 1) -> pd.DataFrame:
    return pd.concat(
        [linear_oracle(df, min_count), angle_oracle(df, min_count=min_count)], ignore_index=True
    )


# ------------------------------------------------------------------------- helpers


def as_pandas(out) -> pd.DataFrame:
    if isinstance(out, pl.DataFrame):
        out = out.to_pandas()
    elif isinstance(out, pa.Table):
        out = out.to_pandas()
    out = out.copy()
    out["timestamp"] = out["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    return out


def compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Identical (asset, timestamp, signal) sets; values within RTOL (linear,
    std), ATOL_ZERO where 0 is expected, ANGLE_TOL circularly (angle mean,
    min, max)."""
    got = as_pandas(got)
    expected = expected.copy()
    expected["timestamp"] = expected["timestamp"].dt.tz_convert("UTC").dt.as_unit("ns")
    g = got.set_index(KEY)["value"]
    e = expected.set_index(KEY)["value"]
    assert not g.index.duplicated().any(), g[g.index.duplicated(keep=False)].head(10)
    assert not e.index.duplicated().any()
    missing = e.index.difference(g.index)
    extra = g.index.difference(e.index)
    assert len(missing) == 0 and len(extra) == 0, (
        f"{len(missing)} expected statistics missing, e.g.\n{e.loc[missing[:8]]}\n"
        f"{len(extra)} unexpected statistics, e.g.\n{g.loc[extra[:8]]}"
    )
    g = g.loc[e.index].to_numpy(dtype=float)
    sig = e.index.get_level_values("signal")
    e = e.to_numpy(dtype=float)
    assert np.isfinite(g).all()
    circ = sig.isin([f"{ANGLE}_{st}" for st in ("mean", "min", "max")])
    diff = np.abs(wrap180(g[circ] - e[circ]))
    bad = diff >= ANGLE_TOL
    if bad.any():
        table = pd.DataFrame(
            {"signal": sig[circ][bad], "got": g[circ][bad], "expected": e[circ][bad]}
        )
        raise AssertionError(
            f"{bad.sum()} angle statistics differ, worst {diff.max()}:\n{table.head(10)}"
        )
    assert ((g[circ] >= 0.0) & (g[circ] < 360.0)).all()
    lin = ~circ
    ok = np.where(
        e[lin] == 0.0,
        np.abs(g[lin]) <= ATOL_ZERO,
        np.abs(g[lin] - e[lin]) <= RTOL * np.abs(e[lin]),
    )
    if not ok.all():
        table = pd.DataFrame({"signal": sig[lin][~ok], "got": g[lin][~ok], "expected": e[lin][~ok]})
        raise AssertionError(f"{(~ok).sum()} statistics differ:\n{table.head(10)}")


def stable_order(df: pd.DataFrame, first: str, second: str, descending_first: bool = False):
    """Rows sorted by `first`, then `second` (timestamps as instants), keeping
    the input order of ties (so duplicates keep theirs)."""

    def codes(col):
        s = df[col]
        if col == "timestamp":
            return s.dt.tz_convert("UTC").astype("int64").to_numpy()
        c = pd.Categorical(s, ordered=True).codes.astype(np.int64)
        return -c if col == first and descending_first else c

    order = np.lexsort((np.arange(len(df)), codes(second), codes(first)))
    return df.iloc[order].reset_index(drop=True)


def run_farm(data, **kw):
    kw.setdefault("stats", ALL_STATS)
    return windcore.resample(data, by="asset", angles=ANGLE, long=True, **kw)
