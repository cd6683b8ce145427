//! # windcore
//!
//! An ETL toolkit for wind-turbine time series: it reads raw SCADA samples
//! (one turbine or a farm; wind speed, power, wind direction, any numeric
//! channel) from a source store, turns them into the industry-standard
//! 10-minute statistics (mean, min, max, std, count) per asset — circular
//! statistics for angles — and loads them into a target store, idempotently
//! and fast.
//!
//! ## Main types
//!
//! * [`Resampler`] — the transform: a polars DataFrame of samples in, the
//!   statistics out, in wide ([`Resampler::resample_wide`]) or long
//!   ([`Resampler::resample_long`]) form, per key ([`ResamplerBuilder::by`]),
//!   with angles ([`ResamplerBuilder::angles`]) and a coverage rule
//!   ([`ResamplerBuilder::min_count`]); [`Quality`] counts what was left out.
//!   Configured by [`ResamplerBuilder`].
//! * [`RunConfig`] — one validated run (locations, [`SourceLayout`], variables,
//!   angles, statistics, window, min_count, days, jobs) and the one function
//!   that runs it; the CLI and the Python module only build it.
//! * [`Extract`], [`Transform`], [`Load`] — the traits to plug in your own
//!   source, transform or sink.
//! * [`Pipeline`] — runs extract → transform → load for one UTC day or a range
//!   of days and reports what it did ([`RunSummary`]).
//! * [`LocalStore`] — the embedded store: Parquet files, one per UTC day.
//! * [`PostgresSource`], [`PostgresTarget`] — the reference system's
//!   PostgreSQL schema, read and written with binary COPY through a
//!   deadpool-postgres pool.
//! * [`FileSource`] — files as a source: CSV exports (any delimiter, decimal
//!   commas, comment lines, `.gz` / `.zst`), TOA5 logger files and Parquet
//!   dumps, named by a file, a glob or a directory ([`FileOptions`]); rows that
//!   do not parse are counted ([`BadRows`]), never samples.
//! * [`Location`] — a store named by one string: a directory (embedded store),
//!   a `postgres://` URL, files (a glob, a file, a directory of CSV/Parquet;
//!   source only), or (source only) the `http://` address of a
//!   `windcore-cli serve` connector API, read by [`HttpSource`].
//! * [`RunSummary`], [`DayReport`], [`Quality`] — the report of a run: what
//!   each day did, what rules left out, the days to run again, the source's
//!   notes and bad rows; serialisable with serde.
//! * [`source_assets`], [`day_fingerprints`], [`target_windows`] — what a
//!   source and a target hold (assets, fingerprints per day, windows per
//!   day and asset), for orchestrators that plan or check runs.
//! * [`availability`] — counters, states and time-based availability
//!   (IEC 61400-26-1): the [`Availability`] mapping of state values and the
//!   one ratio ([`availability::ratio`]) a window, a day or a month uses;
//!   the resampler's [`counters`](ResamplerBuilder::counters) and
//!   [`states`](ResamplerBuilder::states); [`predecessor`] — each asset's
//!   last sample before a day, which carries counters and states into it.
//! * [`Generator`] — seeded, deterministic synthetic 1-minute samples.
//! * [`demo`] — the demo data ([`DEMO_DAYS`] days of a farm of
//!   [`DEMO_TURBINES`] turbines from [`DEMO_START`]) that an empty embedded
//!   store gets, filling a store with it, and the demo run's settings.
//! * `server` (feature `server`) — the HTTP connector API and the dashboard
//!   that `windcore-cli serve` runs: `ServerConfig`, `Server`.
//!
//! ## Conventions
//!
//! * Time is UTC. A [`Day`] is `[00:00, 24:00)` UTC. Timestamps with another
//!   time zone are converted; naive timestamps are taken as UTC.
//! * A window is half-open, `[t, t + every)`, aligned to the Unix epoch and
//!   labelled by its start `t` (pandas `resample` and polars
//!   `group_by_dynamic` defaults).
//! * `std` is the sample standard deviation (ddof = 1).
//! * NULL and NaN are not samples. An undefined statistic (the std of a single
//!   sample; anything of a window with fewer than `min_count` valid samples,
//!   except `count`) is absent: null in wide form, no row in long form — never
//!   0.0. The std of identical samples is exactly 0.
//! * Statistics are per asset and window. Of several samples of one asset with
//!   the same timestamp, the last one in input order is kept (and counted).
//! * Angles in degrees: the mean is the direction of the mean unit vector, in
//!   `[0, 360)`; std is `sqrt(-2 ln R)` in degrees.
//! * Loading a day replaces that day's rows of the signals being written; a
//!   failed load leaves the previous contents untouched.
//!
//! ## Example
//!
//! ```
//! use windcore::{Day, Generator, Resampler, Stat};
//!
//! # fn main() -> windcore::Result<()> {
//! let samples = Generator::default().day("2024-01-01".parse::<Day>()?);
//! let resampler = Resampler::builder()
//!     .variables(["wind_speed", "power"])
//!     .stats([Stat::Mean, Stat::Std, Stat::Count])
//!     .build()?;
//! let wide = resampler.resample_wide(&samples)?;
//! assert_eq!(wide.height(), 144); // 144 ten-minute windows in a day
//! assert_eq!(wide.width(), 1 + 2 * 3);
//!
//! let long = resampler.resample_long(&samples)?;
//! assert_eq!(long.get_column_names(), ["timestamp", "signal", "value"]);
//! # Ok(())
//! # }
//! ```
//!
//! Running the ETL on the embedded store:
//!
//! ```no_run
//! use windcore::{Day, DayRange, LocalStore, Pipeline};
//!
//! # async fn demo() -> windcore::Result<()> {
//! let store = LocalStore::new("windcore-data");
//! let pipeline = Pipeline::builder(store.source(), store.target()).build()?;
//! let days = DayRange::new("2024-01-01".parse()?, "2024-01-10".parse()?)?;
//! let summary = pipeline.run(days.iter(), |_day| {}).await;
//! println!("{} rows in, {} rows out", summary.rows_in(), summary.rows_out());
//! # Ok(())
//! # }
//! ```
//!
//! ## Feature flags
//!
//! * `server` (off by default): `windcore::server`, the connector API and the
//!   dashboard over HTTP (axum), as `windcore-cli serve` runs them. The
//!   PostgreSQL source and target are always built.
#![deny(missing_docs)]

