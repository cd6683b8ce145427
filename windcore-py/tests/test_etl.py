"""windcore.generate / init / run on an embedded store in a temporary directory."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import polars as pl
import pytest

import windcore

DAY = 1440  # 1-minute samples per day
WINDOWS = 144  # 10-minute windows per day
SIGNALS = 8  # wind_speed and power x mean, min, max, std


def target_frame(store: pathlib.Path) -> pl.DataFrame:
    files = sorted((store / "target").glob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame()


def target_days(store: pathlib.Path) -> list[str]:
    return sorted(f.stem for f in (store / "target").glob("*.parquet"))


@pytest.fixture
def store(tmp_path: pathlib.Path) -> pathlib.Path:
    store = tmp_path / "store"
    assert windcore.generate(days=3, start="2024-01-01", source=str(store)) == 3 * DAY
    return store


def test_init_creates_source_and_target(tmp_path):
    windcore.init(source=str(tmp_path / "a"), target=tmp_path / "b")  # str or path
    assert (tmp_path / "a" / "source").is_dir()
    assert (tmp_path / "b" / "target").is_dir()
    assert not (tmp_path / "a" / "target").exists()
    windcore.init(source=str(tmp_path / "a"))  # idempotent


def test_generate_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    windcore.generate(days=2, start=dt.date(2024, 5, 1), seed=7, missing_rate=0.02, source=str(a))
    windcore.generate(days=2, start="2024-05-01", seed=7, missing_rate=0.02, source=str(b))
    fa = pl.read_parquet(a / "source" / "2024-05-02.parquet")
    fb = pl.read_parquet(b / "source" / "2024-05-02.parquet")
    assert fa.equals(fb)
    assert fa.columns == ["timestamp", "wind_speed", "power", "ambient_temperature"]
    assert fa.height == DAY and fa["wind_speed"].null_count() > 0


def test_generate_validates(tmp_path):
    with pytest.raises(windcore.ConfigError):
        windcore.generate(days=1, missing_rate=1.5, source=str(tmp_path))
    with pytest.raises(windcore.ConfigError):
        windcore.generate(days=0, source=str(tmp_path))
    with pytest.raises(windcore.ConfigError):
        windcore.generate(days=1, start="2024-13-01", source=str(tmp_path))


def test_run_every_source_day_and_summary(store):
    summary = windcore.run(source=str(store))
    assert isinstance(summary, windcore.RunSummary)
    assert summary.days == 3 and summary.days_loaded == 3
    assert summary.rows_in == 3 * DAY
    assert summary.windows == 3 * WINDOWS
    assert summary.rows_out == 3 * WINDOWS * SIGNALS  # no missing data: every statistic defined
    assert summary.elapsed_seconds > 0
    assert summary.failed_days == [] and summary.days_to_rerun == [] and summary.empty_days == []
    assert summary.ok and summary.error is None
    assert summary.signals[:4] == ["wind_speed_mean", "wind_speed_min", "wind_speed_max", "wind_speed_std"]
    assert "store" in summary.source and "target" in summary.target
    reports = summary.reports
    assert [r.day for r in reports] == [dt.date(2024, 1, d) for d in (1, 2, 3)]
    r = reports[0]
    assert isinstance(r, windcore.DayReport)
    assert (r.outcome, r.error, r.rows_in, r.windows, r.rows_out) == ("loaded", None, DAY, WINDOWS, WINDOWS * SIGNALS)
    assert min(r.extract_seconds, r.transform_seconds, r.load_seconds) >= 0
    d = summary.to_dict()
    assert d["rows_in"] == 3 * DAY and d["failed_days"] == []
    json.dumps(d)  # JSON-friendly, e.g. for Dagster metadata
    assert "RunSummary(days=3" in repr(summary) and "DayReport(day=2024-01-01" in repr(r)
    assert target_days(store) == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_run_twice_gives_identical_target(store):
    windcore.run(source=str(store))
    first = target_frame(store)
    windcore.run(source=str(store))
    windcore.run(date="2024-01-02", source=str(store))
    second = target_frame(store)
    assert first.height == 3 * WINDOWS * SIGNALS
    assert first.equals(second)


def test_target_matches_resample_and_pandas(store):
    windcore.run(date="2024-01-02", source=str(store), stats=["mean", "std", "count"])
    got = pl.read_parquet(store / "target" / "2024-01-02.parquet")
    samples = pl.read_parquet(store / "source" / "2024-01-02.parquet")
    want = windcore.resample(samples, variables=["wind_speed", "power"], stats=["mean", "std", "count"], long=True)
    assert got.sort("timestamp", "signal").equals(want.sort("timestamp", "signal"))
    pdf = samples.to_pandas().set_index("timestamp")[["power"]].resample("10min").std()
    std = got.filter(pl.col("signal") == "power_std").sort("timestamp")["value"].to_numpy()
    np.testing.assert_allclose(std, pdf["power"].to_numpy(), rtol=1e-9, atol=1e-12)


def test_day_without_source_rows_is_reported_and_not_written(store):
    summary = windcore.run(start="2024-01-03", end="2024-01-05", source=str(store))
    assert summary.days == 3 and summary.days_loaded == 1
    assert summary.empty_days == [dt.date(2024, 1, 4), dt.date(2024, 1, 5)]
    assert summary.ok and summary.failed_days == []
    assert [r.outcome for r in summary.reports] == ["loaded", "no_source_rows", "no_source_rows"]
    assert target_days(store) == ["2024-01-03"]


def test_date_arguments(store):
    cases = [
        "2024-01-02",
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 23, 59),  # naive: taken as UTC
        dt.datetime(2024, 1, 3, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))),  # 22:30 UTC on the 2nd
        pd.Timestamp("2024-01-02 12:00", tz="America/New_York"),
    ]
    for date in cases:
        summary = windcore.run(date=date, source=str(store))
        assert [r.day for r in summary.reports] == [dt.date(2024, 1, 2)], date


def test_separate_target(store, tmp_path):
    other = tmp_path / "elsewhere"
    summary = windcore.run(date="2024-01-01", source=store, target=other, variables="power", stats="mean,max")
    assert summary.rows_out == WINDOWS * 2
    assert target_days(other) == ["2024-01-01"]
    assert not (store / "target").exists() or target_days(store) == []
    assert set(pl.read_parquet(other / "target" / "2024-01-01.parquet")["signal"]) == {"power_mean", "power_max"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(date="2024-01-01", start="2024-01-01", end="2024-01-02"), "either"),
        (dict(start="2024-01-01"), "together"),
        (dict(end="2024-01-01"), "together"),
        (dict(start="2024-01-03", end="2024-01-01"), "range"),
        (dict(date="2024-1-x"), "YYYY-MM-DD"),
        (dict(variables=["wind_speed", "rotor_rpm"]), "rotor_rpm"),
        (dict(variables=[]), "variables"),
        (dict(stats=["mean", "mode"]), "mode"),
        (dict(every="7m"), "divide"),
        (dict(jobs=0), "jobs"),
    ],
)
def test_run_config_errors(store, kwargs, match):
    kwargs.setdefault("source", str(store))
    with pytest.raises(windcore.ConfigError, match=match):
        windcore.run(**kwargs)
    assert not (store / "target").exists() or target_days(store) == []


def test_bad_location():
    with pytest.raises(windcore.ConfigError, match="ftp"):
        windcore.run(source="ftp://example.invalid/data")
    with pytest.raises(TypeError):
        windcore.run(source=42)
    with pytest.raises(TypeError):
        windcore.run(date=20240101, source="x")


def test_failed_day_raises_pipeline_error(store):
    windcore.run(source=str(store))
    before = pl.read_parquet(store / "target" / "2024-01-02.parquet")
    (store / "source" / "2024-01-02.parquet").write_bytes(b"not parquet")
    with pytest.raises(windcore.PipelineError) as info:
        windcore.run(source=str(store), jobs=1)
    err = info.value
    msg = str(err)
    assert "day 2024-01-02 failed" in msg
    assert "re-run these 2 day(s): 2024-01-02..2024-01-03" in msg  # consecutive days as a range
    assert err.day == dt.date(2024, 1, 2)
    assert err.failed_days == [dt.date(2024, 1, 2)]
    assert err.days_to_rerun == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert isinstance(err.__cause__, windcore.StoreError)
    summary = err.summary
    assert summary.days_loaded == 1 and not summary.ok
    assert summary.to_dict()["days_to_rerun"] == ["2024-01-02", "2024-01-03"]
    assert [r.outcome for r in summary.reports] == ["loaded", "failed", "skipped"]
    assert "2024-01-02.parquet" in summary.reports[1].error
    # The failed day kept its previous contents.
    assert pl.read_parquet(store / "target" / "2024-01-02.parquet").equals(before)


def test_store_error_is_an_oserror(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the store directory should be")
    with pytest.raises(windcore.StoreError) as info:
        windcore.init(source=str(blocker))
    assert isinstance(info.value, OSError)


def test_ctrl_c_interrupts_a_long_call(tmp_path):
    """SIGINT during a long native call raises KeyboardInterrupt promptly."""
    script = textwrap.dedent(
        f"""
        import sys, time, windcore
        print("ready", flush=True)
        t = time.monotonic()
        try:
            windcore.generate(days=20000, start="1970-01-01", source={str(tmp_path / "big")!r})
        except KeyboardInterrupt:
            print("interrupted", round(time.monotonic() - t, 3), flush=True)
            sys.exit(0)
        print("finished", flush=True)
        sys.exit(1)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert child.returncode == 0, out
    assert out.startswith("interrupted"), out
    assert waited < 5, waited
