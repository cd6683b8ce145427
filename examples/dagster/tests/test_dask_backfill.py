"""The Dask backfill variant against a real local Dask cluster (a `dask scheduler` and two
`dask worker` processes on 127.0.0.1, stopped by PID) and a real, throwaway PostgreSQL."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid

import dagster as dg
import psycopg2
import pytest
import windcore

distributed = pytest.importorskip("distributed")

from windcore_dagster.dask_backfill import (  # noqa: E402
    MAX_PARTITIONS_PER_RUN,
    DaskCluster,
    build_backfill_asset,
    build_dask_definitions,
    defs,
    wind_statistics,
)
from windcore_dagster.definitions import SourceDatabase, TargetDatabase  # noqa: E402

TURBINES = ["T01", "T02", "T03"]
LAYOUT = dict(table="scada", time_column="ts", asset_column="turbine_id")
CHANNELS = dict(variables=["wind_speed", "power", "wind_direction"], angles="wind_direction")
DASK = str(pathlib.Path(sys.executable).parent / "dask")


def admin_url() -> str:
    url = os.environ.get("WINDCORE_TEST_DATABASE_URL")
    if not url:
        pytest.fail("WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test")
    return url


def query(url: str, sql: str):
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else None
        conn.commit()
        return rows
    finally:
        conn.close()


def target_rows(url: str):
    return query(
        url,
        "select s.asset, s.name, d.timestamp, d.value from data d join signal s on s.id = d.signal_id "
        "order by 1, 2, 3",
    )


@pytest.fixture(scope="module")
def dbs():
    admin = admin_url()
    tags = ("src", "ref", "tgt", "reftz", "tgttz")
    names = {tag: f"wcdagdask_{tag}_{uuid.uuid4().hex[:8]}" for tag in tags}
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    for name in names.values():
        conn.cursor().execute(f"create database {name}")
    urls = {tag: admin.rsplit("/", 1)[0] + "/" + name for tag, name in names.items()}
    windcore.generate(days=4, start="2024-01-01", source=urls["src"], turbines=len(TURBINES),
                      **LAYOUT)
    for tag in ("ref", "tgt", "reftz", "tgttz"):
        windcore.init(target=urls[tag])
    yield urls
    for name in names.values():
        conn.cursor().execute(f"drop database if exists {name} with (force)")
    conn.close()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a `dask scheduler` with two `dask worker` processes (windcore_db=1)."""
    tmp = tmp_path_factory.mktemp("dask")
    file = tmp / "scheduler.json"
    procs = []

    def start(name, args):
        with open(tmp / f"{name}.log", "wb") as log:
            procs.append(subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, cwd=tmp))

    try:
        start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                            "--scheduler-file", str(file)])
        for name in ("w1", "w2"):
            start(name, ["worker", "--scheduler-file", str(file), "--host", "127.0.0.1",
                         "--nthreads", "1", "--nworkers", "1", "--no-nanny", "--no-dashboard",
                         "--name", name,
                         "--local-directory", str(tmp / name), "--death-timeout", "60"])
        deadline = time.time() + 60
        address = None
        while address is None:
            assert time.time() < deadline and procs[0].poll() is None, "the scheduler did not start"
            try:
                address = json.loads(file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):  # workers, then the scheduler
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def source_resource(dbs, **options):
    return SourceDatabase(url=dbs["src"], **LAYOUT, **CHANNELS, **options)


def resources(dbs, scheduler, **dask_options):
    return {
        "source": source_resource(dbs),
        "target": TargetDatabase(url=dbs["tgt"]),
        "dask": DaskCluster(scheduler_address=scheduler, **dask_options),
    }


def test_definitions_load():
    assets_def = defs.resolve_assets_def("wind_statistics")
    policy = assets_def.backfill_policy
    assert policy is not None and policy.max_partitions_per_run == MAX_PARTITIONS_PER_RUN
    assert defs.resolve_job_def("wind_statistics_dask_job").partitions_def is not None
    assert "dask" in assets_def.required_resource_keys


