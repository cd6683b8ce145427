//! The embedded store: Parquet files under a data directory, no database needed.
//!
//! ```text
//! windcore-data/
//!   source/2024-01-01.parquet   raw samples: [asset,] timestamp, channels (wind_speed, power, ...)
//!   target/2024-01-01.parquet   statistics, long form: [asset,] timestamp, signal, value
//! ```
//!
//! The `asset` column is there for a farm (several turbines in one file).
//!
//! One file per UTC day and dataset. Timestamps are stored as microseconds
//! with time zone UTC. Every file is written to a hidden temporary file in the
//! same directory, flushed to disk and then renamed over the old one, so a
//! crash never leaves a half-written day and readers (pandas, polars, DuckDB,
//! which all skip hidden files) only ever see whole days.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use polars::prelude::*;

use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;
use crate::frame::{column, column_list};
use crate::generate::SOURCE_VARIABLES;
use crate::postgres::SourceLayout;
use crate::schema::{ASSET, SIGNAL, TIMESTAMP, VALUE};
use crate::traits::{Extract, Load, LoadScope};
use crate::zone::Zone;

/// The default data directory of the embedded store.
pub const DEFAULT_DATA_DIR: &str = "windcore-data";

/// A data directory holding a `source` and a `target` dataset.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// The store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The raw samples, under `<root>/source`.
    pub fn source(&self) -> ParquetSource {
        ParquetSource::new(self.root.join("source"))
    }

    /// The statistics, under `<root>/target`.
    pub fn target(&self) -> ParquetTarget {
        ParquetTarget::new(self.root.join("target"))
    }
}

/// Raw samples as one Parquet file per UTC day.
///
/// A file holds a timestamp column (default `timestamp`), optionally an asset
/// column (default `asset` when the files have one: a farm) and numeric
/// channels, which are the source's variables. The writer of demo data uses
/// exactly these names; files of your own may use other names for the time
/// and asset columns (see [`with_layout`](ParquetSource::with_layout)).
#[derive(Debug, Clone)]
pub struct ParquetSource {
    dir: PathBuf,
    time_column: String,
    asset_column: Option<String>,
    naive_timezone: Option<Zone>,
}

/// Statistics in long form as one Parquet file per UTC day.
#[derive(Debug, Clone)]
pub struct ParquetTarget {
    dir: PathBuf,
}

