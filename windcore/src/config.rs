//! One run configuration for every front door: the CLI, the Python module
//! and the API build a [`RunConfig`] from their own arguments and call
//! [`RunConfig::run`]; the assembly of source, target, transform and
//! pipeline lives here only.

use chrono::TimeDelta;

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::location::Location;
use crate::pipeline::Pipeline;
use crate::postgres::{pool_size_for_jobs, SourceLayout};
use crate::report::{DayReport, RunSummary};
use crate::resample::{Label, Resampler, Stat};
use crate::zone::Zone;

/// Which days a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunDays {
    /// One UTC day.
    One(Day),
    /// An inclusive range of UTC days.
    Range(DayRange),
    /// Every day the source holds samples for.
    AllInSource,
}

/// A validated run: where from, where to, which table layout, variables,
/// angles, statistics, window, coverage, days and parallelism.
///
/// Built by [`RunConfig::builder`]; [`RunConfigBuilder::build`] validates
/// every setting, so a bad flag is reported before anything is opened.
///
/// ```no_run
/// use windcore::{Location, RunConfig, RunDays, SourceLayout};
///
/// # async fn demo() -> windcore::Result<()> {
/// let config = RunConfig::builder(
///     "postgres://etl@db/scada".parse::<Location>()?,
///     "postgres://etl@db/stats".parse::<Location>()?,
/// )
/// .layout(SourceLayout {
///     table: "scada".into(),
///     time_column: "ts".into(),
///     asset_column: Some("turbine_id".into()),
///     naive_timezone: None,
/// })
/// .variables(["wind_speed", "power", "wind_direction"])
/// .angles(["wind_direction"])
/// .min_count(8)
/// .days(RunDays::Range(windcore::DayRange::new("2024-01-01".parse()?, "2024-01-31".parse()?)?))
/// .jobs(4)
/// .build()?;
/// let summary = config.run(|day| println!("{} {:?}", day.day, day.outcome)).await?;
/// println!("{} rows in, {} rows out", summary.rows_in(), summary.rows_out());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RunConfig {
    source: Location,
    target: Location,
    layout: SourceLayout,
    variables: Option<Vec<String>>,
    resampler: Resampler,
    days: RunDays,
    jobs: usize,
    zone: Zone,
    changed_only: bool,
    assets: Option<Vec<String>>,
}

/// Configures a [`RunConfig`]; [`build`](RunConfigBuilder::build) validates.
#[derive(Debug, Clone)]
pub struct RunConfigBuilder {
    source: Location,
    target: Location,
    layout: SourceLayout,
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
}

