"""Local reporting days (``timezone=``), end labels (``label="end"``) and
incremental runs (``changed_only=True``) against pandas as the oracle.

The days:

* Europe/Berlin 2025-03-30: summer time begins (02:00 CET -> 03:00 CEST), the
  day has 23 hours, 138 ten-minute windows.
* Europe/Berlin 2025-10-26: summer time ends (03:00 CEST -> 02:00 CET), the
  local hour 02:00..03:00 happens twice, the day has 25 hours, 150 windows.
* America/Sao_Paulo 2018-11-04: summer time began *at midnight* (00:00 -03 ->
  01:00 -02): local midnight does not exist, the day starts at 01:00 local and
  has 23 hours, 138 windows.

The samples are 1-minute UTC instants of three turbines, random values with
NaN, covering the local day plus margins on both sides (so a run that read
the whole UTC files, or a day cut at UTC midnight, would show). The oracle is
pandas on a tz-aware index: rows in ``[local midnight, next local midnight)``,
``groupby("asset")``, ``resample("10min")``; ``std`` with ddof = 1.

``windcore.run`` runs on an embedded store filled here: ``source/YYYY-MM-DD.parquet``
per UTC day (``asset``, ``timestamp`` µs UTC, channels); its ``target`` files hold
``asset, timestamp, signal, value``.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

import windcore

ALL_STATS = ["mean", "min", "max", "std", "count"]
CHANNELS = ["wind_speed", "power"]
ASSETS = ["T01", "T02", "T03"]
WINDOW = pd.Timedelta("10min")
RTOL = 1e-9
ATOL = 1e-9
MARGIN = pd.Timedelta("5h")

# (zone, local day, first window start in UTC, next local midnight in UTC, windows)
# -- written out by hand, independently of pandas and of windcore.
CASES = [
    pytest.param((
        "Europe/Berlin", "2025-03-30",
        "2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z", 138), id="berlin-spring-23h",
    ),
    pytest.param((
        "Europe/Berlin", "2025-10-26",
        "2025-10-25T22:00:00Z", "2025-10-26T23:00:00Z", 150), id="berlin-fall-25h",
    ),
    pytest.param((
        "America/Sao_Paulo", "2018-11-04",
        "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z", 138), id="saopaulo-midnight-gap",
    ),
]


# --------------------------------------------------------------------------- data


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def local_day_bounds(zone: str, day: str) -> "tuple[pd.Timestamp, pd.Timestamp]":
    """pandas' own idea of the local day: [local midnight, next local midnight) as
    tz-aware instants in ``zone``; a missing midnight moves to the first local time
    after it."""
    start = pd.Timestamp(day).tz_localize(zone, nonexistent="shift_forward", ambiguous=True)
    nxt = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(
        zone, nonexistent="shift_forward", ambiguous=True
    )
    return start, nxt


def samples(first: pd.Timestamp, last: pd.Timestamp, seed: int) -> pd.DataFrame:
    """1-minute samples of every asset in [first, last): asset, timestamp (UTC),
    wind_speed, power; ~7 % NaN, some minutes missing, and two special windows."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(first, last, freq="1min", inclusive="left", tz="UTC")
    frames = []
    for i, asset in enumerate(ASSETS):
        keep = rng.random(len(ts)) > 0.03  # lost minutes
        t = ts[keep]
        n = len(t)
        ws = rng.weibull(2.0, n) * 8.0
        power = np.clip(2.2 * ws**3 + rng.normal(0.0, 40.0, n), 0.0, 2000.0)
        ws[rng.random(n) < 0.07] = np.nan
        power[rng.random(n) < 0.07] = np.nan
        frames.append(pd.DataFrame({"asset": asset, "timestamp": t, "wind_speed": ws, "power": power}))
    df = pd.concat(frames, ignore_index=True)
    return df


