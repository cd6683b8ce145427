//! The 10-minute resampler: raw samples in, per-window statistics out.
//!
//! Conventions (see the crate docs): windows are half-open `[t, t + every)`,
//! aligned to the Unix epoch and labelled by their start `t`; statistics are
//! per key (asset) and window; NULL and NaN are not samples; a statistic that
//! is undefined (the std of one sample, anything of a window with fewer than
//! `min_count` valid samples) is absent, never 0.0; of several samples of one
//! key with the same timestamp the last one (in input order) is kept; angles
//! get circular statistics.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use crate::error::{column, column_list, Error, Result};
use crate::traits::Transform;
use crate::zone::Zone;

/// Name of the timestamp column, in input and output.
pub const TIMESTAMP: &str = "timestamp";
/// Name of the signal column of the long form.
pub const SIGNAL: &str = "signal";
/// Name of the value column of the long form.
pub const VALUE: &str = "value";

/// One statistic computed per window and variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stat {
    /// Arithmetic mean of the valid samples.
    Mean,
    /// Smallest valid sample.
    Min,
    /// Largest valid sample.
    Max,
    /// Sample standard deviation (ddof = 1); absent with fewer than two samples.
    Std,
    /// Number of valid samples; absent when there is none.
    Count,
}

impl Stat {
    /// Every statistic, in canonical order.
    pub const ALL: [Stat; 5] = [Stat::Mean, Stat::Min, Stat::Max, Stat::Std, Stat::Count];
    /// The default set: mean, min, max and std, as in the reference system.
    pub const DEFAULT: [Stat; 4] = [Stat::Mean, Stat::Min, Stat::Max, Stat::Std];

    /// The name used in signal names (`power_std`).
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Std => "std",
            Stat::Count => "count",
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        Stat::ALL
            .into_iter()
            .find(|st| st.name() == t)
            .ok_or_else(|| {
                Error::config(
                    "stat",
                    format!("unknown statistic `{s}` (choose from mean, min, max, std, count)"),
                )
            })
    }
}

/// Parses a list like `mean,min,max` into statistics (duplicates removed, order kept).
pub fn parse_stats(list: &str) -> Result<Vec<Stat>> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let st: Stat = part.parse()?;
        if !out.contains(&st) {
            out.push(st);
        }
    }
    if out.is_empty() {
        return Err(Error::config("stat", "the list of statistics is empty"));
    }
    Ok(out)
}

/// Parses a window length such as `10m`, `10min`, `90s`, `1h`, `1h30m` or `1d`.
pub fn parse_every(s: &str) -> Result<TimeDelta> {
    let bad = |why: &str| {
        Error::config(
            "window length",
            format!("`{s}`: {why} (examples: 10m, 90s, 1h, 1d)"),
        )
    };
    let text = s.trim();
    if text.is_empty() {
        return Err(bad("empty"));
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "s" | "sec" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86_400,
            "" => return Err(bad("missing unit")),
            _ => return Err(bad(&format!("unknown unit `{unit}`"))),
        };
        total = n
            .checked_mul(secs)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| bad("too long"))?;
    }
    Ok(TimeDelta::seconds(total))
}

/// Formats a window length the way [`parse_every`] reads it.
pub fn format_every(every: TimeDelta) -> String {
    let s = every.num_seconds();
    if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Configures a [`Resampler`]; [`build`](ResamplerBuilder::build) validates.
/// Which end of its interval labels a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Label {
    /// The start `t` of `[t, t + every)` (pandas and polars defaults).
    #[default]
    Start,
    /// The end `t + every`, as many SCADA systems stamp 10-minute values.
    End,
}

impl Label {
    /// `start` or `end`.
    pub fn name(self) -> &'static str {
        match self {
            Label::Start => "start",
            Label::End => "end",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Label {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "start" | "left" => Ok(Label::Start),
            "end" | "right" => Ok(Label::End),
            _ => Err(Error::config(
                "label",
                format!("`{s}`: a window is labelled by its `start` or its `end`"),
            )),
        }
    }
}

/// Name of the asset (key) column that sources with several assets provide
/// and that the long form of the statistics carries.
pub const ASSET: &str = "asset";

/// What a resampling (or a pipeline day) met in its input: the quality
/// counters. Nothing is dropped silently: every sample a rule leaves out is
/// counted here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quality {
    /// Input rows (samples) read.
    pub samples: u64,
    /// Values (sample × variable) that are NULL or NaN, among the rows kept;
    /// they are not samples and are left out of every statistic.
    pub missing: u64,
    /// Rows dropped because a later row of the same asset has the same
    /// timestamp (the last one in input order is kept).
    pub duplicates: u64,
    /// (window, variable) pairs with fewer valid samples than `min_count`:
    /// their statistics other than `count` are absent.
    pub sparse_windows: u64,
    /// Rows outside the requested time range (counted by the pipeline, which
    /// leaves them out).
    pub outside: u64,
    /// Windows (per asset) that hold at least one input row.
    pub windows: u64,
}

impl Quality {
    /// Whether any rule left something out (missing values, duplicates,
    /// sparse windows or rows outside the range).
    pub fn has_issues(&self) -> bool {
        self.missing > 0 || self.duplicates > 0 || self.sparse_windows > 0 || self.outside > 0
    }
}

impl std::ops::AddAssign for Quality {
    fn add_assign(&mut self, o: Quality) {
        self.samples += o.samples;
        self.missing += o.missing;
        self.duplicates += o.duplicates;
        self.sparse_windows += o.sparse_windows;
        self.outside += o.outside;
        self.windows += o.windows;
    }
}

/// Configures a [`Resampler`]; [`build`](ResamplerBuilder::build) validates.
#[derive(Debug, Clone)]
pub struct ResamplerBuilder {
    every: TimeDelta,
    stats: Vec<Stat>,
    variables: Option<Vec<String>>,
    timestamp_column: String,
    by: Vec<String>,
    angles: Vec<String>,
    min_count: u32,
    label: Label,
    zone: Zone,
}

impl Default for ResamplerBuilder {
    fn default() -> Self {
        ResamplerBuilder {
            every: TimeDelta::minutes(10),
            stats: Stat::DEFAULT.to_vec(),
            variables: None,
            timestamp_column: TIMESTAMP.to_string(),
            by: Vec::new(),
            angles: Vec::new(),
            min_count: 1,
            label: Label::Start,
            zone: Zone::UTC,
        }
    }
}

impl ResamplerBuilder {
    /// Window length: whole seconds from 1 minute to 1 day. Default 10 minutes.
    pub fn every(mut self, every: TimeDelta) -> Self {
        self.every = every;
        self
    }

    /// Statistics to compute, in output order. Default mean, min, max, std.
    pub fn stats(mut self, stats: impl IntoIterator<Item = Stat>) -> Self {
        self.stats = stats.into_iter().collect();
        self
    }

    /// Variables (columns) to aggregate. Default: every numeric column but the
    /// timestamp and the key columns.
    pub fn variables<S: Into<String>>(mut self, vars: impl IntoIterator<Item = S>) -> Self {
        self.variables = Some(vars.into_iter().map(Into::into).collect());
        self
    }

    /// Name of the timestamp column. Default `timestamp`.
    pub fn timestamp_column(mut self, name: impl Into<String>) -> Self {
        self.timestamp_column = name.into();
        self
    }

