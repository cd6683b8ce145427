//! One run configuration for every front door: the CLI, the Python module
//! and the API build a [`RunConfig`] from their own arguments and call
//! [`RunConfig::run`]; the assembly of source, target, transform and
//! pipeline lives here only.

use std::fmt;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::files::{FileOptions, FileSource};
use crate::location::Location;
use crate::pipeline::Pipeline;
use crate::postgres::{pool_size_for_jobs, SourceLayout};
use crate::report::{DayReport, RunSummary};
use crate::resample::{Label, Resampler, Stat};
use crate::setting::Setting;
use crate::traits::{Extract, Load};
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

/// The argument of [`RunDays::from_args`] an error is about, so that each
/// front door can name its own flag or field (`--from`, `start`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaysArg {
    /// The single day (`date`).
    Date,
    /// The first day of a range (`from`).
    From,
    /// The last day of a range, included (`to`).
    To,
}

impl DaysArg {
    /// `date`, `from` or `to`.
    pub fn name(self) -> &'static str {
        match self {
            DaysArg::Date => "date",
            DaysArg::From => "from",
            DaysArg::To => "to",
        }
    }
}

/// An error of [`RunDays::from_args`]: which argument, and what is wrong with
/// it. Converts into [`Error`] (the `?` operator does it).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunDaysError {
    /// The argument that is wrong (or missing).
    pub arg: DaysArg,
    /// What is wrong.
    pub error: Error,
}

impl From<RunDaysError> for Error {
    fn from(e: RunDaysError) -> Error {
        e.error
    }
}

