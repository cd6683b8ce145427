//! `windcore-cli` against a real PostgreSQL (started by scripts/test).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

fn admin_url() -> String {
    std::env::var("WINDCORE_TEST_DATABASE_URL")
        .expect("WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test")
}

static N: AtomicU64 = AtomicU64::new(0);

/// Creates a database and returns its URL.
fn fresh_db(tag: &str) -> String {
    let admin = admin_url();
    let name = format!(
        "wccli_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (c, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c.batch_execute(&format!("create database {name}"))
            .await
            .unwrap();
    });
    let base = &admin[..admin.rfind('/').unwrap()];
    format!("{base}/{name}")
}

fn password(url: &str) -> String {
    let userinfo = &url[url.find("://").unwrap() + 3..url.rfind('@').unwrap()];
    userinfo.split_once(':').unwrap().1.to_string()
}

fn cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_windcore-cli"));
    c.args(args)
        .current_dir(dir)
        .env_remove("WINDCORE_SOURCE_URL")
        .env_remove("WINDCORE_TARGET_URL");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn init_generate_run_end_to_end_without_leaking_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let (src, tgt) = (fresh_db("src"), fresh_db("tgt"));
    let pw = password(&src);
    for _ in 0..2 {
        let o = cli(
            dir.path(),
            &["init", "--source", &src, "--target", &tgt],
            &[],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("target ready"));
    }
    let o = cli(
        dir.path(),
        &[
            "generate",
            "--source",
            &src,
            "--days",
            "5",
            "--start",
            "2024-01-01",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &src,
            "--target",
            &tgt,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-05",
            "--jobs",
            "3",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("days loaded   5"), "{out}");
    assert!(out.contains("rows out      5760"), "{out}");
    assert!(out.contains(":***@"), "the URL is shown masked: {out}");
    assert!(!out.contains(&pw), "the password leaked: {out}");
    // The same through the environment variables, over every source day.
    let o = cli(
        dir.path(),
        &["run"],
        &[("WINDCORE_SOURCE_URL", &src), ("WINDCORE_TARGET_URL", &tgt)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("days loaded   5"));
    assert!(!text(&o).contains(&pw), "the password leaked");
    // --help does not show the values of the URL variables.
    let h = cli(
        dir.path(),
        &["run", "--help"],
        &[("WINDCORE_SOURCE_URL", &src)],
    );
    assert!(!text(&h).contains(&pw));
    // PostgreSQL source into the embedded target works too.
    let o = cli(
        dir.path(),
        &["run", "--source", &src, "--date", "2024-01-03", "--quiet"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir
        .path()
        .join("windcore-data/target/2024-01-03.parquet")
        .exists());
}

#[test]
fn database_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            "postgres://me:s3cret@127.0.0.1:1/db",
            "--date",
            "2024-01-01",
        ],
        &[],
    );
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("cannot connect to postgres://me:***@127.0.0.1:1/db"),
        "{t}"
    );
    assert!(!t.contains("s3cret"));

    let empty = fresh_db("empty");
    let o = cli(
        dir.path(),
        &["run", "--source", &empty, "--date", "2024-01-01"],
        &[],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("run `windcore-cli init --source URL` first"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(&password(&empty)));

    let o = cli(dir.path(), &["init"], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("init needs --source and/or --target"));
    let o = cli(dir.path(), &["run", "--source", "mysql://x/y"], &[]);
    assert!(text(&o).contains("unsupported scheme"), "{}", text(&o));
}

/// Runs `sql` and returns the rows as (asset, µs, signal) -> value.
fn query_map(url: &str, sql: &str) -> std::collections::BTreeMap<(String, i64, String), f64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c.query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1), r.get(2)), r.get(3)))
            .collect()
    })
}

#[test]
fn a_user_farm_table_through_the_cli_flags_matches_postgres_sql() {
    let dir = tempfile::tempdir().unwrap();
    let (src, tgt) = (fresh_db("farmsrc"), fresh_db("farmtgt"));
    let layout = [
        "--table",
        "scada",
        "--time-column",
        "ts",
        "--asset-column",
        "turbine_id",
    ];
    let mut args = vec![
        "generate",
        "--source",
        &src,
        "--turbines",
        "5",
        "--days",
        "2",
    ];
    args.extend(layout);
    let o = cli(dir.path(), &args, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(dir.path(), &["init", "--target", &tgt], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let mut args = vec![
        "run",
        "--source",
        &src,
        "--target",
        &tgt,
        "--variables",
        "wind_speed,power,wind_direction",
        "--angles",
        "wind_direction",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
    ];
    args.extend(layout);
    for _ in 0..2 {
        let o = cli(dir.path(), &args, &[]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("1440 windows"), "{}", text(&o));
    }
    let got = query_map(
        &tgt,
        "select s.asset, (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
         from data d join signal s on s.id = d.signal_id \
         where s.name in ('wind_speed_mean', 'power_std', 'wind_direction_mean')",
    );
    let want = query_map(
        &src,
        "select turbine_id, (extract(epoch from w) * 1000000)::int8, name, value from (
           select turbine_id, date_bin('10 minutes', ts, timestamptz '2000-01-01 00:00+00') w,
                  avg(wind_speed) ws, stddev_samp(power) ps,
                  mod(degrees(atan2(avg(sin(radians(wind_direction))),
                                    avg(cos(radians(wind_direction)))))::numeric + 360, 360)::float8 wd
           from scada group by 1, 2) a,
         lateral (values ('wind_speed_mean', ws), ('power_std', ps), ('wind_direction_mean', wd)) v(name, value)
         where value is not null",
    );
    assert_eq!(want.len(), 5 * 288 * 3);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, w) in &want {
        let g = got[k];
        let d = if k.2 == "wind_direction_mean" {
            (g - w + 180.0).rem_euclid(360.0) - 180.0
        } else {
            g - w
        };
        assert!(d.abs() <= 1e-9 * w.abs().max(1.0), "{k:?}: {g} vs {w}");
    }
}
