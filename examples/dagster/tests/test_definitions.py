"""The Dagster project against a real, throwaway PostgreSQL (scripts/test starts one)."""

import datetime as dt
import os
import re
import urllib.parse
import uuid

import dagster as dg
import psycopg2
import pytest
import windcore

from windcore_dagster.definitions import (
    SourceDatabase,
    TargetDatabase,
    check_all_windows,
    defs,
    wind_statistics,
    wind_statistics_schedule,
    windows_per_turbine,
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
        # The reference layout is one turbine, asset ''.
        assert meta["turbines"].value == 1
        assert meta["windows_per_turbine"].value == {"": 144}
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
    assert evaluation.metadata["incomplete_turbines"].value == {"": 141}
    assert "141 of 144" in evaluation.description


def test_schedule_runs_the_previous_complete_day():
    ctx = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2024, 3, 10, 0, 15, tzinfo=dt.timezone.utc)
    )
    schedule = defs.resolve_schedule_def(wind_statistics_schedule.name)
    requests = list(schedule.evaluate_tick(ctx).run_requests or [])
    # One run over the last 3 complete days (the late-data horizon), ending with the
    # previous day: never the day in progress.
    assert len(requests) == 1
    assert requests[0].partition_key_range == dg.PartitionKeyRange("2024-03-07", "2024-03-09")


# --- A farm: five turbines in a user table scada(turbine_id, ts, ...) -------------------

TURBINES = ["T01", "T02", "T03", "T04", "T05"]


@pytest.fixture(scope="module")
def farm():
    src, tgt = fresh_db("farmsrc"), fresh_db("farmtgt")
    windcore.init(target=tgt)
    # Creates scada(turbine_id text, ts timestamptz, wind_speed, power, ambient_temperature,
    # wind_direction, nacelle_position, energy, state float8).
    windcore.generate(
        days=4, start="2024-01-01", source=src, turbines=5,
        table="scada", time_column="ts", asset_column="turbine_id",
    )
    return src, tgt


def farm_resources(src, tgt, **options):
    return {
        "source": SourceDatabase(
            url=src,
            table="scada",
            time_column="ts",
            asset_column="turbine_id",
            variables=["wind_speed", "power", "wind_direction"],
            angles="wind_direction",
            **options,
        ),
        "target": TargetDatabase(url=tgt),
    }


def farm_target_rows(tgt):
    return query(
        tgt,
        "select s.asset, s.name, d.timestamp, d.value from data d join signal s on s.id = d.signal_id "
        "order by 1, 2, 3",
    )


def windows_in_target(tgt, day):
    return dict(
        query(
            tgt,
            "select s.asset, count(distinct d.timestamp) from data d join signal s on s.id = d.signal_id "
            f"where d.timestamp >= '{day} 00:00+00' and d.timestamp < '{day} 00:00+00'::timestamptz + interval '1 day' "
            "group by 1 order by 1",
        )
    )


def evaluation_of(result):
    evals = result.get_asset_check_evaluations()
    assert len(evals) == 1
    return evals[0]


def turbines_named(text):
    return sorted(set(re.findall(r"T\d\d", text)))


def test_farm_partition_covers_every_turbine_and_again_changes_nothing(farm):
    src, tgt = farm
    day = "2024-01-01"
    result = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert result.success
    meta = result.asset_materializations_for_node("wind_statistics")[0].metadata
    assert meta["windows_per_turbine"].value == {t: 144 for t in TURBINES}
    assert meta["turbines"].value == 5
    assert meta["windows"].value == 5 * 144
    assert meta["rows_in"].value == 5 * 1440
    assert meta["rows_out"].value == 5 * 144 * 12  # 3 variables x 4 statistics
    for counter in ("missing", "duplicates", "sparse_windows", "outside"):
        assert meta[counter].value == 0
    password = urllib.parse.urlsplit(src).password
    assert "(table scada)" in meta["source"].value
    assert not password or password not in meta["source"].value

    evaluation = evaluation_of(result)
    assert evaluation.passed
    assert evaluation.metadata["windows"].value == 720
    assert evaluation.metadata["expected"].value == 720
    assert evaluation.metadata["incomplete_turbines"].value == {}
    assert windows_in_target(tgt, day) == {t: 144 for t in TURBINES}

    # Per turbine, and the direction is an angle: PostgreSQL's own circular mean.
    expected = query(
        src,
        "select degrees(atan2(avg(sin(radians(wind_direction))), avg(cos(radians(wind_direction))))) "
        "from scada where turbine_id = 'T02' and ts >= '2024-01-01 12:00+00' and ts < '2024-01-01 12:10+00'",
    )[0][0]
    got = query(
        tgt,
        "select value from data d join signal s on s.id = d.signal_id "
        "where s.asset = 'T02' and s.name = 'wind_direction_mean' and timestamp = '2024-01-01 12:00+00'",
    )[0][0]
    assert ((got - expected + 180) % 360) - 180 == pytest.approx(0, abs=1e-9)

    before = farm_target_rows(tgt)
    again = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert again.success and evaluation_of(again).passed
    assert farm_target_rows(tgt) == before