    /// Key columns (string or integer): statistics are computed per key and
    /// window, and duplicates are detected per key. Default: none (one series).
    pub fn by<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.by = cols.into_iter().map(Into::into).collect();
        self
    }

    /// Variables that are angles in degrees (wind direction, nacelle position):
    /// their statistics are circular (see [`Resampler`]). Default: none.
    pub fn angles<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.angles = cols.into_iter().map(Into::into).collect();
        self
    }

    /// Fewest valid samples a window needs for its statistics (other than
    /// `count`, which is always given); at least 1. Default 1.
    pub fn min_count(mut self, n: u32) -> Self {
        self.min_count = n;
        self
    }

    /// Which end of its interval labels a window. Default [`Label::Start`].
    pub fn label(mut self, label: Label) -> Self {
        self.label = label;
        self
    }

    /// The time zone whose clock the windows line up with (and in which the
    /// output timestamps are shown). Default UTC. Windows of 10 minutes in a
    /// whole-hour or half-hour zone are the same as in UTC; in a zone such
    /// as Asia/Kathmandu (+05:45) they start at :05, :15, ... UTC.
    pub fn timezone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<Resampler> {
        let secs = self.every.num_seconds();
        if self.every.subsec_nanos() != 0 || !(60..=86_400).contains(&secs) {
            return Err(Error::config(
                "window length",
                format!(
                    "{} is outside 1 minute .. 1 day or not a whole number of seconds",
                    self.every
                ),
            ));
        }
        if self.stats.is_empty() {
            return Err(Error::config("stat", "the list of statistics is empty"));
        }
        if self.min_count == 0 {
            return Err(Error::config(
                "min_count",
                "must be at least 1 (a statistic needs a sample)",
            ));
        }
        let mut stats = Vec::with_capacity(self.stats.len());
        for st in self.stats {
            if !stats.contains(&st) {
                stats.push(st);
            }
        }
        let by = dedup(self.by);
        let angles = dedup(self.angles);
        if let Some(k) = by.iter().find(|k| **k == self.timestamp_column) {
            return Err(Error::config(
                "by",
                format!("`{k}` is the timestamp column, not a key"),
            ));
        }
        if let Some(vars) = &self.variables {
            if vars.is_empty() {
                return Err(Error::config("variables", "the list of variables is empty"));
            }
            if let Some(v) = vars.iter().find(|v| **v == self.timestamp_column) {
                return Err(Error::config(
                    "variables",
                    format!("`{v}` is the timestamp column, not a variable"),
                ));
            }
            if let Some(v) = vars.iter().find(|v| by.contains(v)) {
                return Err(Error::config(
                    "variables",
                    format!("`{v}` is a key column (by), not a variable"),
                ));
            }
            if let Some(a) = angles.iter().find(|a| !vars.contains(a)) {
                return Err(Error::config(
                    "angles",
                    format!(
                        "`{a}` is not among the variables ({}); an angle must be one of them",
                        vars.join(", ")
                    ),
                ));
            }
        }
        if let Some(a) = angles
            .iter()
            .find(|a| **a == self.timestamp_column || by.contains(a))
        {
            return Err(Error::config(
                "angles",
                format!("`{a}` is the timestamp or a key column, not a variable"),
            ));
        }
        Ok(Resampler {
            every_secs: secs,
            stats,
            variables: self.variables.map(dedup),
            timestamp_column: self.timestamp_column,
            by,
            angles,
            min_count: self.min_count,
            label: self.label,
            zone: self.zone,
        })
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for s in v {
        let s = s.trim().to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

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
}

impl Default for Resampler {
    /// 10-minute windows; mean, min, max, std; every numeric column.
    fn default() -> Self {
        ResamplerBuilder::default()
            .build()
            .expect("the default configuration is valid")
    }
}

/// Rows `lo..hi` of input chunk `chunk` (of the prepared columns), all of one
/// key and in time order.
#[derive(Debug, Clone, Copy)]
struct Run {
    chunk: usize,
    lo: usize,
    hi: usize,
}

/// The rows of one key: the prepared runs `first..first + len`, which follow
/// each other in time, and the row of the key columns that holds its values.
#[derive(Debug, Clone, Copy)]
struct Segment {
    first: usize,
    len: usize,
    key_row: IdxSize,
}

/// The prepared input of one resampling: sorted timestamps and f64 variables.
struct Prepared {
    unit: TimeUnit,
    grid: Grid,
    rows: usize,
    ts: Int64Chunked,
    vars: Vec<(String, Float64Chunked, bool)>,
    /// With keys: the key columns of the input, the segments (one per key,
    /// in key order) and their runs of rows.
    keys: Option<(DataFrame, Vec<Segment>, Vec<Run>)>,
}

/// Output of the kernel: window starts, their segment (with keys), and one
/// column per (variable, stat), variable-major. NaN marks an absent statistic.
struct Windows {
    starts: Vec<i64>,
    segs: Vec<u32>,
    cols: Vec<Vec<f64>>,
    quality: Quality,
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
    pub fn signal_names<S: AsRef<str>>(&self, variables: &[S]) -> Vec<String> {
        variables
            .iter()
            .flat_map(|v| {
                self.stats
                    .iter()
                    .map(move |st| format!("{}_{}", v.as_ref(), st.name()))
            })
            .collect()
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
        let prep = self.prepare(df)?;
        let win = self.compute(&prep);
        let mut columns: Vec<Column> = Vec::with_capacity(1 + win.cols.len());
        if let Some((keys, segs, _)) = &prep.keys {
            columns.extend(key_columns(keys, segs, &win.segs, |_| 1)?);
        }
        let ts = Int64Chunked::from_vec(self.timestamp_column.as_str().into(), win.starts)
            .into_datetime(prep.unit, self.out_tz());
        columns.push(ts.into_series().into());
        let mut cols = win.cols.into_iter();
        for (var, _, _) in &prep.vars {
            for st in &self.stats {
                let vals = cols.next().expect("one column per variable and stat");
                let name = PlSmallStr::from(format!("{var}_{}", st.name()));
                columns.push(stat_column(name, vals, *st));
            }
        }
        Ok((DataFrame::new_infer_height(columns)?, win.quality))
    }

    /// [`resample_long`](Self::resample_long) and the [`Quality`] counters of the input.
    pub fn resample_long_with_quality(&self, df: &DataFrame) -> Result<(DataFrame, Quality)> {
        let prep = self.prepare(df)?;
        let win = self.compute(&prep);
        let names: Vec<String> = self.signal_names(
            &prep
                .vars
                .iter()
                .map(|(v, _, _)| v.as_str())
                .collect::<Vec<_>>(),
        );
        let n_est = win.starts.len() * names.len();
        let mut ts = Vec::with_capacity(n_est);
        let mut sig: Vec<&str> = Vec::with_capacity(n_est);
        let mut val = Vec::with_capacity(n_est);
        let mut per_window: Vec<u32> = Vec::new();
        let keyed = prep.keys.is_some();
        if keyed {
            per_window.reserve(win.starts.len());
        }
        for (i, start) in win.starts.iter().enumerate() {
            let before = ts.len();
            for (c, name) in win.cols.iter().zip(&names) {
                let v = c[i];
                if !v.is_nan() {
                    ts.push(*start);
                    sig.push(name.as_str());
                    val.push(v);
                }
            }
            if keyed {
                per_window.push((ts.len() - before) as u32);
            }
        }
        let mut columns: Vec<Column> = Vec::with_capacity(3 + self.by.len());
        if let Some((keys, segs, _)) = &prep.keys {
            columns.extend(key_columns(keys, segs, &win.segs, |w| per_window[w])?);
        }
        let ts = Int64Chunked::from_vec(self.timestamp_column.as_str().into(), ts)
            .into_datetime(prep.unit, self.out_tz());
        columns.push(ts.into_series().into());
        columns.push(Column::new(SIGNAL.into(), sig));
        columns.push(Column::new(VALUE.into(), val));
        Ok((DataFrame::new_infer_height(columns)?, win.quality))
    }

    /// Validates and normalises the input: picks the columns, casts variables
    /// to f64, finds the runs of each key, and sorts (stable) by key and
    /// timestamp when the input is not in that order already.
    fn prepare(&self, df: &DataFrame) -> Result<Prepared> {
        let tcol = column(df, &self.timestamp_column)?;
        let unit = match tcol.dtype() {
            DataType::Datetime(tu, _) => *tu,
            other => {
                return Err(Error::ColumnType {
                    column: self.timestamp_column.clone(),
                    found: other.to_string(),
                    expected: "Datetime (ms, us or ns; UTC, another time zone, or naive = UTC)"
                        .into(),
                })
            }
        };
        if tcol.null_count() > 0 {
            return Err(Error::NullTimestamps {
                column: self.timestamp_column.clone(),
                nulls: tcol.null_count(),
            });
        }
        for k in &self.by {
            let col = column(df, k)?;
            if !(col.dtype().is_integer() || matches!(col.dtype(), DataType::String)) {
                return Err(Error::ColumnType {
                    column: k.clone(),
                    found: col.dtype().to_string(),
                    expected: "a string or integer key (cast categoricals to string)".into(),
                });
            }
        }
        let var_names: Vec<String> = match &self.variables {
            Some(v) => v.clone(),
            None => df
                .columns()
                .iter()
                .filter(|c| {
                    let n = c.name().as_str();
                    n != self.timestamp_column
                        && !self.by.iter().any(|k| k == n)
                        && c.dtype().is_primitive_numeric()
                })
                .map(|c| c.name().to_string())
                .collect(),
        };
        for a in &self.angles {
            if !var_names.contains(a) {
                return Err(Error::MissingColumn {
                    column: a.clone(),
                    available: column_list(df),
                });
            }
        }
        let mut vars = Vec::with_capacity(var_names.len());
        for name in var_names {
            let col = column(df, &name)?;
            if !col.dtype().is_primitive_numeric() {
                return Err(Error::ColumnType {
                    column: name,
                    found: col.dtype().to_string(),
                    expected: "a numeric type (float or integer)".into(),
                });
            }
            let f = col.as_materialized_series().cast(&DataType::Float64)?;
            let angle = self.angles.contains(&name);
            vars.push((name, f.f64()?.clone(), angle));
        }
        let mut ts = tcol.as_materialized_series().datetime()?.physical().clone();
        let per_sec = match unit {
            TimeUnit::Milliseconds => 1_000,
            TimeUnit::Microseconds => 1_000_000,
            TimeUnit::Nanoseconds => 1_000_000_000,
        };
        let every = self.every_secs * per_sec;
        // Windows line up with the local clock: shifted by the UTC offset
        // modulo the window length (0 for UTC and whole-hour zones with
        // windows that divide an hour).
        // (The bounds cost two passes over the timestamps: only off UTC.)
        let bounds = if self.zone.is_utc() {
            None
        } else {
            ts.min().zip(ts.max())
        };
        let shift = match bounds {
            Some((lo, hi)) => {
                let at = |v: i64| {
                    chrono::DateTime::from_timestamp(v.div_euclid(per_sec), 0).unwrap_or_default()
                };
                let range = crate::day::TimeRange {
                    start: at(lo),
                    end: at(hi) + TimeDelta::seconds(1),
                };
                self.zone.window_shift(range, self.every())? * per_sec
            }
            None => 0,
        };
        let grid = Grid { every, shift };
        let rows = df.height();
        // The kernel reads the input chunks in place when every column is cut
        // the same way (the usual case: a frame read from Parquet or received
        // over Arrow); otherwise the columns are made contiguous first.
        let lengths: Vec<usize> = ts.chunk_lengths().collect();
        if vars
            .iter()
            .any(|(_, v, _)| !v.chunk_lengths().eq(lengths.iter().copied()))
        {
            ts.rechunk_mut();
            for (_, v, _) in vars.iter_mut() {
                v.rechunk_mut();
            }
        }
        if !self.by.is_empty() {
            // The runs of rows of one key (in time order) are read in place;
            // input that is not in runs the kernel can read is sorted by key
            // and time.
            let keys = df.select(self.by.iter().map(|s| s.as_str()))?;
            let (perm, segs, runs) = group_rows(&keys, &self.by, &ts)?;
            if let Some(idx) = perm {
                reorder(&mut ts, &mut vars, &idx)?;
            }
            return Ok(Prepared {
                unit,
                grid,
                rows,
                ts,
                vars,
                keys: Some((keys, segs, runs)),
            });
        }
        if !is_sorted(&ts) {
            let idx = ts.arg_sort(SortOptions {
                descending: false,
                nulls_last: false,
                multithreaded: true,
                maintain_order: true,
                limit: None,
            });
            reorder(&mut ts, &mut vars, &idx)?;
        }
        Ok(Prepared {
            unit,
            grid,
            rows,
            ts,
            vars,
            keys: None,
        })
    }

    fn compute(&self, prep: &Prepared) -> Windows {
        let grid = prep.grid;
        let per_part = rayon::current_num_threads() * 4;
        fn var_in(ca: &Float64Chunked, ci: usize, angle: bool) -> VarIn<'_> {
            let a = ca.downcast_get(ci).expect("columns are cut alike");
            VarIn {
                values: a.values().as_slice(),
                validity: a.validity().filter(|b| b.unset_bits() > 0),
                angle,
            }
        }
        // The input chunks (every column is cut alike).
        let chunks: Vec<(&[i64], Vec<VarIn<'_>>)> = prep
            .ts
            .downcast_iter()
            .enumerate()
            .map(|(ci, a)| {
                let vars = prep
                    .vars
                    .iter()
                    .map(|(_, ca, angle)| var_in(ca, ci, *angle))
                    .collect();
                (a.values().as_slice(), vars)
            })
            .collect();
        // Each series (the whole input, or one key) is a sequence of row
        // ranges in time order: the inside of each range is read in place; a
        // window cut by a range boundary is gathered into a straddle.
        let mut plan: Vec<Planned<'_>> = Vec::new();
        let mut straddles: Vec<Straddle> = Vec::new();
        let keyed = prep.keys.is_some();
        if let Some((_, segs, runs)) = &prep.keys {
            for (si, s) in segs.iter().enumerate() {
                let ranges: Vec<Range<'_>> = runs[s.first..s.first + s.len]
                    .iter()
                    .map(|r| Range {
                        ts: chunks[r.chunk].0,
                        vars: &chunks[r.chunk].1,
                        lo: r.lo,
                        hi: r.hi,
                    })
                    .collect();
                plan_parts(&ranges, grid, si as u32, &mut plan, &mut straddles);
            }
        } else {
            let ranges: Vec<Range<'_>> = chunks
                .iter()
                .filter(|(ts, _)| !ts.is_empty())
                .map(|(ts, vars)| Range {
                    ts,
                    vars,
                    lo: 0,
                    hi: ts.len(),
                })
                .collect();
            plan_parts(&ranges, grid, 0, &mut plan, &mut straddles);
        }
        // Pieces for the threads: the inside of a range is cut on window
        // boundaries (keyed: in proportion to its share of the rows).
        let total_rows = prep.rows.max(1);
        let mut pieces: Vec<Piece<'_>> = Vec::with_capacity(plan.len());
        for part in &plan {
            match *part {
                Planned::Interior {
                    ts,
                    vars,
                    lo,
                    hi,
                    seg,
                } => {
                    let parts = if keyed {
                        (per_part * (hi - lo)).div_ceil(total_rows)
                    } else {
                        per_part
                    };
                    for (a, b) in chunk_bounds(&ts[lo..hi], grid, parts) {
                        pieces.push(Piece {
                            ts,
                            vars: vars.to_vec(),
                            lo: lo + a,
                            hi: lo + b,
                            seg,
                        });
                    }
                }
                Planned::Straddle { k, seg } => {
                    let s = &straddles[k];
                    pieces.push(Piece {
                        ts: &s.ts,
                        vars: s
                            .values
                            .iter()
                            .zip(&s.validity)
                            .zip(&prep.vars)
                            .map(|((values, validity), (_, _, angle))| VarIn {
                                values,
                                validity: validity.as_ref(),
                                angle: *angle,
                            })
                            .collect(),
                        lo: 0,
                        hi: s.ts.len(),
                        seg,
                    });
                }
            }
        }
        let cfg = KernelConfig {
            grid,
            label_shift: match self.label {
                Label::Start => 0,
                Label::End => grid.every,
            },
            stats: &self.stats,
            want_std: self.stats.contains(&Stat::Std),
            min_count: self.min_count as usize,
        };
        let n_stats = self.stats.len();
        let n_cols = prep.vars.len() * n_stats;
        // Count the windows of each piece first, so every piece writes straight
        // into its own part of the final columns (no per-piece buffers to concatenate).
        let scans: Vec<(usize, Option<i64>)> = pieces
            .par_iter()
            .map(|p| scan_piece(p.ts, p.lo, p.hi, grid))
            .collect();
        let total: usize = scans.iter().map(|s| s.0).sum();
        let mut out = Windows {
            starts: uninit_vec(total),
            segs: if keyed { uninit_vec(total) } else { Vec::new() },
            cols: (0..n_cols).map(|_| uninit_vec(total)).collect(),
            quality: Quality::default(),
        };
        let mut tasks = Vec::with_capacity(pieces.len());
        {
            let mut starts_rest: &mut [i64] = &mut out.starts;
            let mut segs_rest: &mut [u32] = &mut out.segs;
            let mut cols_rest: Vec<&mut [f64]> =
                out.cols.iter_mut().map(|c| c.as_mut_slice()).collect();
            for (piece, (n, step)) in pieces.iter().zip(&scans) {
                let (head, tail) = std::mem::take(&mut starts_rest).split_at_mut(*n);
                starts_rest = tail;
                let segs = if keyed {
                    let (h, t) = std::mem::take(&mut segs_rest).split_at_mut(*n);
                    segs_rest = t;
                    h
                } else {
                    &mut [][..]
                };
                let mut heads = Vec::with_capacity(n_cols);
                for c in cols_rest.iter_mut() {
                    let (h, t) = std::mem::take(c).split_at_mut(*n);
                    heads.push(h);
                    *c = t;
                }
                tasks.push((piece, *step, head, segs, heads));
            }
        }
        let quality = tasks
            .into_par_iter()
            .map(|(p, step, starts, segs, mut cols)| kernel(p, step, &cfg, starts, segs, &mut cols))
            .reduce(Quality::default, |mut a, b| {
                a += b;
                a
            });
        out.quality = quality;
        out.quality.samples = prep.rows as u64;
        out.quality.windows = total as u64;
        out
    }
}

/// The timestamps and the variables in the order `idx` gives, contiguous.
fn reorder(
    ts: &mut Int64Chunked,
    vars: &mut [(String, Float64Chunked, bool)],
    idx: &IdxCa,
) -> Result<()> {
    *ts = ts.take(idx)?;
    ts.rechunk_mut();
    for (_, v, _) in vars.iter_mut() {
        *v = v.take(idx)?;
        v.rechunk_mut();
    }
    Ok(())
}

/// A vector of `n` values that the kernel overwrites in full.
fn uninit_vec<T: Copy + Default>(n: usize) -> Vec<T> {
    // Zeroed allocation is lazily mapped by the OS for large sizes, so this
    // costs no extra pass over the memory.
    vec![T::default(); n]
}

/// The contiguous values of a single-chunk array.
fn ts_slice(ts: &Int64Chunked) -> &[i64] {
    ts.downcast_iter()
        .next()
        .map(|a| a.values().as_slice())
        .unwrap_or(&[])
}

/// The key columns of the output: for output row `r` of window `w`, the key
/// of the window's segment; each window is repeated `rows_of(w)` times.
fn key_columns(
    keys: &DataFrame,
    segs: &[Segment],
    win_segs: &[u32],
    rows_of: impl Fn(usize) -> u32,
) -> Result<Vec<Column>> {
    let mut idx: Vec<IdxSize> = Vec::with_capacity(win_segs.len());
    for (w, s) in win_segs.iter().enumerate() {
        let row = segs[*s as usize].key_row;
        for _ in 0..rows_of(w) {
            idx.push(row);
        }
    }
    let idx = IdxCa::from_vec(PlSmallStr::EMPTY, idx);
    Ok(keys.take(&idx)?.into_columns())
}

/// One key value, for telling runs of keys apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyVal {
    Null,
    Int(i64),
    Str(String),
}