pub mod availability;
mod config;
mod day;
pub mod demo;
mod error;
mod files;
mod fingerprint;
mod frame;
mod generate;
mod http;
mod inspect;
mod location;
mod pipeline;
#[cfg(test)]
mod poison;
mod postgres;
pub mod predecessor;
mod report;
mod resample;
mod schema;
#[cfg(feature = "server")]
pub mod server;
mod setting;
mod store;
mod traits;
mod zone;

pub use availability::Availability;
pub use availability::{target_availability, DayAvailability};
pub use config::{DaysArg, PreparedRun, RunConfig, RunConfigBuilder, RunDays, RunDaysError};
pub use day::{Day, DayRange, TimeRange};
pub use demo::{DEMO_DAYS, DEMO_START, DEMO_TURBINES};
pub use error::{error_chain, Error, Result};
pub use files::{CsvDialect, FileOptions, FileReport, FileSource, TimeFormat, DEFAULT_NA};
pub use fingerprint::Fingerprints;
pub use generate::{
    Generator, GeneratorBuilder, DEFAULT_SEED, ENERGY_CHANNEL, FARM_VARIABLES, SOURCE_VARIABLES,
    STATES, STATE_AVAILABILITY_TOML, STATE_CHANNEL,
};
pub use http::{HttpFormat, HttpSource};
pub use inspect::{day_fingerprints, source_assets, target_windows, DayFingerprints};
pub use location::Location;
pub use pipeline::{default_variables, Pipeline, PipelineBuilder, DEFAULT_VARIABLES};
pub use postgres::{
    mask_password, pool_size_for_jobs, PostgresSource, PostgresTarget, SourceLayout,
    DEFAULT_POOL_SIZE, MAX_POOL_SIZE,
};
pub use report::{
    day_ranges, BadRow, BadRows, DayOutcome, DayReport, Quality, RunSummary, BAD_ROW_EXAMPLES,
};
pub use resample::{
    format_every, parse_every, parse_stats, Label, Resampler, ResamplerBuilder, Stat,
};
pub use schema::{ASSET, SIGNAL, TIMESTAMP, VALUE};
pub use setting::Setting;
pub use store::{LocalStore, ParquetSource, ParquetTarget, DEFAULT_DATA_DIR};
pub use traits::{Extract, Load, LoadScope, Transform};
pub use zone::Zone;

// The README's Rust quick start is compiled as a doctest, so it stays true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Re-export of the polars version windcore uses, so callers build compatible DataFrames.
pub use polars;
