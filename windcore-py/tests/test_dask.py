"""windcore.dask on a real local Dask cluster: a `dask scheduler` on 127.0.0.1 and two
stock `dask worker` processes (no --resources; started here, stopped by PID), against a
real PostgreSQL (WINDCORE_TEST_DATABASE_URL; scripts/test starts one).

The scheduler and the workers cannot import psycopg2 at all, and windcore's own modules
cannot import it in this process either (tests/no_psycopg2): windcore.dask needs no
database driver. The tests themselves use psycopg2 to set up and check the databases."""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

import windcore

distributed = pytest.importorskip("distributed")
import windcore.dask  # noqa: E402  (needs distributed)
from dask_support import (  # noqa: E402  (the tests' folder is on the path: conftest.py)
    NO_PSYCOPG2,
    no_psycopg2,
    DAYS,
    TURBINES,
    START,
    END,
    LAYOUT,
    K,
    Databases,
    query,
    db_name,
    target_rows,
    ConnectionSampler,
    LocalCluster,
    Farm,
    fresh_target,
    max_overlap,
    FakeApi,
)


@pytest.fixture(scope="module", autouse=True)
def code_without_psycopg2():
    """windcore's modules cannot import psycopg2 in this process while these tests run."""
    no_psycopg2.install("code")
    yield
    no_psycopg2.uninstall()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = LocalCluster(tmp_path_factory.mktemp("dask"))
    client = None
    try:
        c.add_worker("w1")
        c.add_worker("w2")
        client = distributed.Client(c.address, timeout=60)
        client.wait_for_workers(2, timeout=90)
        yield c, client
    finally:
        if client is not None:
            client.close()
        c.stop()


@pytest.fixture
def dask_cluster(cluster):
    """The cluster with two live workers (a test may have killed one)."""
    c, client = cluster
    live = [n for n, p in c.procs.items() if n != "scheduler" and p.poll() is None]
    for i in range(2 - len(live)):
        c.add_worker(f"w{len(c.procs) + i}")
    client.wait_for_workers(2, timeout=90)
    return c, client


@pytest.fixture(scope="module")
def dbs():
    d = Databases()
    yield d
    d.drop()


@pytest.fixture(scope="module")
def farm(dbs):
    """A 30-day x 5-turbine source, and the reference target: windcore.run in-process."""
    src, ref = dbs.new("src"), dbs.new("ref")
    rows = windcore.generate(days=DAYS, start=START, turbines=len(TURBINES), source=src, **LAYOUT)
    assert rows == DAYS * len(TURBINES) * 1440
    windcore.init(target=ref)
    summary = windcore.run(start=START, end=END, source=src, target=ref, **LAYOUT)
    assert summary.ok and summary.days_loaded == DAYS
    return Farm(src, ref, summary, target_rows(ref))


# --- The tests --------------------------------------------------------------------------


