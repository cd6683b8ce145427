//! The load record of a target directory: `<dir>/.windcore-load.json`,
//! hidden from Parquet readers, mapping `zone/day` to the fingerprint of each
//! asset loaded (what an incremental run compares with the source).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::files::temp_path;
use crate::day::Day;
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;

/// The record's file name in the target directory.
const FILE_NAME: &str = ".windcore-load.json";

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
        Ok(self.read()?.remove(&key(day, zone)).unwrap_or_default())
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
        let mut all = self.read()?;
        let entry = all.entry(key(day, zone)).or_default();
        match scope {
            Some(assets) => entry.retain(|a, _| !assets.contains(a)),
            None => entry.clear(),
        }
        entry.extend(fingerprints.iter().map(|(a, f)| (a.clone(), f.clone())));
        self.write(&all)
    }

    fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn read(&self) -> Result<BTreeMap<String, Fingerprints>> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::io(
                    "reading",
                    &path,
                    std::io::Error::other(format!("not a windcore load record: {e}")),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }

    /// Replaces the record atomically: temp file, fsync, rename.
    fn write(&self, record: &BTreeMap<String, Fingerprints>) -> Result<()> {
        let path = self.path();
        let tmp = temp_path(self.dir, FILE_NAME);
        let bytes = serde_json::to_vec(record)
            .map_err(|e| Error::io("writing", &path, std::io::Error::other(e.to_string())))?;
        let result = (|| {
            let mut f = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
            std::io::Write::write_all(&mut f, &bytes).map_err(|e| Error::io("writing", &tmp, e))?;
            f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
            fs::rename(&tmp, &path).map_err(|e| Error::io("renaming into place", &path, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// The record's key of `day` in `zone`.
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
        // One hidden file, no temporary file left behind.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [FILE_NAME]);
    }

    #[test]
    fn a_damaged_record_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        let err = LoadRecord::new(dir.path())
            .loaded("2024-01-01".parse().unwrap(), "UTC")
            .unwrap_err();
        assert!(
            err.to_string().contains("not a windcore load record"),
            "{err}"
        );
    }
}
