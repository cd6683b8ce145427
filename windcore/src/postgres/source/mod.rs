//! [`PostgresSource`]: raw samples in a PostgreSQL table. Connecting
//! discovers the channels and what the table's indexes allow
//! ([`indexes`]); reading a day is in [`read`].

mod indexes;
mod read;

use polars::prelude::*;

use crate::day::Day;
use crate::error::{Error, Result};
use crate::generate::SOURCE_VARIABLES;
use crate::schema::ASSET;
use crate::zone::Zone;

use super::binary_copy::{copy_in, utc_micros, CopyEncoder};
use super::layout::SourceLayout;
use super::pool::{Db, DEFAULT_POOL_SIZE};
use super::sql::{quote_ident, ts_literal};
use indexes::Indexes;

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
    /// on (asset, time): see [`Indexes::asset_scan`].
    asset_scan: bool,
    /// What to tell the user about the table's indexes: see
    /// [`layout_warning`](Self::layout_warning).
    layout_warning: Option<String>,
}

impl PostgresSource {
    /// Connects (failing within a bounded time) to the reference layout.
    /// Keeps up to [`DEFAULT_POOL_SIZE`] connections open.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// Like [`connect`](Self::connect), keeping up to `max_size` connections
    /// (1 ..= [`MAX_POOL_SIZE`](super::MAX_POOL_SIZE)); further concurrent reads wait for one.
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
        let indexes = Indexes::inspect(&db, layout).await?;
        Ok(PostgresSource {
            db,
            layout: layout.clone(),
            variables,
            asset_scan: indexes.asset_scan(layout),
            layout_warning: indexes.warning(layout),
        })
    }

    /// The layout this source reads.
    pub fn layout(&self) -> &SourceLayout {
        &self.layout
    }

    /// A one-line hint when no index of the table serves a day's read, so
    /// that every day scans the whole table (correct, but slow on a large
    /// table): it names the table and the `CREATE INDEX` that would help.
    /// `None` when an index (the primary key or any other, btree or BRIN)
    /// starts with the time column, when the asset-by-asset read uses a
    /// unique key on (asset, time), or when the source is not a table (a
    /// view). Found once, when connecting.
    pub fn layout_warning(&self) -> Option<String> {
        self.layout_warning.clone()
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

    /// Every asset of the table, sorted (as text); empty without an asset
    /// column. One query: a loose index scan (one index lookup per asset, see
    /// [`Indexes::asset_scan`]) when the table has the index for it, else
    /// `select distinct`.
    pub async fn assets(&self) -> Result<Vec<String>> {
        let Some(a) = &self.layout.asset_column else {
            return Ok(Vec::new());
        };
        let a = quote_ident(a);
        let table = self.layout.quoted_table();
        let sql = if self.asset_scan {
            format!(
                "{} select v::text from \"windcore$assets\" where v is not null",
                loose_asset_scan(&a, &table)
            )
        } else {
            format!("select distinct {a}::text from {table} where {a} is not null")
        };
        let client = self.db.client().await?;
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(self.db.err("listing the source assets"))?;
        let mut assets: Vec<String> = rows.into_iter().map(|r| r.get(0)).collect();
        assets.sort();
        Ok(assets)
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
                let c = crate::frame::column(samples, ASSET)?;
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
        let mut copy = CopyEncoder::with_capacity(32 + ts.len() * (2 + 12 + 12 * vars.len() + 16));
        for (i, t) in ts.iter().enumerate() {
            copy.row(n_fields);
            if let Some(a) = &assets {
                let Some(s) = a.get(i) else {
                    return Err(Error::data(
                        "samples",
                        format!("row {i} has no {ASSET} (NULL); every sample needs its asset"),
                    ));
                };
                copy.text(s);
            }
            copy.timestamptz(*t);
            for v in &vars {
                copy.float8(v.get(i));
            }
        }
        let copy = copy.finish();
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
        let sql = format!(
            "copy {} ({}) from stdin (format binary)",
            self.layout.quoted_table(),
            columns.join(", ")
        );
        let n = copy_in(&tx, &sql, copy, &err).await?;
        tx.commit().await.map_err(&err)?;
        Ok(n)
    }
}

/// `with recursive "windcore$assets"(v)`: the distinct values of the
/// (quoted) asset column `a` of `table`, in order, each found by one lookup
/// of an index that starts with `a` (a loose index scan).
fn loose_asset_scan(a: &str, table: &str) -> String {
    format!(
        "with recursive \"windcore$assets\"(v) as (\
         (select {a} from {table} order by {a} limit 1) \
         union all \
         select (select {a} from {table} where {a} > \"windcore$assets\".v order by {a} limit 1) \
         from \"windcore$assets\" where \"windcore$assets\".v is not null)"
    )
}
