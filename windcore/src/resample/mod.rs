//! The 10-minute resampler: raw samples in, per-window statistics out.
//!
//! Conventions (see the crate docs): windows are half-open `[t, t + every)`,
//! aligned to the Unix epoch and labelled by their start `t`; statistics are
//! per key (asset) and window; NULL and NaN are not samples; a statistic that
//! is undefined (the std of one sample, anything of a window with fewer than
//! `min_count` valid samples) is absent, never 0.0; of several samples of one
//! key with the same timestamp the last one (in input order) is kept; angles
//! get circular statistics.

mod builder;
mod circular;
mod fresh;
mod kernel;
mod key_col;
mod keys;
mod linear;
mod output;
mod plan;
mod prepare;
mod record;
mod spec;
mod state_codes;
mod trig;

use chrono::TimeDelta;
use polars::prelude::*;

use crate::availability::Availability;
use crate::day::TimeRange;
use crate::error::Result;
use crate::report::Quality;
use crate::schema::ASSET;
use crate::traits::Transform;
use crate::zone::Zone;
use builder::dedup;
use record::Bounds;

pub use builder::ResamplerBuilder;
pub use spec::{format_every, parse_every, parse_stats, Label, Stat};

/// Turns raw samples into per-window statistics.
///
/// Input: a DataFrame with a `timestamp` column (Datetime in ms, us or ns; any
/// time zone, naive taken as UTC), optional key columns ([`by`](ResamplerBuilder::by):
/// string or integer, e.g. the turbine) and numeric variable columns.
///
/// Output, wide: the key columns, `timestamp` (Datetime, UTC, same unit), then
/// one column `<variable>_<stat>` per variable and statistic (Float64; `count`
/// is UInt32), one row per key and window that holds at least one input row;
/// long: the key columns, `timestamp`, `signal`, `value`, one row per defined
/// statistic. Rows are ordered by key, then time (then signal order).
///
/// Statistics of a linear variable: mean, min, max, sample std (ddof = 1,
/// exactly 0 when every sample is the same), count of valid samples. Of an
/// [angle](ResamplerBuilder::angles) in degrees: `mean` is the direction of
/// the mean unit vector, in `[0, 360)`; `std` is `sqrt(-2 ln R)` in degrees,
/// `R` being the length of the mean unit vector (`scipy.stats.circstd`);
/// `min` / `max` are the mean plus the most negative / positive deviation
/// `wrap180(θ − mean)`, taken into `[0, 360)`. A window whose vectors cancel
/// (`R < 1e-9`) has no angle mean, std, min or max.
///
/// A statistic other than `count` needs [`min_count`](ResamplerBuilder::min_count)
/// valid samples (std at least two); otherwise it is absent, never 0.0.
///
/// [Counters](ResamplerBuilder::counters) get `<c>_delta` and `<c>_last`,
/// [state channels](ResamplerBuilder::states) `<s>_seconds_<state>` and
/// `<s>_seconds_nodata`, and an [availability mapping](ResamplerBuilder::availability)
/// the [availability signals](crate::availability::SIGNALS); their columns
/// follow the analog ones, and a window that only a state's time reaches
/// (no sample of its own) gets a row too. One frame is one continuous
/// series per key; [`resample_long_within`](Self::resample_long_within)
/// computes one day whose predecessors lie before it.
///
/// Input whose rows come in runs of one key, each in time order, the runs of
/// a key following each other in time (grouped by key, or day after day with
/// the keys grouped within each day, in one chunk or several) is read as it
/// is; other input is sorted once by key and time (stable, so of equal
/// timestamps of one key the last in input order is kept). Then a fused
/// single pass computes every statistic of every variable at once, in
/// parallel over chunks of windows; where the timestamps are a constant step
/// apart, the windows' bounds need no search and several windows are summed
/// side by side. The standard deviation uses two passes over each window's
/// samples (mean, then squared deviations), which is numerically stable.
#[derive(Debug, Clone)]
pub struct Resampler {
    every_secs: i64,
    stats: Vec<Stat>,
    variables: Option<Vec<String>>,
    timestamp_column: String,
    by: Vec<String>,
    angles: Vec<String>,
    min_count: u32,
    label: Label,
    zone: Zone,
    counters: Vec<String>,
    states: Vec<String>,
    state_hold_secs: i64,
    availability: Option<Availability>,
}

