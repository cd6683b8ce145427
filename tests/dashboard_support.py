"""What the dashboard tests (test_dashboard.py) use besides their fixtures: the server
process, HTTP requests, reading the page (what the charts drew, the view, console errors,
screenshots) and reading the store the page is compared with."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import polars as pl
from selenium.webdriver.common.by import By


ROOT = pathlib.Path(__file__).resolve().parents[1]


TOKEN = "dashboard-test-token"


class Serve:
    """`windcore-cli serve ARGS` in `cwd`; its stderr is collected."""

    def __init__(self, cli: str, cwd: pathlib.Path, args=(), env=None):
        e = {k: v for k, v in os.environ.items()}
        for k in ("WINDCORE_SOURCE_URL", "WINDCORE_TARGET_URL", "WINDCORE_API_TOKEN",
                  "WINDCORE_DATA_DIR", "WINDCORE_BIND"):
            e.pop(k, None)
        e.update(env or {})
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [cli, "serve", *args], cwd=cwd, env=e, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.log: list[str] = []
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        line = self.proc.stdout.readline()
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        if "http://" not in line:
            self.stop()
            raise AssertionError(f"no URL in {line!r}: {''.join(self.log)}")
        self.url = "http://" + line.split("http://", 1)[1].split()[0]

    def _drain(self, stream):
        for line in stream:
            self.log.append(line)

    def get(self, path: str):
        return request(self.url + path)

    def post(self, path: str, body, token: str | None = TOKEN):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return request(self.url + path, json.dumps(body).encode(), headers)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def request(url: str, data: bytes | None = None, headers=None):
    """(status, body bytes) of a GET, or a POST when `data` is given."""
    req = urllib.request.Request(url, data=data, headers=headers or {},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def run_cli(cli: str, cwd: pathlib.Path, *args: str):
    out = subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def day_availability(store: pathlib.Path, days: list[str]) -> pl.DataFrame:
    """Per (day, asset): the sums of the target's windows' available and unavailable seconds
    and their ratio (a day's availability is never a mean of the windows' ratios)."""
    tgt = target_frame(store, days)
    sums = (tgt.filter(pl.col("signal").is_in(["available_seconds", "unavailable_seconds"]))
            .with_columns(pl.col("timestamp").dt.date().cast(pl.String).alias("day"))
            .pivot(on="signal", index=["day", "asset", "timestamp"], values="value")
            .group_by("day", "asset")
            .agg(pl.col("available_seconds").sum(), pl.col("unavailable_seconds").sum()))
    return sums.with_columns((pl.col("available_seconds")
                              / (pl.col("available_seconds") + pl.col("unavailable_seconds"))).alias("ratio"))


def wait_drawn(d, names, timeout=20.0) -> dict:
    """`window.windcore.drawn` once each of `names` is drawn for the view on screen."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = d.execute_script("""
            const w = window.windcore;
            if (!w || !w.view) return null;
            const names = arguments[0];
            return names.every(n => w.drawn[n] && (n === 'availability' || w.drawn[n].seq === w.view.seq))
                ? w.drawn : null;""", names)
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"not drawn: {names}: {d.execute_script('return window.windcore.drawn')}, "
                         f"errors {d.execute_script('return window.windcore.errors')}, "
                         f"status {d.find_element(By.ID, 'status').text!r}")


def target_frame(store: pathlib.Path, days: list[str]) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(store / "target" / f"{day}.parquet") for day in days])


def windows_with(tgt: pl.DataFrame, asset: str | None, signals: list[str]) -> int:
    """The windows (of one asset, or all) that hold every one of `signals`."""
    if asset is not None:
        tgt = tgt.filter(pl.col("asset") == asset)
    have = tgt.filter(pl.col("signal").is_in(signals)).group_by("asset", "timestamp").len()
    return have.filter(pl.col("len") == len(signals)).height


def save_screenshot(d, name: str) -> pathlib.Path:
    out = pathlib.Path(os.environ.get("WINDCORE_ARTIFACTS")
                       or pathlib.Path(tempfile.gettempdir()) / "windcore-artifacts")
    out.mkdir(parents=True, exist_ok=True)
    png = out / name
    assert d.save_screenshot(str(png))
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 50_000
    print(f"screenshot: {png}")
    return png


def console_errors(d) -> list:
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def wait_view(d, check=lambda v: True, timeout=20.0) -> dict:
    """The view on screen, once drawn and accepted by `check`."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = d.execute_script(
            "const w = window.windcore; return w && w.ready && !w.loading ? w.view : null")
        if last and check(last):
            return last
        time.sleep(0.05)
    errors = d.execute_script("return window.windcore ? window.windcore.errors : 'no page state'")
    raise AssertionError(f"the view was not drawn: last {last}, errors {errors}, "
                         f"status {d.find_element(By.ID, 'status').text!r}")


def open_page(d, url: str, hash_: str = "") -> dict:
    d.get("about:blank")
    d.get_log("browser")  # forget earlier pages' messages
    d.get(url + "/" + (("#" + hash_) if hash_ else ""))
    return wait_view(d)


def chart_counts(d, variable: str) -> dict:
    """Points of a chart, read from the chart's own data (uPlot) and the DOM."""
    return d.execute_script("""
        const w = window.windcore, u = w.charts[arguments[0]], s = w.series;
        const x = u.data[s.x], raw = u.data[s.raw], mean = u.data[s.mean];
        let windows = 0;
        for (let i = 0; i < x.length; i++) if (x[i] % 600 === 0 && mean[i] !== null) windows++;
        const el = document.querySelector('.chart[data-variable="' + arguments[0] + '"]');
        return {raw: raw.filter(v => v !== null && v !== undefined).length, windows,
                domRaw: Number(el.dataset.rawPoints), domMean: Number(el.dataset.meanPoints)};
    """, variable)


def store_counts(store: pathlib.Path, day: str, asset: str, variable: str) -> dict:
    src = pl.read_parquet(store / "source" / f"{day}.parquet").filter(pl.col("asset") == asset)
    values = src[variable]
    raw = values.len() - values.null_count() - int(values.is_nan().fill_null(False).sum())
    tgt_path = store / "target" / f"{day}.parquet"
    windows = 0
    if tgt_path.exists():
        tgt = pl.read_parquet(tgt_path)
        windows = tgt.filter((pl.col("asset") == asset) & (pl.col("signal") == f"{variable}_mean")).height
    return {"raw": raw, "windows": windows}


def resources(d, needle: str) -> list[str]:
    return d.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes(arguments[0]))", needle)
