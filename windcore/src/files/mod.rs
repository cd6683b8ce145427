//! Files as a source: CSV exports (any delimiter, decimal commas, comment
//! lines, `.gz` / `.zst`), Campbell Scientific TOA5 logger files and Parquet
//! dumps, named by a file, a glob or a directory.
//!
//! Every file is read once per run into a staging area of one spill file per
//! UTC day ([`stage`]); days are then extracted from it like from any other
//! source, so local days, labels, angles, coverage, quality counters and
//! incremental runs work as everywhere. Rows are the union of all files in
//! sorted path order: of duplicate (asset, timestamp) rows the later one
//! wins (and is counted, by the resampler). A row whose time or a number
//! does not parse is counted as a bad row, never a sample.

mod csv;
mod dialect;
mod open;
mod parquet;
mod rows;
mod source;
mod stage;
mod time;

pub use dialect::{CsvDialect, DEFAULT_NA};
pub use rows::{BadRow, BadRows, BAD_ROW_EXAMPLES};
pub use source::{FileOptions, FileReport, FileSource};
pub use time::TimeFormat;
