//! `windcore-cli serve`: the connector API in front of the source database.
//!
//! Routes: `GET /data`, `GET /signals`, `GET /signals/names`, `POST /etl/run`,
//! `POST /generate`, `GET /health`, `GET /openapi.json`, `GET /docs`.
//!
//! Responses of `/data` and `/signals` are streamed one UTC day at a time: the
//! first day is read before the status is sent (so a dead database is a 503,
//! not a truncated 200); later days are read while the client consumes the
//! earlier ones, and a failure then aborts the chunked body (the client sees
//! an incomplete response, never a silently short one).

mod docs;
mod encode;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use clap::Args;
use polars::prelude::DataFrame;
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, RwLock, Semaphore};
use windcore::{
    parse_stats, Day, DayRange, Extract, Generator, Location, Pipeline, PostgresTarget, Resampler,
    TimeRange, DEFAULT_VARIABLES, SOURCE_VARIABLES,
};

use encode::{Format, Layout};

/// The longest ETL or generate request, in days.
const MAX_JOB_DAYS: u32 = 366;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The source database (postgres:// URL) or embedded store directory.
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_SOURCE_URL",
        hide_env_values = true
    )]
    source: String,
    /// The target database (postgres:// URL): enables /signals and POST /etl/run.
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_TARGET_URL",
        hide_env_values = true
    )]
    target: Option<String>,
    /// Address to listen on. Only loopback by default; give 0.0.0.0:8000 to expose it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
    bind: SocketAddr,
    /// Bearer token that enables POST /etl/run and POST /generate (off without one).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "WINDCORE_API_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Longest time range one GET may ask for, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 31)]
    max_range_days: u32,
    /// Time allowed to start a response (and to read each further day), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    request_timeout: u64,
    /// Requests reading the databases at once; further ones wait (up to the timeout).
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_concurrency: usize,
    /// Connections kept open to each database (1 to 64); requests beyond that
    /// queue for a connection, within the request timeout.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pool_size: usize,
    /// No access log.
    #[arg(long, short)]
    quiet: bool,
}

/// What the handlers share.
struct App {
    source_loc: Location,
    source: RwLock<Option<Arc<dyn Extract>>>,
    target_loc: Option<Location>,
    target: RwLock<Option<PostgresTarget>>,
    token: Option<String>,
    max_range: TimeDelta,
    timeout: Duration,
    permits: Arc<Semaphore>,
    pool_size: usize,
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let source_loc: Location = args.source.parse().context("--source")?;
    if matches!(source_loc, Location::Http(_)) {
        anyhow::bail!(
            "--source: serve reads a database or an embedded store, not another HTTP API"
        );
    }
    let target_loc = match &args.target {
        Some(t) => {
            let loc: Location = t.parse().context("--target")?;
            if !matches!(loc, Location::Postgres(_)) {
                anyhow::bail!("--target: serve needs a postgres:// target (got {loc})");
            }
            Some(loc)
        }
        None => None,
    };
    if args.max_range_days == 0 {
        anyhow::bail!("--max-range-days must be at least 1");
    }
    if args.max_concurrency == 0 {
        anyhow::bail!("--max-concurrency must be at least 1");
    }
    if !(1..=windcore::MAX_POOL_SIZE).contains(&args.pool_size) {
        anyhow::bail!(
            "--pool-size must be in 1 ..= {} (got {})",
            windcore::MAX_POOL_SIZE,
            args.pool_size
        );
    }
    let token = args.token.filter(|t| !t.is_empty());
    let app = Arc::new(App {
        source_loc,
        source: RwLock::new(None),
        target_loc,
        target: RwLock::new(None),
        token,
        max_range: TimeDelta::days(args.max_range_days as i64),
        timeout: Duration::from_secs(args.request_timeout.max(1)),
        permits: Arc::new(Semaphore::new(args.max_concurrency)),
        pool_size: args.pool_size,
    });
    // Connect now to report problems early; the server starts either way and
    // answers 503 until the database is reachable.
    if let Err(e) = app.source().await {
        eprintln!(
            "windcore-cli serve: warning: source not available yet: {}",
            e.detail
        );
    }
    if app.target_loc.is_some() {
        if let Err(e) = app.target().await {
            eprintln!(
                "windcore-cli serve: warning: target not available yet: {}",
                e.detail
            );
        }
    }

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    let quiet = args.quiet;
    let request_timeout = app.timeout;
    let router = router(app.clone()).layer(middleware::from_fn(move |req: Request, next: Next| {
        access_log(req, next, quiet, request_timeout)
    }));
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "windcore-cli serve: listening on http://{addr} (source {}{}; POST routes {})",
            app.source_loc,
            app.target_loc
                .as_ref()
                .map(|t| format!(", target {t}"))
                .unwrap_or_default(),
            if app.token.is_some() {
                "enabled"
            } else {
                "disabled: no --token"
            }
        )?;
        out.flush()?;
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
    eprintln!("windcore-cli serve: stopped");
    Ok(ExitCode::SUCCESS)
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/data", get(data))
        .route("/signals", get(signals))
        .route("/signals/names", get(signal_names))
        .route("/etl/run", post(etl_run))
        .route("/generate", post(generate))
        .route("/health", get(health))
        .route(
            "/openapi.json",
            get(|| async { json_response(StatusCode::OK, docs::openapi()) }),
        )
        .route("/docs", get(|| async { docs::html() }))
        .route("/", get(|| async { docs::html() }))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route; see /docs",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method; see /docs",
            )
        })
        .with_state(app)
}

