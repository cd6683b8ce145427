//! PostgreSQL source and target, with binary COPY in both directions.
//!
//! Source: by default the reference system's table
//! `data(timestamp timestamptz primary key, wind_speed float8, power float8,
//! ambient_temperature float8)`; any other table through a [`SourceLayout`]
//! (table, time column, asset column), its numeric columns being the channels.
//!
//! Target tables: `signal(id serial primary key, asset text not null default '',
//! name text not null, unique (asset, name))` and `data(timestamp timestamptz
//! not null, signal_id int not null references signal(id), value float8 not
//! null, primary key (signal_id, timestamp))`.
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
use crate::fingerprint::Fingerprints;
use crate::generate::SOURCE_VARIABLES;
use crate::resample::{ASSET, SIGNAL, TIMESTAMP, VALUE};
use crate::traits::{Extract, Load, LoadScope};
use crate::zone::Zone;

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
        // Naive `timestamp` columns and literals are read as UTC; string literals
        // are standard (a backslash is a plain character).
        cfg.options("-c TimeZone=UTC -c standard_conforming_strings=on");
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

    /// Columns of `<schema>.<table>` (default: the current schema) with their
    /// data types, in table order; empty if the table does not exist.
    async fn columns_in(&self, schema: Option<&str>, table: &str) -> Result<Vec<(String, String)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "select column_name::text, data_type::text from information_schema.columns \
                 where table_schema = coalesce($1, current_schema()) and table_name = $2 \
                 order by ordinal_position",
                &[&schema, &table],
            )
            .await
            .map_err(self.err("reading the table definitions"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
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

/// `s` as an SQL string literal (`'s'`, inner quotes doubled; standard
/// conforming strings, so backslashes are plain characters).
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''").replace('\0', ""))
}

/// `name` as a quoted SQL identifier (`"name"`, inner quotes doubled).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where the raw samples are in a source: the table, its timestamp column and
/// (for a farm) the column that tells the assets apart.
///
/// The default is the reference system's layout: table `data`, column
/// `timestamp`, one asset. Names are identifiers, matched exactly (case
/// matters) and always quoted in SQL; `schema.table` names a table in another
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLayout {
    /// The table (PostgreSQL); ignored by the embedded store.
    pub table: String,
    /// The timestamp column (`timestamptz`, or `timestamp` read as UTC).
    pub time_column: String,
    /// The asset column (any type, read as text), if the table holds several assets.
    pub asset_column: Option<String>,
    /// For a time column of naive local times (a logger on local time): their
    /// zone. Each is converted as PostgreSQL's `AT TIME ZONE` does: a time of
    /// the repeated fall-back hour is taken as standard time (its second
    /// occurrence), so the two passes of that hour land on the same instants
    /// and count as duplicate timestamps (the later row wins); a time in the
    /// spring-forward gap is moved forward by the gap. `None`: naive times are UTC.
    pub naive_timezone: Option<Zone>,
}

impl Default for SourceLayout {
    fn default() -> Self {
        SourceLayout {
            table: "data".into(),
            time_column: TIMESTAMP.into(),
            asset_column: None,
            naive_timezone: None,
        }
    }
}

impl SourceLayout {
    /// Checks that every name is a usable identifier.
    pub fn validate(&self) -> Result<()> {
        for (what, name) in [
            ("table", Some(&self.table)),
            ("time column", Some(&self.time_column)),
            ("asset column", self.asset_column.as_ref()),
        ] {
            if let Some(n) = name {
                if n.trim().is_empty() || n.contains('\0') || n.len() > 63 * 2 + 1 {
                    return Err(Error::config(
                        "source layout",
                        format!("the {what} name `{n}` is empty or not a valid identifier"),
                    ));
                }
            }
        }
        if self.asset_column.as_deref() == Some(self.time_column.as_str()) {
            return Err(Error::config(
                "source layout",
                "the asset column and the time column must differ",
            ));
        }
        Ok(())
    }

    /// Whether this is the reference layout (`data`, `timestamp`, no asset).
    pub fn is_reference(&self) -> bool {
        *self == SourceLayout::default()
    }

    /// The time column as a timestamptz SQL expression.
    fn time_expr(&self) -> String {
        let t = quote_ident(&self.time_column);
        match self.naive_timezone {
            Some(z) => format!("({t} at time zone '{}')", z.name().replace('\'', "''")),
            None => format!("{t}::timestamptz"),
        }
    }

    /// `[start, end)` as a condition on the time column (its own type, so an
    /// index on it is used).
    fn where_range(&self, range: TimeRange) -> String {
        let t = quote_ident(&self.time_column);
        let (lo, hi) = match self.naive_timezone {
            Some(z) => {
                let zone = z.name().replace('\'', "''");
                (
                    format!("({} at time zone '{zone}')", ts_literal(range.start)),
                    format!("({} at time zone '{zone}')", ts_literal(range.end)),
                )
            }
            None => (ts_literal(range.start), ts_literal(range.end)),
        };
        format!("{t} >= {lo} and {t} < {hi}")
    }

    /// `(schema, table)`: `schema.table` splits at the first dot.
    fn schema_and_table(&self) -> (Option<&str>, &str) {
        match self.table.split_once('.') {
            Some((s, t)) => (Some(s), t),
            None => (None, self.table.as_str()),
        }
    }

    /// The table as quoted SQL.
    fn quoted_table(&self) -> String {
        match self.schema_and_table() {
            (Some(s), t) => format!("{}.{}", quote_ident(s), quote_ident(t)),
            (None, t) => quote_ident(t),
        }
    }
}

/// PostgreSQL numeric types a channel may have (read as float8).
const NUMERIC_TYPES: [&str; 6] = [
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "numeric",
];

/// Raw samples in a PostgreSQL table: by default the reference system's
/// `data(timestamp, wind_speed, power, ambient_temperature)`, or any table
/// described by a [`SourceLayout`] (a farm: one row per asset and timestamp).
///
/// The variables are the table's numeric columns (other than the time and
/// asset columns), discovered when connecting. Requests are checked against
/// that list and every identifier is quoted: no request text reaches the SQL.
#[derive(Clone)]
pub struct PostgresSource {
    db: Db,
    layout: SourceLayout,
    variables: Vec<String>,
    /// A day's rows are read asset by asset through the table's unique index
    /// on (asset, time): see [`PostgresSource::asset_scan_usable`].
    asset_scan: bool,
}

impl PostgresSource {
    /// Connects (failing within a bounded time) to the reference layout.
    /// Keeps up to [`DEFAULT_POOL_SIZE`] connections open.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// Like [`connect`](Self::connect), keeping up to `max_size` connections
    /// (1 ..= [`MAX_POOL_SIZE`]); further concurrent reads wait for one.
    pub async fn connect_with_pool_size(url: &str, max_size: usize) -> Result<Self> {
        Self::connect_layout(url, &SourceLayout::default(), max_size).await
    }

    /// Connects to the table `layout` describes and discovers its channels.
    pub async fn connect_layout(url: &str, layout: &SourceLayout, max_size: usize) -> Result<Self> {
        layout.validate()?;
        let db = Db::connect(url, max_size).await?;
        let (schema, table) = layout.schema_and_table();
        let cols = db.columns_in(schema, table).await?;
        if cols.is_empty() {
            let hint = if layout.is_reference() {
                "run `windcore-cli init --source URL` first, or name your table with --table"
                    .to_string()
            } else {
                "check --table (names are case-sensitive)".to_string()
            };
            return Err(Error::Schema(format!(
                "the source database {} has no table `{}`: {hint}",
                db.masked, layout.table
            )));
        }
        let names = || {
            cols.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match cols.iter().find(|(n, _)| *n == layout.time_column) {
            None => {
                return Err(Error::Schema(format!(
                    "the source table `{}` in {} has no column `{}` (columns: {}); give the timestamp column with --time-column",
                    layout.table, db.masked, layout.time_column, names()
                )))
            }
            Some((_, ty)) if !ty.starts_with("timestamp") => {
                return Err(Error::Schema(format!(
                    "the time column `{}` of `{}` has type {ty}; windcore needs timestamptz (or timestamp, read as UTC)",
                    layout.time_column, layout.table
                )))
            }
            Some((_, ty)) if ty == "timestamp with time zone" && layout.naive_timezone.is_some() => {
                return Err(Error::Schema(format!(
                    "the time column `{}` of `{}` is timestamptz, so its instants are known: \
                     --source-timezone is for naive `timestamp` columns of local times",
                    layout.time_column, layout.table
                )))
            }
            Some(_) => {}
        }
        if let Some(a) = &layout.asset_column {
            if !cols.iter().any(|(n, _)| n == a) {
                return Err(Error::Schema(format!(
                    "the source table `{}` in {} has no column `{a}` (columns: {}); check --asset-column",
                    layout.table,
                    db.masked,
                    names()
                )));
            }
        }
        let variables: Vec<String> = cols
            .iter()
            .filter(|(n, ty)| {
                *n != layout.time_column
                    && Some(n) != layout.asset_column.as_ref()
                    && NUMERIC_TYPES.contains(&ty.as_str())
            })
            .map(|(n, _)| n.clone())
            .collect();
        if layout.is_reference() {
            let missing: Vec<&str> = SOURCE_VARIABLES
                .iter()
                .copied()
                .filter(|c| !variables.iter().any(|v| v == c))
                .collect();
            if !missing.is_empty() && variables.is_empty() {
                return Err(Error::Schema(format!(
                    "the source table `data` in {} has no numeric column (expected {})",
                    db.masked,
                    SOURCE_VARIABLES.join(", ")
                )));
            }
        }
        let asset_scan = Self::asset_scan_usable(&db, layout).await?;
        Ok(PostgresSource {
            db,
            layout: layout.clone(),
            variables,
            asset_scan,
        })
    }

    /// Whether a day is better read asset by asset: the table has a unique
    /// btree index on exactly (asset, time) and no index that starts with the
    /// time column, so a condition on the time alone cannot use an index
    /// (PostgreSQL before 18 has no skip scan) and every day would read the
    /// whole table. The assets are then found by a loose index scan and each
    /// asset's rows of the day by a range scan of that index. Only for an
    /// asset column that is `not null` and of a type whose text is one-to-one
    /// (text, varchar, integers), and a time column read as it is stored
    /// (`timestamptz` or UTC `timestamp`): the same rows, and no two of them
    /// with the same asset and instant, so their order does not matter.
    async fn asset_scan_usable(db: &Db, layout: &SourceLayout) -> Result<bool> {
        let Some(asset) = &layout.asset_column else {
            return Ok(false);
        };
        if layout.naive_timezone.is_some() {
            return Ok(false);
        }
        let client = db.client().await?;
        let row = client
            .query_one(
                "with t as (select to_regclass($1) as oid), \
                 a as (select p.attnum, p.attnotnull, p.atttypid, p.attcollation from pg_attribute p, t \
                       where p.attrelid = t.oid and p.attname = $2 and not p.attisdropped), \
                 m as (select p.attnum from pg_attribute p, t \
                       where p.attrelid = t.oid and p.attname = $3 and not p.attisdropped), \
                 ix as (select i.* from pg_index i join pg_class c on c.oid = i.indexrelid \
                        join pg_am am on am.oid = c.relam, t \
                        where i.indrelid = t.oid and am.amname = 'btree' and i.indisvalid \
                          and i.indpred is null) \
                 select coalesce((select attnotnull and atttypid = any(array['text'::regtype, \
                          'varchar'::regtype, 'int2'::regtype, 'int4'::regtype, 'int8'::regtype]::oid[]) \
                          from a), false) \
                    and exists (select 1 from ix where ix.indisunique and ix.indnkeyatts = 2 \
                          and ix.indexprs is null \
                          and ix.indkey[0] = (select attnum from a) \
                          and ix.indkey[1] = (select attnum from m) \
                          and ix.indcollation[0] = (select attcollation from a)) \
                    and not exists (select 1 from ix where ix.indkey[0] = (select attnum from m))",
                &[&layout.quoted_table(), asset, &layout.time_column],
            )
            .await
            .map_err(db.err("reading the source table's indexes"))?;
        Ok(row.get(0))
    }

    /// The layout this source reads.
    pub fn layout(&self) -> &SourceLayout {
        &self.layout
    }

    /// Creates the reference source table if it does not exist.
    pub async fn init(url: &str) -> Result<()> {
        Self::init_layout(url, &SourceLayout::default()).await
    }

    /// Creates the source table of `layout` if it does not exist: the
    /// reference table for the default layout; otherwise a farm table with
    /// the asset column (text), the time column and the generator's channels,
    /// keyed on (time, asset), so that the day ranges windcore reads use the
    /// key's index. An existing table is left as it is: give it an index whose
    /// first column is the time column, or every day's read scans the table.
    pub async fn init_layout(url: &str, layout: &SourceLayout) -> Result<()> {
        layout.validate()?;
        let db = Db::connect(url, 1).await?;
        let client = db.client().await?;
        let t = quote_ident(&layout.time_column);
        let channels: String = crate::generate::FARM_VARIABLES
            .iter()
            .map(|c| format!(",\n  {} float8", quote_ident(c)))
            .collect();
        let ddl = match &layout.asset_column {
            None if layout.is_reference() => "create table if not exists data (\n\
                   timestamp timestamptz primary key,\n\
                   wind_speed float8,\n\
                   power float8,\n\
                   ambient_temperature float8\n\
                 )"
            .to_string(),
            None => format!(
                "create table if not exists {} (\n  {t} timestamptz primary key{channels}\n)",
                layout.quoted_table()
            ),
            Some(a) => {
                let a = quote_ident(a);
                format!(
                    "create table if not exists {} (\n  {a} text not null,\n  {t} timestamptz not null{channels},\n  primary key ({t}, {a})\n)",
                    layout.quoted_table()
                )
            }
        };
        client
            .batch_execute(&ddl)
            .await
            .map_err(db.err("creating the source table"))?;
        Ok(())
    }

    /// The UTC days with at least one sample, in order.
    pub async fn days(&self) -> Result<Vec<Day>> {
        let client = self.db.client().await?;
        let t = quote_ident(&self.layout.time_column);
        let rows = client
            .query(
                &format!(
                    "select distinct ({} at time zone 'UTC')::date from {} where {t} is not null order by 1",
                    self.layout.time_expr(),
                    self.layout.quoted_table()
                ),
                &[],
            )
            .await
            .map_err(self.db.err("listing the source days"))?;
        Ok(rows.into_iter().map(|r| Day::new(r.get(0))).collect())
    }

    /// The local days of `zone` with at least one sample, in order.
    pub async fn days_in(&self, zone: Zone) -> Result<Vec<Day>> {
        let client = self.db.client().await?;
        let t = quote_ident(&self.layout.time_column);
        let rows = client
            .query(
                &format!(
                    "select distinct ({} at time zone $1::text)::date from {} where {t} is not null order by 1",
                    self.layout.time_expr(),
                    self.layout.quoted_table()
                ),
                &[&zone.name()],
            )
            .await
            .map_err(self.db.err("listing the source days"))?;
        Ok(rows.into_iter().map(|r| Day::new(r.get(0))).collect())
    }

    /// Replaces the samples of `day` with `samples` in one transaction (binary COPY).
    /// `samples` has `timestamp`, an [`ASSET`] column if the layout has an
    /// asset column, and numeric columns; those the table has are written.
    /// Returns the rows written.
    pub async fn write_day(&self, day: Day, samples: &DataFrame) -> Result<u64> {
        let ts = utc_micros(samples)?;
        let (lo, hi) = (day.range().start_micros(), day.range().end_micros());
        if let Some(t) = ts.iter().find(|t| **t < lo || **t >= hi) {
            return Err(Error::data(
                "samples",
                format!("timestamp {t} µs since the epoch lies outside the day {day}"),
            ));
        }
        let assets = match &self.layout.asset_column {
            Some(_) => {
                let c = crate::error::column(samples, ASSET)?;
                Some(c.cast(&DataType::String)?.str()?.rechunk().into_owned())
            }
            None => None,
        };
        let names: Vec<&String> = self
            .variables
            .iter()
            .filter(|v| samples.column(v).is_ok())
            .collect();
        let mut vars = Vec::new();
        for name in &names {
            let f = samples.column(name)?.cast(&DataType::Float64)?;
            vars.push(f.f64()?.rechunk().into_owned());
        }
        let n_fields = 1 + assets.is_some() as i16 + vars.len() as i16;
        let mut buf = BytesMut::with_capacity(32 + ts.len() * (2 + 12 + 12 * vars.len() + 16));
        buf.put_slice(COPY_HEADER);
        buf.put_i32(0);
        buf.put_i32(0);
        for (i, t) in ts.iter().enumerate() {
            buf.put_i16(n_fields);
            if let Some(a) = &assets {
                let Some(s) = a.get(i) else {
                    return Err(Error::data(
                        "samples",
                        format!("row {i} has no {ASSET} (NULL); every sample needs its asset"),
                    ));
                };
                buf.put_i32(s.len() as i32);
                buf.put_slice(s.as_bytes());
            }
            buf.put_i32(8);
            buf.put_i64(t - PG_EPOCH_OFFSET_US);
            for v in &vars {
                match v.get(i) {
                    Some(x) => {
                        buf.put_i32(8);
                        buf.put_f64(x);
                    }
                    None => buf.put_i32(-1),
                }
            }
        }
        buf.put_i16(-1);
        let t = quote_ident(&self.layout.time_column);
        let mut columns: Vec<String> = Vec::new();
        if let Some(a) = &self.layout.asset_column {
            columns.push(quote_ident(a));
        }
        columns.push(t.clone());
        columns.extend(names.iter().map(|n| quote_ident(n)));

        let mut client = self.db.client().await?;
        let err = self.db.err("writing source samples");
        let tx = client.transaction().await.map_err(&err)?;
        tx.execute(
            &format!(
                "delete from {} where {t} >= {} and {t} < {}",
                self.layout.quoted_table(),
                ts_literal(day.start()),
                ts_literal(day.end())
            ),
            &[],
        )
        .await
        .map_err(&err)?;
        let sink = tx
            .copy_in::<_, Bytes>(&format!(
                "copy {} ({}) from stdin (format binary)",
                self.layout.quoted_table(),
                columns.join(", ")
            ))
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
        if self.layout.is_reference() {
            self.db.masked.clone()
        } else {
            format!("{} (table {})", self.db.masked, self.layout.table)
        }
    }

    fn variables(&self) -> Vec<String> {
        self.variables.clone()
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let cols = self.allowed(variables)?;
        let mut client = self.db.client().await?;
        let err = self.db.err("reading source samples");
        if !self.asset_scan {
            let stream = client
                .copy_out(self.copy_sql(range, &cols).as_str())
                .await
                .map_err(&err)?;
            return self.decode(stream, &cols).await;
        }
        let tx = self.read_transaction(&mut client, false).await?;
        let stream = tx
            .copy_out(self.copy_sql(range, &cols).as_str())
            .await
            .map_err(&err)?;
        let df = self.decode(stream, &cols).await?;
        tx.commit().await.map_err(&err)?;
        Ok(df)
    }

    async fn fingerprints(
        &self,
        range: TimeRange,
        variables: &[String],
        assets: Option<&[String]>,
    ) -> Result<Option<Fingerprints>> {
        let cols = self.allowed(variables)?;
        let mut client = self.db.client().await?;
        let err = self.db.err("fingerprinting source samples");
        let sql = self.fingerprint_sql(range, &cols, assets);
        let rows = if self.asset_scan {
            let tx = self.read_transaction(&mut client, false).await?;
            let rows = tx.query(sql.as_str(), &[]).await.map_err(&err)?;
            tx.commit().await.map_err(&err)?;
            rows
        } else {
            client.query(sql.as_str(), &[]).await.map_err(&err)?
        };
        Ok(Some(fingerprint_rows(&rows)))
    }

    async fn extract_fingerprinted(
        &self,
        range: TimeRange,
        variables: &[String],
        assets: Option<&[String]>,
    ) -> Result<(DataFrame, Option<Fingerprints>)> {
        let cols = self.allowed(variables)?;
        let mut client = self.db.client().await?;
        let err = self.db.err("reading source samples");
        // One snapshot for both, so the fingerprints describe exactly the rows read.
        let tx = self.read_transaction(&mut client, true).await?;
        let rows = tx
            .query(self.fingerprint_sql(range, &cols, assets).as_str(), &[])
            .await
            .map_err(&err)?;
        let stream = tx
            .copy_out(self.copy_sql_assets(range, &cols, assets).as_str())
            .await
            .map_err(&err)?;
        let df = self.decode(stream, &cols).await?;
        tx.commit().await.map_err(&err)?;
        Ok((df, Some(fingerprint_rows(&rows))))
    }
}

/// `(asset, count, xor, sum)` rows of [`PostgresSource::fingerprint_sql`] as fingerprints.
fn fingerprint_rows(rows: &[tokio_postgres::Row]) -> Fingerprints {
    rows.iter()
        .map(|r| {
            let asset: String = r.get(0);
            let n: i64 = r.get(1);
            let x: i64 = r.get(2);
            let sum: String = r.get(3);
            (asset, format!("pg:{n}:{x:016x}:{sum}"))
        })
        .collect()
}

impl PostgresSource {
    /// The requested variables, checked against the discovered channels.
    fn allowed<'a>(&'a self, variables: &[String]) -> Result<Vec<&'a str>> {
        // Variables go through an allow-list: no request text reaches the SQL.
        let mut cols = Vec::with_capacity(variables.len());
        for v in variables {
            match self.variables.iter().find(|k| *k == v) {
                Some(k) => cols.push(k.as_str()),
                None => {
                    return Err(Error::UnknownVariable {
                        name: v.clone(),
                        known: self.variables.join(", "),
                    })
                }
            }
        }
        Ok(cols)
    }

    /// The range condition, and (with a subset of assets) the asset condition.
    fn where_range(&self, range: TimeRange, assets: Option<&[String]>) -> String {
        let mut w = self.layout.where_range(range);
        if let Some(assets) = assets {
            let a = match &self.layout.asset_column {
                Some(a) => format!("{}::text", quote_ident(a)),
                None => "''::text".to_string(),
            };
            let list: Vec<String> = assets.iter().map(|s| quote_literal(s)).collect();
            w.push_str(&format!(
                " and {a} = any(array[{}]::text[])",
                list.join(", ")
            ));
        }
        w
    }

    /// The rows of `range` (and of `assets`) as a FROM item with the table's
    /// columns: the table with the condition, or (see
    /// [`asset_scan_usable`](Self::asset_scan_usable)) the same rows read asset by
    /// asset: a recursive query finds the assets on the index (each step the
    /// next larger one), and for each of them the index gives its rows in the
    /// range (`offset 0` keeps the per-asset subquery, so that PostgreSQL
    /// does not turn it back into a scan of the whole table).
    fn rows_from(&self, range: TimeRange, assets: Option<&[String]>) -> String {
        let table = self.layout.quoted_table();
        let cond = self.where_range(range, assets);
        match (&self.layout.asset_column, self.asset_scan) {
            (Some(a), true) => {
                let a = quote_ident(a);
                format!(
                    "(with recursive \"windcore$assets\"(v) as (\
                     (select {a} from {table} order by {a} limit 1) \
                     union all \
                     select (select {a} from {table} where {a} > \"windcore$assets\".v order by {a} limit 1) \
                     from \"windcore$assets\" where \"windcore$assets\".v is not null) \
                     select \"windcore$rows\".* from \"windcore$assets\" cross join lateral \
                     (select * from {table} where {a} = \"windcore$assets\".v and {cond} offset 0) \"windcore$rows\") \
                     \"windcore$day\""
                )
            }
            _ => format!("{table} where {cond}"),
        }
    }

    /// Opens the transaction a read runs in; reading asset by asset, without
    /// JIT compilation (PostgreSQL's cost estimate of the recursive query is
    /// far too high, and compiling took longer than the whole read).
    async fn read_transaction<'c>(
        &self,
        client: &'c mut Object,
        snapshot: bool,
    ) -> Result<deadpool_postgres::Transaction<'c>> {
        let err = self.db.err("reading source samples");
        let mut b = client.build_transaction().read_only(true);
        if snapshot {
            b = b.isolation_level(tokio_postgres::IsolationLevel::RepeatableRead);
        }
        let tx = b.start().await.map_err(&err)?;
        if self.asset_scan {
            tx.batch_execute("set local jit = off")
                .await
                .map_err(&err)?;
        }
        Ok(tx)
    }

    fn copy_sql(&self, range: TimeRange, cols: &[&str]) -> String {
        self.copy_sql_assets(range, cols, None)
    }

    fn copy_sql_assets(
        &self,
        range: TimeRange,
        cols: &[&str],
        assets: Option<&[String]>,
    ) -> String {
        let t = quote_ident(&self.layout.time_column);
        let asset = self
            .layout
            .asset_column
            .as_ref()
            .map(|a| format!(", {}::text", quote_ident(a)))
            .unwrap_or_default();
        let select: String = cols
            .iter()
            .map(|c| format!(", {}::float8", quote_ident(c)))
            .collect();
        // One asset: in time order, as the reference did (cheap on its primary
        // key); equal times (a naive local source's repeated hour) in the
        // table's physical order, so "the later row wins" means the later stored.
        let order = if self.layout.asset_column.is_none() {
            format!(" order by {t}, ctid")
        } else {
            String::new()
        };
        format!(
            "copy (select {}{asset}{select} from {}{order}) \
             to stdout (format binary)",
            self.layout.time_expr(),
            self.rows_from(range, assets)
        )
    }

    /// Per asset: the row count, the XOR and the sum of a per-row hash of the
    /// timestamp and every variable (NULL hashed as a constant), computed by
    /// PostgreSQL's own hash functions without moving the rows.
    fn fingerprint_sql(
        &self,
        range: TimeRange,
        cols: &[&str],
        assets: Option<&[String]>,
    ) -> String {
        let asset = match &self.layout.asset_column {
            Some(a) => format!("{}::text", quote_ident(a)),
            None => "''::text".to_string(),
        };
        let mut h = format!(
            "timestamp_hash_extended({}::timestamp, 0)",
            self.layout.time_expr()
        );
        for (k, c) in cols.iter().enumerate() {
            h.push_str(&format!(
                " # coalesce(hashfloat8extended({}::float8, {}), {})",
                quote_ident(c),
                k + 1,
                7919 * (k + 1)
            ));
        }
        format!(
            "select a, count(*)::int8, coalesce(bit_xor(h), 0)::int8, coalesce(sum(h), 0)::text \
             from (select {asset} as a, {h} as h from {}) s group by a",
            self.rows_from(range, assets)
        )
    }

    async fn decode(
        &self,
        stream: tokio_postgres::CopyOutStream,
        cols: &[&str],
    ) -> Result<DataFrame> {
        let err = self.db.err("reading source samples");
        pin_mut!(stream);
        let mut decoder = CopyDecoder::new(self.layout.asset_column.is_some(), cols.len());
        while let Some(chunk) = stream.next().await {
            decoder.feed(chunk.map_err(&err)?)?;
        }
        decoder.finish(cols, self.layout.asset_column.as_deref())
    }
}