/// The key columns as comparable values.
enum KeyCol {
    Int(Int64Chunked),
    Str(StringChunked),
}

impl KeyCol {
    fn new(col: &Column) -> Result<Self> {
        Ok(if matches!(col.dtype(), DataType::String) {
            KeyCol::Str(col.str()?.clone())
        } else {
            KeyCol::Int(
                col.as_materialized_series()
                    .cast(&DataType::Int64)?
                    .i64()?
                    .clone(),
            )
        })
    }

    fn get(&self, i: usize) -> KeyVal {
        match self {
            KeyCol::Int(c) => c.get(i).map_or(KeyVal::Null, KeyVal::Int),
            KeyCol::Str(c) => c
                .get(i)
                .map_or(KeyVal::Null, |s| KeyVal::Str(s.to_string())),
        }
    }

    /// Marks in `starts` every row whose key differs from the previous row's.
    fn mark_changes(&self, starts: &mut [bool]) {
        match self {
            KeyCol::Int(c) => {
                let mut prev: Option<Option<i64>> = None;
                for (i, v) in c.iter().enumerate() {
                    if prev.is_some_and(|p| p != v) {
                        starts[i] = true;
                    }
                    prev = Some(v);
                }
            }
            KeyCol::Str(c) => {
                let mut prev: Option<Option<&str>> = None;
                let mut row = 0;
                for arr in c.downcast_iter() {
                    if polars_arrow::array::Array::null_count(arr) > 0 {
                        for (i, v) in arr.iter().enumerate() {
                            if prev.is_some_and(|p| p != v) {
                                starts[row + i] = true;
                            }
                            prev = Some(v);
                        }
                    } else {
                        // A string equal to the previous row's has, most of
                        // the time, the same view (length, bytes or buffer
                        // position): equal views mean equal strings, so only
                        // differing views need their strings compared.
                        let views = arr.views().as_slice();
                        for (i, view) in views.iter().enumerate() {
                            if i > 0 && views[i - 1].as_u128() == view.as_u128() {
                                continue;
                            }
                            // SAFETY: `i` is in bounds of this array.
                            let v = Some(unsafe { arr.value_unchecked(i) });
                            if prev.is_some_and(|p| p != v) {
                                starts[row + i] = true;
                            }
                            prev = Some(v);
                        }
                    }
                    row += arr.len();
                }
            }
        }
    }
}

