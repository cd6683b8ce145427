//! End-to-end ETL against PostgreSQL, beside the floor and the reference design,
//! all measured in the same run on the same server.
//!
//!     benches/run etl_postgres        # starts a throwaway PostgreSQL itself
//!
//! or, with a server of your own (a superuser URL; the bench creates its databases):
//!
//!     WINDCORE_BENCH_DATABASE_URL=postgres://… WINDCORE_PYTHON=… cargo bench --bench etl_postgres
//!
//! 1. windcore: one year (525,600 source rows) PostgreSQL → PostgreSQL, 2 variables × 4 stats.
//! 2. The floor: `psql` binary `COPY` out of the same source rows plus binary `COPY`
//!    in of the same target rows into an identically defined and indexed table.
//! 3. The reference Python design (pandas.read_sql, pandas resample, SQLAlchemy ORM
//!    inserts, one object per row) on 10 days, against windcore on the same 10 days.
//! 4. Peak RSS of `windcore-cli run --from D1 --to D2` over 30 and over 365 days.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use tokio_postgres::NoTls;
use windcore::{Day, DayRange, Generator, Location, Pipeline, PostgresSource, PostgresTarget};
use windcore_benches::run_python;

fn with_db(url: &str, db: &str) -> String {
    let cut = url.rfind('/').expect("URL with a database");
    format!("{}/{db}", &url[..cut])
}

async fn exec(url: &str, sql: &str) {
    let (c, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    c.batch_execute(sql).await.expect(sql);
}

async fn scalar(url: &str, sql: &str) -> i64 {
    let (c, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    c.query_one(sql, &[]).await.expect(sql).get(0)
}

fn psql(url: &str, sql: &str, stdin: Option<&Path>, stdout: Option<&Path>) -> f64 {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]);
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).expect("open")),
        None => Stdio::null(),
    });
    cmd.stdout(match stdout {
        Some(p) => Stdio::from(std::fs::File::create(p).expect("create")),
        None => Stdio::null(),
    });
    let t = Instant::now();
    let st = cmd.status().expect("psql runs");
    assert!(st.success(), "psql failed: {sql}");
    t.elapsed().as_secs_f64()
}

async fn fresh_target(admin: &str, name: &str) -> String {
    exec(admin, &format!("drop database if exists {name}")).await;
    exec(admin, &format!("create database {name}")).await;
    let url = with_db(admin, name);
    url.parse::<Location>()
        .unwrap()
        .init_target()
        .await
        .unwrap();
    url
}

async fn windcore_run(src: &str, tgt: &str, days: DayRange, jobs: usize) -> f64 {
    let t = Instant::now();
    let p = Pipeline::builder(
        PostgresSource::connect(src).await.unwrap(),
        PostgresTarget::connect(tgt).await.unwrap(),
    )
    .jobs(jobs)
    .build()
    .unwrap();
    let s = p.run(days.iter(), |_| {}).await;
    assert!(s.is_success(), "{:?}", s.first_error());
    t.elapsed().as_secs_f64()
}

