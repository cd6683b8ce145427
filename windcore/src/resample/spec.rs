//! What a resampling computes and how its settings and signals are written:
//! the statistics ([`Stat`]), the window labels ([`Label`]), the window length
//! ([`parse_every`], [`format_every`]), and the signals of counters and
//! state channels ([`counter_signals`], [`state_signal`]).

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;

use crate::error::{Error, Result};
use crate::setting::Setting;

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
    /// The first valid sample (in time order).
    First,
    /// The last valid sample (in time order).
    Last,
    /// The sum of the valid samples (absent, not 0, without one); angles have none.
    Sum,
    /// The median of the valid samples (the mean of the two middle ones for
    /// an even count, like pandas); angles have none.
    Median,
}

impl Stat {
    /// The statistics of the reference system and of earlier releases: mean,
    /// min, max, std and count.
    pub const ALL: [Stat; 5] = [Stat::Mean, Stat::Min, Stat::Max, Stat::Std, Stat::Count];
    /// Every statistic, in canonical order: [`ALL`](Self::ALL), then first,
    /// last, sum and median.
    pub const EVERY: [Stat; 9] = [
        Stat::Mean,
        Stat::Min,
        Stat::Max,
        Stat::Std,
        Stat::Count,
        Stat::First,
        Stat::Last,
        Stat::Sum,
        Stat::Median,
    ];
    /// The default set: mean, min, max and std, as in the reference system.
    pub const DEFAULT: [Stat; 4] = [Stat::Mean, Stat::Min, Stat::Max, Stat::Std];

    /// The signal of this statistic of `variable`: `<variable>_<stat>`
    /// (`power_std`).
    pub fn signal(self, variable: &str) -> String {
        format!("{variable}_{}", self.name())
    }

    /// The name used in signal names (`power_std`).
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Std => "std",
            Stat::Count => "count",
            Stat::First => "first",
            Stat::Last => "last",
            Stat::Sum => "sum",
            Stat::Median => "median",
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
        Stat::EVERY
            .into_iter()
            .find(|st| st.name() == t)
            .ok_or_else(|| {
                Error::config(
                    Setting::Stat,
                    format!("unknown statistic `{s}` (choose from mean, min, max, std, count, first, last, sum, median)"),
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
        return Err(Error::config(
            Setting::Stat,
            "the list of statistics is empty",
        ));
    }
    Ok(out)
}

/// Parses a window length such as `10m`, `10min`, `90s`, `1h`, `1h30m` or `1d`.
pub fn parse_every(s: &str) -> Result<TimeDelta> {
    let bad = |why: &str| {
        Error::config(
            Setting::WindowLength,
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

    /// How far a window's label lies after its start, for windows of
    /// `every` (a `TimeDelta`, or a count of time units).
    pub fn offset<T: Default>(self, every: T) -> T {
        match self {
            Label::Start => T::default(),
            Label::End => every,
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
                Setting::Label,
                format!("`{s}`: a window is labelled by its `start` or its `end`"),
            )),
        }
    }
}

/// The signals of a counter `c`: its increase over the window (`<c>_delta`)
/// and its last reading (`<c>_last`).
pub(crate) fn counter_signals(c: &str) -> [String; 2] {
    [format!("{c}_delta"), format!("{c}_last")]
}

/// What a state channel's seconds without a known state are called
/// ([`state_signal`]`(s, NODATA)`).
pub(crate) const NODATA: &str = "nodata";

/// The signal of a state channel `s`'s seconds in `state` within the window:
/// `<s>_seconds_<state>` (`state` [`NODATA`]: the seconds it held no state).
pub(crate) fn state_signal(s: &str, state: &str) -> String {
    format!("{}{state}", state_prefix(s))
}

/// What every signal of state channel `s` starts with: `<s>_seconds_`.
pub(crate) fn state_prefix(s: &str) -> String {
    format!("{s}_seconds_")
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
    fn stats_parse() {
        assert_eq!(
            parse_stats("mean, std,mean").unwrap(),
            vec![Stat::Mean, Stat::Std]
        );
        assert_eq!(
            parse_stats("median,first,last,sum").unwrap(),
            vec![Stat::Median, Stat::First, Stat::Last, Stat::Sum]
        );
        assert!(parse_stats("mean,mode")
            .unwrap_err()
            .to_string()
            .contains("mode"));
        assert!(parse_stats("").is_err());
    }
}
