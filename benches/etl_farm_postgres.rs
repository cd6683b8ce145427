//! End-to-end ETL of a wind farm, PostgreSQL → PostgreSQL, beside the floor,
//! measured in the same run on the same server.
//!
//!     benches/run etl_farm_postgres        # starts a throwaway PostgreSQL itself
//!
//! or with a server of your own (a superuser URL; the bench creates its databases):
//!
//!     WINDCORE_BENCH_DATABASE_URL=postgres://… WINDCORE_CLI=… cargo bench --bench etl_farm_postgres
//!
//! Source: a user table `scada(turbine_id text, ts timestamptz, wind_speed,
//! power, wind_direction float8, primary key (turbine_id, ts))` holding 20
//! turbines × one year (2023) of generated 1-minute samples: 10,512,000 rows.
//!
//! 1. windcore: `RunConfig` with the table layout, the three variables,
//!    `wind_direction` an angle, 365 days, `--jobs 2` and `--jobs 4`, into a
//!    fresh `init`ed target each time (best and worst of 3 each).
//! 2. The floor: `psql` binary `COPY (select …) TO STDOUT` of the same source
//!    rows, plus `psql` binary `COPY … FROM STDIN` of windcore's target rows
//!    (dumped to a file first) into an empty table with the same primary key
//!    and the same foreign key to `signal` (best and worst of 3).
//! 3. Peak RSS of `windcore-cli run` over 30 and over 365 days (`/usr/bin/time`).
//!
//! `WINDCORE_BENCH_TURBINES` (default 20) scales the farm.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use copy_binary::*;
use tokio_postgres::NoTls;
use windcore::{Day, DayRange, Generator, Location, RunConfig, RunDays, SourceLayout};
use windcore_benches::timestamps;

mod copy_binary {
    /// Big-endian writers for the binary COPY format.
    pub fn put_i16(b: &mut Vec<u8>, v: i16) {
        b.extend_from_slice(&v.to_be_bytes());
    }
    pub fn put_i32(b: &mut Vec<u8>, v: i32) {
        b.extend_from_slice(&v.to_be_bytes());
    }
    pub fn put_i64(b: &mut Vec<u8>, v: i64) {
        b.extend_from_slice(&v.to_be_bytes());
    }
    pub fn put_f64(b: &mut Vec<u8>, v: f64) {
        b.extend_from_slice(&v.to_be_bytes());
    }
}

const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

fn with_db(url: &str, db: &str) -> String {
    let cut = url.rfind('/').expect("URL with a database");
    format!("{}/{db}", &url[..cut])
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    c
}

async fn exec(url: &str, sql: &str) {
    client(url).await.batch_execute(sql).await.expect(sql);
}

