//! The reference system's route `/api/data` against windcore's `/data`: the
//! alias must cost nothing. Same server (`windcore-cli serve` on an embedded
//! store of 31 demo days), same rows (one random UTC day, 2 variables, 1440
//! rows per request), alternating rounds so that drift hits both alike.
//!
//!     WINDCORE_CLI=$CARGO_TARGET_DIR/release/windcore-cli cargo bench --bench serve_alias
//!
//! `WINDCORE_ALIAS_ROUNDS` (default 3) rounds of `WINDCORE_ALIAS_SECS` (10)
//! seconds per route with `WINDCORE_ALIAS_CLIENTS` (16) concurrent clients.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DAYS: u64 = 31;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One GET with `Connection: close`: the body of a complete 200 response.
async fn get(port: u16, path: &str) -> Result<Vec<u8>, String> {
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
    let mut body = &raw[head_end + 4..];
    // De-chunk.
    let mut out = Vec::with_capacity(body.len());
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size")?;
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap_or("x"), 16)
            .map_err(|e| e.to_string())?;
        body = &body[eol + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
    if !out.ends_with(b"]") {
        return Err("incomplete body".into());
    }
    Ok(out)
}

fn day_path(route: &str, d: u64) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date") + chrono::Days::new(d);
    let next = day + chrono::Days::new(1);
    match route {
        "/data" => format!("/data?start={day}&end={next}&variables=wind_speed,power"),
        _ => format!("/api/data?start_date={day}&end_date={day}&columns=wind_speed,power"),
    }
}

/// Requests per second and the median latency of `clients` clients for `secs`.
async fn load(port: u16, route: &'static str, clients: usize, secs: u64) -> (f64, Duration, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (stop, errors) = (stop.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut k = c as u64 + 1;
            while !stop.load(Ordering::Relaxed) {
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let path = day_path(route, (k >> 33) % DAYS);
                let t = Instant::now();
                match get(port, &path).await {
                    Ok(_) => lat.push(t.elapsed()),
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
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client task"));
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort();
    let p50 = lat.get(lat.len() / 2).copied().unwrap_or_default();
    (lat.len() as f64 / secs, p50, errors.load(Ordering::Relaxed))
}

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("serve_alias: bench");
        return;
    }
    let cli = std::env::var("WINDCORE_CLI").expect("WINDCORE_CLI: path of a release windcore-cli");
    let rounds = env_num("WINDCORE_ALIAS_ROUNDS", 3);
    let secs = env_num("WINDCORE_ALIAS_SECS", 10);
    let clients = env_num("WINDCORE_ALIAS_CLIENTS", 16) as usize;
    let dir = std::env::temp_dir().join(format!("windcore_serve_alias_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let st = Command::new(&cli)
        .args(["generate", "--days", "31", "--start", "2024-01-01", "-q"])
        .current_dir(&dir)
        .status()
        .expect("windcore-cli generate");
    assert!(st.success());
    let port = free_port();
    let server = Proc(
        Command::new(&cli)
            .args([
                "serve",
                "--source",
                "windcore-data",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--quiet",
            ])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("windcore-cli serve"),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for _ in 0..300 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The same bytes through both routes.
        for d in [0, 17, 30] {
            let a = get(port, &day_path("/data", d)).await.expect("/data");
            let b = get(port, &day_path("/api/data", d))
                .await
                .expect("/api/data");
            assert!(a == b && a.len() > 100_000, "day {d}: the routes differ");
        }
    });
    println!(
        "serve_alias: {clients} clients, {rounds} rounds x {secs} s per route, one random day of 31 (1440 rows, 2 variables, JSON), embedded store"
    );
    let mut results: Vec<(&str, Vec<f64>, Vec<Duration>)> =
        vec![("/data", vec![], vec![]), ("/api/data", vec![], vec![])];
    let mut errors = 0;
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let route = if i == 0 { "/data" } else { "/api/data" };
            let (rps, p50, err) = rt.block_on(load(port, route, clients, secs));
            errors += err;
            println!(
                "  round {} {route:<10} {rps:>8.1} req/s {:>11.0} rows/s  p50 {:>6.2} ms  {err} errors",
                round + 1,
                rps * 1440.0,
                p50.as_secs_f64() * 1000.0
            );
            results[i].1.push(rps);
            results[i].2.push(p50);
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    for (route, rps, _) in &results {
        let best = rps.iter().cloned().fold(f64::MIN, f64::max);
        let worst = rps.iter().cloned().fold(f64::MAX, f64::min);
        println!(
            "{route:<10} best {best:>8.1} req/s, worst {worst:>8.1} req/s, mean {:>8.1} req/s ({:.0} rows/s)",
            mean(rps),
            mean(rps) * 1440.0
        );
    }
    println!(
        "/api/data / /data throughput: {:.3}",
        mean(&results[1].1) / mean(&results[0].1).max(1e-9)
    );
    assert_eq!(errors, 0, "errors under load");
}
