//! PostgreSQL source and target, with binary COPY in both directions.
//!
//! Source table (the reference system's, unchanged):
//! `data(timestamp timestamptz primary key, wind_speed float8, power float8,
//! ambient_temperature float8)`.
//!
//! Target tables: `signal(id serial primary key, name text not null unique)`
//! and `data(timestamp timestamptz not null, signal_id int not null references
//! signal(id), value float8 not null, primary key (signal_id, timestamp))`.
//!
//! A load runs in one transaction per day: it takes an advisory lock on the
//! day (so concurrent runs of the same day queue up instead of interleaving),
//! deletes the day's rows of the signals being written and COPYs the new rows
//! in. Any error rolls the whole day back.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::{pin_mut, SinkExt, StreamExt};
use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use tokio_postgres::NoTls;

use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::generate::SOURCE_VARIABLES;
use crate::resample::{SIGNAL, TIMESTAMP, VALUE};
use crate::traits::{Extract, Load};

/// Microseconds from the Unix epoch to PostgreSQL's epoch (2000-01-01 UTC).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Default time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First key of windcore's advisory locks ("WIND").
const LOCK_CLASS: i32 = 0x5749_4e44;
/// Connections a [`PostgresSource`] or [`PostgresTarget`] keeps at most, unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 4;
/// The largest pool size accepted (PostgreSQL's default `max_connections` is 100).
pub const MAX_POOL_SIZE: usize = 64;

/// The pool size for a pipeline with `jobs` days in flight: one connection per
/// day, at least [`DEFAULT_POOL_SIZE`], at most [`MAX_POOL_SIZE`].
pub fn pool_size_for_jobs(jobs: usize) -> usize {
    jobs.clamp(DEFAULT_POOL_SIZE, MAX_POOL_SIZE)
}

/// Replaces the password of a PostgreSQL URL (or `password=` key) with `***`.
pub fn mask_password(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map(|i| rest_start + i)
            .unwrap_or(out.len());
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                let end = rest_start + at;
                out.replace_range(start..end, "***");
            }
        }
    }
    // password=... in the query string or a key/value string.
    let lower = out.to_ascii_lowercase();
    if let Some(pos) = lower.find("password=") {
        let start = pos + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map(|i| start + i)
            .unwrap_or(out.len());
        out.replace_range(start..end, "***");
    }
    out
}

/// A pool of connections to one database, described without its password.
#[derive(Clone)]
struct Db {
    pool: Pool,
    masked: String,
}

impl Db {
    async fn connect(url: &str, max_size: usize) -> Result<Self> {
        if !(1..=MAX_POOL_SIZE).contains(&max_size) {
            return Err(Error::config(
                "pool size",
                format!("{max_size} is not in 1 ..= {MAX_POOL_SIZE}"),
            ));
        }
        let masked = mask_password(url);
        let mut cfg = tokio_postgres::Config::from_str(url).map_err(|e| Error::Connection {
            context: format!("parsing the URL {masked}"),
            detail: e.to_string(),
        })?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(CONNECT_TIMEOUT);
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("windcore");
        }
        // Naive `timestamp` columns and literals are read as UTC.
        cfg.options("-c TimeZone=UTC");
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(max_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_secs(2)))
            .wait_timeout(Some(Duration::from_secs(600)))
            .build()
            .map_err(|e| Error::Connection {
                context: format!("creating a connection pool for {masked}"),
                detail: e.to_string(),
            })?;
        let db = Db { pool, masked };
        // Fail now, within the connect timeout, rather than on the first day.
        let _probe = db.client().await?;
        Ok(db)
    }

    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(|e| {
            let detail = match e {
                deadpool_postgres::PoolError::Backend(e) => pg_detail(&e),
                deadpool_postgres::PoolError::Timeout(_) => {
                    format!("timed out after {} s", CONNECT_TIMEOUT.as_secs())
                }
                other => other.to_string(),
            };
            Error::Connection {
                context: format!("cannot connect to {}", self.masked),
                detail,
            }
        })
    }

    fn err(&self, what: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        let context = format!("{what} ({})", self.masked);
        move |e| Error::Database {
            context: context.clone(),
            detail: pg_detail(&e),
        }
    }

    /// Columns of `public.<table>` with their types, or an empty map if it does not exist.
    async fn columns(&self, table: &str) -> Result<HashMap<String, (String, bool)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "select column_name::text, data_type::text, column_default is not null or is_identity = 'YES' \
                 from information_schema.columns where table_schema = current_schema() and table_name = $1",
                &[&table],
            )
            .await
            .map_err(self.err("reading the table definitions"))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    (r.get::<_, String>(1), r.get::<_, bool>(2)),
                )
            })
            .collect())
    }
}