/// Incremental decoder of `COPY … TO STDOUT (FORMAT binary)` output with a
/// timestamptz column, optionally a text column (the asset), then float8
/// columns, straight into column vectors. Asset names are interned: each
/// distinct name is stored once.
struct CopyDecoder {
    buf: BytesMut,
    header_done: bool,
    trailer_seen: bool,
    ts: Vec<i64>,
    with_asset: bool,
    asset_ids: Vec<u32>,
    asset_names: Vec<String>,
    asset_index: HashMap<Vec<u8>, u32>,
    vals: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
    has_null: Vec<bool>,
    lens: Vec<i32>,
}

impl CopyDecoder {
    fn new(with_asset: bool, n_vars: usize) -> Self {
        CopyDecoder {
            buf: BytesMut::new(),
            header_done: false,
            trailer_seen: false,
            ts: Vec::new(),
            with_asset,
            asset_ids: Vec::new(),
            asset_names: Vec::new(),
            asset_index: HashMap::new(),
            vals: vec![Vec::new(); n_vars],
            valid: vec![Vec::new(); n_vars],
            has_null: vec![false; n_vars],
            lens: vec![0; n_vars + 2],
        }
    }

    fn bad(detail: &str) -> Error {
        Error::protocol("decoding binary COPY data", detail)
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
        let first_var = 1 + self.with_asset as usize;
        let n_fields = first_var + n_vars;
        let mut consumed = 0usize;
        let result = loop {
            if self.trailer_seen {
                break Ok(());
            }
            // Check that a whole tuple is buffered before consuming it.
            let b = &self.buf[consumed..];
            if b.len() < 2 {
                break Ok(());
            }
            let fields = i16::from_be_bytes([b[0], b[1]]);
            if fields == -1 {
                self.trailer_seen = true;
                consumed += 2;
                break Ok(());
            }
            if fields as usize != n_fields {
                break Err(Self::bad("unexpected number of fields"));
            }
            let mut pos = 2;
            let mut whole = true;
            for l in self.lens.iter_mut().take(n_fields) {
                if b.len() < pos + 4 {
                    whole = false;
                    break;
                }
                let len = i32::from_be_bytes(b[pos..pos + 4].try_into().expect("4 bytes"));
                *l = len;
                pos += 4 + len.max(0) as usize;
                if b.len() < pos {
                    whole = false;
                    break;
                }
            }
            if !whole {
                break Ok(());
            }
            // Whole tuple present: decode it.
            let mut pos = 2;
            for f in 0..n_fields {
                let len = self.lens[f];
                pos += 4;
                if f == 0 {
                    if len != 8 {
                        return Err(Self::bad("a timestamp is NULL or not 8 bytes"));
                    }
                    let v = i64::from_be_bytes(b[pos..pos + 8].try_into().expect("8 bytes"));
                    self.ts.push(v + PG_EPOCH_OFFSET_US);
                    pos += 8;
                } else if f < first_var {
                    if len < 0 {
                        return Err(Error::data(
                            "source samples",
                            "a row has no asset (NULL in the asset column); every sample needs its asset",
                        ));
                    }
                    let bytes = &b[pos..pos + len as usize];
                    let id = match self.asset_index.get(bytes) {
                        Some(id) => *id,
                        None => {
                            let name = std::str::from_utf8(bytes)
                                .map_err(|_| Self::bad("an asset name is not UTF-8"))?;
                            let id = self.asset_names.len() as u32;
                            self.asset_names.push(name.to_string());
                            self.asset_index.insert(bytes.to_vec(), id);
                            id
                        }
                    };
                    self.asset_ids.push(id);
                    pos += len as usize;
                } else {
                    let k = f - first_var;
                    if len == 8 {
                        let v = f64::from_be_bytes(b[pos..pos + 8].try_into().expect("8 bytes"));
                        self.vals[k].push(v);
                        self.valid[k].push(true);
                        pos += 8;
                    } else if len < 0 {
                        self.vals[k].push(0.0);
                        self.valid[k].push(false);
                        self.has_null[k] = true;
                    } else {
                        return Err(Self::bad("a float8 value is not 8 bytes"));
                    }
                }
            }
            consumed += pos;
        };
        self.buf.advance(consumed);
        result
    }

