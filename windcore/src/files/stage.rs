//! The staging area of a file source: every file is read once per run and
//! its rows are appended, in file order, to one spill file per UTC day in a
//! temporary directory; a day's extract reads its spill file back. Memory
//! stays bounded by one block of rows, whatever the size of the files.
//!
//! A spill file is a sequence of blocks, each `n` rows of one batch:
//! `n: u64`, then `n` timestamps (i64 µs UTC), `n` asset numbers (u32, when
//! the source has assets), and `n` values (f64) per variable, little-endian.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::day::Day;
use crate::error::{Error, Result};
use crate::files::rows::Batch;

const DAY_US: i64 = 86_400 * 1_000_000;
/// Spill files kept open at once; past this they are flushed and closed.
const MAX_OPEN: usize = 128;

/// One day's rows, read back.
#[derive(Debug, Default)]
pub(crate) struct DayRows {
    pub ts: Vec<i64>,
    pub asset: Vec<u32>,
    /// The requested variables, in the order asked for.
    pub values: Vec<Vec<f64>>,
}

/// The spill files of one run.
pub(crate) struct Stage {
    dir: tempfile::TempDir,
    variables: usize,
    assets: bool,
    names: Vec<String>,
    index: HashMap<String, u32>,
    open: HashMap<i64, BufWriter<File>>,
    rows: BTreeMap<i64, u64>,
    /// The first and last instant (µs) staged for each UTC day.
    spans: BTreeMap<i64, (i64, i64)>,
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stage")
            .field("dir", &self.dir.path())
            .field("days", &self.rows.len())
            .finish()
    }
}

