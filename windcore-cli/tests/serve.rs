//! `windcore-cli serve` as a real process against a real PostgreSQL (started by scripts/test).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use windcore::{Day, Extract, HttpFormat, HttpSource, PostgresSource};

fn admin_url() -> String {
    std::env::var("WINDCORE_TEST_DATABASE_URL").expect(
        "WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL",
    )
}

static N: AtomicU64 = AtomicU64::new(0);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn fresh_db(tag: &str) -> String {
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

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_windcore-cli"))
        .args(args)
        .current_dir(dir)
        .env_remove("WINDCORE_SOURCE_URL")
        .env_remove("WINDCORE_TARGET_URL")
        .env_remove("WINDCORE_API_TOKEN")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running `windcore-cli serve`; killed on drop. Its access log is collected.
struct Server {
    child: Child,
    addr: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut all = vec!["--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_in(&std::env::temp_dir(), &all, &[])
    }

    /// `windcore-cli serve ARGS` in `dir`, with extra environment variables.
    fn start_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
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
    fn wait_log(&self, needle: &str) -> String {
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
    fn terminate(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], "")
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
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

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn parse(raw: &[u8]) -> Resp {
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

    fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the `psql` client prints for `sql`, as CSV cells (None for NULL).
fn psql(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
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

fn f64_cell(c: &Option<String>) -> Option<f64> {
    c.as_ref().map(|v| v.parse().unwrap())
}

/// Rows of the source table as `psql` prints them: (timestamp µs, values).
fn db_rows(url: &str, start: &str, end: &str, cols: &[&str]) -> Vec<(i64, Vec<Option<f64>>)> {
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

fn micros(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .unwrap()
        .timestamp_micros()
}

/// The target's statistics as `psql` prints them: (timestamp µs, signal, value).
fn target_rows(url: &str) -> Vec<(i64, String, f64)> {
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

fn setup_source(dir: &Path, days: &str) -> String {
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

#[test]
fn data_in_json_csv_and_arrow_matches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "2");
    let server = Server::start(&["--source", &src]);

    let h = server.get("/health");
    assert_eq!(h.status, 200, "{}", h.text());
    assert_eq!(h.json()["status"], "ok");

    // JSON, variables repeated; a range across midnight.
    let (start, end) = ("2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z");
    let expected = db_rows(&src, start, end, &["wind_speed", "power"]);
    assert_eq!(expected.len(), 1440);
    let r = server.get(&format!(
        "/data?start={start}&end={end}&variables=wind_speed&variables=power"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    let mut nulls = 0;
    for (row, (t, vals)) in rows.iter().zip(&expected) {
        assert_eq!(micros(row["timestamp"].as_str().unwrap()), *t);
        for (name, v) in ["wind_speed", "power"].iter().zip(vals) {
            assert_eq!(row[*name].as_f64(), *v, "{name} at {t}");
            nulls += v.is_none() as usize;
        }
        assert!(row.get("ambient_temperature").is_none());
    }
    assert!(nulls > 0, "the demo data has missing values");

    // CSV through the Accept header, comma-separated variables, date bounds.
    let expected = db_rows(
        &src,
        "2024-01-02",
        "2024-01-03",
        &["power", "ambient_temperature"],
    );
    let r = server.request(
        "GET",
        "/data?start=2024-01-02&end=2024-01-03&variables=power,ambient_temperature",
        &[("Accept", "text/csv")],
        "",
    );
    assert_eq!(r.status, 200);
    let csv = r.text();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("timestamp,power,ambient_temperature"));
    let mut n = 0;
    for (line, (t, vals)) in lines.zip(&expected) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(micros(f[0]), *t);
        for (cell, v) in f[1..].iter().zip(vals) {
            let got = if cell.is_empty() {
                None
            } else {
                Some(cell.parse::<f64>().unwrap())
            };
            assert_eq!(got, *v);
        }
        n += 1;
    }
    assert_eq!(n, 1440);

    // All variables by default; an empty range is an empty array.
    let r = server.get("/data?start=2023-01-01&end=2023-01-02");
    assert_eq!((r.status, r.text().as_str()), (200, "[]"));

    // Arrow and JSON through HttpSource equal the direct PostgreSQL extract.
    rt().block_on(async {
        let pg = PostgresSource::connect(&src).await.unwrap();
        let vars: Vec<String> = ["wind_speed", "power", "ambient_temperature"]
            .map(String::from)
            .to_vec();
        let day: Day = "2024-01-02".parse().unwrap();
        let direct = pg.extract(day.range(), &vars).await.unwrap();
        for format in [HttpFormat::Arrow, HttpFormat::Json] {
            let http = HttpSource::new(&server.url()).unwrap().format(format);
            let got = http.extract(day.range(), &vars).await.unwrap();
            assert!(got.equals_missing(&direct), "{format:?}:\n{got}\n{direct}");
        }
        // An empty day decodes to an empty frame with the right columns.
        let empty: Day = "2023-06-01".parse().unwrap();
        let got = HttpSource::new(&server.url())
            .unwrap()
            .extract(empty.range(), &vars)
            .await
            .unwrap();
        assert_eq!(got.height(), 0);
        assert_eq!(got.width(), 4);
    });

    // Arrow with format=arrow: a valid IPC stream (checked by HttpSource above), right type.
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&format=arrow");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.apache.arrow.stream")
    );
    assert!(r.body.ends_with(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));

    // One access-log line per request, no password.
    let log = server.wait_log("\"GET /health\" 200");
    assert!(log.contains("\"GET /health\" 200"), "{log}");
    let pw = &src[src.find("://").unwrap() + 3..src.rfind('@').unwrap()];
    assert!(
        !log.contains(pw.split_once(':').unwrap().1),
        "password leaked into the log"
    );
}

#[test]
fn bad_requests_are_400_json_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "1");
    let server = Server::start(&["--source", &src, "--max-range-days", "31"]);
    let cases: &[(&str, &str)] = &[
        ("/data?end=2024-01-02", "start"),
        ("/data?start=2024-01-01", "end"),
        ("/data?start=yesterday&end=2024-01-02", "start"),
        ("/data?start=2024-01-01&end=2024-13-01", "end"),
        ("/data?start=2024-01-02&end=2024-01-01", "end"),
        ("/data?start=2024-01-01&end=2024-01-01", "end"),
        ("/data?start=2024-01-01&end=2024-03-01", "end"),
        (
            "/data?start=2024-01-01&end=2024-01-02&variables=power;drop%20table%20data",
            "variables",
        ),
        (
            "/data?start=2024-01-01&end=2024-01-02&variables=power,rotor_speed",
            "variables",
        ),
        ("/data?start=2024-01-01&end=2024-01-02&format=xml", "format"),
        (
            "/data?start=2024-01-01&start=2024-01-02&end=2024-01-03",
            "start",
        ),
    ];
    for (path, param) in cases {
        let r = server.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let j = r.json();
        assert!(
            j["error"].is_string() && j["detail"].is_string(),
            "{path}: {j}"
        );
        assert_eq!(j["parameter"], *param, "{path}: {j}");
        assert!(j["detail"].as_str().unwrap().contains(param), "{path}: {j}");
    }
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&colour=red");
    assert_eq!(r.status, 400);
    assert!(r.json()["detail"].as_str().unwrap().contains("colour"));
    // The table survived the injection attempt.
    assert_eq!(
        db_rows(&src, "2024-01-01", "2024-01-02", &["power"]).len(),
        1440
    );

    let r = server.get("/nope");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "not_found");
    let r = server.request("POST", "/data", &[], "");
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"], "method_not_allowed");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        r.headers
    );
    let r = server.get("/etl/run");
    assert_eq!(r.status, 405);
    // Without --token the POST routes are off; without --target /signals is 503.
    let r = server.request("POST", "/generate", &[("Authorization", "Bearer x")], "{}");
    assert_eq!(r.status, 403, "{}", r.text());
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "no_target");
    // Docs.
    let r = server.get("/openapi.json");
    assert_eq!(r.status, 200);
    let j = r.json();
    for p in [
        "/data",
        "/signals",
        "/signals/names",
        "/etl/run",
        "/generate",
        "/health",
    ] {
        assert!(j["paths"][p].is_object(), "{p} missing from openapi.json");
    }
    let r = server.get("/docs");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/data") && r.text().contains("variables"));
}

