//! The embedded store: Parquet files under a data directory, no database needed.
//!
//! ```text
//! windcore-data/
//!   source/2024-01-01.parquet   raw samples: [asset,] timestamp, channels (wind_speed, power, ...)
//!   target/2024-01-01.parquet   statistics, long form: [asset,] timestamp, signal, value
//!   target/.windcore-load/      the load record, a file per (zone, day) (what an incremental run compares)
//! ```
//!
//! The `asset` column is there for a farm (several turbines in one file).
//!
//! One file per UTC day and dataset. Timestamps are stored as microseconds
//! with time zone UTC. Every file is written to a hidden temporary file in the
//! same directory, flushed to disk and then renamed over the old one, so a
//! crash never leaves a half-written day and readers (pandas, polars, DuckDB,
//! which all skip hidden files) only ever see whole days.
//!
//! ```text
//! store/
//!   mod.rs      LocalStore: a data directory holding both datasets
//!   source.rs   ParquetSource: the raw samples (Extract)
//!   target.rs   ParquetTarget: the statistics in long form (Load)
//!   record.rs   the load record: fingerprints of what was loaded, per zone and day
//!   files.rs    one file per day: paths, listing, reading, atomic writes
//!   frame.rs    timestamps as UTC microseconds, rows in a time range
//! ```

mod files;
mod frame;
mod record;
mod source;
mod target;

use std::path::{Path, PathBuf};

pub use source::ParquetSource;
pub use target::ParquetTarget;

/// The default data directory of the embedded store.
pub const DEFAULT_DATA_DIR: &str = "windcore-data";

/// A data directory holding a `source` and a `target` dataset.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// The store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The raw samples, under `<root>/source`.
    pub fn source(&self) -> ParquetSource {
        ParquetSource::new(self.root.join("source"))
    }

    /// The statistics, under `<root>/target`.
    pub fn target(&self) -> ParquetTarget {
        ParquetTarget::new(self.root.join("target"))
    }
}