async fn shutdown_signal() {
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
    eprintln!("windcore-cli serve: shutting down (letting requests in flight finish)");
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
                StatusCode::SERVICE_UNAVAILABLE,
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

// ---------------------------------------------------------------- errors

/// An error answer: `{"error": …, "detail": …}` (plus `parameter` for bad requests).
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    error: &'static str,
    detail: String,
    parameter: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            detail: detail.into(),
            parameter: None,
        }
    }

    fn param(parameter: &'static str, detail: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_parameter",
            detail: format!("{parameter}: {detail}"),
            parameter: Some(parameter),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            e.to_string(),
        )
    }

    fn unavailable(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            detail,
        )
    }

    fn from_windcore(e: windcore::Error) -> Self {
        use windcore::Error as E;
        let detail = chain(&e);
        match e {
            E::Connection { .. } | E::Database { .. } => ApiError::unavailable(detail),
            E::UnknownVariable { .. } => ApiError::param("variables", detail),
            E::InvalidConfig { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
            }
            E::Day { ref source, .. }
                if matches!(**source, E::Connection { .. } | E::Database { .. }) =>
            {
                ApiError::unavailable(detail)
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", detail),
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.error, "detail": self.detail});
        if let Some(p) = self.parameter {
            body["parameter"] = json!(p);
        }
        let mut resp = json_response(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

type ApiResult<T> = Result<T, ApiError>;

// ---------------------------------------------------------------- state

impl App {
    async fn source(&self) -> ApiResult<Arc<dyn Extract>> {
        if let Some(s) = self.source.read().await.as_ref() {
            return Ok(s.clone());
        }
        let mut slot = self.source.write().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let s = tokio::time::timeout(
            self.timeout,
            self.source_loc.open_source_with_pool_size(self.pool_size),
        )
        .await
        .map_err(|_| ApiError::unavailable(format!("{}: connect timed out", self.source_loc)))?
        .map_err(|e| match e {
            windcore::Error::Schema(_) => ApiError::unavailable(chain(&e)),
            other => ApiError::from_windcore(other),
        })?;
        *slot = Some(s.clone());
        Ok(s)
    }

    async fn target(&self) -> ApiResult<PostgresTarget> {
        let Some(Location::Postgres(url)) = &self.target_loc else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_target",
                "the server was started without --target",
            ));
        };
        if let Some(t) = self.target.read().await.as_ref() {
            return Ok(t.clone());
        }
        let mut slot = self.target.write().await;
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let t = tokio::time::timeout(
            self.timeout,
            PostgresTarget::connect_with_pool_size(url, self.pool_size),
        )
        .await
        .map_err(|_| ApiError::unavailable("target: connect timed out"))?
        .map_err(|e| ApiError::unavailable(chain(&e)))?;
        *slot = Some(t.clone());
        Ok(t)
    }

    /// The target's signal names, through its pool, within the request timeout.
    async fn signal_names(&self) -> ApiResult<Vec<String>> {
        let target = self.target().await?;
        tokio::time::timeout(self.timeout, target.signal_names())
            .await
            .map_err(|_| ApiError::unavailable("listing signals timed out"))?
            .map_err(ApiError::from_windcore)
    }

    async fn permit(&self) -> ApiResult<OwnedSemaphorePermit> {
        tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "too many requests in flight; retry later",
                )
            })?
            .map_err(|_| ApiError::unavailable("shutting down"))
    }

    fn authorize(&self, headers: &HeaderMap) -> ApiResult<()> {
        let Some(token) = &self.token else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "disabled",
                "this route is off: start the server with --token (or WINDCORE_API_TOKEN) to enable it",
            ));
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match given {
            Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong bearer token",
            )),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing `Authorization: Bearer <token>` header",
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() != b.len()) as u8;
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0
}