#[test]
fn token_routes_etl_through_http_and_signals_match_the_direct_run() {
    let dir = tempfile::tempdir().unwrap();
    let src = fresh_db("src");
    let (tgt_http, tgt_direct) = (fresh_db("tgth"), fresh_db("tgtd"));
    for (a, u) in [
        ("--source", &src),
        ("--target", &tgt_http),
        ("--target", &tgt_direct),
    ] {
        let o = cli(dir.path(), &["init", a, u]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let token = "s3cret-token";
    let server = Server::start(&["--source", &src, "--target", &tgt_http, "--token", token]);
    let auth = format!("Bearer {token}");

    // POST /generate: token checks, then demo data.
    let body = r#"{"days": 3, "start": "2024-01-01", "missing_rate": 0.02}"#;
    assert_eq!(server.request("POST", "/generate", &[], body).status, 401);
    let r = server.request(
        "POST",
        "/generate",
        &[("Authorization", "Bearer wrong")],
        body,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = server.request(
        "POST",
        "/generate",
        &[("Authorization", &auth)],
        r#"{"days": "many"}"#,
    );
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("days"))
    );
    let r = server.request("POST", "/generate", &[("Authorization", &auth)], body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"], 3 * 1440);

    // The ETL through the HTTP source, as the reference system runs it...
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &server.url(),
            "--target",
            &tgt_http,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-03",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("days loaded   3"), "{}", text(&o));
    // ...gives exactly what the direct PostgreSQL extract gives.
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &src,
            "--target",
            &tgt_direct,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-03",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (a, b) = (target_rows(&tgt_http), target_rows(&tgt_direct));
    assert!(!a.is_empty());
    assert_eq!(a, b, "HTTP extract and direct extract differ");
    // Without days, an HTTP source is a clear error.
    let o = cli(
        dir.path(),
        &["run", "--source", &server.url(), "--target", &tgt_http],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("cannot list its days"), "{}", text(&o));
    // An HTTP URL cannot be a target.
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &src,
            "--target",
            &server.url(),
            "--date",
            "2024-01-01",
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("only be read from as a source"),
        "{}",
        text(&o)
    );

    // POST /etl/run replaces a day (idempotent) and reports.
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &auth)],
        r#"{"date": "2024-01-02"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 1);
    assert_eq!(target_rows(&tgt_http), b);
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &auth)],
        r#"{"date": "2024-02-30"}"#,
    );
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("date"))
    );

    // GET /signals equals the target table.
    let r = server.get("/signals?start=2024-01-01&end=2024-01-04");
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = r.json();
    let got: Vec<(i64, String, f64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                micros(r["timestamp"].as_str().unwrap()),
                r["signal"].as_str().unwrap().to_string(),
                r["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, b);
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mean&format=csv");
    assert_eq!(r.status, 200);
    let csv = r.text();
    assert_eq!(csv.lines().count(), 1 + 144);
    assert!(csv.lines().skip(1).all(|l| l.contains(",power_mean,")));
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mode");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("signal"))
    );
    let r = server.get("/signals/names");
    assert_eq!(r.status, 200);
    let names: Vec<Value> = psql(&tgt_http, "select name from signal order by name")
        .into_iter()
        .map(|r| Value::from(r[0].clone().unwrap()))
        .collect();
    assert!(names.iter().any(|n| n == "wind_speed_std"));
    assert_eq!(r.json().as_array().unwrap(), &names);
    // The token is never logged.
    assert!(!server.log.lock().unwrap().contains(token));
}

