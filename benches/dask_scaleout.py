"""windcore.dask on 1 vs 2 Dask workers on this machine, with the per-task overhead.

Usage (a PostgreSQL server: WINDCORE_BENCH_DATABASE_URL or WINDCORE_TEST_DATABASE_URL,
e.g. from ``source scripts/pg.sh && start_postgres``; the venv of requirements-dev.txt
with windcore installed)::

    python benches/dask_scaleout.py [--days 30] [--turbines 10] [--batch 5] [--rounds 3]

A farm of ``--turbines`` turbines x ``--days`` days of 1-minute samples is generated into a
throwaway source database. Then, ``--rounds`` times, each into a fresh target database:

* ``windcore.run`` in this process over the range, ``jobs=1`` and ``jobs=2`` (the reference);
* ``windcore.dask.run`` with ``asset_batch_size=--batch`` on a real cluster of processes
  on 127.0.0.1 -- a ``dask scheduler`` and 1, then 2 ``dask worker`` processes
  (``--nthreads 1 --resources windcore_db=1 --no-nanny``; the second one started for the
  round and retired after it), warmed up (windcore imported on every worker, one untimed
  run) before any timing;
* 200 empty tasks with the same resource restriction (Dask's own cost per task).

Printed: wall seconds, best and worst of the rounds, the speed-up of 2 workers over 1, and
the per-task overhead, in three parts:

* ``dask`` = (wall x workers - the tasks' wall time on the workers) / tasks: the time per
  task a worker slot spent outside its task (scheduling, shipping the key and the result,
  the tail of the run where a slot has nothing left to do);
* ``setup`` = median over the tasks of (task wall time on the worker - windcore's own
  ``elapsed_seconds``): what each ``windcore.run`` call pays before its day starts --
  opening its connections and reading the source layout -- which a multi-day run in one
  process pays once;
* ``empty`` = (wall x workers) / tasks of 200 empty tasks: Dask's own floor per task.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg2
import windcore
import windcore.dask
from distributed import Client

LAYOUT = dict(table="scada", time_column="ts", asset_column="turbine_id")
DASK = str(pathlib.Path(sys.executable).parent / "dask")


def admin_url() -> str:
    url = os.environ.get("WINDCORE_BENCH_DATABASE_URL") or os.environ.get("WINDCORE_TEST_DATABASE_URL")
    if not url:
        sys.exit("set WINDCORE_BENCH_DATABASE_URL or WINDCORE_TEST_DATABASE_URL (source scripts/pg.sh && start_postgres)")
    return url


class Databases:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.conn = psycopg2.connect(admin_url())
        self.conn.autocommit = True

    def new(self, tag: str) -> str:
        name = f"wcbench_{tag}_{uuid.uuid4().hex[:8]}"
        self.conn.cursor().execute(f"create database {name}")
        self.names.append(name)
        return admin_url().rsplit("/", 1)[0] + "/" + name

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.conn.cursor().execute(f"drop database if exists {name} with (force)")
        self.names.remove(name)

    def drop_all(self) -> None:
        for name in list(self.names):
            self.conn.cursor().execute(f"drop database if exists {name} with (force)")
        self.conn.close()


class Cluster:
    """`dask scheduler` + `dask worker` processes on 127.0.0.1, stopped by PID."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.dir = directory
        self.file = directory / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(self.file)])
        deadline = time.time() + 60
        while True:
            try:
                self.address = json.loads(self.file.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                if time.time() > deadline:
                    raise RuntimeError("the scheduler did not start")
                time.sleep(0.1)

    def _start(self, name: str, args: list[str]) -> None:
        with open(self.dir / f"{name}.log", "wb") as log:
            self.procs.append(subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.dir))

    def add_worker(self, name: str) -> None:
        self._start(name, ["worker", "--scheduler-file", str(self.file), "--host", "127.0.0.1",
                           "--nworkers", "1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                           "--resources", "windcore_db=1", "--name", name,
                           "--local-directory", str(self.dir / name)])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def _noop(i: int) -> int:
    return i


def _import_windcore() -> str:
    import windcore.dask  # noqa: F401

    return windcore.__version__


