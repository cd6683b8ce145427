//! Which files a file source names (a file, a glob, a directory), what
//! format each is, and opening them through their compression.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::setting::Setting;

/// The format of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Delimited text (CSV, TSV, TOA5 `.dat`), possibly `.gz` or `.zst`.
    Csv,
    /// Apache Parquet.
    Parquet,
}

const TEXT: [&str; 5] = ["csv", "tsv", "txt", "dat", "toa5"];
const PARQUET: [&str; 2] = ["parquet", "pq"];

/// The format of `path` by its name (`.csv.gz` is CSV), or `None` when the
/// name says neither.
pub(crate) fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    let ext = name.rsplit_once('.')?.1;
    if PARQUET.contains(&ext) && name.len() == path.file_name()?.len() {
        Some(Format::Parquet)
    } else if TEXT.contains(&ext) {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Whether `pattern` is a glob rather than a path.
pub(crate) fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The files `pattern` names, in sorted path order: the matches of a glob,
/// the CSV and Parquet files of a directory (not its subdirectories), or
/// one file.
pub(crate) fn list_files(pattern: &str) -> Result<Vec<PathBuf>> {
    let mut files = if is_glob(pattern) {
        let paths = glob::glob(pattern).map_err(|e| {
            Error::config(
                Setting::Source,
                format!("`{pattern}` is not a valid glob: {e}"),
            )
        })?;
        let mut v = Vec::new();
        for p in paths {
            let p = p.map_err(|e| {
                let path = e.path().to_path_buf();
                Error::io("listing", path, e.into())
            })?;
            if p.is_file() {
                v.push(p);
            }
        }
        if v.is_empty() {
            return Err(Error::config(
                Setting::Source,
                format!("no file matches `{pattern}`"),
            ));
        }
        v
    } else {
        let path = Path::new(pattern);
        let meta = std::fs::metadata(path).map_err(|e| Error::io("opening", path, e))?;
        if meta.is_dir() {
            let mut v = Vec::new();
            let entries = std::fs::read_dir(path).map_err(|e| Error::io("listing", path, e))?;
            for entry in entries {
                let p = entry.map_err(|e| Error::io("listing", path, e))?.path();
                if p.is_file() && format_of(&p).is_some() {
                    v.push(p);
                }
            }
            if v.is_empty() {
                return Err(Error::config(
                    Setting::Source,
                    format!(
                        "the directory {} holds no CSV or Parquet file (.csv, .tsv, .txt, .dat, \
                         each optionally .gz or .zst; .parquet)",
                        path.display()
                    ),
                ));
            }
            v
        } else {
            vec![path.to_path_buf()]
        }
    };
    files.sort();
    Ok(files)
}

/// The format of `path`: by its name, else by its first bytes (Parquet
/// files start with `PAR1`), else CSV.
pub(crate) fn detect(path: &Path) -> Result<Format> {
    if let Some(f) = format_of(path) {
        return Ok(f);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let n = file
        .read(&mut magic)
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(if n == 4 && &magic == b"PAR1" {
        Format::Parquet
    } else {
        Format::Csv
    })
}

/// A reader of the file's bytes, decompressed when its name ends in `.gz`
/// or `.zst`.
pub(crate) fn open_decompressed(path: &Path) -> Result<Box<dyn Read + Send>> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let name = path.to_string_lossy().to_ascii_lowercase();
    Ok(if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else if name.ends_with(".zst") {
        Box::new(zstd::stream::read::Decoder::new(file).map_err(|e| Error::io("opening", path, e))?)
    } else {
        Box::new(file)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        assert_eq!(format_of(Path::new("a/b.csv")), Some(Format::Csv));
        assert_eq!(format_of(Path::new("b.CSV.gz")), Some(Format::Csv));
        assert_eq!(format_of(Path::new("mast_Table1.dat")), Some(Format::Csv));
        assert_eq!(format_of(Path::new("x.csv.zst")), Some(Format::Csv));
        assert_eq!(format_of(Path::new("dump.parquet")), Some(Format::Parquet));
        assert_eq!(format_of(Path::new("dump.parquet.gz")), None);
        assert_eq!(format_of(Path::new("notes")), None);
    }

    #[test]
    fn listing() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.csv", "a.csv", "c.parquet", "readme.md"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let all = list_files(dir.path().to_str().unwrap()).unwrap();
        let names: Vec<_> = all
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.csv", "b.csv", "c.parquet"]);
        let pat = format!("{}/*.csv", dir.path().display());
        assert_eq!(list_files(&pat).unwrap().len(), 2);
        let none = format!("{}/*.xlsx", dir.path().display());
        assert!(list_files(&none)
            .unwrap_err()
            .to_string()
            .contains("no file matches"));
        let missing = dir.path().join("nope.csv");
        assert!(list_files(missing.to_str().unwrap())
            .unwrap_err()
            .to_string()
            .contains("nope.csv"));
    }
}
