"""Local-day partitions, late data and stale partitions, against a real, throwaway
PostgreSQL (scripts/test starts one) and the embedded store.

Staleness is Dagster's own: ``CachingStaleStatusResolver``, what the UI shows, over the
data versions the observations of ``scada_samples`` recorded.
"""

import datetime as dt
import os
import uuid
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import psycopg2
import pytest
import windcore
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest
from dagster._core.storage import tags as dagster_tags

from windcore_dagster.definitions import (
    EMPTY_DAY_VERSION,
    RANGE_END_TAG,
    RANGE_START_TAG,
    SOURCE_ASSET,
    STATS_ASSET,
    SourceDatabase,
    TargetDatabase,
    build_assets,
    build_definitions,
    check_all_windows,
    complete_days,
    daily_partitions,
    local_day_bounds,
    partition_range_tags,
    source_fingerprints,
    windows_in_day,
    windows_per_turbine,
)

TURBINES = ["T01", "T02", "T03", "T04", "T05"]
BERLIN = "Europe/Berlin"
STATS_KEY = dg.AssetKey(STATS_ASSET)
SOURCE_KEY = dg.AssetKey(SOURCE_ASSET)


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


def farm_source(url: str, **options) -> SourceDatabase:
    return SourceDatabase(
        url=url,
        table="scada",
        time_column="ts",
        asset_column="turbine_id",
        variables=["wind_speed", "power", "wind_direction"],
        angles="wind_direction",
        **options,
    )


def make_farm(tag: str, start: str, days: int):
    src, tgt = fresh_db(f"{tag}src"), fresh_db(f"{tag}tgt")
    windcore.init(target=tgt)
    windcore.generate(
        days=days, start=start, source=src, turbines=5,
        table="scada", time_column="ts", asset_column="turbine_id",
    )
    return src, tgt


def statuses(instance, defs, days):
    """Dagster's stale status of each partition of wind_statistics."""
    resolver = CachingStaleStatusResolver(
        instance, defs.resolve_asset_graph(), LoadingContextForTest(instance)
    )
    return {day: resolver.get_status(STATS_KEY, day) for day in days}


def stale_causes(instance, defs, day):
    resolver = CachingStaleStatusResolver(
        instance, defs.resolve_asset_graph(), LoadingContextForTest(instance)
    )
    return resolver.get_stale_causes(STATS_KEY, day)


def observed_versions(instance, days):
    """The data version the latest observation recorded for each day of scada_samples."""
    out = {}
    for day in days:
        record = instance.get_latest_data_version_record(SOURCE_KEY, True, day)
        out[day] = record.asset_observation.data_version if record else None
    return out


def observe(defs, instance, first, last):
    result = defs.resolve_job_def("scada_observation_job").execute_in_process(
        instance=instance, tags=partition_range_tags(first, last)
    )
    assert result.success
    return result


def materializations(result):
    return {m.partition: m for m in result.asset_materializations_for_node(STATS_ASSET)}


def evaluation_of(result):
    evals = result.get_asset_check_evaluations()
    assert len(evals) == 1
    return evals[0]


FRESH = {day: StaleStatus.FRESH for day in ("2024-01-01", "2024-01-02", "2024-01-03")}


# --- The calendar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, day, first, end, windows",
    [
        ("UTC", "2024-01-03", "2024-01-03T00:00:00+00:00", "2024-01-04T00:00:00+00:00", 144),
        (BERLIN, "2025-06-01", "2025-05-31T22:00:00+00:00", "2025-06-01T22:00:00+00:00", 144),
        (BERLIN, "2025-03-30", "2025-03-29T23:00:00+00:00", "2025-03-30T22:00:00+00:00", 138),
        (BERLIN, "2025-10-26", "2025-10-25T22:00:00+00:00", "2025-10-26T23:00:00+00:00", 150),
        # Summer time began at midnight: the day starts at 01:00 local.
        ("America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00+00:00",
         "2018-11-05T02:00:00+00:00", 138),
    ],
)
def test_local_days(zone, day, first, end, windows):
    start_utc, end_utc = local_day_bounds(day, zone)
    assert start_utc.isoformat() == first and end_utc.isoformat() == end
    assert windows_in_day(day, zone) == windows
    # Dagster's partition of that day is the same local day.
    window = daily_partitions(zone).time_window_for_partition_key(day)
    assert window.start.astimezone(dt.timezone.utc) == start_utc
    assert window.end.astimezone(dt.timezone.utc) == end_utc