def empty_tasks(client: Client, n: int = 200) -> float:
    t = time.perf_counter()
    futures = client.map(_noop, range(n), resources={"windcore_db": 1}, pure=False)
    client.gather(futures)
    del futures
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--turbines", type=int, default=10)
    ap.add_argument("--batch", type=int, default=5,
                    help="asset_batch_size of windcore.dask.run (0: one task per day)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    batch = args.batch or None
    start = "2024-01-01"
    end = (datetime.date.fromisoformat(start) + datetime.timedelta(days=args.days - 1)).isoformat()

    dbs = Databases()
    tmp = tempfile.TemporaryDirectory(prefix="wc-dask-bench-")
    cluster = Cluster(pathlib.Path(tmp.name))
    client = None
    results: dict[str, list[dict]] = {}
    try:
        src = dbs.new("src")
        t = time.perf_counter()
        rows = windcore.generate(days=args.days, start=start, turbines=args.turbines, source=src, **LAYOUT)
        print(f"farm: {args.turbines} turbines x {args.days} days = {rows:,} rows "
              f"(generated in {time.perf_counter() - t:.1f} s); "
              f"{f'tasks of {batch} turbines' if batch else 'a task per day'}", flush=True)
        print(f"load average at start: {os.getloadavg()}", flush=True)

        cluster.add_worker("w1")
        client = Client(cluster.address, timeout=60)
        client.wait_for_workers(1, timeout=90)
        (first_worker,) = client.scheduler_info(n_workers=-1)["workers"]

        def record(name: str, **values) -> None:
            results.setdefault(name, []).append(values)

        def reference(jobs: int) -> None:
            tgt = dbs.new("ref")
            windcore.init(target=tgt)
            t = time.perf_counter()
            s = windcore.run(start=start, end=end, source=src, target=tgt, jobs=jobs, **LAYOUT)
            wall = time.perf_counter() - t
            assert s.ok and s.days_loaded == args.days
            record(f"windcore.run jobs={jobs}", wall=wall, rows_out=s.rows_out)
            dbs.drop(tgt)

        def dask_run(workers: int) -> None:
            tgt = dbs.new("tgt")
            windcore.init(target=tgt)
            s = windcore.dask.run(client, start=start, end=end, source=src, target=tgt,
                                  asset_batch_size=batch, **LAYOUT)
            assert s.ok and s.days_loaded == args.days and len(s.by_worker) == workers
            tasks = len(s.tasks)
            busy = sum(t.seconds for t in s.tasks)
            record(
                f"windcore.dask {workers} worker(s)",
                wall=s.elapsed_seconds,
                tasks=tasks,
                rows_out=s.rows_out,
                busy=busy,
                dask=(s.elapsed_seconds * workers - busy) / tasks,
                setup=statistics.median(t.seconds - t.work_seconds for t in s.tasks),
                task_median=statistics.median(t.seconds for t in s.tasks),
                per_worker={w: len(v) for w, v in s.by_worker.items()},
            )
            dbs.drop(tgt)

        def empty(workers: int) -> None:
            n = 200
            wall = empty_tasks(client, n)
            record(f"200 empty tasks, {workers} worker(s)", wall=wall, per_task=wall * workers / n)

        def warm_up() -> None:
            # windcore imported on every worker, then one untimed run.
            client.run(_import_windcore)
            empty_tasks(client, 20)
            tgt = dbs.new("warm")
            windcore.init(target=tgt)
            windcore.dask.run(client, start=start, end=start, source=src, target=tgt,
                              asset_batch_size=batch, **LAYOUT)
            dbs.drop(tgt)

        # The configurations alternate within each round, so that the machine's
        # drifting load hits them alike.
        for r in range(args.rounds):
            reference(1)
            reference(2)
            warm_up()
            dask_run(1)
            empty(1)
            cluster.add_worker(f"w{r + 2}")
            client.wait_for_workers(2, timeout=90)
            warm_up()
            dask_run(2)
            empty(2)
            # Back to one worker: the second one retires (its process exits).
            second = [w for w in client.scheduler_info(n_workers=-1)["workers"] if w != first_worker]
            client.retire_workers(second, close_workers=True)
            deadline = time.time() + 60
            while len(client.scheduler_info(n_workers=-1)["workers"]) > 1 and time.time() < deadline:
                time.sleep(0.1)
            print(f"  round {r + 1}/{args.rounds} done (load average {os.getloadavg()[0]:.1f})", flush=True)
        print(f"load average at end: {os.getloadavg()}", flush=True)
    finally:
        if client is not None:
            client.close()
        cluster.stop()
        dbs.drop_all()
        tmp.cleanup()

    print()
    print("| what | best s | worst s | tasks | per task (best..worst) |")
    print("|---|---:|---:|---:|---|")
    for name, runs in results.items():
        walls = [r["wall"] for r in runs]
        extra = ""
        tasks = runs[0].get("tasks", "")
        if "dask" in runs[0]:
            ms = lambda key: [r[key] * 1000 for r in runs]  # noqa: E731
            tm, dk, su = ms("task_median"), ms("dask"), ms("setup")
            extra = (f"median task {min(tm):.0f}..{max(tm):.0f} ms, of which setup "
                     f"{min(su):.0f}..{max(su):.0f} ms; dask {min(dk):.1f}..{max(dk):.1f} ms")
        elif "per_task" in runs[0]:
            pt = [r["per_task"] * 1000 for r in runs]
            extra = f"{min(pt):.2f}..{max(pt):.2f} ms per task-slot"
            tasks = 200
        print(f"| {name} | {min(walls):.3f} | {max(walls):.3f} | {tasks} | {extra} |")
    d1 = [r["wall"] for r in results["windcore.dask 1 worker(s)"]]
    d2 = [r["wall"] for r in results["windcore.dask 2 worker(s)"]]
    j1 = [r["wall"] for r in results["windcore.run jobs=1"]]
    j2 = [r["wall"] for r in results["windcore.run jobs=2"]]
    print()
    print(f"speed-up 2 workers / 1 worker: best-to-best {min(d1) / min(d2):.2f}x, "
          f"worst-to-worst {max(d1) / max(d2):.2f}x")
    print(f"windcore.dask 1 worker / windcore.run jobs=1: best-to-best {min(d1) / min(j1):.2f}x")
    print(f"windcore.dask 2 workers / windcore.run jobs=2: best-to-best {min(d2) / min(j2):.2f}x")
    print("tasks per worker (2 workers):", [r["per_worker"] for r in results["windcore.dask 2 worker(s)"]])


if __name__ == "__main__":
    main()