#[test]
fn database_down_is_503_and_the_server_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "1");
    // A proxy we can stop and restart on the same port, standing for the database.
    let proxy = Proxy::start(&src);
    let server = Server::start(&["--source", &proxy.url, "--request-timeout", "5"]);
    let q = "/data?start=2024-01-01&end=2024-01-02&variables=power";
    assert_eq!(server.get(q).status, 200);
    proxy.set_up(false);
    let r = server.get(q);
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "database_unavailable");
    assert!(!r
        .text()
        .contains(&src[src.find(':').unwrap() + 3..src.rfind('@').unwrap()]));
    assert_eq!(server.get("/health").status, 503);
    proxy.set_up(true);
    let mut ok = false;
    for _ in 0..20 {
        if server.get(q).status == 200 {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(ok, "the server did not recover");
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "1");
    let mut server = Server::start(&["--source", &src]);
    assert_eq!(server.get("/health").status, 200);
    server.terminate();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(server.wait_log("stopped").contains("stopped"));
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "3");
    // A slow database: each day of the response takes a while to read.
    let proxy = Proxy::start(&src);
    let mut server = Server::start(&["--source", &proxy.url]);
    assert_eq!(server.get("/health").status, 200);
    proxy.set_delay(Duration::from_millis(250));

    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET /data?start=2024-01-01&end=2024-01-04&variables=power HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // The headers and the first day have arrived: the response is under way.
    let mut raw = vec![0u8; 65536];
    let n = s.read(&mut raw).unwrap();
    assert!(n > 0);
    raw.truncate(n);
    assert!(raw.starts_with(b"HTTP/1.1 200"));
    server.terminate();
    let before = raw.len();
    s.read_to_end(&mut raw).unwrap();
    assert!(
        raw.len() > before,
        "nothing arrived after SIGTERM: the response was not in flight"
    );
    // The whole response, not a truncated one.
    let r = Resp::parse(&raw);
    let rows = r.json();
    let expected = db_rows(&src, "2024-01-01", "2024-01-04", &["power"]);
    assert_eq!(rows.as_array().unwrap().len(), expected.len());
    assert_eq!(expected.len(), 3 * 1440);
    for (row, (t, v)) in rows.as_array().unwrap().iter().zip(&expected) {
        assert_eq!(micros(row["timestamp"].as_str().unwrap()), *t);
        assert_eq!(row["power"].as_f64(), v[0]);
    }
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let log = server.wait_log("stopped");
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );
    assert!(log.contains("\"GET /data?start=2024-01-01"), "{log}");
}