def test_complete_days_never_include_today():
    now = dt.datetime(2024, 3, 10, 0, 15, tzinfo=ZoneInfo(BERLIN))  # 2024-03-09 23:15 UTC
    assert complete_days(BERLIN, 3, now) == ["2024-03-07", "2024-03-08", "2024-03-09"]
    # The same instant is still 2024-03-09 in UTC: its previous complete day is the 8th.
    assert complete_days("UTC", 3, now) == ["2024-03-06", "2024-03-07", "2024-03-08"]
    # Not before the first partition.
    assert complete_days("UTC", 3, dt.datetime(2024, 1, 2, 0, 15, tzinfo=dt.timezone.utc)) == [
        "2024-01-01"
    ]


def test_check_expects_the_windows_of_the_local_day():
    assert check_all_windows({"T01": 150, "T02": 150}, expected_windows=150).passed
    short = check_all_windows({"T01": 150, "T02": 144}, expected_windows=150)
    assert not short.passed
    assert "T02 has 144 of 150" in short.description
    assert short.metadata["incomplete_turbines"].value == {"T02": 144}
    assert check_all_windows({"T01": 138}, expected_windows=138).passed


def test_source_options_and_zone_validation():
    source = SourceDatabase(url="x", timezone=BERLIN, label="end", late_data_days=5)
    assert source.run_options() == {"min_count": 1, "timezone": BERLIN, "label": "end"}
    with pytest.raises(Exception, match="unknown time zone"):
        SourceDatabase(url="x", timezone="Europe/Atlantis")
    with pytest.raises(Exception):
        SourceDatabase(url="x", late_data_days=0)


def test_range_tags_are_dagsters():
    assert RANGE_START_TAG == dagster_tags.ASSET_PARTITION_RANGE_START_TAG
    assert RANGE_END_TAG == dagster_tags.ASSET_PARTITION_RANGE_END_TAG


def test_schedule_syncs_the_last_complete_local_days():
    defs = build_definitions(SourceDatabase(url="x", timezone=BERLIN), TargetDatabase(url="y"))
    schedule = defs.resolve_schedule_def("wind_statistics_schedule")
    assert schedule.execution_timezone == BERLIN
    assert schedule.cron_schedule == "15 0 * * *"
    assert defs.resolve_job_def("wind_statistics_sync_job").partitions_def.timezone == BERLIN

    def requests_at(when):
        ctx = dg.build_schedule_context(scheduled_execution_time=when)
        return schedule.evaluate_tick(ctx)

    # 00:15 in Berlin on the day after the 25-hour day (still 23:15 UTC the day before).
    tick = requests_at(dt.datetime(2025, 10, 27, 0, 15, tzinfo=ZoneInfo(BERLIN)))
    (request,) = tick.run_requests
    assert request.partition_key is None
    assert request.partition_key_range == dg.PartitionKeyRange("2025-10-24", "2025-10-26")
    # Nothing complete yet on the first day.
    first = requests_at(dt.datetime(2024, 1, 1, 0, 15, tzinfo=ZoneInfo(BERLIN)))
    assert not first.run_requests and first.skip_message


# --- A Berlin farm in PostgreSQL: DST days ---------------------------------------------------


@pytest.mark.parametrize("day, windows", [("2025-10-26", 150), ("2025-03-30", 138)])
def test_berlin_dst_partition_has_the_windows_of_its_local_day(day, windows):
    before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    src, tgt = make_farm("dst", before, 3)  # UTC days before .. after the local day
    source = farm_source(src, timezone=BERLIN)
    defs = build_definitions(source, TargetDatabase(url=tgt))
    result = defs.resolve_job_def("wind_statistics_job").execute_in_process(partition_key=day)
    assert result.success
    meta = materializations(result)[day].metadata
    assert meta["windows_per_turbine"].value == {t: windows for t in TURBINES}
    assert meta["expected_windows"].value == windows
    assert meta["timezone"].value == BERLIN
    minutes = windows * 10
    assert meta["rows_in"].value == 5 * minutes  # exactly the local day's samples
    assert meta["outside"].value == 0
    evaluation = evaluation_of(result)
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["expected_per_turbine"].value == windows
    assert evaluation.metadata["windows"].value == 5 * windows
    assert f"each with all {windows} windows" in evaluation.description

    # The target, counted by PostgreSQL itself over the local day.
    start, end = local_day_bounds(day, BERLIN)
    counted = query(
        tgt,
        "select s.asset, count(distinct d.timestamp), min(d.timestamp), max(d.timestamp) "
        "from data d join signal s on s.id = d.signal_id "
        "where d.timestamp >= %s and d.timestamp < %s group by 1 order by 1",
        (start, end),
    )
    assert [(a, n) for a, n, _, _ in counted] == [(t, windows) for t in TURBINES]
    for _, _, first, last in counted:
        assert first == start and last == end - dt.timedelta(minutes=10)
    # Nothing outside the local day was written.
    assert query(tgt, "select count(*) from data")[0][0] == 5 * windows * 12


