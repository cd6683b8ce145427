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

use crate::error::{Error, Result};
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
/// Input grouped by key (each key's rows together, sorted by time) is read as
/// it is; other input is sorted once by key and time (stable, so of equal
/// timestamps of one key the last in input order is kept). Then a fused
/// single pass computes every statistic of every variable at once, in
/// parallel over chunks of windows. The standard deviation uses two passes
/// over each window's samples (mean, then squared deviations), which is
/// numerically stable.
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

/// A run of rows of one key, `lo..hi` in the prepared (sorted) order, and the
/// row of the input that holds its key values.
#[derive(Debug, Clone, Copy)]
struct Segment {
    lo: usize,
    hi: usize,
    key_row: IdxSize,
}

/// The prepared input of one resampling: sorted timestamps and f64 variables.
struct Prepared {
    unit: TimeUnit,
    grid: Grid,
    rows: usize,
    ts: Int64Chunked,
    vars: Vec<(String, Float64Chunked, bool)>,
    /// With keys: the key columns of the input and the runs of rows per key
    /// (ts and vars are then contiguous).
    keys: Option<(DataFrame, Vec<Segment>)>,
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
        if let Some((keys, segs)) = &prep.keys {
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
        if let Some((keys, segs)) = &prep.keys {
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
        let available = || column_list(df);
        let tcol = df
            .column(&self.timestamp_column)
            .map_err(|_| Error::MissingColumn {
                column: self.timestamp_column.clone(),
                available: available(),
            })?;
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
            let col = df.column(k).map_err(|_| Error::MissingColumn {
                column: k.clone(),
                available: available(),
            })?;
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
                    available: available(),
                });
            }
        }
        let mut vars = Vec::with_capacity(var_names.len());
        for name in var_names {
            let col = df.column(&name).map_err(|_| Error::MissingColumn {
                column: name.clone(),
                available: available(),
            })?;
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
        let shift = match (self.zone.is_utc(), ts.min(), ts.max()) {
            (false, Some(lo), Some(hi)) => {
                let at = |v: i64| {
                    chrono::DateTime::from_timestamp(v.div_euclid(per_sec), 0).unwrap_or_default()
                };
                let range = crate::day::TimeRange {
                    start: at(lo),
                    end: at(hi) + TimeDelta::seconds(1),
                };
                self.zone.window_shift(range, self.every())? * per_sec
            }
            _ => 0,
        };
        let grid = Grid { every, shift };
        let rows = df.height();
        if !self.by.is_empty() {
            // Keyed input is read contiguously; the runs of each key become segments.
            ts.rechunk_mut();
            for (_, v, _) in vars.iter_mut() {
                v.rechunk_mut();
            }
            let keys = df.select(self.by.iter().map(|s| s.as_str()))?;
            let (perm, segs) = group_rows(&keys, &self.by, ts_slice(&ts))?;
            if let Some(idx) = perm {
                ts = ts.take(&idx)?;
                ts.rechunk_mut();
                for (_, v, _) in vars.iter_mut() {
                    *v = v.take(&idx)?;
                    v.rechunk_mut();
                }
            }
            return Ok(Prepared {
                unit,
                grid,
                rows,
                ts,
                vars,
                keys: Some((keys, segs)),
            });
        }
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
        if !is_sorted(&ts) {
            let idx = ts.arg_sort(SortOptions {
                descending: false,
                nulls_last: false,
                multithreaded: true,
                maintain_order: true,
                limit: None,
            });
            ts = ts.take(&idx)?;
            ts.rechunk_mut();
            for (_, v, _) in vars.iter_mut() {
                *v = v.take(&idx)?;
                v.rechunk_mut();
            }
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
        let mut pieces: Vec<Piece<'_>> = Vec::new();
        // Windows cut by chunk boundaries (unkeyed input); declared here so
        // that the pieces may borrow them.
        let straddles: Vec<Straddle>;
        fn var_in(ca: &Float64Chunked, ci: usize, angle: bool) -> VarIn<'_> {
            let a = ca.downcast_get(ci).expect("columns are cut alike");
            VarIn {
                values: a.values().as_slice(),
                validity: a.validity().filter(|b| b.unset_bits() > 0),
                angle,
            }
        }
        if let Some((_, segs)) = &prep.keys {
            if prep.rows > 0 {
                let ts = ts_slice(&prep.ts);
                let vars: Vec<VarIn<'_>> = prep
                    .vars
                    .iter()
                    .map(|(_, ca, angle)| var_in(ca, 0, *angle))
                    .collect();
                let total = prep.rows.max(1);
                for (si, s) in segs.iter().enumerate() {
                    // Pieces in proportion to the segment's share of the rows.
                    let parts = (per_part * (s.hi - s.lo)).div_ceil(total);
                    for (a, b) in chunk_bounds(&ts[s.lo..s.hi], grid, parts) {
                        pieces.push(Piece {
                            ts,
                            vars: vars.clone(),
                            lo: s.lo + a,
                            hi: s.lo + b,
                            seg: si as u32,
                        });
                    }
                }
            }
        } else {
            // The input chunks (all columns are cut alike), empty ones left out.
            let chunks: Vec<(&[i64], Vec<VarIn<'_>>)> = prep
                .ts
                .downcast_iter()
                .enumerate()
                .filter(|(_, a)| !a.values().is_empty())
                .map(|(ci, a)| {
                    let vars = prep
                        .vars
                        .iter()
                        .map(|(_, ca, angle)| var_in(ca, ci, *angle))
                        .collect();
                    (a.values().as_slice(), vars)
                })
                .collect();
            let (parts, s) = plan_parts(&chunks, grid);
            straddles = s;
            let straddles = &straddles;
            for part in &parts {
                match *part {
                    Part::Interior { chunk, lo, hi } => {
                        let (ts, vars) = &chunks[chunk];
                        for (a, b) in chunk_bounds(&ts[lo..hi], grid, per_part) {
                            pieces.push(Piece {
                                ts,
                                vars: vars.clone(),
                                lo: lo + a,
                                hi: lo + b,
                                seg: 0,
                            });
                        }
                    }
                    Part::Straddle(k) => {
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
                            seg: 0,
                        });
                    }
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
        let keyed = prep.keys.is_some();
        // Count the windows of each piece first, so every piece writes straight
        // into its own part of the final columns (no per-piece buffers to concatenate).
        let counts: Vec<usize> = pieces
            .par_iter()
            .map(|p| count_windows(p.ts, p.lo, p.hi, grid))
            .collect();
        let total: usize = counts.iter().sum();
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
            for (piece, n) in pieces.iter().zip(&counts) {
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
                tasks.push((piece, head, segs, heads));
            }
        }
        let quality = tasks
            .into_par_iter()
            .map(|(p, starts, segs, mut cols)| kernel(p, &cfg, starts, segs, &mut cols))
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

/// A vector of `n` values that the kernel overwrites in full.
fn uninit_vec<T: Copy + Default>(n: usize) -> Vec<T> {
    // Zeroed allocation is lazily mapped by the OS for large sizes, so this
    // costs no extra pass over the memory.
    vec![T::default(); n]
}

fn column_list(df: &DataFrame) -> String {
    df.get_column_names()
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
            KeyCol::Str(col.str()?.rechunk().into_owned())
        } else {
            KeyCol::Int(
                col.as_materialized_series()
                    .cast(&DataType::Int64)?
                    .i64()?
                    .rechunk()
                    .into_owned(),
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
                for (i, v) in c.iter().enumerate() {
                    if prev.is_some_and(|p| p != v) {
                        starts[i] = true;
                    }
                    prev = Some(v);
                }
            }
        }
    }
}