// ---------------------------------------------------------------- parameters

/// Query parameters, in order; repeated keys kept.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<&str>, allowed: &[&'static str]) -> ApiResult<Params> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, _) in &pairs {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError {
                    status: StatusCode::BAD_REQUEST,
                    error: "invalid_parameter",
                    detail: format!("unknown parameter `{k}` (known: {})", allowed.join(", ")),
                    parameter: None,
                });
            }
        }
        Ok(Params(pairs))
    }

    fn one(&self, key: &'static str) -> ApiResult<Option<&str>> {
        let mut vals = self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        let first = vals.next();
        if vals.next().is_some() {
            return Err(ApiError::param(key, "given more than once"));
        }
        Ok(first)
    }

    /// Every value of a repeatable, comma-separated list parameter.
    fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// An RFC 3339 timestamp, a naive timestamp (taken as UTC) or a date (midnight UTC).
fn parse_time(key: &'static str, s: &str) -> ApiResult<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ApiError::param(key, "empty"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // An unencoded `+` in a query string arrives as a space: `…T00:00:00 01:00`.
    if let Some(i) = s.rfind(' ') {
        if i > 10 {
            let fixed = format!("{}+{}", &s[..i], &s[i + 1..]);
            if let Ok(t) = DateTime::parse_from_rfc3339(&fixed) {
                return Ok(t.with_timezone(&Utc));
            }
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Day::new(d).start());
    }
    Err(ApiError::param(
        key,
        format!("cannot parse `{s}`: give an RFC 3339 timestamp (2024-01-01T00:00:00Z) or a date (2024-01-01)"),
    ))
}

/// `[start, end)` from the query, checked against the maximum range.
fn parse_range(p: &Params, max: TimeDelta) -> ApiResult<TimeRange> {
    let start = parse_time(
        "start",
        p.one("start")?
            .ok_or_else(|| ApiError::param("start", "missing"))?,
    )?;
    let end = parse_time(
        "end",
        p.one("end")?
            .ok_or_else(|| ApiError::param("end", "missing"))?,
    )?;
    if start >= end {
        return Err(ApiError::param(
            "end",
            format!(
                "must be after start ({} >= {})",
                end.to_rfc3339(),
                start.to_rfc3339()
            ),
        ));
    }
    if end - start > max {
        return Err(ApiError::param(
            "end",
            format!(
                "the range is longer than the maximum of {} days; split it into several requests",
                max.num_days()
            ),
        ));
    }
    TimeRange::new(start, end).map_err(|e| ApiError::param("end", e))
}

fn parse_format(p: &Params, headers: &HeaderMap, allow_arrow: bool) -> ApiResult<Format> {
    let f = match p.one("format")? {
        Some(s) => Format::parse(s).ok_or_else(|| {
            ApiError::param("format", format!("unknown format `{s}` (json, csv, arrow)"))
        })?,
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .and_then(Format::from_accept)
            .unwrap_or(Format::Json),
    };
    if f == Format::Arrow && !allow_arrow {
        return Err(ApiError::param(
            "format",
            "arrow is not offered here (json, csv)",
        ));
    }
    Ok(f)
}

/// Splits a range at UTC midnights.
fn day_chunks(r: TimeRange) -> VecDeque<TimeRange> {
    let mut out = VecDeque::new();
    let mut t = r.start;
    while t < r.end {
        let next = Day::containing(t).end().min(r.end);
        out.push_back(TimeRange {
            start: t,
            end: next,
        });
        t = next;
    }
    out
}

// ---------------------------------------------------------------- streaming

type ReadFuture = futures_util::future::BoxFuture<'static, windcore::Result<DataFrame>>;

/// Reads one chunk of rows as a frame.
type Reader = Arc<
    dyn Fn(TimeRange) -> futures_util::future::BoxFuture<'static, windcore::Result<DataFrame>>
        + Send
        + Sync,
>;

