//! `windcore-cli`: generate demo data and run the 10-minute ETL.
//!
//! `main` parses the flags, turns them into the library's validated
//! configuration, calls the library and maps errors to an exit code.

mod serve;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use windcore::{
    format_every, parse_every, parse_stats, Day, DayOutcome, DayRange, Generator, Label, Location,
    Pipeline, Quality, RunConfig, RunDays, RunSummary, SourceLayout, Zone, DEFAULT_DATA_DIR,
    DEFAULT_SEED,
};

/// The first day of the demo data when no --start is given.
const DEFAULT_START: &str = "2024-01-01";
/// How many demo days `run` generates into an empty embedded store.
const DEMO_DAYS: u32 = 10;

#[derive(Parser, Debug)]
#[command(
    name = "windcore-cli",
    version,
    about = "Turn 1-minute wind-turbine samples into 10-minute statistics.",
    long_about = "Turn 1-minute wind-turbine samples (wind speed, power, wind direction, any \
numeric channel; one turbine or a whole farm) into the industry-standard 10-minute statistics \
(mean, min, max, std, count), per turbine.\n\n\
With no database at all, windcore works on an embedded store: Parquet files under \
./windcore-data (source/ holds the raw samples, target/ the statistics, one file per UTC day). \
`windcore-cli run` on an empty store first generates 10 days of demo data.\n\n\
Conventions: time is UTC unless --timezone names the reporting days' zone; a day is \
[00:00, 24:00) local (23 or 25 hours on DST days); windows are half-open [t, t+10min), \
aligned to the local clock and labelled by their start (or --label end); std is the sample standard deviation \
(ddof = 1); angles (--angles) get circular statistics; NULL/NaN samples are left out, and \
undefined statistics are not written; what a rule leaves out is counted in the summary."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the ETL: read samples, compute window statistics, replace them in the target.
    ///
    /// Without --date or --from/--to, every day present in the source is processed.
    /// Each day is replaced atomically, so running a day twice leaves the target as
    /// one run would, and an interrupted run can simply be started again.
    Run(Box<RunArgs>),
    /// Create the tables in PostgreSQL (or the directories of an embedded store); safe to repeat.
    ///
    /// Source: the reference system's `data(timestamp timestamptz primary key, wind_speed,
    /// power, ambient_temperature float8)`, or with --table/--asset-column a farm table
    /// `<table>(<asset> text, <time> timestamptz, wind_speed, power, ambient_temperature,
    /// wind_direction, nacelle_position float8, primary key (<asset>, <time>))`.
    /// Target: `signal(id, asset, name, unique (asset, name))` and
    /// `data(timestamp, signal_id, value)` keyed on (signal_id, timestamp). Existing tables are
    /// left as they are, except that a target made by an earlier windcore is migrated
    /// additively (signal gains `asset`, '' for existing rows).
    Init(InitArgs),
    /// Fill the source with seeded, deterministic demo data (1-minute samples).
    ///
    /// Wind speed is Weibull distributed (k = 2, λ = 8 m/s) with strong
    /// minute-to-minute persistence, power follows a 2 MW power curve with noise,
    /// and temperature has a daily cycle. With --turbines N (> 1) it is a farm: the
    /// turbines share the farm wind plus their own turbulence, and get a wind_direction
    /// that drifts through north and a nacelle_position that follows it with a yaw error.
    /// Existing days are replaced.
    Generate(GenerateArgs),
    /// Serve the dashboard (at /) and the connector API over HTTP; docs at /docs.
    ///
    /// Without --source/--target it serves the embedded store (--data-dir, default
    /// ./windcore-data) as source and target; an empty store first gets 10 days of demo
    /// data and their statistics, as `run` does. It prints the URL to open. With
    /// postgres:// URLs it serves the databases. The reference system's routes
    /// (/api/data, /api/signals, POST /api/run-etl, POST /api/generate-data) are aliases.
    Serve(serve::ServeArgs),
}

