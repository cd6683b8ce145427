//! What a source and a target hold, without running the ETL: the assets of a
//! source, the fingerprints of its days, the windows per (day, asset) of a
//! target. For orchestrators (Dask, Dagster) that plan work or check it, so
//! that they need no database driver of their own.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::TimeDelta;
use polars::prelude::*;

use crate::day::{Day, DayRange, TimeRange};
use crate::error::{Error, Result};
use crate::fingerprint::{self, Fingerprints};
use crate::location::Location;
use crate::postgres::{PostgresTarget, SourceLayout};
use crate::schema::{ASSET, SIGNAL, TIMESTAMP};
use crate::setting::Setting;
use crate::store::{LocalStore, ParquetTarget};
use crate::zone::Zone;

/// Local days a PostgreSQL target is read at a time (bounds the memory).
const TARGET_CHUNK_DAYS: u64 = 31;

/// The samples of one day of a source, fingerprinted (see [`day_fingerprints`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFingerprints {
    /// The day's samples (rows) over every asset; 0 for a day without samples.
    pub rows: u64,
    /// The fingerprint of each asset's samples (`""` for a source with one
    /// asset); empty for a day without samples.
    pub assets: Fingerprints,
}

/// The time range of the local days `days` of `zone`.
fn span(days: DayRange, zone: Zone) -> TimeRange {
    TimeRange {
        start: zone.day_range(days.first()).start,
        end: zone.day_range(days.last()).end,
    }
}

/// The distinct values of the `asset` column of `df` (`""` when it has none
/// and has rows).
fn assets_of(df: &DataFrame, out: &mut BTreeSet<String>) -> Result<()> {
    match df.column(ASSET) {
        Ok(a) => {
            for s in a.cast(&DataType::String)?.str()?.iter().flatten() {
                if !out.contains(s) {
                    out.insert(s.to_string());
                }
            }
        }
        Err(_) if df.height() > 0 => {
            out.insert(String::new());
        }
        Err(_) => {}
    }
    Ok(())
}

/// The assets with samples in the source at `location` laid out as
/// `layout`, sorted: on the local days `days` of `zone`, or (`None`) on any
/// day. `[""]` for a source with one asset and samples; empty without
/// samples.
///
/// For some days, a PostgreSQL source answers with one aggregate query (its
/// fingerprints, per asset) without moving the samples; the other sources
/// are read a day at a time. For every day, PostgreSQL lists the distinct
/// assets (by a loose index scan where the table has the index for it), the
/// embedded store reads the asset column of each day file.
pub async fn source_assets(
    location: &Location,
    layout: &SourceLayout,
    days: Option<DayRange>,
    zone: Zone,
) -> Result<Vec<String>> {
    let Some(days) = days else {
        let mut assets = location.source_assets(layout).await?;
        if assets.is_empty() && layout.asset_column.is_none() {
            let any = !location.source_days_layout(layout).await?.is_empty();
            if any {
                assets.push(String::new());
            }
        }
        return Ok(assets);
    };
    let source = location.open_source_layout(layout, 1).await?;
    if let Some(found) = source.fingerprints(span(days, zone), &[], None).await? {
        return Ok(found.into_keys().collect());
    }
    let mut out = BTreeSet::new();
    for day in days.iter() {
        let df = source.extract(zone.day_range(day), &[]).await?;
        assets_of(&df, &mut out)?;
    }
    Ok(out.into_iter().collect())
}

/// The [`DayFingerprints`] of each local day of `days` (in `zone`) of the
/// source at `location` laid out as `layout`: the same fingerprints an
/// incremental run compares (per asset, over the timestamp and `variables`;
/// `None`: every variable of the source), so any change of a sample of those
/// variables changes its day's. Every day of `days` is in the answer.
///
/// A PostgreSQL source computes them in the database (one aggregate query
/// for all of `days`); the other sources are read and fingerprinted here.
pub async fn day_fingerprints(
    location: &Location,
    layout: &SourceLayout,
    days: DayRange,
    zone: Zone,
    variables: Option<&[String]>,
) -> Result<BTreeMap<Day, DayFingerprints>> {
    let source = location.open_source_layout(layout, 1).await?;
    let variables = match variables {
        Some(v) => v.to_vec(),
        None => source.variables(),
    };
    let days: Vec<Day> = days.iter().collect();
    let ranges: Vec<TimeRange> = days.iter().map(|&d| zone.day_range(d)).collect();
    let mut at_once = source
        .fingerprints_of_ranges(&ranges, &variables, None)
        .await?
        .map(Vec::into_iter);
    let mut out = BTreeMap::new();
    for (day, range) in days.into_iter().zip(ranges) {
        let assets = match at_once.as_mut().and_then(Iterator::next) {
            Some(f) => f,
            None => fingerprint::of_frame(&source.extract(range, &variables).await?, &variables)?,
        };
        let mut rows = 0;
        for fp in assets.values() {
            rows += fingerprint::rows_of(fp)
                .ok_or_else(|| Error::data("fingerprints", format!("`{fp}` names no row count")))?;
        }
        out.insert(day, DayFingerprints { rows, assets });
    }
    Ok(out)
}