impl ParquetSource {
    /// The dataset in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParquetSource {
            dir: dir.into(),
            time_column: TIMESTAMP.into(),
            asset_column: None,
            naive_timezone: None,
        }
    }

    /// Reads the time and asset columns named by `layout` (its table is
    /// ignored). Without an asset column, a column named `asset` is used when
    /// the files have one.
    pub fn with_layout(mut self, layout: &SourceLayout) -> Self {
        self.time_column = layout.time_column.clone();
        self.asset_column = layout.asset_column.clone();
        self.naive_timezone = layout.naive_timezone;
        self
    }

    /// The dataset's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The days present, in order.
    pub fn days(&self) -> Result<Vec<Day>> {
        list_days(&self.dir)
    }

    /// The samples of `day`, or `None` if the day is not present.
    pub fn read_day(&self, day: Day) -> Result<Option<DataFrame>> {
        read_day_file(&self.dir, day, None)
    }

    /// The columns of the files (read from the newest day), or `None` when
    /// the store has no day yet.
    fn schema(&self) -> Result<Option<Schema>> {
        let Some(day) = self.days()?.last().copied() else {
            return Ok(None);
        };
        let path = day_path(&self.dir, day);
        let file = File::open(&path).map_err(|e| Error::io("reading", &path, e))?;
        let df = ParquetReader::new(file)
            .with_slice(Some((0, 0)))
            .finish()
            .map_err(|e| Error::io("reading", &path, std::io::Error::other(e.to_string())))?;
        Ok(Some(df.schema().as_ref().clone()))
    }

    /// Every asset of every day file (the distinct values of the asset
    /// column), sorted; empty when the files have no asset column (one asset).
    pub fn assets(&self) -> Result<Vec<String>> {
        let Some(schema) = self.schema()? else {
            return Ok(Vec::new());
        };
        let Some(col) = self.asset_column_in(&schema) else {
            return Ok(Vec::new());
        };
        let mut out = std::collections::BTreeSet::new();
        for day in self.days()? {
            if let Some(df) = read_day_file(&self.dir, day, Some(vec![col.clone()]))? {
                let c = column(&df, &col)?.unique()?.cast(&DataType::String)?;
                out.extend(c.str()?.iter().flatten().map(str::to_string));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The asset column of the files, if any.
    fn asset_column_in(&self, schema: &Schema) -> Option<String> {
        match &self.asset_column {
            Some(a) => Some(a.clone()),
            None => schema.contains(ASSET).then(|| ASSET.to_string()),
        }
    }

    /// Writes (or replaces) `day` with `samples`, atomically.
    ///
    /// `samples` must have a Datetime `timestamp` column with every value
    /// inside the day; an `asset` column (string) if it is a farm; and
    /// numeric channels, all of which are written (as Float64).
    pub fn write_day(&self, day: Day, samples: &DataFrame) -> Result<()> {
        let mut cols = vec![utc_micros(samples, day)?];
        if let Ok(a) = samples.column(ASSET) {
            if a.null_count() > 0 {
                return Err(Error::data(
                    "samples",
                    format!(
                        "the `{ASSET}` column has {} NULL value(s); every sample needs its asset",
                        a.null_count()
                    ),
                ));
            }
            cols.insert(0, a.cast(&DataType::String)?);
        }
        let mut channels = 0;
        for c in samples.columns() {
            let name = c.name().as_str();
            if name == TIMESTAMP || name == ASSET {
                continue;
            }
            if !c.dtype().is_primitive_numeric() {
                return Err(Error::ColumnType {
                    column: name.to_string(),
                    found: c.dtype().to_string(),
                    expected: "a numeric type".into(),
                });
            }
            cols.push(c.cast(&DataType::Float64)?);
            channels += 1;
        }
        if channels == 0 {
            return Err(Error::data(
                "samples",
                format!(
                    "no numeric channel to write (columns: {})",
                    column_list(samples)
                ),
            ));
        }
        let mut df = DataFrame::new_infer_height(cols)?;
        write_atomic(&self.dir, day, &mut df)
    }
}

#[async_trait]
impl Extract for ParquetSource {
    fn describe(&self) -> String {
        format!("parquet:{}", self.dir.display())
    }

    /// The numeric columns of the files; the reference variables while the
    /// store is empty.
    fn variables(&self) -> Vec<String> {
        match self.schema() {
            Ok(Some(schema)) => {
                let asset = self.asset_column_in(&schema);
                schema
                    .iter()
                    .filter(|(n, dt)| {
                        n.as_str() != self.time_column
                            && Some(n.as_str()) != asset.as_deref()
                            && dt.is_primitive_numeric()
                    })
                    .map(|(n, _)| n.to_string())
                    .collect()
            }
            _ => SOURCE_VARIABLES.iter().map(|s| s.to_string()).collect(),
        }
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let known = self.variables();
        for v in variables {
            if !known.contains(v) {
                return Err(Error::UnknownVariable {
                    name: v.clone(),
                    known: known.join(", "),
                });
            }
        }
        let this = self.clone();
        let vars = variables.to_vec();
        tokio::task::spawn_blocking(move || this.extract_blocking(range, &vars))
            .await
            .map_err(|_| Error::Cancelled)?
    }
}

impl ParquetSource {
    fn extract_blocking(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let asset = match self.schema()? {
            Some(schema) => self.asset_column_in(&schema),
            None => None,
        };
        let mut columns = vec![self.time_column.clone()];
        columns.extend(asset.iter().cloned());
        columns.extend(variables.iter().cloned());
        let mut out: Option<DataFrame> = None;
        let mut day = Day::containing(range.start);
        while day.start() < range.end {
            if let Some(mut df) = read_day_file(&self.dir, day, Some(columns.clone()))? {
                // The standard names, whatever the files call them.
                if self.time_column != TIMESTAMP {
                    df.rename(&self.time_column, TIMESTAMP.into())?;
                }
                if let Some(zone) = self.naive_timezone {
                    let local = df.column(TIMESTAMP)?.clone();
                    df.replace(TIMESTAMP, naive_to_utc(&local, zone)?)?;
                }
                if let Some(a) = asset.as_deref().filter(|a| *a != ASSET) {
                    df.rename(a, ASSET.into())?;
                }
                if asset.is_some() {
                    let a = df.column(ASSET)?.cast(&DataType::String)?;
                    df.replace(ASSET, a)?;
                }
                let df = filter_range(&df, range)?;
                match out.as_mut() {
                    None => out = Some(df),
                    Some(acc) => {
                        acc.vstack_mut(&df)?;
                    }
                }
            }
            day = match day.succ() {
                Some(d) => d,
                None => break,
            };
        }
        match out {
            Some(df) => Ok(df),
            None => {
                let mut schema = Schema::default();
                schema.insert(
                    TIMESTAMP.into(),
                    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
                );
                if asset.is_some() {
                    schema.insert(ASSET.into(), DataType::String);
                }
                for v in variables {
                    schema.insert(v.as_str().into(), DataType::Float64);
                }
                Ok(DataFrame::empty_with_schema(&schema))
            }
        }
    }
}

impl ParquetTarget {
    /// The dataset in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParquetTarget { dir: dir.into() }
    }

    /// The dataset's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The days present, in order.
    pub fn days(&self) -> Result<Vec<Day>> {
        list_days(&self.dir)
    }

    /// The statistics of `day` in long form, or `None` if the day is not present.
    pub fn read_day(&self, day: Day) -> Result<Option<DataFrame>> {
        read_day_file(&self.dir, day, None)
    }

    /// The load record: `<dir>/.windcore-load.json`, hidden from Parquet
    /// readers, mapping `zone/day` to the fingerprint of each asset loaded.
    fn record_path(&self) -> PathBuf {
        self.dir.join(".windcore-load.json")
    }

    fn read_record(&self) -> Result<BTreeMap<String, Fingerprints>> {
        let path = self.record_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::io(
                    "reading",
                    &path,
                    std::io::Error::other(format!("not a windcore load record: {e}")),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }

    fn write_record(&self, record: &BTreeMap<String, Fingerprints>) -> Result<()> {
        let path = self.record_path();
        let tmp = self.dir.join(format!(
            ".windcore-load.json.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let bytes = serde_json::to_vec(record)
            .map_err(|e| Error::io("writing", &path, std::io::Error::other(e.to_string())))?;
        let result = (|| {
            let mut f = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
            std::io::Write::write_all(&mut f, &bytes).map_err(|e| Error::io("writing", &tmp, e))?;
            f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
            fs::rename(&tmp, &path).map_err(|e| Error::io("renaming into place", &path, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn load_blocking(
        &self,
        range: TimeRange,
        signals: &[String],
        stats: &DataFrame,
    ) -> Result<u64> {
        self.load_scoped_blocking(range, signals, None, stats, None)
    }

    /// Replaces the rows of `signals` (of the assets in `scope`, or all) in
    /// `range` with `stats`, day file by day file, then updates the load
    /// record. Each file is replaced atomically; the record is written last,
    /// so after a crash it can only be older than the data, and the next
    /// incremental run redoes the pair.
    fn load_scoped_blocking(
        &self,
        range: TimeRange,
        signals: &[String],
        scope: Option<&[String]>,
        stats: &DataFrame,
        record: Option<(Day, &str, &Fingerprints)>,
    ) -> Result<u64> {
        for name in [TIMESTAMP, SIGNAL, VALUE] {
            if stats.column(name).is_err() {
                return Err(Error::MissingColumn {
                    column: name.into(),
                    available: column_list(stats),
                });
            }
        }
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("creating", &self.dir, e))?;
        // Serialise read-modify-write cycles of concurrent loaders of this dataset.
        let lock_path = self.dir.join(".windcore.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("opening", &lock_path, e))?;
        lock.lock()
            .map_err(|e| Error::io("locking", &lock_path, e))?;

        let mut written = 0u64;
        let mut day = Day::containing(range.start);
        while day.start() < range.end {
            let day_range = TimeRange {
                start: range.start.max(day.start()),
                end: range.end.min(day.end()),
            };
            let old = read_day_file(&self.dir, day, None)?;
            // The long form carries the asset when the statistics (or the
            // day's earlier contents) have one.
            let with_asset = stats.column(ASSET).is_ok()
                || old.as_ref().is_some_and(|o| o.column(ASSET).is_ok());
            let new = filter_range(&normalize_long(stats, with_asset)?, day_range)?;
            let kept = match old {
                Some(old) => {
                    let old = normalize_long(&old, with_asset)?;
                    let ts = old
                        .column(TIMESTAMP)?
                        .as_materialized_series()
                        .datetime()?
                        .physical()
                        .clone();
                    let sig = old.column(SIGNAL)?.str()?.clone();
                    let asset = match old.column(ASSET) {
                        Ok(a) => Some(a.str()?.clone()),
                        Err(_) => None,
                    };
                    let (lo, hi) = (day_range.start_micros(), day_range.end_micros());
                    let keep: BooleanChunked = ts
                        .iter()
                        .zip(sig.iter())
                        .enumerate()
                        .map(|(i, (t, s))| {
                            let in_range = t.is_some_and(|t| lo <= t && t < hi);
                            let replaced = s.is_some_and(|s| signals.iter().any(|x| x == s));
                            let in_scope = scope.is_none_or(|sc| {
                                let a = asset.as_ref().and_then(|a| a.get(i)).unwrap_or("");
                                sc.iter().any(|x| x == a)
                            });
                            Some(!(in_range && replaced && in_scope))
                        })
                        .collect();
                    old.filter(&keep)?
                }
                None => new.clear(),
            };
            written += new.height() as u64;
            let mut merged = kept;
            merged.vstack_mut(&new)?;
            if merged.height() == 0 {
                remove_day_file(&self.dir, day)?;
            } else {
                let mut sorted = if with_asset {
                    merged.sort(
                        [ASSET, TIMESTAMP],
                        SortMultipleOptions::default().with_maintain_order(true),
                    )?
                } else {
                    let ts = merged.column(TIMESTAMP)?.as_materialized_series().clone();
                    let idx = ts.arg_sort(SortOptions {
                        maintain_order: true,
                        ..Default::default()
                    });
                    merged.take(&idx)?
                };
                write_atomic(&self.dir, day, &mut sorted)?;
            }
            day = match day.succ() {
                Some(d) => d,
                None => break,
            };
        }
        if let Some((day, zone, fps)) = record {
            let mut all = self.read_record()?;
            let entry = all.entry(format!("{zone}/{day}")).or_default();
            match scope {
                Some(assets) => entry.retain(|a, _| !assets.contains(a)),
                None => entry.clear(),
            }
            entry.extend(fps.iter().map(|(a, f)| (a.clone(), f.clone())));
            self.write_record(&all)?;
        }
        drop(lock);
        Ok(written)
    }
}

#[async_trait]
impl Load for ParquetTarget {
    fn describe(&self) -> String {
        format!("parquet:{}", self.dir.display())
    }

    async fn load(&self, range: TimeRange, signals: &[String], stats: &DataFrame) -> Result<u64> {
        let this = self.clone();
        let signals = signals.to_vec();
        let stats = stats.clone();
        tokio::task::spawn_blocking(move || this.load_blocking(range, &signals, &stats))
            .await
            .map_err(|_| Error::Cancelled)?
    }

    async fn load_scoped(&self, scope: LoadScope<'_>, stats: &DataFrame) -> Result<u64> {
        let this = self.clone();
        let signals = scope.signals.to_vec();
        let assets = scope.assets.map(|a| a.to_vec());
        let stats = stats.clone();
        let (day, zone, fps) = (
            scope.day,
            scope.zone.to_string(),
            scope.fingerprints.clone(),
        );
        let range = scope.range;
        tokio::task::spawn_blocking(move || {
            this.load_scoped_blocking(
                range,
                &signals,
                assets.as_deref(),
                &stats,
                Some((day, &zone, &fps)),
            )
        })
        .await
        .map_err(|_| Error::Cancelled)?
    }

    async fn loaded(&self, day: Day, zone: &str) -> Result<Option<Fingerprints>> {
        let this = self.clone();
        let key = format!("{zone}/{day}");
        tokio::task::spawn_blocking(move || {
            Ok(Some(this.read_record()?.remove(&key).unwrap_or_default()))
        })
        .await
        .map_err(|_| Error::Cancelled)?
    }
}

/// Long-form statistics with timestamps as UTC microseconds and Float64 values.
/// With `asset`: an `asset` column first (`''` for rows that have none).
fn normalize_long(df: &DataFrame, asset: bool) -> Result<DataFrame> {
    let ts = to_utc_micros(df.column(TIMESTAMP)?)?;
    let sig = df.column(SIGNAL)?.cast(&DataType::String)?;
    let val = df.column(VALUE)?.cast(&DataType::Float64)?;
    let mut cols = vec![ts, sig, val];
    if asset {
        let a = match df.column(ASSET) {
            Ok(a) => a.cast(&DataType::String)?,
            Err(_) => {
                Column::new_scalar(ASSET.into(), Scalar::from(PlSmallStr::EMPTY), df.height())
            }
        };
        cols.insert(0, a);
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

fn to_utc_micros(col: &Column) -> Result<Column> {
    match col.dtype() {
        DataType::Datetime(_, _) => {
            let target = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
            // Casting between units keeps the instant; re-labelling the zone is
            // free because polars stores instants in UTC.
            let phys = col
                .as_materialized_series()
                .datetime()?
                .physical()
                .clone()
                .into_datetime(col_unit(col), Some(TimeZone::UTC))
                .into_series();
            Ok(phys.cast(&target)?.into())
        }
        other => Err(Error::ColumnType {
            column: col.name().to_string(),
            found: other.to_string(),
            expected: "Datetime".into(),
        }),
    }
}

/// Naive local times of `zone` as UTC instants (see
/// [`Zone::instant_of_sample`]); a column that has a time zone already is
/// left as it is.
fn naive_to_utc(col: &Column, zone: Zone) -> Result<Column> {
    let DataType::Datetime(unit, None) = col.dtype() else {
        return Ok(col.clone());
    };
    let per_us = |v: i64| match unit {
        TimeUnit::Milliseconds => v * 1000,
        TimeUnit::Microseconds => v,
        TimeUnit::Nanoseconds => v.div_euclid(1000),
    };
    let phys = col.as_materialized_series().datetime()?.physical().clone();
    let out: Int64Chunked = phys
        .iter()
        .map(|v| {
            v.and_then(|v| chrono::DateTime::from_timestamp_micros(per_us(v)))
                .map(|t| zone.instant_of_sample(t.naive_utc()).timestamp_micros())
        })
        .collect();
    Ok(out
        .with_name(col.name().clone())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into())
}

fn col_unit(col: &Column) -> TimeUnit {
    match col.dtype() {
        DataType::Datetime(tu, _) => *tu,
        _ => TimeUnit::Microseconds,
    }
}

/// The timestamp column as UTC microseconds, checking that it lies inside `day`.
fn utc_micros(df: &DataFrame, day: Day) -> Result<Column> {
    let col = column(df, TIMESTAMP)?;
    let ts = to_utc_micros(col)?;
    if ts.null_count() > 0 {
        return Err(Error::NullTimestamps {
            column: TIMESTAMP.into(),
            nulls: ts.null_count(),
        });
    }
    let phys = ts.as_materialized_series().datetime()?.physical().clone();
    let (lo, hi) = (day.range().start_micros(), day.range().end_micros());
    if let Some(t) = phys.into_no_null_iter().find(|t| *t < lo || *t >= hi) {
        return Err(Error::data(
            "samples",
            format!("timestamp {t} µs since the epoch lies outside the day {day}"),
        ));
    }
    Ok(ts)
}

/// Rows with `range.start <= timestamp < range.end`.
fn filter_range(df: &DataFrame, range: TimeRange) -> Result<DataFrame> {
    let col = df.column(TIMESTAMP)?;
    let unit = col_unit(col);
    let (lo, hi) = match unit {
        TimeUnit::Milliseconds => (range.start.timestamp_millis(), range.end.timestamp_millis()),
        TimeUnit::Microseconds => (range.start_micros(), range.end_micros()),
        TimeUnit::Nanoseconds => (
            range.start.timestamp_nanos_opt().unwrap_or(i64::MIN),
            range.end.timestamp_nanos_opt().unwrap_or(i64::MAX),
        ),
    };
    let phys = col.as_materialized_series().datetime()?.physical().clone();
    if phys.iter().all(|t| t.is_some_and(|t| lo <= t && t < hi)) {
        return Ok(df.clone());
    }
    let mask: BooleanChunked = phys
        .iter()
        .map(|t| Some(t.is_some_and(|t| lo <= t && t < hi)))
        .collect();
    Ok(df.filter(&mask)?)
}

fn day_path(dir: &Path, day: Day) -> PathBuf {
    dir.join(format!("{day}.parquet"))
}

fn list_days(dir: &Path) -> Result<Vec<Day>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("listing", dir, e)),
    };
    let mut days = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".parquet") {
            if let Ok(day) = stem.parse::<Day>() {
                days.push(day);
            }
        }
    }
    days.sort();
    Ok(days)
}

fn read_day_file(dir: &Path, day: Day, columns: Option<Vec<String>>) -> Result<Option<DataFrame>> {
    let path = day_path(dir, day);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", &path, e)),
    };
    let df = ParquetReader::new(file)
        .with_columns(columns)
        .finish()
        .map_err(|e| Error::io("reading", &path, std::io::Error::other(e.to_string())))?;
    Ok(Some(df))
}

fn remove_day_file(dir: &Path, day: Day) -> Result<()> {
    let path = day_path(dir, day);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("removing", &path, e)),
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `df` as the file of `day`: temp file, fsync, rename, fsync directory.
fn write_atomic(dir: &Path, day: Day, df: &mut DataFrame) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let path = day_path(dir, day);
    let tmp = dir.join(format!(
        ".{day}.parquet.{}.{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut w = BufWriter::new(file);
        ParquetWriter::new(&mut w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map_err(|e| Error::io("writing", &tmp, std::io::Error::other(e.to_string())))?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io("writing", &tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io("renaming into place", &path, e))?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    } else {
        remove_stale_temp_files(dir, day);
    }
    result
}

/// Removes temp files of `day` left by writers that were killed (their process
/// is gone). Best effort: on systems without `/proc` nothing is removed.
fn remove_stale_temp_files(dir: &Path, day: Day) {
    let prefix = format!(".{day}.parquet.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let proc_root = Path::new("/proc");
        if pid != std::process::id()
            && proc_root.join("self").exists()
            && !proc_root.join(pid.to_string()).exists()
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Generator;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn source_round_trip_and_range_filter() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let src = store.source();
        assert!(src.days().unwrap().is_empty());
        let g = Generator::default();
        for d in ["2024-01-02", "2024-01-01"] {
            src.write_day(day(d), &g.day(day(d))).unwrap();
        }
        assert_eq!(
            src.days().unwrap(),
            vec![day("2024-01-01"), day("2024-01-02")]
        );
        let back = src.read_day(day("2024-01-01")).unwrap().unwrap();
        assert!(back.equals_missing(&g.day(day("2024-01-01"))));
        // A range across midnight: 23:00 .. 01:00.
        let r = TimeRange::new(
            day("2024-01-01").end() - chrono::TimeDelta::hours(1),
            day("2024-01-02").start() + chrono::TimeDelta::hours(1),
        )
        .unwrap();
        let got = src.extract(r, &["power".to_string()]).await.unwrap();
        assert_eq!(got.height(), 120);
        assert_eq!(got.width(), 2);
        let err = src.extract(r, &["rpm".to_string()]).await.unwrap_err();
        assert!(err.to_string().contains("unknown variable `rpm`"), "{err}");
        // No temp files left behind.
        let leftovers: Vec<_> = fs::read_dir(src.dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn stale_temp_files_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let src = LocalStore::new(dir.path()).source();
        fs::create_dir_all(src.dir()).unwrap();
        // pid 0 is never a live writer; our own pid's files are left alone.
        let dead = src.dir().join(".2024-01-01.parquet.0.7.tmp");
        let ours = src.dir().join(format!(
            ".2024-01-01.parquet.{}.999.tmp",
            std::process::id()
        ));
        fs::write(&dead, b"half").unwrap();
        fs::write(&ours, b"half").unwrap();
        src.write_day(
            day("2024-01-01"),
            &Generator::default().day(day("2024-01-01")),
        )
        .unwrap();
        assert!(!dead.exists());
        assert!(ours.exists());
    }

    #[test]
    fn source_rejects_samples_outside_the_day() {
        let dir = tempfile::tempdir().unwrap();
        let src = LocalStore::new(dir.path()).source();
        let g = Generator::default();
        let err = src
            .write_day(day("2024-01-02"), &g.day(day("2024-01-01")))
            .unwrap_err();
        assert!(
            err.to_string().contains("outside the day 2024-01-02"),
            "{err}"
        );
        assert!(src.days().unwrap().is_empty());
    }
}