/// The driver's error with the server's message, if there is one.
fn pg_detail(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(d) = db.detail() {
            s.push_str(&format!("; {d}"));
        }
        s
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(c) = src {
            s.push_str(&format!(": {c}"));
            src = c.source();
        }
        s
    }
}

fn ts_literal(t: chrono::DateTime<chrono::Utc>) -> String {
    // Generated from a typed value, never from user text.
    format!("'{}'::timestamptz", t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"))
}

/// Raw samples in the reference system's source table `data`.
#[derive(Clone)]
pub struct PostgresSource {
    db: Db,
}

impl PostgresSource {
    /// Connects (failing within a bounded time) and checks that the table exists.
    /// Keeps up to [`DEFAULT_POOL_SIZE`] connections open.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// Like [`connect`](Self::connect), keeping up to `max_size` connections
    /// (1 ..= [`MAX_POOL_SIZE`]); further concurrent reads wait for one.
    pub async fn connect_with_pool_size(url: &str, max_size: usize) -> Result<Self> {
        let db = Db::connect(url, max_size).await?;
        let cols = db.columns("data").await?;
        if cols.is_empty() {
            return Err(Error::Schema(format!(
                "the source database {} has no table `data`: run `windcore-cli init --source URL` first",
                db.masked
            )));
        }
        let mut missing: Vec<&str> = Vec::new();
        for c in std::iter::once(TIMESTAMP).chain(SOURCE_VARIABLES) {
            if !cols.contains_key(c) {
                missing.push(c);
            }
        }
        if !missing.is_empty() {
            return Err(Error::Schema(format!(
                "the source table `data` in {} lacks the column(s) {}",
                db.masked,
                missing.join(", ")
            )));
        }
        Ok(PostgresSource { db })
    }

    /// Creates the source table if it does not exist.
    pub async fn init(url: &str) -> Result<()> {
        let db = Db::connect(url, 1).await?;
        let client = db.client().await?;
        client
            .batch_execute(
                "create table if not exists data (\n\
                   timestamp timestamptz primary key,\n\
                   wind_speed float8,\n\
                   power float8,\n\
                   ambient_temperature float8\n\
                 )",
            )
            .await
            .map_err(db.err("creating the source table"))?;
        Ok(())
    }

    /// The UTC days with at least one sample, in order.
    pub async fn days(&self) -> Result<Vec<Day>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "select distinct (timestamp at time zone 'UTC')::date from data order by 1",
                &[],
            )
            .await
            .map_err(self.db.err("listing the source days"))?;
        Ok(rows.into_iter().map(|r| Day::new(r.get(0))).collect())
    }

    /// Replaces the samples of `day` with `samples` in one transaction (binary COPY).
    /// Returns the rows written.
    pub async fn write_day(&self, day: Day, samples: &DataFrame) -> Result<u64> {
        let ts = utc_micros(samples)?;
        let (lo, hi) = (day.range().start_micros(), day.range().end_micros());
        if let Some(t) = ts.iter().find(|t| **t < lo || **t >= hi) {
            return Err(Error::config(
                "samples",
                format!("timestamp {t} µs since the epoch lies outside the day {day}"),
            ));
        }
        let mut vars = Vec::new();
        for name in SOURCE_VARIABLES {
            let c = samples.column(name).map_err(|_| Error::MissingColumn {
                column: name.into(),
                available: samples
                    .get_column_names()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            let f = c.cast(&DataType::Float64)?;
            vars.push(f.f64()?.rechunk().into_owned());
        }
        let mut buf = BytesMut::with_capacity(32 + ts.len() * (2 + 12 + 3 * 12));
        buf.put_slice(COPY_HEADER);
        buf.put_i32(0);
        buf.put_i32(0);
        let arrays: Vec<_> = vars
            .iter()
            .map(|v| v.downcast_iter().next().cloned())
            .collect();
        for (i, t) in ts.iter().enumerate() {
            buf.put_i16(4);
            buf.put_i32(8);
            buf.put_i64(t - PG_EPOCH_OFFSET_US);
            for a in &arrays {
                match a.as_ref().and_then(|a| a.get(i)) {
                    Some(v) => {
                        buf.put_i32(8);
                        buf.put_f64(v);
                    }
                    None => buf.put_i32(-1),
                }
            }
        }
        buf.put_i16(-1);

        let mut client = self.db.client().await?;
        let err = self.db.err("writing source samples");
        let tx = client.transaction().await.map_err(&err)?;
        tx.execute(
            &format!(
                "delete from data where timestamp >= {} and timestamp < {}",
                ts_literal(day.start()),
                ts_literal(day.end())
            ),
            &[],
        )
        .await
        .map_err(&err)?;
        let sink = tx
            .copy_in::<_, Bytes>("copy data (timestamp, wind_speed, power, ambient_temperature) from stdin (format binary)")
            .await
            .map_err(&err)?;
        pin_mut!(sink);
        sink.send(buf.freeze()).await.map_err(&err)?;
        let n = sink.finish().await.map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(n)
    }
}

#[async_trait]
impl Extract for PostgresSource {
    fn describe(&self) -> String {
        self.db.masked.clone()
    }

    fn variables(&self) -> Vec<String> {
        SOURCE_VARIABLES.iter().map(|s| s.to_string()).collect()
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        // Variables go through an allow-list: no request text reaches the SQL.
        let mut cols = Vec::with_capacity(variables.len());
        for v in variables {
            match SOURCE_VARIABLES.iter().find(|k| **k == v.as_str()) {
                Some(k) => cols.push(*k),
                None => {
                    return Err(Error::UnknownVariable {
                        name: v.clone(),
                        known: SOURCE_VARIABLES.join(", "),
                    })
                }
            }
        }
        let select: String = cols.iter().map(|c| format!(", {c}::float8")).collect();
        let sql = format!(
            "copy (select timestamp::timestamptz{select} from data where timestamp >= {} and timestamp < {} order by timestamp) \
             to stdout (format binary)",
            ts_literal(range.start),
            ts_literal(range.end)
        );
        let client = self.db.client().await?;
        let err = self.db.err("reading source samples");
        let stream = client.copy_out(sql.as_str()).await.map_err(&err)?;
        pin_mut!(stream);
        let mut decoder = CopyDecoder::new(cols.len());
        while let Some(chunk) = stream.next().await {
            decoder.feed(chunk.map_err(&err)?)?;
        }
        decoder.finish(&cols)
    }
}

/// Incremental decoder of `COPY … TO STDOUT (FORMAT binary)` output with a
/// timestamptz column followed by float8 columns, straight into column vectors.
struct CopyDecoder {
    buf: BytesMut,
    header_done: bool,
    trailer_seen: bool,
    ts: Vec<i64>,
    vals: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
    has_null: Vec<bool>,
}

impl CopyDecoder {
    fn new(n_vars: usize) -> Self {
        CopyDecoder {
            buf: BytesMut::new(),
            header_done: false,
            trailer_seen: false,
            ts: Vec::new(),
            vals: vec![Vec::new(); n_vars],
            valid: vec![Vec::new(); n_vars],
            has_null: vec![false; n_vars],
        }
    }

    fn bad(detail: &str) -> Error {
        Error::Connection {
            context: "decoding binary COPY data".into(),
            detail: detail.into(),
        }
    }

    fn feed(&mut self, chunk: Bytes) -> Result<()> {
        self.buf.extend_from_slice(&chunk);
        if !self.header_done {
            if self.buf.len() < COPY_HEADER.len() + 8 {
                return Ok(());
            }
            if &self.buf[..COPY_HEADER.len()] != COPY_HEADER {
                return Err(Self::bad("bad signature"));
            }
            let ext = i32::from_be_bytes(self.buf[15..19].try_into().expect("4 bytes")) as usize;
            if self.buf.len() < 19 + ext {
                return Ok(());
            }
            self.buf.advance(19 + ext);
            self.header_done = true;
        }
        let n_vars = self.vals.len();
        loop {
            if self.trailer_seen {
                return Ok(());
            }
            // Check that a whole tuple is buffered before consuming it.
            let b = &self.buf[..];
            if b.len() < 2 {
                return Ok(());
            }
            let fields = i16::from_be_bytes([b[0], b[1]]);
            if fields == -1 {
                self.trailer_seen = true;
                self.buf.advance(2);
                return Ok(());
            }
            if fields as usize != n_vars + 1 {
                return Err(Self::bad("unexpected number of fields"));
            }
            let mut pos = 2;
            let mut lens = [0i32; 8];
            for l in lens.iter_mut().take(n_vars + 1) {
                if b.len() < pos + 4 {
                    return Ok(());
                }
                let len = i32::from_be_bytes(b[pos..pos + 4].try_into().expect("4 bytes"));
                *l = len;
                pos += 4 + len.max(0) as usize;
                if b.len() < pos {
                    return Ok(());
                }
            }
            // Whole tuple present: decode it.
            let mut pos = 2;
            for (f, len) in lens.iter().take(n_vars + 1).enumerate() {
                pos += 4;
                if f == 0 {
                    if *len != 8 {
                        return Err(Self::bad("a timestamp is NULL or not 8 bytes"));
                    }
                    let v = i64::from_be_bytes(b[pos..pos + 8].try_into().expect("8 bytes"));
                    self.ts.push(v + PG_EPOCH_OFFSET_US);
                    pos += 8;
                } else {
                    let k = f - 1;
                    if *len == 8 {
                        let v = f64::from_be_bytes(b[pos..pos + 8].try_into().expect("8 bytes"));
                        self.vals[k].push(v);
                        self.valid[k].push(true);
                        pos += 8;
                    } else if *len < 0 {
                        self.vals[k].push(0.0);
                        self.valid[k].push(false);
                        self.has_null[k] = true;
                    } else {
                        return Err(Self::bad("a float8 value is not 8 bytes"));
                    }
                }
            }
            self.buf.advance(pos);
        }
    }

    fn finish(self, names: &[&str]) -> Result<DataFrame> {
        if !self.header_done {
            return Err(Self::bad("no COPY header received"));
        }
        let mut columns: Vec<Column> = Vec::with_capacity(1 + names.len());
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), self.ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        columns.push(ts.into_series().into());
        for (((name, vals), valid), has_null) in names
            .iter()
            .zip(self.vals)
            .zip(self.valid)
            .zip(self.has_null)
        {
            let validity = has_null.then(|| Bitmap::from_iter(valid));
            columns.push(
                Float64Chunked::from_vec_validity((*name).into(), vals, validity)
                    .into_series()
                    .into(),
            );
        }
        Ok(DataFrame::new_infer_height(columns)?)
    }
}