/// The windows per local day of `zone` and asset that the target at
/// `location` holds for `days`: the distinct window timestamps of any of
/// `signals` (`None`: of any signal). Windows are labelled `label_offset`
/// after their start (0, or the window length for end labels), so a day's
/// labels lie in its range shifted by that much. A (day, asset) without
/// windows is absent; the asset is `""` for a target with one asset.
///
/// A PostgreSQL target is read a month at a time, the embedded store a UTC
/// file at a time.
pub async fn target_windows(
    location: &Location,
    days: DayRange,
    zone: Zone,
    signals: Option<&[String]>,
    label_offset: TimeDelta,
) -> Result<BTreeMap<Day, BTreeMap<String, u64>>> {
    with_target(location, async |target| {
        windows_of(target, days, zone, signals, label_offset).await
    })
    .await
}

/// An open target of statistics, as [`windows_of`] reads it.
#[derive(Clone, Copy)]
pub(crate) enum StatsStore<'a> {
    /// A PostgreSQL target.
    Postgres(&'a PostgresTarget),
    /// The embedded store's target.
    Local(&'a ParquetTarget),
}

/// [`target_windows`] of an open target (the server's, or one just opened).
pub(crate) async fn windows_of(
    target: StatsStore<'_>,
    days: DayRange,
    zone: Zone,
    signals: Option<&[String]>,
    label_offset: TimeDelta,
) -> Result<BTreeMap<Day, BTreeMap<String, u64>>> {
    let mut seen: HashMap<(Day, String), HashSet<i64>> = HashMap::new();
    each_frame(target, days, zone, label_offset, |df| {
        count_windows(df, zone, signals, label_offset, days, &mut seen)
    })
    .await?;
    let mut out: BTreeMap<Day, BTreeMap<String, u64>> = BTreeMap::new();
    for ((day, asset), stamps) in seen {
        out.entry(day)
            .or_default()
            .insert(asset, stamps.len() as u64);
    }
    Ok(out)
}

/// Calls `f` with the statistics (long form, with or without `asset`) that
/// `target` holds for the local days `days` of `zone`, windows labelled
/// `label_offset` after their start, a part at a time: a PostgreSQL target
/// a month at a time, the embedded store a UTC file at a time. A part may
/// hold rows of neighbouring days (the embedded store's UTC files): `f`
/// keeps the windows of `days` only.
pub(crate) async fn each_frame(
    target: StatsStore<'_>,
    days: DayRange,
    zone: Zone,
    label_offset: TimeDelta,
    mut f: impl FnMut(&DataFrame) -> Result<()>,
) -> Result<()> {
    match target {
        StatsStore::Postgres(target) => {
            let mut first = days.first();
            loop {
                let last = first
                    .plus_days(TARGET_CHUNK_DAYS - 1)
                    .unwrap_or(days.last())
                    .min(days.last());
                let range = span(DayRange::new(first, last)?, zone);
                let df = target
                    .read_with_assets(TimeRange {
                        start: range.start + label_offset,
                        end: range.end + label_offset,
                    })
                    .await?;
                f(&df)?;
                match last.succ() {
                    Some(d) if last < days.last() => first = d,
                    _ => break,
                }
            }
        }
        StatsStore::Local(target) => {
            let target = target.clone();
            let range = span(days, zone);
            let (start, end) = (range.start + label_offset, range.end + label_offset);
            let files = utc_days(start, end);
            let found = tokio::task::spawn_blocking(move || read_files(&target, &files))
                .await
                .map_err(|_| Error::Cancelled)??;
            for df in &found {
                f(df)?;
            }
        }
    }
    Ok(())
}

/// An open target of `location`, for [`each_frame`]: `f` is called with it.
pub(crate) async fn with_target<T>(
    location: &Location,
    f: impl AsyncFnOnce(StatsStore<'_>) -> Result<T>,
) -> Result<T> {
    match location {
        Location::Postgres(url) => {
            let target = PostgresTarget::connect_with_pool_size(url, 1).await?;
            f(StatsStore::Postgres(&target)).await
        }
        Location::Local(dir) => {
            let target = LocalStore::new(dir).target();
            f(StatsStore::Local(&target)).await
        }
        Location::Http(_) | Location::Files(_) => Err(Error::config(
            Setting::Target,
            format!("{location} is a source only: it holds no statistics"),
        )),
    }
}

/// The UTC days (the embedded store's files) that `[start, end)` touches.
fn utc_days(start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> Vec<Day> {
    Zone::UTC.days_touching(TimeRange { start, end })
}

fn read_files(target: &ParquetTarget, files: &[Day]) -> Result<Vec<DataFrame>> {
    let mut out = Vec::with_capacity(files.len());
    for day in files {
        if let Some(df) = target.read_day(*day)? {
            out.push(df);
        }
    }
    Ok(out)
}

/// Adds the window stamps of `df` (statistics in long form, with or without
/// `asset`) of `signals` to `seen`, by the local day of their window's start,
/// keeping the days of `days` only.
fn count_windows(
    df: &DataFrame,
    zone: Zone,
    signals: Option<&[String]>,
    label_offset: TimeDelta,
    days: DayRange,
    seen: &mut HashMap<(Day, String), HashSet<i64>>,
) -> Result<()> {
    let ts = crate::frame::column(df, TIMESTAMP)?.cast(&DataType::Datetime(
        TimeUnit::Microseconds,
        Some(TimeZone::UTC),
    ))?;
    let ts = ts.as_materialized_series().datetime()?.physical().rechunk();
    let assets = match df.column(ASSET) {
        Ok(a) => Some(a.cast(&DataType::String)?.str()?.rechunk().into_owned()),
        Err(_) => None,
    };
    let names = match signals {
        Some(_) => Some(
            crate::frame::column(df, SIGNAL)?
                .cast(&DataType::String)?
                .str()?
                .rechunk()
                .into_owned(),
        ),
        None => None,
    };
    let offset = label_offset.num_microseconds().unwrap_or(0);
    for (i, t) in ts.iter().enumerate() {
        let Some(t) = t else { continue };
        if let (Some(wanted), Some(names)) = (signals, &names) {
            match names.get(i) {
                Some(s) if wanted.iter().any(|w| w == s) => {}
                _ => continue,
            }
        }
        let Some(start) = chrono::DateTime::from_timestamp_micros(t - offset) else {
            continue;
        };
        let day = zone.day_of(start);
        if day < days.first() || day > days.last() {
            continue;
        }
        let asset = assets.as_ref().and_then(|a| a.get(i)).unwrap_or("");
        seen.entry((day, asset.to_string())).or_default().insert(t);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Generator;

    fn days(a: &str, b: &str) -> DayRange {
        DayRange::new(a.parse().unwrap(), b.parse().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn assets_fingerprints_and_windows_of_the_embedded_store() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::Local(dir.path().to_path_buf());
        let layout = SourceLayout::default();
        let g = Generator::builder().turbines(3).build().unwrap();
        loc.init_source().await.unwrap();
        loc.generate_layout(&layout, days("2024-01-02", "2024-01-03"), &g, |_| {})
            .await
            .unwrap();

        let all = days("2024-01-01", "2024-01-04");
        let assets = source_assets(&loc, &layout, Some(all), Zone::UTC)
            .await
            .unwrap();
        assert_eq!(assets, ["T01", "T02", "T03"]);
        let every_day = source_assets(&loc, &layout, None, Zone::UTC).await.unwrap();
        assert_eq!(every_day, assets);
        assert!(source_assets(
            &loc,
            &layout,
            Some(days("2024-01-04", "2024-01-04")),
            Zone::UTC
        )
        .await
        .unwrap()
        .is_empty());

        let fp = day_fingerprints(&loc, &layout, all, Zone::UTC, None)
            .await
            .unwrap();
        assert_eq!(fp.len(), 4);
        let d = |s: &str| s.parse::<Day>().unwrap();
        assert_eq!(fp[&d("2024-01-01")], DayFingerprints::default());
        assert_eq!(fp[&d("2024-01-02")].rows, 3 * 1440);
        assert_eq!(fp[&d("2024-01-02")].assets.len(), 3);
        assert_ne!(fp[&d("2024-01-02")], fp[&d("2024-01-03")]);
        let power = ["power".to_string()];
        let narrow = day_fingerprints(&loc, &layout, all, Zone::UTC, Some(&power))
            .await
            .unwrap();
        assert_ne!(narrow[&d("2024-01-02")], fp[&d("2024-01-02")]);
        assert_eq!(narrow[&d("2024-01-02")].rows, 3 * 1440);

        // The ETL, then the windows: 144 per UTC day and turbine.
        crate::RunConfig::builder(loc.clone(), loc.clone())
            .days(crate::RunDays::Range(days("2024-01-02", "2024-01-03")))
            .build()
            .unwrap()
            .run(|_| {})
            .await
            .unwrap();
        let w = target_windows(&loc, all, Zone::UTC, None, TimeDelta::zero())
            .await
            .unwrap();
        assert_eq!(w.len(), 2);
        assert!(w
            .values()
            .all(|m| m.len() == 3 && m.values().all(|n| *n == 144)));
        // A local day of Berlin spans two UTC files: 23:00 to 23:00 UTC.
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let w = target_windows(&loc, all, berlin, None, TimeDelta::zero())
            .await
            .unwrap();
        let n = |day: &str| w.get(&d(day)).map(|m| m["T01"]).unwrap_or(0);
        assert_eq!(
            [
                n("2024-01-01"),
                n("2024-01-02"),
                n("2024-01-03"),
                n("2024-01-04")
            ],
            [0, 138, 144, 6]
        );
        // Signals that are not there count nothing.
        let none = ["rotor_rpm_mean".to_string()];
        assert!(
            target_windows(&loc, all, Zone::UTC, Some(&none), TimeDelta::zero())
                .await
                .unwrap()
                .is_empty()
        );
    }
}
