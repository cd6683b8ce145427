//! [`ResamplerBuilder`]: the settings of a [`Resampler`], validated by `build()`.

use chrono::TimeDelta;

use super::spec::{Label, Stat};
use super::Resampler;
use crate::availability::Availability;
use crate::error::{Error, Result};
use crate::schema::TIMESTAMP;
use crate::setting::Setting;
use crate::zone::Zone;

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
    counters: Vec<String>,
    states: Vec<String>,
    state_hold: Option<TimeDelta>,
    availability: Option<Availability>,
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
            counters: Vec::new(),
            states: Vec::new(),
            state_hold: None,
            availability: None,
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

    /// Cumulative counters (energy in kWh, operating hours): per window
    /// `<c>_delta`, the sum of the increments of the window's samples (an
    /// increment is `v - v_prev`, or `v` after a decrease, i.e. a reset), and
    /// `<c>_last`, the last valid value. The first sample of a day takes as
    /// predecessor the last valid sample before the day, at most one day
    /// (24 h) earlier. Taken out of the analog variables. Default: none.
    pub fn counters<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.counters = cols.into_iter().map(Into::into).collect();
        self
    }

    /// State channels (integer or text codes): per window
    /// `<s>_seconds_<state>` for each state present and `<s>_seconds_nodata`,
    /// adding up to the window length. A sample's state holds from its time
    /// until the next sample, for at most the [hold](Self::state_hold).
    /// Taken out of the analog variables. Default: none.
    pub fn states<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.states = cols.into_iter().map(Into::into).collect();
        self
    }

    /// How long a state sample holds at most: whole seconds, 1 s to 1 day.
    /// Default: the window length.
    pub fn state_hold(mut self, hold: TimeDelta) -> Self {
        self.state_hold = Some(hold);
        self
    }

    /// Time-based availability from a state channel (see
    /// [`availability`](crate::availability)): per window `availability`,
    /// `available_seconds`, `unavailable_seconds`, `excluded_seconds` and
    /// `unknown_seconds`. Default: none.
    pub fn availability(mut self, mapping: Availability) -> Self {
        self.availability = Some(mapping);
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<Resampler> {
        let secs = self.every.num_seconds();
        if self.every.subsec_nanos() != 0 || !(60..=86_400).contains(&secs) {
            return Err(Error::config(
                Setting::WindowLength,
                format!(
                    "{} is outside 1 minute .. 1 day or not a whole number of seconds",
                    self.every
                ),
            ));
        }
        if self.stats.is_empty() {
            return Err(Error::config(
                Setting::Stat,
                "the list of statistics is empty",
            ));
        }
        if self.min_count == 0 {
            return Err(Error::config(
                Setting::MinCount,
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
                Setting::By,
                format!("`{k}` is the timestamp column, not a key"),
            ));
        }
        if let Some(vars) = &self.variables {
            if vars.is_empty() {
                return Err(Error::config(
                    Setting::Variables,
                    "the list of variables is empty",
                ));
            }
            if let Some(v) = vars.iter().find(|v| **v == self.timestamp_column) {
                return Err(Error::config(
                    Setting::Variables,
                    format!("`{v}` is the timestamp column, not a variable"),
                ));
            }
            if let Some(v) = vars.iter().find(|v| by.contains(v)) {
                return Err(Error::config(
                    Setting::Variables,
                    format!("`{v}` is a key column (by), not a variable"),
                ));
            }
            if let Some(a) = angles.iter().find(|a| !vars.contains(a)) {
                return Err(Error::config(
                    Setting::Angles,
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
                Setting::Angles,
                format!("`{a}` is the timestamp or a key column, not a variable"),
            ));
        }
        let counters = dedup(self.counters);
        let states = dedup(self.states);
        for (list, setting) in [(&counters, Setting::Counters), (&states, Setting::States)] {
            if let Some(c) = list.iter().find(|c| {
                c.is_empty() || **c == self.timestamp_column || by.contains(c) || angles.contains(c)
            }) {
                return Err(Error::config(
                    setting,
                    format!("`{c}` is the timestamp, a key column or an angle, not a channel of its own"),
                ));
            }
        }
        if let Some(c) = counters.iter().find(|c| states.contains(c)) {
            return Err(Error::config(
                Setting::States,
                format!("`{c}` is a counter and a state channel; choose one"),
            ));
        }
        let hold = self.state_hold.unwrap_or(self.every);
        let hold_secs = hold.num_seconds();
        if hold.subsec_nanos() != 0 || !(1..=86_400).contains(&hold_secs) {
            return Err(Error::config(
                Setting::StateHold,
                format!(
                    "{} is outside 1 second .. 1 day or not a whole number of seconds",
                    if hold.subsec_nanos() == 0 {
                        super::spec::format_every(hold)
                    } else {
                        format!("{hold}")
                    }
                ),
            ));
        }
        let availability = match self.availability {
            None => None,
            Some(m) => {
                let channel = match m.channel() {
                    Some(c) if states.iter().any(|s| s == c) => c.to_string(),
                    Some(c) => {
                        return Err(Error::config(
                            Setting::Availability,
                            format!(
                            "the mapping's channel `{c}` is not a state channel of this run ({})",
                            if states.is_empty() {
                                "none".to_string()
                            } else {
                                states.join(", ")
                            }
                        ),
                        ))
                    }
                    None if states.len() == 1 => states[0].clone(),
                    None => {
                        return Err(Error::config(
                            Setting::Availability,
                            if states.is_empty() {
                                "availability needs a state channel (states)".to_string()
                            } else {
                                format!(
                                    "the mapping names no `channel`, and this run has several state channels ({})",
                                    states.join(", ")
                                )
                            },
                        ))
                    }
                };
                Some(m.with_channel(channel))
            }
        };
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
            counters,
            states,
            state_hold_secs: hold_secs,
            availability,
        })
    }
}

pub(super) fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for s in v {
        let s = s.trim().to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
