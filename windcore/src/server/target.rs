//! The statistics store behind `/signals`, `/coverage` and the ETL routes:
//! a PostgreSQL target or the embedded store's Parquet files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::frame::{within, NullTime};
use crate::inspect::{windows_of, StatsStore};
use crate::schema::day_file;
use crate::{
    Day, Load, ParquetTarget, PostgresTarget, TimeRange, Zone, ASSET, SIGNAL, TIMESTAMP, VALUE,
};

/// A target the server reads statistics from and runs the ETL into.
#[derive(Clone)]
pub(crate) enum StatsTarget {
    Postgres(PostgresTarget),
    Local(ParquetTarget),
}

impl StatsTarget {
    pub fn as_load(&self) -> Arc<dyn Load> {
        match self {
            StatsTarget::Postgres(t) => Arc::new(t.clone()),
            StatsTarget::Local(t) => Arc::new(t.clone()),
        }
    }

    /// Whether the statistics carry an asset (a farm). PostgreSQL: the
    /// reference layout's single asset, unless asked for.
    pub fn has_assets(&self) -> Result<bool> {
        match self {
            StatsTarget::Postgres(_) => Ok(false),
            StatsTarget::Local(t) => {
                let Some(day) = t.days()?.last().copied() else {
                    return Ok(false);
                };
                Ok(parquet_schema(t, day)?.is_some_and(|s| s.contains(ASSET)))
            }
        }
    }

    /// The statistics in `range` (within one UTC day for the embedded
    /// store's efficiency, any range works): `timestamp`, `[asset]`,
    /// `signal`, `value`, ordered by time.
    pub async fn read(&self, range: TimeRange, with_assets: bool) -> Result<DataFrame> {
        let df = match self {
            StatsTarget::Postgres(t) => {
                if with_assets {
                    t.read_with_assets(range).await?
                } else {
                    t.read(range).await?
                }
            }
            StatsTarget::Local(t) => {
                let t = t.clone();
                tokio::task::spawn_blocking(move || read_local(&t, range))
                    .await
                    .map_err(|_| Error::Cancelled)??
            }
        };
        with_asset_column(df, with_assets)
    }

    /// The distinct signal names, sorted.
    pub async fn signal_names(&self) -> Result<Vec<String>> {
        match self {
            StatsTarget::Postgres(t) => t.signal_names().await,
            StatsTarget::Local(t) => {
                let t = t.clone();
                tokio::task::spawn_blocking(move || {
                    let mut names = BTreeSet::new();
                    for day in t.days()? {
                        let Some(df) = read_columns(&t, day, &[SIGNAL])? else {
                            continue;
                        };
                        for s in df.column(SIGNAL)?.str()?.iter().flatten() {
                            if !names.contains(s) {
                                names.insert(s.to_string());
                            }
                        }
                    }
                    Ok(names.into_iter().collect())
                })
                .await
                .map_err(|_| Error::Cancelled)?
            }
        }
    }

    /// Windows present per local day of `zone` and asset (`""` for a single
    /// asset) from `first` to `last`: the distinct timestamps of any statistic
    /// ([`crate::inspect::target_windows`]'s count).
    pub async fn windows_per_day(
        &self,
        first: Day,
        last: Day,
        zone: Zone,
    ) -> Result<BTreeMap<Day, BTreeMap<String, u32>>> {
        let store = match self {
            StatsTarget::Postgres(t) => StatsStore::Postgres(t),
            StatsTarget::Local(t) => StatsStore::Local(t),
        };
        let days = crate::DayRange::new(first, last)?;
        let found = windows_of(store, days, zone, None, chrono::TimeDelta::zero()).await?;
        Ok(found
            .into_iter()
            .map(|(day, assets)| {
                let assets = assets.into_iter().map(|(a, n)| (a, n as u32)).collect();
                (day, assets)
            })
            .collect())
    }
}

impl StatsTarget {
    /// The availability per local day of `zone` and asset (`""` for a
    /// single asset) from `first` to `last`, from the windows' availability
    /// signals ([`crate::target_availability`]'s sums).
    pub async fn availability_per_day(
        &self,
        first: Day,
        last: Day,
        zone: Zone,
    ) -> Result<BTreeMap<Day, BTreeMap<String, crate::DayAvailability>>> {
        let store = match self {
            StatsTarget::Postgres(t) => StatsStore::Postgres(t),
            StatsTarget::Local(t) => StatsStore::Local(t),
        };
        let days = crate::DayRange::new(first, last)?;
        crate::availability::availability_of(store, days, zone, chrono::TimeDelta::zero()).await
    }
}

/// Adds `asset` (`""`) when wanted and missing, drops it when not wanted.
pub(crate) fn with_asset_column(df: DataFrame, want: bool) -> Result<DataFrame> {
    let has = df.column(ASSET).is_ok();
    Ok(match (want, has) {
        (true, false) => {
            let mut df = df;
            let n = df.height();
            df.with_column(Column::new_scalar(
                ASSET.into(),
                Scalar::new(DataType::String, AnyValue::StringOwned("".into())),
                n,
            ))?;
            df
        }
        (false, true) => df.drop(ASSET)?,
        _ => df,
    })
}

/// The rows whose asset is one of `assets` (all rows when `assets` is empty).
pub(crate) fn filter_assets(df: DataFrame, assets: &[String]) -> Result<DataFrame> {
    filter_text(df, ASSET, assets)
}

/// The rows whose `column` is one of `values` (all rows when `values` is empty).
pub(crate) fn filter_text(df: DataFrame, column: &str, values: &[String]) -> Result<DataFrame> {
    if values.is_empty() {
        return Ok(df);
    }
    let mask: BooleanChunked = df
        .column(column)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|s| Some(s.is_some_and(|s| values.iter().any(|v| v == s))))
        .collect();
    Ok(df.filter(&mask)?)
}

fn parquet_schema(t: &ParquetTarget, day: Day) -> Result<Option<Schema>> {
    let path = t.dir().join(day_file(day));
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", &path, e)),
    };
    let df = ParquetReader::new(file)
        .with_slice(Some((0, 0)))
        .finish()
        .map_err(|e| Error::io("reading", &path, std::io::Error::other(e.to_string())))?;
    Ok(Some(df.schema().as_ref().clone()))
}

fn read_columns(t: &ParquetTarget, day: Day, columns: &[&str]) -> Result<Option<DataFrame>> {
    let path = t.dir().join(day_file(day));
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", &path, e)),
    };
    let df = ParquetReader::new(file)
        .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
        .finish()
        .map_err(|e| Error::io("reading", &path, std::io::Error::other(e.to_string())))?;
    Ok(Some(df))
}

/// The embedded target's rows in `range`, ordered by time.
fn read_local(t: &ParquetTarget, range: TimeRange) -> Result<DataFrame> {
    let mut out: Option<DataFrame> = None;
    let mut day = Day::containing(range.start);
    while day.start() < range.end {
        if let Some(df) = t.read_day(day)? {
            let (df, _) = within(&df, range, NullTime::Drop)?;
            match out.as_mut() {
                None => out = Some(df),
                Some(acc) => {
                    let df = if acc.column(ASSET).is_ok() == df.column(ASSET).is_ok() {
                        df
                    } else {
                        with_asset_column(df, acc.column(ASSET).is_ok())?
                    };
                    acc.vstack_mut(&df.select(acc.get_column_names_owned())?)?;
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
            schema.insert(SIGNAL.into(), DataType::String);
            schema.insert(VALUE.into(), DataType::Float64);
            Ok(DataFrame::empty_with_schema(&schema))
        }
    }
}