/// The most runs of equal keys the in-place path takes: beyond this, input
/// is sorted instead (every run becomes a piece of work of its own).
fn max_runs(rows: usize) -> usize {
    (rows / 64).max(100_000)
}

/// Finds the rows of each key. Input whose rows come in runs of one key, each
/// run in time order and the runs of a key following each other in time
/// (grouped by key, or day after day with the keys grouped within a day), is
/// read in place: returns the runs (within the chunks of `ts`) and the
/// segments. Otherwise returns the permutation that sorts the input by key and
/// time (stable), the segments, and one run per segment in the permuted
/// (contiguous) rows. Segments come in key order.
fn group_rows(
    keys: &DataFrame,
    by: &[String],
    ts: &Int64Chunked,
) -> Result<(Option<IdxCa>, Vec<Segment>, Vec<Run>)> {
    let n = ts.len();
    if n == 0 {
        return Ok((None, Vec::new(), Vec::new()));
    }
    let cols: Vec<KeyCol> = keys
        .columns()
        .iter()
        .map(KeyCol::new)
        .collect::<Result<_>>()?;
    let key_of = |row: usize| -> Vec<KeyVal> { cols.iter().map(|c| c.get(row)).collect() };
    if let Some(found) = runs_in_place(&cols, ts, &key_of) {
        return Ok(found);
    }
    // General case: the groups of equal keys (hash-based, in polars), each
    // sorted by time (stable), in key order.
    let contiguous = ts.rechunk();
    let ts = ts_slice(&contiguous);
    let gb = keys.group_by_stable(by.iter().map(|s| s.as_str()))?;
    let groups: Vec<Vec<IdxSize>> = match &**gb.get_groups() {
        GroupsType::Idx(g) => g.all().iter().map(|v| v.to_vec()).collect(),
        GroupsType::Slice { groups, .. } => groups
            .iter()
            .map(|[first, len]| (*first..*first + *len).collect())
            .collect(),
    };
    let mut order: Vec<(Vec<KeyVal>, Vec<IdxSize>)> = groups
        .into_par_iter()
        .map(|mut rows| {
            if !rows
                .windows(2)
                .all(|w| ts[w[0] as usize] <= ts[w[1] as usize])
            {
                rows.sort_by_key(|r| ts[*r as usize]); // stable
            }
            (key_of(rows[0] as usize), rows)
        })
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let mut perm: Vec<IdxSize> = Vec::with_capacity(n);
    let mut segs = Vec::with_capacity(order.len());
    let mut runs = Vec::with_capacity(order.len());
    for (_, rows) in order {
        let lo = perm.len();
        segs.push(Segment {
            first: runs.len(),
            len: 1,
            key_row: rows[0],
        });
        runs.push(Run {
            chunk: 0,
            lo,
            hi: lo + rows.len(),
        });
        perm.extend_from_slice(&rows);
    }
    Ok((Some(IdxCa::from_vec(PlSmallStr::EMPTY, perm)), segs, runs))
}