struct Streamer {
    read: Reader,
    layout: Layout,
    format: Format,
    chunks: VecDeque<TimeRange>,
    first_row: bool,
    done: bool,
    timeout: Duration,
    _permit: OwnedSemaphorePermit,
}

impl Streamer {
    async fn next_bytes(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        if self.done {
            return Ok(None);
        }
        let Some(range) = self.chunks.pop_front() else {
            self.done = true;
            return Ok(Some(Bytes::from(Layout::epilogue(self.format))));
        };
        let fail = |d: String| {
            eprintln!("windcore-cli serve: aborting a response: {d}");
            std::io::Error::other(d)
        };
        let df = tokio::time::timeout(self.timeout, (self.read)(range))
            .await
            .map_err(|_| fail(format!("reading {range} timed out")))?
            .map_err(|e| fail(chain(&e)))?;
        let df = self.layout.conform(&df).map_err(|e| fail(e.to_string()))?;
        let bytes = self
            .layout
            .rows(&df, self.format, &mut self.first_row)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Some(Bytes::from(bytes)))
    }
}

impl Streamer {
    /// Reads `range` a UTC day at a time through `read`, holding `permit` until done.
    fn new(
        read: Reader,
        layout: Layout,
        format: Format,
        range: TimeRange,
        timeout: Duration,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Streamer {
            read,
            layout,
            format,
            chunks: day_chunks(range),
            first_row: true,
            done: false,
            timeout,
            _permit: permit,
        }
    }
}

/// Reads the first day, then answers with a body that streams the rest.
async fn stream_response(mut s: Streamer) -> ApiResult<Response> {
    let content_type = HeaderValue::from_static(s.format.content_type());
    let mut head = s.layout.prologue(s.format).map_err(ApiError::internal)?;
    if let Some(range) = s.chunks.pop_front() {
        let df = tokio::time::timeout(s.timeout, (s.read)(range))
            .await
            .map_err(|_| ApiError::unavailable(format!("reading {range} timed out")))?
            .map_err(ApiError::from_windcore)?;
        let df = s.layout.conform(&df).map_err(ApiError::internal)?;
        let rows = s
            .layout
            .rows(&df, s.format, &mut s.first_row)
            .map_err(ApiError::internal)?;
        head.extend_from_slice(&rows);
    }
    let first =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) });
    let rest = futures_util::stream::unfold(s, |mut s| async move {
        match s.next_bytes().await {
            Ok(Some(b)) => Some((Ok(b), s)),
            Ok(None) => None,
            Err(e) => {
                s.done = true;
                Some((Err(e), s))
            }
        }
    });
    use futures_util::StreamExt;
    let mut resp = Response::new(Body::from_stream(first.chain(rest)));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    Ok(resp)
}

// ---------------------------------------------------------------- handlers

async fn data(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = Params::parse(q.as_deref(), &["start", "end", "variables", "format"])?;
    let range = parse_range(&p, app.max_range)?;
    let format = parse_format(&p, &headers, true)?;
    let mut vars: Vec<String> = Vec::new();
    for v in p.list("variables") {
        let Some(k) = SOURCE_VARIABLES.iter().find(|k| **k == v) else {
            return Err(ApiError::param(
                "variables",
                format!(
                    "unknown variable `{v}` (known: {})",
                    SOURCE_VARIABLES.join(", ")
                ),
            ));
        };
        if !vars.iter().any(|x| x == k) {
            vars.push(k.to_string());
        }
    }
    if vars.is_empty() {
        vars = SOURCE_VARIABLES.iter().map(|s| s.to_string()).collect();
    }
    let permit = app.permit().await?;
    let source = app.source().await?;
    let read_vars = vars.clone();
    let read: Reader = Arc::new(move |r: TimeRange| -> ReadFuture {
        let source = source.clone();
        let vars = read_vars.clone();
        Box::pin(async move { source.extract(r, &vars).await })
    });
    let layout = Layout {
        columns: vars,
        long: false,
    };
    stream_response(Streamer::new(
        read,
        layout,
        format,
        range,
        app.timeout,
        permit,
    ))
    .await
}

