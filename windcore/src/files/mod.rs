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
pub use source::{FileOptions, FileReport, FileSource};
pub use time::TimeFormat;

/// Whether a location string names files rather than an embedded store: a
/// glob, an existing file named as CSV or Parquet (`.csv`, `.csv.gz`, `.dat`,
/// `.parquet`, ...), or an existing directory that holds such files and no
/// `source/` or `target/` of an embedded store. Anything else needs the
/// `files:` prefix.
pub(crate) fn names_files(s: &str) -> bool {
    if s.contains("://") {
        return false;
    }
    if open::is_glob(s) {
        return true;
    }
    let path = std::path::Path::new(s);
    if path.is_file() {
        return open::format_of(path).is_some();
    }
    if path.is_dir() && !path.join("source").is_dir() && !path.join("target").is_dir() {
        return std::fs::read_dir(path).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().is_file() && open::format_of(&e.path()).is_some())
        });
    }
    false
}
