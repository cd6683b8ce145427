//! The test server, its requests and answers, the database and the CLI.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

pub fn admin_url() -> String {
    std::env::var("WINDCORE_TEST_DATABASE_URL").expect(
        "WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL",
    )
}

static N: AtomicU64 = AtomicU64::new(0);

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn fresh_db(tag: &str) -> String {
    let admin = admin_url();
    let name = format!(
        "wcserve_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    rt().block_on(async {
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

pub fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_windcore-cli"))
        .args(args)
        .current_dir(dir)
        .env_remove("WINDCORE_SOURCE_URL")
        .env_remove("WINDCORE_TARGET_URL")
        .env_remove("WINDCORE_API_TOKEN")
        .output()
        .unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running `windcore-cli serve`; killed on drop. Its access log is collected.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut all = vec!["--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_in(&std::env::temp_dir(), &all, &[])
    }

    /// `windcore-cli serve ARGS` in `dir`, with extra environment variables.
    pub fn start_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_windcore-cli"))
            .arg("serve")
            .args(args)
            .current_dir(dir)
            .env_remove("WINDCORE_SOURCE_URL")
            .env_remove("WINDCORE_TARGET_URL")
            .env_remove("WINDCORE_API_TOKEN")
            .env_remove("WINDCORE_DATA_DIR")
            .env_remove("WINDCORE_BIND")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let l2 = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                l2.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in the first line: {line:?}"))
            .to_string();
        Server { child, addr, log }
    }

    /// The captured stderr once it contains `needle` (it is read by a thread
    /// of its own, which may lag behind the responses on a busy machine), or
    /// what it holds after 10 s.
    pub fn wait_log(&self, needle: &str) -> String {
        for _ in 0..200 {
            let log = self.log.lock().unwrap().clone();
            if log.contains(needle) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as a service manager would.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], "")
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        Resp::parse(&raw)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn parse(raw: &[u8]) -> Resp {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("headers");
        let head = std::str::from_utf8(&raw[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut rest = &raw[end + 4..];
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked {
            let mut out = Vec::new();
            loop {
                let eol = rest
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .expect("chunk size line");
                let size =
                    usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                        .unwrap();
                rest = &rest[eol + 2..];
                if size == 0 {
                    break out;
                }
                out.extend_from_slice(&rest[..size]);
                rest = &rest[size + 2..];
            }
        } else {
            rest.to_vec()
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the `psql` client prints for `sql`, as CSV cells (None for NULL).
pub fn psql(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let bin = std::env::var("WINDCORE_TEST_PG_BIN")
        .map(|d| Path::new(&d).join("psql"))
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| "psql".into());
    let out = Command::new(&bin)
        .args([
            "-X",
            "-q",
            "-t",
            "--csv",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            l.split(',')
                .map(|c| (!c.is_empty()).then(|| c.to_string()))
                .collect()
        })
        .collect()
}

pub fn f64_cell(c: &Option<String>) -> Option<f64> {
    c.as_ref().map(|v| v.parse().unwrap())
}

/// Rows of the source table as `psql` prints them: (timestamp µs, values).
pub fn db_rows(url: &str, start: &str, end: &str, cols: &[&str]) -> Vec<(i64, Vec<Option<f64>>)> {
    let select: String = cols.iter().map(|c| format!(", {c}")).collect();
    let sql = format!(
        "select (extract(epoch from timestamp) * 1000000)::int8{select} from data \
         where timestamp >= '{start}'::timestamptz and timestamp < '{end}'::timestamptz order by timestamp"
    );
    psql(url, &sql)
        .iter()
        .map(|r| {
            (
                r[0].as_ref().unwrap().parse().unwrap(),
                r[1..].iter().map(f64_cell).collect(),
            )
        })
        .collect()
}

pub fn micros(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .unwrap()
        .timestamp_micros()
}

/// The target's statistics as `psql` prints them: (timestamp µs, signal, value).
pub fn target_rows(url: &str) -> Vec<(i64, String, f64)> {
    psql(
        url,
        "select (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
         from data d join signal s on s.id = d.signal_id order by 1, 2",
    )
    .iter()
    .map(|r| {
        (
            r[0].as_ref().unwrap().parse().unwrap(),
            r[1].clone().unwrap(),
            f64_cell(&r[2]).unwrap(),
        )
    })
    .collect()
}

pub fn setup_source(dir: &Path, days: &str) -> String {
    let src = fresh_db("src");
    let o = cli(dir, &["init", "--source", &src]);
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(
        dir,
        &[
            "generate",
            "--source",
            &src,
            "--days",
            days,
            "--start",
            "2024-01-01",
            "--missing-rate",
            "0.05",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    src
}

/// A TCP proxy to the test database that can refuse and drop connections.
pub struct Proxy {
    pub url: String,
    pub up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub generation: std::sync::Arc<AtomicU64>,
    pub delay_ms: std::sync::Arc<AtomicU64>,
}

impl Proxy {
    pub fn start(db_url: &str) -> Proxy {
        let cfg: tokio_postgres::Config = db_url.parse().unwrap();
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let lport = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let generation = std::sync::Arc::new(AtomicU64::new(0));
        let delay_ms = std::sync::Arc::new(AtomicU64::new(0));
        let (u, g, d) = (up.clone(), generation.clone(), delay_ms.clone());
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { continue };
                if !u.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let Ok(outbound) = TcpStream::connect(("127.0.0.1", port)) else {
                    continue;
                };
                let gen_at_start = g.load(Ordering::SeqCst);
                for (mut from, mut to) in [
                    (inbound.try_clone().unwrap(), outbound.try_clone().unwrap()),
                    (outbound, inbound),
                ] {
                    let (g, d) = (g.clone(), d.clone());
                    std::thread::spawn(move || {
                        from.set_read_timeout(Some(Duration::from_millis(100)))
                            .unwrap();
                        let mut buf = [0u8; 65536];
                        loop {
                            if g.load(Ordering::SeqCst) != gen_at_start {
                                let _ = from.shutdown(std::net::Shutdown::Both);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                                return;
                            }
                            match from.read(&mut buf) {
                                Ok(0) => {
                                    let _ = to.shutdown(std::net::Shutdown::Both);
                                    return;
                                }
                                Ok(n) => {
                                    std::thread::sleep(Duration::from_millis(
                                        d.load(Ordering::SeqCst),
                                    ));
                                    if to.write_all(&buf[..n]).is_err() {
                                        return;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) => {}
                                Err(_) => return,
                            }
                        }
                    });
                }
            }
        });
        let url = db_url.replacen(&format!(":{port}/"), &format!(":{lport}/"), 1);
        assert_ne!(url, db_url);
        Proxy {
            url,
            up,
            generation,
            delay_ms,
        }
    }

    /// Holds every piece of traffic back by `delay` (a slow database).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Down: drop every connection and refuse new ones. Up: accept again.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

// ------------------------------------------------------- the embedded store

/// Waits until `server` answers `path` with 200.
pub fn wait_ok(server: &Server, path: &str) -> Resp {
    for _ in 0..100 {
        let r = server.get(path);
        if r.status == 200 {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{path} never answered 200");
}

/// A farm of 3 turbines generated for 2024-01-01 and -02 into the embedded
/// store in `dir`, and its wind speed and power statistics (a bare `run` of
/// a farm would be the demo run, with more channels); the store's folder.
pub fn generated_farm(dir: &Path) -> std::path::PathBuf {
    let o = cli(
        dir,
        &[
            "generate",
            "--turbines",
            "3",
            "--days",
            "2",
            "--start",
            "2024-01-01",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(dir, &["run", "-q", "--variables", "wind_speed,power"]);
    assert!(o.status.success(), "{}", text(&o));
    dir.join("windcore-data")
}

/// A PostgreSQL source of `days` generated days (see [`setup_source`]) and an
/// initialised PostgreSQL target, served with `token`: (source, target, server).
pub fn served_postgres(dir: &Path, days: &str, token: &str) -> (String, String, Server) {
    let src = setup_source(dir, days);
    let tgt = fresh_db("tgt");
    let o = cli(dir, &["init", "--target", &tgt]);
    assert!(o.status.success(), "{}", text(&o));
    let server = Server::start(&["--source", &src, "--target", &tgt, "--token", token]);
    (src, tgt, server)
}
