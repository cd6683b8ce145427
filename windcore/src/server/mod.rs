//! The connector API and the dashboard over HTTP (feature `server`), as
//! `windcore-cli serve` runs it; embed it in your own program the same way.
//!
//! ```text
//! server/
//!   mod.rs        ServerConfig, Server (router, serve)
//!   app.rs        shared state: stores opened lazily, limits, token
//!   routes/       handlers: parse and validate, then call the library
//!     data.rs     GET /data
//!     signals.rs  GET /signals, /signals/names
//!     jobs.rs     POST /etl/run, /generate (bearer token)
//!     meta.rs     GET /health, /info, /assets, /coverage, /openapi.json, /docs
//!     availability.rs  GET /availability (per asset and day)
//!     seed.rs     the reference system's /api/... routes, aliases of the above
//!   params.rs     query and body parsing (400s naming the parameter)
//!   stream.rs     responses streamed one UTC day at a time
//!   encode.rs     JSON, CSV, Arrow IPC
//!   target.rs     statistics from PostgreSQL or the embedded store
//!   docs.rs       OpenAPI document and /docs page
//!   dashboard/    the page at / and its embedded files (uPlot vendored)
//! ```
//!
//! Source and target are each a [`Location`]: the embedded store (a
//! directory, both source and target at once) or PostgreSQL. The source may
//! also be files (CSV, TOA5, Parquet): they are read once, when the source is
//! first opened, and their samples served from then on.
//!
//! ```no_run
//! use windcore::server::{Server, ServerConfig};
//! use windcore::Location;
//!
//! # async fn demo() -> windcore::Result<()> {
//! let store: Location = "windcore-data".parse()?;
//! let config = ServerConfig::builder(store.clone())
//!     .target(store)
//!     .token("change me")
//!     .build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await.unwrap();
//! Server::new(config)
//!     .serve(listener, windcore::server::shutdown_signal())
//!     .await?;
//! # Ok(())
//! # }
//! ```

mod app;
mod dashboard;
mod docs;
mod encode;
mod error;
mod params;
mod routes;
mod stream;
mod target;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::Utc;

use crate::error::{Error, Result};
use crate::setting::Setting;
use crate::{FileOptions, Location, SourceLayout, MAX_POOL_SIZE};
use app::App;
use error::ApiError;

pub use dashboard::UPLOT_VERSION;

// The demo data moved to `windcore::demo`; these names stay until
// `windcore-cli serve` imports it from there.

/// A validated server configuration. Built by [`ServerConfig::builder`].
/// Its `Debug` output masks the token (and, through [`Location`], passwords).
#[derive(Clone)]
pub struct ServerConfig {
    source: Location,
    layout: SourceLayout,
    files: FileOptions,
    target: Option<Location>,
    token: Option<String>,
    max_range_days: u32,
    request_timeout: Duration,
    max_concurrency: usize,
    pool_size: usize,
    access_log: bool,
    demo_runs: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("source", &self.source)
            .field("layout", &self.layout)
            .field("files", &self.files)
            .field("target", &self.target)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("max_range_days", &self.max_range_days)
            .field("request_timeout", &self.request_timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("pool_size", &self.pool_size)
            .field("access_log", &self.access_log)
            .field("demo_runs", &self.demo_runs)
            .finish()
    }
}

/// Configures a [`ServerConfig`]; [`build`](ServerConfigBuilder::build) validates.
#[derive(Debug, Clone)]
pub struct ServerConfigBuilder {
    config: ServerConfig,
}

impl ServerConfig {
    /// A server of the samples in `source` (a database or an embedded store),
    /// with the defaults: no target, no token, 31 days per GET, 30 s timeout,
    /// 64 requests at once, 8 connections per database, an access log.
    pub fn builder(source: Location) -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: ServerConfig {
                source,
                layout: SourceLayout::default(),
                files: FileOptions::default(),
                target: None,
                token: None,
                max_range_days: 31,
                request_timeout: Duration::from_secs(30),
                max_concurrency: 64,
                pool_size: 8,
                access_log: true,
                demo_runs: false,
            },
        }
    }

    /// The source location.
    pub fn source(&self) -> &Location {
        &self.source
    }

    /// The target location, if any.
    pub fn target(&self) -> Option<&Location> {
        self.target.as_ref()
    }

    /// Whether the POST routes are enabled (a token is set).
    pub fn jobs_enabled(&self) -> bool {
        self.token.is_some()
    }
}

impl ServerConfigBuilder {
    /// Where the samples are in the source: the table (PostgreSQL), the time
    /// and asset columns, the zone of naive times. Default: the reference
    /// `data(timestamp, ...)` table, one asset.
    pub fn layout(mut self, layout: SourceLayout) -> Self {
        self.config.layout = layout;
        self
    }

    /// How to read a file source ([`Location::Files`]): the asset from the
    /// file names, the CSV dialect, the time format, renames. The files are
    /// read once, when the source is first opened (at [`Server::check`] or
    /// the first request), and served from then on.
    pub fn files(mut self, options: FileOptions) -> Self {
        self.config.files = options;
        self
    }

    /// Where the statistics are: enables `/signals`, `/coverage` and `POST /etl/run`.
    pub fn target(mut self, target: Location) -> Self {
        self.config.target = Some(target);
        self
    }