# --- Late data: stale partitions and the sync ----------------------------------------------


@pytest.fixture()
def berlin_farm_with_a_late_hour():
    """A farm whose T02 samples of local 2024-01-02 00:00..01:00 (2024-01-01 23:00..24:00
    UTC: the previous UTC day) have not arrived yet; they wait in scada_late."""
    src, tgt = make_farm("late", "2023-12-31", 4)
    query(
        src,
        "create table scada_late as select * from scada where turbine_id = 'T02' "
        "and ts >= '2024-01-01 23:00+00' and ts < '2024-01-02 00:00+00'",
    )
    query(
        src,
        "delete from scada where turbine_id = 'T02' "
        "and ts >= '2024-01-01 23:00+00' and ts < '2024-01-02 00:00+00'",
    )
    return src, tgt


def target_rows(tgt):
    return query(
        tgt,
        "select s.asset, s.name, d.timestamp, d.value from data d join signal s on s.id = d.signal_id "
        "order by 1, 2, 3",
    )


def test_late_samples_make_their_partition_stale_and_the_sync_repairs_it(
    berlin_farm_with_a_late_hour,
):
    src, tgt = berlin_farm_with_a_late_hour
    source = farm_source(src, timezone=BERLIN, late_data_days=3)
    defs = build_definitions(source, TargetDatabase(url=tgt))
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    instance = dg.DagsterInstance.ephemeral()

    # Observe the three days, then materialize them one by one.
    observe(defs, instance, days[0], days[-1])
    before = observed_versions(instance, days)
    assert before["2024-01-01"].startswith("7200-")  # 5 turbines x 1440 minutes
    assert before["2024-01-02"].startswith("7140-")  # T02 lacks an hour
    assert before["2024-01-03"].startswith("7200-")
    job = defs.resolve_job_def("wind_statistics_job")
    for day in days:
        result = job.execute_in_process(instance=instance, partition_key=day)
        assert result.success
        evaluation = evaluation_of(result)
        if day == "2024-01-02":
            assert not evaluation.passed
            assert evaluation.metadata["incomplete_turbines"].value == {"T02": 138}
        else:
            assert evaluation.passed
    assert statuses(instance, defs, days) == FRESH

    # The late hour arrives. Dagster does not know until the source is observed ...
    query(src, "insert into scada select * from scada_late")
    assert statuses(instance, defs, days) == FRESH
    observe(defs, instance, days[0], days[-1])
    after = observed_versions(instance, days)
    assert after["2024-01-02"] != before["2024-01-02"]
    assert after["2024-01-02"].startswith("7200-")
    assert after["2024-01-01"] == before["2024-01-01"]
    assert after["2024-01-03"] == before["2024-01-03"]
    # ... then exactly that partition is stale, because of its source partition.
    assert statuses(instance, defs, days) == {**FRESH, "2024-01-02": StaleStatus.STALE}
    causes = stale_causes(instance, defs, "2024-01-02")
    assert [c.dependency.asset_key for c in causes] == [SOURCE_KEY]
    assert [c.dependency.partition_key for c in causes] == ["2024-01-02"]

    # The daily schedule's run on 2024-01-04, 00:15 Berlin: the last 3 complete days.
    schedule = defs.resolve_schedule_def("wind_statistics_schedule")
    tick = schedule.evaluate_tick(
        dg.build_schedule_context(
            scheduled_execution_time=dt.datetime(2024, 1, 4, 0, 15, tzinfo=ZoneInfo(BERLIN))
        )
    )
    (request,) = tick.run_requests
    assert request.partition_key_range == dg.PartitionKeyRange(days[0], days[-1])
    sync_job = defs.resolve_job_def("wind_statistics_sync_job")
    sync = sync_job.execute_in_process(instance=instance, tags=request.tags)
    assert sync.success
    synced = materializations(sync)
    assert sorted(synced) == days  # one materialization per partition of the range
    meta = synced["2024-01-02"].metadata
    assert meta["changed_only"].value is True
    assert meta["pairs_changed"].value == 1
    assert meta["pairs_unchanged"].value == 14
    assert meta["pairs_new"].value == 0
    assert meta["pairs_removed"].value == 0
    assert meta["days_unchanged"].value == 2
    reports = meta["days"].value
    assert reports["2024-01-02"]["outcome"] == "loaded"
    assert reports["2024-01-02"]["assets_changed"] == 1
    assert reports["2024-01-01"]["outcome"] == reports["2024-01-03"]["outcome"] == "unchanged"
    assert meta["windows_per_day"].value == {day: {t: 144 for t in TURBINES} for day in days}
    evaluation = evaluation_of(sync)
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["incomplete_days"].value == {}

    # Clean again; and the target holds the late samples' statistics.
    assert statuses(instance, defs, days) == FRESH
    expected = query(
        src,
        "select avg(power) from scada where turbine_id = 'T02' "
        "and ts >= '2024-01-01 23:00+00' and ts < '2024-01-01 23:10+00'",
    )[0][0]
    got = query(
        tgt,
        "select value from data d join signal s on s.id = d.signal_id "
        "where s.asset = 'T02' and s.name = 'power_mean' and timestamp = '2024-01-01 23:00+00'",
    )[0][0]
    assert got == pytest.approx(expected, rel=1e-9)

    # Syncing again changes nothing, and everything stays fresh.
    rows = target_rows(tgt)
    again = sync_job.execute_in_process(instance=instance, tags=request.tags)
    meta = materializations(again)["2024-01-03"].metadata
    assert (meta["pairs_unchanged"].value, meta["pairs_changed"].value) == (15, 0)
    assert meta["days_unchanged"].value == 3
    assert meta["rows_out"].value == 0
    assert evaluation_of(again).passed
    assert target_rows(tgt) == rows
    assert statuses(instance, defs, days) == FRESH