def test_run_equals_windcore_run_on_two_workers_within_the_db_limit(dask_cluster, farm, dbs):
    c, client = dask_cluster
    src, ref, ref_summary, ref_rows = farm
    tgt = fresh_target(dbs)
    with ConnectionSampler(src, tgt) as sampler:
        summary = windcore.dask.run(
            client, start=START, end=END, source=src, target=tgt, asset_batch_size=2,
            db_tasks=K, **LAYOUT
        )
    assert isinstance(summary, windcore.dask.DaskRunSummary)

    # Identical to windcore.run into another target: every statistic and load record.
    assert target_rows(tgt) == ref_rows
    # The same totals as windcore.run.
    for name in ("days", "days_loaded", "rows_in", "rows_out", "windows", "missing", "duplicates"):
        assert getattr(summary, name) == getattr(ref_summary, name), name
    assert summary.ok and summary.failed_days == [] and summary.days_to_rerun == []
    assert summary.signals == ref_summary.signals
    assert "***" in summary.source or "@" not in summary.source
    assert [r.day for r in summary.reports] == [dt.date(2024, 1, d) for d in range(1, 31)]
    assert {r.outcome for r in summary.reports} == {"loaded"}
    assert all(r.tasks == 3 and r.rows_in == 5 * 1440 for r in summary.reports)
    json.dumps(summary.to_dict())

    # (day, asset batch) tasks: the assets were listed from the source, two by two.
    assert len(summary.tasks) == DAYS * 3
    assert {t.assets for t in summary.tasks} == {("T01", "T02"), ("T03", "T04"), ("T05",)}
    # Both worker processes did work.
    assert len(summary.by_worker) == 2, summary.by_worker
    assert all(len(tasks) >= 5 for tasks in summary.by_worker.values()), summary.to_dict()["by_worker"]
    worker_pids = {p.pid for name, p in c.procs.items() if name != "scheduler" and p.poll() is None}
    assert {t.pid for t in summary.tasks} == worker_pids
    assert sum(len(t) for t in summary.by_worker.values()) == DAYS * 3

    # The bound on tasks touching the databases at once, across the cluster: 2 workers x 2
    # threads, but never more than K tasks at work at any moment (the tasks record their
    # start and end while they hold their lease) ...
    assert max_overlap([(t.started, t.finished) for t in summary.tasks]) <= K
    assert any(t.waited > 0.01 for t in summary.tasks)  # the 3rd and 4th threads waited
    # ... and PostgreSQL saw at most 2 connections per task and database.
    assert sampler.samples > 20
    assert 1 <= sampler.peak[db_name(src)] <= 2 * K, sampler.peak
    assert 1 <= sampler.peak[db_name(tgt)] <= 2 * K, sampler.peak
    print(f"\npeak windcore connections: {sampler.peak} over {sampler.samples} samples")

    # A re-run changes nothing.
    signal_ids = query(tgt, "select id, asset, name from signal order by id")
    again = windcore.dask.run(
        client, start=START, end=END, source=src, target=tgt, asset_batch_size=2, **LAYOUT
    )
    assert again.ok and again.rows_out == summary.rows_out
    assert target_rows(tgt) == ref_rows
    assert query(tgt, "select id, asset, name from signal order by id") == signal_ids


def test_without_the_bound_the_threads_are_the_limit(dask_cluster, farm, dbs):
    """The control of the test above: with db_tasks=None, the 2 x 2 threads run more
    than 2 tasks at once -- it is the semaphore that bounds them."""
    _, client = dask_cluster
    src, _, _, _ = farm
    tgt = fresh_target(dbs)
    summary = windcore.dask.run(
        client, start="2024-01-01", end="2024-01-12", source=src, target=tgt, db_tasks=None,
        **LAYOUT
    )
    assert summary.ok and summary.days_loaded == 12 and len(summary.tasks) == 12  # a task per day
    assert max_overlap([(t.started, t.finished) for t in summary.tasks]) > 2


def test_failed_day_is_named_and_a_rerun_of_it_completes(dask_cluster, farm, dbs):
    _, client = dask_cluster
    src, ref, _, ref_rows = farm
    tgt = fresh_target(dbs)
    # The target refuses 2024-01-03's statistics: a database error (retried, then reported).
    query(tgt, """
        create function refuse() returns trigger language plpgsql as $$
        begin raise exception 'refused by a test trigger'; end $$;
        create trigger refuse before insert on data for each row
        when (new.timestamp >= '2024-01-03 00:00+00' and new.timestamp < '2024-01-04 00:00+00')
        execute function refuse();
    """)
    with pytest.raises(windcore.PipelineError) as info:
        windcore.dask.run(
            client, start="2024-01-01", end="2024-01-04", source=src, target=tgt,
            assets=TURBINES, asset_batch_size=3, retries=1, **LAYOUT
        )
    err = info.value
    assert err.days_to_rerun == [dt.date(2024, 1, 3)] == err.failed_days
    assert err.day == dt.date(2024, 1, 3)
    assert "re-run these 1 day(s): 2024-01-03" in str(err)
    assert "refused by a test trigger" in str(err)
    assert isinstance(err.__cause__, windcore.dask.TaskError)
    assert [(d, b) for d, b, _ in err.failed_tasks] == [
        (dt.date(2024, 1, 3), ("T01", "T02", "T03")),
        (dt.date(2024, 1, 3), ("T04", "T05")),
    ]
    summary = err.summary
    assert not summary.ok and summary.days_loaded == 3
    assert [r.outcome for r in summary.reports] == ["loaded", "loaded", "failed", "loaded"]
    assert summary.to_dict()["days_to_rerun"] == ["2024-01-03"]

    # Fixed, the days to re-run go again.
    query(tgt, "drop trigger refuse on data")
    again = windcore.dask.run(
        client, days=err.days_to_rerun, source=src, target=tgt, assets=TURBINES,
        asset_batch_size=3, **LAYOUT
    )
    assert again.ok and again.days == 1 and again.days_loaded == 1
    first_four = lambda rows: [r for r in rows if r[2] < dt.datetime(2024, 1, 5, tzinfo=dt.timezone.utc)]  # noqa: E731
    data, loads = target_rows(tgt)
    assert data == first_four(ref_rows[0])
    assert loads == [r for r in ref_rows[1] if r[1] < dt.date(2024, 1, 5)]


