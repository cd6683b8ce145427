//! Parsed rows on their way to the staging area: a batch of samples in
//! columns, where each of a file's columns goes, and the bad rows.

use std::collections::HashMap;

/// Where a file's asset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AssetFrom {
    /// This column of the file.
    Column(usize),
    /// The name taken from the file's path (by the asset pattern).
    Constant(String),
}

/// Where each of the run's variables is found in one file.
#[derive(Debug, Clone)]
pub(crate) struct FileColumns {
    /// The time column's index.
    pub time: usize,
    /// The asset, if the source has assets.
    pub asset: Option<AssetFrom>,
    /// Per variable of the run (in the run's order): its column in this
    /// file, or `None` when the file lacks it (its samples are missing).
    pub variables: Vec<Option<usize>>,
    /// The fewest fields a row must have.
    pub needed: usize,
}

/// Samples in columns, in file order: UTC microseconds, an asset number
/// (into the source's asset names) when there are assets, and one column
/// per variable (NaN: missing).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub ts: Vec<i64>,
    pub asset: Vec<u32>,
    pub values: Vec<Vec<f64>>,
    /// Asset names in the order of their numbers local to this batch; the
    /// stager maps them to the source's numbers.
    pub names: Vec<String>,
    index: HashMap<Vec<u8>, u32>,
}

impl Batch {
    pub(crate) fn new(variables: usize, _assets: bool) -> Self {
        Batch {
            values: vec![Vec::new(); variables],
            ..Batch::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ts.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Records the asset of the row being added (`name` for a column; the
    /// constant for a file's asset).
    pub(crate) fn push_asset(&mut self, from: &AssetFrom, name: &[u8]) {
        let name = match from {
            AssetFrom::Column(_) => name,
            AssetFrom::Constant(c) => c.as_bytes(),
        };
        let id = match self.index.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(String::from_utf8_lossy(name).into_owned());
                self.index.insert(name.to_vec(), id);
                id
            }
        };
        self.asset.push(id);
    }
}
