//! The server's life: database down and back, SIGTERM, the pool size.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::support::*;

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
