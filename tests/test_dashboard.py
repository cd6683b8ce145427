"""The dashboard in a real headless Chromium, against `windcore-cli serve` on the embedded store.

Debian's `chromium` and `chromium-driver` (scripts/test installs them), driven by
selenium. Each server is started here on a free port, in a temporary folder, and
stopped at the end. What the page draws is read from the page (the chart's data
and the DOM) and compared with the Parquet files of the store.

Screenshots are saved to $WINDCORE_ARTIFACTS (default: <tmp>/windcore-artifacts);
with WINDCORE_UPDATE_SCREENSHOT=1 the full-page one of the operator's charts also
replaces docs/dashboard.png (the README's).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
import time

import numpy as np
import polars as pl
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from dashboard_support import (  # the tests' folder is on the path: conftest.py
    ROOT,
    TOKEN,
    Serve,
    chart_counts,
    console_errors,
    day_availability,
    open_page,
    resources,
    run_cli,
    save_screenshot,
    store_counts,
    target_frame,
    wait_drawn,
    wait_view,
    windows_with,
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1500",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chrome = os.environ.get("WINDCORE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("WINDCORE_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chrome or not driver:
        pytest.fail("chromium and chromedriver are needed: scripts/test installs them "
                    "(apt-get install chromium chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium download a browser
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=opts, service=Service(driver))
    d.set_script_timeout(60)
    d.set_page_load_timeout(30)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def farm(cli, tmp_path_factory):
    """A farm of 3 turbines, 3 days, with statistics of wind speed and power; served with
    a token."""
    d = tmp_path_factory.mktemp("farm")
    run_cli(cli, d, "generate", "--turbines", "3", "--days", "3", "--start", "2024-01-01",
            "--missing-rate", "0.02", "-q")
    # A bare `run` of a farm with the demo's channels would be the demo run.
    run_cli(cli, d, "run", "-q", "--variables", "wind_speed,power")
    server = Serve(cli, d, ["--bind", "127.0.0.1:0", "--token", TOKEN])
    yield server, d / "windcore-data"
    server.stop()


# The demo farm's availability mapping, windcore::STATE_AVAILABILITY_TOML (the README's table
# of the demo states): running, low wind and high wind are available, a fault is not,
# maintenance is excluded; time without a sample is unknown.
STATE_AVAILABILITY_TOML = """\
channel = "state"
available = [1, 2, 5]
unavailable = [3]
excluded = [4]
"""


@pytest.fixture(scope="module")
def operator_farm(cli, tmp_path_factory):
    """A farm of 3 turbines, 3 days, with missing values, run with the wind direction, the
    energy counter, the states and the availability mapping."""
    d = tmp_path_factory.mktemp("operator")
    run_cli(cli, d, "generate", "--turbines", "3", "--days", "3", "--start", "2024-01-01",
            "--missing-rate", "0.02", "-q")
    mapping = d / "availability.toml"
    mapping.write_text(STATE_AVAILABILITY_TOML)
    run_cli(cli, d, "run", "-q", "--variables", "wind_speed,power,wind_direction",
            "--angles", "wind_direction", "--counters", "energy", "--states", "state",
            "--availability", str(mapping))
    store = d / "windcore-data"
    server = Serve(cli, d, ["--bind", "127.0.0.1:0"])
    yield server, store
    server.stop()


def assert_std_band_within_min_max(browser, store, day, asset, variable):
    """The chart's dark band is mean ± std of each window held within its min and max
    (power that jumps from 2 MW to 0 has a mean - std below 0 kW), from the store's
    statistics. Returns how many windows the clip changed."""
    tgt = pl.read_parquet(store / "target" / f"{day}.parquet").filter(pl.col("asset") == asset)
    stats = tgt.pivot(on="signal", index="timestamp", values="value").sort("timestamp")
    got = browser.execute_script("""
        const w = window.windcore, u = w.charts[arguments[0]], s = w.series, out = [];
        for (let i = 0; i < u.data[s.x].length; i++)
            if (u.data[s.x][i] % 600 === 0 && u.data[s.mean][i] !== null)
                out.push([u.data[s.stdLow][i], u.data[s.stdHigh][i]]);
        return out;
    """, variable)
    mean, std = stats[f"{variable}_mean"].to_numpy(), stats[f"{variable}_std"].to_numpy()
    lo, hi = stats[f"{variable}_min"].to_numpy(), stats[f"{variable}_max"].to_numpy()
    want = np.column_stack([np.maximum(mean - std, lo), np.minimum(mean + std, hi)])
    np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=1e-12)
    return int(((mean - std < lo) | (mean + std > hi)).sum())


def test_page_loads_and_the_chart_holds_the_store_s_points(browser, farm):
    server, store = farm
    view = open_page(browser, server.url, "from=2024-01-02&to=2024-01-02&asset=T02&vars=wind_speed,power")
    assert (view["from"], view["to"], view["asset"]) == ("2024-01-02", "2024-01-02", "T02")
    for v in ("wind_speed", "power"):
        want = store_counts(store, "2024-01-02", "T02", v)
        got = chart_counts(browser, v)
        assert want["windows"] == 144
        assert 1300 < want["raw"] < 1440, "the demo data has missing samples"
        assert (got["raw"], got["windows"]) == (want["raw"], want["windows"]), v
        assert (got["domRaw"], got["domMean"]) == (want["raw"], want["windows"]), v
        assert view["points"][v]["mean"] == 144
        clipped = assert_std_band_within_min_max(browser, store, "2024-01-02", "T02", v)
        assert clipped > 0 or v != "power", "no window of the day's power needs the clip"
    # The asset picker lists the farm's turbines; the table shows the day's windows.
    options = [o.text for o in Select(browser.find_element(By.ID, "asset")).options]
    assert options == ["T01", "T02", "T03"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr")
    assert len(rows) == 144
    assert rows[0].text.startswith("2024-01-02 00:00 T02")
    # The coverage calendar: 3 assets x 3 complete days.
    cells = browser.find_elements(By.CSS_SELECTOR, "#calendar .cell")
    assert len(cells) == 9
    assert all(c.get_attribute("class").split()[1] == "full" for c in cells)
    assert browser.execute_script("return window.windcore.errors") == []
    assert console_errors(browser) == []
    t = browser.execute_script("return window.windcore.timings")
    assert t["drawMs"] < 1000, t


def test_choosing_another_day_or_asset_fetches_and_redraws(browser, farm):
    server, store = farm
    first = open_page(browser, server.url, "from=2024-01-01&to=2024-01-01&asset=T01&vars=wind_speed")
    assert not resources(browser, "/data?start=2024-01-02")
    browser.find_element(By.ID, "next").click()
    view = wait_view(browser, lambda v: v["from"] == "2024-01-02")
    assert view["seq"] > first["seq"]
    assert resources(browser, "/data?start=2024-01-02"), "no request for the new day"
    got = chart_counts(browser, "wind_speed")
    want = store_counts(store, "2024-01-02", "T01", "wind_speed")
    assert (got["raw"], got["windows"]) == (want["raw"], want["windows"])
    assert browser.find_element(By.ID, "day").get_attribute("value") == "2024-01-02"

    # Another asset from the picker.
    Select(browser.find_element(By.ID, "asset")).select_by_visible_text("T03")
    view = wait_view(browser, lambda v: v["asset"] == "T03")
    assert resources(browser, "asset=T03")
    got = chart_counts(browser, "wind_speed")
    want = store_counts(store, "2024-01-02", "T03", "wind_speed")
    assert (got["raw"], got["windows"]) == (want["raw"], want["windows"])

    # A day and asset from the coverage calendar.
    browser.find_element(By.CSS_SELECTOR, '#calendar .cell[data-day="2024-01-03"][data-asset="T02"]').click()
    wait_view(browser, lambda v: v["from"] == "2024-01-03" and v["asset"] == "T02")
    got = chart_counts(browser, "wind_speed")
    want = store_counts(store, "2024-01-03", "T02", "wind_speed")
    assert (got["raw"], got["windows"]) == (want["raw"], want["windows"])
    # A range: three days in one chart.
    browser.execute_script("""
        document.getElementById('from').value = '2024-01-01';
        document.getElementById('to').value = '2024-01-03';""")
    browser.find_element(By.ID, "show").click()
    view = wait_view(browser, lambda v: v["from"] == "2024-01-01" and v["to"] == "2024-01-03")
    assert view["points"]["wind_speed"]["mean"] == 3 * 144
    assert console_errors(browser) == []


def test_run_etl_with_the_token_rewrites_the_day(browser, farm):
    server, store = farm
    day_file = store / "target" / "2024-01-02.parquet"
    before = pl.read_parquet(day_file)
    day_file.unlink()
    open_page(browser, server.url, "from=2024-01-02&to=2024-01-02&asset=T01&vars=power")
    # The day is marked: samples but no statistics, for every asset.
    cells = browser.find_elements(By.CSS_SELECTOR, '#calendar .cell[data-day="2024-01-02"]')
    assert [c.get_attribute("class").split()[1] for c in cells] == ["missing"] * 3
    assert chart_counts(browser, "power")["windows"] == 0

    # A wrong token is refused and changes nothing.
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "run-etl").click()
    end = time.monotonic() + 10
    while time.monotonic() < end and not browser.execute_script("return window.windcore.lastAction"):
        time.sleep(0.05)
    assert browser.execute_script("return window.windcore.lastAction.status") == 401
    assert "failed" in browser.find_element(By.ID, "action-result").text
    assert not day_file.exists()
    browser.get_log("browser")  # the 401 is logged by the browser as a failed resource

    token = browser.find_element(By.ID, "token")
    token.clear()
    token.send_keys(TOKEN)
    browser.execute_script("window.windcore.lastAction = null")
    browser.find_element(By.ID, "run-etl").click()
    end = time.monotonic() + 30
    while time.monotonic() < end and not browser.execute_script(
            "const a = window.windcore.lastAction; return a && (a.done || a.error)"):
        time.sleep(0.05)
    action = browser.execute_script("return window.windcore.lastAction")
    assert action["body"] == {"date": "2024-01-02"} and "error" not in action, action
    assert action["result"]["loaded"] == 1
    assert day_file.exists()
    # The farm holds the demo's channels and is the default store: a run naming no
    # channels is the demo run (as a bare `windcore-cli run` there): the day's wind
    # speed and power as before, and the direction, energy, states and availability.
    order = ["asset", "timestamp", "signal"]
    after = pl.read_parquet(day_file)
    kept = after.filter(pl.col("signal").is_in(before["signal"].unique().implode()))
    assert kept.sort(order).equals(before.sort(order))
    signals = set(after["signal"])
    assert {"wind_direction_mean", "energy_delta", "state_seconds_1", "availability"} <= signals, signals
    wait_view(browser, lambda v: v["points"]["power"]["mean"] == 144)
    # A run that names its channels gets them: the day as the fixture ran it.
    day_file.unlink()
    status, body = server.post("/etl/run", {"date": "2024-01-02", "variables": ["wind_speed", "power"]})
    assert status == 200, body
    assert pl.read_parquet(day_file).sort(order).equals(before.sort(order))
    cells = browser.find_elements(By.CSS_SELECTOR, '#calendar .cell[data-day="2024-01-02"]')
    assert [c.get_attribute("class").split()[1] for c in cells] == ["full"] * 3
    assert "1 of 1 day(s) loaded" in browser.find_element(By.ID, "action-result").text
    assert console_errors(browser) == []
    assert TOKEN not in "".join(server.log)


def test_screenshot(browser, farm):
    server, store = farm
    # For the picture: one turbine's day incomplete, another's statistics missing.
    day_file = store / "target" / "2024-01-03.parquet"
    saved = day_file.read_bytes()
    df = pl.read_parquet(day_file)
    cut = df["timestamp"].dt.hour() >= 16
    df.filter(~((pl.col("asset") == "T02") & cut) & (pl.col("asset") != "T03")).write_parquet(day_file)
    try:
        open_page(browser, server.url, "from=2024-01-02&to=2024-01-02&asset=T01&vars=wind_speed,power")
        classes = [c.get_attribute("class").split()[1] for c in
                   browser.find_elements(By.CSS_SELECTOR, '#calendar .cell[data-day="2024-01-03"]')]
        assert classes == ["full", "partial", "missing"]
        out = pathlib.Path(os.environ.get("WINDCORE_ARTIFACTS")
                           or pathlib.Path(tempfile.gettempdir()) / "windcore-artifacts")
        out.mkdir(parents=True, exist_ok=True)
        png = out / "dashboard.png"
        assert browser.save_screenshot(str(png))
    finally:
        day_file.write_bytes(saved)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 50_000
    print(f"screenshot: {png}")
    # The README's picture (docs/dashboard.png) is the operator's charts' one, below.


def test_serve_in_an_empty_folder_shows_data_within_5_s(browser, cli, tmp_path):
    start = time.monotonic()
    # No argument: the address comes from the environment (a free port).
    server = Serve(cli, tmp_path, [], env={"WINDCORE_BIND": "127.0.0.1:0"})
    try:
        d = browser
        d.get("about:blank")
        d.get_log("browser")
        d.get(server.url + "/")
        view = wait_view(d, lambda v: v["points"]["wind_speed"]["raw"] > 0, timeout=10)
        elapsed = time.monotonic() - start
        print(f"empty folder to a drawn dashboard: {elapsed:.2f} s")
        assert elapsed < 5.0, f"{elapsed:.2f} s"
        assert view["from"] == "2024-01-10"  # the newest day with statistics
        assert any("is empty: generating 10 days" in line for line in server.log), server.log
        # The demo farm: its turbines in the picker, the first one shown.
        store = tmp_path / "windcore-data"
        src = pl.read_parquet(store / "source" / "2024-01-10.parquet")
        assets = sorted(src["asset"].unique())
        assert len(assets) == 3
        assert d.find_element(By.ID, "asset-label").is_displayed()
        assert [o.text for o in Select(d.find_element(By.ID, "asset")).options] == assets
        assert view["asset"] == assets[0]
        for v in ("wind_speed", "power"):
            want = store_counts(store, "2024-01-10", view["asset"], v)
            assert (view["points"][v]["raw"], view["points"][v]["mean"]) == (want["raw"], want["windows"]) == (1440, 144), v
        # No token: the actions say how to turn them on.
        assert d.find_element(By.ID, "actions-off").is_displayed()
        assert not d.find_element(By.ID, "actions-on").is_displayed()
        assert len(d.find_elements(By.CSS_SELECTOR, "#calendar .cell.full")) == 10 * len(assets)
        assert console_errors(d) == []
    finally:
        server.stop()
    assert (tmp_path / "windcore-data" / "target" / "2024-01-01.parquet").exists()


def test_serve_in_an_empty_folder_draws_the_operator_s_charts(browser, cli, tmp_path):
    """The out-of-the-box demo: `serve` in an empty folder fills the store with the demo farm
    and its demo run, and the page draws every operator's chart from it."""
    server = Serve(cli, tmp_path, [], env={"WINDCORE_BIND": "127.0.0.1:0"})
    browser.set_window_size(1400, 2450)
    try:
        view = open_page(browser, server.url)
        drawn = wait_drawn(browser, ["power_curve", "wind_rose", "farm", "availability"])
        store = tmp_path / "windcore-data"
        days = sorted(p.stem for p in (store / "target").glob("*.parquet"))
        assert len(days) == 10
        shown = [d for d in days if view["from"] <= d <= view["to"]]
        tgt = target_frame(store, shown)
        asset = view["asset"]
        assert drawn["power_curve"]["points"] == windows_with(tgt, asset, ["wind_speed_mean", "power_mean"]) > 0
        assert drawn["power_curve"]["colour"] == "state"
        assert drawn["wind_rose"]["points"] == windows_with(tgt, asset, ["wind_speed_mean", "wind_direction_mean"]) > 0
        assert drawn["wind_rose"]["channel"] == "wind_direction"
        assert drawn["farm"]["assets"] == 3
        assert drawn["farm"]["points"] == tgt.filter(pl.col("signal") == f"{drawn['farm']['channel']}_mean").height > 0
        # Availability of every turbine on every day, each the ratio of the day's sums.
        sums = day_availability(store, days)
        assert drawn["availability"]["points"] == sums.height == 10 * 3
        for c in browser.find_elements(By.CSS_SELECTOR, "#availability .cell[data-day]"):
            row = sums.filter((pl.col("day") == c.get_attribute("data-day"))
                              & (pl.col("asset") == c.get_attribute("data-asset"))).row(0, named=True)
            assert abs(float(c.get_attribute("data-availability")) - row["ratio"]) < 1e-12, row
        assert browser.execute_script("return window.windcore.errors") == []
        assert console_errors(browser) == []
        save_screenshot(browser, "dashboard-demo.png")
    finally:
        browser.set_window_size(1400, 1500)
        server.stop()


