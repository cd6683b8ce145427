"""Draw times of the dashboard, measured in the browser (headless Chromium).

    benches/run dashboard
    # or: WINDCORE_CLI=$CARGO_TARGET_DIR/release/windcore-cli python benches/dashboard.py

An embedded store with a year of demo data (2023: 365 days, 525,600 samples)
and its statistics is served by `windcore-cli serve`; the page's own
`windcore.show()` loads a view and reports, from performance.now():

* fetch: from the first request to the last row parsed (JSON),
* draw:  from the data in hand to every chart drawn (uPlot's draw hook),
  including building the chart arrays.

Views: a year of one variable (the 10-minute mean of 52,560 windows, with its
min-max and +/- std bands); a day of raw samples of one variable (1,440
samples, with the day's 144 windows); a day of two variables. Each view is
drawn RUNS times (default 5; WINDCORE_DASHBOARD_RUNS), best and worst reported.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from test_dashboard import CHROMIUM_FLAGS, Serve, run_cli  # noqa: E402

RUNS = int(os.environ.get("WINDCORE_DASHBOARD_RUNS", "5"))

SHOW = """
const done = arguments[arguments.length - 1];
window.windcore.show(arguments[0])
  .then(v => done({view: v, timings: window.windcore.timings}))
  .catch(e => done({error: String(e)}));
"""


def main() -> None:
    cli = os.environ.get("WINDCORE_CLI") or shutil.which("windcore-cli")
    if not cli:
        sys.exit("WINDCORE_CLI: path of a release windcore-cli")
    work = pathlib.Path(tempfile.mkdtemp(prefix="windcore-dashboard-bench-"))
    t = time.monotonic()
    run_cli(cli, work, "generate", "--days", "365", "--start", "2023-01-01", "-q")
    run_cli(cli, work, "run", "-q")
    print(f"store: 365 days generated and aggregated in {time.monotonic() - t:.1f} s")
    server = Serve(cli, work, ["--bind", "127.0.0.1:0", "--quiet"])
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("WINDCORE_CHROMIUM") or shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={work / 'profile'}")
    os.environ.setdefault("SE_OFFLINE", "true")
    d = webdriver.Chrome(options=opts, service=Service(os.environ.get("WINDCORE_CHROMEDRIVER") or shutil.which("chromedriver")))
    d.set_script_timeout(120)
    try:
        d.get(server.url + "/#from=2023-06-01&to=2023-06-01&vars=wind_speed")
        end = time.monotonic() + 30
        while time.monotonic() < end and not d.execute_script("return window.windcore && window.windcore.ready"):
            time.sleep(0.05)
        version = d.capabilities.get("browserVersion")
        print(f"Chromium {version}, headless, window 1400x1500; {RUNS} runs per view\n")
        views = [
            ("a year, 1 variable (52,560 windows)", lambda i: {"from": "2023-01-01", "to": "2023-12-31", "variables": ["wind_speed"]}, "statsWindows"),
            ("a day of raw samples, 1 variable", lambda i: {"from": f"2023-03-{i + 1:02d}", "to": f"2023-03-{i + 1:02d}", "variables": ["wind_speed"]}, "rawRows"),
            ("a day of raw samples, 2 variables", lambda i: {"from": f"2023-04-{i + 1:02d}", "to": f"2023-04-{i + 1:02d}", "variables": ["wind_speed", "power"]}, "rawRows"),
        ]
        print(f"{'view':<38} {'points':>8} {'draw best':>10} {'draw worst':>11} {'fetch best':>11} {'fetch worst':>12}")
        for name, sel, key in views:
            draws, fetches, points = [], [], None
            for i in range(RUNS):
                r = d.execute_async_script(SHOW, sel(i))
                if "error" in r:
                    raise SystemExit(f"{name}: {r['error']}")
                draws.append(r["timings"]["drawMs"])
                fetches.append(r["timings"]["fetchMs"])
                points = r["timings"][key]
            print(f"{name:<38} {points:>8} {min(draws):>8.0f} ms {max(draws):>8.0f} ms "
                  f"{min(fetches):>8.0f} ms {max(fetches):>9.0f} ms")
            print("    draws: " + ", ".join(f"{x:.0f}" for x in draws) + " ms")
    finally:
        d.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