def test_a_changed_value_in_another_utc_day_of_the_local_day(berlin_farm_with_a_late_hour):
    """A correction at local 2024-01-03 00:05 is 2024-01-02 23:05 UTC: it belongs to the
    local day 2024-01-03 and makes that partition stale, not 2024-01-02."""
    src, tgt = berlin_farm_with_a_late_hour
    source = farm_source(src, timezone=BERLIN)
    defs = build_definitions(source, TargetDatabase(url=tgt))
    days = ["2024-01-02", "2024-01-03"]
    instance = dg.DagsterInstance.ephemeral()
    observe(defs, instance, days[0], days[-1])
    sync = defs.resolve_job_def("wind_statistics_sync_job").execute_in_process(
        instance=instance, tags=partition_range_tags(days[0], days[-1])
    )
    assert sync.success
    assert materializations(sync)["2024-01-03"].metadata["pairs_new"].value == 10
    assert statuses(instance, defs, days) == {d: StaleStatus.FRESH for d in days}

    query(src, "update scada set power = power + 1 where turbine_id = 'T04' "
               "and ts = '2024-01-02 23:05+00'")
    observe(defs, instance, days[0], days[-1])
    assert statuses(instance, defs, days) == {
        "2024-01-02": StaleStatus.FRESH,
        "2024-01-03": StaleStatus.STALE,
    }
    sync = defs.resolve_job_def("wind_statistics_sync_job").execute_in_process(
        instance=instance, tags=partition_range_tags(days[0], days[-1])
    )
    meta = materializations(sync)["2024-01-03"].metadata
    assert meta["pairs_changed"].value == 1 and meta["pairs_unchanged"].value == 9
    assert meta["days"].value["2024-01-03"]["assets_changed"] == 1
    assert meta["days"].value["2024-01-02"]["outcome"] == "unchanged"
    assert statuses(instance, defs, days) == {d: StaleStatus.FRESH for d in days}


