//! The PostgreSQL source and target against a real server.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windcore::{
    Day, DayOutcome, DayRange, Generator, Load, Location, Pipeline, PostgresSource, PostgresTarget,
    Resampler, RunConfig, RunDays, SourceLayout, Stat,
};

use crate::pg_util::{admin_url, client, fresh_db, Proxy};

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

/// Source and target databases, initialised, with `n` generated days from `first`.
async fn setup(tag: &str, first: &str, n: u32) -> (String, String, DayRange) {
    let src = fresh_db(&format!("{tag}_src")).await;
    let tgt = fresh_db(&format!("{tag}_tgt")).await;
    let (s, t): (Location, Location) = (src.parse().unwrap(), tgt.parse().unwrap());
    s.init_source().await.unwrap();
    t.init_target().await.unwrap();
    let days = DayRange::starting(day(first), n).unwrap();
    let g = Generator::builder().missing_rate(0.03).build().unwrap();
    s.generate(days, &g, |_| {}).await.unwrap();
    (src, tgt, days)
}

async fn pipeline(src: &str, tgt: &str) -> Pipeline {
    Pipeline::builder(
        PostgresSource::connect(src).await.unwrap(),
        PostgresTarget::connect(tgt).await.unwrap(),
    )
    .build()
    .unwrap()
}

/// (microseconds, signal) -> value of the target.
async fn target_rows(tgt: &str) -> BTreeMap<(i64, String), f64> {
    let c = client(tgt).await;
    let rows = c
        .query(
            "select (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
             from data d join signal s on s.id = d.signal_id",
            &[],
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let prev = out.insert(
            (r.get::<_, i64>(0), r.get::<_, String>(1)),
            r.get::<_, f64>(2),
        );
        assert!(prev.is_none(), "duplicate row in the target");
    }
    out
}