impl Default for Resampler {
    /// 10-minute windows; mean, min, max, std; every numeric column.
    fn default() -> Self {
        ResamplerBuilder::default()
            .build()
            .expect("the default configuration is valid")
    }
}

impl Resampler {
    /// A builder with the defaults.
    pub fn builder() -> ResamplerBuilder {
        ResamplerBuilder::default()
    }

    /// Window length.
    pub fn every(&self) -> TimeDelta {
        TimeDelta::seconds(self.every_secs)
    }

    /// The statistics, in output order.
    pub fn stats(&self) -> &[Stat] {
        &self.stats
    }

    /// The configured variables, if any were chosen.
    pub fn variables(&self) -> Option<&[String]> {
        self.variables.as_deref()
    }

    /// The key columns.
    pub fn by(&self) -> &[String] {
        &self.by
    }

    /// The variables treated as angles in degrees.
    pub fn angles(&self) -> &[String] {
        &self.angles
    }

    /// The fewest valid samples a window needs for its statistics.
    pub fn min_count(&self) -> u32 {
        self.min_count
    }

    /// Which end of its interval labels a window.
    pub fn label(&self) -> Label {
        self.label
    }

    /// The time zone the windows line up with.
    pub fn timezone(&self) -> Zone {
        self.zone
    }

    /// The cumulative counters.
    pub fn counters(&self) -> &[String] {
        &self.counters
    }

    /// The state channels.
    pub fn states(&self) -> &[String] {
        &self.states
    }

    /// How long a state sample holds at most.
    pub fn state_hold(&self) -> TimeDelta {
        TimeDelta::seconds(self.state_hold_secs)
    }

    /// The availability mapping (its channel set), if any.
    pub fn availability(&self) -> Option<&Availability> {
        self.availability.as_ref()
    }

    /// The counters and state channels: what is carried across day edges.
    pub fn carried(&self) -> Vec<String> {
        self.counters.iter().chain(&self.states).cloned().collect()
    }

    /// The same resampler with another time zone.
    pub fn with_timezone(&self, zone: Zone) -> Self {
        let mut r = self.clone();
        r.zone = zone;
        r
    }

    /// The polars time zone of the output timestamps.
    fn out_tz(&self) -> Option<TimeZone> {
        if self.zone.is_utc() {
            Some(TimeZone::UTC)
        } else {
            TimeZone::opt_try_new(Some(PlSmallStr::from(self.zone.name())))
                .ok()
                .flatten()
                .or(Some(TimeZone::UTC))
        }
    }

    /// The same resampler with other key columns.
    pub fn with_by<S: Into<String>>(&self, by: impl IntoIterator<Item = S>) -> Self {
        let mut r = self.clone();
        r.by = dedup(by.into_iter().map(Into::into).collect());
        r
    }

    /// Signal names `<variable>_<stat>` produced for `variables`, in output order.
    ///
    /// Counters among them get `<c>_delta` and `<c>_last`; a state channel
    /// `<s>_seconds_nodata` (its `<s>_seconds_<state>` signals depend on the
    /// data); with an availability mapping, the availability signals follow.
    pub fn signal_names<S: AsRef<str>>(&self, variables: &[S]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in variables.iter().map(|v| v.as_ref()) {
            if self.counters.iter().any(|c| c == v) {
                out.extend(spec::counter_signals(v));
            } else if self.states.iter().any(|s| s == v) {
                out.push(spec::state_signal(v, spec::NODATA));
            } else {
                out.extend(self.stats.iter().map(|st| st.signal(v)));
            }
        }
        if self.availability.is_some() {
            out.extend(crate::availability::SIGNALS.iter().map(|s| s.to_string()));
        }
        out
    }

    /// Statistics in wide form: key columns, `timestamp`, then `<variable>_<stat>` columns.
    pub fn resample_wide(&self, df: &DataFrame) -> Result<DataFrame> {
        Ok(self.resample_wide_with_quality(df)?.0)
    }