def test_seed_routes_return_our_rows_on_the_embedded_store(farm):
    server, store = farm
    pairs = [
        ("/api/data?start_date=2024-01-01&end_date=2024-01-01&columns=wind_speed,power",
         "/data?start=2024-01-01&end=2024-01-02&variables=wind_speed,power"),
        ("/api/data?start_date=2024-01-01T06:00:00Z&end_date=2024-01-02T06:00:00Z&asset=T02&format=csv",
         "/data?start=2024-01-01T06:00:00Z&end=2024-01-02T06:00:00Z&asset=T02&format=csv"),
        ("/api/signals?start_date=2024-01-01&end_date=2024-01-03&signal_type=wind_speed_mean",
         "/signals?start=2024-01-01&end=2024-01-04&signal=wind_speed_mean"),
        ("/api/signals?start_date=2024-01-03&end_date=2024-01-03&asset=T03&format=arrow",
         "/signals?start=2024-01-03&end=2024-01-04&asset=T03&format=arrow"),
    ]
    for seed, ours in pairs:
        (sa, a), (sb, b) = server.get(seed), server.get(ours)
        assert (sa, sb) == (200, 200), (seed, a[:300])
        assert a == b and len(a) > 1000, seed
    rows = json.loads(server.get(pairs[0][0])[1])
    src = pl.read_parquet(store / "source" / "2024-01-01.parquet")
    assert len(rows) == src.height == 3 * 1440
    assert set(rows[0]) == {"timestamp", "asset", "wind_speed", "power"}
    stats = json.loads(server.get(pairs[2][0])[1])
    assert len(stats) == 3 * 3 * 144
    # Same 400s, named with the reference's parameters.
    for path, param in [
        ("/api/data?end_date=2024-01-01", "start_date"),
        ("/api/data?start_date=2024-01-01&end_date=2023-12-31", "end_date"),
        ("/api/data?start_date=2024-01-01&end_date=2024-01-01&columns=rotor_speed", "columns"),
        ("/api/signals?start_date=2024-01-01&end_date=2024-01-01&signal_type=power_mode", "signal_type"),
    ]:
        status, body = server.get(path)
        assert status == 400, (path, body)
        assert json.loads(body)["parameter"] == param, (path, body)
    # The jobs: token required, then the same answers as ours.
    assert server.post("/api/run-etl", {"days": ["2024-01-01"]}, token=None)[0] == 401
    # (Naming the channels: a run naming none is the demo run on this farm, and the tests
    # after this one want the store of wind speed and power only.)
    status, body = server.post("/api/run-etl", {"days": ["2024-01-03", "2024-01-01"],
                                                "variables": ["wind_speed", "power"]})
    assert status == 200, body
    assert json.loads(body)["loaded"] == 2
    status, body = server.post("/api/generate-data", {"days": 1, "frequency": "1h"})
    assert status == 400 and json.loads(body)["parameter"] == "frequency"