async fn signals(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = Params::parse(q.as_deref(), &["start", "end", "signal", "format"])?;
    let range = parse_range(&p, app.max_range)?;
    let format = parse_format(&p, &headers, false)?;
    let wanted = p.list("signal");
    let permit = app.permit().await?;
    let target = app.target().await?;
    if !wanted.is_empty() {
        let known = app.signal_names().await?;
        if let Some(bad) = wanted.iter().find(|w| !known.contains(w)) {
            return Err(ApiError::param(
                "signal",
                format!("unknown signal `{bad}` (known: {})", known.join(", ")),
            ));
        }
    }
    let wanted = Arc::new(wanted);
    let read: Reader = Arc::new(move |r: TimeRange| -> ReadFuture {
        let target = target.clone();
        let wanted = wanted.clone();
        Box::pin(async move {
            let df = target.read(r).await?;
            if wanted.is_empty() {
                return Ok(df);
            }
            let mask: polars::prelude::BooleanChunked = df
                .column(windcore::SIGNAL)?
                .str()?
                .iter()
                .map(|s| Some(s.is_some_and(|s| wanted.iter().any(|w| w == s))))
                .collect();
            Ok(df.filter(&mask)?)
        })
    });
    let layout = Layout {
        columns: vec![windcore::SIGNAL.to_string(), windcore::VALUE.to_string()],
        long: true,
    };
    stream_response(Streamer::new(
        read,
        layout,
        format,
        range,
        app.timeout,
        permit,
    ))
    .await
}

async fn signal_names(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    Params::parse(q.as_deref(), &[])?;
    let _permit = app.permit().await?;
    let names = app.signal_names().await?;
    Ok(json_response(StatusCode::OK, json!(names)))
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let probe = TimeRange {
        start: DateTime::UNIX_EPOCH,
        end: DateTime::UNIX_EPOCH + TimeDelta::microseconds(1),
    };
    let source = match app.source().await {
        Ok(s) => match tokio::time::timeout(app.timeout, s.extract(probe, &[])).await {
            Ok(Ok(_)) => json!({"status": "ok", "location": app.source_loc.to_string()}),
            Ok(Err(e)) => json!({"status": "unavailable", "detail": chain(&e)}),
            Err(_) => json!({"status": "unavailable", "detail": "timed out"}),
        },
        Err(e) => json!({"status": "unavailable", "detail": e.detail}),
    };
    let target = match &app.target_loc {
        None => json!({"status": "not configured"}),
        Some(Location::Postgres(url)) => match app.signal_names().await {
            Ok(_) => json!({"status": "ok", "location": windcore::mask_password(url)}),
            Err(e) => json!({"status": "unavailable", "detail": e.detail}),
        },
        Some(other) => json!({"status": "ok", "location": other.to_string()}),
    };
    let ok = source["status"] == "ok" && target["status"] != "unavailable";
    json_response(
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({"status": if ok {"ok"} else {"unavailable"}, "source": source, "target": target}),
    )
}

fn parse_body(body: &Bytes, allowed: &[&str]) -> ApiResult<serde_json::Map<String, Value>> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(serde_json::Map::new());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the body is not JSON: {e}"),
        )
    })?;
    let Value::Object(m) = v else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        ));
    };
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("unknown field `{k}` (known: {})", allowed.join(", ")),
        ));
    }
    Ok(m)
}

fn body_str<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &'static str,
) -> ApiResult<Option<&'a str>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::param(key, "must be a string")),
    }
}

fn body_day(m: &serde_json::Map<String, Value>, key: &'static str) -> ApiResult<Option<Day>> {
    body_str(m, key)?
        .map(|s| s.parse::<Day>().map_err(|e| ApiError::param(key, e)))
        .transpose()
}