    fn finish(self, names: &[&str], _asset_column: Option<&str>) -> Result<DataFrame> {
        if !self.header_done {
            return Err(Self::bad("no COPY header received"));
        }
        let mut columns: Vec<Column> = Vec::with_capacity(2 + names.len());
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), self.ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        columns.push(ts.into_series().into());
        if self.with_asset {
            let names_ref = &self.asset_names;
            let assets: Vec<&str> = self
                .asset_ids
                .iter()
                .map(|id| names_ref[*id as usize].as_str())
                .collect();
            columns.push(Column::new(ASSET.into(), assets));
        }
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
    let col = crate::error::column(df, TIMESTAMP)?;
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
///
/// `signal(id, asset, name)` holds one row per series: an asset (`''` for a
/// source with one asset) and a signal name such as `power_std`, unique
/// together. `data(timestamp, signal_id, value)` holds the values.
#[derive(Clone)]
pub struct PostgresTarget {
    db: Db,
    layout: TargetLayout,
}

/// The statements of `init`: the tables, and the additive migration of a
/// target made by an earlier windcore (or the reference design), whose
/// `signal` has no `asset` column and a unique `name`.
const TARGET_DDL: &str = "\
create table if not exists signal (
  id serial primary key,
  asset text not null default '',
  name text not null,
  constraint signal_asset_name_key unique (asset, name)
);
alter table signal add column if not exists asset text not null default '';
do $$
declare c text;
begin
  -- A unique constraint on `name` alone would forbid the same signal on two assets.
  for c in
    select con.conname from pg_constraint con
    join pg_class t on t.oid = con.conrelid
    where t.oid = 'signal'::regclass and con.contype = 'u'
      and con.conkey = array[(select attnum from pg_attribute
                              where attrelid = t.oid and attname = 'name')]::int2[]
  loop
    execute format('alter table signal drop constraint %I', c);
  end loop;
  if not exists (select 1 from pg_constraint
                 where conrelid = 'signal'::regclass and contype = 'u'
                   and conname = 'signal_asset_name_key') then
    alter table signal add constraint signal_asset_name_key unique (asset, name);
  end if;