/// Finds the rows of each key. Input already grouped (each key's rows in one
/// run, sorted by time) is kept as it is; otherwise returns the permutation
/// that sorts it by key and time (stable). Segments come in key order.
fn group_rows(
    keys: &DataFrame,
    by: &[String],
    ts: &[i64],
) -> Result<(Option<IdxCa>, Vec<Segment>)> {
    let n = ts.len();
    if n == 0 {
        return Ok((None, Vec::new()));
    }
    let cols: Vec<KeyCol> = keys
        .columns()
        .iter()
        .map(KeyCol::new)
        .collect::<Result<_>>()?;
    let key_of = |row: usize| -> Vec<KeyVal> { cols.iter().map(|c| c.get(row)).collect() };
    let mut change = vec![false; n];
    for c in &cols {
        c.mark_changes(&mut change);
    }
    change[0] = true;
    // Runs of equal keys; the fast path needs few runs, each key once, each
    // run sorted by time.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut grouped = true;
    let mut start = 0;
    // Each run ends where the next one starts, and the last at `n`.
    let ends = change
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, c)| **c)
        .map(|(i, _)| i)
        .chain(std::iter::once(n));
    for end in ends {
        runs.push((start, end));
        start = end;
        if runs.len() > 100_000 {
            grouped = false;
            break;
        }
    }
    drop(change);
    if grouped {
        let mut seen = std::collections::HashSet::with_capacity(runs.len());
        for &(lo, hi) in &runs {
            if !seen.insert(key_of(lo)) || !ts[lo..hi].windows(2).all(|w| w[0] <= w[1]) {
                grouped = false;
                break;
            }
        }
    }
    if grouped {
        let mut segs: Vec<(Vec<KeyVal>, Segment)> = runs
            .into_iter()
            .map(|(lo, hi)| {
                (
                    key_of(lo),
                    Segment {
                        lo,
                        hi,
                        key_row: lo as IdxSize,
                    },
                )
            })
            .collect();
        segs.sort_by(|a, b| a.0.cmp(&b.0));
        // Sorting segments by key reorders runs; the rows stay where they are.
        return Ok((None, segs.into_iter().map(|(_, s)| s).collect()));
    }
    // General case: the groups of equal keys (hash-based, in polars), each
    // sorted by time (stable), in key order.
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
    for (_, rows) in order {
        let lo = perm.len();
        segs.push(Segment {
            lo,
            hi: lo + rows.len(),
            key_row: rows[0],
        });
        perm.extend_from_slice(&rows);
    }
    Ok((Some(IdxCa::from_vec(PlSmallStr::EMPTY, perm)), segs))
}

