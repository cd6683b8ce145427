//! From flags to the library's validated configuration.
//!
//! The clap definitions hold what was typed; this module turns them into what
//! the commands run with: a [`RunConfig`]'s builder, a [`Generator`], a [`ServerConfig`],
//! the [`Location`]s and the [`SourceLayout`]. Every flag is checked here, in
//! the order it always was, and a bad value is reported under its flag's name
//! (`--every: ...`). Nothing here does I/O.
//!
//! A configuration error of the library names its setting ([`Setting`]);
//! [`flag_error`] and [`run_days_from_flags`] map it to the flag that set it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::TimeDelta;
use windcore::server::ServerConfig;
use windcore::{
    parse_every, parse_stats, Availability, Day, DayRange, DaysArg, Generator, Label, Location,
    RunConfig, RunConfigBuilder, RunDays, Setting, SourceLayout, Zone,
};

use super::{GenerateArgs, InitArgs, LayoutArgs, RunArgs, ServeArgs, StoreArgs};

/// The days `run` processes: `--date`, `--from`/`--to`, or every day in the
/// source (the library's rule); an error is reported under its flag.
fn run_days_from_flags(
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<RunDays> {
    RunDays::from_args(date, from, to).map_err(|e| {
        let flag = match e.arg {
            DaysArg::Date => "--date",
            DaysArg::From => "--from",
            DaysArg::To => "--to",
        };
        anyhow::Error::new(e.error).context(flag)
    })
}

/// A configuration error named by the flag that set it (`--max-range-days: ...`).
/// A setting that no flag sets, or that several flags set (a time zone, the
/// source layout, the days), is left as the library words it.
fn flag_error(e: windcore::Error) -> anyhow::Error {
    let flag = match e.setting() {
        Some(Setting::Source) => Some("--source"),
        Some(Setting::Target) => Some("--target"),
        Some(Setting::MaxRangeDays) => Some("--max-range-days"),
        Some(Setting::MaxConcurrency) => Some("--max-concurrency"),
        Some(Setting::PoolSize) => Some("--pool-size"),
        Some(Setting::WindowLength) => Some("--every"),
        Some(Setting::Stat) => Some("--stats"),
        Some(Setting::Counters) => Some("--counters"),
        Some(Setting::States) => Some("--states"),
        Some(Setting::StateHold) => Some("--state-hold"),
        Some(Setting::Availability) => Some("--availability"),
        Some(Setting::MinCount) => Some("--min-count"),
        Some(Setting::Variables) => Some("--variables"),
        Some(Setting::Angles) => Some("--angles"),
        Some(Setting::Assets) => Some("--assets"),
        Some(Setting::Label) => Some("--label"),
        Some(Setting::Jobs) => Some("--jobs"),
        Some(Setting::Turbines) => Some("--turbines"),
        Some(Setting::MissingRate) => Some("--missing-rate"),
        Some(Setting::NumberOfDays) => Some("--days"),
        Some(Setting::Delimiter) => Some("--delimiter"),
        Some(Setting::Decimal) => Some("--decimal"),
        Some(Setting::Comment) => Some("--comment"),
        Some(Setting::Quote) => Some("--quote"),
        Some(Setting::AssetPattern) => Some("--asset-pattern"),
        Some(Setting::TimeFormat) => Some("--time-format"),
        _ => None,
    };
    match flag {
        Some(f) => anyhow::Error::new(e).context(f),
        None => e.into(),
    }
}

/// A comma-separated list, blanks trimmed, empty items left out.
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

impl StoreArgs {
    /// The location given to `--<flag>`, or the --data-dir store (then `true`).
    fn location(&self, given: Option<&str>, flag: &str) -> anyhow::Result<(Location, bool)> {
        match given {
            Some(s) => Ok((
                s.parse::<Location>().with_context(|| format!("--{flag}"))?,
                false,
            )),
            None => Ok((Location::Local(self.data_dir.clone()), true)),
        }
    }
}

impl LayoutArgs {
    fn layout(&self) -> anyhow::Result<SourceLayout> {
        let naive_timezone = match &self.source_timezone {
            Some(z) => Some(z.parse::<Zone>().context("--source-timezone")?),
            None => None,
        };
        Ok(SourceLayout {
            table: self.table.clone(),
            time_column: self.time_column.clone(),
            asset_column: self.asset_column.clone(),
            naive_timezone,
        })
    }
}

/// What `run` runs: the validated configuration and what the command itself needs.
pub struct RunPlan {
    /// The run's settings, validated (built once here).
    pub config: RunConfigBuilder,
    /// Where the samples are.
    pub source: Location,
    /// Where the statistics go.
    pub target: Location,
    /// Where the samples are in the source.
    pub layout: SourceLayout,
    /// The window length.
    pub every: TimeDelta,
    /// Whether an empty source gets the demo data first, and the run the
    /// demo run's settings ([`windcore::demo::configure_for`]): every day in
    /// the source was asked for and the source is the --data-dir store.
    pub demo_if_empty: bool,
    /// No progress bar and no summary.
    pub quiet: bool,
}

impl RunPlan {
    /// Checks `run`'s flags.
    pub fn from_args(args: &RunArgs) -> anyhow::Result<Self> {
        let stats = parse_stats(&args.stats).context("--stats")?;
        let every = parse_every(&args.every).context("--every")?;
        let zone: Zone = args.timezone.parse().context("--timezone")?;
        let label: Label = args.label.parse().context("--label")?;
        let days = run_days_from_flags(
            args.date.as_deref(),
            args.from.as_deref(),
            args.to.as_deref(),
        )?;
        let (source, source_is_default) = args
            .store
            .location(args.source.source.as_deref(), "source")?;
        let (target, _) = args
            .store
            .location(args.target.target.as_deref(), "target")?;
        let layout = args.layout.layout()?;
        let mut config = RunConfig::builder(source.clone(), target.clone())
            .layout(layout.clone())
            .files(args.files.options()?)
            .stats(stats)
            .every(every)
            .min_count(args.min_count)
            .timezone(zone)
            .label(label)
            .changed_only(args.changed)
            .days(days)
            .jobs(args.jobs);
        if let Some(v) = &args.variables {
            let v = split_list(v);
            if v.is_empty() {
                bail!("--variables: the list of variables is empty");
            }
            config = config.variables(v);
        }
        if let Some(a) = &args.angles {
            config = config.angles(split_list(a));
        }
        if let Some(a) = &args.assets {
            config = config.assets(split_list(a));
        }
        if let Some(c) = &args.counters {
            config = config.counters(split_list(c));
        }
        if let Some(s) = &args.states {
            config = config.states(split_list(s));
        }
        if let Some(h) = &args.state_hold {
            config = config.state_hold(parse_every(h).context("--state-hold")?);
        }
        if let Some(path) = &args.availability {
            config = config.availability(Availability::from_path(path).map_err(flag_error)?);
        }
        config.clone().build()?;
        Ok(RunPlan {
            config,
            source,
            target,
            layout,
            every,
            demo_if_empty: days == RunDays::AllInSource && source_is_default,
            quiet: args.quiet,
        })
    }
}

/// What `generate` generates, and where.
pub struct GeneratePlan {
    /// The days to generate.
    pub days: DayRange,
    /// The generator, validated.
    pub generator: Generator,
    /// Its seed, for the summary.
    pub seed: u64,
    /// How many turbines, for the summary.
    pub turbines: u32,
    /// The source to fill.
    pub location: Location,
    /// Where the samples go in the source.
    pub layout: SourceLayout,
    /// No progress bar and no summary.
    pub quiet: bool,
}

impl GeneratePlan {
    /// Checks `generate`'s flags.
    pub fn from_args(args: &GenerateArgs) -> anyhow::Result<Self> {
        let start: Day = args.start.parse().context("--start")?;
        let days = DayRange::starting(start, args.days)?;
        let generator = Generator::builder()
            .seed(args.seed)
            .missing_rate(args.missing_rate)
            .turbines(args.turbines)
            .build()?;
        let (location, _) = args
            .store
            .location(args.source.source.as_deref(), "source")?;
        let layout = args.layout.layout()?;
        Ok(GeneratePlan {
            days,
            generator,
            seed: args.seed,
            turbines: args.turbines,
            location,
            layout,
            quiet: args.quiet,
        })
    }
}

/// What `init` prepares. The source and the target are each checked when their
/// turn comes: a bad --target after a good --source still prepares the source.
pub struct InitPlan {
    args: InitArgs,
}

impl InitPlan {
    /// Checks that `init` has something to prepare.
    pub fn from_args(args: InitArgs) -> anyhow::Result<Self> {
        if args.source.source.is_none() && args.target.target.is_none() {
            bail!("init needs --source and/or --target (or WINDCORE_SOURCE_URL / WINDCORE_TARGET_URL)");
        }
        Ok(InitPlan { args })
    }

    /// The source to prepare and its layout, if --source is given.
    pub fn source(&self) -> anyhow::Result<Option<(Location, SourceLayout)>> {
        match &self.args.source.source {
            Some(s) => {
                let location: Location = s.parse().context("--source")?;
                Ok(Some((location, self.args.layout.layout()?)))
            }
            None => Ok(None),
        }
    }

    /// The target to prepare, if --target is given.
    pub fn target(&self) -> anyhow::Result<Option<Location>> {
        match &self.args.target.target {
            Some(t) => Ok(Some(t.parse().context("--target")?)),
            None => Ok(None),
        }
    }
}

/// What `serve` serves, and where it listens.
pub struct ServePlan {
    /// The server, validated.
    pub config: ServerConfig,
    /// The address to listen on.
    pub bind: SocketAddr,
    /// Whether it serves the --data-dir store (neither --source nor --target given).
    pub default_store: bool,
    /// The --data-dir store.
    pub data_dir: PathBuf,
}

impl ServePlan {
    /// Checks `serve`'s flags.
    pub fn from_args(args: ServeArgs) -> anyhow::Result<Self> {
        let default_store = args.source.is_none() && args.target.is_none();
        let source: Location = match &args.source {
            Some(s) => s.parse().context("--source")?,
            None => Location::Local(args.data_dir.clone()),
        };
        let target: Option<Location> = match &args.target {
            Some(t) => Some(t.parse().context("--target")?),
            None if default_store => Some(source.clone()),
            None => None,
        };
        let mut builder = ServerConfig::builder(source)
            .layout(args.layout.layout()?)
            .files(args.files.options()?)
            .max_range_days(args.max_range_days)
            .request_timeout(Duration::from_secs(args.request_timeout))
            .max_concurrency(args.max_concurrency)
            .pool_size(args.pool_size)
            .access_log(!args.quiet)
            // The default store's runs follow the demo rule, as `run` does.
            .demo_runs(default_store);
        if let Some(t) = target {
            builder = builder.target(t);
        }
        if let Some(t) = args.token {
            builder = builder.token(t);
        }
        let config = builder.build().map_err(flag_error)?;
        Ok(ServePlan {
            config,
            bind: args.bind,
            default_store,
            data_dir: args.data_dir,
        })
    }
}