def test_config_errors(dask_cluster, farm, tmp_path):
    _, client = dask_cluster
    src, ref, _, _ = farm
    # The optional worker resource: no stock worker offers it.
    with pytest.raises(windcore.ConfigError, match=r'--resources "gpu=2"'):
        windcore.dask.run(client, date="2024-01-01", source=src, target=ref, resource="gpu", **LAYOUT)
    with pytest.raises(windcore.ConfigError, match="db_tasks"):
        windcore.dask.run(client, date="2024-01-01", source=src, target=ref, db_tasks=0, **LAYOUT)
    # A setting every task rejects is a ConfigError, not days to re-run (and not retried).
    with pytest.raises(windcore.ConfigError, match="mode"):
        windcore.dask.run(client, start="2024-01-01", end="2024-01-02", source=src, target=ref,
                          stats=["mean", "mode"], **LAYOUT)
    with pytest.raises(windcore.ConfigError, match="days"):
        windcore.dask.run(client, source=src, target=ref)
    with pytest.raises(windcore.ConfigError, match="range"):
        windcore.dask.run(client, start="2024-01-03", end="2024-01-01", source=src)
    with pytest.raises(windcore.ConfigError, match="together"):
        windcore.dask.run(client, start="2024-01-03", source=src)
    with pytest.raises(windcore.ConfigError, match="PostgreSQL target"):
        windcore.dask.run(client, date="2024-01-01", source=str(tmp_path), asset_batch_size=2)
    with pytest.raises(windcore.ConfigError, match="assets"):
        windcore.dask.run(client, date="2024-01-01", source=src, target=ref, asset_batch_size=2)
    with pytest.raises(TypeError, match="colour"):
        windcore.dask.run(client, date="2024-01-01", source=src, colour="red")


def test_embedded_store_one_task_per_day(dask_cluster, tmp_path, monkeypatch):
    _, client = dask_cluster
    store = tmp_path / "store"
    windcore.generate(days=3, start="2024-02-01", source=str(store), turbines=2)
    # A relative directory is the client's: made absolute for the workers (whose working
    # directory is another one).
    monkeypatch.chdir(tmp_path)
    summary = windcore.dask.run(client, start="2024-02-01", end="2024-02-04", source="store")
    assert summary.days == 4 and summary.days_loaded == 3
    assert summary.empty_days == [dt.date(2024, 2, 4)]
    assert sorted(p.name for p in (store / "target").glob("*.parquet")) == [
        "2024-02-01.parquet", "2024-02-02.parquet", "2024-02-03.parquet"
    ]


def test_kill_9_of_a_worker_mid_run_still_completes_identically(dask_cluster, farm, dbs):
    c, client = dask_cluster
    src, ref, _, ref_rows = farm
    tgt = fresh_target(dbs)
    by_pid = {p.pid: name for name, p in c.procs.items() if name != "scheduler" and p.poll() is None}
    killed: dict = {}

    def on_task(record: windcore.dask.TaskRecord) -> None:
        if killed or len(seen) < 10:
            seen.append(record)
            return
        seen.append(record)
        # The worker that just finished a task is on its next one: note the task(s) it
        # is executing, then kill -9 it.
        executing = []
        for _ in range(200):
            executing = client.run(
                lambda dask_worker: sorted(ts.key for ts in dask_worker.state.executing),
                workers=[record.worker],
            ).get(record.worker, [])
            if executing:
                break
            time.sleep(0.005)
        killed.update(pid=record.pid, worker=record.worker, in_flight=executing)
        os.kill(record.pid, signal.SIGKILL)

    seen: list = []
    summary = windcore.dask.run(
        client, start=START, end=END, source=src, target=tgt, asset_batch_size=2,
        on_task=on_task, **LAYOUT
    )
    assert killed and killed["pid"] in by_pid
    assert c.procs[by_pid[killed["pid"]]].wait(timeout=10) == -signal.SIGKILL
    # The run ended complete, and the target is identical to windcore.run's.
    assert summary.ok and summary.days_loaded == DAYS and len(summary.tasks) == DAYS * 3
    assert target_rows(tgt) == ref_rows
    # Both workers did work; the tasks the killed one had in flight were done by the other.
    assert len(summary.by_worker) == 2
    assert killed["in_flight"], "the killed worker had no task in flight"
    survivor = next(w for w in summary.by_worker if w != killed["worker"])
    done_by_survivor = {t for t in summary.by_worker[survivor]}
    batches = [("T01", "T02"), ("T03", "T04"), ("T05",)]
    print(f"\nkill -9 of pid {killed['pid']} while it executed {killed['in_flight']}; "
          f"tasks per worker: {summary.to_dict()['by_worker']}")
    for key in killed["in_flight"]:  # windcore-<day>-<batch>-<run>
        day, batch = key[len("windcore-"):][:10], batches[int(key.split("-")[4])]
        assert (day, batch) in done_by_survivor, key