def test_partition_zone_must_match_the_resource(berlin_farm_with_a_late_hour):
    src, tgt = berlin_farm_with_a_late_hour
    _, berlin_statistics = build_assets(BERLIN)
    result = dg.materialize(
        [berlin_statistics],
        partition_key="2024-01-02",
        resources={"source": farm_source(src), "target": TargetDatabase(url=tgt)},  # UTC
        raise_on_error=False,
    )
    assert not result.success
    assert query(tgt, "select count(*) from data")[0][0] == 0


# --- The embedded store ------------------------------------------------------------------


@pytest.mark.parametrize("label", ["start", "end"])
def test_embedded_store_berlin_fall_day_and_late_data(tmp_path, label):
    store = str(tmp_path / "farm")
    windcore.generate(days=3, start="2025-10-25", source=store, turbines=3)
    source = SourceDatabase(
        url=store, variables="wind_speed,power,wind_direction", angles="wind_direction",
        timezone=BERLIN, label=label,
    )
    target = TargetDatabase(url=store)
    defs = build_definitions(source, target)
    day = "2025-10-26"
    instance = dg.DagsterInstance.ephemeral()
    observe(defs, instance, day, day)
    assert observed_versions(instance, [day])[day].startswith(f"{3 * 1500}-")  # 25 hours
    result = defs.resolve_job_def("wind_statistics_job").execute_in_process(
        instance=instance, partition_key=day
    )
    assert result.success
    meta = materializations(result)[day].metadata
    assert meta["windows_per_turbine"].value == {"T01": 150, "T02": 150, "T03": 150}
    assert evaluation_of(result).passed
    # Counted across both UTC files of the local day.
    assert windows_per_turbine(store, day, meta["signals"].value, BERLIN, label) == {
        "T01": 150, "T02": 150, "T03": 150
    }
    stamps = pl.read_parquet(f"{store}/target/*.parquet").get_column("timestamp")
    start, end = local_day_bounds(day, BERLIN)
    shift = dt.timedelta(minutes=10) if label == "end" else dt.timedelta(0)
    assert (stamps.min(), stamps.max()) == (start + shift, end - dt.timedelta(minutes=10) + shift)
    assert statuses(instance, defs, [day]) == {day: StaleStatus.FRESH}

    # A late correction in the second UTC file of the local day (23:30 CET = 22:30 UTC).
    path = tmp_path / "farm" / "source" / "2025-10-26.parquet"
    frame = pl.read_parquet(path)
    late = dt.datetime(2025, 10, 26, 22, 30, tzinfo=dt.timezone.utc)
    hit = (pl.col("asset") == "T03") & (pl.col("timestamp") == late)
    assert frame.filter(hit).height == 1
    frame.with_columns(power=pl.when(hit).then(pl.lit(1234.5)).otherwise(pl.col("power"))).write_parquet(path)

    # An observation of that one partition.
    assert defs.resolve_job_def("scada_observation_job").execute_in_process(
        instance=instance, partition_key=day
    ).success
    assert statuses(instance, defs, [day]) == {day: StaleStatus.STALE}
    sync = defs.resolve_job_def("wind_statistics_sync_job").execute_in_process(
        instance=instance, partition_key=day
    )
    meta = materializations(sync)[day].metadata
    assert (meta["pairs_changed"].value, meta["pairs_unchanged"].value) == (1, 2)
    assert statuses(instance, defs, [day]) == {day: StaleStatus.FRESH}


def test_counters_states_and_availability_per_turbine(tmp_path):
    """A farm with its energy counter and operating states: the materialization's
    metadata gives each turbine's availability over the partition's local day, the
    ratio of its windows' summed available and unavailable seconds, checked here
    against those seconds read back from the target with polars."""
    store = str(tmp_path / "farm")
    windcore.generate(days=3, start="2024-01-02", source=store, turbines=3)
    mapping = {"available": [1, 2, 5], "unavailable": [3], "excluded": [4], "channel": "state"}
    source = SourceDatabase(
        url=store, variables="wind_speed,power", counters="energy", states=["state"],
        availability=mapping, timezone=BERLIN,
    )
    target = TargetDatabase(url=store)
    defs = build_definitions(source, target)
    day = "2024-01-03"
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("wind_statistics_job").execute_in_process(
        instance=instance, partition_key=day
    )
    assert result.success
    meta = materializations(result)[day].metadata
    got = meta["availability_per_turbine"].value
    assert sorted(got) == ["T01", "T02", "T03"]
    assert {"energy_delta", "state_seconds_nodata", "availability"} <= set(meta["signals"].value)
    start, end = local_day_bounds(day, BERLIN)
    seconds = (
        pl.read_parquet(f"{store}/target/*.parquet")
        .filter(pl.col("timestamp").is_between(start, end, closed="left"))
        .filter(pl.col("signal").is_in(["available_seconds", "unavailable_seconds"]))
        .pivot("signal", index=["asset", "timestamp"], values="value")
        .group_by("asset")
        .agg(pl.col("available_seconds").sum(), pl.col("unavailable_seconds").sum(), pl.len())
    )
    assert seconds["len"].to_list() == [144] * 3  # every window of the local day
    for row in seconds.iter_rows(named=True):
        a, u = row["available_seconds"], row["unavailable_seconds"]
        assert got[row["asset"]]["available_seconds"] == pytest.approx(a)
        assert got[row["asset"]]["unavailable_seconds"] == pytest.approx(u)
        assert got[row["asset"]]["availability"] == pytest.approx(a / (a + u))


