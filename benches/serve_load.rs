//! Load test of the connector API: `windcore-cli serve` (JSON and Arrow) beside
//! the reference design (FastAPI + SQLAlchemy ORM building a list of dicts),
//! measured in the same run against the same database.
//!
//!     source scripts/pg.sh && start_postgres
//!     WINDCORE_BENCH_DATABASE_URL=$WINDCORE_TEST_DATABASE_URL \
//!     WINDCORE_CLI=$CARGO_TARGET_DIR/release/windcore-cli \
//!     WINDCORE_PYTHON=$HOME/.cache/windcore-venv/bin/python \
//!     cargo bench --bench serve_load
//!
//! 64 concurrent clients each fetch random one-day ranges (2 variables, 1440
//! rows) for 30 s (`WINDCORE_LOAD_SECS`, `WINDCORE_LOAD_CLIENTS` to change).
//! Every response is checked (status 200, complete body); the errors are
//! counted and reported. Server memory is sampled from /proc during the run.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::NoTls;

const DAYS: u32 = 31;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (get("VmRSS:"), get("VmHWM:"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_up(port: u16) {
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server on port {port} did not come up");
}

/// One GET with `Connection: close`; Ok(body length) for a complete 200 response.
async fn get(port: u16, path: &str, complete: fn(&[u8]) -> bool) -> Result<usize, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::with_capacity(1 << 17);
    s.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no headers")?;
    if !raw.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&raw[..head_end]).into_owned());
    }
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let body = &raw[head_end + 4..];
    let ok = if head.contains("transfer-encoding: chunked") {
        body.ends_with(b"\r\n0\r\n\r\n")
    } else {
        complete(body)
    };
    if !ok {
        return Err("incomplete body".into());
    }
    Ok(body.len())
}

struct Outcome {
    requests: u64,
    errors: u64,
    p50: Duration,
    p99: Duration,
    secs: f64,
    bytes: u64,
    rss_end_kib: u64,
    rss_peak_kib: u64,
}

async fn load(port: u16, pid: u32, query: &'static str, clients: usize, secs: u64) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (stop, errors, bytes) = (stop.clone(), errors.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut k = c as u64;
            while !stop.load(Ordering::Relaxed) {
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let d = (k >> 33) % u64::from(DAYS);
                let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
                    + chrono::Days::new(d);
                let next = day + chrono::Days::new(1);
                let path = format!("/data?start={day}T00:00:00Z&end={next}T00:00:00Z&{query}");
                let t = Instant::now();
                match get(port, &path, |b| b.ends_with(b"]")).await {
                    Ok(n) => {
                        lat.push(t.elapsed());
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("error: {e}");
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut peak = 0;
    while t0.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak = peak.max(rss_kib(pid).0);
    }
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client task"));
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let (rss_end, hwm) = rss_kib(pid);
    Outcome {
        requests: lat.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        p50: pct(0.50),
        p99: pct(0.99),
        secs,
        bytes: bytes.load(Ordering::Relaxed),
        rss_end_kib: rss_end,
        rss_peak_kib: peak.max(hwm),
    }
}

fn report(name: &str, o: &Outcome) -> f64 {
    let rows_s = o.requests as f64 * 1440.0 / o.secs;
    println!(
        "{name:<34} {:>7} req {:>4} err  {:>8.1} req/s  {:>10.0} rows/s  p50 {:>7.1} ms  p99 {:>7.1} ms  {:>6.1} MB/s  server RSS end {:>6.1} MiB peak {:>6.1} MiB",
        o.requests,
        o.errors,
        o.requests as f64 / o.secs,
        rows_s,
        o.p50.as_secs_f64() * 1000.0,
        o.p99.as_secs_f64() * 1000.0,
        o.bytes as f64 / o.secs / 1e6,
        o.rss_end_kib as f64 / 1024.0,
        o.rss_peak_kib as f64 / 1024.0,
    );
    rows_s
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("serve_load: bench");
        return;
    }
    let admin = std::env::var("WINDCORE_BENCH_DATABASE_URL").expect(
        "WINDCORE_BENCH_DATABASE_URL (a superuser URL); see the header of benches/serve_load.rs",
    );
    let cli = std::env::var("WINDCORE_CLI").expect("WINDCORE_CLI: path of a release windcore-cli");
    let python = std::env::var("WINDCORE_PYTHON").unwrap_or_else(|_| "python3".into());
    let secs: u64 = std::env::var("WINDCORE_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let clients: usize = std::env::var("WINDCORE_LOAD_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let db = format!("wc_serve_load_{}", std::process::id());
    let url = format!(
        "{}/{db}",
        &admin[..admin.rfind('/').expect("URL with a database")]
    );
    rt.block_on(async {
        let (c, conn) = tokio_postgres::connect(&admin, NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        c.batch_execute(&format!("create database {db}"))
            .await
            .expect("create database");
    });
    for args in [
        vec!["init", "--source", &url],
        vec![
            "generate",
            "--source",
            &url,
            "--days",
            "31",
            "--start",
            "2024-01-01",
            "-q",
        ],
    ] {
        let st = Command::new(&cli)
            .args(&args)
            .status()
            .expect("windcore-cli");
        assert!(st.success(), "windcore-cli {}", args[0]);
    }

    println!(
        "serve_load: {clients} concurrent clients, {secs} s per server, random one-day ranges of 31 days, 2 variables (1440 rows per request), Connection: close"
    );
    let wc_port = free_port();
    let wc = Proc(
        Command::new(&cli)
            .args([
                "serve",
                "--source",
                &url,
                "--bind",
                &format!("127.0.0.1:{wc_port}"),
                "--quiet",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("windcore-cli serve"),
    );
    rt.block_on(wait_up(wc_port));
    let json = rt.block_on(load(
        wc_port,
        wc.0.id(),
        "variables=wind_speed,power",
        clients,
        secs,
    ));
    let wc_json = report("windcore-cli serve, JSON", &json);
    let arrow = rt.block_on(load(
        wc_port,
        wc.0.id(),
        "variables=wind_speed,power&format=arrow",
        clients,
        secs,
    ));
    let wc_arrow = report("windcore-cli serve, Arrow IPC", &arrow);
    drop(wc);

    let ref_port = free_port();
    let reference = Proc(
        Command::new(&python)
            .args([
                concat!(env!("CARGO_MANIFEST_DIR"), "/reference_api.py"),
                &url,
                &ref_port.to_string(),
            ])
            .spawn()
            .expect("python reference_api.py (pip install -r requirements-dev.txt)"),
    );
    rt.block_on(wait_up(ref_port));
    let r = rt.block_on(load(
        ref_port,
        reference.0.id(),
        "variables=wind_speed&variables=power",
        clients,
        secs,
    ));
    let ref_rows = report("reference FastAPI + SQLAlchemy ORM", &r);
    drop(reference);

    println!(
        "throughput vs reference: JSON {:.1}x, Arrow {:.1}x",
        wc_json / ref_rows.max(1e-9),
        wc_arrow / ref_rows.max(1e-9)
    );
    rt.block_on(async {
        let (c, conn) = tokio_postgres::connect(&admin, NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        let _ = c
            .batch_execute(&format!("drop database {db} with (force)"))
            .await;
    });
    assert_eq!(
        json.errors + arrow.errors,
        0,
        "windcore-cli serve had errors under load"
    );
}