def test_three_partitions_in_one_run_on_the_cluster(dbs, scheduler):
    # The reference: windcore.run in-process, the same days and settings.
    windcore.run(start="2024-01-01", end="2024-01-03", source=dbs["src"], target=dbs["ref"],
                 **LAYOUT, **CHANNELS)

    tags = {
        "dagster/asset_partition_range_start": "2024-01-01",
        "dagster/asset_partition_range_end": "2024-01-03",
    }
    result = dg.materialize(
        [wind_statistics], tags=tags, resources=resources(dbs, scheduler, asset_batch_size=2)
    )
    assert result.success
    # One run, one step: the three partitions materialized together.
    assert len(result.get_step_success_events()) == 1
    materializations = result.asset_materializations_for_node("wind_statistics")
    assert sorted(m.partition for m in materializations) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    meta = materializations[0].metadata
    assert (meta["first_day"].value, meta["last_day"].value) == ("2024-01-01", "2024-01-03")
    assert meta["days"].value == 3 and meta["days_loaded"].value == 3
    assert meta["rows_in"].value == 3 * len(TURBINES) * 1440
    assert meta["rows_out"].value == 3 * len(TURBINES) * 144 * 12
    assert meta["tasks"].value == 3 * 2  # batches T01,T02 and T03
    per_worker = meta["tasks_per_worker"].value
    assert sum(per_worker.values()) == 6 and len(per_worker) >= 1
    assert "***" in meta["source"].value
    assert target_rows(dbs["tgt"]) == target_rows(dbs["ref"])

    # Again: nothing changes.
    before = target_rows(dbs["tgt"])
    again = dg.materialize([wind_statistics], tags=tags, resources=resources(dbs, scheduler))
    assert again.success
    assert again.asset_materializations_for_node("wind_statistics")[0].metadata["tasks"].value == 3
    assert target_rows(dbs["tgt"]) == before


def test_a_single_partition_run_and_a_cluster_without_the_resource(dbs, scheduler):
    """Stock workers run it (the bound is a cluster-wide semaphore); asking for a worker
    resource that no worker offers fails at once."""
    one = dg.materialize([wind_statistics], partition_key="2024-01-02",
                         resources=resources(dbs, scheduler))
    assert one.success
    assert one.asset_materializations_for_node("wind_statistics")[0].metadata["days"].value == 1

    bad = dg.materialize([wind_statistics], partition_key="2024-01-02", raise_on_error=False,
                         resources=resources(dbs, scheduler, resource="gpu"))
    assert not bad.success
    assert "--resources" in str(bad.get_step_failure_events()[0].event_specific_data.error)


def test_local_days_of_the_source_zone(dbs, scheduler):
    """Partitions of Berlin days: the run is windcore.run's with timezone=Europe/Berlin."""
    berlin = source_resource(dbs, timezone="Europe/Berlin")
    local = build_dask_definitions(
        berlin, TargetDatabase(url=dbs["tgttz"]), DaskCluster(scheduler_address=scheduler)
    )
    assert local.resolve_assets_def("wind_statistics").partitions_def.timezone == "Europe/Berlin"
    asset = build_backfill_asset("Europe/Berlin")
    tags = {
        "dagster/asset_partition_range_start": "2024-01-02",
        "dagster/asset_partition_range_end": "2024-01-03",
    }
    result = dg.materialize([asset], tags=tags, resources={
        "source": berlin, "target": TargetDatabase(url=dbs["tgttz"]),
        "dask": DaskCluster(scheduler_address=scheduler),
    })
    assert result.success
    meta = result.asset_materializations_for_node("wind_statistics")[0].metadata
    assert meta["timezone"].value == "Europe/Berlin" and meta["days_loaded"].value == 2
    windcore.run(start="2024-01-02", end="2024-01-03", source=dbs["src"], target=dbs["reftz"],
                 timezone="Europe/Berlin", **LAYOUT, **CHANNELS)
    assert target_rows(dbs["tgttz"]) == target_rows(dbs["reftz"])
    # Local days: the first window is 2024-01-01 23:00 UTC.
    assert min(r[2] for r in target_rows(dbs["tgttz"])).isoformat() == "2024-01-01T23:00:00+00:00"

    # A source resource in another zone than the partitions is refused.
    wrong = dg.materialize([asset], partition_key="2024-01-02", raise_on_error=False, resources={
        "source": source_resource(dbs), "target": TargetDatabase(url=dbs["tgttz"]),
        "dask": DaskCluster(scheduler_address=scheduler),
    })
    assert not wrong.success
