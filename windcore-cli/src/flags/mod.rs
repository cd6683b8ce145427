//! The command line's flags: the clap definitions (raw strings and numbers, as
//! typed) and, in [`convert`], their conversion into the library's validated
//! configuration (`RunConfig`, `Generator`, `ServerConfig`, ...).
//!
//! The definitions of the bigger commands live in their own files (`run.rs`,
//! `generate.rs`, `serve.rs`); the groups several commands share (where the
//! store is, the source layout) and the small `init` live here.

mod convert;
mod files;
mod generate;
mod run;
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use windcore::DEFAULT_DATA_DIR;

pub use convert::{GeneratePlan, InitPlan, RunPlan, ServePlan};
pub use generate::GenerateArgs;
pub use run::RunArgs;
pub use serve::ServeArgs;

#[derive(Parser, Debug)]
#[command(
    name = "windcore-cli",
    version,
    about = "Turn 1-minute wind-turbine samples into 10-minute statistics.",
    long_about = "Turn 1-minute wind-turbine samples (wind speed, power, wind direction, any \
numeric channel; one turbine or a whole farm) into the industry-standard 10-minute statistics \
(mean, min, max, std, count, first, last, sum, median), per turbine; counters (--counters: \
the increase per window, across resets), states (--states: seconds per state) and \
time-based availability (--availability).\n\n\
With no database at all, windcore works on an embedded store: Parquet files under \
./windcore-data (source/ holds the raw samples, target/ the statistics, one file per UTC day). \
`windcore-cli run` on an empty store first generates 10 days of demo data: a farm of 3 \
turbines (wind speed, power, wind direction, an energy counter, an operating state), whose \
run, unless flags choose the channels, also gives the wind direction's circular statistics, \
the energy per window, the time in each state and the availability.\n\n\
Conventions: time is UTC unless --timezone names the reporting days' zone; a day is \
[00:00, 24:00) local (23 or 25 hours on DST days); windows are half-open [t, t+10min), \
aligned to the local clock and labelled by their start (or --label end); std is the sample standard deviation \
(ddof = 1); angles (--angles) get circular statistics; NULL/NaN samples are left out, and \
undefined statistics are not written; what a rule leaves out is counted in the summary."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// wind_direction, nacelle_position, energy, state float8, primary key (<asset>, <time>))`.
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
    /// that drifts through north and a nacelle_position that follows it with a yaw error,
    /// an energy counter (kWh since midnight UTC) and an operating state (1 running, 2 low
    /// wind, 3 fault, 4 maintenance, 5 high wind; no power unless running).
    /// Existing days are replaced.
    Generate(GenerateArgs),
    /// Serve the dashboard (at /) and the connector API over HTTP; docs at /docs.
    ///
    /// Without --source/--target it serves the embedded store (--data-dir, default
    /// ./windcore-data) as source and target; an empty store first gets 10 days of demo
    /// data (a farm of 3 turbines) and their statistics, as `run` does. It prints the URL to open. With
    /// postgres:// URLs it serves the databases. The reference system's routes
    /// (/api/data, /api/signals, POST /api/run-etl, POST /api/generate-data) are aliases.
    Serve(Box<ServeArgs>),
}

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// Directory of the embedded store, used for the source and/or target when
    /// --source/--target are not given.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR, env = "WINDCORE_DATA_DIR")]
    data_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct SourceArg {
    /// Where the raw samples are: a postgres:// URL, an embedded store directory, or
    /// files: a CSV/Parquet file, a glob such as 'exports/*.csv', or a directory of them
    /// [default: the --data-dir store].
    #[arg(
        long,
        value_name = "URL|DIR|FILES",
        env = "WINDCORE_SOURCE_URL",
        hide_env_values = true
    )]
    source: Option<String>,
}

#[derive(Args, Debug)]
pub struct TargetArg {
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

/// Where the samples are in the source: table, timestamp column, asset column.
#[derive(Args, Debug)]
pub struct LayoutArgs {
    /// Source table (PostgreSQL; `schema.table` for another schema). Names are
    /// case-sensitive and always quoted.
    #[arg(long, value_name = "NAME", default_value = "data")]
    table: String,
    /// The timestamp column of the source (timestamptz, or timestamp read as UTC). Files:
    /// the column of times [default: `timestamp` in any case, else the first column of times].
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

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    source: SourceArg,
    #[command(flatten)]
    target: TargetArg,
    #[command(flatten)]
    layout: LayoutArgs,
}
