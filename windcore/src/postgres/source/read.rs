//! Reading a source's days: the [`Extract`] implementation and the SQL it
//! sends (COPY of a day's rows, their fingerprints), read through the
//! time index or asset by asset.

use async_trait::async_trait;
use deadpool_postgres::Object;
use polars::prelude::*;

use crate::day::TimeRange;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;
use crate::traits::Extract;

use super::PostgresSource;
use crate::postgres::binary_copy::copy_out;
use crate::postgres::sql::{quote_ident, quote_literal, ts_literal};

#[async_trait]
impl Extract for PostgresSource {
    fn notes(&self) -> Vec<String> {
        self.layout_warning().into_iter().collect()
    }

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
        let rows = self
            .aggregate(&self.fingerprint_sql(range, &cols, assets), false)
            .await?;
        Ok(Some(fingerprint_rows(&rows)))
    }

    async fn fingerprints_of_ranges(
        &self,
        ranges: &[TimeRange],
        variables: &[String],
        assets: Option<&[String]>,
    ) -> Result<Option<Vec<Fingerprints>>> {
        let cols = self.allowed(variables)?;
        // The bounds between ranges, and which range each bucket is (none
        // for a gap between two ranges).
        let mut bounds = Vec::with_capacity(ranges.len() + 1);
        let mut owner = Vec::with_capacity(ranges.len() + 1);
        for (i, r) in ranges.iter().enumerate() {
            match bounds.last() {
                Some(&end) if end > r.start => {
                    return Err(Error::data(
                        "fingerprints",
                        "ranges to fingerprint overlap or are not sorted",
                    ))
                }
                Some(&end) if end == r.start => {}
                _ => {
                    bounds.push(r.start);
                    if i > 0 {
                        owner.push(None);
                    }
                }
            }
            owner.push(Some(i));
            bounds.push(r.end);
        }
        let mut out = vec![Fingerprints::new(); ranges.len()];
        if ranges.is_empty() {
            return Ok(Some(out));
        }
        let sql = self.bucket_fingerprint_sql(&bounds, &cols, assets)?;
        for row in self.aggregate(&sql, true).await? {
            let bucket: i32 = row.get(0);
            let range = usize::try_from(bucket - 1)
                .ok()
                .and_then(|b| owner.get(b).copied().flatten());
            if let Some(i) = range {
                let (asset, fp) = fingerprint_row(&row, 1);
                out[i].insert(asset, fp);
            }
        }
        Ok(Some(out))
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

/// The aggregates of a fingerprint, per group: row count, XOR and sum of the row hashes `h`.
const FINGERPRINT_AGGREGATES: &str =
    "count(*)::int8, coalesce(bit_xor(h), 0)::int8, coalesce(sum(h), 0)::text";

/// `(asset, count, xor, sum)` rows of [`PostgresSource::fingerprint_sql`] as fingerprints.
fn fingerprint_rows(rows: &[tokio_postgres::Row]) -> Fingerprints {
    rows.iter().map(|r| fingerprint_row(r, 0)).collect()
}

/// The asset and fingerprint of a row whose columns from `at` are `(asset, count, xor, sum)`.
fn fingerprint_row(r: &tokio_postgres::Row, at: usize) -> (String, String) {
    let asset: String = r.get(at);
    let n: i64 = r.get(at + 1);
    let x: i64 = r.get(at + 2);
    let sum: String = r.get(at + 3);
    (asset, format!("pg:{n}:{x:016x}:{sum}"))
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
    /// [`Indexes::asset_scan`](super::indexes::Indexes::asset_scan)) the same rows read asset by
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
                    "({} select \"windcore$rows\".* from \"windcore$assets\" cross join lateral \
                     (select * from {table} where {a} = \"windcore$assets\".v and {cond} offset 0) \"windcore$rows\") \
                     \"windcore$day\"",
                    super::loose_asset_scan(&a, &table)
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
        format!(
            "select a, {FINGERPRINT_AGGREGATES} \
             from (select {} as a, {} as h from {}) s group by a",
            self.asset_expr(),
            self.row_hash(cols),
            self.rows_from(range, assets)
        )
    }

    /// [`fingerprint_sql`](Self::fingerprint_sql) of every range between
    /// consecutive `bounds` at once, in one pass over their rows: the rows
    /// `(bucket, asset, count, xor, sum)`, bucket `k` (from 1) holding the
    /// rows with `bounds[k - 1] <= time < bounds[k]`.
    fn bucket_fingerprint_sql(
        &self,
        bounds: &[chrono::DateTime<chrono::Utc>],
        cols: &[&str],
        assets: Option<&[String]>,
    ) -> Result<String> {
        let (Some(&first), Some(&last)) = (bounds.first(), bounds.last()) else {
            return Err(Error::data("fingerprints", "no ranges to fingerprint"));
        };
        let list: Vec<String> = bounds.iter().map(|&b| ts_literal(b)).collect();
        Ok(format!(
            "select b, a, {FINGERPRINT_AGGREGATES} \
             from (select width_bucket({}, array[{}]) as b, {} as a, {} as h from {}) s \
             group by b, a",
            self.layout.time_expr(),
            list.join(", "),
            self.asset_expr(),
            self.row_hash(cols),
            self.rows_from(TimeRange::new(first, last)?, assets)
        ))
    }

    /// The asset of a row as text (`''` without an asset column).
    fn asset_expr(&self) -> String {
        match &self.layout.asset_column {
            Some(a) => format!("{}::text", quote_ident(a)),
            None => "''::text".to_string(),
        }
    }

    /// A row's hash: of its timestamp and each of `cols`, NULL hashed as a
    /// constant per column.
    fn row_hash(&self, cols: &[&str]) -> String {
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
        h
    }

    /// Runs an aggregate query over the source's rows (asset by asset in a
    /// transaction without JIT, see [`read_transaction`](Self::read_transaction)).
    /// `few_groups`: the query groups by an expression of the time column
    /// into few groups, which PostgreSQL estimates as one per distinct time
    /// (hundreds of thousands) and so sorts all the rows (on disk) to
    /// group them: it is told to hash instead, which holds the few groups
    /// in memory and takes a third less time on a year of a farm.
    async fn aggregate(&self, sql: &str, few_groups: bool) -> Result<Vec<tokio_postgres::Row>> {
        let mut client = self.db.client().await?;
        let err = self.db.err("fingerprinting source samples");
        if !self.asset_scan && !few_groups {
            return client.query(sql, &[]).await.map_err(&err);
        }
        let tx = self.read_transaction(&mut client, false).await?;
        if few_groups {
            tx.batch_execute("set local enable_sort = off")
                .await
                .map_err(&err)?;
        }
        let rows = tx.query(sql, &[]).await.map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(rows)
    }

    /// The frame of a `COPY` sent by [`copy_sql`](Self::copy_sql).
    async fn decode(
        &self,
        stream: tokio_postgres::CopyOutStream,
        cols: &[&str],
    ) -> Result<DataFrame> {
        let err = self.db.err("reading source samples");
        copy_out(stream, self.layout.asset_column.is_some(), cols, err).await
    }
}
