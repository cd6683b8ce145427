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
mod tests {
    use super::kernel::linear;
    use super::*;

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
    fn interleaved_keys_of_every_kind_agree_with_the_rows_sorted_by_hand() {
        // Rows in time order with the keys interleaved (the sorting path):
        // names of up to and over 12 bytes, null names, a second (integer)
        // key, a key whose rows come out of time order, and duplicate
        // timestamps within a key (the later row in input order wins). The
        // same rows sorted by (keys, time) by hand, stably, are read in place.
        const M: i64 = 60_000_000;
        let names = [
            Some("T01"),
            Some("a turbine name of over twelve bytes"),
            None,
            Some("exactly12byt"),
        ];
        let mut rows: Vec<(Option<&str>, i32, i64, f64)> = Vec::new();
        for minute in 0..90i64 {
            for (k, name) in names.iter().enumerate() {
                let t = if k == 3 {
                    (89 - minute) * M
                } else {
                    minute * M
                };
                rows.push((
                    *name,
                    (minute % 2) as i32,
                    t,
                    (minute * 10 + k as i64) as f64,
                ));
            }
            if minute % 17 == 0 {
                rows.push((names[1], (minute % 2) as i32, minute * M, -1.0));
            }
        }
        let build = |rows: &[(Option<&str>, i32, i64, f64)]| {
            let ts = Int64Chunked::from_vec("timestamp".into(), rows.iter().map(|r| r.2).collect())
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
            DataFrame::new_infer_height(vec![
                Column::new("asset".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                Column::new("part".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                ts.into_series().into(),
                Column::new("x".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            ])
            .unwrap()
        };
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| (r.0, r.1, r.2)); // stable; None first, as the resampler orders keys
        let r = Resampler::builder()
            .by(["asset", "part"])
            .stats(Stat::ALL)
            .build()
            .unwrap();
        let (got, q) = r.resample_wide_with_quality(&build(&rows)).unwrap();
        let (want, q2) = r.resample_wide_with_quality(&build(&sorted)).unwrap();
        assert!(got.equals_missing(&want), "{got}\n{want}");
        assert_eq!(q, q2);
        assert_eq!(q.duplicates, 6);
        let assets: Vec<Option<&str>> =
            got.column("asset").unwrap().str().unwrap().iter().collect();
        assert_eq!(assets.iter().filter(|a| a.is_none()).count(), 18); // 9 windows x 2 parts
                                                                       // The duplicates' later rows (-1.0) are kept: the minimum of their windows.
        let min = got.column("x_min").unwrap().f64().unwrap();
        assert_eq!(min.iter().filter(|v| *v == Some(-1.0)).count(), 6);
    }

    #[test]
    fn long_rows_are_the_wide_values_that_exist_with_their_keys() {
        // Every row of the long output (keys, time, signal, value) is written
        // (the library's tests allocate filled with a pattern): a string key
        // (its views repeated) and an integer one (taken by row index).
        const M: i64 = 60_000_000;
        let mut keys = Vec::new();
        let (mut parts, mut ts, mut vals) = (Vec::new(), Vec::new(), Vec::new());
        for minute in 0..500i64 {
            for (k, name) in ["T01", "a turbine name of over twelve bytes"]
                .iter()
                .enumerate()
            {
                keys.push(*name);
                parts.push(k as i32 * 7);
                ts.push(minute * M);
                vals.push(match minute % 13 {
                    3 => None,
                    5 => Some(f64::NAN),
                    _ => Some((minute * 31 % 101) as f64 + k as f64),
                });
            }
        }
        let mut df = frame(&keys, &ts, &vals);
        df.with_column(Column::new("part".into(), parts)).unwrap();
        let r = Resampler::builder()
            .by(["asset", "part"])
            .stats([Stat::Mean, Stat::Std, Stat::Count])
            .build()
            .unwrap();
        let wide = r.resample_wide(&df).unwrap();
        let long = r.resample_long(&df).unwrap();
        let signals = ["x_mean", "x_std", "x_count"];
        let mut want: Vec<(String, i32, i64, String, f64)> = Vec::new();
        for row in 0..wide.height() {
            let get = |c: &str| wide.column(c).unwrap().get(row).unwrap();
            for s in signals {
                let v = get(s);
                if !v.is_null() {
                    want.push((
                        get("asset").get_str().unwrap().to_string(),
                        get("part").try_extract().unwrap(),
                        get("timestamp").try_extract().unwrap(),
                        s.to_string(),
                        v.try_extract().unwrap(),
                    ));
                }
            }
        }
        assert_eq!(long.height(), want.len());
        for (row, w) in want.iter().enumerate() {
            let get = |c: &str| long.column(c).unwrap().get(row).unwrap();
            let got = (
                get("asset").get_str().unwrap().to_string(),
                get("part").try_extract::<i32>().unwrap(),
                get("timestamp").try_extract::<i64>().unwrap(),
                get("signal").get_str().unwrap().to_string(),
                get("value").try_extract::<f64>().unwrap(),
            );
            assert_eq!(&got, w, "row {row}");
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
