//! [`PostgresTarget`]: the statistics in the target tables `signal` and
//! `data`, loaded one day per transaction with binary COPY.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use polars::prelude::*;

use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;
use crate::schema::{ASSET, SIGNAL, TIMESTAMP, VALUE};
use crate::traits::{Load, LoadScope};

use super::binary_copy::{copy_in, utc_micros, CopyEncoder};
use super::pool::{Db, DEFAULT_POOL_SIZE};
use super::sql::ts_literal;

/// First key of windcore's advisory locks ("WIND").
pub(super) const LOCK_CLASS: i32 = 0x5749_4e44;

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
    /// (1 ..= [`MAX_POOL_SIZE`](super::MAX_POOL_SIZE)); further concurrent loads wait for one.
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

    /// Ids of the (asset, name) series in `signal`, creating the missing rows.
    pub(super) async fn signal_ids(
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
        self.write(range, (signals, &[]), None, stats, None).await
    }

    async fn load_scoped(&self, scope: LoadScope<'_>, stats: &DataFrame) -> Result<u64> {
        self.write(
            scope.range,
            (scope.signals, scope.signal_prefixes),
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

    async fn loaded_days(
        &self,
        days: &[Day],
        zone: &str,
    ) -> Result<Option<BTreeMap<Day, Fingerprints>>> {
        let dates: Vec<chrono::NaiveDate> = days.iter().map(|d| d.date()).collect();
        let client = self.db.client().await?;
        let rows = client
            .query(
                "select day, asset, fingerprint from windcore_load \
                 where zone = $1 and day = any($2)",
                &[&zone, &dates],
            )
            .await
            .map_err(self.db.err("reading the load record"))?;
        let mut out: BTreeMap<Day, Fingerprints> =
            days.iter().map(|&d| (d, Fingerprints::new())).collect();
        for r in &rows {
            let day: chrono::NaiveDate = r.get(0);
            if let Some(f) = out.get_mut(&Day::from(day)) {
                f.insert(r.get(1), r.get(2));
            }
        }
        Ok(Some(out))
    }
}

impl PostgresTarget {
    /// One load in one transaction: replaces the rows of `signals` (of
    /// `assets`, or of every asset) in `range` with `stats`, and records the
    /// fingerprints of the assets in scope.
    async fn write(
        &self,
        range: TimeRange,
        (signals, prefixes): (&[String], &[String]),
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
        let mut copy = CopyEncoder::with_capacity(32 + ts.len() * 32);
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
            copy.row(3);
            copy.timestamptz(*t);
            copy.int4(id);
            copy.float8(Some(v));
        }
        let copy = copy.finish();

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
                        "delete from data where signal_id in (select id from signal where name = any($1::text[]) \
                         or exists (select 1 from unnest($2::text[]) p where starts_with(name, p))) \
                         and timestamp >= {} and timestamp < {}",
                        ts_literal(range.start),
                        ts_literal(range.end)
                    ),
                    &[&signals, &prefixes],
                )
                .await
                .map_err(&err)?,
            Some(assets) => tx
                .execute(
                    &format!(
                        "delete from data where signal_id in (select id from signal \
                         where (name = any($1::text[]) \
                         or exists (select 1 from unnest($3::text[]) p where starts_with(name, p))) \
                         and asset = any($2::text[])) \
                         and timestamp >= {} and timestamp < {}",
                        ts_literal(range.start),
                        ts_literal(range.end)
                    ),
                    &[&signals, &assets, &prefixes],
                )
                .await
                .map_err(&err)?,
        };
        let n = copy_in(
            &tx,
            "copy data (timestamp, signal_id, value) from stdin (format binary)",
            copy,
            &err,
        )
        .await?;
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
        Ok(n)
    }
}