    /// Statistics in long form: key columns, `timestamp`, `signal`, `value`,
    /// one row per defined statistic.
    pub fn resample_long(&self, df: &DataFrame) -> Result<DataFrame> {
        Ok(self.resample_long_with_quality(df)?.0)
    }

    /// [`resample_wide`](Self::resample_wide) and the [`Quality`] counters of the input.
    pub fn resample_wide_with_quality(&self, df: &DataFrame) -> Result<(DataFrame, Quality)> {
        self.wide(df, Bounds::default())
    }

    /// [`resample_long`](Self::resample_long) and the [`Quality`] counters of the input.
    pub fn resample_long_with_quality(&self, df: &DataFrame) -> Result<(DataFrame, Quality)> {
        self.long(df, Bounds::default())
    }

    /// Like [`resample_long_with_quality`](Self::resample_long_with_quality),
    /// for the windows of `range` only (one day): rows before `range.start`
    /// (the last samples of the counters and states before the day, see
    /// [`Extract::predecessors`](crate::Extract::predecessors)) only carry
    /// counters and states into the day, and a state's time ends at
    /// `range.end`.
    pub fn resample_long_within(
        &self,
        df: &DataFrame,
        range: TimeRange,
    ) -> Result<(DataFrame, Quality)> {
        self.long(df, Bounds::of_range(range, self.unit_of(df)?))
    }

    /// The time unit of the input's timestamp column (µs if it is not one).
    fn unit_of(&self, df: &DataFrame) -> Result<TimeUnit> {
        Ok(
            match crate::frame::column(df, &self.timestamp_column)?.dtype() {
                DataType::Datetime(tu, _) => *tu,
                _ => TimeUnit::Microseconds,
            },
        )
    }
}

impl Transform for Resampler {
    fn transform(&self, samples: &DataFrame) -> Result<DataFrame> {
        Ok(self.transform_with_quality(samples)?.0)
    }

    /// Samples with an [`ASSET`] column are resampled per asset unless
    /// other keys are configured.
    fn transform_with_quality(&self, samples: &DataFrame) -> Result<(DataFrame, Quality)> {
        if self.by.is_empty() && samples.column(ASSET).is_ok() {
            self.with_by([ASSET]).resample_long_with_quality(samples)
        } else {
            self.resample_long_with_quality(samples)
        }
    }

    fn carried(&self) -> Vec<String> {
        Resampler::carried(self)
    }

    fn transform_range(
        &self,
        samples: &DataFrame,
        range: TimeRange,
    ) -> Result<(DataFrame, Quality)> {
        if self.by.is_empty() && samples.column(ASSET).is_ok() {
            self.with_by([ASSET]).resample_long_within(samples, range)
        } else {
            self.resample_long_within(samples, range)
        }
    }

    fn signal_prefixes(&self, variables: &[String]) -> Vec<String> {
        variables
            .iter()
            .filter(|v| self.states.contains(v))
            .map(|s| spec::state_prefix(s))
            .collect()
    }

    fn signal_names(&self, variables: &[String]) -> Vec<String> {
        Resampler::signal_names(self, variables)
    }

    fn every(&self) -> TimeDelta {
        Resampler::every(self)
    }

    fn settings(&self) -> String {
        // (Unchanged for runs without counters and states: their load
        // records stay valid.)
        let base = format!(
            "every={};stats={};angles={};min_count={};label={};zone={};by={}",
            self.every_secs,
            self.stats
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(","),
            self.angles.join(","),
            self.min_count,
            self.label,
            self.zone,
            self.by.join(",")
        );
        if self.counters.is_empty() && self.states.is_empty() {
            return base;
        }
        format!(
            "{base};counters={};states={};hold={};availability={}",
            self.counters.join(","),
            self.states.join(","),
            self.state_hold_secs,
            self.availability
                .as_ref()
                .map(|a| a.settings())
                .unwrap_or_default()
        )
    }

    fn label_offset(&self) -> TimeDelta {
        self.label.offset(self.every())
    }
}

#[cfg(test)]
mod tests;
