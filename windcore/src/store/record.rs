//! The load record of a target directory: what an incremental run compares
//! with the source, the fingerprint of each asset loaded per (zone, day).
//!
//! One small JSON file per (zone, day) under `<dir>/.windcore-load/` (hidden
//! from Parquet readers), so that loading a day reads and rewrites that day's
//! entry only: a backfill of years costs the same per day as one of a week.
//! A record written by an earlier windcore as one file, `<dir>/.windcore-load.json`,
//! is still read for the days that have no file of their own.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::files::temp_path;
use crate::day::Day;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;

/// The record's directory in the target directory.
const DIR_NAME: &str = ".windcore-load";
/// The single-file record of earlier versions (read only).
const LEGACY_FILE: &str = ".windcore-load.json";

/// The load record of the target directory `dir`.
pub(super) struct LoadRecord<'a> {
    dir: &'a Path,
}

impl<'a> LoadRecord<'a> {
    /// The record of the target in `dir`.
    pub(super) fn new(dir: &'a Path) -> Self {
        LoadRecord { dir }
    }

    /// The fingerprints loaded for `day` in `zone` (empty if none).
    pub(super) fn loaded(&self, day: Day, zone: &str) -> Result<Fingerprints> {
        let path = self.day_path(day, zone);
        match fs::read(&path) {
            Ok(bytes) => parse(&path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(self.legacy()?.remove(&key(day, zone)).unwrap_or_default())
            }
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }

    /// Records `fingerprints` as loaded for `day` in `zone`: they replace
    /// those of the assets in `scope` (of every asset without one).
    pub(super) fn update(
        &self,
        day: Day,
        zone: &str,
        scope: Option<&[String]>,
        fingerprints: &Fingerprints,
    ) -> Result<()> {
        let mut entry = match scope {
            Some(assets) => {
                let mut e = self.loaded(day, zone)?;
                e.retain(|a, _| !assets.contains(a));
                e
            }
            None => Fingerprints::new(),
        };
        entry.extend(fingerprints.iter().map(|(a, f)| (a.clone(), f.clone())));
        self.write(&self.day_path(day, zone), &entry)
    }

    /// `<dir>/.windcore-load/<zone>.<day>.json`, the zone's `/` as `~`.
    fn day_path(&self, day: Day, zone: &str) -> PathBuf {
        self.dir
            .join(DIR_NAME)
            .join(format!("{}.{day}.json", zone.replace('/', "~")))
    }

    fn legacy(&self) -> Result<BTreeMap<String, Fingerprints>> {
        let path = self.dir.join(LEGACY_FILE);
        match fs::read(&path) {
            Ok(bytes) => parse(&path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }

    /// Replaces one day's entry atomically: temp file, fsync, rename.
    fn write(&self, path: &Path, entry: &Fingerprints) -> Result<()> {
        let dir = self.dir.join(DIR_NAME);
        fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let tmp = temp_path(&dir, &format!(".{name}"));
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| Error::io("writing", path, std::io::Error::other(e.to_string())))?;
        let result = (|| {
            let mut f = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
            std::io::Write::write_all(&mut f, &bytes).map_err(|e| Error::io("writing", &tmp, e))?;
            f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
            fs::rename(&tmp, path).map_err(|e| Error::io("renaming into place", path, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::io(
            "reading",
            path,
            std::io::Error::other(format!("not a windcore load record: {e}")),
        )
    })
}

/// The legacy record's key of `day` in `zone`.
fn key(day: Day, zone: &str) -> String {
    format!("{zone}/{day}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(pairs: &[(&str, &str)]) -> Fingerprints {
        pairs
            .iter()
            .map(|(a, f)| (a.to_string(), f.to_string()))
            .collect()
    }

    #[test]
    fn an_update_replaces_the_assets_in_its_scope() {
        let dir = tempfile::tempdir().unwrap();
        let record = LoadRecord::new(dir.path());
        let d: Day = "2024-01-01".parse().unwrap();
        assert!(record.loaded(d, "UTC").unwrap().is_empty());
        record
            .update(d, "UTC", None, &fps(&[("T01", "a"), ("T02", "b")]))
            .unwrap();
        record
            .update(d, "UTC", Some(&["T02".into()]), &fps(&[("T02", "c")]))
            .unwrap();
        assert_eq!(
            record.loaded(d, "UTC").unwrap(),
            fps(&[("T01", "a"), ("T02", "c")])
        );
        // Another zone is another entry.
        record
            .update(d, "Europe/Berlin", None, &fps(&[("T01", "x")]))
            .unwrap();
        assert_eq!(record.loaded(d, "UTC").unwrap().len(), 2);
        // Without a scope, every asset of the day is replaced.
        record
            .update(d, "UTC", None, &fps(&[("T03", "z")]))
            .unwrap();
        assert_eq!(record.loaded(d, "UTC").unwrap(), fps(&[("T03", "z")]));
        // One hidden directory, a file per (zone, day), no temporary file left behind.
        let names = |p: &Path| -> Vec<String> {
            let mut v: Vec<String> = fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(dir.path()), [DIR_NAME]);
        assert_eq!(
            names(&dir.path().join(DIR_NAME)),
            ["Europe~Berlin.2024-01-01.json", "UTC.2024-01-01.json"]
        );
    }

    #[test]
    fn a_record_of_an_earlier_version_is_read_until_a_day_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(LEGACY_FILE),
            br#"{"UTC/2024-01-01":{"T01":"a","T02":"b"},"UTC/2024-01-02":{"T01":"c"}}"#,
        )
        .unwrap();
        let record = LoadRecord::new(dir.path());
        let (d1, d2): (Day, Day) = ("2024-01-01".parse().unwrap(), "2024-01-02".parse().unwrap());
        assert_eq!(
            record.loaded(d1, "UTC").unwrap(),
            fps(&[("T01", "a"), ("T02", "b")])
        );
        record
            .update(d1, "UTC", Some(&["T02".into()]), &fps(&[("T02", "z")]))
            .unwrap();
        assert_eq!(
            record.loaded(d1, "UTC").unwrap(),
            fps(&[("T01", "a"), ("T02", "z")])
        );
        assert_eq!(record.loaded(d2, "UTC").unwrap(), fps(&[("T01", "c")]));
    }

    #[test]
    fn a_damaged_record_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(DIR_NAME)).unwrap();
        fs::write(
            dir.path().join(DIR_NAME).join("UTC.2024-01-01.json"),
            b"{not json",
        )
        .unwrap();
        let err = LoadRecord::new(dir.path())
            .loaded("2024-01-01".parse().unwrap(), "UTC")
            .unwrap_err();
        assert!(
            err.to_string().contains("not a windcore load record"),
            "{err}"
        );
    }
}