def test_farm_check_names_the_turbine_that_lost_an_hour(farm):
    src, tgt = farm
    day = "2024-01-02"
    ok = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert evaluation_of(ok).passed

    query(
        src,
        "delete from scada where turbine_id = 'T03' "
        "and ts >= '2024-01-02 06:00+00' and ts < '2024-01-02 07:00+00'",
    )
    gap = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert gap.success  # the data loaded; the check reports the gap
    evaluation = evaluation_of(gap)
    assert not evaluation.passed
    assert evaluation.metadata["incomplete_turbines"].value == {"T03": 138}
    assert evaluation.metadata["windows"].value == 4 * 144 + 138
    assert turbines_named(evaluation.description) == ["T03"]
    assert "T03 has 138 of 144" in evaluation.description
    meta = gap.asset_materializations_for_node("wind_statistics")[0].metadata
    assert meta["windows_per_turbine"].value == {**{t: 144 for t in TURBINES}, "T03": 138}
    assert windows_in_target(tgt, day)["T03"] == 138

    before = farm_target_rows(tgt)
    again = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert evaluation_of(again).metadata["incomplete_turbines"].value == {"T03": 138}
    assert farm_target_rows(tgt) == before


def test_farm_recheck_after_target_rows_are_lost(farm):
    src, tgt = farm
    day = "2024-01-03"
    result = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert evaluation_of(result).passed
    signals = result.asset_materializations_for_node("wind_statistics")[0].metadata["signals"].value

    # Someone deletes an hour of T04's statistics from the target.
    query(
        tgt,
        "delete from data d using signal s where s.id = d.signal_id and s.asset = 'T04' "
        "and d.timestamp >= '2024-01-03 10:00+00' and d.timestamp < '2024-01-03 11:00+00'",
    )
    recheck = check_all_windows(windows_per_turbine(tgt, day, signals))
    assert not recheck.passed
    assert recheck.metadata["incomplete_turbines"].value == {"T04": 138}
    assert turbines_named(recheck.description) == ["T04"]

    # Re-materializing the partition repairs the day.
    repaired = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert evaluation_of(repaired).passed
    assert windows_in_target(tgt, day) == {t: 144 for t in TURBINES}


def test_farm_check_counts_a_listed_turbine_without_any_window(farm):
    src, tgt = farm
    day = "2024-01-04"
    query(src, "delete from scada where turbine_id = 'T05' and ts >= '2024-01-04 00:00+00'")
    # By default the check covers the turbines that have windows that day ...
    default = dg.materialize([wind_statistics], partition_key=day, resources=farm_resources(src, tgt))
    assert evaluation_of(default).passed
    assert evaluation_of(default).metadata["turbines"].value == 4
    # ... with the farm's turbines named, a silent turbine fails it.
    listed = dg.materialize(
        [wind_statistics],
        partition_key=day,
        resources=farm_resources(src, tgt, turbines=",".join(TURBINES)),
    )
    evaluation = evaluation_of(listed)
    assert not evaluation.passed
    assert evaluation.metadata["incomplete_turbines"].value == {"T05": 0}
    assert turbines_named(evaluation.description) == ["T05"]


def test_embedded_store_farm(tmp_path):
    store = str(tmp_path / "farm")
    windcore.generate(days=1, start="2024-01-01", source=store, turbines=3)
    resources = {
        "source": SourceDatabase(
            url=store, variables="wind_speed,power,wind_direction", angles="wind_direction"
        ),
        "target": TargetDatabase(url=store),
    }
    result = dg.materialize([wind_statistics], partition_key="2024-01-01", resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("wind_statistics")[0].metadata
    assert meta["windows_per_turbine"].value == {"T01": 144, "T02": 144, "T03": 144}
    assert evaluation_of(result).passed


def test_source_layout_options():
    assert SourceDatabase(url="x").run_options() == {"min_count": 1}
    source = SourceDatabase(
        url="x", table="scada", time_column="ts", asset_column="turbine_id",
        variables="wind_speed, power,wind_direction", angles="wind_direction", min_count=8,
    )
    assert source.run_options() == {
        "min_count": 8,
        "table": "scada",
        "time_column": "ts",
        "asset_column": "turbine_id",
        "variables": ["wind_speed", "power", "wind_direction"],
        "angles": ["wind_direction"],
    }


def test_check_all_windows_without_any_window_fails():
    assert not check_all_windows({}).passed
    assert not check_all_windows({"T01": 144}, source_empty=True).passed
    assert check_all_windows({"T01": 144, "T02": 144}).passed