#[test]
fn pool_size_bounds_the_database_connections() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "2");
    let server = Server::start(&["--source", &src, "--pool-size", "2"]);
    let count = || -> i64 {
        psql(
            &src,
            "select count(*) from pg_stat_activity \
             where datname = current_database() and application_name = 'windcore'",
        )[0][0]
            .as_ref()
            .unwrap()
            .parse()
            .unwrap()
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    let most = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut most = 0;
            while !done.load(Ordering::SeqCst) {
                most = most.max(count());
            }
            most
        });
        let clients: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let r = server.get("/data?start=2024-01-01&end=2024-01-03");
                    assert_eq!(r.status, 200, "{}", r.text());
                    assert_eq!(r.json().as_array().unwrap().len(), 2 * 1440);
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        watcher.join().unwrap().max(count())
    });
    assert!(
        (1..=2).contains(&most),
        "{most} connections with --pool-size 2"
    );

    // Out-of-range pool sizes are refused up front.
    let o = cli(dir.path(), &["serve", "--source", &src, "--pool-size", "0"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--pool-size"), "{}", text(&o));
}

/// A TCP proxy to the test database that can refuse and drop connections.
struct Proxy {
    url: String,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<AtomicU64>,
    delay_ms: std::sync::Arc<AtomicU64>,
}

impl Proxy {
    fn start(db_url: &str) -> Proxy {
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
    fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Down: drop every connection and refuse new ones. Up: accept again.
    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

// ------------------------------------------------------- the embedded store

/// Waits until `server` answers `path` with 200.
fn wait_ok(server: &Server, path: &str) -> Resp {
    for _ in 0..100 {
        let r = server.get(path);
        if r.status == 200 {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{path} never answered 200");
}

#[test]
fn serve_without_arguments_fills_and_serves_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    // No argument at all: the address comes from the environment, as a
    // service manager would give it.
    let server = Server::start_in(dir.path(), &[], &[("WINDCORE_BIND", "127.0.0.1:0")]);
    let r = wait_ok(&server, "/signals?start=2024-01-03&end=2024-01-04");
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "statistics served after {:?}",
        t.elapsed()
    );
    let log = server.wait_log("is empty: generating 10 days");
    assert!(log.contains("is empty: generating 10 days"), "{log}");
    assert!(dir
        .path()
        .join("windcore-data/target/2024-01-10.parquet")
        .exists());
    // The day's statistics are the store's: the demo farm's, of the demo run
    // (wind speed, power, the wind direction, energy, states, availability).
    {
        use windcore::polars::prelude::*;
        let file = dir.path().join("windcore-data/target/2024-01-03.parquet");
        let tgt = ParquetReader::new(std::fs::File::open(file).unwrap())
            .finish()
            .unwrap();
        assert_eq!(rows.len(), tgt.height());
        let names: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r["signal"].as_str().unwrap()).collect();
        for n in [
            "wind_speed_mean",
            "power_std",
            "wind_direction_mean",
            "energy_delta",
            "state_seconds_1",
            "availability",
        ] {
            assert!(names.contains(n), "{n} not in {names:?}");
        }
        let mean = rows.iter().filter(|r| r["signal"] == "power_mean").count();
        assert_eq!(mean, windcore::DEMO_TURBINES as usize * 144);
    }

    // The dashboard and its embedded files, named by their content's hash.
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("windcore") && html.contains("id=\"charts\""));
    let scripts: Vec<&str> = html
        .split("src=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(scripts.len(), 2, "{scripts:?}");
    for s in scripts {
        assert!(s.starts_with("/static/") && !s.contains("//"), "{s}");
        let f = server.get(s);
        assert_eq!(f.status, 200, "{s}");
        assert!(f.header("content-type").unwrap().contains("javascript"));
        assert!(f.header("cache-control").unwrap().contains("immutable"));
        assert!(f.body.len() > 1000);
    }
    assert!(html.contains("uPlot.iife.min."));
    assert_eq!(server.get("/static/uPlot.iife.min.js").status, 404);

    // Coverage: ten complete days of each of the demo farm's turbines.
    let c = server.get("/coverage").json();
    let days = c["days"].as_array().unwrap();
    assert_eq!(days.len(), windcore::DEMO_DAYS as usize);
    let assets = serde_json::json!(["T01", "T02", "T03"]);
    assert_eq!(
        assets.as_array().unwrap().len(),
        windcore::DEMO_TURBINES as usize
    );
    assert!(days.iter().all(|d| d["source"] == true
        && assets
            .as_array()
            .unwrap()
            .iter()
            .all(|a| d["windows"][a.as_str().unwrap()] == 144)));
    assert_eq!(server.get("/assets").json(), assets);
    // Availability per turbine and day, out of the box.
    let a = server.get("/availability?from=2024-01-01&to=2024-01-10");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["assets"], assets);
    // Without a token the jobs are off, as on PostgreSQL.
    let r = server.request("POST", "/etl/run", &[], r#"{"date": "2024-01-01"}"#);
    assert_eq!(r.status, 403);
    let info = server.get("/info").json();
    assert_eq!(info["jobs_enabled"], false);
    assert_eq!(info["max_range_days"], 31);

    // A second start on the filled store does not generate again.
    drop(server);
    let server = Server::start_in(dir.path(), &[], &[("WINDCORE_BIND", "127.0.0.1:0")]);
    wait_ok(&server, "/health");
    assert!(!server.log.lock().unwrap().contains("is empty"));
}

#[test]
fn embedded_farm_assets_signals_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        dir.path(),
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
    // The variables the server's ETL route runs by default (a bare `run` of
    // this farm would be the demo run, with more channels).
    let o = cli(
        dir.path(),
        &["run", "-q", "--variables", "wind_speed,power"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let token = "farm-token";
    let server = Server::start(&["--source", store, "--target", store, "--token", token]);
    let auth = format!("Bearer {token}");

    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["T01", "T02", "T03"])
    );
    // /data: the asset column, and a filter on it.
    let all = server.get("/data?start=2024-01-01&end=2024-01-02&variables=power");
    let all = all.json();
    assert_eq!(all.as_array().unwrap().len(), 3 * 1440);
    assert!(all[0]["asset"].is_string());
    let r =
        server.get("/data?start=2024-01-01&end=2024-01-02&variables=power&asset=T02&format=csv");
    assert_eq!(r.status, 200);
    let csv = r.text();
    assert_eq!(csv.lines().next(), Some("timestamp,asset,power"));
    assert_eq!(csv.lines().count(), 1 + 1440);
    assert!(csv
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(1) == Some("T02")));
    // Farm channels are variables; unknown ones are refused.
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&variables=wind_direction&asset=T01");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&variables=rotor_speed");
    assert_eq!(r.json()["parameter"], "variables");

    // /signals on the embedded target, per asset.
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mean&asset=T03");
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 144);
    assert!(rows
        .iter()
        .all(|r| r["asset"] == "T03" && r["signal"] == "power_mean"));
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mode");
    assert_eq!(r.json()["parameter"], "signal");
    let names = server.get("/signals/names").json();
    assert!(names
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "wind_speed_std"));
    let c = server.get("/coverage").json();
    assert_eq!(c["assets"], serde_json::json!(["T01", "T02", "T03"]));
    assert_eq!(c["days"][1]["windows"]["T02"], 144);

    // POST /etl/run on the embedded target rewrites the day, exactly.
    let day_file = dir.path().join("windcore-data/target/2024-01-02.parquet");
    let before = server
        .get("/signals?start=2024-01-02&end=2024-01-03&format=csv")
        .text();
    std::fs::remove_file(&day_file).unwrap();
    let c = server.get("/coverage").json();
    assert_eq!(c["days"][1]["windows"], serde_json::json!({}));
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &auth)],
        r#"{"date": "2024-01-02"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 1);
    assert!(day_file.exists());
    let after = server
        .get("/signals?start=2024-01-02&end=2024-01-03&format=csv")
        .text();
    assert_eq!(before, after);

    // POST /generate keeps the farm a farm.
    let r = server.request(
        "POST",
        "/generate",
        &[("Authorization", &auth)],
        r#"{"days": 1, "start": "2024-01-03"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["turbines"], 3);
    assert_eq!(r.json()["rows"], 3 * 1440);

    // The ETL reading a farm through this API (Arrow) keeps the turbines
    // apart, farm channels included, and equals the direct run's target.
    let out = tempfile::tempdir().unwrap();
    let run_from = |source: &str, target: &str| {
        let o = cli(
            out.path(),
            &[
                "run",
                "--source",
                source,
                "--target",
                target,
                "--date",
                "2024-01-01",
                "--variables",
                "power,wind_direction",
                "--angles",
                "wind_direction",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        o
    };
    let o = run_from(&server.url(), "via-api");
    assert!(text(&o).contains("432 windows"), "{}", text(&o));
    run_from(store, "direct");
    let via_api = std::fs::read(out.path().join("via-api/target/2024-01-01.parquet")).unwrap();
    let direct = std::fs::read(out.path().join("direct/target/2024-01-01.parquet")).unwrap();
    assert!(
        via_api == direct,
        "the target via the API differs from the direct run's"
    );
}

#[test]
fn seed_routes_answer_as_ours_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "2");
    let tgt = fresh_db("tgt");
    let o = cli(dir.path(), &["init", "--target", &tgt]);
    assert!(o.status.success(), "{}", text(&o));
    let token = "seed-token";
    let server = Server::start(&["--source", &src, "--target", &tgt, "--token", token]);
    let auth = format!("Bearer {token}");

    // The reference system's ETL route: a list of days, token required.
    let body = r#"{"days": ["2024-01-02", "2024-01-01"]}"#;
    assert_eq!(
        server.request("POST", "/api/run-etl", &[], body).status,
        401
    );
    let r = server.request("POST", "/api/run-etl", &[("Authorization", &auth)], body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 2);

    // Same bytes as our routes, for the same range, in every format.
    for format in ["json", "csv", "arrow"] {
        for (seed, ours) in [
            (
                format!("/api/data?start_date=2024-01-01&end_date=2024-01-01&columns=wind_speed,power&format={format}"),
                format!("/data?start=2024-01-01&end=2024-01-02&variables=wind_speed,power&format={format}"),
            ),
            (
                format!("/api/data?start_date=2024-01-01T12:00:00Z&end_date=2024-01-02T06:00:00Z&format={format}"),
                format!("/data?start=2024-01-01T12:00:00Z&end=2024-01-02T06:00:00Z&format={format}"),
            ),
            (
                format!("/api/signals?start_date=2024-01-01&end_date=2024-01-02&signal_type=wind_speed_mean&format={format}"),
                format!("/signals?start=2024-01-01&end=2024-01-03&signal=wind_speed_mean&format={format}"),
            ),
            (
                format!("/api/signals?start_date=2024-01-02&end_date=2024-01-02&format={format}"),
                format!("/signals?start=2024-01-02&end=2024-01-03&format={format}"),
            ),
        ] {
            let (a, b) = (server.get(&seed), server.get(&ours));
            assert_eq!((a.status, b.status), (200, 200), "{seed}: {}", a.text());
            assert!(b.body.len() > 100, "{ours}");
            assert!(a.body == b.body, "{seed} differs from {ours}");
        }
    }
    let rows = server
        .get("/api/signals?start_date=2024-01-01&end_date=2024-01-02&signal_type=wind_speed_mean")
        .json();
    assert_eq!(rows.as_array().unwrap().len(), 2 * 144);

    // Bad parameters: the same 400 JSON, naming the reference's parameters.
    for (path, param) in [
        ("/api/data?end_date=2024-01-02", "start_date"),
        ("/api/data?start_date=2024-01-01", "end_date"),
        (
            "/api/data?start_date=2024-01-02&end_date=2024-01-01",
            "end_date",
        ),
        (
            "/api/data?start_date=2024-01-01&end_date=2024-03-01",
            "end_date",
        ),
        (
            "/api/data?start_date=soon&end_date=2024-01-01",
            "start_date",
        ),
        (
            "/api/data?start_date=2024-01-01&end_date=2024-01-01&columns=rotor_speed",
            "columns",
        ),
        (
            "/api/data?start_date=2024-01-01&end_date=2024-01-01&format=xml",
            "format",
        ),
        (
            "/api/signals?start_date=2024-01-01&end_date=2024-01-01&signal_type=power_mode",
            "signal_type",
        ),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let j = r.json();
        assert_eq!(j["parameter"], param, "{path}: {j}");
        assert_eq!(j["error"], "invalid_parameter");
    }
    for (body, param) in [
        (r#"{"days": ["2024-02-30"]}"#, "days"),
        (r#"{"days": "soon"}"#, "days"),
        (r#"{"days": []}"#, "days"),
        (r#"{}"#, "days"),
        (r#"{"days": ["2024-01-01"], "date": "2024-01-01"}"#, "date"),
    ] {
        let r = server.request("POST", "/api/run-etl", &[("Authorization", &auth)], body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["parameter"], param, "{body}");
    }
    let r = server.request(
        "POST",
        "/api/generate-data",
        &[("Authorization", &auth)],
        r#"{"days": 1, "frequency": "10min"}"#,
    );
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("frequency"))
    );
    assert_eq!(
        server
            .request("POST", "/api/generate-data", &[], r#"{"days": 1}"#)
            .status,
        401
    );
    let r = server.request(
        "POST",
        "/api/generate-data",
        &[("Authorization", &auth)],
        r#"{"days": 1, "frequency": "1min", "start": "2024-01-03"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"], 1440);
    assert_eq!(
        db_rows(&src, "2024-01-03", "2024-01-04", &["power"]).len(),
        1440
    );
    let r = server.request("GET", "/api/run-etl", &[], "");
    assert_eq!(r.status, 405);

    // Documented as aliases.
    let j = server.get("/openapi.json").json();
    for (p, m, alias) in [
        ("/api/data", "get", "/data"),
        ("/api/signals", "get", "/signals"),
        ("/api/run-etl", "post", "/etl/run"),
        ("/api/generate-data", "post", "/generate"),
    ] {
        assert_eq!(j["paths"][p][m]["x-alias-of"], alias, "{p}");
    }
    let names: Vec<&str> = j["paths"]["/api/data"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.starts_with(&["start_date", "end_date", "columns"]),
        "{names:?}"
    );
    let docs = server.get("/docs").text();
    assert!(docs.contains("/api/run-etl") && docs.contains("signal_type"));
    assert!(!server.log.lock().unwrap().contains(token));
}

#[test]
fn dates_of_the_api_are_local_days_of_the_timezone_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        dir.path(),
        &["generate", "--days", "3", "--start", "2025-10-25", "-q"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let token = "tz-token";
    let server = Server::start(&["--source", store, "--target", store, "--token", token]);
    // Berlin's 2025-10-26 has 25 hours of 1-minute samples.
    let q = "/data?start=2025-10-26&end=2025-10-27&variables=power&timezone=Europe/Berlin";
    let rows = server.get(q).json();
    assert_eq!(rows.as_array().unwrap().len(), 25 * 60);
    assert_eq!(rows[0]["timestamp"], "2025-10-25T22:00:00Z");
    // The seed route's inclusive end date, in the zone, too.
    let q =
        "/api/data?start_date=2025-10-26&end_date=2025-10-26&columns=power&timezone=Europe/Berlin";
    assert_eq!(server.get(q).json().as_array().unwrap().len(), 25 * 60);
    let r = server.get("/data?start=2025-10-26&end=2025-10-27&timezone=Mars/Olympus");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["parameter"], "timezone");
    // The ETL of a local day: 150 windows.
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &format!("Bearer {token}"))],
        r#"{"date": "2025-10-26", "timezone": "Europe/Berlin", "stats": "mean"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let q = "/signals?start=2025-10-26&end=2025-10-27&signal=power_mean&timezone=Europe/Berlin";
    assert_eq!(server.get(q).json().as_array().unwrap().len(), 150);
}

#[test]
fn etl_route_on_postgres_checks_days_and_angles_as_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "1");
    let tgt = fresh_db("tgt");
    let o = cli(dir.path(), &["init", "--target", &tgt]);
    assert!(o.status.success(), "{}", text(&o));
    let token = "angle-token";
    let server = Server::start(&["--source", &src, "--target", &tgt, "--token", token]);
    let auth = format!("Bearer {token}");
    let post = |body: &str| server.request("POST", "/etl/run", &[("Authorization", &auth)], body);

    // Bad angle settings: the same error text as `windcore-cli run`, and nothing written.
    let cases: &[(&str, &[&str], &str)] = &[
        // An angle that is not among the variables given.
        (
            r#"{"date": "2024-01-01", "variables": "wind_speed,power", "angles": "wind_direction"}"#,
            &[
                "--variables",
                "wind_speed,power",
                "--angles",
                "wind_direction",
            ],
            "is not among the variables (wind_speed, power)",
        ),
        // An angle that is not a channel of the source (nor a default variable).
        (
            r#"{"date": "2024-01-01", "angles": ["wind_direction"]}"#,
            &["--angles", "wind_direction"],
            "is not among the variables of this run (wind_speed, power)",
        ),
        // ... also when it is given as a variable.
        (
            r#"{"date": "2024-01-01", "variables": ["power", "wind_direction"], "angles": "wind_direction"}"#,
            &[
                "--variables",
                "power,wind_direction",
                "--angles",
                "wind_direction",
            ],
            "unknown variable `wind_direction`",
        ),
    ];
    for (body, flags, needle) in cases {
        let r = post(body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let detail = r.json()["detail"].as_str().unwrap().to_string();
        let detail = detail.strip_prefix("variables: ").unwrap_or(&detail);
        assert!(detail.contains(needle), "{body}: {detail}");
        let mut args = vec![
            "run",
            "--source",
            &src,
            "--target",
            &tgt,
            "--date",
            "2024-01-01",
        ];
        args.extend_from_slice(flags);
        let o = cli(dir.path(), &args);
        assert!(!o.status.success());
        assert!(
            text(&o).contains(detail),
            "the CLI says {:?}, the API {detail:?}",
            text(&o)
        );
    }
    assert!(target_rows(&tgt).is_empty());

    // Good angle settings run.
    let r = post(r#"{"date": "2024-01-01", "variables": "wind_speed,power", "angles": "power"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 1);

    // The days are read as every front door reads them.
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"date": "2024-13-01"}"#,
            "date",
            "invalid date: `2024-13-01` is not a date of the form YYYY-MM-DD",
        ),
        (
            r#"{"from": "2024-01-01"}"#,
            "to",
            "a range needs its last day",
        ),
        (
            r#"{"to": "2024-01-01"}"#,
            "from",
            "a range needs its first day",
        ),
        (
            r#"{"date": "2024-01-01", "from": "2024-01-01", "to": "2024-01-02"}"#,
            "date",
            "not both",
        ),
        (
            r#"{"from": "2024-01-05", "to": "2024-01-01"}"#,
            "to",
            "is empty",
        ),
        (
            r#"{"from": "2024-01-01", "to": "2024-02-30"}"#,
            "to",
            "invalid date",
        ),
        (
            r#"{}"#,
            "date",
            "give either `date` or both `from` and `to`",
        ),
        (r#"{"date": 20240101}"#, "date", "must be a string"),
    ];
    for (body, param, needle) in cases {
        let r = post(body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let j = r.json();
        assert_eq!(j["parameter"], *param, "{body}: {j}");
        assert!(
            j["detail"].as_str().unwrap().contains(needle),
            "{body}: {j}"
        );
    }
}

#[test]
fn coverage_counts_the_windows_of_local_days() {
    let dir = tempfile::tempdir().unwrap();
    // Three UTC days around each change; the ETL of the local day in between.
    for (start, day) in [("2025-03-29", "2025-03-30"), ("2025-10-25", "2025-10-26")] {
        let o = cli(
            dir.path(),
            &["generate", "--days", "3", "--start", start, "-q"],
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = cli(
            dir.path(),
            &["run", "--date", day, "--timezone", "Europe/Berlin", "-q"],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let server = Server::start(&["--source", store, "--target", store]);
    for (day, n) in [("2025-03-30", 138), ("2025-10-26", 150)] {
        let c = server
            .get(&format!(
                "/coverage?from={day}&to={day}&timezone=Europe/Berlin"
            ))
            .json();
        assert_eq!(c["timezone"], "Europe/Berlin");
        assert_eq!(c["every"], "10m");
        let d = &c["days"][0];
        assert_eq!(d["day"], day);
        assert_eq!(d["source"], true);
        assert_eq!(d["expected_windows"], n, "{c}");
        assert_eq!(d["windows"][""], n, "{c}");
        // Hourly windows: 23 or 25.
        let c = server
            .get(&format!(
                "/coverage?from={day}&to={day}&timezone=Europe/Berlin&every=1h"
            ))
            .json();
        assert_eq!(c["days"][0]["expected_windows"], n / 6, "{c}");
        // A UTC day has 144 windows.
        let c = server.get(&format!("/coverage?from={day}&to={day}")).json();
        assert_eq!(c["days"][0]["expected_windows"], 144, "{c}");
        assert_eq!(c["expected_windows"], 144);
    }
    // The next Berlin day is a day of 24 hours again.
    let c = server
        .get("/coverage?from=2025-10-27&to=2025-10-27&timezone=Europe/Berlin")
        .json();
    assert_eq!(c["days"][0]["expected_windows"], 144, "{c}");
    let r = server.get("/coverage?every=7m");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("every"))
    );
    let r = server.get("/coverage?timezone=Mars/Olympus");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("timezone"))
    );
}