def add_special_windows(df: pd.DataFrame, window_starts: "list[pd.Timestamp]") -> pd.DataFrame:
    """T01: every power sample of the first window NaN (no power statistic but the
    count, which is 0); T02: one valid wind speed in the second window (no std)."""
    df = df.copy()
    w0, w1 = window_starts
    in_w0 = (df["asset"] == "T01") & (df["timestamp"] >= w0) & (df["timestamp"] < w0 + WINDOW)
    df.loc[in_w0, "power"] = np.nan
    in_w1 = (df["asset"] == "T02") & (df["timestamp"] >= w1) & (df["timestamp"] < w1 + WINDOW)
    idx = df.index[in_w1]
    assert len(idx) >= 2
    df.loc[idx, "wind_speed"] = np.nan
    df.loc[idx[0], "wind_speed"] = 4.25
    return df


def write_source(store: Path, df: pd.DataFrame) -> None:
    """The embedded store's source: one parquet file per UTC day."""
    (store / "source").mkdir(parents=True, exist_ok=True)
    frame = pl.from_pandas(df).with_columns(
        pl.col("timestamp").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    )
    days = frame.get_column("timestamp").dt.date().unique().sort()
    for day in days:
        part = frame.filter(pl.col("timestamp").dt.date() == day).sort("asset", "timestamp")
        part.write_parquet(store / "source" / f"{day.isoformat()}.parquet")


# --------------------------------------------------------------------------- oracle


def pandas_stats(df: pd.DataFrame, zone: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The oracle, long form (asset, timestamp UTC, signal, value): per asset, 10-minute
    windows of a tz-aware index in ``zone``, over exactly the rows in [start, end);
    only windows holding a row, only defined statistics (count: when > 0)."""
    local = df.assign(timestamp=df["timestamp"].dt.tz_convert(zone))
    local = local[(local["timestamp"] >= start) & (local["timestamp"] < end)]
    # Windows start at the local day's first instant. (pandas' default origin,
    # "start_day", is local midnight, which does not exist in Sao Paulo on
    # 2018-11-04: pandas raises NonExistentTimeError. For whole-hour zones the two
    # grids are the same.)
    origin = start
    rows = []
    for asset, group in local.groupby("asset", sort=True):
        indexed = group.set_index("timestamp").sort_index()
        rows_per_window = indexed["power"].resample("10min", origin=origin).size()
        for channel in CHANNELS:
            r = indexed[channel].resample("10min", origin=origin)
            stats = {
                "mean": r.mean(),
                "min": r.min(),
                "max": r.max(),
                "std": r.std(ddof=1),
                "count": r.count().astype(float),
            }
            for stat, series in stats.items():
                for t, value in series.items():
                    if rows_per_window.get(t, 0) == 0:
                        continue  # no input row: the window does not exist
                    if stat == "count" and value == 0:
                        continue
                    if pd.isna(value):
                        continue
                    rows.append((asset, t.tz_convert("UTC"), f"{channel}_{stat}", float(value)))
    out = pd.DataFrame(rows, columns=["asset", "timestamp", "signal", "value"])
    return out.sort_values(["asset", "timestamp", "signal"]).reset_index(drop=True)


def long_of_frame(frame: pl.DataFrame) -> pd.DataFrame:
    """A windcore long frame (asset, timestamp, signal, value) as the oracle's shape."""
    out = frame.select("asset", "timestamp", "signal", "value").to_pandas()
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).dt.as_unit("ns")
    return out.sort_values(["asset", "timestamp", "signal"]).reset_index(drop=True)


