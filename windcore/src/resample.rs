//! The 10-minute resampler: raw samples in, per-window statistics out.
//!
//! Conventions (see the crate docs): windows are half-open `[t, t + every)`,
//! aligned to the Unix epoch and labelled by their start `t`; NULL and NaN are
//! not samples; a statistic that is undefined (the std of one sample, anything
//! of a window without a valid sample) is absent, never 0.0; of several
//! samples with the same timestamp the last one (in input order) is kept.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::traits::Transform;

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
#[derive(Debug, Clone)]
pub struct ResamplerBuilder {
    every: TimeDelta,
    stats: Vec<Stat>,
    variables: Option<Vec<String>>,
    timestamp_column: String,
}

impl Default for ResamplerBuilder {
    fn default() -> Self {
        ResamplerBuilder {
            every: TimeDelta::minutes(10),
            stats: Stat::DEFAULT.to_vec(),
            variables: None,
            timestamp_column: TIMESTAMP.to_string(),
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

    /// Variables (columns) to aggregate. Default: every numeric column but the timestamp.
    pub fn variables<S: Into<String>>(mut self, vars: impl IntoIterator<Item = S>) -> Self {
        self.variables = Some(vars.into_iter().map(Into::into).collect());
        self
    }

    /// Name of the timestamp column. Default `timestamp`.
    pub fn timestamp_column(mut self, name: impl Into<String>) -> Self {
        self.timestamp_column = name.into();
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
        let mut stats = Vec::with_capacity(self.stats.len());
        for st in self.stats {
            if !stats.contains(&st) {
                stats.push(st);
            }
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
        }
        Ok(Resampler {
            every_secs: secs,
            stats,
            variables: self.variables,
            timestamp_column: self.timestamp_column,
        })
    }
}

/// Turns raw samples into per-window statistics.
///
/// Input: a DataFrame with a `timestamp` column (Datetime in ms, us or ns; any
/// time zone, naive taken as UTC) and numeric variable columns. Output, wide:
/// `timestamp` (Datetime, UTC, same unit) then one column `<variable>_<stat>`
/// per variable and statistic (Float64; `count` is UInt32), one row per window
/// that holds at least one input row; long: `timestamp`, `signal`, `value`,
/// one row per defined statistic, ordered by timestamp then signal order.
///
/// Sorted input takes a fused single pass that computes every statistic of
/// every variable at once, in parallel over chunks of windows; unsorted input
/// is first stably sorted by timestamp. The standard deviation uses two passes
/// over each window's samples (mean, then squared deviations), which is
/// numerically stable.
#[derive(Debug, Clone)]
pub struct Resampler {
    every_secs: i64,
    stats: Vec<Stat>,
    variables: Option<Vec<String>>,
    timestamp_column: String,
}

impl Default for Resampler {
    /// 10-minute windows; mean, min, max, std; every numeric column.
    fn default() -> Self {
        ResamplerBuilder::default()
            .build()
            .expect("the default configuration is valid")
    }
}

/// The prepared input of one resampling: sorted timestamps and f64 variables.
struct Prepared {
    unit: TimeUnit,
    every: i64,
    ts: Int64Chunked,
    vars: Vec<(String, Float64Chunked)>,
}

/// Output of the kernel: window starts and one column per (variable, stat),
/// variable-major. NaN marks an absent statistic.
struct Windows {
    starts: Vec<i64>,
    cols: Vec<Vec<f64>>,
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

    /// Statistics in wide form: `timestamp`, then `<variable>_<stat>` columns.
    pub fn resample_wide(&self, df: &DataFrame) -> Result<DataFrame> {
        let prep = self.prepare(df)?;
        let win = self.compute(&prep);
        let tz = Some(TimeZone::UTC);
        let mut columns: Vec<Column> = Vec::with_capacity(1 + win.cols.len());
        let ts = Int64Chunked::from_vec(self.timestamp_column.as_str().into(), win.starts)
            .into_datetime(prep.unit, tz);
        columns.push(ts.into_series().into());
        let mut cols = win.cols.into_iter();
        for (var, _) in &prep.vars {
            for st in &self.stats {
                let vals = cols.next().expect("one column per variable and stat");
                let name = PlSmallStr::from(format!("{var}_{}", st.name()));
                columns.push(stat_column(name, vals, *st));
            }
        }
        Ok(DataFrame::new_infer_height(columns)?)
    }

    /// Statistics in long form: `timestamp`, `signal`, `value`, one row per defined statistic.
    pub fn resample_long(&self, df: &DataFrame) -> Result<DataFrame> {
        let prep = self.prepare(df)?;
        let win = self.compute(&prep);
        let names: Vec<String> = self.signal_names(
            &prep
                .vars
                .iter()
                .map(|(v, _)| v.as_str())
                .collect::<Vec<_>>(),
        );
        let n_est = win.starts.len() * names.len();
        let mut ts = Vec::with_capacity(n_est);
        let mut sig: Vec<&str> = Vec::with_capacity(n_est);
        let mut val = Vec::with_capacity(n_est);
        for (i, start) in win.starts.iter().enumerate() {
            for (c, name) in win.cols.iter().zip(&names) {
                let v = c[i];
                if !v.is_nan() {
                    ts.push(*start);
                    sig.push(name.as_str());
                    val.push(v);
                }
            }
        }
        let ts = Int64Chunked::from_vec(self.timestamp_column.as_str().into(), ts)
            .into_datetime(prep.unit, Some(TimeZone::UTC));
        let columns: Vec<Column> = vec![
            ts.into_series().into(),
            Column::new(SIGNAL.into(), sig),
            Column::new(VALUE.into(), val),
        ];
        Ok(DataFrame::new_infer_height(columns)?)
    }

    /// Validates and normalises the input: picks the columns, casts variables
    /// to f64, and sorts by timestamp (stable) when it is not sorted already.
    fn prepare(&self, df: &DataFrame) -> Result<Prepared> {
        let available = || {
            df.get_column_names()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
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
        let var_names: Vec<String> = match &self.variables {
            Some(v) => v.clone(),
            None => df
                .columns()
                .iter()
                .filter(|c| {
                    c.name().as_str() != self.timestamp_column && c.dtype().is_primitive_numeric()
                })
                .map(|c| c.name().to_string())
                .collect(),
        };
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
            vars.push((name, f.f64()?.clone()));
        }
        let mut ts = tcol.as_materialized_series().datetime()?.physical().clone();
        // The kernel reads the input chunks in place when every column is cut
        // the same way (the usual case: a frame read from Parquet or received
        // over Arrow); otherwise the columns are made contiguous first.
        let lengths: Vec<usize> = ts.chunk_lengths().collect();
        if vars
            .iter()
            .any(|(_, v)| !v.chunk_lengths().eq(lengths.iter().copied()))
        {
            ts.rechunk_mut();
            for (_, v) in vars.iter_mut() {
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
            for (_, v) in vars.iter_mut() {
                *v = v.take(&idx)?;
                v.rechunk_mut();
            }
        }
        let every = self.every_secs
            * match unit {
                TimeUnit::Milliseconds => 1_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Nanoseconds => 1_000_000_000,
            };
        Ok(Prepared {
            unit,
            every,
            ts,
            vars,
        })
    }

    fn compute(&self, prep: &Prepared) -> Windows {
        let every = prep.every;
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
                    .map(|(_, ca)| {
                        let a = ca.downcast_get(ci).expect("columns are cut alike");
                        VarIn {
                            values: a.values().as_slice(),
                            validity: a.validity().filter(|b| b.unset_bits() > 0),
                        }
                    })
                    .collect();
                (a.values().as_slice(), vars)
            })
            .collect();
        let (parts, straddles) = plan_parts(&chunks, every);
        // Pieces of whole windows over contiguous rows, for the threads.
        let per_part = rayon::current_num_threads() * 4;
        let mut pieces: Vec<Piece<'_>> = Vec::new();
        for part in &parts {
            match *part {
                Part::Interior { chunk, lo, hi } => {
                    let (ts, vars) = &chunks[chunk];
                    for (a, b) in chunk_bounds(&ts[lo..hi], every, per_part) {
                        pieces.push(Piece {
                            ts,
                            vars: vars.clone(),
                            lo: lo + a,
                            hi: lo + b,
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
                            .map(|(values, validity)| VarIn {
                                values,
                                validity: validity.as_ref(),
                            })
                            .collect(),
                        lo: 0,
                        hi: s.ts.len(),
                    });
                }
            }
        }
        let want = Wanted::new(&self.stats);
        let n_stats = self.stats.len();
        let n_cols = prep.vars.len() * n_stats;
        // Count the windows of each piece first, so every piece writes straight
        // into its own part of the final columns (no per-piece buffers to concatenate).
        let counts: Vec<usize> = pieces
            .par_iter()
            .map(|p| count_windows(p.ts, p.lo, p.hi, every))
            .collect();
        let total: usize = counts.iter().sum();
        let mut out = Windows {
            starts: vec![0; total],
            cols: (0..n_cols).map(|_| vec![0.0; total]).collect(),
        };
        let mut tasks = Vec::with_capacity(pieces.len());
        {
            let mut starts_rest: &mut [i64] = &mut out.starts;
            let mut cols_rest: Vec<&mut [f64]> =
                out.cols.iter_mut().map(|c| c.as_mut_slice()).collect();
            for (piece, n) in pieces.iter().zip(&counts) {
                let (head, tail) = std::mem::take(&mut starts_rest).split_at_mut(*n);
                starts_rest = tail;
                let mut heads = Vec::with_capacity(n_cols);
                for c in cols_rest.iter_mut() {
                    let (h, t) = std::mem::take(c).split_at_mut(*n);
                    heads.push(h);
                    *c = t;
                }
                tasks.push((piece, head, heads));
            }
        }
        tasks.into_par_iter().for_each(|(p, starts, mut cols)| {
            kernel(
                p.ts,
                p.lo,
                p.hi,
                every,
                &p.vars,
                &want,
                &self.stats,
                starts,
                &mut cols,
            )
        });
        out
    }
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
fn plan_parts(chunks: &[(&[i64], Vec<VarIn<'_>>)], every: i64) -> (Vec<Part>, Vec<Straddle>) {
    let n_vars = chunks.first().map_or(0, |(_, v)| v.len());
    let mut parts = Vec::with_capacity(chunks.len() * 2);
    let mut straddles = Vec::new();
    let mut carry: Option<Carry> = None;
    for (ci, (ts, vars)) in chunks.iter().enumerate() {
        let n = ts.len();
        let mut lo = 0;
        if let Some(c) = carry.as_mut() {
            while lo < n && ts[lo].div_euclid(every) == c.window {
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
        let last = ts[n - 1].div_euclid(every);
        let mut hi = n;
        if chunks
            .get(ci + 1)
            .is_some_and(|(next, _)| next[0].div_euclid(every) == last)
        {
            while hi > lo && ts[hi - 1].div_euclid(every) == last {
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
}

impl Transform for Resampler {
    fn transform(&self, samples: &DataFrame) -> Result<DataFrame> {
        self.resample_long(samples)
    }

    fn signal_names(&self, variables: &[String]) -> Vec<String> {
        Resampler::signal_names(self, variables)
    }

    fn every(&self) -> TimeDelta {
        Resampler::every(self)
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
}

/// Which accumulations are needed.
struct Wanted {
    std: bool,
}

impl Wanted {
    fn new(stats: &[Stat]) -> Self {
        Wanted {
            std: stats.contains(&Stat::Std),
        }
    }
}

/// Splits `0..ts.len()` into about `parts` ranges that start on window boundaries.
fn chunk_bounds(ts: &[i64], every: i64, parts: usize) -> Vec<(usize, usize)> {
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
            let w = ts[hi - 1].div_euclid(every);
            while hi < n && ts[hi].div_euclid(every) == w {
                hi += 1;
            }
        }
        bounds.push((lo, hi));
        lo = hi;
    }
    bounds
}

/// Number of windows in the sorted rows `lo..hi`.
fn count_windows(ts: &[i64], lo: usize, hi: usize, every: i64) -> usize {
    let mut n = 0;
    let mut i = lo;
    while i < hi {
        let last = (ts[i].div_euclid(every) * every).saturating_add(every - 1);
        i += 1;
        while i < hi && ts[i] <= last {
            i += 1;
        }
        n += 1;
    }
    n
}

/// The fused single pass over the sorted rows `lo..hi` (which start and end on
/// window boundaries): every statistic of every variable, one window at a
/// time, written to `starts[k]` and `cols[variable * stats + stat][k]` for the
/// k-th window of the chunk.
#[allow(clippy::too_many_arguments)]
fn kernel(
    ts: &[i64],
    lo: usize,
    hi: usize,
    every: i64,
    vars: &[VarIn<'_>],
    want: &Wanted,
    stats: &[Stat],
    starts: &mut [i64],
    cols: &mut [&mut [f64]],
) {
    let mut i = lo;
    let mut k = 0;
    while i < hi {
        let start = ts[i].div_euclid(every) * every;
        let last = start.saturating_add(every - 1);
        let mut j = i + 1;
        while j < hi && ts[j] <= last {
            j += 1;
        }
        let has_dup = ts[i..j].windows(2).any(|p| p[0] == p[1]);
        starts[k] = start;
        for (vi, var) in vars.iter().enumerate() {
            let acc = if has_dup || var.validity.is_some() {
                accumulate_masked(ts, var, i, j, has_dup, want)
            } else {
                accumulate_dense(&var.values[i..j], want)
            };
            let base = vi * stats.len();
            for (si, st) in stats.iter().enumerate() {
                cols[base + si][k] = match st {
                    Stat::Count if acc.n > 0 => acc.n as f64,
                    Stat::Mean if acc.n > 0 => acc.mean,
                    Stat::Min if acc.n > 0 => acc.min,
                    Stat::Max if acc.n > 0 => acc.max,
                    Stat::Std if acc.n > 1 => (acc.m2 / (acc.n - 1) as f64).sqrt(),
                    _ => f64::NAN,
                };
            }
        }
        k += 1;
        i = j;
    }
    debug_assert_eq!(k, starts.len());
}

#[derive(Default)]
struct Acc {
    n: usize,
    mean: f64,
    min: f64,
    max: f64,
    m2: f64,
}

/// No nulls, no duplicate timestamps: a tight, branch-free loop over a slice.
/// NaN is excluded without branches (`x < min` and `x > max` are false for NaN,
/// and the count and sums add 0 for it).
#[inline]
fn accumulate_dense(xs: &[f64], want: &Wanted) -> Acc {
    let mut n = 0usize;
    let mut sum = 0.0;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for &x in xs {
        let ok = !x.is_nan();
        n += ok as usize;
        sum += if ok { x } else { 0.0 };
        min = if x < min { x } else { min };
        max = if x > max { x } else { max };
    }
    if n == 0 {
        return Acc::default();
    }
    let mean = sum / n as f64;
    let mut m2 = 0.0;
    if want.std && n > 1 {
        for &x in xs {
            let d = if x.is_nan() { 0.0 } else { x - mean };
            m2 += d * d;
        }
    }
    Acc {
        n,
        mean,
        min,
        max,
        m2,
    }
}

/// The general case: skips nulls and all but the last of equal timestamps.
fn accumulate_masked(
    ts: &[i64],
    var: &VarIn<'_>,
    i: usize,
    j: usize,
    has_dup: bool,
    want: &Wanted,
) -> Acc {
    let take = |k: usize| -> Option<f64> {
        if has_dup && k + 1 < j && ts[k + 1] == ts[k] {
            return None;
        }
        if let Some(b) = var.validity {
            if !b.get_bit(k) {
                return None;
            }
        }
        let x = var.values[k];
        (!x.is_nan()).then_some(x)
    };
    let mut n = 0usize;
    let mut sum = 0.0;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for k in i..j {
        if let Some(x) = take(k) {
            n += 1;
            sum += x;
            min = min.min(x);
            max = max.max(x);
        }
    }
    if n == 0 {
        return Acc::default();
    }
    let mean = sum / n as f64;
    let mut m2 = 0.0;
    if want.std && n > 1 {
        for k in i..j {
            if let Some(x) = take(k) {
                let d = x - mean;
                m2 += d * d;
            }
        }
    }
    Acc {
        n,
        mean,
        min,
        max,
        m2,
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
        let b = chunk_bounds(&ts, 600, 8);
        assert!(b.len() > 1);
        assert_eq!(b[0].0, 0);
        assert_eq!(b.last().unwrap().1, ts.len());
        for w in b.windows(2) {
            assert_eq!(w[0].1, w[1].0);
            assert_eq!(ts[w[1].0] % 600, 0);
        }
    }
}
