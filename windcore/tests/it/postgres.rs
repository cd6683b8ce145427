//! The PostgreSQL source and target against a real server.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use windcore::{
    Day, DayOutcome, DayRange, Generator, Load, Location, Pipeline, PostgresSource, PostgresTarget,
    Resampler, Stat,
};

use crate::pg_util::{admin_url, client, fresh_db, Proxy};

pub(crate) fn day(s: &str) -> Day {
    s.parse().unwrap()
}

/// Source and target databases, initialised, with `n` generated days from `first`.
pub(crate) async fn setup(tag: &str, first: &str, n: u32) -> (String, String, DayRange) {
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

pub(crate) async fn pipeline(src: &str, tgt: &str) -> Pipeline {
    Pipeline::builder(
        PostgresSource::connect(src).await.unwrap(),
        PostgresTarget::connect(tgt).await.unwrap(),
    )
    .build()
    .unwrap()
}

/// (microseconds, signal) -> value of the target.
pub(crate) async fn target_rows(tgt: &str) -> BTreeMap<(i64, String), f64> {
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

pub(crate) async fn count(url: &str, sql: &str) -> i64 {
    client(url).await.query_one(sql, &[]).await.unwrap().get(0)
}

pub(crate) fn close(a: f64, b: f64) -> bool {
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