# --- Retries follow windcore's typed errors ---------------------------------------------


def test_exception_tree_and_transient():
    assert issubclass(windcore.ProtocolError, windcore.DatabaseError)
    assert issubclass(windcore.SchemaError, windcore.DatabaseError)
    assert issubclass(windcore.DataError, (windcore.WindcoreError, ValueError))
    for cls in (windcore.DatabaseError, windcore.ProtocolError, windcore.StoreError):
        assert cls.transient and windcore.is_transient(cls("x")), cls
    for cls in (windcore.ConfigError, windcore.ColumnError, windcore.DataError,
                windcore.SchemaError, windcore.WindcoreError):
        assert not cls.transient and not windcore.is_transient(cls("x")), cls
    assert not windcore.is_transient(ValueError("x"))
    err = windcore.PipelineError("day failed")
    assert not err.transient
    err.__cause__ = windcore.ProtocolError("cut")
    assert err.transient and windcore.is_transient(err)


def test_a_task_retries_transient_errors_and_stops_at_final_ones(farm, dbs):
    """The decision is the task's (run in-process here): a transient error raises
    TaskError, so that Dask runs the task again; a final one is returned at once."""
    src, _, _, _ = farm
    # An unreachable database: transient.
    with pytest.raises(windcore.dask.TaskError, match="DatabaseError"):
        windcore.dask._task("2024-01-01", None, dict(
            source="postgres://windcore@127.0.0.1:1/nothing", target=fresh_target(dbs), **LAYOUT
        ))
    # A sample without its asset: bad data, final (a DataError, no longer a ConfigError).
    bad = dbs.new("nullasset")
    query(bad, "create table scada (turbine_id text, ts timestamptz, power float8); "
               "insert into scada values ('T01', '2024-01-01 12:00+00', 1), "
               "(null, '2024-01-01 12:00:30+00', 2)")
    layout = dict(LAYOUT, variables=["power"])
    with pytest.raises(windcore.PipelineError) as info:
        windcore.run(date="2024-01-01", source=bad, target=fresh_target(dbs), **layout)
    assert isinstance(info.value.__cause__, windcore.DataError), info.value
    assert info.value.__cause__.transient is False and not info.value.transient
    record = windcore.dask._task(
        "2024-01-01", None, dict(source=bad, target=fresh_target(dbs), **layout)
    )
    assert record["error_class"] is windcore.DataError and "no asset" in record["error"]


def test_passwords_are_masked_by_windcore():
    masked = windcore.mask_password("postgres://etl:s3cret@db.example:5432/scada")
    assert "s3cret" not in masked and masked == "postgres://etl:***@db.example:5432/scada"
    kv = windcore.mask_password("host=db.example user=etl password=s3cret dbname=scada")
    assert "s3cret" not in kv and "password=***" in kv and "dbname=scada" in kv
    query_form = windcore.mask_password("postgres://db.example/scada?user=etl&password=s3cret")
    assert "s3cret" not in query_form
    for text in ("postgres://etl:s3cret@db/x", "host=db password=s3cret"):
        assert "s3cret" not in windcore.dask._mask(text)
    # No regex of its own left in windcore.dask (a package: every module of it).
    for module in pathlib.Path(windcore.dask.__file__).parent.glob("*.py"):
        assert "re.sub" not in module.read_text(), module


# --- No psycopg2 -------------------------------------------------------------------------