async fn count(url: &str, sql: &str) -> i64 {
    client(url).await.query_one(sql, &[]).await.unwrap().get(0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_days_match_date_bin_and_stddev_samp() {
    let (src, tgt, days) = setup("oracle", "2024-02-25", 10).await;
    // Some NaN samples too: they are not samples, like NULL.
    client(&src)
        .await
        .batch_execute(
            "update data set power = 'NaN' where extract(minute from timestamp)::int % 17 = 3",
        )
        .await
        .unwrap();
    let summary = pipeline(&src, &tgt).await.run(days.iter(), |_| {}).await;
    assert!(summary.is_success(), "{:?}", summary.first_error());
    assert_eq!(summary.loaded(), 10);

    let mut oracle = BTreeMap::new();
    let rows = client(&src)
        .await
        .query(
            "select (extract(epoch from w) * 1000000)::int8, \
                    avg(wind_speed), min(wind_speed), max(wind_speed), stddev_samp(wind_speed), \
                    avg(power) filter (where power <> 'NaN'), min(power) filter (where power <> 'NaN'), \
                    max(power) filter (where power <> 'NaN'), stddev_samp(power) filter (where power <> 'NaN') \
             from (select date_bin('10 minutes', timestamp, '1970-01-01 00:00:00+00') as w, * from data) s \
             group by w",
            &[],
        )
        .await
        .unwrap();
    let names = [
        "wind_speed_mean",
        "wind_speed_min",
        "wind_speed_max",
        "wind_speed_std",
        "power_mean",
        "power_min",
        "power_max",
        "power_std",
    ];
    for r in rows {
        let w: i64 = r.get(0);
        for (i, name) in names.iter().enumerate() {
            if let Some(v) = r.get::<_, Option<f64>>(i + 1) {
                oracle.insert((w, name.to_string()), v);
            }
        }
    }
    let got = target_rows(&tgt).await;
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        oracle.keys().collect::<Vec<_>>(),
        "the (timestamp, signal) pairs differ"
    );
    for (k, v) in &got {
        assert!(
            close(*v, oracle[k]),
            "{k:?}: windcore {v} vs PostgreSQL {}",
            oracle[k]
        );
    }
    assert!(got.len() > 10 * 144 * 7, "most statistics are defined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_runs_leave_one_copy() {
    let (src, tgt, days) = setup("thrice", "2024-01-01", 2).await;
    let p = pipeline(&src, &tgt).await;
    p.run(days.iter(), |_| {}).await;
    let once = target_rows(&tgt).await;
    for _ in 0..2 {
        let s = p.run(days.iter(), |_| {}).await;
        assert!(s.is_success());
    }
    assert_eq!(target_rows(&tgt).await, once);
    assert_eq!(
        count(&tgt, "select count(*) from data").await as usize,
        once.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_failing_part_way_keeps_the_previous_day() {
    let (src, tgt, days) = setup("partial", "2024-01-01", 1).await;
    pipeline(&src, &tgt).await.run(days.iter(), |_| {}).await;
    let before = target_rows(&tgt).await;
    assert!(!before.is_empty());

    // New statistics whose last row repeats a key: the COPY fails after the
    // delete and most rows went in, so the transaction must roll back.
    let samples = Generator::builder()
        .seed(5)
        .build()
        .unwrap()
        .day(days.first());
    let samples = samples
        .select(["timestamp", "wind_speed", "power"])
        .unwrap();
    let stats = Resampler::default().resample_long(&samples).unwrap();
    let poisoned = stats.vstack(&stats.slice(-1, 1)).unwrap();
    let target = PostgresTarget::connect(&tgt).await.unwrap();
    let signals = Resampler::default().signal_names(&["wind_speed", "power"]);
    let err = target
        .load(days.first().range(), &signals, &poisoned)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("duplicate key"), "{err}");
    assert_eq!(target_rows(&tgt).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_of_one_day_end_with_one_copy() {
    let (src, tgt, days) = setup("concurrent", "2024-01-01", 1).await;
    let (a, b, c) = tokio::join!(
        pipeline(&src, &tgt),
        pipeline(&src, &tgt),
        pipeline(&src, &tgt)
    );
    let (ra, rb, rc) = tokio::join!(
        a.run(days.iter(), |_| {}),
        b.run(days.iter(), |_| {}),
        c.run(days.iter(), |_| {})
    );
    assert!(ra.is_success() && rb.is_success() && rc.is_success());
    let got = target_rows(&tgt).await;
    assert_eq!(got.len(), 144 * 8);
    // Equal to a plain single run into a fresh target.
    let tgt2 = fresh_db("concurrent_ref").await;
    tgt2.parse::<Location>()
        .unwrap()
        .init_target()
        .await
        .unwrap();
    pipeline(&src, &tgt2).await.run(days.iter(), |_| {}).await;
    assert_eq!(got, target_rows(&tgt2).await);
}

#[tokio::test]
async fn a_day_without_source_rows_is_reported_and_writes_nothing() {
    let (src, tgt, _) = setup("emptyday", "2024-01-01", 1).await;
    let s = pipeline(&src, &tgt)
        .await
        .run([day("2023-06-01")], |_| {})
        .await;
    assert!(s.is_success());
    assert_eq!(s.empty_days(), vec![day("2023-06-01")]);
    assert_eq!(count(&tgt, "select count(*) from data").await, 0);
}

#[tokio::test]
async fn unreachable_server_fails_fast_and_masks_the_password() {
    // Nothing listens on port 1.
    let url = "postgres://windcore:hunter2@127.0.0.1:1/db";
    let t = Instant::now();
    let err = PostgresSource::connect(url).await.err().expect("must fail");
    assert!(t.elapsed() < Duration::from_secs(15));
    let msg = err.to_string();
    assert!(
        msg.contains("cannot connect to postgres://windcore:***@127.0.0.1:1/db"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[tokio::test]
async fn bad_credentials_are_reported_without_the_password() {
    let admin = admin_url();
    let cfg: tokio_postgres::Config = admin.parse().unwrap();
    let host = "127.0.0.1";
    let port = cfg.get_ports()[0];
    let url = format!("postgres://postgres:not-the-password@{host}:{port}/postgres");
    let err = PostgresTarget::connect(&url)
        .await
        .err()
        .expect("must fail");
    let msg = err.to_string();
    assert!(msg.contains("password authentication failed"), "{msg}");
    assert!(!msg.contains("not-the-password"), "{msg}");
}

#[tokio::test]
async fn missing_tables_say_run_init() {
    let db = fresh_db("notables").await;
    let err = PostgresSource::connect(&db).await.err().unwrap();
    assert!(
        err.to_string()
            .contains("run `windcore-cli init --source URL`"),
        "{err}"
    );
    let err = PostgresTarget::connect(&db).await.err().unwrap();
    assert!(
        err.to_string()
            .contains("run `windcore-cli init --target URL`"),
        "{err}"
    );
    // init is idempotent.
    let loc: Location = db.parse().unwrap();
    for _ in 0..2 {
        loc.init_target().await.unwrap();
    }
    assert_eq!(count(&db, "select count(*) from signal").await, 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_design_target_is_used_without_duplicates() {
    let (src, _, days) = setup("refdesign", "2024-01-01", 1).await;
    let tgt = fresh_db("refdesign_tgt").await;
    client(&tgt)
        .await
        .batch_execute(
            "create table signal (id serial primary key, name text);\n\
             create table data (id serial primary key, timestamp timestamptz, \
                                signal_id integer references signal(id), value float8);",
        )
        .await
        .unwrap();
    // Its `signal` has no asset column yet: `init` is asked for, then migrates.
    let err = PostgresTarget::connect(&tgt).await.err().unwrap();
    assert!(err.to_string().contains("windcore-cli init"), "{err}");
    tgt.parse::<Location>()
        .unwrap()
        .init_target()
        .await
        .unwrap();
    let target = PostgresTarget::connect(&tgt).await.unwrap();
    assert!(target.has_reference_layout());
    let p = Pipeline::builder(PostgresSource::connect(&src).await.unwrap(), target)
        .build()
        .unwrap();
    p.run(days.iter(), |_| {}).await;
    p.run(days.iter(), |_| {}).await;
    assert_eq!(count(&tgt, "select count(*) from data").await, 144 * 8);
    // init made the 15 reference signals (3 variables x 5 statistics), asset ''.
    assert_eq!(count(&tgt, "select count(*) from signal").await, 15);
    assert_eq!(
        count(&tgt, "select count(*) from signal where asset <> ''").await,
        0
    );

    // An `id` without a default cannot be filled: refused with an explanation.
    let bad = fresh_db("refdesign_bad").await;
    client(&bad)
        .await
        .batch_execute(
            "create table signal (id serial primary key, name text);\n\
             create table data (id integer primary key, timestamp timestamptz, signal_id integer, value float8);",
        )
        .await
        .unwrap();
    let err = PostgresTarget::connect(&bad).await.err().unwrap();
    assert!(
        err.to_string().contains("`id` column without a default"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dying_mid_backfill_keeps_loaded_days_and_rerun_finishes() {
    let (src, tgt, days) = setup("dies", "2024-01-01", 8).await;
    let proxy = Proxy::start(&tgt).await;
    let p = Pipeline::builder(
        PostgresSource::connect(&src).await.unwrap(),
        PostgresTarget::connect(&proxy.url).await.unwrap(),
    )
    .jobs(1)
    .build()
    .unwrap();
    let done = AtomicUsize::new(0);
    let summary = p
        .run(days.iter(), |r| {
            if matches!(r.outcome, DayOutcome::Loaded)
                && done.fetch_add(1, Ordering::SeqCst) + 1 == 3
            {
                proxy.cut();
            }
        })
        .await;
    assert!(!summary.is_success());
    assert_eq!(summary.loaded(), 3);
    let rerun = summary.to_rerun();
    assert_eq!(rerun.len(), 5);
    assert_eq!(rerun[0], day("2024-01-04"));
    // Days already loaded are complete; nothing half-written for the failed one.
    let per_day = client(&tgt)
        .await
        .query(
            "select (timestamp at time zone 'UTC')::date::text, count(*) from data group by 1 order by 1",
            &[],
        )
        .await
        .unwrap();
    let per_day: Vec<(String, i64)> = per_day.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        per_day,
        vec![
            ("2024-01-01".to_string(), 1152),
            ("2024-01-02".to_string(), 1152),
            ("2024-01-03".to_string(), 1152)
        ]
    );
    // Re-running the reported days finishes the job: same as one clean run.
    let p2 = pipeline(&src, &tgt).await;
    assert!(p2.run(rerun.iter().copied(), |_| {}).await.is_success());
    let clean = fresh_db("dies_clean").await;
    clean
        .parse::<Location>()
        .unwrap()
        .init_target()
        .await
        .unwrap();
    pipeline(&src, &clean).await.run(days.iter(), |_| {}).await;
    assert_eq!(target_rows(&tgt).await, target_rows(&clean).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_stores_and_extract_roundtrip() {
    let (src, _, days) = setup("mixed", "2024-03-30", 2).await;
    // PostgreSQL source -> embedded target equals embedded source -> embedded target.
    let dir = tempfile::tempdir().unwrap();
    let local: Location = dir.path().to_str().unwrap().parse().unwrap();
    let pg: Location = src.parse().unwrap();
    assert_eq!(
        pg.source_days().await.unwrap(),
        days.iter().collect::<Vec<_>>()
    );
    let p = Pipeline::builder_shared(
        pg.open_source().await.unwrap(),
        local.open_target().await.unwrap(),
    )
    .variables(["wind_speed", "power", "ambient_temperature"])
    .transform(Resampler::builder().stats(Stat::ALL).build().unwrap())
    .build()
    .unwrap();
    assert!(p.run(days.iter(), |_| {}).await.is_success());
    // The same days generated into the embedded store give identical statistics.
    let dir2 = tempfile::tempdir().unwrap();
    let local2: Location = dir2.path().to_str().unwrap().parse().unwrap();
    let g = Generator::builder().missing_rate(0.03).build().unwrap();
    local2.generate(days, &g, |_| {}).await.unwrap();
    let store = windcore::LocalStore::new(dir.path());
    for d in days.iter() {
        let from_pg = store.target().read_day(d).unwrap().unwrap();
        let samples = windcore::LocalStore::new(dir2.path())
            .source()
            .read_day(d)
            .unwrap()
            .unwrap();
        let expected = Resampler::builder()
            .stats(Stat::ALL)
            .build()
            .unwrap()
            .resample_long(&samples)
            .unwrap();
        assert!(from_pg.equals_missing(&expected), "day {d}");
    }
    // Unknown variables never reach the SQL.
    let err = PostgresSource::connect(&src)
        .await
        .unwrap()
        .extract_checked("rotor_speed; drop table data")
        .await;
    assert!(err.contains("unknown variable"), "{err}");
    assert_eq!(count(&src, "select count(*) from data").await, 2 * 1440);
}

trait ExtractChecked {
    async fn extract_checked(&self, var: &str) -> String;
}

impl ExtractChecked for PostgresSource {
    async fn extract_checked(&self, var: &str) -> String {
        use windcore::Extract;
        match self
            .extract(day("2024-03-30").range(), &[var.to_string()])
            .await
        {
            Ok(_) => "no error".into(),
            Err(e) => e.to_string(),
        }
    }
}

/// A user's farm table, filled from the farm generator with NaN and NULL
/// samples; returns its URL and the days.
pub(crate) async fn scada_source(
    tag: &str,
    turbines: u32,
    first: &str,
    n: u32,
) -> (String, DayRange) {
    let src = fresh_db(tag).await;
    client(&src)
        .await
        .batch_execute(
            "create table scada (turbine_id text not null, ts timestamptz not null, \
             wind_speed float8, power float8, wind_direction float8, \
             primary key (turbine_id, ts))",
        )
        .await
        .unwrap();
    let layout = SourceLayout {
        table: "scada".into(),
        time_column: "ts".into(),
        asset_column: Some("turbine_id".into()),
        naive_timezone: None,
    };
    let days = DayRange::starting(day(first), n).unwrap();
    let g = Generator::builder()
        .turbines(turbines)
        .missing_rate(0.02)
        .build()
        .unwrap();
    let loc: Location = src.parse().unwrap();
    loc.generate_layout(&layout, days, &g, |_| {})
        .await
        .unwrap();
    client(&src)
        .await
        .batch_execute(
            "update scada set power = 'NaN' where extract(minute from ts)::int % 13 = 5;\n\
             update scada set wind_direction = 'NaN' where extract(minute from ts)::int % 29 = 7;",
        )
        .await
        .unwrap();
    (src, days)
}

/// `scada_t`: the rows of `scada` in a table keyed (ts, turbine_id).
pub(crate) async fn copy_keyed_on_time(src: &str) {
    client(src)
        .await
        .batch_execute(
            "create table scada_t as select * from scada; \
             alter table scada_t add primary key (ts, turbine_id)",
        )
        .await
        .unwrap();
}

pub(crate) fn scada_layout() -> SourceLayout {
    SourceLayout {
        table: "scada".into(),
        time_column: "ts".into(),
        asset_column: Some("turbine_id".into()),
        naive_timezone: None,
    }
}

/// (asset, microseconds, signal) -> value of the target.
pub(crate) async fn target_rows_by_asset(tgt: &str) -> BTreeMap<(String, i64, String), f64> {
    let rows = client(tgt)
        .await
        .query(
            "select s.asset, (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
             from data d join signal s on s.id = d.signal_id",
            &[],
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let prev = out.insert((r.get(0), r.get(1), r.get(2)), r.get::<_, f64>(3));
        assert!(prev.is_none(), "duplicate row in the target");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_farm_table_matches_postgres_own_sql() {
    let (src, days) = scada_source("farm_src", 6, "2024-03-30", 2).await;
    let tgt = fresh_db("farm_tgt").await;
    let (s, t): (Location, Location) = (src.parse().unwrap(), tgt.parse().unwrap());
    t.init_target().await.unwrap();
    let config = RunConfig::builder(s, t)
        .layout(scada_layout())
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .days(RunDays::Range(days))
        .build()
        .unwrap();
    let summary = config.run(|_| {}).await.unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    assert_eq!(summary.rows_in(), 6 * 1440 * 2);
    let q = summary.quality();
    assert!(q.missing > 0, "NaN and NULL samples are counted");
    assert_eq!(q.duplicates, 0);
    let got = target_rows_by_asset(&tgt).await;

    // The oracle: PostgreSQL itself, per turbine and 10-minute bin.
    let sql = "
        with s as (
          select turbine_id,
                 date_bin('10 minutes', ts, timestamptz '2000-01-01 00:00+00') as w,
                 nullif(wind_speed, 'NaN') as ws, nullif(power, 'NaN') as p,
                 nullif(wind_direction, 'NaN') as d
          from scada
        ), a as (
          select turbine_id, w,
                 avg(ws) ws_mean, min(ws) ws_min, max(ws) ws_max, stddev_samp(ws) ws_std,
                 avg(p) p_mean, min(p) p_min, max(p) p_max, stddev_samp(p) p_std,
                 avg(sin(radians(d))) sd, avg(cos(radians(d))) cd, count(d) nd
          from s group by 1, 2
        )
        select turbine_id, (extract(epoch from w) * 1000000)::int8, name, value from a,
        lateral (values
          ('wind_speed_mean', ws_mean), ('wind_speed_min', ws_min),
          ('wind_speed_max', ws_max), ('wind_speed_std', ws_std),
          ('power_mean', p_mean), ('power_min', p_min),
          ('power_max', p_max), ('power_std', p_std),
          ('wind_direction_mean',
             case when nd > 0 then mod(degrees(atan2(sd, cd))::numeric + 360, 360)::float8 end),
          ('wind_direction_std',
             case when nd > 1 then degrees(sqrt(-2 * ln(least(sqrt(sd * sd + cd * cd), 1.0)))) end)
        ) v(name, value)
        where value is not null";
    let rows = client(&src).await.query(sql, &[]).await.unwrap();
    let mut want: BTreeMap<(String, i64, String), f64> = BTreeMap::new();
    for r in rows {
        want.insert((r.get(0), r.get(1), r.get(2)), r.get(3));
    }
    assert!(want.len() > 6 * 288 * 9, "{}", want.len());
    let compared: BTreeMap<_, _> = got
        .iter()
        .filter(|(k, _)| !matches!(k.2.as_str(), "wind_direction_min" | "wind_direction_max"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(
        compared.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the same (turbine, window, signal) set"
    );
    for (k, w) in &want {
        let g = compared[k];
        let ok = if k.2 == "wind_direction_mean" {
            // Compare on the circle: 359.9999999 and 0 are the same direction.
            ((g - w + 180.0).rem_euclid(360.0) - 180.0).abs() < 1e-9
        } else {
            close(g, *w) || (g - w).abs() < 1e-9
        };
        assert!(ok, "{k:?}: windcore {g}, PostgreSQL {w}");
    }
    // The direction statistics have their own rows for each turbine.
    let turbines: std::collections::BTreeSet<&String> = got.keys().map(|k| &k.0).collect();
    assert_eq!(turbines.len(), 6);

    // A re-run changes nothing: same rows, same values.
    let again = config.run(|_| {}).await.unwrap();
    assert!(again.is_success());
    assert_eq!(target_rows_by_asset(&tgt).await, got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_migrates_a_target_of_the_previous_version() {
    let tgt = fresh_db("migrate").await;
    // The target as the previous windcore made it, with a loaded day.
    client(&tgt)
        .await
        .batch_execute(
            "create table signal (id serial primary key, name text not null unique);\n\
             create table data (timestamp timestamptz not null, \
               signal_id integer not null references signal(id), value float8 not null, \
               primary key (signal_id, timestamp));\n\
             insert into signal (name) values ('wind_speed_mean'), ('power_mean');\n\
             insert into data values ('2024-01-01 00:00+00', 1, 7.5), ('2024-01-01 00:00+00', 2, 900);",
        )
        .await
        .unwrap();
    let loc: Location = tgt.parse().unwrap();
    let err = PostgresTarget::connect(&tgt).await.err().unwrap();
    assert!(err.to_string().contains("windcore-cli init"), "{err}");
    loc.init_target().await.unwrap();
    loc.init_target().await.unwrap(); // idempotent
                                      // The old rows are kept, with asset '' and their ids.
    assert_eq!(
        count(
            &tgt,
            "select count(*) from signal where asset = '' and id in (1, 2)"
        )
        .await,
        2
    );
    assert_eq!(count(&tgt, "select count(*) from data").await, 2);
    // (asset, name) is the key now: the same name on two assets is allowed...
    client(&tgt)
        .await
        .batch_execute("insert into signal (asset, name) values ('T01', 'wind_speed_mean')")
        .await
        .unwrap();
    // ... and the same pair twice is not.
    assert!(client(&tgt)
        .await
        .batch_execute("insert into signal (asset, name) values ('T01', 'wind_speed_mean')")
        .await
        .is_err());
    // A farm run loads into the migrated target.
    let (src, days) = scada_source("migrate_src", 5, "2024-01-01", 1).await;
    let config = RunConfig::builder(src.parse().unwrap(), loc)
        .layout(scada_layout())
        .angles(["wind_direction"])
        .variables(["wind_speed", "wind_direction"])
        .days(RunDays::Range(days))
        .build()
        .unwrap();
    let summary = config.run(|_| {}).await.unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    assert_eq!(
        count(
            &tgt,
            "select count(distinct asset) from signal s join data d on d.signal_id = s.id \
             where s.name like 'wind_%'"
        )
        .await,
        5
    );
    // The day's rows of the signals written are replaced (the old single-asset
    // wind_speed_mean is gone); power_mean was not written and stays.
    assert_eq!(
        count(
            &tgt,
            "select count(*) from data d join signal s on s.id = d.signal_id where s.asset = ''"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_channels_are_discovered_and_allow_listed() {
    let (src, _) = scada_source("discover", 2, "2024-01-01", 1).await;
    let s = PostgresSource::connect_layout(&src, &scada_layout(), 2)
        .await
        .unwrap();
    assert_eq!(
        windcore::Extract::variables(&s),
        ["wind_speed", "power", "wind_direction"]
    );
    let r = day("2024-01-01").range();
    let err = windcore::Extract::extract(&s, r, &["power; drop table scada".to_string()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown variable"), "{err}");
    let df = windcore::Extract::extract(&s, r, &["power".to_string()])
        .await
        .unwrap();
    assert_eq!(df.get_column_names(), ["timestamp", "asset", "power"]);
    assert_eq!(df.height(), 2 * 1440);
    // A missing table or column is named.
    let bad = SourceLayout {
        asset_column: Some("turbine".into()),
        ..scada_layout()
    };
    let err = PostgresSource::connect_layout(&src, &bad, 1)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("no column `turbine`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_read_without_an_index_is_reported_with_the_index_to_create() {
    let src = fresh_db("layout_warning").await;
    PostgresSource::init(&src).await.unwrap();
    client(&src)
        .await
        .batch_execute(
            "create table bare (ts timestamptz not null, power float8);\n\
             create view bare_view as select * from bare;\n\
             create table farm (turbine_id text not null, ts timestamptz not null, power float8);\n\
             create index on farm (turbine_id);",
        )
        .await
        .unwrap();
    let warning = |table: &'static str, asset: Option<&'static str>| {
        let src = src.clone();
        async move {
            let layout = SourceLayout {
                table: table.into(),
                time_column: if table == "data" { "timestamp" } else { "ts" }.into(),
                asset_column: asset.map(Into::into),
                naive_timezone: None,
            };
            PostgresSource::connect_layout(&src, &layout, 1)
                .await
                .unwrap()
                .layout_warning()
        }
    };
    // Keyed on time (the reference table made by init), or a view: nothing to say.
    assert_eq!(warning("data", None).await, None);
    assert_eq!(warning("bare_view", None).await, None);
    // No index on the time column: named, with the index to create.
    let bare = warning("bare", None).await.unwrap();
    assert!(!bare.contains('\n'), "{bare}");
    assert!(bare.contains("`bare`") && bare.contains("`ts`"), "{bare}");
    assert!(
        bare.ends_with("CREATE INDEX ON \"bare\" (\"ts\")"),
        "{bare}"
    );
    let w = warning("farm", Some("turbine_id")).await.unwrap();
    assert!(
        w.ends_with("CREATE INDEX ON \"farm\" (\"ts\", \"turbine_id\")"),
        "{w}"
    );
    // Following the advice (or keying the farm on (asset, time), read asset
    // by asset) silences it.
    client(&src)
        .await
        .batch_execute(&bare[bare.find("CREATE INDEX").unwrap()..])
        .await
        .unwrap();
    assert_eq!(warning("bare", None).await, None);
    client(&src)
        .await
        .batch_execute("alter table farm add primary key (turbine_id, ts)")
        .await
        .unwrap();
    assert_eq!(warning("farm", Some("turbine_id")).await, None);
}

/// (asset, day) -> (min xmin, max xmin, rows) of the target's data rows.
async fn xmins(tgt: &str) -> BTreeMap<(String, String), (i64, i64, i64)> {
    let rows = client(tgt)
        .await
        .query(
            "select s.asset, (d.timestamp at time zone 'UTC')::date::text, \
                    min(d.xmin::text::int8), max(d.xmin::text::int8), count(*) \
             from data d join signal s on s.id = d.signal_id group by 1, 2",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4))))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_data_rewrites_exactly_the_changed_day_asset_pairs() {
    let (src, days) = scada_source("late_src", 5, "2024-01-01", 60).await;
    // Samples of T03 on three past days arrive late: hold them back first.
    let c = client(&src).await;
    c.batch_execute(
        "create table late as select * from scada where turbine_id = 'T03' \
           and ts::date in ('2024-01-05', '2024-01-20', '2024-02-11') \
           and extract(hour from ts) between 10 and 11;\n\
         delete from scada s using late l where s.turbine_id = l.turbine_id and s.ts = l.ts;",
    )
    .await
    .unwrap();
    assert_eq!(count(&src, "select count(*) from late").await, 3 * 120);
    let tgt = fresh_db("late_tgt").await;
    let t: Location = tgt.parse().unwrap();
    t.init_target().await.unwrap();
    let config = |target: Location, changed: bool| {
        RunConfig::builder(src.parse().unwrap(), target)
            .layout(scada_layout())
            .variables(["wind_speed", "power", "wind_direction"])
            .angles(["wind_direction"])
            .days(RunDays::Range(days))
            .changed_only(changed)
            .jobs(2)
            .build()
            .unwrap()
    };
    // Fully loaded (an incremental run into an empty target loads everything as new).
    let first = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert!(first.is_success(), "{:?}", first.first_error());
    assert_eq!(first.pairs(), (0, 0, 300, 0));
    let before = xmins(&tgt).await;
    assert_eq!(before.len(), 300);

    // The late samples arrive.
    c.batch_execute("insert into scada select * from late")
        .await
        .unwrap();
    let second = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert!(second.is_success(), "{:?}", second.first_error());
    assert_eq!(second.pairs(), (297, 3, 0, 0));
    assert_eq!(second.unchanged_days(), 57);
    // The database says so too: exactly those three pairs have new row versions.
    let after = xmins(&tgt).await;
    let rewritten: Vec<&(String, String)> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        rewritten,
        [
            &("T03".to_string(), "2024-01-05".to_string()),
            &("T03".to_string(), "2024-01-20".to_string()),
            &("T03".to_string(), "2024-02-11".to_string()),
        ]
    );
    for k in &rewritten {
        assert!(after[*k].0 > before[*k].1, "{k:?}: old rows left behind");
    }

    // The target equals a full recompute into an empty target.
    let fresh = fresh_db("late_full").await;
    let f: Location = fresh.parse().unwrap();
    f.init_target().await.unwrap();
    let full = config(f, false).run(|_| {}).await.unwrap();
    assert!(full.is_success());
    assert_eq!(
        target_rows_by_asset(&tgt).await,
        target_rows_by_asset(&fresh).await
    );

    // Nothing changed since: nothing is written.
    let third = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert_eq!(third.pairs(), (300, 0, 0, 0));
    assert_eq!(third.rows_out(), 0);
    assert_eq!(third.unchanged_days(), 60);
    assert_eq!(xmins(&tgt).await, after);

    // Other settings make every pair "changed".
    let other = RunConfig::builder(src.parse().unwrap(), t.clone())
        .layout(scada_layout())
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .min_count(5)
        .days(RunDays::One(day("2024-01-01")))
        .changed_only(true)
        .build()
        .unwrap()
        .run(|_| {})
        .await
        .unwrap();
    assert_eq!(other.pairs(), (0, 5, 0, 0));

    // A turbine whose samples of a day are all deleted loses that day's statistics.
    c.batch_execute("delete from scada where turbine_id = 'T05' and ts::date = '2024-01-02'")
        .await
        .unwrap();
    let gone = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert_eq!(gone.pairs().3, 1);
    assert!(!xmins(&tgt)
        .await
        .contains_key(&("T05".to_string(), "2024-01-02".to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_local_source_on_the_fall_back_day() {
    // A logger on local time: naive timestamps, the 02:00-03:00 hour written twice.
    let src = fresh_db("naive").await;
    let c = client(&src).await;
    c.batch_execute(
        "create table log (ts timestamp not null, power float8);\n\
         insert into log select t, extract(minute from t) \
           from generate_series(timestamp '2025-10-26 00:00', timestamp '2025-10-26 23:59', \
                                interval '1 minute') t;\n\
         insert into log select t, -1 \
           from generate_series(timestamp '2025-10-26 02:00', timestamp '2025-10-26 02:59', \
                                interval '1 minute') t;",
    )
    .await
    .unwrap();
    let tgt = fresh_db("naive_tgt").await;
    let t: Location = tgt.parse().unwrap();
    t.init_target().await.unwrap();
    let berlin: windcore::Zone = "Europe/Berlin".parse().unwrap();
    let layout = SourceLayout {
        table: "log".into(),
        time_column: "ts".into(),
        asset_column: None,
        naive_timezone: Some(berlin),
    };
    let summary = RunConfig::builder(src.parse().unwrap(), t)
        .layout(layout.clone())
        .variables(["power"])
        .stats([Stat::Mean, Stat::Count])
        .timezone(berlin)
        .days(RunDays::AllInSource)
        .build()
        .unwrap()
        .run(|_| {})
        .await
        .unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    // Every local time falls on the local day 2025-10-26.
    assert_eq!(summary.days.len(), 1);
    assert_eq!(summary.days[0].day, day("2025-10-26"));
    let q = summary.quality();
    // The repeated hour's two passes land on the same (standard-time) instants.
    assert_eq!(q.samples, 1440 + 60);
    assert_eq!(q.duplicates, 60);
    // 25 hours, of which the summer-time 02:00-03:00 has no sample: 144 windows.
    assert_eq!(summary.windows(), 144);
    let got = target_rows_by_asset(&tgt).await;
    let range = berlin.day_range(day("2025-10-26"));
    // 02:00 CET = 01:00 UTC: the later row (-1) of each pair is kept.
    let at = |h: i64, m: i64| range.start_micros() + (h * 60 + m) * 60_000_000;
    assert_eq!(
        got[&(String::new(), at(3, 0), "power_mean".to_string())],
        -1.0
    );
    // A timestamptz column refuses --source-timezone.
    let (farm, _) = scada_source("naive_tz", 2, "2024-01-01", 1).await;
    let err = PostgresSource::connect_layout(
        &farm,
        &SourceLayout {
            naive_timezone: Some(berlin),
            ..scada_layout()
        },
        1,
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("naive"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_batches_add_up_to_the_whole_farm() {
    let (src, days) = scada_source("batches_src", 5, "2024-01-01", 2).await;
    let run = |tgt: String, assets: Option<Vec<&'static str>>, changed: bool| {
        let src = src.clone();
        async move {
            let mut b = RunConfig::builder(src.parse().unwrap(), tgt.parse().unwrap())
                .layout(scada_layout())
                .days(RunDays::Range(days))
                .changed_only(changed);
            if let Some(a) = assets {
                b = b.assets(a);
            }
            let s = b.build().unwrap().run(|_| {}).await.unwrap();
            assert!(s.is_success(), "{:?}", s.first_error());
            s
        }
    };
    let (whole, batched) = (fresh_db("batches_whole").await, fresh_db("batches").await);
    for t in [&whole, &batched] {
        t.parse::<Location>().unwrap().init_target().await.unwrap();
    }
    run(whole.clone(), None, false).await;
    let first = run(batched.clone(), Some(vec!["T01", "T02"]), false).await;
    assert_eq!(first.rows_in(), 2 * 2 * 1440);
    run(
        batched.clone(),
        Some(vec!["T03", "T04", "T05", "T99"]),
        false,
    )
    .await;
    assert_eq!(
        target_rows_by_asset(&whole).await,
        target_rows_by_asset(&batched).await
    );
    // A batch's incremental re-run sees only its own pairs.
    let again = run(batched.clone(), Some(vec!["T01", "T02"]), true).await;
    assert_eq!(again.pairs(), (4, 0, 0, 0));
    // Asset names go into the SQL as escaped literals.
    let odd = run(
        batched.clone(),
        Some(vec!["x'); drop table scada; --"]),
        false,
    )
    .await;
    assert_eq!(odd.rows_in(), 0);
    assert_eq!(
        count(&src, "select count(*) from scada").await,
        5 * 2 * 1440
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_on_asset_and_time_reads_the_same_as_keyed_on_time() {
    // `scada` is keyed (turbine_id, ts): a day's rows are read asset by asset
    // through that index. `scada_t` holds the same rows keyed (ts,
    // turbine_id): read with a plain range condition. Same statistics, same
    // load records (fingerprints), also for a subset of the assets.
    let (src, days) = scada_source("keyorder_src", 4, "2024-03-30", 2).await;
    copy_keyed_on_time(&src).await;
    let run = |table: &'static str, assets: Option<Vec<&'static str>>| {
        let src = src.clone();
        async move {
            let tgt = fresh_db("keyorder_tgt").await;
            tgt.parse::<Location>()
                .unwrap()
                .init_target()
                .await
                .unwrap();
            let mut layout = scada_layout();
            layout.table = table.into();
            let mut b = RunConfig::builder(src.parse().unwrap(), tgt.parse().unwrap())
                .layout(layout)
                .variables(["wind_speed", "power", "wind_direction"])
                .angles(["wind_direction"])
                .days(RunDays::Range(days));
            if let Some(a) = assets {
                b = b.assets(a);
            }
            let s = b.build().unwrap().run(|_| {}).await.unwrap();
            assert!(s.is_success(), "{:?}", s.first_error());
            let loads: Vec<(String, String)> = client(&tgt)
                .await
                .query(
                    "select day::text || ' ' || asset, fingerprint from windcore_load order by 1",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            (s.rows_in(), target_rows_by_asset(&tgt).await, loads)
        }
    };
    for assets in [None, Some(vec!["T02", "T04"])] {
        let by_asset = run("scada", assets.clone()).await;
        let by_time = run("scada_t", assets).await;
        assert!(by_asset.0 > 0 && !by_asset.1.is_empty() && !by_asset.2.is_empty());
        assert_eq!(by_asset, by_time);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_assets_of_every_day_by_index_and_by_distinct() {
    // The newest day lacks T03; `scada` is keyed (turbine_id, ts) (a loose
    // index scan), `scada_t` (ts, turbine_id) (select distinct).
    let (src, _) = scada_source("assets_src", 3, "2024-01-01", 2).await;
    client(&src)
        .await
        .batch_execute(
            "delete from scada where turbine_id = 'T03' and ts >= '2024-01-02'; \
             create table scada_t as select * from scada; \
             alter table scada_t add primary key (ts, turbine_id)",
        )
        .await
        .unwrap();
    let loc: Location = src.parse().unwrap();
    for table in ["scada", "scada_t"] {
        let mut layout = scada_layout();
        layout.table = table.into();
        assert_eq!(
            loc.source_assets(&layout).await.unwrap(),
            ["T01", "T02", "T03"],
            "{table}"
        );
    }
    // The reference table has no asset column: one asset.
    let (one, _, _) = setup("assets_one", "2024-01-01", 1).await;
    let one: Location = one.parse().unwrap();
    assert!(one
        .source_assets(&SourceLayout::default())
        .await
        .unwrap()
        .is_empty());
}