impl RunDays {
    /// The days of a run from the usual arguments, the same for every front
    /// door: `date` alone is one day, `from` with `to` an inclusive range,
    /// none of them every day in the source. Both a date and a range, or half
    /// a range, is an error; so is a string that is not a `YYYY-MM-DD` date
    /// (`invalid date: `2024-13-01` is not a date of the form YYYY-MM-DD
    /// (...)`) and a range whose `to` is before its `from`. The shape is
    /// checked before the dates are read.
    ///
    /// ```
    /// use windcore::{DaysArg, RunDays};
    ///
    /// assert_eq!(RunDays::from_args(None, None, None)?, RunDays::AllInSource);
    /// assert!(matches!(RunDays::from_args(Some("2024-01-01"), None, None)?, RunDays::One(_)));
    /// let err = RunDays::from_args(None, Some("2024-01-05"), Some("2024-01-01")).unwrap_err();
    /// assert_eq!(err.arg, DaysArg::To);
    /// # Ok::<(), windcore::RunDaysError>(())
    /// ```
    pub fn from_args(
        date: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> std::result::Result<RunDays, RunDaysError> {
        let err = |arg, error| RunDaysError { arg, error };
        let day = |arg: DaysArg, s: &str| s.parse::<Day>().map_err(|e| err(arg, e));
        match (date, from, to) {
            (None, None, None) => Ok(RunDays::AllInSource),
            (Some(d), None, None) => Ok(RunDays::One(day(DaysArg::Date, d)?)),
            (None, Some(f), Some(t)) => {
                let (f, t) = (day(DaysArg::From, f)?, day(DaysArg::To, t)?);
                DayRange::new(f, t)
                    .map(RunDays::Range)
                    .map_err(|e| err(DaysArg::To, e))
            }
            (Some(_), _, _) => Err(err(
                DaysArg::Date,
                Error::config(
                    Setting::Days,
                    "give either a date or a range (from and to), not both",
                ),
            )),
            (None, Some(_), None) => Err(err(
                DaysArg::To,
                Error::config(
                    Setting::DateRange,
                    "a range needs its last day too: give from and to, or a single date",
                ),
            )),
            (None, None, Some(_)) => Err(err(
                DaysArg::From,
                Error::config(
                    Setting::DateRange,
                    "a range needs its first day too: give from and to, or a single date",
                ),
            )),
        }
    }
}

/// Where a run reads or writes: a location that [`RunConfig::prepare`]
/// opens, or a connection that is already open (e.g. a server's pool).
enum Store<T: ?Sized> {
    At(Location),
    Open(Arc<T>),
}

impl<T: ?Sized> Store<T> {
    fn location(&self) -> Option<&Location> {
        match self {
            Store::At(l) => Some(l),
            Store::Open(_) => None,
        }
    }
}

impl<T: ?Sized> Clone for Store<T> {
    fn clone(&self) -> Self {
        match self {
            Store::At(l) => Store::At(l.clone()),
            Store::Open(s) => Store::Open(s.clone()),
        }
    }
}

impl<T: ?Sized> fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::At(l) => write!(f, "{l:?}"),
            Store::Open(_) => f.write_str("Open(..)"),
        }
    }
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
    source: Store<dyn Extract>,
    target: Store<dyn Load>,
    layout: SourceLayout,
    files: FileOptions,
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

    /// The source location (`None` for a source that was given open).
    pub fn source(&self) -> Option<&Location> {
        self.source.location()
    }

    /// The target location (`None` for a target that was given open).
    pub fn target(&self) -> Option<&Location> {
        self.target.location()
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

    /// Opens source and target (PostgreSQL pools sized for the jobs; a
    /// store given open is used as it is), checks the variables and angles
    /// against the source's channels, and lists the days.
    pub async fn prepare(&self) -> Result<PreparedRun> {
        let pool_size = pool_size_for_jobs(self.jobs);
        // A file source is read once, here: its days come from what it read.
        let mut file_days = None;
        let source: Arc<dyn Extract> = match &self.source {
            Store::At(Location::Files(pattern)) => {
                let vars: Option<Vec<String>> = self
                    .variables
                    .as_ref()
                    .map(|v| v.iter().map(|s| s.trim().to_string()).collect());
                let files =
                    FileSource::open_async(pattern, &self.layout, &self.files, vars.as_deref())
                        .await?;
                file_days = Some(files.days());
                Arc::new(files)
            }
            Store::At(l) => l.open_source_layout(&self.layout, pool_size).await?,
            Store::Open(s) => s.clone(),
        };
        let target = match &self.target {
            Store::At(l) => l.open_target_with_pool_size(pool_size).await?,
            Store::Open(t) => t.clone(),
        };
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
                Setting::Angles,
                format!(
                    "`{a}` is not among the variables of this run ({}); add it to the variables",
                    pipeline.variables().join(", ")
                ),
            ));
        }
        let days = match self.days {
            RunDays::One(d) => vec![d],
            RunDays::Range(r) => r.iter().collect(),
            RunDays::AllInSource => match &self.source {
                Store::At(Location::Files(_)) => {
                    let mut days: Vec<Day> = file_days
                        .unwrap_or_default()
                        .into_iter()
                        .flat_map(|d| self.zone.days_touching(d.range()))
                        .collect();
                    days.dedup();
                    days
                }
                Store::At(l) => l.source_days_in(&self.layout, self.zone).await?,
                Store::Open(s) => {
                    return Err(Error::config(
                        Setting::Days,
                        format!(
                            "the open source {} cannot list its days: give a day or a range",
                            s.describe()
                        ),
                    ))
                }
            },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Generator;
    use crate::store::LocalStore;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn days_from_args() {
        assert_eq!(
            RunDays::from_args(None, None, None).unwrap(),
            RunDays::AllInSource
        );
        assert_eq!(
            RunDays::from_args(Some(" 2024-01-02 "), None, None).unwrap(),
            RunDays::One(day("2024-01-02"))
        );
        assert_eq!(
            RunDays::from_args(None, Some("2024-01-01"), Some("2024-01-03")).unwrap(),
            RunDays::Range(DayRange::new(day("2024-01-01"), day("2024-01-03")).unwrap())
        );
        assert_eq!(
            RunDays::from_args(None, Some("2024-01-01"), Some("2024-01-01")).unwrap(),
            RunDays::Range(DayRange::single(day("2024-01-01")))
        );
    }

    #[test]
    fn days_from_bad_args() {
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            DaysArg,
            &'a str,
        );
        let cases: &[Case] = &[
            (
                Some("2024-13-01"),
                None,
                None,
                DaysArg::Date,
                "invalid date: `2024-13-01` is not a date of the form YYYY-MM-DD",
            ),
            (
                None,
                Some("2024-02-30"),
                Some("2024-03-01"),
                DaysArg::From,
                "invalid date: `2024-02-30` is not a date of the form YYYY-MM-DD",
            ),
            (
                None,
                Some("2024-01-01"),
                Some("01/02/2024"),
                DaysArg::To,
                "invalid date: `01/02/2024` is not a date of the form YYYY-MM-DD",
            ),
            (
                None,
                Some("2024-01-05"),
                Some("2024-01-01"),
                DaysArg::To,
                "invalid date range: the range 2024-01-05 .. 2024-01-01 is empty: --to must not be before --from",
            ),
            (
                Some("2024-01-01"),
                Some("2024-01-01"),
                Some("2024-01-02"),
                DaysArg::Date,
                "invalid days: give either a date or a range (from and to), not both",
            ),
            // The shape is checked before the dates.
            (
                Some("nonsense"),
                None,
                Some("2024-01-02"),
                DaysArg::Date,
                "not both",
            ),
            (
                None,
                Some("2024-01-01"),
                None,
                DaysArg::To,
                "invalid date range: a range needs its last day too",
            ),
            (
                None,
                None,
                Some("2024-01-01"),
                DaysArg::From,
                "invalid date range: a range needs its first day too",
            ),
        ];
        for (date, from, to, arg, needle) in cases {
            let e = RunDays::from_args(*date, *from, *to).unwrap_err();
            assert_eq!(e.arg, *arg, "{date:?} {from:?} {to:?}: {e}");
            assert!(
                e.to_string().starts_with(needle) || e.to_string().contains(needle),
                "{e}"
            );
            assert_eq!(e.to_string(), Error::from(e).to_string());
        }
    }

    #[tokio::test]
    async fn open_stores_get_the_same_checks() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let d = day("2024-01-01");
        let loc = Location::Local(dir.path().to_path_buf());
        loc.generate(DayRange::single(d), &Generator::default(), |_| {})
            .await
            .unwrap();
        let open = || {
            RunConfig::builder_for(Arc::new(store.source()), Arc::new(store.target()))
                .days(RunDays::One(d))
        };
        let at = || RunConfig::builder(loc.clone(), loc.clone()).days(RunDays::One(d));
        // An angle that is not among the variables of the run (the defaults).
        for b in [open(), at()] {
            let e = b
                .angles(["ambient_temperature"])
                .build()
                .unwrap()
                .prepare()
                .await
                .err()
                .unwrap()
                .to_string();
            assert_eq!(
                e,
                "invalid angles: `ambient_temperature` is not among the variables of this run (wind_speed, power); add it to the variables"
            );
        }
        // An angle that is not a channel of the source.
        for b in [open(), at()] {
            let e = b
                .variables(["wind_speed", "wind_direction"])
                .angles(["wind_direction"])
                .build()
                .unwrap()
                .prepare()
                .await
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains("unknown variable `wind_direction`"), "{e}");
        }
        // An open source cannot list its days.
        let e = RunConfig::builder_for(Arc::new(store.source()), Arc::new(store.target()))
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot list its days"), "{e}");
        // A run of open stores writes what a run of locations writes.
        let config = open().build().unwrap();
        assert!(config.source().is_none());
        let summary = config.run(|_| {}).await.unwrap();
        assert_eq!(summary.loaded(), 1);
        assert_eq!(summary.windows(), 144);
    }
}