#[test]
fn assets_lists_every_turbine_of_every_day() {
    let dir = tempfile::tempdir().unwrap();
    // Three turbines, then a newest day with two of them.
    for (turbines, start, days) in [("3", "2024-01-01", "2"), ("2", "2024-01-03", "1")] {
        let o = cli(
            dir.path(),
            &[
                "generate",
                "--turbines",
                turbines,
                "--days",
                days,
                "--start",
                start,
                "-q",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let server = Server::start(&["--source", store, "--target", store]);
    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["T01", "T02", "T03"])
    );
    let c = server.get("/coverage").json();
    assert_eq!(c["assets"], serde_json::json!(["T01", "T02", "T03"]));
}

#[test]
fn serves_the_raw_samples_of_files_read_once() {
    let dir = tempfile::tempdir().unwrap();
    // A farm export: `;`, decimal commas, local offsets, a comment line.
    let farm = dir.path().join("farm.csv");
    std::fs::write(
        &farm,
        "# export of the farm\n\
         Date and time;turbine;Power (kW);Wind speed (m/s)\n\
         2024-03-01T01:00:00+01:00;T01;100,5;5,5\n\
         2024-03-01T01:00:00+01:00;T02;200,25;6\n\
         2024-03-01T01:01:00+01:00;T01;101;5,25\n\
         2024-03-01T01:01:00+01:00;T02;;6,5\n\
         2024-03-02T12:00:00+01:00;T01;50;4\n",
    )
    .unwrap();
    let server = Server::start(&[
        "--source",
        farm.to_str().unwrap(),
        "--time-column",
        "Date and time",
        "--asset-column",
        "turbine",
    ]);
    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["T01", "T02"])
    );
    let info = server.get("/info").json();
    assert_eq!(
        info["variables"],
        serde_json::json!(["Power (kW)", "Wind speed (m/s)"])
    );
    // Read once, when the server started: the file is not read again.
    std::fs::remove_file(&farm).unwrap();
    let r = server.get("/data?start=2024-03-01&end=2024-03-02&variables=Power%20(kW)");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "T01", "Power (kW)": 100.5},
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "T02", "Power (kW)": 200.25},
            {"timestamp": "2024-03-01T00:01:00Z", "asset": "T01", "Power (kW)": 101.0},
            {"timestamp": "2024-03-01T00:01:00Z", "asset": "T02", "Power (kW)": null},
        ])
    );
    let r = server.get("/data?start=2024-03-02&end=2024-03-03&asset=T01&format=csv");
    assert_eq!(r.status, 200, "{}", r.text());
    let lines: Vec<String> = r.text().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].starts_with("2024-03-02T11:00:00Z,T01,"),
        "{lines:?}"
    );
    let c = server.get("/coverage?from=2024-03-01&to=2024-03-03").json();
    let has: Vec<bool> = c["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["source"].as_bool().unwrap())
        .collect();
    assert_eq!(has, [true, true, false], "{c}");
    assert_eq!(server.get("/health").status, 200);

    // Per-turbine files, the turbine named only in the file name.
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    for (t, p) in [("WT1", "1.5"), ("WT2", "2.5")] {
        std::fs::write(
            exports.join(format!("Turbine_{t}_2024.csv")),
            format!("timestamp,power\n2024-03-01 00:00:00,{p}\n"),
        )
        .unwrap();
    }
    let glob = exports.join("*.csv");
    let server = Server::start(&[
        "--source",
        glob.to_str().unwrap(),
        "--asset-pattern",
        r"Turbine_(\w+?)_",
    ]);
    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["WT1", "WT2"])
    );
    let rows = server.get("/data?start=2024-03-01&end=2024-03-02").json();
    assert_eq!(
        rows,
        serde_json::json!([
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "WT1", "power": 1.5},
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "WT2", "power": 2.5},
        ])
    );
}

