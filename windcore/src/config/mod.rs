//! One run configuration for every front door: the CLI, the Python module
//! and the API build a [`RunConfig`] from their own arguments and call
//! [`RunConfig::run`]; the assembly of source, target, transform and
//! pipeline lives here only.
//!
//! `days`: which days a run covers, from the arguments every front door
//! takes. `builder`: the builder, its defaults and its validation. Here:
//! the validated run, and how it is prepared and run.

mod builder;
mod days;

use std::fmt;
use std::sync::Arc;

use crate::day::Day;
use crate::error::{Error, Result};
use crate::files::{FileOptions, FileSource};
use crate::location::Location;
use crate::pipeline::Pipeline;
use crate::postgres::{pool_size_for_jobs, SourceLayout};
use crate::report::{DayReport, RunSummary};
use crate::resample::Resampler;
use crate::setting::Setting;
use crate::traits::{Extract, Load};
use crate::zone::Zone;

pub use builder::RunConfigBuilder;
pub use days::{DaysArg, RunDays, RunDaysError};

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

/// A run ready to go: the pipeline (source and target open) and its days.
pub struct PreparedRun {
    /// The pipeline, with source and target connected.
    pub pipeline: Pipeline,
    /// The days to process, in order.
    pub days: Vec<Day>,
}

impl RunConfig {
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
                // (Counters and states are read besides the variables.)
                let vars: Option<Vec<String>> = self.variables.as_ref().map(|v| {
                    v.iter()
                        .map(|s| s.trim().to_string())
                        .chain(self.resampler.carried())
                        .collect()
                });
                let files =
                    FileSource::open_async(pattern, &self.layout, &self.files, vars.as_deref())
                        .await?;
                file_days = Some(files.days_in(self.zone));
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
                Store::At(Location::Files(_)) => file_days.unwrap_or_default(),
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
    use crate::day::DayRange;
    use crate::generate::Generator;
    use crate::store::LocalStore;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
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