impl Stage {
    /// An empty staging area for `variables` columns, with assets or not.
    pub(crate) fn new(variables: usize, assets: bool) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("windcore-stage-")
            .tempdir()
            .map_err(|e| Error::io("creating", std::env::temp_dir(), e))?;
        Ok(Stage {
            dir,
            variables,
            assets,
            names: Vec::new(),
            index: HashMap::new(),
            open: HashMap::new(),
            rows: BTreeMap::new(),
            spans: BTreeMap::new(),
        })
    }

    /// The asset names, indexed by their numbers in [`DayRows::asset`].
    pub(crate) fn asset_names(&self) -> &[String] {
        &self.names
    }

    /// The local days of `zone` that hold rows, in order: each UTC day's
    /// rows span `[first, last]`, and the local days they touch are listed.
    pub(crate) fn days_in(&self, zone: crate::zone::Zone) -> Vec<Day> {
        let mut days: Vec<Day> = self
            .spans
            .values()
            .filter_map(|&(first, last)| {
                let start = chrono::DateTime::from_timestamp_micros(first)?;
                let end = chrono::DateTime::from_timestamp_micros(last + 1)?;
                Some(zone.days_touching(crate::day::TimeRange { start, end }))
            })
            .flatten()
            .collect();
        days.dedup();
        days
    }

    /// The UTC days that hold rows, in order.
    pub(crate) fn days(&self) -> Vec<Day> {
        self.rows
            .keys()
            .filter_map(|&d| Day::from_days_since_epoch(d))
            .collect()
    }

    fn path(&self, day: i64) -> PathBuf {
        self.dir.path().join(format!("{day}.bin"))
    }

    /// Appends `batch`, in its order, to the spill files of its days.
    pub(crate) fn add(&mut self, batch: Batch) -> Result<()> {
        let map: Vec<u32> = batch
            .names
            .iter()
            .map(|n| match self.index.get(n) {
                Some(&id) => id,
                None => {
                    let id = self.names.len() as u32;
                    self.names.push(n.clone());
                    self.index.insert(n.clone(), id);
                    id
                }
            })
            .collect();
        // The rows of each day, in batch order (one run when sorted).
        let mut by_day: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        let mut i = 0;
        while i < batch.ts.len() {
            let d = batch.ts[i].div_euclid(DAY_US);
            let mut j = i + 1;
            while j < batch.ts.len() && batch.ts[j].div_euclid(DAY_US) == d {
                j += 1;
            }
            by_day.entry(d).or_default().extend(i as u32..j as u32);
            i = j;
        }
        let mut buf = Vec::new();
        for (day, rows) in by_day {
            buf.clear();
            buf.extend_from_slice(&(rows.len() as u64).to_le_bytes());
            for &r in &rows {
                buf.extend_from_slice(&batch.ts[r as usize].to_le_bytes());
            }
            if self.assets {
                for &r in &rows {
                    buf.extend_from_slice(&map[batch.asset[r as usize] as usize].to_le_bytes());
                }
            }
            for col in &batch.values {
                for &r in &rows {
                    buf.extend_from_slice(&col[r as usize].to_le_bytes());
                }
            }
            self.writer(day)?
                .write_all(&buf)
                .map_err(|e| Error::io("writing", self.path(day), e))?;
            *self.rows.entry(day).or_default() += rows.len() as u64;
            for &r in &rows {
                let t = batch.ts[r as usize];
                let span = self.spans.entry(day).or_insert((t, t));
                span.0 = span.0.min(t);
                span.1 = span.1.max(t);
            }
        }
        Ok(())
    }

    fn writer(&mut self, day: i64) -> Result<&mut BufWriter<File>> {
        if !self.open.contains_key(&day) {
            if self.open.len() >= MAX_OPEN {
                self.flush()?;
            }
            let path = self.path(day);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::io("writing", &path, e))?;
            self.open
                .insert(day, BufWriter::with_capacity(1 << 18, file));
        }
        Ok(self.open.get_mut(&day).expect("inserted above"))
    }

    /// Flushes and closes every spill file.
    pub(crate) fn flush(&mut self) -> Result<()> {
        for (day, mut w) in self.open.drain() {
            w.flush()
                .map_err(|e| Error::io("writing", self.dir.path().join(format!("{day}.bin")), e))?;
        }
        Ok(())
    }

    /// The rows of UTC `day` (variables `vars`, by index), in staging order.
    pub(crate) fn read(&self, day: Day, vars: &[usize]) -> Result<DayRows> {
        let d = day.days_since_epoch();
        let mut out = DayRows {
            values: vec![Vec::new(); vars.len()],
            ..DayRows::default()
        };
        let Some(&n) = self.rows.get(&d) else {
            return Ok(out);
        };
        let path = self.path(d);
        let bytes = std::fs::read(&path).map_err(|e| Error::io("reading", &path, e))?;
        out.ts.reserve(n as usize);
        let corrupt = || {
            Error::io(
                "reading",
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "staging file is truncated"),
            )
        };
        let mut pos = 0;
        let take = |pos: &mut usize, len: usize| -> Result<&[u8]> {
            let s = bytes.get(*pos..*pos + len).ok_or_else(corrupt)?;
            *pos += len;
            Ok(s)
        };
        while pos < bytes.len() {
            let rows = u64::from_le_bytes(take(&mut pos, 8)?.try_into().expect("8 bytes")) as usize;
            out.ts.extend(
                take(&mut pos, rows * 8)?
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))),
            );
            if self.assets {
                out.asset.extend(
                    take(&mut pos, rows * 4)?
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))),
                );
            }
            let base = pos;
            for (k, &v) in vars.iter().enumerate() {
                let at = base + v * rows * 8;
                let s = bytes.get(at..at + rows * 8).ok_or_else(corrupt)?;
                out.values[k].extend(
                    s.chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))),
                );
            }
            pos = base + self.variables * rows * 8;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::rows::AssetFrom;

    #[test]
    fn rows_come_back_per_day_in_order() {
        let mut stage = Stage::new(2, true).unwrap();
        let mut b = Batch::new(2, true);
        let t0 = 19_723 * DAY_US; // 2024-01-01
        for (k, (t, a)) in [
            (t0 + 5, "T2"),
            (t0 - 1, "T1"),
            (t0 + DAY_US, "T1"),
            (t0 + 7, "T1"),
        ]
        .into_iter()
        .enumerate()
        {
            b.ts.push(t);
            b.push_asset(&AssetFrom::Column(0), a.as_bytes());
            b.values[0].push(k as f64);
            b.values[1].push(-(k as f64));
        }
        stage.add(b).unwrap();
        let mut b = Batch::new(2, true);
        b.ts.push(t0 + 6);
        b.push_asset(&AssetFrom::Column(0), b"T1");
        b.values[0].push(9.0);
        b.values[1].push(f64::NAN);
        stage.add(b).unwrap();
        stage.flush().unwrap();
        let days: Vec<String> = stage.days().iter().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2023-12-31", "2024-01-01", "2024-01-02"]);
        // Local days exactly: 2023-12-31 23:59:59 UTC is already 2024-01-01 in Berlin, and
        // no row lies on Berlin's 2023-12-31 or 2024-01-03.
        let berlin: crate::zone::Zone = "Europe/Berlin".parse().unwrap();
        let local: Vec<String> = stage
            .days_in(berlin)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(local, ["2024-01-01", "2024-01-02"]);
        assert_eq!(stage.days_in(crate::zone::Zone::UTC), stage.days());
        let day = stage.read("2024-01-01".parse().unwrap(), &[1, 0]).unwrap();
        assert_eq!(day.ts, [t0 + 5, t0 + 7, t0 + 6]);
        let names: Vec<&str> = day
            .asset
            .iter()
            .map(|&a| stage.asset_names()[a as usize].as_str())
            .collect();
        assert_eq!(names, ["T2", "T1", "T1"]);
        assert_eq!(day.values[1], [0.0, 3.0, 9.0]);
        assert_eq!(&day.values[0][..2], [-0.0, -3.0]);
        assert!(day.values[0][2].is_nan());
        assert!(stage
            .read("2030-01-01".parse().unwrap(), &[0])
            .unwrap()
            .ts
            .is_empty());
    }
}