def test_fingerprints_of_days_without_samples(tmp_path):
    store = str(tmp_path / "one")
    windcore.generate(days=1, start="2024-01-02", source=store)
    source = SourceDatabase(url=store)
    versions = source_fingerprints(source, ["2024-01-01", "2024-01-02", "2024-01-03"])
    assert versions["2024-01-01"] == versions["2024-01-03"] == EMPTY_DAY_VERSION
    assert versions["2024-01-02"].startswith("1440-")
    # Only the aggregated channels count when they are named.
    narrowed = SourceDatabase(url=store, variables="power")
    assert source_fingerprints(narrowed, ["2024-01-02"])["2024-01-02"] != versions["2024-01-02"]


def test_reference_layout_job_observes_then_loads():
    """The reference single-turbine table `data(timestamp, ...)` in UTC days, through
    wind_statistics_job: it observes the day, then loads it; a late correction makes the
    partition stale until the next run."""
    src, tgt = fresh_db("refsrc"), fresh_db("reftgt")
    windcore.init(source=src, target=tgt)
    windcore.generate(days=2, start="2024-01-01", source=src)
    defs = build_definitions(SourceDatabase(url=src), TargetDatabase(url=tgt))
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("wind_statistics_job")
    for day in ("2024-01-01", "2024-01-02"):
        result = job.execute_in_process(instance=instance, partition_key=day)
        assert result.success and evaluation_of(result).passed
        assert materializations(result)[day].metadata["windows_per_turbine"].value == {"": 144}
    versions = observed_versions(instance, ["2024-01-01", "2024-01-02"])
    assert all(v.startswith("1440-") for v in versions.values())
    assert statuses(instance, defs, versions) == {d: StaleStatus.FRESH for d in versions}

    query(src, "update data set power = power + 1 where timestamp = '2024-01-02 12:00+00'")
    observe(defs, instance, "2024-01-01", "2024-01-02")
    assert statuses(instance, defs, versions) == {
        "2024-01-01": StaleStatus.FRESH,
        "2024-01-02": StaleStatus.STALE,
    }
    result = job.execute_in_process(instance=instance, partition_key="2024-01-02")
    assert result.success
    assert statuses(instance, defs, versions) == {d: StaleStatus.FRESH for d in versions}


def test_observation_without_a_partition_covers_the_late_data_horizon(tmp_path):
    """Observing without a partition (the UI's Observe button, an observation schedule)
    records the last `late_data_days` complete local days."""
    store = str(tmp_path / "recent")
    today = dt.datetime.now(ZoneInfo(BERLIN)).date()
    windcore.generate(days=5, start=(today - dt.timedelta(days=4)).isoformat(), source=store)
    source = SourceDatabase(url=store, timezone=BERLIN, late_data_days=2)
    defs = build_definitions(source, TargetDatabase(url=store))
    instance = dg.DagsterInstance.ephemeral()
    assert defs.resolve_job_def("scada_observation_job").execute_in_process(instance=instance).success
    horizon = [(today - dt.timedelta(days=k)).isoformat() for k in (2, 1)]
    versions = observed_versions(instance, horizon + [today.isoformat()])
    assert versions[today.isoformat()] is None  # today is not complete
    for day in horizon:
        assert versions[day] == source_fingerprints(source, [day])[day]
        # Every minute of the local day (23 or 25 hours on a DST day), fully generated.
        assert versions[day].startswith(f"{windows_in_day(day, BERLIN) * 10}-")
