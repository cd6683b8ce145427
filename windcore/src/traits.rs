//! The extension points: where samples come from, how they are turned into
//! statistics, and where the statistics go.

use async_trait::async_trait;
use chrono::TimeDelta;
use polars::prelude::DataFrame;

use crate::day::TimeRange;
use crate::error::Result;
use crate::resample::Quality;

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

    /// The names of every signal this transform can produce for `variables`;
    /// a load replaces exactly these signals.
    fn signal_names(&self, variables: &[String]) -> Vec<String>;

    /// The window length; the pipeline requires it to divide a day.
    fn every(&self) -> TimeDelta;

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
}