#[derive(Args, Debug)]
struct StoreArgs {
    /// Directory of the embedded store, used for the source and/or target when
    /// --source/--target are not given.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR, env = "WINDCORE_DATA_DIR")]
    data_dir: PathBuf,
}

#[derive(Args, Debug)]
struct SourceArg {
    /// Where the raw samples are: a postgres:// URL or an embedded store directory
    /// [default: the --data-dir store].
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_SOURCE_URL",
        hide_env_values = true
    )]
    source: Option<String>,
}

#[derive(Args, Debug)]
struct TargetArg {
    /// Where the statistics go: a postgres:// URL or an embedded store directory
    /// [default: the --data-dir store].
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_TARGET_URL",
        hide_env_values = true
    )]
    target: Option<String>,
}

impl StoreArgs {
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

/// Where the samples are in the source: table, timestamp column, asset column.
#[derive(Args, Debug)]
struct LayoutArgs {
    /// Source table (PostgreSQL; `schema.table` for another schema). Names are
    /// case-sensitive and always quoted.
    #[arg(long, value_name = "NAME", default_value = "data")]
    table: String,
    /// The timestamp column of the source (timestamptz, or timestamp read as UTC).
    #[arg(long, value_name = "COL", default_value = "timestamp")]
    time_column: String,
    /// The column that tells the assets (turbines, met masts) apart, for a source
    /// that holds a farm; statistics are then computed per asset. The embedded
    /// store uses a column named `asset` when its files have one.
    #[arg(long, value_name = "COL")]
    asset_column: Option<String>,
    /// The zone of a source whose time column holds naive local times (a logger on local
    /// time), e.g. Europe/Berlin. A time of the repeated fall-back hour is read as standard
    /// time (as PostgreSQL's AT TIME ZONE does), so the hour's two passes collide and are
    /// counted as duplicates (the later row wins). Without it naive times are UTC.
    #[arg(long, value_name = "ZONE")]
    source_timezone: Option<String>,
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

#[derive(Args, Debug)]
struct InitArgs {
    #[command(flatten)]
    source: SourceArg,
    #[command(flatten)]
    target: TargetArg,
    #[command(flatten)]
    layout: LayoutArgs,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Process this day only (YYYY-MM-DD; a local day with --timezone).
    #[arg(long, value_name = "DAY", conflicts_with_all = ["from", "to"])]
    date: Option<String>,
    /// First day of a range (YYYY-MM-DD); needs --to.
    #[arg(long, value_name = "DAY", requires = "to")]
    from: Option<String>,
    /// Last day of a range, included (YYYY-MM-DD); needs --from.
    #[arg(long, value_name = "DAY", requires = "from")]
    to: Option<String>,
    /// Variables (channels) to aggregate, comma-separated
    /// [default: wind_speed,power when the source has both, else every numeric channel].
    #[arg(long, value_name = "LIST")]
    variables: Option<String>,
    /// Variables that are angles in degrees (wind direction, nacelle position), comma-separated:
    /// their mean is the direction of the mean unit vector (350° and 10° average to 0°),
    /// std is the circular std sqrt(-2 ln R), min/max the extreme deviations from the mean.
    #[arg(long, value_name = "LIST")]
    angles: Option<String>,
    /// Fewest valid samples a window needs for its statistics; windows with fewer get only
    /// `count` (e.g. 8 of 10 one-minute samples). Counted in the summary.
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_count: u32,
    /// Statistics to compute, comma-separated (mean, min, max, std, count).
    #[arg(long, value_name = "LIST", default_value = "mean,min,max,std")]
    stats: String,
    /// Window length, e.g. 10m, 1h; must divide a day (an hour with --timezone).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    every: String,
    /// The time zone of the reporting days (IANA name, e.g. Europe/Berlin): a day is
    /// [local 00:00, next local 00:00), 23 or 25 hours on DST days (138 or 150 ten-minute
    /// windows), and --date/--from/--to are local days.
    #[arg(
        long,
        value_name = "ZONE",
        default_value = "UTC",
        env = "WINDCORE_TIMEZONE"
    )]
    timezone: String,
    /// Incremental: compare each (day, asset)'s source samples with the fingerprint recorded
    /// when it was loaded, and rewrite only the pairs that changed (late data); unchanged
    /// days are not written at all. The summary counts unchanged, changed, new and removed pairs.
    #[arg(long)]
    changed: bool,
    /// Only these assets, comma-separated (a batch of a fleet): only their rows are read
    /// and only their statistics replaced [default: every asset].
    #[arg(long, value_name = "LIST")]
    assets: Option<String>,
    /// Label each window by its `start` (t, as pandas and polars do) or its `end`
    /// (t + every, as many SCADA systems stamp 10-minute values).
    #[arg(long, value_name = "start|end", default_value = "start")]
    label: String,
    /// Days in flight at once (the extract of one overlaps the load of another), 1 to 64.
    /// A PostgreSQL source or target keeps up to max(N, 4) connections open.
    #[arg(long, value_name = "N", default_value_t = 2)]
    jobs: usize,
    #[command(flatten)]
    source: SourceArg,
    #[command(flatten)]
    target: TargetArg,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    layout: LayoutArgs,
    /// No progress bar and no summary; errors are still reported.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct GenerateArgs {
    /// Number of days to generate.
    #[arg(long, value_name = "N", default_value_t = DEMO_DAYS)]
    days: u32,
    /// First UTC day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", default_value = DEFAULT_START)]
    start: String,
    /// Random seed; the same seed and days give the same data.
    #[arg(long, value_name = "SEED", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Probability that a value is missing (NULL), in [0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    missing_rate: f64,
    /// Number of turbines: 1 is the reference layout (timestamp, wind_speed, power,
    /// ambient_temperature); more makes a farm (asset T01, T02, ...; plus wind_direction and
    /// nacelle_position). In PostgreSQL a farm needs --table and --asset-column.
    #[arg(long, value_name = "N", default_value_t = 1)]
    turbines: u32,
    #[command(flatten)]
    source: SourceArg,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    layout: LayoutArgs,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("windcore-cli: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(*args).await,
            Command::Init(args) => init(args).await,
            Command::Generate(args) => generate(args).await,
            Command::Serve(args) => serve::serve(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("windcore-cli: error: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, skipping causes already spelled out
/// by the message above them.
fn error_chain(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn parse_day(flag: &str, s: &str) -> anyhow::Result<Day> {
    s.parse::<Day>().with_context(|| format!("--{flag}"))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn progress_bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} days  {{msg}}  [{{elapsed_precise}}, eta {{eta}}]"
        ))
        .expect("valid template"),
    );
    bar
}

async fn generate_days(
    location: &Location,
    layout: &SourceLayout,
    days: DayRange,
    generator: &Generator,
    quiet: bool,
) -> anyhow::Result<u64> {
    let bar = progress_bar(days.len() as u64, quiet, "generating");
    let rows = location
        .generate_layout(layout, days, generator, |day| {
            bar.set_message(day.to_string());
            bar.inc(1);
        })
        .await
        .with_context(|| format!("generating demo data into {location}"))?;
    bar.finish_and_clear();
    Ok(rows)
}

async fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    if args.source.source.is_none() && args.target.target.is_none() {
        bail!("init needs --source and/or --target (or WINDCORE_SOURCE_URL / WINDCORE_TARGET_URL)");
    }
    let mut out = std::io::stdout().lock();
    if let Some(s) = &args.source.source {
        let loc: Location = s.parse().context("--source")?;
        loc.init_source_layout(&args.layout.layout()?).await?;
        writeln!(out, "source ready: {loc}")?;
    }
    if let Some(t) = &args.target.target {
        let loc: Location = t.parse().context("--target")?;
        loc.init_target().await?;
        writeln!(out, "target ready: {loc}")?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let start = parse_day("start", &args.start)?;
    let days = DayRange::starting(start, args.days)?;
    let generator = Generator::builder()
        .seed(args.seed)
        .missing_rate(args.missing_rate)
        .turbines(args.turbines)
        .build()?;
    let (location, _) = args
        .store
        .location(args.source.source.as_deref(), "source")?;
    let t = Instant::now();
    let layout = args.layout.layout()?;
    let rows = generate_days(&location, &layout, days, &generator, args.quiet).await?;
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        let what = if args.turbines > 1 {
            format!("{} turbines", args.turbines)
        } else {
            "one turbine".to_string()
        };
        writeln!(
            out,
            "generated {} days ({days}) of 1-minute samples of {what}, {rows} rows, seed {}, in {}\n  written to {location}",
            days.len(),
            args.seed,
            fmt_duration(t.elapsed()),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let stats = parse_stats(&args.stats).context("--stats")?;
    let every = parse_every(&args.every).context("--every")?;
    let zone: Zone = args.timezone.parse().context("--timezone")?;
    let label: Label = args.label.parse().context("--label")?;
    let days = match (&args.date, &args.from, &args.to) {
        (Some(d), _, _) => RunDays::One(parse_day("date", d)?),
        (None, Some(f), Some(t)) => RunDays::Range(
            DayRange::new(parse_day("from", f)?, parse_day("to", t)?).context("--from/--to")?,
        ),
        _ => RunDays::AllInSource,
    };
    let (source_loc, source_is_default) = args
        .store
        .location(args.source.source.as_deref(), "source")?;
    let (target_loc, _) = args
        .store
        .location(args.target.target.as_deref(), "target")?;
    let layout = args.layout.layout()?;
    let mut config = RunConfig::builder(source_loc.clone(), target_loc.clone())
        .layout(layout.clone())
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
    let config = config.build()?;

    if days == RunDays::AllInSource && source_is_default {
        // An empty embedded store gets the demo data first, as the README says.
        let present = source_loc.source_days_layout(&layout).await?;
        if present.is_empty() {
            let start: Day = DEFAULT_START.parse()?;
            let demo = DayRange::starting(start, DEMO_DAYS)?;
            if !args.quiet {
                eprintln!(
                    "the source {source_loc} is empty: generating {DEMO_DAYS} days of demo data ({demo}, seed {DEFAULT_SEED})"
                );
            }
            generate_days(
                &source_loc,
                &layout,
                demo,
                &Generator::default(),
                args.quiet,
            )
            .await?;
        }
    }
    let prepared = config.prepare().await?;
    if prepared.days.is_empty() {
        bail!("the source {source_loc} holds no samples: nothing to do (fill it with `windcore-cli generate`)");
    }
    let pipeline = prepared.pipeline;
    let bar = progress_bar(prepared.days.len() as u64, args.quiet, "running");
    let summary = pipeline
        .run(prepared.days.iter().copied(), |r| {
            bar.set_message(format!("{} {}", r.day, outcome_word(&r.outcome)));
            bar.inc(1);
        })
        .await;
    bar.finish_and_clear();

    if !args.quiet {
        print_summary(&pipeline, &summary, &target_loc, every)?;
    }
    let empty = summary.empty_days();
    if !empty.is_empty() {
        eprintln!(
            "windcore-cli: note: no source rows for {} day(s), nothing written for them: {}",
            empty.len(),
            join_days(&empty)
        );
    }
    if let Some((day, err)) = summary.first_error() {
        let rerun = summary.to_rerun();
        eprintln!(
            "windcore-cli: error: day {day} failed: {}\n  days already loaded are kept; the failed day kept its previous contents.\n  re-run these {} day(s): {}",
            error_chain(&anyhow::Error::msg(err.to_string())),
            rerun.len(),
            join_days(&rerun)
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn outcome_word(o: &DayOutcome) -> &'static str {
    match o {
        DayOutcome::Loaded => "loaded",
        DayOutcome::NoSourceRows => "no source rows",
        DayOutcome::Unchanged => "unchanged",
        DayOutcome::Failed(_) => "FAILED",
        DayOutcome::Skipped => "skipped",
    }
}

/// Days as a list, runs of consecutive days as `first..last` (a backfill over
/// years of empty days is one item, not thousands).
fn join_days(days: &[Day]) -> String {
    let mut sorted = days.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j].succ() == Some(sorted[j + 1]) {
            j += 1;
        }
        out.push(match j - i {
            0 => sorted[i].to_string(),
            _ => format!("{}..{}", sorted[i], sorted[j]),
        });
        i = j + 1;
    }
    out.join(" ")
}

fn print_summary(
    pipeline: &Pipeline,
    summary: &RunSummary,
    target: &Location,
    every: chrono::TimeDelta,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    let span = match (summary.days.first(), summary.days.last()) {
        (Some(a), Some(b)) if a.day != b.day => format!(" ({} .. {})", a.day, b.day),
        (Some(a), _) => format!(" ({})", a.day),
        _ => String::new(),
    };
    let zone = pipeline.timezone();
    let zone = if zone.is_utc() {
        String::new()
    } else {
        format!(" ({zone})")
    };
    writeln!(
        out,
        "windcore: {} day(s){span}{zone}, {} windows of {}, {} -> {}",
        summary.days.len(),
        summary.windows(),
        format_every(every),
        pipeline.source_description(),
        pipeline.target_description()
    )?;
    writeln!(out, "  days loaded   {}", summary.loaded())?;
    if pipeline.is_changed_only() {
        let (unchanged, changed, new, removed) = summary.pairs();
        writeln!(
            out,
            "  incremental   {} day(s) unchanged; (day, asset) pairs: {unchanged} unchanged, {changed} changed, {new} new, {removed} removed",
            summary.unchanged_days()
        )?;
    }
    writeln!(out, "  rows in       {}", summary.rows_in())?;
    writeln!(out, "  rows out      {}", summary.rows_out())?;
    writeln!(
        out,
        "  elapsed       {} ({:.0} rows in/s)",
        fmt_duration(summary.elapsed),
        summary.rows_in() as f64 / secs
    )?;
    writeln!(out, "  signals       {}", pipeline.signals().join(", "))?;
    let q = summary.quality();
    writeln!(
        out,
        "  quality       {} samples; {} missing values (NULL/NaN), {} duplicate timestamps dropped, \
         {} sparse windows (< min-count), {} rows outside their day",
        q.samples, q.missing, q.duplicates, q.sparse_windows, q.outside
    )?;
    let issues = summary.days_with_issues();
    const SHOWN: usize = 10;
    for (day, q) in issues.iter().take(SHOWN) {
        writeln!(out, "    {day}  {}", quality_line(q))?;
    }
    if issues.len() > SHOWN {
        writeln!(
            out,
            "    ... and {} more day(s) with something left out",
            issues.len() - SHOWN
        )?;
    }
    let results = match target {
        Location::Local(dir) => dir.join("target").display().to_string(),
        other => format!("{other} (tables signal, data)"),
    };
    writeln!(out, "  results in    {results}")?;
    Ok(())
}

/// The non-zero quality counters of a day, e.g. `3 duplicates, 12 missing`.
fn quality_line(q: &Quality) -> String {
    let parts: Vec<String> = [
        (q.missing, "missing"),
        (q.duplicates, "duplicates dropped"),
        (q.sparse_windows, "sparse windows"),
        (q.outside, "outside the day"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    parts.join(", ")
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

#[cfg(test)]
mod join_days_tests {
    use super::*;

    #[test]
    fn consecutive_days_become_ranges() {
        let d = |s: &str| s.parse::<Day>().unwrap();
        let days = [
            d("2024-01-03"),
            d("2023-12-31"),
            d("2024-01-01"),
            d("2024-01-02"),
            d("2024-01-05"),
        ];
        assert_eq!(join_days(&days), "2023-12-31..2024-01-03 2024-01-05");
        assert_eq!(join_days(&[]), "");
    }
}
