//! The builder of a [`RunConfig`]: its defaults and its validation.

use std::sync::Arc;

use chrono::TimeDelta;

use super::{RunConfig, RunDays, Store};
use crate::availability::Availability;
use crate::error::{Error, Result};
use crate::files::FileOptions;
use crate::location::Location;
use crate::postgres::SourceLayout;
use crate::resample::{Label, Resampler, Stat};
use crate::setting::Setting;
use crate::traits::{Extract, Load};
use crate::zone::Zone;

/// Configures a [`RunConfig`]; [`build`](RunConfigBuilder::build) validates.
#[derive(Debug, Clone)]
pub struct RunConfigBuilder {
    source: Store<dyn Extract>,
    target: Store<dyn Load>,
    layout: SourceLayout,
    files: FileOptions,
    variables: Option<Vec<String>>,
    angles: Vec<String>,
    stats: Vec<Stat>,
    every: TimeDelta,
    min_count: u32,
    days: RunDays,
    jobs: usize,
    zone: Zone,
    label: Label,
    changed_only: bool,
    assets: Option<Vec<String>>,
    counters: Vec<String>,
    states: Vec<String>,
    state_hold: Option<TimeDelta>,
    availability: Option<Availability>,
}

impl RunConfigBuilder {
    /// The source's table layout. Default: the reference `data(timestamp, ...)`, one asset.
    /// Used to open a source [`Location`]; a source that is already open
    /// ([`RunConfig::builder_for`]) keeps the layout it was opened with.
    pub fn layout(mut self, layout: SourceLayout) -> Self {
        self.layout = layout;
        self
    }

    /// How to read a file source (a [`Location::Files`]): the asset from the
    /// file names, the CSV dialect, the time format, renames. Ignored by
    /// the other sources.
    pub fn files(mut self, options: FileOptions) -> Self {
        self.files = options;
        self
    }

    /// Variables to aggregate. Default: `wind_speed` and `power` when the
    /// source has both, otherwise every numeric channel of the source.
    pub fn variables<S: Into<String>>(mut self, vars: impl IntoIterator<Item = S>) -> Self {
        self.variables = Some(vars.into_iter().map(Into::into).collect());
        self
    }

    /// Variables that are angles in degrees (circular statistics). Default none.
    pub fn angles<S: Into<String>>(mut self, vars: impl IntoIterator<Item = S>) -> Self {
        self.angles = vars.into_iter().map(Into::into).collect();
        self
    }

    /// Statistics to compute. Default mean, min, max, std.
    pub fn stats(mut self, stats: impl IntoIterator<Item = Stat>) -> Self {
        self.stats = stats.into_iter().collect();
        self
    }

    /// Window length; must divide a day. Default 10 minutes.
    pub fn every(mut self, every: TimeDelta) -> Self {
        self.every = every;
        self
    }

    /// Fewest valid samples for a window's statistics (`count` is always
    /// written). Default 1.
    pub fn min_count(mut self, n: u32) -> Self {
        self.min_count = n;
        self
    }

    /// The days to process. Default: every day present in the source.
    pub fn days(mut self, days: RunDays) -> Self {
        self.days = days;
        self
    }

