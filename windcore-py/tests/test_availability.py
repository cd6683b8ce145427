"""windcore.target_availability: a day's (and a period's) time-based availability per
turbine is the ratio of its windows' summed seconds, checked against the windows'
seconds read back from the target with polars."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import windcore

MAPPING = {"available": [1, 2, 5], "unavailable": [3], "excluded": [4], "channel": "state"}


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("availability") / "farm")
    windcore.generate(days=4, start="2024-01-01", source=store, turbines=3)
    summary = windcore.run(
        source=store, target=store, variables=["power"], counters=["energy"],
        states=["state"], availability=MAPPING,
    )
    assert summary.days_loaded == 4
    # The summary names every signal written, the states' seconds too (their
    # names come from the data); each day says which of those it wrote.
    written = set(pl.read_parquet(f"{store}/target/*.parquet")["signal"].unique())
    assert set(summary.signals) == written and len(summary.signals) == len(written)
    assert {"state_seconds_nodata", "state_seconds_1"} <= set(summary.signals)
    assert all("state_seconds_1" in r.data_signals for r in summary.reports)
    return store


def seconds_per_day(store: str) -> pl.DataFrame:
    return (
        pl.read_parquet(f"{store}/target/*.parquet")
        .filter(pl.col("signal").str.ends_with("_seconds") & ~pl.col("signal").str.starts_with("state_"))
        .pivot("signal", index=["asset", "timestamp"], values="value")
        .group_by(pl.col("timestamp").dt.date().alias("day"), "asset")
        .agg(pl.len().alias("windows"), pl.col("^.*_seconds$").sum())
        .sort("day", "asset")
    )


def test_per_day_is_the_ratio_of_the_days_sums(farm):
    got = pl.DataFrame(windcore.target_availability(farm, "2024-01-01", "2024-01-04"))
    want = seconds_per_day(farm)
    assert got.height == 12
    assert got["day"].to_list() == want["day"].to_list()
    assert got["asset"].to_list() == want["asset"].to_list()
    assert got["windows"].to_list() == [144] * 12
    for name in ("available_seconds", "unavailable_seconds", "excluded_seconds", "unknown_seconds"):
        assert got[name].to_list() == pytest.approx(want[name].to_list())
    ratio = want["available_seconds"] / (want["available_seconds"] + want["unavailable_seconds"])
    assert got["availability"].to_list() == pytest.approx(ratio.to_list())
    # The windows' seconds add up to whole days.
    total = got.select(pl.sum_horizontal(pl.col("^.*_seconds$")))
    assert total.to_series().to_list() == [86_400.0] * 12


def test_a_period_adds_up_its_days(farm):
    days = windcore.target_availability(farm, "2024-01-02", "2024-01-03")
    period = windcore.target_availability(farm, dt.date(2024, 1, 2), "2024-01-03", per_day=False)
    assert "day" not in period and period["asset"] == ["T01", "T02", "T03"]
    for i, asset in enumerate(period["asset"]):
        rows = [k for k, a in enumerate(days["asset"]) if a == asset]
        a = sum(days["available_seconds"][k] for k in rows)
        u = sum(days["unavailable_seconds"][k] for k in rows)
        assert period["windows"][i] == 288
        assert period["available_seconds"][i] == pytest.approx(a)
        assert period["availability"][i] == pytest.approx(a / (a + u))


def test_no_available_or_unavailable_time_is_none(tmp_path):
    store = str(tmp_path / "farm")
    windcore.generate(days=1, start="2024-01-01", source=store, turbines=2)
    windcore.run(
        source=store, target=store, variables=["power"], states=["state"],
        availability={"excluded": [1, 2, 3, 4, 5]},
    )
    got = windcore.target_availability(store, "2024-01-01", "2024-01-01")
    assert got["availability"] == [None, None]
    assert got["excluded_seconds"][0] + got["unknown_seconds"][0] == 86_400.0


def test_errors_name_the_argument(farm):
    with pytest.raises(windcore.ConfigError, match="from_"):
        windcore.target_availability(farm, "2024-13-01", "2024-01-02")
    with pytest.raises(windcore.ConfigError, match="time zone|timezone"):
        windcore.target_availability(farm, "2024-01-01", "2024-01-02", timezone="Mars/Olympus")
