//! Late data: an incremental run (`--changed`) of a year against a full run of
//! the same year, on the same server, in the same run.
//!
//!     benches/run incremental_postgres     # starts a throwaway PostgreSQL itself
//!
//! or `WINDCORE_BENCH_DATABASE_URL=postgres://… cargo bench --bench incremental_postgres`.
//!
//! Source: a farm of 5 turbines × 365 days of 1-minute samples (2,628,000 rows)
//! in a user table `scada(turbine_id, ts, ...)`. Measured:
//! 1. a full run of the year into an empty target (every day replaced);
//! 2. a no-change incremental run of the year (3 times: best and worst);
//! 3. late samples into 3 past days of one turbine, then an incremental run.
//!
//! Goal: the no-change incremental run takes ≤ 5 % of the full run (worst run).

use std::time::Instant;

use tokio_postgres::NoTls;
use windcore::{Day, DayRange, Generator, Location, RunConfig, RunDays, SourceLayout};

fn with_db(url: &str, db: &str) -> String {
    let cut = url.rfind('/').expect("URL with a database");
    format!("{}/{db}", &url[..cut])
}

async fn exec(url: &str, sql: &str) {
    let (c, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    c.batch_execute(sql).await.expect(sql);
}

async fn fresh(admin: &str, name: &str) -> String {
    exec(admin, &format!("drop database if exists {name}")).await;
    exec(admin, &format!("create database {name}")).await;
    with_db(admin, name)
}

fn layout() -> SourceLayout {
    SourceLayout {
        table: "scada".into(),
        time_column: "ts".into(),
        asset_column: Some("turbine_id".into()),
        naive_timezone: None,
    }
}

async fn run(src: &str, tgt: &str, days: DayRange, changed: bool) -> (f64, windcore::RunSummary) {
    let t = Instant::now();
    let s = RunConfig::builder(src.parse().unwrap(), tgt.parse().unwrap())
        .layout(layout())
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .days(RunDays::Range(days))
        .changed_only(changed)
        .jobs(2)
        .build()
        .unwrap()
        .run(|_| {})
        .await
        .unwrap();
    assert!(s.is_success(), "{:?}", s.first_error());
    (t.elapsed().as_secs_f64(), s)
}

#[tokio::main]
async fn main() {
    let admin = std::env::var("WINDCORE_BENCH_DATABASE_URL")
        .expect("WINDCORE_BENCH_DATABASE_URL (use benches/run incremental_postgres)");
    let turbines = 5;
    let first: Day = "2023-01-01".parse().unwrap();
    let days = DayRange::starting(first, 365).unwrap();
    let src = fresh(&admin, "wc_bench_inc_src").await;
    let tgt = fresh(&admin, "wc_bench_inc_tgt").await;
    let t = Instant::now();
    let g = Generator::builder().turbines(turbines).build().unwrap();
    src.parse::<Location>()
        .unwrap()
        .generate_layout(&layout(), days, &g, |_| {})
        .await
        .unwrap();
    exec(&src, "vacuum analyze scada").await;
    tgt.parse::<Location>()
        .unwrap()
        .init_target()
        .await
        .unwrap();
    println!(
        "source: {turbines} turbines x 365 days ({} rows), generated in {:.1} s",
        turbines as usize * 365 * 1440,
        t.elapsed().as_secs_f64()
    );

    let (full, s) = run(&src, &tgt, days, false).await;
    println!(
        "full run:                {full:8.3} s  ({} rows in, {} rows out)",
        s.rows_in(),
        s.rows_out()
    );
    let mut inc = Vec::new();
    for _ in 0..3 {
        let (secs, s) = run(&src, &tgt, days, true).await;
        assert_eq!(s.rows_out(), 0);
        assert_eq!(s.unchanged_days(), 365);
        inc.push(secs);
    }
    let best = inc.iter().cloned().fold(f64::INFINITY, f64::min);
    let worst = inc.iter().cloned().fold(0.0, f64::max);
    println!(
        "incremental, no change:  {best:8.3} s best, {worst:.3} s worst  (0 rows written, 365 days unchanged)"
    );
    println!(
        "ratio incremental / full: {:.1} % best, {:.1} % worst  (goal <= 5 %)",
        100.0 * best / full,
        100.0 * worst / full
    );
    // Late samples in three past days of one turbine.
    exec(
        &src,
        "update scada set power = power + 1 where turbine_id = 'T03' \
         and ts::date in ('2023-02-01', '2023-06-15', '2023-11-30') and extract(hour from ts) = 12",
    )
    .await;
    let (late, s) = run(&src, &tgt, days, true).await;
    println!(
        "incremental, 3 late (day, asset) pairs: {late:.3} s  (pairs unchanged/changed/new/removed = {:?}, {} rows written)",
        s.pairs(),
        s.rows_out()
    );
}