/// The in-place grouping of [`group_rows`], if the input allows it: runs of
/// equal keys (cut at chunk boundaries too), each in time order, and the runs
/// of each key, ordered by their first timestamp, in time order as well. Where
/// the last row of one run and the first of the next run of the key have the
/// same timestamp, the later run must also come later in the input (so that
/// of equal timestamps the last one in input order is kept, as when sorting).
#[allow(clippy::type_complexity)]
fn runs_in_place(
    cols: &[KeyCol],
    ts: &Int64Chunked,
    key_of: &dyn Fn(usize) -> Vec<KeyVal>,
) -> Option<(Option<IdxCa>, Vec<Segment>, Vec<Run>)> {
    let n = ts.len();
    let mut change = vec![false; n];
    for c in cols {
        c.mark_changes(&mut change);
    }
    // Runs start where the key changes and at every chunk start.
    let chunks: Vec<&[i64]> = ts.downcast_iter().map(|a| a.values().as_slice()).collect();
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut off = 0;
    for c in &chunks {
        offsets.push(off);
        if off < n {
            change[off] = true;
        }
        off += c.len();
    }
    let limit = max_runs(n);
    // (first row of the run in the input, run)
    let mut runs: Vec<(usize, Run)> = Vec::new();
    let mut ci = 0;
    let mut start = 0;
    let ends = change
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, c)| **c)
        .map(|(i, _)| i)
        .chain(std::iter::once(n));
    for end in ends {
        while offsets[ci] + chunks[ci].len() <= start {
            ci += 1;
        }
        let base = offsets[ci];
        let run = Run {
            chunk: ci,
            lo: start - base,
            hi: end - base,
        };
        let r = &chunks[ci][run.lo..run.hi];
        if !r.windows(2).all(|w| w[0] <= w[1]) || runs.len() == limit {
            return None;
        }
        runs.push((start, run));
        start = end;
    }
    drop(change);
    // The runs of each key, in input order.
    let mut index: std::collections::HashMap<Vec<KeyVal>, usize> = std::collections::HashMap::new();
    let mut members: Vec<(Vec<KeyVal>, Vec<usize>)> = Vec::new();
    for (ri, (row, _)) in runs.iter().enumerate() {
        let key = key_of(*row);
        match index.get(&key) {
            Some(k) => members[*k].1.push(ri),
            None => {
                index.insert(key.clone(), members.len());
                members.push((key, vec![ri]));
            }
        }
    }
    drop(index);
    let first = |ri: usize| {
        let r = runs[ri].1;
        chunks[r.chunk][r.lo]
    };
    let last = |ri: usize| {
        let r = runs[ri].1;
        chunks[r.chunk][r.hi - 1]
    };
    for (_, m) in members.iter_mut() {
        if m.len() > 1 {
            m.sort_by_key(|ri| first(*ri)); // stable: input order among equals
            let ordered = m.windows(2).all(|w| {
                let (a, b) = (last(w[0]), first(w[1]));
                a < b || (a == b && w[0] < w[1])
            });
            if !ordered {
                return None;
            }
        }
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut segs = Vec::with_capacity(members.len());
    let mut out = Vec::with_capacity(runs.len());
    for (_, m) in members {
        segs.push(Segment {
            first: out.len(),
            len: m.len(),
            key_row: runs[m[0]].0 as IdxSize,
        });
        out.extend(m.iter().map(|ri| runs[*ri].1));
    }
    Some((None, segs, out))
}

/// Whether the timestamps are in non-decreasing order, across chunks too.
fn is_sorted(ts: &Int64Chunked) -> bool {
    let mut prev = i64::MIN;
    for a in ts.downcast_iter() {
        let v = a.values().as_slice();
        let Some(&first) = v.first() else { continue };
        // In parallel over blocks that overlap by one row.
        let sorted = v.par_chunks(1 << 16).enumerate().all(|(b, block)| {
            let before = if b == 0 { first } else { v[(b << 16) - 1] };
            before <= block[0] && block.windows(2).all(|w| w[0] <= w[1])
        });
        if first < prev || !sorted {
            return false;
        }
        prev = v[v.len() - 1];
    }
    true
}

/// Rows `lo..hi` of one input chunk (every column cut alike).
struct Range<'a> {
    ts: &'a [i64],
    vars: &'a [VarIn<'a>],
    lo: usize,
    hi: usize,
}

/// Whole windows of one series (segment `seg`) in output order: the rows
/// `lo..hi` of an input chunk, or a window whose rows lie in several ranges
/// (gathered into the [`Straddle`] `k`).
enum Planned<'a> {
    Interior {
        ts: &'a [i64],
        vars: &'a [VarIn<'a>],
        lo: usize,
        hi: usize,
        seg: u32,
    },
    Straddle {
        k: usize,
        seg: u32,
    },
}

/// The rows of one window whose samples lie in more than one input chunk,
/// copied together (a window is small; the chunks themselves are not copied).
#[derive(Default)]
struct Straddle {
    ts: Vec<i64>,
    values: Vec<Vec<f64>>,
    validity: Vec<Option<Bitmap>>,
}

/// Growing [`Straddle`]: its window, rows and validity bits.
struct Carry {
    window: i64,
    ts: Vec<i64>,
    values: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
}

impl Carry {
    fn new(window: i64, n_vars: usize) -> Self {
        Carry {
            window,
            ts: Vec::new(),
            values: vec![Vec::new(); n_vars],
            valid: vec![Vec::new(); n_vars],
        }
    }

    fn push(&mut self, ts: &[i64], vars: &[VarIn<'_>], lo: usize, hi: usize) {
        self.ts.extend_from_slice(&ts[lo..hi]);
        for (k, v) in vars.iter().enumerate() {
            self.values[k].extend_from_slice(&v.values[lo..hi]);
            self.valid[k].extend((lo..hi).map(|i| v.validity.is_none_or(|b| b.get_bit(i))));
        }
    }

    fn finish(self) -> Straddle {
        Straddle {
            ts: self.ts,
            values: self.values,
            validity: self
                .valid
                .into_iter()
                .map(|bits| {
                    (!bits.iter().all(|b| *b)).then(|| Bitmap::from_iter(bits.iter().copied()))
                })
                .collect(),
        }
    }
}

/// Cuts a series given as non-empty row ranges in time order (the chunks of
/// the input, or the runs of one key) into parts that each hold whole
/// windows, appended to `plan`: the inside of every range is read in place; a
/// window cut by a range boundary becomes a [`Straddle`], appended to
/// `straddles`.
fn plan_parts<'a>(
    ranges: &[Range<'a>],
    grid: Grid,
    seg: u32,
    plan: &mut Vec<Planned<'a>>,
    straddles: &mut Vec<Straddle>,
) {
    let n_vars = ranges.first().map_or(0, |r| r.vars.len());
    let mut carry: Option<Carry> = None;
    for (ri, r) in ranges.iter().enumerate() {
        let (ts, vars) = (r.ts, r.vars);
        let mut lo = r.lo;
        if let Some(c) = carry.as_mut() {
            while lo < r.hi && grid.id(ts[lo]) == c.window {
                lo += 1;
            }
            c.push(ts, vars, r.lo, lo);
            if lo == r.hi {
                continue; // the whole range lies in the carried window
            }
            plan.push(Planned::Straddle {
                k: straddles.len(),
                seg,
            });
            straddles.push(carry.take().expect("carry").finish());
        }
        // A last window that goes on in the next range is carried over.
        let last = grid.id(ts[r.hi - 1]);
        let mut hi = r.hi;
        if ranges
            .get(ri + 1)
            .is_some_and(|next| grid.id(next.ts[next.lo]) == last)
        {
            while hi > lo && grid.id(ts[hi - 1]) == last {
                hi -= 1;
            }
            let mut c = Carry::new(last, n_vars);
            c.push(ts, vars, hi, r.hi);
            carry = Some(c);
        }
        if lo < hi {
            plan.push(Planned::Interior {
                ts,
                vars,
                lo,
                hi,
                seg,
            });
        }
    }
    if let Some(c) = carry {
        plan.push(Planned::Straddle {
            k: straddles.len(),
            seg,
        });
        straddles.push(c.finish());
    }
}

/// Whole windows of sorted rows `lo..hi` over contiguous slices.
struct Piece<'a> {
    ts: &'a [i64],
    vars: Vec<VarIn<'a>>,
    lo: usize,
    hi: usize,
    /// The segment (key) the rows belong to; 0 without keys.
    seg: u32,
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

    fn signal_names(&self, variables: &[String]) -> Vec<String> {
        Resampler::signal_names(self, variables)
    }

    fn every(&self) -> TimeDelta {
        Resampler::every(self)
    }

    fn settings(&self) -> String {
        format!(
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
        )
    }

    fn label_offset(&self) -> TimeDelta {
        match self.label {
            Label::Start => TimeDelta::zero(),
            Label::End => self.every(),
        }
    }
}

/// Builds an output column from kernel values, NaN meaning absent.
fn stat_column(name: PlSmallStr, vals: Vec<f64>, st: Stat) -> Column {
    let validity = if vals.par_iter().any(|v| v.is_nan()) {
        Some(Bitmap::from_iter(vals.iter().map(|v| !v.is_nan())))
    } else {
        None
    };
    if st == Stat::Count {
        let counts: Vec<u32> = vals
            .iter()
            .map(|v| if v.is_nan() { 0 } else { *v as u32 })
            .collect();
        UInt32Chunked::from_vec_validity(name, counts, validity)
            .into_series()
            .into()
    } else {
        Float64Chunked::from_vec_validity(name, vals, validity)
            .into_series()
            .into()
    }
}

#[derive(Clone, Copy)]
struct VarIn<'a> {
    values: &'a [f64],
    validity: Option<&'a Bitmap>,
    angle: bool,
}

/// Where windows start: at `k * every - shift` (in the input's time unit),
/// `shift` lining windows up with a local clock whose UTC offset is not a
/// multiple of the window length.
#[derive(Clone, Copy, Debug)]
struct Grid {
    every: i64,
    shift: i64,
}

