//! One Parquet file per UTC day in a directory: its path, the days present,
//! reading a day, and replacing a day atomically (a hidden temporary file,
//! flushed, then renamed over the old one).

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;

use crate::day::Day;
use crate::error::{Error, Result};

/// The file of `day` in `dir`: `<dir>/<day>.parquet`.
pub(super) fn day_path(dir: &Path, day: Day) -> PathBuf {
    dir.join(crate::schema::day_file(day))
}

/// The days that have a file in `dir`, in order (none if `dir` does not exist).
pub(super) fn list_days(dir: &Path) -> Result<Vec<Day>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("listing", dir, e)),
    };
    let mut days = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".parquet") {
            if let Ok(day) = stem.parse::<Day>() {
                days.push(day);
            }
        }
    }
    days.sort();
    Ok(days)
}

/// The file of `day` (only `columns`, if given), or `None` if there is none.
pub(super) fn read_day_file(
    dir: &Path,
    day: Day,
    columns: Option<Vec<String>>,
) -> Result<Option<DataFrame>> {
    let path = day_path(dir, day);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading", &path, e)),
    };
    let df = ParquetReader::new(file)
        .with_columns(columns)
        .finish()
        .map_err(|e| Error::io("reading", &path, std::io::Error::other(e.to_string())))?;
    Ok(Some(df))
}

/// The columns of the file of `day`, read without its rows.
pub(super) fn read_day_schema(dir: &Path, day: Day) -> Result<Schema> {
    let path = day_path(dir, day);
    let file = File::open(&path).map_err(|e| Error::io("reading", &path, e))?;
    let df = ParquetReader::new(file)
        .with_slice(Some((0, 0)))
        .finish()
        .map_err(|e| Error::io("reading", &path, std::io::Error::other(e.to_string())))?;
    Ok(df.schema().as_ref().clone())
}

/// Removes the file of `day`, if there is one.
pub(super) fn remove_day_file(dir: &Path, day: Day) -> Result<()> {
    let path = day_path(dir, day);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("removing", &path, e)),
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary path in `dir` for a writer of this process:
/// `<dir>/<prefix>.<pid>.<n>.tmp`. With a `prefix` starting with a dot the
/// file is hidden from Parquet readers.
pub(super) fn temp_path(dir: &Path, prefix: &str) -> PathBuf {
    dir.join(format!(
        "{prefix}.{}.{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `df` as the file of `day`: temp file, fsync, rename, fsync directory.
pub(super) fn write_atomic(dir: &Path, day: Day, df: &mut DataFrame) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let path = day_path(dir, day);
    let tmp = temp_path(dir, &format!(".{}", crate::schema::day_file(day)));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut w = BufWriter::new(file);
        ParquetWriter::new(&mut w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map_err(|e| Error::io("writing", &tmp, std::io::Error::other(e.to_string())))?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io("writing", &tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io("renaming into place", &path, e))?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    } else {
        remove_stale_temp_files(dir, day);
    }
    result
}

/// Removes temp files of `day` left by writers that were killed (their process
/// is gone). Best effort: on systems without `/proc` nothing is removed.
fn remove_stale_temp_files(dir: &Path, day: Day) {
    let prefix = format!(".{}.", crate::schema::day_file(day));
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let proc_root = Path::new("/proc");
        if pid != std::process::id()
            && proc_root.join("self").exists()
            && !proc_root.join(pid.to_string()).exists()
        {
            let _ = fs::remove_file(entry.path());
        }
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
    fn stale_temp_files_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let src = LocalStore::new(dir.path()).source();
        fs::create_dir_all(src.dir()).unwrap();
        // pid 0 is never a live writer; our own pid's files are left alone.
        let dead = src.dir().join(".2024-01-01.parquet.0.7.tmp");
        let ours = src.dir().join(format!(
            ".2024-01-01.parquet.{}.999.tmp",
            std::process::id()
        ));
        fs::write(&dead, b"half").unwrap();
        fs::write(&ours, b"half").unwrap();
        src.write_day(
            day("2024-01-01"),
            &Generator::default().day(day("2024-01-01")),
        )
        .unwrap();
        assert!(!dead.exists());
        assert!(ours.exists());
    }
}