NO_DRIVER_RUN = """
import json, sys
import windcore.dask
try:
    import psycopg2  # noqa: F401
except ImportError:
    pass
else:
    sys.exit("psycopg2 is importable")
args = json.loads(sys.argv[1])
summary = windcore.dask.run(args.pop("scheduler"), **args)
print(json.dumps({"ok": summary.ok, "tasks": len(summary.tasks),
                  "assets": sorted({t.assets for t in summary.tasks})}))
"""


def test_windcore_dask_runs_where_psycopg2_cannot_be_imported(dask_cluster, farm, dbs, tmp_path):
    """A client process that cannot import psycopg2 (a sys.meta_path finder), on workers
    that cannot either: the assets are listed by windcore itself."""
    c, _ = dask_cluster
    src, _, _, ref_rows = farm
    tgt = fresh_target(dbs)
    env = dict(os.environ, WINDCORE_NO_PSYCOPG2="all")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(NO_PSYCOPG2), env.get("PYTHONPATH")) if p)
    args = dict(scheduler=c.address, start="2024-01-01", end="2024-01-03", source=src,
                target=tgt, asset_batch_size=2, db_tasks=K, **LAYOUT)
    out = subprocess.run([sys.executable, "-c", NO_DRIVER_RUN, json.dumps(args)], env=env,
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"ok": True, "tasks": 9,
                      "assets": [["T01", "T02"], ["T03", "T04"], ["T05"]]}
    first_three = lambda rows: [r for r in rows if r[2] < dt.datetime(2024, 1, 4, tzinfo=dt.timezone.utc)]  # noqa: E731
    assert target_rows(tgt)[0] == first_three(ref_rows[0])


def test_source_assets_and_target_windows(farm):
    src, ref, _, _ = farm
    assert windcore.source_assets(src, START, END, **LAYOUT) == TURBINES
    assert windcore.source_assets(src, "2025-01-01", "2025-01-02", **LAYOUT) == []
    w = windcore.target_windows(ref, "2024-01-01", "2024-01-02")
    assert w == {"day": [dt.date(2024, 1, 1)] * 5 + [dt.date(2024, 1, 2)] * 5,
                 "asset": TURBINES * 2, "windows": [144] * 10}
    # A local day of Berlin: the first one starts at 23:00 UTC the day before.
    w = windcore.target_windows(ref, "2024-01-01", "2024-01-01", timezone="Europe/Berlin")
    assert w["windows"] == [138] * 5


# --- A cut stream is retried ---------------------------------------------------------------


def test_a_cut_stream_is_retried_and_the_run_is_complete(dask_cluster, dbs, tmp_path):
    _, client = dask_cluster
    store = tmp_path / "store"
    windcore.generate(days=2, start="2024-03-01", source=str(store))
    uncut, cut = FakeApi(store), FakeApi(store, cut=1)
    try:
        # The reference: windcore.run over the uncut API.
        ref = fresh_target(dbs)
        reference = windcore.run(start="2024-03-01", end="2024-03-02", source=uncut.url, target=ref)
        assert reference.ok and reference.rows_in == 2 * 1440
        # A cut stream is a ProtocolError: transient.
        with pytest.raises(windcore.PipelineError) as info:
            windcore.run(date="2024-03-01", source=FakeApi(store, cut=1).url, target=ref)
        assert isinstance(info.value.__cause__, windcore.ProtocolError), info.value
        assert info.value.transient

        tgt = fresh_target(dbs)
        summary = windcore.dask.run(
            client, start="2024-03-01", end="2024-03-02", source=cut.url, target=tgt,
            retries=2, db_tasks=K,
        )
        assert summary.ok and summary.days_loaded == 2 and summary.rows_in == 2 * 1440
        # The first response was cut and its day asked for again.
        assert len(cut.requests) == 3 and cut.cut == 0
        assert sorted(cut.requests) == sorted(cut.requests[:1] + uncut.requests)
        assert target_rows(tgt) == target_rows(ref)
    finally:
        uncut.close()
        cut.close()


def test_a_plain_local_cluster(tmp_path):
    """windcore.dask.run on `Client(LocalCluster())`, as it comes: nothing to configure."""
    store = tmp_path / "store"
    windcore.generate(days=2, start="2024-02-01", source=str(store), turbines=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as lc:
        with distributed.Client(lc) as client:
            summary = windcore.dask.run(client, start="2024-02-01", end="2024-02-02",
                                        source=str(store))
    assert summary.ok and summary.days_loaded == 2 and summary.rows_in == 2 * 2 * 1440