def test_operator_charts_hold_the_target_s_windows(browser, operator_farm):
    server, store = operator_farm
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    open_page(browser, server.url, "from=2024-01-01&to=2024-01-03&asset=T02&vars=power")
    drawn = wait_drawn(browser, ["power_curve", "wind_rose", "farm", "availability"])
    tgt = target_frame(store, days)
    # Power curve and wind rose: the selected turbine's windows with both signals.
    assert drawn["power_curve"]["points"] == windows_with(tgt, "T02", ["wind_speed_mean", "power_mean"]) > 400
    assert drawn["wind_rose"]["points"] == windows_with(tgt, "T02", ["wind_speed_mean", "wind_direction_mean"]) > 400
    assert drawn["wind_rose"]["channel"] == "wind_direction"
    # Coloured by the dominant state; the demo farm's states are named.
    assert drawn["power_curve"]["colour"] == "state"
    assert {"running", "low_wind"} <= set(drawn["power_curve"]["classes"]), drawn["power_curve"]
    # The farm: power of every turbine.
    assert drawn["farm"]["channel"] == "power" and drawn["farm"]["assets"] == 3
    assert drawn["farm"]["points"] == tgt.filter(pl.col("signal") == "power_mean").height
    # Availability: a cell per (day, turbine), each the ratio of the day's sums.
    assert drawn["availability"]["points"] == 9
    sums = day_availability(store, days)
    assert sums.height == 9
    cells = browser.find_elements(By.CSS_SELECTOR, "#availability .cell[data-day]")
    assert len(cells) == 9
    for c in cells:
        row = sums.filter((pl.col("day") == c.get_attribute("data-day"))
                          & (pl.col("asset") == c.get_attribute("data-asset"))).row(0, named=True)
        assert abs(float(c.get_attribute("data-availability")) - row["ratio"]) < 1e-12, row
    # The run's state statistics: every window of every turbine holds its time, and the
    # farm had a fault in these days.
    assert (sums["ratio"] < 1).any()
    # The API says the same.
    body = json.loads(server.get("/availability?from=2024-01-01&to=2024-01-03")[1])
    assert body["assets"] == ["T01", "T02", "T03"]
    # Another channel for the farm view.
    Select(browser.find_element(By.ID, "farm-channel")).select_by_visible_text("wind_speed")
    end = time.monotonic() + 10
    while time.monotonic() < end and browser.execute_script(
            "return window.windcore.drawn.farm.channel") != "wind_speed":
        time.sleep(0.05)
    farm = browser.execute_script("return window.windcore.drawn.farm")
    assert farm["channel"] == "wind_speed"
    assert farm["points"] == tgt.filter(pl.col("signal") == "wind_speed_mean").height
    assert browser.execute_script("return window.windcore.errors") == []
    assert console_errors(browser) == []
    # A full-page picture (the README's): one turbine's last day incomplete, another's
    # statistics missing, as the calendars mark them.
    day_file = store / "target" / "2024-01-03.parquet"
    saved = day_file.read_bytes()
    df = pl.read_parquet(day_file)
    cut = df["timestamp"].dt.hour() >= 16
    df.filter(~((pl.col("asset") == "T02") & cut) & (pl.col("asset") != "T03")).write_parquet(day_file)
    browser.set_window_size(1400, 2450)
    try:
        open_page(browser, server.url, "from=2024-01-01&to=2024-01-03&asset=T02&vars=wind_speed,power")
        wait_drawn(browser, ["power_curve", "wind_rose", "farm", "availability"])
        classes = [c.get_attribute("class").split()[1] for c in
                   browser.find_elements(By.CSS_SELECTOR, '#calendar .cell[data-day="2024-01-03"]')]
        assert classes == ["full", "partial", "missing"]
        png = save_screenshot(browser, "dashboard-operator.png")
    finally:
        browser.set_window_size(1400, 1500)
        day_file.write_bytes(saved)
    assert console_errors(browser) == []
    if os.environ.get("WINDCORE_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(png, ROOT / "docs" / "dashboard.png")


def test_operator_charts_without_direction_or_states(browser, farm):
    """A run of wind speed and power: a power curve coloured by density and the farm view;
    no wind rose and no availability, each saying why."""
    server, store = farm
    open_page(browser, server.url, "from=2024-01-02&to=2024-01-02&asset=T01&vars=power")
    drawn = wait_drawn(browser, ["power_curve", "farm"])
    assert drawn["power_curve"]["colour"] == "density"
    tgt = target_frame(store, ["2024-01-02"])
    assert drawn["power_curve"]["points"] == windows_with(tgt, "T01", ["wind_speed_mean", "power_mean"]) > 100
    assert "wind_rose" not in drawn and "availability" not in drawn
    assert "direction channel" in browser.find_element(By.ID, "wind-rose").text
    assert "no availability signals" in browser.find_element(By.ID, "availability").text
    assert console_errors(browser) == []


def test_operator_charts_of_a_single_turbine(browser, cli, tmp_path):
    """The reference layout (one turbine, no asset column; what an earlier windcore's demo
    wrote): the power curve and the 'farm' view of its one series; no direction channel, no
    availability."""
    run_cli(cli, tmp_path, "generate", "-q")
    run_cli(cli, tmp_path, "run", "-q")
    server = Serve(cli, tmp_path, [], env={"WINDCORE_BIND": "127.0.0.1:0"})
    try:
        open_page(browser, server.url, "from=2024-01-05&to=2024-01-06&vars=power")
        drawn = wait_drawn(browser, ["power_curve", "farm"])
        tgt = target_frame(tmp_path / "windcore-data", ["2024-01-05", "2024-01-06"])
        assert "asset" not in tgt.columns
        both = (tgt.filter(pl.col("signal").is_in(["wind_speed_mean", "power_mean"]))
                .group_by("timestamp").len().filter(pl.col("len") == 2).height)
        assert drawn["power_curve"]["points"] == both == 2 * 144
        assert drawn["power_curve"]["colour"] == "density"
        assert (drawn["farm"]["assets"], drawn["farm"]["points"]) == (1, 2 * 144)
        assert "wind_rose" not in drawn and "availability" not in drawn
        assert console_errors(browser) == []
    finally:
        server.stop()