end $$;
create table if not exists data (
  timestamp timestamptz not null,
  signal_id integer not null references signal(id),
  value float8 not null,
  primary key (signal_id, timestamp)
);
create table if not exists windcore_load (
  zone text not null,
  day date not null,
  asset text not null,
  fingerprint text not null,
  loaded_at timestamptz not null default now(),
  primary key (zone, day, asset)
);";

impl PostgresTarget {
    /// Connects (failing within a bounded time) and checks the schema.
    ///
    /// A target of the reference design (a `data` table with an `id` column
    /// filled by a default, and no unique key) is used as it is: each day is
    /// still replaced in one transaction, so re-runs never duplicate rows. A
    /// `data` table windcore cannot write correctly is refused with an
    /// explanation, and a `signal` table without the `asset` column (an
    /// earlier windcore's) asks for `windcore-cli init`.
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
        if !signal.contains_key("asset") {
            return Err(Error::Schema(format!(
                "the target table `signal` in {} has no `asset` column (it was made by an earlier \
                 windcore or the reference design): run `windcore-cli init --target URL` once to \
                 add it; the migration only adds, existing rows keep their ids with asset ''",
                db.masked
            )));
        }
        if db.columns("windcore_load").await?.is_empty() {
            return Err(Error::Schema(format!(
                "the target database {} has no table `windcore_load` (the record of what each \
                 run loaded, made by a newer windcore): run `windcore-cli init --target URL` once \
                 to add it",
                db.masked
            )));
        }
        Ok(PostgresTarget { db, layout })
    }

    /// Whether the target has the reference system's layout (an `id` column in `data`).
    pub fn has_reference_layout(&self) -> bool {
        self.layout == TargetLayout::Reference
    }

    /// Creates the target tables, or migrates those of an earlier windcore
    /// (adds `signal.asset` and makes (asset, name) the unique key), and the
    /// signal rows for every reference variable and statistic. Safe to repeat.
    pub async fn init(url: &str) -> Result<()> {
        let db = Db::connect(url, 1).await?;
        let mut client = db.client().await?;
        let err = db.err("creating or migrating the target tables");
        let tx = client.transaction().await.map_err(&err)?;
        tx.execute("select pg_advisory_xact_lock($1, -1)", &[&LOCK_CLASS])
            .await
            .map_err(&err)?;
        tx.batch_execute(TARGET_DDL).await.map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        drop(client);
        let target = PostgresTarget::connect(url).await?;
        let pairs: Vec<(String, String)> = SOURCE_VARIABLES
            .iter()
            .flat_map(|v| {
                crate::resample::Stat::ALL
                    .iter()
                    .map(move |s| (String::new(), format!("{v}_{}", s.name())))
            })
            .collect();
        target.signal_ids(&pairs).await?;
        Ok(())
    }

    /// Ids of the (asset, name) series in `signal`, creating the missing rows.
    async fn signal_ids(
        &self,
        pairs: &[(String, String)],
    ) -> Result<HashMap<(String, String), i32>> {
        let assets: Vec<&str> = pairs.iter().map(|(a, _)| a.as_str()).collect();
        let names: Vec<&str> = pairs.iter().map(|(_, n)| n.as_str()).collect();
        let mut client = self.db.client().await?;
        let err = self.db.err("creating signal rows");
        let tx = client.transaction().await.map_err(&err)?;
        // One writer of signal rows at a time, whatever the table's constraints.
        tx.execute("select pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])
            .await
            .map_err(&err)?;
        tx.execute(
            "insert into signal (asset, name) select u.a, u.n from unnest($1::text[], $2::text[]) as u(a, n) \
             where not exists (select 1 from signal s where s.asset = u.a and s.name = u.n)",
            &[&assets, &names],
        )
        .await
        .map_err(&err)?;
        let rows = tx
            .query(
                "select s.id, s.asset, s.name from signal s \
                 join unnest($1::text[], $2::text[]) as u(a, n) on s.asset = u.a and s.name = u.n",
                &[&assets, &names],
            )
            .await
            .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        let mut ids = HashMap::new();
        for r in rows {
            let id: i32 = r.get(0);
            let key: (String, String) = (r.get(1), r.get(2));
            if let Some(prev) = ids.insert(key.clone(), id) {
                if prev != id {
                    return Err(Error::Schema(format!(
                        "signal `{}` of asset `{}` appears more than once in table `signal` (ids {prev} and {id}) in {}; \
                         windcore cannot tell which one to write",
                        key.1, key.0, self.db.masked
                    )));
                }
            }
        }
        Ok(ids)
    }

    /// The distinct signal names in the target's `signal` table, sorted.
    pub async fn signal_names(&self) -> Result<Vec<String>> {
        let client = self.db.client().await?;
        let rows = client
            .query("select distinct name from signal order by name", &[])
            .await
            .map_err(self.db.err("listing signals"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The statistics stored for `range`, long form (`timestamp`, `signal`,
    /// `value`), of every asset, ordered by timestamp and signal name.
    pub async fn read(&self, range: TimeRange) -> Result<DataFrame> {
        let df = self.read_with_assets(range).await?;
        Ok(df.drop(ASSET)?)
    }

    /// The statistics stored for `range` with their asset (`asset`,
    /// `timestamp`, `signal`, `value`), ordered by asset, timestamp and signal.
    pub async fn read_with_assets(&self, range: TimeRange) -> Result<DataFrame> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                &format!(
                    "select s.asset, (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
                     from data d join signal s on s.id = d.signal_id \
                     where d.timestamp >= {} and d.timestamp < {} order by d.timestamp, s.name, s.asset",
                    ts_literal(range.start),
                    ts_literal(range.end)
                ),
                &[],
            )
            .await
            .map_err(self.db.err("reading statistics"))?;
        let asset: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let ts: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
        let sig: Vec<String> = rows.iter().map(|r| r.get(2)).collect();
        let val: Vec<f64> = rows.iter().map(|r| r.get(3)).collect();
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        Ok(DataFrame::new_infer_height(vec![
            Column::new(ASSET.into(), asset),
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
        self.write(range, signals, None, stats, None).await
    }

    async fn load_scoped(&self, scope: LoadScope<'_>, stats: &DataFrame) -> Result<u64> {
        self.write(
            scope.range,
            scope.signals,
            scope.assets,
            stats,
            Some((scope.day, scope.zone, scope.fingerprints)),
        )
        .await
    }

    async fn loaded(&self, day: Day, zone: &str) -> Result<Option<Fingerprints>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "select asset, fingerprint from windcore_load where zone = $1 and day = $2",
                &[&zone, &day.date()],
            )
            .await
            .map_err(self.db.err("reading the load record"))?;
        Ok(Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
    }
}

impl PostgresTarget {
    /// One load in one transaction: replaces the rows of `signals` (of
    /// `assets`, or of every asset) in `range` with `stats`, and records the
    /// fingerprints of the assets in scope.
    async fn write(
        &self,
        range: TimeRange,
        signals: &[String],
        scope: Option<&[String]>,
        stats: &DataFrame,
        record: Option<(Day, &str, &Fingerprints)>,
    ) -> Result<u64> {
        // Encode the COPY payload before opening the transaction.
        let ts = utc_micros(stats)?;
        let sig = stats.column(SIGNAL)?.cast(&DataType::String)?;
        let sig = sig.str()?;
        let val = stats.column(VALUE)?.cast(&DataType::Float64)?;
        let val = val.f64()?;
        let assets = match stats.column(ASSET) {
            Ok(c) => Some(c.cast(&DataType::String)?.str()?.clone()),
            Err(_) => None,
        };
        // The series of every asset present: each signal of each asset.
        let mut asset_names: Vec<String> = Vec::new();
        match &assets {
            Some(a) => {
                let mut seen = std::collections::HashSet::new();
                for s in a.iter() {
                    let s =
                        s.ok_or_else(|| Error::data("statistics", "a row has no asset (NULL)"))?;
                    if seen.insert(s) {
                        asset_names.push(s.to_string());
                    }
                }
            }
            None => asset_names.push(String::new()),
        }
        let pairs: Vec<(String, String)> = asset_names
            .iter()
            .flat_map(|a| signals.iter().map(move |s| (a.clone(), s.clone())))
            .collect();
        let ids = self.signal_ids(&pairs).await?;
        let (lo, hi) = (range.start_micros(), range.end_micros());
        let mut buf = BytesMut::with_capacity(32 + ts.len() * 32);
        buf.put_slice(COPY_HEADER);
        buf.put_i32(0);
        buf.put_i32(0);
        let mut rows = 0u64;
        // The ids of the current asset's signals: rows come grouped by asset,
        // so this is rebuilt once per asset, and each row looks its signal up
        // in a short list.
        let mut current: Option<(String, Vec<(&str, i32)>)> = None;
        for (i, ((t, s), v)) in ts.iter().zip(sig.iter()).zip(val.iter()).enumerate() {
            let (Some(s), Some(v)) = (s, v) else { continue };
            if v.is_nan() || *t < lo || *t >= hi {
                continue;
            }
            let asset = assets.as_ref().and_then(|a| a.get(i)).unwrap_or("");
            if current.as_ref().is_none_or(|(a, _)| a != asset) {
                let list = signals
                    .iter()
                    .filter_map(|name| {
                        ids.get(&(asset.to_string(), name.clone()))
                            .map(|id| (name.as_str(), *id))
                    })
                    .collect();
                current = Some((asset.to_string(), list));
            }
            let list = &current.as_ref().expect("set above").1;
            let Some(id) = list.iter().find(|(n, _)| *n == s).map(|(_, id)| *id) else {
                return Err(Error::data(
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
            buf.put_i32(id);
            buf.put_i32(8);
            buf.put_f64(v);
            rows += 1;
        }
        buf.put_i16(-1);

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
        // The day's rows of these signals, of every asset or of those in scope, are replaced.
        match scope {
            None => tx
                .execute(
                    &format!(
                        "delete from data where signal_id in (select id from signal where name = any($1::text[])) \
                         and timestamp >= {} and timestamp < {}",
                        ts_literal(range.start),
                        ts_literal(range.end)
                    ),
                    &[&signals],
                )
                .await
                .map_err(&err)?,
            Some(assets) => tx
                .execute(
                    &format!(
                        "delete from data where signal_id in (select id from signal \
                         where name = any($1::text[]) and asset = any($2::text[])) \
                         and timestamp >= {} and timestamp < {}",
                        ts_literal(range.start),
                        ts_literal(range.end)
                    ),
                    &[&signals, &assets],
                )
                .await
                .map_err(&err)?,
        };
        let sink = tx
            .copy_in::<_, Bytes>(
                "copy data (timestamp, signal_id, value) from stdin (format binary)",
            )
            .await
            .map_err(&err)?;
        pin_mut!(sink);
        sink.send(buf.freeze()).await.map_err(&err)?;
        let n = sink.finish().await.map_err(&err)?;
        if let Some((day, zone, fps)) = record {
            // The record of the assets in scope (all of the day's when unscoped).
            let assets: Vec<&str> = match scope {
                Some(a) => a.iter().map(|s| s.as_str()).collect(),
                None => Vec::new(),
            };
            tx.execute(
                "delete from windcore_load where zone = $1 and day = $2 \
                 and (cardinality($3::text[]) = 0 or asset = any($3::text[]))",
                &[&zone, &day.date(), &assets],
            )
            .await
            .map_err(&err)?;
            let (a, f): (Vec<&str>, Vec<&str>) =
                fps.iter().map(|(a, f)| (a.as_str(), f.as_str())).unzip();
            tx.execute(
                "insert into windcore_load (zone, day, asset, fingerprint) \
                 select $1, $2, u.a, u.f from unnest($3::text[], $4::text[]) as u(a, f)",
                &[&zone, &day.date(), &a, &f],
            )
            .await
            .map_err(&err)?;
        }
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
        let mut d = CopyDecoder::new(false, 1);
        for i in 0..bytes.len() {
            d.feed(bytes.slice(i..i + 1)).unwrap();
        }
        let df = d.finish(&["power"], None).unwrap();
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
