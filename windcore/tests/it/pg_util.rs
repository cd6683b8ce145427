//! Throwaway databases and a cuttable TCP proxy for the PostgreSQL tests.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_postgres::NoTls;

/// The admin URL of the test server.
pub fn admin_url() -> String {
    std::env::var("WINDCORE_TEST_DATABASE_URL").expect(
        "WINDCORE_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL",
    )
}

/// `url` with its database name replaced.
pub fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").expect("a URL") + 3;
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new, empty database; returns its URL.
pub async fn fresh_db(tag: &str) -> String {
    let admin = admin_url();
    let (client, conn) = tokio_postgres::connect(&admin, NoTls)
        .await
        .expect("connect to the test server");
    tokio::spawn(conn);
    let name = format!(
        "wc_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!("create database {name}"))
        .await
        .expect("create database");
    with_db(&admin, &name)
}

/// A plain client for assertions.
pub async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    client
}

/// A TCP proxy in front of the test server that can be cut, as if the server died.
pub struct Proxy {
    pub url: String,
    kill: watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(target_url: &str) -> Proxy {
        let cfg: tokio_postgres::Config = target_url.parse().unwrap();
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (kill, rx) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let mut rx_accept = rx.clone();
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = rx_accept.wait_for(|k| *k) => return, // stop listening: connections refused
                };
                let Ok((mut inbound, _)) = accepted else {
                    return;
                };
                let mut rx_conn = rx.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", port)).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx_conn.wait_for(|k| *k) => {}
                    }
                });
            }
        });
        let url = target_url.replacen(&format!(":{port}/"), &format!(":{}/", addr.port()), 1);
        assert_ne!(url, target_url, "the proxy URL must differ");
        Proxy { url, kill }
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        let _ = self.kill.send(true);
    }
}