impl Grid {
    /// The window number of `t`.
    #[inline]
    fn id(self, t: i64) -> i64 {
        (t + self.shift).div_euclid(self.every)
    }

    /// The start of the window of `t`.
    #[inline]
    fn start(self, t: i64) -> i64 {
        self.id(t) * self.every - self.shift
    }
}

/// What the kernel computes, shared by every piece.
struct KernelConfig<'a> {
    grid: Grid,
    /// Added to each window start for its label: 0, or `every` for end labels.
    label_shift: i64,
    stats: &'a [Stat],
    want_std: bool,
    min_count: usize,
}

/// Splits `0..ts.len()` into about `parts` ranges that start on window boundaries.
fn chunk_bounds(ts: &[i64], grid: Grid, parts: usize) -> Vec<(usize, usize)> {
    let n = ts.len();
    if n == 0 {
        return Vec::new();
    }
    // Small inputs are not worth the threads.
    let parts = parts.clamp(1, n.div_ceil(1 << 16));
    let step = n.div_ceil(parts);
    let mut bounds = Vec::with_capacity(parts);
    let mut lo = 0;
    while lo < n {
        let mut hi = (lo + step).min(n);
        if hi < n {
            let w = grid.id(ts[hi - 1]);
            while hi < n && grid.id(ts[hi]) == w {
                hi += 1;
            }
        }
        bounds.push((lo, hi));
        lo = hi;
    }
    bounds
}

/// Rows a block of the regularity check reads before it may stop early.
const SCAN_BLOCK: usize = 4096;

/// The number of windows in the sorted rows `lo..hi`, and their step if the
/// rows are regular: timestamps a constant step apart that divides the window
/// length (then every window but the first and the last holds
/// `every / step` rows, and none is empty in between).
fn scan_piece(ts: &[i64], lo: usize, hi: usize, grid: Grid) -> (usize, Option<i64>) {
    let r = &ts[lo..hi];
    if r.len() >= 2 {
        let step = r[1].wrapping_sub(r[0]);
        // (The bounds keep `start + l * every` of the kernel far from overflow.)
        let in_range = r[0] > i64::MIN / 4 && r[r.len() - 1] < i64::MAX / 4;
        if step > 0 && grid.every % step == 0 && in_range {
            let mut regular = true;
            let mut from = 0;
            while regular && from + 1 < r.len() {
                let to = (from + SCAN_BLOCK).min(r.len() - 1);
                let bad = r[from + 1..=to]
                    .iter()
                    .zip(&r[from..to])
                    .fold(0i64, |acc, (b, a)| acc | (b.wrapping_sub(*a) ^ step));
                regular = bad == 0;
                from = to;
            }
            if regular {
                let windows = grid.id(r[r.len() - 1]) - grid.id(r[0]) + 1;
                return (windows as usize, Some(step));
            }
        }
    }
    (count_windows(ts, lo, hi, grid), None)
}

/// Number of windows in the sorted rows `lo..hi`.
fn count_windows(ts: &[i64], lo: usize, hi: usize, grid: Grid) -> usize {
    let mut n = 0;
    let mut i = lo;
    while i < hi {
        let last = grid.start(ts[i]).saturating_add(grid.every - 1);
        i += 1;
        while i < hi && ts[i] <= last {
            i += 1;
        }
        n += 1;
    }
    n
}

/// The fused single pass over the sorted rows `lo..hi` of a piece (which
/// start and end on window boundaries): every statistic of every variable,
/// one window at a time, written to `starts[k]`, `segs[k]` (keyed input) and
/// `cols[variable * stats + stat][k]` for the k-th window of the piece.
/// Returns the quality counters of the piece.
fn kernel(
    p: &Piece<'_>,
    step: Option<i64>,
    cfg: &KernelConfig<'_>,
    starts: &mut [i64],
    segs: &mut [u32],
    cols: &mut [&mut [f64]],
) -> Quality {
    let ts = p.ts;
    let n_stats = cfg.stats.len();
    let mut q = Quality::default();
    let mut buf: Vec<f64> = Vec::new();
    let mut i = p.lo;
    let mut k = 0;
    // Regular rows (see `scan_piece`): after the first window, whole windows
    // of `w` rows each follow each other, LANES at a time: their bounds and
    // starts need no search, and the linear statistics of the LANES windows
    // are summed side by side (each window's sums in its own row order, so
    // the numbers are those of `linear`).
    let w = step.map_or(0, |s| (cfg.grid.every / s) as usize);
    while i < p.hi {
        if w > 0 && k > 0 && i + LANES * w <= p.hi {
            let start = cfg.grid.start(ts[i]);
            for l in 0..LANES {
                starts[k + l] = start + l as i64 * cfg.grid.every + cfg.label_shift;
                if !segs.is_empty() {
                    segs[k + l] = p.seg;
                }
            }
            for (vi, var) in p.vars.iter().enumerate() {
                let block = &var.values[i..i + LANES * w];
                let accs: [Acc; LANES] = match (var.validity, var.angle) {
                    (None, false) => linear_lanes_dense(block, w, cfg.want_std),
                    // Most blocks of a column with a few nulls have none.
                    (Some(b), false) if all_valid(b, i, LANES * w) => {
                        linear_lanes_dense(block, w, cfg.want_std)
                    }
                    (Some(b), false) => linear_lanes(
                        block,
                        w,
                        |r, x| {
                            // SAFETY: the validity bitmap has one bit per row of `values`.
                            if unsafe { b.get_bit_unchecked(i + r) } {
                                x
                            } else {
                                f64::NAN
                            }
                        },
                        cfg.want_std,
                    ),
                    (_, true) => std::array::from_fn(|l| {
                        let a = i + l * w;
                        accumulate(ts, var, a, a + w, false, cfg.want_std, &mut buf)
                    }),
                };
                let base = vi * n_stats;
                for (l, acc) in accs.iter().enumerate() {
                    q.missing += (w - acc.n) as u64;
                    let enough = acc.n >= cfg.min_count;
                    if !enough {
                        q.sparse_windows += 1;
                    }
                    for (si, st) in cfg.stats.iter().enumerate() {
                        cols[base + si][k + l] = stat_value(*st, acc, enough);
                    }
                }
            }
            k += LANES;
            i += LANES * w;
            continue;
        }
        let start = cfg.grid.start(ts[i]);
        let last = start.saturating_add(cfg.grid.every - 1);
        let mut j = i + 1;
        while j < p.hi && ts[j] <= last {
            j += 1;
        }
        let dups = ts[i..j].windows(2).filter(|w| w[0] == w[1]).count();
        let kept = (j - i - dups) as u64;
        q.duplicates += dups as u64;
        starts[k] = start + cfg.label_shift;
        if !segs.is_empty() {
            segs[k] = p.seg;
        }
        for (vi, var) in p.vars.iter().enumerate() {
            let acc = accumulate(ts, var, i, j, dups > 0, cfg.want_std, &mut buf);
            q.missing += kept - acc.n as u64;
            let enough = acc.n >= cfg.min_count;
            if !enough {
                q.sparse_windows += 1;
            }
            let base = vi * n_stats;
            for (si, st) in cfg.stats.iter().enumerate() {
                cols[base + si][k] = stat_value(*st, &acc, enough);
            }
        }
        k += 1;
        i = j;
    }
    debug_assert_eq!(k, starts.len());
    q
}

/// Whether the rows `a..a + n` of a validity bitmap are all set, read 56
/// bits at a time.
#[inline]
fn all_valid(b: &Bitmap, a: usize, n: usize) -> bool {
    let (bytes, offset, _) = b.as_slice();
    let mut bit = offset + a;
    let mut left = n;
    while left > 0 {
        let take = left.min(56);
        let byte = bit / 8;
        let mut word = [0u8; 8];
        let avail = (bytes.len() - byte).min(8);
        word[..avail].copy_from_slice(&bytes[byte..byte + avail]);
        let mask = (1u64 << take) - 1;
        if (u64::from_le_bytes(word) >> (bit % 8)) & mask != mask {
            return false;
        }
        bit += take;
        left -= take;
    }
    true
}

/// Windows the regular path computes side by side.
const LANES: usize = 4;

/// The output value of statistic `st` of a window; NaN where absent.
#[inline]
fn stat_value(st: Stat, acc: &Acc, enough: bool) -> f64 {
    match st {
        Stat::Count if acc.n > 0 => acc.n as f64,
        Stat::Mean if enough => acc.mean,
        Stat::Min if enough => acc.min,
        Stat::Max if enough => acc.max,
        Stat::Std if enough => acc.std,
        _ => f64::NAN,
    }
}

