//! The names every module shares: the columns of samples and statistics, and
//! the file of one day in the embedded store.
//!
//! Stores, the pipeline, the resampler and the server all take these names
//! from here, so that none of them takes its vocabulary from another.

use crate::day::Day;

/// Name of the timestamp column, in input and output.
pub const TIMESTAMP: &str = "timestamp";

/// Name of the asset (key) column that sources with several assets provide
/// and that the long form of the statistics carries.
pub const ASSET: &str = "asset";

/// Name of the signal column of the long form.
pub const SIGNAL: &str = "signal";

/// Name of the value column of the long form.
pub const VALUE: &str = "value";

/// The name of the Parquet file that holds `day` in a directory of the
/// embedded store (`2024-01-01.parquet`).
pub(crate) fn day_file(day: Day) -> String {
    format!("{day}.parquet")
}
