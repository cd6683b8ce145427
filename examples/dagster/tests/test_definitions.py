"""The Dagster project against a real, throwaway PostgreSQL (scripts/test starts one)."""

import datetime as dt
import os
import uuid

import dagster as dg
import psycopg2
import pytest
import windcore

from windcore_dagster.definitions import (
    SourceDatabase,
    TargetDatabase,
    defs,
    wind_statistics,
    wind_statistics_schedule,
)


def admin_url() -> str:
    url = os.environ.get("WINDCORE_TEST_DATABASE_URL")
    if not url:
        pytest.fail("WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test")
    return url


def fresh_db(tag: str) -> str:
    admin = admin_url()
    name = f"wcdag_{tag}_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    conn.cursor().execute(f"create database {name}")
    conn.close()
    return admin.rsplit("/", 1)[0] + "/" + name


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


@pytest.fixture(scope="module")
def dbs():
    src, tgt = fresh_db("src"), fresh_db("tgt")
    windcore.init(source=src, target=tgt)
    windcore.generate(days=4, start="2024-01-01", source=src)
    # A gap: 30 minutes missing on 2024-01-04.
    query(src, "delete from data where timestamp >= '2024-01-04 06:00+00' and timestamp < '2024-01-04 06:30+00'")
    return src, tgt


def resources(src, tgt):
    return {"source": SourceDatabase(url=src), "target": TargetDatabase(url=tgt)}


def target_rows(tgt):
    return query(
        tgt,
        "select s.name, d.timestamp, d.value from data d join signal s on s.id = d.signal_id order by 1, 2",
    )


def check_passed(result) -> bool:
    evals = result.get_asset_check_evaluations()
    assert len(evals) == 1
    return evals[0].passed


def test_definitions_load():
    assert defs.resolve_job_def("wind_statistics_job").partitions_def is not None
    assert defs.resolve_assets_def("wind_statistics") is not None
    assert {s.name for s in defs.schedules} == {wind_statistics_schedule.name}


def test_materialize_two_partitions_then_again_changes_nothing(dbs):
    src, tgt = dbs
    for day in ("2024-01-01", "2024-01-02"):
        result = dg.materialize([wind_statistics], partition_key=day, resources=resources(src, tgt))
        assert result.success
        assert check_passed(result)
        meta = result.asset_materializations_for_node("wind_statistics")[0].metadata
        assert meta["rows_in"].value == 1440
        assert meta["windows"].value == 144
    per_day = query(
        tgt,
        "select (timestamp at time zone 'UTC')::date::text, count(*) from data group by 1 order by 1",
    )
    assert per_day == [("2024-01-01", 1152), ("2024-01-02", 1152)]
    # The numbers are PostgreSQL's own date_bin + avg of the source.
    expected = query(
        src,
        "select avg(power) from data where timestamp >= '2024-01-02 00:00+00' and timestamp < '2024-01-02 00:10+00'",
    )[0][0]
    got = query(
        tgt,
        "select value from data d join signal s on s.id = d.signal_id "
        "where s.name = 'power_mean' and timestamp = '2024-01-02 00:00+00'",
    )[0][0]
    assert got == pytest.approx(expected, rel=1e-9)

    before = target_rows(tgt)
    again = dg.materialize([wind_statistics], partition_key="2024-01-02", resources=resources(src, tgt))
    assert again.success
    assert target_rows(tgt) == before


def test_check_fails_on_a_day_with_a_gap(dbs):
    src, tgt = dbs
    ok = dg.materialize([wind_statistics], partition_key="2024-01-03", resources=resources(src, tgt))
    assert check_passed(ok)
    gap = dg.materialize([wind_statistics], partition_key="2024-01-04", resources=resources(src, tgt))
    assert gap.success
    assert not check_passed(gap)
    evaluation = gap.get_asset_check_evaluations()[0]
    assert evaluation.metadata["windows"].value == 141


def test_schedule_runs_the_previous_complete_day():
    ctx = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2024, 3, 10, 0, 15, tzinfo=dt.timezone.utc)
    )
    schedule = defs.resolve_schedule_def(wind_statistics_schedule.name)
    requests = list(schedule.evaluate_tick(ctx).run_requests or [])
    assert [r.partition_key for r in requests] == ["2024-03-09"]
