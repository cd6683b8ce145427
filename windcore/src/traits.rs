//! The extension points: where samples come from, how they are turned into
//! statistics, and where the statistics go.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use polars::prelude::DataFrame;

use crate::day::{Day, TimeRange};
use crate::error::Result;
use crate::fingerprint::Fingerprints;
use crate::report::{BadRows, Quality};
use crate::setting::Setting;

/// A source of raw samples.
///
/// Implement this to plug your own store into a [`Pipeline`](crate::Pipeline).
/// The returned DataFrame has a `timestamp` column (Datetime, any unit; UTC or
/// naive-as-UTC), an [`ASSET`](crate::ASSET) column (String) if the source
/// holds several assets, and one Float64 column per requested variable,
/// holding the samples with `range.start <= timestamp < range.end`. Order
/// does not matter.
#[async_trait]
pub trait Extract: Send + Sync {
    /// A short description for messages and progress, e.g. `postgres://user:***@host/db`.
    /// Never include a password.
    fn describe(&self) -> String;

    /// The variables this source can provide (e.g. `wind_speed`, `power`).
    fn variables(&self) -> Vec<String>;

    /// The samples of `variables` in `range`.
    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame>;

    /// The [`Fingerprints`] of the samples of `variables` in `range`, per
    /// asset (of `assets` only, when given), computed where the data lives so
    /// that checking a day for changes is cheap; `None` (the default) if this
    /// source cannot, in which case an incremental run extracts the day and
    /// fingerprints the frame.
    async fn fingerprints(
        &self,
        _range: TimeRange,
        _variables: &[String],
        _assets: Option<&[String]>,
    ) -> Result<Option<Fingerprints>> {
        Ok(None)
    }

    /// The [`fingerprints`](Self::fingerprints) of each of `ranges` (sorted
    /// by start, not overlapping), in one pass over the data where it lives:
    /// one [`Fingerprints`] per range, in order. An incremental run checks
    /// all its days this way before it reads any; `None` (the default) if
    /// this source cannot, in which case each day is checked on its own.
    async fn fingerprints_of_ranges(
        &self,
        _ranges: &[TimeRange],
        _variables: &[String],
        _assets: Option<&[String]>,
    ) -> Result<Option<Vec<Fingerprints>>> {
        Ok(None)
    }

    /// What a user should know about this source, once per run (e.g. a
    /// table read without an index on its time column). Default: nothing.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Rows of the source that are not samples and were left out (a file
    /// source's rows whose time or a number did not parse), with the first
    /// few. Default: none.
    fn bad_rows(&self) -> BadRows {
        BadRows::default()
    }

    /// Each asset's (of `assets` only, when given) last valid sample of each
    /// of `channels` in `[before - lookback, before)`: one row per (asset,
    /// channel), shaped like [`extract`](Self::extract)'s rows, the other
    /// channels NULL. The pipeline asks for the counters and state channels
    /// before each day. The default extracts that range and keeps the last
    /// valid sample per asset and channel
    /// ([`predecessor::last_valid`](crate::predecessor::last_valid)).
    async fn predecessors(
        &self,
        before: DateTime<Utc>,
        lookback: TimeDelta,
        channels: &[String],
        assets: Option<&[String]>,
    ) -> Result<DataFrame> {
        let range = TimeRange::new(before - lookback, before)?;
        let (df, _) = self.extract_fingerprinted(range, channels, assets).await?;
        crate::predecessor::last_valid(&df, channels)
    }

    /// [`extract`](Self::extract) of the rows of `assets` (all when `None`),
    /// together with the fingerprints of exactly the rows returned (the same
    /// snapshot), if the source computes them. The default extracts every
    /// asset and keeps those asked for.
    async fn extract_fingerprinted(
        &self,
        range: TimeRange,
        variables: &[String],
        assets: Option<&[String]>,
    ) -> Result<(DataFrame, Option<Fingerprints>)> {
        let df = self.extract(range, variables).await?;
        Ok(match assets {
            Some(a) => (crate::frame::only_assets(&df, a)?, None),
            None => (df, None),
        })
    }
}

/// What one scoped load replaces, and what it records.
#[derive(Debug, Clone, Copy)]
pub struct LoadScope<'a> {
    /// The reporting day, for the load record.
    pub day: Day,
    /// The time zone of the reporting day (IANA name), for the load record.
    pub zone: &'a str,
    /// The labels' range: rows with timestamps in it are replaced.
    pub range: TimeRange,
    /// The signals replaced.
    pub signals: &'a [String],
    /// Families of signals replaced as well: every signal whose name starts
    /// with one of these (a state channel's `status_seconds_`, whose states
    /// depend on the data), so that a state that is gone after a re-run
    /// leaves no rows behind. Targets without a load record ignore them.
    pub signal_prefixes: &'a [String],
    /// The assets replaced (`""` for a source with one asset); `None`: all.
    pub assets: Option<&'a [String]>,
    /// The fingerprints to record for the day: the assets in scope get these
    /// (an asset in scope without one loses its record).
    pub fingerprints: &'a Fingerprints,
}