    /// Days in flight at once, 1 to 64. Default 2.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs;
        self
    }

    /// The time zone of the reporting days (IANA name): a day is `[local
    /// 00:00, next local 00:00)`, 23 or 25 hours on DST days, and windows
    /// line up with the local clock. Default UTC.
    pub fn timezone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Label windows by their start (default) or their end.
    pub fn label(mut self, label: Label) -> Self {
        self.label = label;
        self
    }

    /// Incremental: rewrite only the (day, asset) pairs whose source samples
    /// changed since they were loaded; unchanged days are not written at all.
    /// Default false (every day is replaced).
    pub fn changed_only(mut self, yes: bool) -> Self {
        self.changed_only = yes;
        self
    }

    /// Only these assets (`""` is the asset of a single-turbine source): a
    /// batch of a fleet, e.g. one task of a scale-out. Only their rows are
    /// read and only their statistics replaced. Default: every asset.
    pub fn assets<S: Into<String>>(mut self, assets: impl IntoIterator<Item = S>) -> Self {
        self.assets = Some(assets.into_iter().map(Into::into).collect());
        self
    }

    /// Cumulative counters (energy, operating hours): `<c>_delta` and
    /// `<c>_last` per window (see [`ResamplerBuilder::counters`](crate::ResamplerBuilder::counters)).
    /// Read besides the variables. Default: none.
    pub fn counters<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.counters = cols.into_iter().map(Into::into).collect();
        self
    }

    /// State channels: `<s>_seconds_<state>` and `<s>_seconds_nodata` per
    /// window (see [`ResamplerBuilder::states`](crate::ResamplerBuilder::states)).
    /// Read besides the variables. Default: none.
    pub fn states<S: Into<String>>(mut self, cols: impl IntoIterator<Item = S>) -> Self {
        self.states = cols.into_iter().map(Into::into).collect();
        self
    }

    /// How long a state sample holds at most. Default: the window length.
    pub fn state_hold(mut self, hold: TimeDelta) -> Self {
        self.state_hold = Some(hold);
        self
    }

    /// Availability per window from a state channel (see [`Availability`]).
    pub fn availability(mut self, mapping: Availability) -> Self {
        self.availability = Some(mapping);
        self
    }

    /// Whether any channel setting was made: variables, angles, counters,
    /// states or an availability mapping ([`demo::configure_for`](crate::demo::configure_for)
    /// leaves such a run as it is).
    pub fn chooses_channels(&self) -> bool {
        self.variables.is_some()
            || !self.angles.is_empty()
            || !self.counters.is_empty()
            || !self.states.is_empty()
            || self.availability.is_some()
    }

    /// Validates every setting.
    pub fn build(self) -> Result<RunConfig> {
        self.layout.validate()?;
        if let Some(v) = &self.variables {
            if v.iter().all(|s| s.trim().is_empty()) {
                return Err(Error::config(
                    Setting::Variables,
                    "the list of variables is empty",
                ));
            }
        }
        if let (Some(vars), Some(a)) = (
            &self.variables,
            self.angles.iter().find(|a| {
                self.variables
                    .as_ref()
                    .is_some_and(|v| !v.iter().any(|x| x.trim() == a.trim()))
            }),
        ) {
            return Err(Error::config(
                Setting::Angles,
                format!(
                    "`{a}` is not among the variables ({}); an angle must be one of them",
                    vars.join(", ")
                ),
            ));
        }
        let mut resampler = Resampler::builder()
            .every(self.every)
            .stats(self.stats)
            .angles(self.angles)
            .min_count(self.min_count)
            .label(self.label)
            .timezone(self.zone)
            .counters(self.counters)
            .states(self.states);
        if let Some(h) = self.state_hold {
            resampler = resampler.state_hold(h);
        }
        if let Some(m) = self.availability {
            resampler = resampler.availability(m);
        }
        let resampler = resampler.build()?;
        let every = self.every.num_seconds();
        if !self.zone.is_utc() && 3600 % every != 0 {
            return Err(Error::config(
                Setting::WindowLength,
                format!(
                    "{every}s windows with the time zone {}: local days have 23 or 25 hours, so a run \
                     with a time zone needs windows that divide an hour (e.g. 10m, 15m, 1h)",
                    self.zone
                ),
            ));
        }
        if 86_400 % every != 0 {
            return Err(Error::config(
                Setting::WindowLength,
                format!("{every}s does not divide a day; a run needs windows that never straddle midnight"),
            ));
        }
        if self.jobs == 0 || self.jobs > 64 {
            return Err(Error::config(
                Setting::Jobs,
                format!("{} is not in 1 ..= 64", self.jobs),
            ));
        }
        if let Store::At(t @ (Location::Http(_) | Location::Files(_))) = &self.target {
            let kind = match t {
                Location::Files(_) => "a file source",
                _ => "windcore's HTTP API",
            };
            return Err(Error::config(
                Setting::Target,
                format!(
                    "{t} is {kind}, which can only be read from as a source; it cannot be a target: give a postgres:// URL or a directory"
                ),
            ));
        }
        if self.days == RunDays::AllInSource {
            match &self.source {
                Store::At(s @ Location::Http(_)) => {
                    return Err(Error::config(
                        Setting::Days,
                        format!("the HTTP source {s} cannot list its days: give a day or a range"),
                    ))
                }
                Store::Open(s) => {
                    return Err(Error::config(
                        Setting::Days,
                        format!(
                            "the open source {} cannot list its days: give a day or a range",
                            s.describe()
                        ),
                    ))
                }
                Store::At(_) => {}
            }
        }
        Ok(RunConfig {
            source: self.source,
            target: self.target,
            layout: self.layout,
            files: self.files,
            variables: self.variables,
            resampler,
            days: self.days,
            jobs: self.jobs,
            zone: self.zone,
            changed_only: self.changed_only,
            assets: self.assets,
        })
    }
}

impl RunConfig {
    /// A builder from a source and a target location, with the defaults.
    pub fn builder(source: Location, target: Location) -> RunConfigBuilder {
        Self::builder_of(Store::At(source), Store::At(target))
    }

    /// A builder from a source and a target that are already open (e.g. the
    /// pools of a server), with the defaults. The run uses them as they are:
    /// the [layout](RunConfigBuilder::layout) is not used (the source has
    /// its own), and the days must be given (an open source cannot list
    /// them). Validation is the same as for locations.
    pub fn builder_for(source: Arc<dyn Extract>, target: Arc<dyn Load>) -> RunConfigBuilder {
        Self::builder_of(Store::Open(source), Store::Open(target))
    }

    fn builder_of(source: Store<dyn Extract>, target: Store<dyn Load>) -> RunConfigBuilder {
        RunConfigBuilder {
            source,
            target,
            layout: SourceLayout::default(),
            files: FileOptions::default(),
            variables: None,
            angles: Vec::new(),
            stats: Stat::DEFAULT.to_vec(),
            every: TimeDelta::minutes(10),
            min_count: 1,
            days: RunDays::AllInSource,
            jobs: 2,
            zone: Zone::UTC,
            label: Label::Start,
            changed_only: false,
            assets: None,
            counters: Vec::new(),
            states: Vec::new(),
            state_hold: None,
            availability: None,
        }
    }
}