/// Timestamps of `df` as UTC microseconds since the Unix epoch.
fn utc_micros(df: &DataFrame) -> Result<Vec<i64>> {
    let col = df.column(TIMESTAMP).map_err(|_| Error::MissingColumn {
        column: TIMESTAMP.into(),
        available: df
            .get_column_names()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let DataType::Datetime(tu, _) = col.dtype() else {
        return Err(Error::ColumnType {
            column: TIMESTAMP.into(),
            found: col.dtype().to_string(),
            expected: "Datetime".into(),
        });
    };
    let per_us = |v: i64| match tu {
        TimeUnit::Milliseconds => v * 1000,
        TimeUnit::Microseconds => v,
        TimeUnit::Nanoseconds => v.div_euclid(1000),
    };
    let phys = col.as_materialized_series().datetime()?.physical().clone();
    if phys.null_count() > 0 {
        return Err(Error::NullTimestamps {
            column: TIMESTAMP.into(),
            nulls: phys.null_count(),
        });
    }
    Ok(phys.iter().map(|v| per_us(v.unwrap_or_default())).collect())
}

/// How the target's `data` table is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TargetLayout {
    /// windcore's own: primary key (signal_id, timestamp).
    Windcore,
    /// The reference design: an `id` column with a default, no unique key.
    Reference,
}

/// 10-minute statistics in the target tables `signal` and `data`.
#[derive(Clone)]
pub struct PostgresTarget {
    db: Db,
    layout: TargetLayout,
}

impl PostgresTarget {
    /// Connects (failing within a bounded time) and checks the schema.
    ///
    /// A target of the reference design (a `data` table with an `id` column
    /// filled by a default, and no unique key) is used as it is: each day is
    /// still replaced in one transaction, so re-runs never duplicate rows. A
    /// `data` table windcore cannot write correctly is refused with an explanation.
    /// Keeps up to [`DEFAULT_POOL_SIZE`] connections open.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// Like [`connect`](Self::connect), keeping up to `max_size` connections
    /// (1 ..= [`MAX_POOL_SIZE`]); further concurrent loads wait for one.
    pub async fn connect_with_pool_size(url: &str, max_size: usize) -> Result<Self> {
        let db = Db::connect(url, max_size).await?;
        let signal = db.columns("signal").await?;
        let data = db.columns("data").await?;
        if signal.is_empty() || data.is_empty() {
            return Err(Error::Schema(format!(
                "the target database {} has no table `{}`: run `windcore-cli init --target URL` first",
                db.masked,
                if signal.is_empty() { "signal" } else { "data" }
            )));
        }
        for (table, cols, need) in [
            ("signal", &signal, &["id", "name"][..]),
            ("data", &data, &["timestamp", "signal_id", "value"][..]),
        ] {
            let missing: Vec<&str> = need
                .iter()
                .copied()
                .filter(|c| !cols.contains_key(*c))
                .collect();
            if !missing.is_empty() {
                return Err(Error::Schema(format!(
                    "the target table `{table}` in {} lacks the column(s) {}; windcore will not write into it",
                    db.masked,
                    missing.join(", ")
                )));
            }
        }
        let layout = match data.get("id") {
            None => TargetLayout::Windcore,
            Some((_, true)) => TargetLayout::Reference,
            Some((_, false)) => {
                return Err(Error::Schema(format!(
                    "the target table `data` in {} has an `id` column without a default; \
                     windcore cannot fill it. Give it a default (e.g. a sequence) or use a fresh \
                     database prepared with `windcore-cli init --target URL`",
                    db.masked
                )))
            }
        };
        Ok(PostgresTarget { db, layout })
    }

    /// Whether the target has the reference system's layout (an `id` column in `data`).
    pub fn has_reference_layout(&self) -> bool {
        self.layout == TargetLayout::Reference
    }

    /// Creates the target tables and the signal rows for every variable and
    /// statistic, if they do not exist.
    pub async fn init(url: &str) -> Result<()> {
        let db = Db::connect(url, 1).await?;
        let client = db.client().await?;
        client
            .batch_execute(
                "create table if not exists signal (\n\
                   id serial primary key,\n\
                   name text not null unique\n\
                 );\n\
                 create table if not exists data (\n\
                   timestamp timestamptz not null,\n\
                   signal_id integer not null references signal(id),\n\
                   value float8 not null,\n\
                   primary key (signal_id, timestamp)\n\
                 );",
            )
            .await
            .map_err(db.err("creating the target tables"))?;
        drop(client);
        let target = PostgresTarget::connect(url).await?;
        let names: Vec<String> = SOURCE_VARIABLES
            .iter()
            .flat_map(|v| {
                crate::resample::Stat::ALL
                    .iter()
                    .map(move |s| format!("{v}_{}", s.name()))
            })
            .collect();
        target.signal_ids(&names).await?;
        Ok(())
    }

    /// Ids of `names` in `signal`, creating the missing rows.
    async fn signal_ids(&self, names: &[String]) -> Result<HashMap<String, i32>> {
        let mut client = self.db.client().await?;
        let err = self.db.err("creating signal rows");
        let tx = client.transaction().await.map_err(&err)?;
        // One writer of signal rows at a time, whatever the table's constraints.
        tx.execute("select pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])
            .await
            .map_err(&err)?;
        tx.execute(
            "insert into signal (name) select n from unnest($1::text[]) as n \
             where not exists (select 1 from signal s where s.name = n)",
            &[&names],
        )
        .await
        .map_err(&err)?;
        let rows = tx
            .query(
                "select id, name from signal where name = any($1::text[])",
                &[&names],
            )
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        let mut ids = HashMap::new();
        for r in rows {
            let id: i32 = r.get(0);
            let name: String = r.get(1);
            if let Some(prev) = ids.insert(name.clone(), id) {
                return Err(Error::Schema(format!(
                    "signal `{name}` appears more than once in table `signal` (ids {prev} and {id}) in {}; \
                     windcore cannot tell which one to write",
                    self.db.masked
                )));
            }
        }
        Ok(ids)
    }

    /// The names in the target's `signal` table, sorted.
    pub async fn signal_names(&self) -> Result<Vec<String>> {
        let client = self.db.client().await?;
        let rows = client
            .query("select name from signal order by name", &[])
            .await
            .map_err(self.db.err("listing signals"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The statistics stored for `range`, long form, ordered by timestamp and signal name.
    pub async fn read(&self, range: TimeRange) -> Result<DataFrame> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                &format!(
                    "select (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
                     from data d join signal s on s.id = d.signal_id \
                     where d.timestamp >= {} and d.timestamp < {} order by d.timestamp, s.name",
                    ts_literal(range.start),
                    ts_literal(range.end)
                ),
                &[],
            )
            .await
            .map_err(self.db.err("reading statistics"))?;
        let ts: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let sig: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
        let val: Vec<f64> = rows.iter().map(|r| r.get(2)).collect();
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        Ok(DataFrame::new_infer_height(vec![
            ts.into_series().into(),
            Column::new(SIGNAL.into(), sig),
            Column::new(VALUE.into(), val),
        ])?)
    }
}

#[async_trait]
impl Load for PostgresTarget {
    fn describe(&self) -> String {
        self.db.masked.clone()
    }

    async fn load(&self, range: TimeRange, signals: &[String], stats: &DataFrame) -> Result<u64> {
        let ids = self.signal_ids(signals).await?;
        // Encode the COPY payload before opening the transaction.
        let ts = utc_micros(stats)?;
        let sig = stats.column(SIGNAL)?.cast(&DataType::String)?;
        let sig = sig.str()?;
        let val = stats.column(VALUE)?.cast(&DataType::Float64)?;
        let val = val.f64()?;
        let (lo, hi) = (range.start_micros(), range.end_micros());
        let mut buf = BytesMut::with_capacity(32 + ts.len() * 32);
        buf.put_slice(COPY_HEADER);
        buf.put_i32(0);
        buf.put_i32(0);
        let mut rows = 0u64;
        for ((t, s), v) in ts.iter().zip(sig.iter()).zip(val.iter()) {
            let (Some(s), Some(v)) = (s, v) else { continue };
            if v.is_nan() || *t < lo || *t >= hi {
                continue;
            }
            let Some(id) = ids.get(s) else {
                return Err(Error::config(
                    "statistics",
                    format!(
                        "signal `{s}` is not among the signals being loaded ({})",
                        signals.join(", ")
                    ),
                ));
            };
            buf.put_i16(3);
            buf.put_i32(8);
            buf.put_i64(t - PG_EPOCH_OFFSET_US);
            buf.put_i32(4);
            buf.put_i32(*id);
            buf.put_i32(8);
            buf.put_f64(v);
            rows += 1;
        }
        buf.put_i16(-1);
        let id_list: Vec<i32> = signals.iter().filter_map(|s| ids.get(s).copied()).collect();

        let mut client = self.db.client().await?;
        let err = self.db.err(&format!("loading statistics for {range}"));
        let tx = client.transaction().await.map_err(&err)?;
        // Lock the day: concurrent runs of the same day wait for each other.
        let day_key = Day::containing(range.start).days_since_epoch() as i32;
        tx.execute(
            "select pg_advisory_xact_lock($1, $2)",
            &[&LOCK_CLASS, &day_key],
        )
        .await
        .map_err(&err)?;
        tx.execute(
            &format!(
                "delete from data where signal_id = any($1::int4[]) and timestamp >= {} and timestamp < {}",
                ts_literal(range.start),
                ts_literal(range.end)
            ),
            &[&id_list],
        )
        .await
        .map_err(&err)?;
        let sink = tx
            .copy_in::<_, Bytes>(
                "copy data (timestamp, signal_id, value) from stdin (format binary)",
            )
            .await
            .map_err(&err)?;
        pin_mut!(sink);
        sink.send(buf.freeze()).await.map_err(&err)?;
        let n = sink.finish().await.map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        debug_assert_eq!(n, rows);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            mask_password("postgres://h/db?password=secret&x=1"),
            "postgres://h/db?password=***&x=1"
        );
        assert_eq!(
            mask_password("postgresql://u:p%40ss@h/db"),
            "postgresql://u:***@h/db"
        );
        assert!(!mask_password("postgres://u:a:b@c@h/db").contains("a:b"));
    }

    #[test]
    fn decodes_binary_copy_in_pieces() {
        let mut b = BytesMut::new();
        b.put_slice(COPY_HEADER);
        b.put_i32(0);
        b.put_i32(0);
        for (t, v) in [(0i64, Some(1.5)), (60_000_000, None)] {
            b.put_i16(2);
            b.put_i32(8);
            b.put_i64(t - PG_EPOCH_OFFSET_US);
            match v {
                Some(v) => {
                    b.put_i32(8);
                    b.put_f64(v);
                }
                None => b.put_i32(-1),
            }
        }
        b.put_i16(-1);
        let bytes = b.freeze();
        // Feed one byte at a time: tuples split across chunks must decode.
        let mut d = CopyDecoder::new(1);
        for i in 0..bytes.len() {
            d.feed(bytes.slice(i..i + 1)).unwrap();
        }
        let df = d.finish(&["power"]).unwrap();
        assert_eq!(df.height(), 2);
        let p = df.column("power").unwrap().f64().unwrap();
        assert_eq!(p.get(0), Some(1.5));
        assert_eq!(p.get(1), None);
        let ts = df
            .column("timestamp")
            .unwrap()
            .as_materialized_series()
            .datetime()
            .unwrap()
            .physical()
            .clone();
        assert_eq!(ts.get(1), Some(60_000_000));
    }
}
