"""The parts of the Dask tests (test_dask.py) that are not tests: throwaway
databases and what reads them, a local cluster of real `dask scheduler` / `dask worker`
processes that cannot import psycopg2, and a fake connector API that can cut its stream."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import uuid

import psycopg2
import pytest

import windcore

NO_PSYCOPG2 = pathlib.Path(__file__).parent / "no_psycopg2"


def _load_blocker():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "windcore_test_no_psycopg2", NO_PSYCOPG2 / "sitecustomize.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


no_psycopg2 = _load_blocker()

DAYS = 30
TURBINES = ["T01", "T02", "T03", "T04", "T05"]
START, END = "2024-01-01", "2024-01-30"
LAYOUT = dict(table="scada", time_column="ts", asset_column="turbine_id")
#: Threads per worker: 2 workers x 2 threads run more tasks at once than the bound allows.
THREADS = 2
#: The bound on tasks touching the databases at once, across the cluster (db_tasks).
K = 2


# --- PostgreSQL -----------------------------------------------------------------------


def admin_url() -> str:
    url = os.environ.get("WINDCORE_TEST_DATABASE_URL")
    if not url:
        pytest.fail("WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test")
    return url


class Databases:
    """Throwaway databases, dropped at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def new(self, tag: str) -> str:
        name = f"wcdask_{tag}_{uuid.uuid4().hex[:8]}"
        conn = psycopg2.connect(admin_url())
        conn.autocommit = True
        conn.cursor().execute(f"create database {name}")
        conn.close()
        self.names.append(name)
        return admin_url().rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        conn = psycopg2.connect(admin_url())
        conn.autocommit = True
        for name in self.names:
            conn.cursor().execute(f"drop database if exists {name} with (force)")
        conn.close()


def query(url: str, sql: str, params=None):
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else None
        conn.commit()
        return rows
    finally:
        conn.close()


def db_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def target_rows(url: str):
    """The whole target: statistics by (asset, signal, time) and the load records."""
    data = query(
        url,
        "select s.asset, s.name, d.timestamp, d.value from data d join signal s on s.id = d.signal_id "
        "order by 1, 2, 3",
    )
    loads = query(url, "select zone, day, asset, fingerprint from windcore_load order by 1, 2, 3")
    return data, loads


class ConnectionSampler:
    """Samples pg_stat_activity: the most windcore connections seen per database."""

    def __init__(self, *urls: str) -> None:
        self.names = {db_name(u): u for u in urls}
        self.peak = {name: 0 for name in self.names}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = psycopg2.connect(admin_url())
        conn.autocommit = True
        cur = conn.cursor()
        while not self._stop.is_set():
            cur.execute(
                "select datname, count(*) from pg_stat_activity "
                "where application_name = 'windcore' and datname = any(%s) group by 1",
                (list(self.names),),
            )
            for name, n in cur.fetchall():
                self.peak[name] = max(self.peak[name], n)
            self.samples += 1
            time.sleep(0.005)
        conn.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# --- The cluster ----------------------------------------------------------------------

DASK = str(pathlib.Path(sys.executable).parent / "dask")


class LocalCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, stopped by PID."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.dir = directory
        self.scheduler_file = directory / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}
        self._start("scheduler", [
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(self.scheduler_file),
        ])
        deadline = time.time() + 60
        while not self.scheduler_file.exists():
            if self.procs["scheduler"].poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the scheduler did not start:\n{self.log('scheduler')}")
            time.sleep(0.1)
        # The file appears before its content is complete: wait for valid JSON.
        while True:
            try:
                self.address = json.loads(self.scheduler_file.read_text())["address"]
                break
            except (ValueError, KeyError):
                time.sleep(0.05)

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")
        # Neither the scheduler nor the workers can import psycopg2.
        env = dict(os.environ, WINDCORE_NO_PSYCOPG2="all")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(NO_PSYCOPG2), os.environ.get("PYTHONPATH")) if p
        )
        proc = subprocess.Popen(
            [DASK, *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, env=env
        )
        log.close()
        self.procs[name] = proc
        return proc

    def add_worker(self, name: str, threads: int = THREADS) -> subprocess.Popen:
        """A stock worker: no --resources."""
        (self.dir / name).mkdir(exist_ok=True)
        return self._start(name, [
            "worker", "--scheduler-file", str(self.scheduler_file), "--host", "127.0.0.1",
            "--nworkers", "1", "--nthreads", str(threads), "--no-nanny", "--no-dashboard",
            "--name", name,
            "--local-directory", str(self.dir / name), "--death-timeout", "60",
        ])

    def log(self, name: str) -> str:
        return (self.dir / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        # Workers first, then the scheduler; terminate, then kill what is left.
        for name in sorted(self.procs, key=lambda n: n == "scheduler"):
            proc = self.procs[name]
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


class Farm(tuple):
    """(source URL, reference target URL, reference summary, reference rows); its repr
    leaves the URLs (and their password) out of test reports."""

    def __new__(cls, *items):
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        return f"Farm(<source>, <reference target>, {self[2]!r}, <{len(self[3][0])} rows>)"


def fresh_target(dbs) -> str:
    tgt = dbs.new("tgt")
    windcore.init(target=tgt)
    return tgt


def max_overlap(intervals) -> int:
    """The most intervals [start, end) open at once."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


# --- A connector API that cuts its stream ---------------------------------------------


class FakeApi:
    """windcore's connector API (GET /info, GET /data as an Arrow stream) over an embedded
    store's source files, in a thread; the first `cut` /data responses are cut off in the
    middle of their body (the header promises the whole length)."""

    def __init__(self, store: pathlib.Path, cut: int = 0) -> None:
        import polars as pl

        frames = [pl.read_parquet(f) for f in sorted((store / "source").glob("*.parquet"))]
        self.samples = pl.concat(frames)
        self.cut = cut
        self.requests: list[str] = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                api.handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, h) -> None:
        import urllib.parse

        import polars as pl
        import pyarrow as pa

        url = urllib.parse.urlsplit(h.path)
        if url.path == "/info":
            body = json.dumps({"variables": ["wind_speed", "power"]}).encode()
            ctype = "application/json"
        elif url.path == "/data":
            q = urllib.parse.parse_qs(url.query)
            when = lambda k: dt.datetime.fromisoformat(q[k][0].replace("Z", "+00:00"))  # noqa: E731
            names = q["variables"][0].split(",")
            ts = pl.col("timestamp")
            frame = self.samples.filter((ts >= when("start")) & (ts < when("end")))
            table = frame.select(["timestamp", *names]).to_arrow()
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            body, ctype = sink.getvalue().to_pybytes(), "application/vnd.apache.arrow.stream"
            self.requests.append(q["start"][0])
        else:
            h.send_error(404)
            return
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if url.path == "/data" and self.cut > 0:
            self.cut -= 1
            h.wfile.write(body[: len(body) // 2])  # and the connection closes: cut
            return
        h.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