/// The statistics of one window of one variable; NaN where undefined.
struct Acc {
    n: usize,
    mean: f64,
    min: f64,
    max: f64,
    std: f64,
}

impl Acc {
    fn empty(n: usize) -> Self {
        Acc {
            n,
            mean: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            std: f64::NAN,
        }
    }
}

/// Rows `i..j` of one variable: picks the loop for the layout (dense, with
/// nulls, with duplicate timestamps) and the kind (linear or angle).
#[inline]
fn accumulate(
    ts: &[i64],
    var: &VarIn<'_>,
    i: usize,
    j: usize,
    has_dup: bool,
    want_std: bool,
    buf: &mut Vec<f64>,
) -> Acc {
    let values = var.values;
    // Each `get` returns NaN for a row that is not a sample (null, NaN, or a
    // duplicate timestamp followed by a later row of the same instant).
    match (has_dup, var.validity, var.angle) {
        (false, None, false) => linear(i, j, |k| values[k], want_std),
        (false, Some(b), false) if all_valid(b, i, j - i) => linear(i, j, |k| values[k], want_std),
        (false, Some(b), false) => linear(
            i,
            j,
            |k| {
                // SAFETY: the validity bitmap has one bit per row of `values`.
                if unsafe { b.get_bit_unchecked(k) } {
                    values[k]
                } else {
                    f64::NAN
                }
            },
            want_std,
        ),
        (_, validity, angle) => {
            let get = |k: usize| {
                let dropped = has_dup && k + 1 < j && ts[k + 1] == ts[k];
                let valid = validity.is_none_or(|b| b.get_bit(k));
                if dropped || !valid {
                    f64::NAN
                } else {
                    values[k]
                }
            };
            if angle {
                buf.clear();
                buf.extend((i..j).map(get).filter(|x| !x.is_nan()));
                circular(buf, want_std)
            } else {
                linear(i, j, get, want_std)
            }
        }
    }
}

/// Mean, min, max and sample std of the non-NaN values `get(i..j)`: a tight,
/// branch-free loop (`x < min` and `x > max` are false for NaN, and the count
/// and sums add 0 for it), then a second pass for the squared deviations.
/// The std of identical samples is exactly 0.
#[inline]
fn linear(i: usize, j: usize, get: impl Fn(usize) -> f64, want_std: bool) -> Acc {
    let mut n = 0usize;
    let mut sum = 0.0;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for k in i..j {
        let x = get(k);
        let ok = !x.is_nan();
        n += ok as usize;
        sum += if ok { x } else { 0.0 };
        min = if x < min { x } else { min };
        max = if x > max { x } else { max };
    }
    if n == 0 {
        return Acc::empty(0);
    }
    let mean = sum / n as f64;
    let std = if !want_std || n < 2 {
        f64::NAN
    } else if min == max {
        0.0
    } else {
        let mut m2 = 0.0;
        for k in i..j {
            let x = get(k);
            let d = if x.is_nan() { 0.0 } else { x - mean };
            m2 += d * d;
        }
        (m2 / (n - 1) as f64).sqrt()
    };
    Acc {
        n,
        // The mean of identical samples is that sample, exactly.
        mean: if min == max { min } else { mean },
        min,
        max,
        std,
    }
}

/// [`linear`] of the LANES windows of `w` rows each in `block` (row `r` is
/// `get(r, block[r])`, NaN where not a sample), computed side by side: the
/// same operations in the same order per window (so the same numbers), with
/// LANES independent chains for the processor to overlap.
#[inline]
// Rows are indexed across the lanes on purpose (one row of every lane per step).
#[allow(clippy::needless_range_loop)]
fn linear_lanes(
    block: &[f64],
    w: usize,
    get: impl Fn(usize, f64) -> f64,
    want_std: bool,
) -> [Acc; LANES] {
    let lanes: [&[f64]; LANES] = std::array::from_fn(|l| &block[l * w..(l + 1) * w]);
    let mut n = [0usize; LANES];
    let mut sum = [0.0; LANES];
    let mut min = [f64::INFINITY; LANES];
    let mut max = [f64::NEG_INFINITY; LANES];
    for r in 0..w {
        for l in 0..LANES {
            let x = get(l * w + r, lanes[l][r]);
            let ok = !x.is_nan();
            n[l] += ok as usize;
            sum[l] += if ok { x } else { 0.0 };
            min[l] = if x < min[l] { x } else { min[l] };
            max[l] = if x > max[l] { x } else { max[l] };
        }
    }
    let mean: [f64; LANES] = std::array::from_fn(|l| sum[l] / n[l] as f64);
    // Squared deviations for every lane (used where `linear` computes them).
    let mut m2 = [0.0; LANES];
    if want_std && (0..LANES).any(|l| n[l] >= 2 && min[l] != max[l]) {
        for r in 0..w {
            for l in 0..LANES {
                let x = get(l * w + r, lanes[l][r]);
                let d = if x.is_nan() { 0.0 } else { x - mean[l] };
                m2[l] += d * d;
            }
        }
    }
    std::array::from_fn(|l| {
        if n[l] == 0 {
            return Acc::empty(0);
        }
        let std = if !want_std || n[l] < 2 {
            f64::NAN
        } else if min[l] == max[l] {
            0.0
        } else {
            (m2[l] / (n[l] - 1) as f64).sqrt()
        };
        Acc {
            n: n[l],
            mean: if min[l] == max[l] { min[l] } else { mean[l] },
            min: min[l],
            max: max[l],
            std,
        }
    })
}

/// [`linear_lanes`] of a block without nulls, first assuming it has no NaN
/// either: then every row is a sample and the sums are those of `linear`
/// without its NaN tests. A NaN makes a sum NaN, and the block is computed
/// again with them.
#[inline]
// Rows are indexed across the lanes on purpose (one row of every lane per step).
#[allow(clippy::needless_range_loop)]
fn linear_lanes_dense(block: &[f64], w: usize, want_std: bool) -> [Acc; LANES] {
    let lanes: [&[f64]; LANES] = std::array::from_fn(|l| &block[l * w..(l + 1) * w]);
    let mut sum = [0.0; LANES];
    let mut min = [f64::INFINITY; LANES];
    let mut max = [f64::NEG_INFINITY; LANES];
    for r in 0..w {
        for l in 0..LANES {
            let x = lanes[l][r];
            sum[l] += x;
            min[l] = if x < min[l] { x } else { min[l] };
            max[l] = if x > max[l] { x } else { max[l] };
        }
    }
    if sum.iter().any(|s| s.is_nan()) || w == 0 {
        return linear_lanes(block, w, |_, x| x, want_std);
    }
    let mean: [f64; LANES] = std::array::from_fn(|l| sum[l] / w as f64);
    let mut m2 = [0.0; LANES];
    if want_std && w >= 2 && (0..LANES).any(|l| min[l] != max[l]) {
        for r in 0..w {
            for l in 0..LANES {
                let d = lanes[l][r] - mean[l];
                m2[l] += d * d;
            }
        }
    }
    std::array::from_fn(|l| {
        let std = if !want_std || w < 2 {
            f64::NAN
        } else if min[l] == max[l] {
            0.0
        } else {
            (m2[l] / (w - 1) as f64).sqrt()
        };
        Acc {
            n: w,
            mean: if min[l] == max[l] { min[l] } else { mean[l] },
            min: min[l],
            max: max[l],
            std,
        }
    })
}

/// Below this length of the mean unit vector the directions cancel and have
/// no mean.
const MIN_RESULTANT: f64 = 1e-9;

/// `x` taken into `[0, 360)`.
#[inline]
fn norm360(x: f64) -> f64 {
    let r = x.rem_euclid(360.0);
    // rem_euclid can round up to 360.0 for tiny negative x.
    if r >= 360.0 {
        0.0
    } else {
        r + 0.0 // turns -0.0 into 0.0
    }
}

/// `d` taken into `[-180, 180)`.
#[inline]
fn wrap180(d: f64) -> f64 {
    let x = d + 180.0;
    // `x.rem_euclid(360.0)`, which is exact, without the division where the
    // result is plain: x itself in [0, 360), x - 360 (exact there) in [360, 720).
    let r = if (0.0..360.0).contains(&x) {
        x
    } else if (360.0..720.0).contains(&x) {
        x - 360.0
    } else {
        x.rem_euclid(360.0)
    };
    r - 180.0
}