async fn etl_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    app.authorize(&headers)?;
    let m = parse_body(&body, &["date", "from", "to", "variables", "stats"])?;
    let days = match (
        body_day(&m, "date")?,
        body_day(&m, "from")?,
        body_day(&m, "to")?,
    ) {
        (Some(d), None, None) => DayRange::single(d),
        (None, Some(f), Some(t)) => DayRange::new(f, t).map_err(|e| ApiError::param("to", e))?,
        _ => {
            return Err(ApiError::param(
                "date",
                "give either `date` or both `from` and `to` (YYYY-MM-DD)",
            ))
        }
    };
    if days.len() > MAX_JOB_DAYS as usize {
        return Err(ApiError::param(
            "to",
            format!("at most {MAX_JOB_DAYS} days per run"),
        ));
    }
    let variables: Vec<String> = match m.get("variables") {
        None | Some(Value::Null) => DEFAULT_VARIABLES.iter().map(|s| s.to_string()).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::param("variables", "must be strings"))
            })
            .collect::<ApiResult<_>>()?,
        Some(_) => {
            return Err(ApiError::param(
                "variables",
                "a list or a comma-separated string",
            ))
        }
    };
    if let Some(v) = variables
        .iter()
        .find(|v| !SOURCE_VARIABLES.contains(&v.as_str()))
    {
        return Err(ApiError::param(
            "variables",
            format!(
                "unknown variable `{v}` (known: {})",
                SOURCE_VARIABLES.join(", ")
            ),
        ));
    }
    let mut resampler = Resampler::builder();
    if let Some(s) = body_str(&m, "stats")? {
        resampler = resampler.stats(parse_stats(s).map_err(|e| ApiError::param("stats", e))?);
    }
    let resampler = resampler.build().map_err(ApiError::from_windcore)?;
    let _permit = app.permit().await?;
    let source = app.source().await?;
    let target = app.target().await?;
    let pipeline = Pipeline::builder_shared(source, Arc::new(target))
        .variables(variables)
        .transform(resampler)
        .build()
        .map_err(ApiError::from_windcore)?;
    let summary = pipeline.run(days.iter(), |_| {}).await;
    let failed: Vec<Value> = summary
        .days
        .iter()
        .filter_map(|r| match &r.outcome {
            windcore::DayOutcome::Failed(e) => {
                Some(json!({"day": r.day.to_string(), "error": chain(e)}))
            }
            _ => None,
        })
        .collect();
    let status = if failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    Ok(json_response(
        status,
        json!({
            "days": summary.days.len(),
            "loaded": summary.loaded(),
            "no_source_rows": summary.empty_days().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "failed": failed,
            "rows_in": summary.rows_in(),
            "rows_out": summary.rows_out(),
            "windows": summary.windows(),
            "signals": pipeline.signals(),
            "elapsed_ms": summary.elapsed.as_secs_f64() * 1000.0,
        }),
    ))
}

async fn generate(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    app.authorize(&headers)?;
    let m = parse_body(&body, &["days", "start", "seed", "missing_rate"])?;
    let n = match m.get("days") {
        None | Some(Value::Null) => 10,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MAX_JOB_DAYS as u64).contains(n))
            .ok_or_else(|| {
                ApiError::param("days", format!("an integer from 1 to {MAX_JOB_DAYS}"))
            })? as u32,
    };
    let start = body_day(&m, "start")?.unwrap_or(Day::new(
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
    ));
    let mut g = Generator::builder();
    if let Some(v) = m.get("seed").filter(|v| !v.is_null()) {
        g = g.seed(
            v.as_u64()
                .ok_or_else(|| ApiError::param("seed", "a non-negative integer"))?,
        );
    }
    if let Some(v) = m.get("missing_rate").filter(|v| !v.is_null()) {
        g = g.missing_rate(
            v.as_f64()
                .ok_or_else(|| ApiError::param("missing_rate", "a number in [0, 1]"))?,
        );
    }
    let generator = g.build().map_err(|e| ApiError::param("missing_rate", e))?;
    let days = DayRange::starting(start, n).map_err(|e| ApiError::param("days", e))?;
    let _permit = app.permit().await?;
    let t = Instant::now();
    let rows = app
        .source_loc
        .generate(days, &generator, |_| {})
        .await
        .map_err(ApiError::from_windcore)?;
    Ok(json_response(
        StatusCode::OK,
        json!({
            "days": days.len(),
            "first": days.first().to_string(),
            "last": days.last().to_string(),
            "rows": rows,
            "seed": generator.seed(),
            "elapsed_ms": t.elapsed().as_secs_f64() * 1000.0,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        let t = parse_time("start", "2024-01-02").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let t = parse_time("start", "2024-01-02T01:00:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let t = parse_time("start", "2024-01-02T01:00:00 01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let t = parse_time("start", "2024-01-02T00:30:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:30:00+00:00");
        assert!(parse_time("start", "yesterday").is_err());
    }

    #[test]
    fn splits_ranges_at_midnight() {
        let r = TimeRange::new(
            parse_time("start", "2024-01-01T12:00:00Z").unwrap(),
            parse_time("end", "2024-01-03T06:00:00Z").unwrap(),
        )
        .unwrap();
        let c = day_chunks(r);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].end.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        assert_eq!(c[2].start.to_rfc3339(), "2024-01-03T00:00:00+00:00");
        assert_eq!(c[2].end, r.end);
    }

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
    }
}
