//! Statistics in long form as one Parquet file per UTC day: the target
//! side of the embedded store.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use polars::prelude::*;

use super::files::{list_days, read_day_file, remove_day_file, write_atomic};
use super::frame::to_utc_micros;
use super::record::LoadRecord;
use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;
use crate::frame::column_list;
use crate::frame::{within, NullTime};
use crate::schema::{ASSET, SIGNAL, TIMESTAMP, VALUE};
use crate::traits::{Load, LoadScope};

/// Statistics in long form as one Parquet file per UTC day.
#[derive(Debug, Clone)]
pub struct ParquetTarget {
    dir: PathBuf,
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

    fn load_blocking(
        &self,
        range: TimeRange,
        signals: &[String],
        stats: &DataFrame,
    ) -> Result<u64> {
        self.load_scoped_blocking(range, (signals, &[]), None, stats, None)
    }

    /// Replaces the rows of `signals` (of the assets in `scope`, or all) in
    /// `range` with `stats`, day file by day file, then updates the load
    /// record. Each file is replaced atomically; the record is written last,
    /// so after a crash it can only be older than the data, and the next
    /// incremental run redoes the pair.
    fn load_scoped_blocking(
        &self,
        range: TimeRange,
        (signals, prefixes): (&[String], &[String]),
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
            let new = within(
                &normalize_long(stats, with_asset)?,
                day_range,
                NullTime::Drop,
            )?
            .0;
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
                            let replaced = s.is_some_and(|s| {
                                signals.iter().any(|x| x == s)
                                    || prefixes.iter().any(|p| s.starts_with(p.as_str()))
                            });
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
                let mut sorted = if in_file_order(&merged, with_asset)? {
                    // The usual case (a fresh day, statistics as the
                    // resampler writes them): nothing to reorder.
                    merged
                } else if with_asset {
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
            LoadRecord::new(&self.dir).update(day, zone, scope, fps)?;
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
        let prefixes = scope.signal_prefixes.to_vec();
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
                (&signals, &prefixes),
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
        let zone = zone.to_string();
        tokio::task::spawn_blocking(move || {
            Ok(Some(LoadRecord::new(&this.dir).loaded(day, &zone)?))
        })
        .await
        .map_err(|_| Error::Cancelled)?
    }
}

/// Whether `df` is already in the order of a day file: by asset (when
/// `asset`), then timestamp, ties in their current order. One pass, so that
/// the sort is skipped in the usual case of a fresh day.
fn in_file_order(df: &DataFrame, asset: bool) -> Result<bool> {
    let ts = df
        .column(TIMESTAMP)?
        .as_materialized_series()
        .datetime()?
        .physical();
    if ts.null_count() > 0 {
        return Ok(false);
    }
    let ts = ts.rechunk();
    let ts = ts.cont_slice()?;
    if !asset {
        return Ok(ts.is_sorted());
    }
    let assets = df.column(ASSET)?.str()?;
    if assets.null_count() > 0 {
        return Ok(false);
    }
    let mut prev: Option<(&str, i64)> = None;
    for (a, &t) in assets.iter().map(|a| a.unwrap_or("")).zip(ts) {
        if let Some((pa, pt)) = prev {
            let ordered = match pa.cmp(a) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => pt <= t,
                std::cmp::Ordering::Greater => false,
            };
            if !ordered {
                return Ok(false);
            }
        }
        prev = Some((a, t));
    }
    Ok(true)
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