/// Circular statistics of angles in degrees (all valid): the direction of
/// the mean unit vector, `sqrt(-2 ln R)` in degrees, and the mean plus the
/// most negative / positive deviation from it.
fn circular(xs: &[f64], want_std: bool) -> Acc {
    let n = xs.len();
    if n == 0 {
        return Acc::empty(0);
    }
    let first = xs[0];
    if xs.iter().all(|x| *x == first) {
        let m = norm360(first);
        return Acc {
            n,
            mean: m,
            min: m,
            max: m,
            std: if want_std && n >= 2 { 0.0 } else { f64::NAN },
        };
    }
    let (mut s, mut c) = (0.0, 0.0);
    for x in xs {
        let (sin, cos) = x.to_radians().sin_cos();
        s += sin;
        c += cos;
    }
    let r = (s * s + c * c).sqrt() / n as f64;
    if r < MIN_RESULTANT {
        return Acc::empty(n);
    }
    let mean = norm360(s.atan2(c).to_degrees());
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs {
        let d = wrap180(x - mean);
        lo = lo.min(d);
        hi = hi.max(d);
    }
    let std = if want_std && n >= 2 {
        (-2.0 * r.min(1.0).ln()).sqrt().to_degrees()
    } else {
        f64::NAN
    };
    Acc {
        n,
        mean,
        min: norm360(mean + lo),
        max: norm360(mean + hi),
        std,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_every_forms() {
        assert_eq!(parse_every("10m").unwrap(), TimeDelta::minutes(10));
        assert_eq!(parse_every("10min").unwrap(), TimeDelta::minutes(10));
        assert_eq!(parse_every("1h30m").unwrap(), TimeDelta::minutes(90));
        assert_eq!(parse_every("90s").unwrap(), TimeDelta::seconds(90));
        assert_eq!(parse_every("1d").unwrap(), TimeDelta::days(1));
        for bad in ["", "10", "m", "10x", "-5m", "10 m"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
        assert_eq!(format_every(TimeDelta::minutes(10)), "10m");
        assert_eq!(format_every(TimeDelta::seconds(90)), "90s");
    }

    #[test]
    fn window_length_is_validated() {
        for bad in [
            TimeDelta::seconds(59),
            TimeDelta::days(2),
            TimeDelta::milliseconds(60_500),
        ] {
            assert!(Resampler::builder().every(bad).build().is_err());
        }
        assert!(Resampler::builder()
            .every(TimeDelta::minutes(1))
            .build()
            .is_ok());
        assert!(Resampler::builder()
            .every(TimeDelta::days(1))
            .build()
            .is_ok());
        assert!(Resampler::builder().stats([]).build().is_err());
    }

    #[test]
    fn stats_parse() {
        assert_eq!(
            parse_stats("mean, std,mean").unwrap(),
            vec![Stat::Mean, Stat::Std]
        );
        assert!(parse_stats("mean,median")
            .unwrap_err()
            .to_string()
            .contains("median"));
        assert!(parse_stats("").is_err());
    }

    #[test]
    fn chunks_start_on_window_boundaries() {
        let ts: Vec<i64> = (0..1_000_000).map(|i| i * 60).collect();
        let b = chunk_bounds(
            &ts,
            Grid {
                every: 600,
                shift: 0,
            },
            8,
        );
        assert!(b.len() > 1);
        assert_eq!(b[0].0, 0);
        assert_eq!(b.last().unwrap().1, ts.len());
        for w in b.windows(2) {
            assert_eq!(w[0].1, w[1].0);
            assert_eq!(ts[w[1].0] % 600, 0);
        }
    }

    #[test]
    fn sortedness_is_checked_across_blocks() {
        let mut v: Vec<i64> = (0..300_000).collect();
        assert!(is_sorted(&Int64Chunked::from_vec("t".into(), v.clone())));
        // An inversion exactly where two blocks of the parallel check meet.
        v.swap((1 << 16) - 1, 1 << 16);
        assert!(!is_sorted(&Int64Chunked::from_vec("t".into(), v)));
    }

    #[test]
    fn validity_runs() {
        let bits: Vec<bool> = (0..300).map(|i| i != 77 && i != 200).collect();
        let b = Bitmap::from_iter(bits.iter().copied());
        for offset in [0, 3, 13] {
            let s = b.clone().sliced(offset, 300 - offset);
            for a in 0..(300 - offset - 130) {
                for n in [1, 7, 40, 56, 57, 120, 130] {
                    let want = (a..a + n).all(|i| bits[offset + i]);
                    assert_eq!(all_valid(&s, a, n), want, "offset {offset} a {a} n {n}");
                }
            }
        }
    }

    fn frame(keys: &[&str], ts: &[i64], vals: &[Option<f64>]) -> DataFrame {
        let ts = Int64Chunked::from_vec("timestamp".into(), ts.to_vec())
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            Column::new("asset".into(), keys.to_vec()),
            ts.into_series().into(),
            Column::new("x".into(), vals.to_vec()),
        ])
        .unwrap()
    }

    #[test]
    fn runs_of_keys_read_in_place_agree_with_sorting() {
        const M: i64 = 60_000_000;
        // Day-major runs of two keys, cut in the middle of windows, with a
        // duplicate timestamp where two runs of `a` meet (the later one, in
        // input order, wins): read in place. With a key whose runs come out
        // of time order (`c`), the input is sorted instead.
        let mut rows: Vec<(&str, i64, f64)> = vec![
            ("a", 0, 1.0),
            ("a", M, 2.0),
            ("a", 7 * M, 3.0),
            ("b", 0, 10.0),
            ("b", 5 * M, 11.0),
            ("a", 7 * M, 4.0),
            ("a", 12 * M, 5.0),
            ("b", 13 * M, 12.0),
        ];
        for with_c in [false, true] {
            if with_c {
                rows.extend([("c", 30 * M, 7.0), ("a", 40 * M, 6.0), ("c", 2 * M, 8.0)]);
            }
            let keys: Vec<&str> = rows.iter().map(|r| r.0).collect();
            let ts: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let vals: Vec<Option<f64>> = rows.iter().map(|r| Some(r.2)).collect();
            let df = frame(&keys, &ts, &vals);
            let r = Resampler::builder()
                .by(["asset"])
                .stats(Stat::ALL)
                .build()
                .unwrap();
            let (got, q) = r.resample_wide_with_quality(&df).unwrap();
            // The same rows sorted by key and time (stable) by hand.
            let mut order: Vec<usize> = (0..rows.len()).collect();
            order.sort_by_key(|i| (rows[*i].0, rows[*i].1));
            let keys2: Vec<&str> = order.iter().map(|i| keys[*i]).collect();
            let ts2: Vec<i64> = order.iter().map(|i| ts[*i]).collect();
            let vals2: Vec<Option<f64>> = order.iter().map(|i| vals[*i]).collect();
            let (want, q2) = r
                .resample_wide_with_quality(&frame(&keys2, &ts2, &vals2))
                .unwrap();
            assert!(got.equals_missing(&want), "{got}\n{want}");
            assert_eq!(q, q2);
            assert_eq!(q.duplicates, 1);
            // The duplicate at 7 min: the later row (4.0) is kept.
            let max = got.column("x_max").unwrap().f64().unwrap().get(0);
            assert_eq!(max, Some(4.0));
        }
    }

    #[test]
    fn regular_rows_give_the_numbers_of_the_window_loop() {
        // 1-minute rows (from the middle of a window) with a few NaN and
        // nulls; the regular path computes several windows side by side and
        // must give exactly what `linear` gives window by window.
        const M: i64 = 60_000_000;
        let n = 1_000;
        let ts: Vec<i64> = (0..n).map(|i| (i as i64 + 3) * M).collect();
        let vals: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 97 {
                5 => None,
                11 => Some(f64::NAN),
                _ => Some(((i * 7919) % 1000) as f64 / 7.0 + 0.1),
            })
            .collect();
        let keys = vec!["a"; n];
        let df = frame(&keys, &ts, &vals);
        let r = Resampler::builder().stats(Stat::ALL).build().unwrap();
        let got = r.resample_wide(&df.drop("asset").unwrap()).unwrap();
        let x: Vec<f64> = vals.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        let mut k = 0;
        let mut i = 0;
        while i < n {
            let w = ts[i] / (10 * M);
            let mut j = i;
            while j < n && ts[j] / (10 * M) == w {
                j += 1;
            }
            let acc = linear(i, j, |r| x[r], true);
            let col = |name: &str| got.column(name).unwrap().f64().unwrap().get(k);
            assert_eq!(col("x_mean"), Some(acc.mean).filter(|v| !v.is_nan()));
            assert_eq!(col("x_min"), Some(acc.min).filter(|v| !v.is_nan()));
            assert_eq!(col("x_max"), Some(acc.max).filter(|v| !v.is_nan()));
            assert_eq!(col("x_std"), Some(acc.std).filter(|v| !v.is_nan()));
            k += 1;
            i = j;
        }
        assert_eq!(k, got.height());
    }
}