/// Whether the timestamps are in non-decreasing order, across chunks too.
fn is_sorted(ts: &Int64Chunked) -> bool {
    let mut prev = i64::MIN;
    for a in ts.downcast_iter() {
        let v = a.values().as_slice();
        let Some(&first) = v.first() else { continue };
        if first < prev || !v.windows(2).all(|w| w[0] <= w[1]) {
            return false;
        }
        prev = v[v.len() - 1];
    }
    true
}

/// Rows `lo..hi` of one input chunk, or the rows of a window that lies in
/// several chunks (gathered into a [`Straddle`]), in output order.
enum Part {
    Interior { chunk: usize, lo: usize, hi: usize },
    Straddle(usize),
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

/// Cuts sorted, chunked input into parts that each hold whole windows: the
/// inside of every chunk is read in place; a window cut by a chunk boundary
/// becomes a [`Straddle`].
fn plan_parts(chunks: &[(&[i64], Vec<VarIn<'_>>)], grid: Grid) -> (Vec<Part>, Vec<Straddle>) {
    let n_vars = chunks.first().map_or(0, |(_, v)| v.len());
    let mut parts = Vec::with_capacity(chunks.len() * 2);
    let mut straddles = Vec::new();
    let mut carry: Option<Carry> = None;
    for (ci, (ts, vars)) in chunks.iter().enumerate() {
        let n = ts.len();
        let mut lo = 0;
        if let Some(c) = carry.as_mut() {
            while lo < n && grid.id(ts[lo]) == c.window {
                lo += 1;
            }
            c.push(ts, vars, 0, lo);
            if lo == n {
                continue; // the whole chunk lies in the carried window
            }
            parts.push(Part::Straddle(straddles.len()));
            straddles.push(carry.take().expect("carry").finish());
        }
        // A last window that goes on in the next chunk is carried over.
        let last = grid.id(ts[n - 1]);
        let mut hi = n;
        if chunks
            .get(ci + 1)
            .is_some_and(|(next, _)| grid.id(next[0]) == last)
        {
            while hi > lo && grid.id(ts[hi - 1]) == last {
                hi -= 1;
            }
            let mut c = Carry::new(last, n_vars);
            c.push(ts, vars, hi, n);
            carry = Some(c);
        }
        if lo < hi {
            parts.push(Part::Interior { chunk: ci, lo, hi });
        }
    }
    if let Some(c) = carry {
        parts.push(Part::Straddle(straddles.len()));
        straddles.push(c.finish());
    }
    (parts, straddles)
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
    let validity = if vals.iter().any(|v| v.is_nan()) {
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
    while i < p.hi {
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
                cols[base + si][k] = match st {
                    Stat::Count if acc.n > 0 => acc.n as f64,
                    Stat::Mean if enough => acc.mean,
                    Stat::Min if enough => acc.min,
                    Stat::Max if enough => acc.max,
                    Stat::Std if enough => acc.std,
                    _ => f64::NAN,
                };
            }
        }
        k += 1;
        i = j;
    }
    debug_assert_eq!(k, starts.len());
    q
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
    (d + 180.0).rem_euclid(360.0) - 180.0
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
}