/// Turns raw samples into statistics in long form (`timestamp`, `signal`,
/// `value`, preceded by an `asset` column when the samples have one).
///
/// Pure and synchronous: DataFrame in, DataFrame out. [`Resampler`](crate::Resampler)
/// is the implementation windcore ships.
pub trait Transform: Send + Sync {
    /// Statistics in long form for `samples`.
    fn transform(&self, samples: &DataFrame) -> Result<DataFrame>;

    /// Statistics in long form and the quality counters of the input (what
    /// was left out and why). The default counts only the samples.
    fn transform_with_quality(&self, samples: &DataFrame) -> Result<(DataFrame, Quality)> {
        let stats = self.transform(samples)?;
        Ok((
            stats,
            Quality {
                samples: samples.height() as u64,
                ..Quality::default()
            },
        ))
    }

    /// The channels whose samples this transform carries across day edges
    /// (counters, states): the pipeline reads them besides the variables,
    /// and hands the transform each asset's last valid sample of each before
    /// the day (see [`Extract::predecessors`]). Default: none.
    fn carried(&self) -> Vec<String> {
        Vec::new()
    }

    /// The statistics of the windows of `range` (one day): `samples` holds
    /// the day's samples and, before `range.start`, the predecessors of the
    /// [carried](Self::carried) channels. The default leaves the rows
    /// outside `range` out and calls [`transform_with_quality`](Self::transform_with_quality).
    fn transform_range(
        &self,
        samples: &DataFrame,
        range: TimeRange,
    ) -> Result<(DataFrame, Quality)> {
        let (inside, _) = crate::frame::within(samples, range, crate::frame::NullTime::Keep)?;
        self.transform_with_quality(&inside)
    }

    /// Prefixes of the signals this transform produces for `variables`
    /// whose names depend on the data (a state channel's
    /// `<s>_seconds_<state>`): a load replaces every signal that starts with
    /// one of them. Default: none.
    fn signal_prefixes(&self, _variables: &[String]) -> Vec<String> {
        Vec::new()
    }

    /// The names of every signal this transform can produce for `variables`;
    /// a load replaces exactly these signals.
    fn signal_names(&self, variables: &[String]) -> Vec<String>;

    /// The window length; the pipeline requires it to divide a day.
    fn every(&self) -> TimeDelta;

    /// The settings that shape the output (window, statistics, angles, ...),
    /// as text; part of every load fingerprint, so that changing them makes
    /// an incremental run recompute. Default: empty.
    fn settings(&self) -> String {
        String::new()
    }

    /// How far a window's label lies after its start: 0 for start labels
    /// (the default), the window length for end labels. The rows of a day's
    /// windows are labelled within the day's range shifted by this.
    fn label_offset(&self) -> TimeDelta {
        TimeDelta::zero()
    }
}

/// A sink for statistics.
///
/// Implement this to plug your own store into a [`Pipeline`](crate::Pipeline).
#[async_trait]
pub trait Load: Send + Sync {
    /// A short description for messages and progress. Never include a password.
    fn describe(&self) -> String;

    /// Replaces the rows of `signals` whose timestamp lies in `range` with
    /// `stats` (long form: `timestamp`, `signal`, `value`), atomically: after
    /// an error the previous contents are intact. Returns the rows written.
    async fn load(&self, range: TimeRange, signals: &[String], stats: &DataFrame) -> Result<u64>;

    /// Replaces the rows of `scope.signals` of the assets in scope whose
    /// timestamp lies in `scope.range` with `stats`, and records the day's
    /// fingerprints, atomically. Targets without a load record (the default)
    /// support whole-day scopes only, through [`load`](Self::load).
    async fn load_scoped(&self, scope: LoadScope<'_>, stats: &DataFrame) -> Result<u64> {
        match scope.assets {
            None => self.load(scope.range, scope.signals, stats).await,
            Some(_) => Err(crate::error::Error::config(
                Setting::Target,
                format!(
                    "{} keeps no load record, so it cannot replace single assets (incremental runs need a PostgreSQL or embedded target)",
                    self.describe()
                ),
            )),
        }
    }

    /// The fingerprints recorded for `day` in `zone`, per asset, or `None` if
    /// this target keeps no load record (the default).
    async fn loaded(&self, _day: Day, _zone: &str) -> Result<Option<Fingerprints>> {
        Ok(None)
    }

    /// [`loaded`](Self::loaded) for each of `days`, in one lookup where the
    /// target can (the default asks day by day): every day of `days` is in
    /// the answer (with no assets if it was never loaded), or `None` if this
    /// target keeps no load record.
    async fn loaded_days(
        &self,
        days: &[Day],
        zone: &str,
    ) -> Result<Option<BTreeMap<Day, Fingerprints>>> {
        let mut out = BTreeMap::new();
        for &day in days {
            match self.loaded(day, zone).await? {
                Some(f) => out.insert(day, f),
                None => return Ok(None),
            };
        }
        Ok(Some(out))
    }
}