/// `GET /availability` against the seconds written into the target, summed
/// here: per (day, turbine) the ratio of the sums, never the mean of the
/// windows' ratios.
#[test]
fn availability_per_turbine_and_day_is_the_ratio_of_the_sums() {
    use windcore::polars::prelude::*;
    use windcore::Load;

    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        dir.path(),
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
    // Wind speed and power only (a bare `run` of this farm would be the demo
    // run, which writes availability signals of its own).
    let o = cli(
        dir.path(),
        &["run", "-q", "--variables", "wind_speed,power"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let store_dir = dir.path().join("windcore-data");
    // Availability signals for T01 and T02 (not T03): window k of day d has
    // available = (k * 37 + d * 11) % 601 s, unavailable = the rest of 600 s
    // on every third window, else 0, excluded = what is left.
    let names = [
        "available_seconds",
        "unavailable_seconds",
        "excluded_seconds",
        "unknown_seconds",
    ];
    let mut want: std::collections::BTreeMap<(String, String), (f64, f64, f64)> =
        Default::default();
    let target = windcore::LocalStore::new(&store_dir).target();
    let rt = rt();
    for (d, day) in ["2024-01-01", "2024-01-02"].iter().enumerate() {
        let day: Day = day.parse().unwrap();
        let (mut asset, mut ts, mut signal, mut value) = (vec![], vec![], vec![], vec![]);
        for a in ["T01", "T02"] {
            for k in 0..144i64 {
                let avail = ((k * 37 + d as i64 * 11) % 601) as f64;
                let unavail = if k % 3 == 0 { 600.0 - avail } else { 0.0 };
                let excluded = 600.0 - avail - unavail;
                let t = day.start().timestamp_micros() + k * 600_000_000;
                for (n, v) in names.iter().zip([avail, unavail, excluded, 0.0]) {
                    asset.push(a);
                    ts.push(t);
                    signal.push(*n);
                    value.push(v);
                }
                let e = want.entry((day.to_string(), a.to_string())).or_default();
                e.0 += avail;
                e.1 += unavail;
                e.2 += excluded;
            }
        }
        let ts = Int64Chunked::from_vec("timestamp".into(), ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        let df = DataFrame::new_infer_height(vec![
            Column::new("asset".into(), asset),
            ts.into_series().into(),
            Column::new("signal".into(), signal),
            Column::new("value".into(), value),
        ])
        .unwrap();
        let signals: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        rt.block_on(target.load(day.range(), &signals, &df))
            .unwrap();
    }
    let store = store_dir.to_str().unwrap();
    let server = Server::start(&["--source", store, "--target", store]);
    let j = server
        .get("/availability?from=2024-01-01&to=2024-01-02")
        .json();
    assert_eq!(j["assets"], serde_json::json!(["T01", "T02"]), "{j}");
    assert_eq!(j["days"].as_array().unwrap().len(), 2);
    let mut total: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for d in j["days"].as_array().unwrap() {
        let day = d["day"].as_str().unwrap();
        assert!(d["assets"].get("T03").is_none(), "{d}");
        for a in ["T01", "T02"] {
            let got = &d["assets"][a];
            let (av, un, ex) = want[&(day.to_string(), a.to_string())];
            assert_eq!(got["available_seconds"], av, "{day} {a}");
            assert_eq!(got["unavailable_seconds"], un, "{day} {a}");
            assert_eq!(got["excluded_seconds"], ex, "{day} {a}");
            assert_eq!(got["unknown_seconds"], 0.0, "{day} {a}");
            assert_eq!(got["windows"], 144, "{day} {a}");
            let ratio = got["availability"].as_f64().unwrap();
            assert!((ratio - av / (av + un)).abs() < 1e-12, "{day} {a}");
            let t = total.entry(a.to_string()).or_default();
            t.0 += av;
            t.1 += un;
        }
    }
    for (a, (av, un)) in &total {
        let got = j["total"][a]["availability"].as_f64().unwrap();
        assert!((got - av / (av + un)).abs() < 1e-12, "{a}");
    }
    // A bad day names its parameter.
    let r = server.get("/availability?from=2024-13-01");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("from"))
    );
    let r = server.get("/availability?from=2024-01-02&to=2024-01-01");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("to"))
    );
    // A day without availability signals has no entries.
    let j = server
        .get("/availability?from=2023-12-31&to=2023-12-31")
        .json();
    assert_eq!(j["days"][0]["assets"], serde_json::json!({}));
    assert_eq!(j["total"], serde_json::json!({}));
    let docs = server.get("/openapi.json").json();
    assert!(docs["paths"]["/availability"]["get"].is_object());
    drop(server);
    let bare = Server::start(&["--source", store]);
    let r = bare.get("/availability");
    assert_eq!(r.status, 503, "{}", r.text());
}