fn peak_rss_kib(args: &[&str]) -> u64 {
    let exe = std::env::var("WINDCORE_CLI").expect("WINDCORE_CLI: path of a release windcore-cli");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(&exe)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("time printed %M")
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("etl_postgres: bench");
        return;
    }
    let admin = std::env::var("WINDCORE_BENCH_DATABASE_URL")
        .expect("WINDCORE_BENCH_DATABASE_URL (a superuser URL) or run benches/run etl_postgres");
    let year = DayRange::starting(Day::from_ymd(2023, 1, 1).unwrap(), 365).unwrap();
    let ten = DayRange::starting(Day::from_ymd(2023, 6, 1).unwrap(), 10).unwrap();

    exec(&admin, "drop database if exists wcbench_src").await;
    exec(&admin, "create database wcbench_src").await;
    let src = with_db(&admin, "wcbench_src");
    let src_loc: Location = src.parse().unwrap();
    src_loc.init_source().await.unwrap();
    src_loc
        .generate(year, &Generator::default(), |_| {})
        .await
        .unwrap();
    exec(&src, "vacuum analyze data").await;
    let rows = scalar(&src, "select count(*) from data").await;
    println!("etl_postgres benchmark: {rows} source rows (one year of 1-minute samples)");

    // 1. windcore, one year, best of 3 into a fresh target each time.
    let mut wc = f64::INFINITY;
    let mut tgt = String::new();
    for _ in 0..3 {
        tgt = fresh_target(&admin, "wcbench_tgt").await;
        wc = wc.min(windcore_run(&src, &tgt, year, 4).await);
    }
    let out_rows = scalar(&tgt, "select count(*) from data").await;

    // 2. The floor: COPY out of the same source rows, COPY in of the same target rows.
    let dir = std::env::temp_dir().join(format!("wcbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tbin = dir.join("target.bin");
    psql(
        &tgt,
        "copy (select timestamp, signal_id, value from data) to stdout (format binary)",
        None,
        Some(&tbin),
    );
    let mut floor = f64::INFINITY;
    let (mut f_out, mut f_in) = (0.0, 0.0);
    for _ in 0..3 {
        exec(
            &tgt,
            "drop table if exists data_floor; \
             create table data_floor (timestamp timestamptz not null, \
                signal_id integer not null references signal(id), value float8 not null, \
                primary key (signal_id, timestamp))",
        )
        .await;
        let o = psql(
            &src,
            "copy (select timestamp, wind_speed, power from data where timestamp >= '2023-01-01' and timestamp < '2024-01-01' order by timestamp) to stdout (format binary)",
            None,
            Some(&dir.join("source.bin")),
        );
        let i = psql(
            &tgt,
            "copy data_floor (timestamp, signal_id, value) from stdin (format binary)",
            Some(&tbin),
            None,
        );
        if o + i < floor {
            floor = o + i;
            f_out = o;
            f_in = i;
        }
    }

    // 3. Reference design vs windcore on 10 days.
    let ref_tgt = with_db(&admin, "wcbench_ref");
    exec(&admin, "drop database if exists wcbench_ref").await;
    exec(&admin, "create database wcbench_ref").await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference_etl.py");
    let reference = run_python(
        &script,
        &[
            &src,
            &ref_tgt,
            &ten.first().to_string(),
            &ten.len().to_string(),
        ],
    );
    let ref_secs = reference
        .iter()
        .find(|(n, _)| n == "reference_etl")
        .map(|(_, s)| *s)
        .expect("timing");
    let ref_rows = scalar(&ref_tgt, "select count(*) from data").await;
    let wc10_tgt = fresh_target(&admin, "wcbench_tgt10").await;
    let mut wc10 = f64::INFINITY;
    for _ in 0..3 {
        wc10 = wc10.min(windcore_run(&src, &wc10_tgt, ten, 4).await);
    }
    let wc10_rows = scalar(&wc10_tgt, "select count(*) from data").await;

    // 4. Peak RSS of the CLI: 30 days vs the whole year.
    let rss = std::env::var("WINDCORE_CLI").ok().map(|_| {
        let t30 = fresh_target_blocking(&admin, "wcbench_rss30");
        let t365 = fresh_target_blocking(&admin, "wcbench_rss365");
        let r30 = peak_rss_kib(&[
            "run",
            "--source",
            &src,
            "--target",
            &t30,
            "--from",
            "2023-03-01",
            "--to",
            "2023-03-30",
            "--quiet",
        ]);
        let r365 = peak_rss_kib(&[
            "run",
            "--source",
            &src,
            "--target",
            &t365,
            "--from",
            "2023-01-01",
            "--to",
            "2023-12-31",
            "--quiet",
        ]);
        (r30, r365)
    });
    let _ = std::fs::remove_dir_all(&dir);

    println!("{:<58} {:>9} {:>10}", "what", "seconds", "ratio");
    println!(
        "{:<58} {:>9.3} {:>10}",
        format!("windcore 365 days ({rows} rows in, {out_rows} out, 4 jobs)"),
        wc,
        ""
    );
    println!(
        "{:<58} {:>9.3} {:>10}",
        format!("floor: psql COPY out {f_out:.3} s + COPY in {f_in:.3} s"),
        floor,
        ""
    );
    println!(
        "ratio: windcore / floor = {:.2}x (goal <= 1.5x)",
        wc / floor
    );
    println!(
        "{:<58} {:>9.3}",
        format!("reference Python design, 10 days ({ref_rows} rows out)"),
        ref_secs
    );
    println!(
        "{:<58} {:>9.3}",
        format!("windcore, same 10 days ({wc10_rows} rows out)"),
        wc10
    );
    println!(
        "ratio: windcore is {:.0}x faster than the reference design",
        ref_secs / wc10
    );
    if let Some((r30, r365)) = rss {
        println!(
            "peak RSS windcore-cli run: 30 days {:.1} MiB, 365 days {:.1} MiB",
            r30 as f64 / 1024.0,
            r365 as f64 / 1024.0
        );
    }
}

fn fresh_target_blocking(admin: &str, name: &str) -> String {
    let admin = admin.to_string();
    let name = name.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(fresh_target(&admin, &name))
    })
    .join()
    .unwrap()
}