    /// The bearer token that enables `POST /etl/run` and `POST /generate`
    /// (and their aliases). Off without one; an empty token is none.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        let t: String = token.into();
        self.config.token = (!t.is_empty()).then_some(t);
        self
    }

    /// The longest time range one GET may ask for, in days (at least 1).
    pub fn max_range_days(mut self, days: u32) -> Self {
        self.config.max_range_days = days;
        self
    }

    /// Time allowed to start a response (and to read each further day).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout.max(Duration::from_secs(1));
        self
    }

    /// Requests reading the stores at once; further ones wait (up to the timeout).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.config.max_concurrency = n;
        self
    }

    /// Connections kept open to each database (1 ..= [`MAX_POOL_SIZE`]).
    pub fn pool_size(mut self, n: usize) -> Self {
        self.config.pool_size = n;
        self
    }

    /// One line per request on stderr (default on). Never a header, so never the token.
    pub fn access_log(mut self, on: bool) -> Self {
        self.config.access_log = on;
        self
    }

    /// Whether a run asked for over HTTP (`POST /etl/run` and its alias)
    /// that names no channels gets the demo run's settings when the source
    /// holds the demo's channels ([`demo::configure_for`](crate::demo::configure_for),
    /// the rule `windcore-cli run` follows on its default store): the wind
    /// direction as an angle, the energy counter, the states and their
    /// availability, so that running a day again rewrites what the demo run
    /// wrote. Default off; `windcore-cli serve` turns it on for its default
    /// store.
    pub fn demo_runs(mut self, on: bool) -> Self {
        self.config.demo_runs = on;
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<ServerConfig> {
        let c = self.config;
        if matches!(c.source, Location::Http(_)) {
            return Err(Error::config(
                Setting::Source,
                "the server reads a database or an embedded store, not another HTTP API",
            ));
        }
        if let Some(t @ (Location::Http(_) | Location::Files(_))) = &c.target {
            return Err(Error::config(
                Setting::Target,
                format!(
                    "{t} is a source only; the target must be a postgres:// URL or a directory"
                ),
            ));
        }
        c.layout.validate()?;
        if c.max_range_days == 0 {
            return Err(Error::config(Setting::MaxRangeDays, "must be at least 1"));
        }
        if c.max_concurrency == 0 {
            return Err(Error::config(Setting::MaxConcurrency, "must be at least 1"));
        }
        if !(1..=MAX_POOL_SIZE).contains(&c.pool_size) {
            return Err(Error::config(
                Setting::PoolSize,
                format!("must be in 1 ..= {MAX_POOL_SIZE} (got {})", c.pool_size),
            ));
        }
        Ok(c)
    }
}

/// The HTTP server: the connector API and the dashboard.
pub struct Server {
    app: Arc<App>,
    access_log: bool,
}

impl Server {
    /// A server for `config`. Nothing is opened yet: stores are connected on
    /// first use (or by [`check`](Server::check)) and again after a failure.
    pub fn new(config: ServerConfig) -> Server {
        Server {
            app: Arc::new(App::new(&config)),
            access_log: config.access_log,
        }
    }

    /// Connects to the source and the target now, to report problems early.
    /// Returns one message per store that is not available yet (the server
    /// answers 503 for it until it is).
    pub async fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.app.source().await {
            out.push(format!("source not available yet: {}", e.detail));
        }
        if self.app.target_loc.is_some() {
            if let Err(e) = self.app.target().await {
                out.push(format!("target not available yet: {}", e.detail));
            }
        }
        out
    }

    /// Every route, with the access log and the request timeout, ready to
    /// be served or nested into a larger application.
    pub fn router(&self) -> Router {
        let quiet = !self.access_log;
        let timeout = self.app.timeout;
        routes::router(self.app.clone()).layer(middleware::from_fn(
            move |req: Request, next: Next| access_log(req, next, quiet, timeout),
        ))
    }

    /// Serves on `listener` until `shutdown` completes, then lets the
    /// requests in flight finish.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Connection {
            context: format!("serving on {addr}"),
            detail: e.to_string(),
        })
    }
}

/// Completes on Ctrl-C or SIGTERM (what a service manager sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// One line per request on stderr: client, method, path and query, status, time.
/// Only paths and queries are logged: no header (so no token), no URL of a database.
///
/// Also the request timeout: a GET that has not started its response within
/// `timeout` gets a 503 (a streamed body is further bounded by the timeout on
/// each day it reads). POST jobs (ETL, generate) run to completion.
async fn access_log(req: Request, next: Next, quiet: bool, timeout: Duration) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "-".into());
    let resp = if method == axum::http::Method::POST {
        next.run(req).await
    } else {
        match tokio::time::timeout(timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!("no response within {} s", timeout.as_secs()),
            )
            .into_response(),
        }
    };
    if !quiet {
        eprintln!(
            "{} {peer} \"{method} {uri}\" {} {:.1}ms",
            Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            resp.status().as_u16(),
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_validated_and_never_shows_the_token() {
        let store: Location = "some-dir".parse().unwrap();
        let c = ServerConfig::builder(store.clone())
            .target(store.clone())
            .token("s3cret")
            .build()
            .unwrap();
        assert!(c.jobs_enabled());
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!ServerConfig::builder(store.clone())
            .token("")
            .build()
            .unwrap()
            .jobs_enabled());
        for (b, what) in [
            (
                ServerConfig::builder(store.clone()).pool_size(0),
                Setting::PoolSize,
            ),
            (
                ServerConfig::builder(store.clone()).max_range_days(0),
                Setting::MaxRangeDays,
            ),
            (
                ServerConfig::builder(store.clone()).max_concurrency(0),
                Setting::MaxConcurrency,
            ),
            (
                ServerConfig::builder("http://127.0.0.1:1".parse().unwrap()),
                Setting::Source,
            ),
            (
                ServerConfig::builder(store.clone()).target("http://x".parse().unwrap()),
                Setting::Target,
            ),
        ] {
            match b.build() {
                Err(Error::InvalidConfig { setting, .. }) => assert_eq!(setting, what),
                other => panic!("{what}: {other:?}"),
            }
        }
    }
}