def assert_same_stats(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(expected) > 0
    keys = ["asset", "timestamp", "signal"]
    g = got.set_index(keys)
    e = expected.assign(timestamp=expected["timestamp"].dt.as_unit("ns")).set_index(keys)
    missing = e.index.difference(g.index)
    extra = g.index.difference(e.index)
    assert len(missing) == 0, f"windcore lacks {len(missing)} statistics, e.g. {list(missing[:3])}"
    assert len(extra) == 0, f"windcore has {len(extra)} extra statistics, e.g. {list(extra[:3])}"
    g = g.loc[e.index]
    np.testing.assert_allclose(g["value"].to_numpy(), e["value"].to_numpy(), rtol=RTOL, atol=ATOL)


def wide_to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """windcore's wide output (asset, timestamp, <channel>_<stat>...) in long form,
    dropping undefined statistics and zero counts as the long form does."""
    signals = [c for c in wide.columns if c not in ("asset", "timestamp")]
    long = wide.melt(id_vars=["asset", "timestamp"], value_vars=signals, var_name="signal")
    long["value"] = long["value"].astype(float)
    long = long[long["value"].notna()]
    long = long[~(long["signal"].str.endswith("_count") & (long["value"] == 0))]
    long["timestamp"] = pd.to_datetime(long["timestamp"], utc=True).dt.as_unit("ns")
    return long.sort_values(["asset", "timestamp", "signal"]).reset_index(drop=True)


# --------------------------------------------------------------------------- fixtures


class Day:
    """One local day of one zone: the samples, pandas' bounds and statistics."""

    def __init__(self, zone, day, first_utc, end_utc, windows, seed):
        self.zone, self.day, self.windows = zone, day, windows
        self.first_utc, self.end_utc = utc(first_utc), utc(end_utc)
        self.start, self.end = local_day_bounds(zone, day)
        self.df = samples(self.first_utc - MARGIN, self.end_utc + MARGIN, seed)
        self.df = add_special_windows(
            self.df, [self.first_utc + 6 * WINDOW, self.first_utc + 40 * WINDOW]
        )
        self.expected = pandas_stats(self.df, zone, self.start, self.end)

    def run(self, store: Path, **options) -> "windcore.RunSummary":
        if not (store / "source").exists():
            write_source(store, self.df)
        return windcore.run(
            date=self.day,
            source=str(store),
            target=str(store),
            timezone=self.zone,
            stats=ALL_STATS,
            variables=CHANNELS,
            **options,
        )


@pytest.fixture(params=CASES)
def case(request):
    zone, day, first_utc, end_utc, windows = request.param
    return Day(zone, day, first_utc, end_utc, windows, seed=zlib.crc32(f"{zone} {day}".encode()))


def target_frame(store: Path) -> pl.DataFrame:
    return pl.read_parquet(sorted((store / "target").glob("*.parquet")))


# --------------------------------------------------------------------------- tests


def test_pandas_agrees_on_the_day_bounds(case):
    """The hand-written bounds are pandas' local midnights (the oracle is sound)."""
    assert case.start.tz_convert("UTC") == case.first_utc
    assert case.end.tz_convert("UTC") == case.end_utc
    assert (case.end_utc - case.first_utc) / WINDOW == case.windows
    counts = case.expected.groupby("asset")["timestamp"].nunique()
    assert counts.to_dict() == {a: case.windows for a in ASSETS}


def test_run_local_day_windows_span_and_statistics(case, tmp_path):
    store = tmp_path / "store"
    summary = case.run(store)
    assert summary.ok, summary.error
    assert summary.days == 1 and summary.days_loaded == 1
    (report,) = summary.reports
    assert report.day == dt.date.fromisoformat(case.day)
    assert report.outcome == "loaded"
    assert report.windows == summary.windows == len(ASSETS) * case.windows
    # Rows read: exactly those of the local day (not the margins in the same files).
    in_day = (case.df["timestamp"] >= case.first_utc) & (case.df["timestamp"] < case.end_utc)
    assert summary.rows_in == int(in_day.sum())
    assert summary.outside == 0

    target = target_frame(store)
    assert set(target.columns) >= {"asset", "timestamp", "signal", "value"}
    per_asset = (
        target.group_by("asset")
        .agg(
            pl.col("timestamp").n_unique().alias("windows"),
            pl.col("timestamp").min().alias("first"),
            pl.col("timestamp").max().alias("last"),
        )
        .sort("asset")
    )
    assert per_asset["asset"].to_list() == ASSETS
    assert per_asset["windows"].to_list() == [case.windows] * len(ASSETS)
    for first, last in zip(per_asset["first"], per_asset["last"]):
        assert pd.Timestamp(first).tz_convert("UTC") == case.first_utc
        assert pd.Timestamp(last).tz_convert("UTC") == case.end_utc - WINDOW
    # Every window start lies on the local 10-minute grid.
    stamps = pd.to_datetime(target["timestamp"].to_pandas(), utc=True).dt.tz_convert(case.zone)
    assert ((stamps.dt.minute % 10 == 0) & (stamps.dt.second == 0)).all()

    assert_same_stats(long_of_frame(target), case.expected)


def test_run_special_windows_are_absent_not_zero(case, tmp_path):
    store = tmp_path / "store"
    assert case.run(store).ok
    target = long_of_frame(target_frame(store))
    w0, w1 = case.first_utc + 6 * WINDOW, case.first_utc + 40 * WINDOW
    t01 = target[(target["asset"] == "T01") & (target["timestamp"] == w0)]
    assert not t01["signal"].str.startswith("power_").any()  # all NaN: nothing, count 0 absent
    assert t01["signal"].str.startswith("wind_speed_").any()
    t02 = target[(target["asset"] == "T02") & (target["timestamp"] == w1)].set_index("signal")["value"]
    assert "wind_speed_std" not in t02.index  # one sample: no std
    assert t02["wind_speed_count"] == 1
    assert t02["wind_speed_mean"] == t02["wind_speed_min"] == t02["wind_speed_max"] == 4.25


def test_run_label_end_shifts_every_timestamp_and_nothing_else(case, tmp_path):
    start_store, end_store = tmp_path / "start", tmp_path / "end"
    by_start = case.run(start_store, label="start")
    by_end = case.run(end_store, label="end")
    assert by_start.ok and by_end.ok
    assert by_end.windows == by_start.windows == len(ASSETS) * case.windows
    assert by_end.rows_out == by_start.rows_out
    assert by_end.rows_in == by_start.rows_in
    start_rows = long_of_frame(target_frame(start_store))
    end_rows = long_of_frame(target_frame(end_store))
    shifted = start_rows.assign(timestamp=start_rows["timestamp"] + WINDOW)
    pd.testing.assert_frame_equal(end_rows, shifted)
    # The end labels run from local 00:10 to the next local midnight, inclusive.
    assert end_rows["timestamp"].min() == case.first_utc + WINDOW
    assert end_rows["timestamp"].max() == case.end_utc


@pytest.mark.parametrize("kind", ["polars", "pandas", "pandas-local-input"])
def test_resample_in_a_time_zone_equals_pandas(case, kind):
    # The local day's samples only, in input order shuffled.
    in_day = (case.df["timestamp"] >= case.first_utc) & (case.df["timestamp"] < case.end_utc)
    day_df = case.df[in_day].sample(frac=1.0, random_state=7).reset_index(drop=True)
    if kind == "pandas-local-input":  # the same instants, written in the local zone
        day_df = day_df.assign(timestamp=day_df["timestamp"].dt.tz_convert(case.zone))
    data = pl.from_pandas(day_df) if kind == "polars" else day_df
    wide = windcore.resample(data, by="asset", stats=ALL_STATS, variables=CHANNELS, timezone=case.zone)
    if kind == "polars":
        assert wide.schema["timestamp"].time_zone == case.zone
        wide = wide.to_pandas()
    else:
        assert isinstance(wide, pd.DataFrame)
        assert str(wide["timestamp"].dt.tz) == case.zone
    per_asset = wide.groupby("asset")["timestamp"].agg(["size", "min", "max"])
    assert per_asset["size"].to_dict() == {a: case.windows for a in ASSETS}
    assert (per_asset["min"].dt.tz_convert("UTC") == case.first_utc).all()
    assert (per_asset["max"].dt.tz_convert("UTC") == case.end_utc - WINDOW).all()
    assert_same_stats(wide_to_long(wide), case.expected)

    # label="end": the same windows, each stamped 10 minutes later.
    ended = windcore.resample(
        data, by="asset", stats=ALL_STATS, variables=CHANNELS, timezone=case.zone, label="end"
    )
    ended = ended.to_pandas() if kind == "polars" else ended
    expected_end = case.expected.assign(timestamp=case.expected["timestamp"] + WINDOW)
    assert_same_stats(wide_to_long(ended), expected_end)


def test_resample_local_clock_of_a_half_hour_zone():
    """A zone off the UTC hour grid by 30 minutes (Asia/Kolkata, +05:30): a 1-hour
    window starts on the local hour (hh:30 UTC), as pandas' local resample does."""
    ts = pd.date_range("2024-05-01 00:00", periods=600, freq="1min", tz="UTC")
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"timestamp": ts, "power": rng.normal(size=len(ts))})
    hourly = windcore.resample(pl.from_pandas(df), every="1h", stats="mean,count", timezone="Asia/Kolkata")
    local = df.set_index(df["timestamp"].dt.tz_convert("Asia/Kolkata"))["power"]
    expected = local.resample("1h").agg(["mean", "count"])
    got = hourly.to_pandas().set_index("timestamp")
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got["power_mean"], expected["mean"], rtol=RTOL)
    assert list(got["power_count"]) == list(expected["count"])