async fn scalar(url: &str, sql: &str) -> i64 {
    client(url)
        .await
        .query_one(sql, &[])
        .await
        .expect(sql)
        .get(0)
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

/// Fills `scada` with the generator's farm days by binary COPY (one
/// transaction), then adds the primary key and analyzes.
async fn fill_source(url: &str, turbines: u32, year: DayRange) -> i64 {
    exec(
        url,
        "create table scada (turbine_id text not null, ts timestamptz not null, \
         wind_speed float8, power float8, wind_direction float8)",
    )
    .await;
    let g = Generator::builder().turbines(turbines).build().unwrap();
    let mut c = client(url).await;
    let tx = c.transaction().await.unwrap();
    let sink = tx
        .copy_in::<_, bytes::Bytes>(
            "copy scada (turbine_id, ts, wind_speed, power, wind_direction) from stdin (format binary)",
        )
        .await
        .unwrap();
    use futures_util::SinkExt;
    futures_util::pin_mut!(sink);
    let mut header = b"PGCOPY\n\xff\r\n\0".to_vec();
    put_i32(&mut header, 0);
    put_i32(&mut header, 0);
    sink.send(bytes::Bytes::from(header)).await.unwrap();
    for day in year.iter() {
        let df = g.day(day);
        let asset = df.column("asset").unwrap().str().unwrap().clone();
        let ts = timestamps(&df);
        let vars: Vec<_> = ["wind_speed", "power", "wind_direction"]
            .iter()
            .map(|n| df.column(n).unwrap().f64().unwrap().clone())
            .collect();
        let mut b = Vec::with_capacity(df.height() * 64);
        for i in 0..df.height() {
            put_i16(&mut b, 5);
            let a = asset.get(i).unwrap();
            put_i32(&mut b, a.len() as i32);
            b.extend_from_slice(a.as_bytes());
            put_i32(&mut b, 8);
            put_i64(&mut b, ts.get(i).unwrap() - PG_EPOCH_OFFSET_US);
            for v in &vars {
                match v.get(i) {
                    Some(x) => {
                        put_i32(&mut b, 8);
                        put_f64(&mut b, x);
                    }
                    None => put_i32(&mut b, -1),
                }
            }
        }
        sink.send(bytes::Bytes::from(b)).await.unwrap();
    }
    sink.send(bytes::Bytes::from_static(&[0xff, 0xff]))
        .await
        .unwrap();
    let n = sink.finish().await.unwrap();
    tx.commit().await.unwrap();
    exec(url, "alter table scada add primary key (turbine_id, ts)").await;
    exec(url, "vacuum analyze scada").await;
    n as i64
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

fn layout() -> SourceLayout {
    SourceLayout {
        table: "scada".into(),
        time_column: "ts".into(),
        asset_column: Some("turbine_id".into()),
        naive_timezone: None,
    }
}

async fn windcore_run(src: &str, tgt: &str, days: DayRange, jobs: usize) -> (f64, u64, u64) {
    let t = Instant::now();
    let config = RunConfig::builder(src.parse().unwrap(), tgt.parse().unwrap())
        .layout(layout())
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .days(RunDays::Range(days))
        .jobs(jobs)
        .build()
        .unwrap();
    let s = config.run(|_| {}).await.unwrap();
    assert!(s.is_success(), "{:?}", s.first_error());
    (t.elapsed().as_secs_f64(), s.rows_in(), s.rows_out())
}

fn cli_rss_kib(args: &[&str]) -> (u64, f64) {
    let exe = std::env::var("WINDCORE_CLI").expect("WINDCORE_CLI: path of a release windcore-cli");
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(&exe)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time runs");
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let kib = err
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("time printed %M");
    (kib, secs)
}

fn stats(v: &[f64]) -> (f64, f64) {
    (
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(0.0, f64::max),
    )
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("etl_farm_postgres: bench");
        return;
    }
    let admin = std::env::var("WINDCORE_BENCH_DATABASE_URL").expect(
        "WINDCORE_BENCH_DATABASE_URL (a superuser URL) or run benches/run etl_farm_postgres",
    );
    let turbines: u32 = std::env::var("WINDCORE_BENCH_TURBINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let runs: usize = std::env::var("WINDCORE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let year = DayRange::starting(Day::from_ymd(2023, 1, 1).unwrap(), 365).unwrap();

    let src = with_db(&admin, "wcfarm_src");
    let keep = std::env::var_os("WINDCORE_BENCH_KEEP_SOURCE").is_some();
    let have = keep
        && client(&admin)
            .await
            .query_opt(
                "select 1 from pg_database where datname = 'wcfarm_src'",
                &[],
            )
            .await
            .unwrap()
            .is_some()
        && client(&src)
            .await
            .query_opt("select 1 from pg_tables where tablename = 'scada'", &[])
            .await
            .unwrap()
            .is_some();
    let rows = if have {
        scalar(&src, "select count(*) from scada").await
    } else {
        exec(&admin, "drop database if exists wcfarm_src").await;
        exec(&admin, "create database wcfarm_src").await;
        let t = Instant::now();
        let n = fill_source(&src, turbines, year).await;
        println!("source filled in {:.1} s", t.elapsed().as_secs_f64());
        n
    };
    let source_size: String = client(&src)
        .await
        .query_one(
            "select pg_size_pretty(pg_total_relation_size('scada'))",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    println!(
        "etl_farm_postgres benchmark: {rows} source rows ({turbines} turbines x 365 days, table scada {source_size}), \
         3 variables (wind_direction an angle) x 4 stats"
    );

    // 1. windcore.
    let mut wc: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut tgt = String::new();
    let mut out_rows = 0;
    for jobs in [2usize, 4] {
        let mut times = Vec::new();
        for _ in 0..runs {
            tgt = fresh_target(&admin, "wcfarm_tgt").await;
            let (secs, rin, rout) = windcore_run(&src, &tgt, year, jobs).await;
            assert_eq!(rin as i64, rows);
            out_rows = rout;
            println!("windcore --jobs {jobs}: {secs:.3} s ({rin} rows in, {rout} out)");
            times.push(secs);
        }
        wc.push((jobs, times));
    }

    // 2. The floor.
    let dir = std::env::temp_dir().join(format!("wcfarm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tbin = dir.join("target.bin");
    psql(
        &tgt,
        "copy (select timestamp, signal_id, value from data) to stdout (format binary)",
        None,
        Some(&tbin),
    );
    let (mut outs, mut ins, mut floors) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
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
            "copy (select ts, turbine_id, wind_speed, power, wind_direction from scada \
             where ts >= '2023-01-01 00:00:00+00' and ts < '2024-01-01 00:00:00+00') \
             to stdout (format binary)",
            None,
            Some(&dir.join("source.bin")),
        );
        let i = psql(
            &tgt,
            "copy data_floor (timestamp, signal_id, value) from stdin (format binary)",
            Some(&tbin),
            None,
        );
        println!(
            "floor: COPY out {o:.3} s + COPY in {i:.3} s = {:.3} s",
            o + i
        );
        outs.push(o);
        ins.push(i);
        floors.push(o + i);
    }
    let floor_rows = scalar(&tgt, "select count(*) from data_floor").await;
    assert_eq!(floor_rows as u64, out_rows);

    // 3. Peak RSS of the CLI, 30 days vs 365 days.
    let rss = std::env::var("WINDCORE_CLI").ok().map(|_| {
        let mut r = Vec::new();
        for (name, from, to) in [
            ("wcfarm_rss30", "2023-03-01", "2023-03-30"),
            ("wcfarm_rss365", "2023-01-01", "2023-12-31"),
        ] {
            let t = fresh_target_blocking(&admin, name);
            let (kib, secs) = cli_rss_kib(&[
                "run",
                "--source",
                &src,
                "--target",
                &t,
                "--table",
                "scada",
                "--time-column",
                "ts",
                "--asset-column",
                "turbine_id",
                "--variables",
                "wind_speed,power,wind_direction",
                "--angles",
                "wind_direction",
                "--from",
                from,
                "--to",
                to,
                "--jobs",
                "2",
                "--quiet",
            ]);
            r.push((from, to, kib, secs));
        }
        r
    });
    let _ = std::fs::remove_dir_all(&dir);

    let (fb, fw) = stats(&floors);
    let (ob, ow) = stats(&outs);
    let (ib, iw) = stats(&ins);
    println!("{:<62} {:>9} {:>9}", "what", "best s", "worst s");
    for (jobs, times) in &wc {
        let (b, w) = stats(times);
        println!(
            "{:<62} {b:>9.3} {w:>9.3}",
            format!("windcore 365 days, --jobs {jobs} ({rows} rows in, {out_rows} out)")
        );
    }
    println!(
        "{:<62} {ob:>9.3} {ow:>9.3}",
        "floor part: psql COPY out of the source rows"
    );
    println!(
        "{:<62} {ib:>9.3} {iw:>9.3}",
        "floor part: psql COPY in of the target rows (PK + FK)"
    );
    println!("{:<62} {fb:>9.3} {fw:>9.3}", "floor: COPY out + COPY in");
    for (jobs, times) in &wc {
        let (b, w) = stats(times);
        println!(
            "ratio: windcore --jobs {jobs} / floor = {:.2}x best/best, {:.2}x worst/worst (goal <= 1.0x)",
            b / fb,
            w / fw
        );
    }
    if let Some(r) = rss {
        for (from, to, kib, secs) in r {
            println!(
                "peak RSS windcore-cli run --jobs 2 {from} .. {to}: {:.1} MiB ({secs:.1} s)",
                kib as f64 / 1024.0
            );
        }
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