impl RunConfigBuilder {
    /// The source's table layout. Default: the reference `data(timestamp, ...)`, one asset.
    pub fn layout(mut self, layout: SourceLayout) -> Self {
        self.layout = layout;
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

    /// Validates every setting.
    pub fn build(self) -> Result<RunConfig> {
        self.layout.validate()?;
        if let Some(v) = &self.variables {
            if v.iter().all(|s| s.trim().is_empty()) {
                return Err(Error::config("variables", "the list of variables is empty"));
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
                "angles",
                format!(
                    "`{a}` is not among the variables ({}); an angle must be one of them",
                    vars.join(", ")
                ),
            ));
        }
        let resampler = Resampler::builder()
            .every(self.every)
            .stats(self.stats)
            .angles(self.angles)
            .min_count(self.min_count)
            .label(self.label)
            .timezone(self.zone)
            .build()?;
        let every = self.every.num_seconds();
        if !self.zone.is_utc() && 3600 % every != 0 {
            return Err(Error::config(
                "window length",
                format!(
                    "{every}s windows with the time zone {}: local days have 23 or 25 hours, so a run \
                     with a time zone needs windows that divide an hour (e.g. 10m, 15m, 1h)",
                    self.zone
                ),
            ));
        }
        if 86_400 % every != 0 {
            return Err(Error::config(
                "window length",
                format!("{every}s does not divide a day; a run needs windows that never straddle midnight"),
            ));
        }
        if self.jobs == 0 || self.jobs > 64 {
            return Err(Error::config(
                "jobs",
                format!("{} is not in 1 ..= 64", self.jobs),
            ));
        }
        if matches!(self.target, Location::Http(_)) {
            return Err(Error::config(
                "target",
                format!(
                    "{} is windcore's HTTP API, which can only be read from as a source; it cannot be a target: give a postgres:// URL or a directory",
                    self.target
                ),
            ));
        }
        if self.days == RunDays::AllInSource && matches!(self.source, Location::Http(_)) {
            return Err(Error::config(
                "days",
                format!(
                    "the HTTP source {} cannot list its days: give a day or a range",
                    self.source
                ),
            ));
        }
        Ok(RunConfig {
            source: self.source,
            target: self.target,
            layout: self.layout,
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

/// A run ready to go: the pipeline (source and target open) and its days.
pub struct PreparedRun {
    /// The pipeline, with source and target connected.
    pub pipeline: Pipeline,
    /// The days to process, in order.
    pub days: Vec<Day>,
}

impl RunConfig {
    /// A builder from a source and a target location, with the defaults.
    pub fn builder(source: Location, target: Location) -> RunConfigBuilder {
        RunConfigBuilder {
            source,
            target,
            layout: SourceLayout::default(),
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
        }
    }

    /// Whether the run is incremental.
    pub fn is_changed_only(&self) -> bool {
        self.changed_only
    }

    /// The time zone of the reporting days.
    pub fn timezone(&self) -> Zone {
        self.zone
    }

    /// The source location.
    pub fn source(&self) -> &Location {
        &self.source
    }

    /// The target location.
    pub fn target(&self) -> &Location {
        &self.target
    }

    /// The source's table layout.
    pub fn layout(&self) -> &SourceLayout {
        &self.layout
    }

    /// The resampler (window, statistics, angles, min_count).
    pub fn resampler(&self) -> &Resampler {
        &self.resampler
    }

    /// The days the run covers.
    pub fn run_days(&self) -> RunDays {
        self.days
    }

    /// Days in flight at once.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Opens source and target (PostgreSQL pools sized for the jobs),
    /// checks the variables against the source's channels, and lists the days.
    pub async fn prepare(&self) -> Result<PreparedRun> {
        let pool_size = pool_size_for_jobs(self.jobs);
        let source = self
            .source
            .open_source_layout(&self.layout, pool_size)
            .await?;
        let target = self.target.open_target_with_pool_size(pool_size).await?;
        let mut builder = Pipeline::builder_shared(source, target)
            .transform(self.resampler.clone())
            .timezone(self.zone)
            .changed_only(self.changed_only)
            .jobs(self.jobs);
        if let Some(a) = &self.assets {
            builder = builder.assets(a.iter().cloned());
        }
        if let Some(v) = &self.variables {
            builder = builder.variables(v.iter().map(|s| s.trim().to_string()));
        }
        let pipeline = builder.build()?;
        if let Some(a) = self
            .resampler
            .angles()
            .iter()
            .find(|a| !pipeline.variables().contains(a))
        {
            return Err(Error::config(
                "angles",
                format!(
                    "`{a}` is not among the variables of this run ({}); add it to the variables",
                    pipeline.variables().join(", ")
                ),
            ));
        }
        let days = match self.days {
            RunDays::One(d) => vec![d],
            RunDays::Range(r) => r.iter().collect(),
            RunDays::AllInSource => self.source.source_days_in(&self.layout, self.zone).await?,
        };
        Ok(PreparedRun { pipeline, days })
    }

    /// Prepares and runs: every day is extracted, resampled and loaded;
    /// `progress` is called after each day. A day that fails stops the run
    /// (see [`Pipeline::run`]); the summary says which days to re-run.
    pub async fn run(&self, progress: impl Fn(&DayReport)) -> Result<RunSummary> {
        let prepared = self.prepare().await?;
        Ok(prepared.pipeline.run(prepared.days, progress).await)
    }
}