# --------------------------------------------------------------------------- late data


def test_changed_only_rewrites_the_pair_with_late_samples(case, tmp_path):
    """A local day spans two UTC files; late samples of one turbine in the *second*
    file change that (day, turbine) pair only."""
    store = tmp_path / "store"
    first = case.run(store)
    assert first.ok
    assert any((store / "target" / ".windcore-load").iterdir())

    again = case.run(store, changed_only=True)
    assert again.ok
    assert (again.pairs_unchanged, again.pairs_changed, again.pairs_new, again.pairs_removed) == (
        len(ASSETS), 0, 0, 0,
    )
    assert again.days_unchanged == 1
    assert again.reports[0].outcome == "unchanged"
    assert again.rows_out == 0

    # T02 receives late samples: changed values an hour before the next local midnight,
    # in the second of the two UTC files the local day spans.
    late_t = case.end_utc - pd.Timedelta("1h")
    df = case.df.copy()
    hit = (df["asset"] == "T02") & (df["timestamp"] >= late_t) & (df["timestamp"] < late_t + WINDOW)
    assert hit.sum() >= 2
    df.loc[hit, "power"] = 1234.5
    case.df = df
    case.expected = pandas_stats(df, case.zone, case.start, case.end)
    write_source(store, df)

    late = case.run(store, changed_only=True)
    assert late.ok
    d = late.to_dict()
    assert (d["pairs_unchanged"], d["pairs_changed"], d["pairs_new"], d["pairs_removed"]) == (
        len(ASSETS) - 1, 1, 0, 0,
    )
    (report,) = late.reports
    assert report.assets_changed == 1 and report.assets_unchanged == len(ASSETS) - 1
    assert late.days_unchanged == 0
    target = long_of_frame(target_frame(store))
    assert_same_stats(target, case.expected)
    row = target[(target["asset"] == "T02") & (target["timestamp"] == late_t) & (target["signal"] == "power_mean")]
    assert row["value"].tolist() == [1234.5]

    # The load record holds this zone and day: one small file per (zone, day).
    entry = store / "target" / ".windcore-load" / f"{case.zone.replace('/', '~')}.{case.day}.json"
    record = json.loads(entry.read_text())
    assert set(record) == set(ASSETS)
