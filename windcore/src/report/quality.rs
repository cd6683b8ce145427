//! What the input held and what the rules left out: [`Quality`] for the
//! samples, [`BadRows`] for the rows of files that were not samples.

use serde::{Deserialize, Serialize};

/// What a resampling (or a pipeline day) met in its input: the quality
/// counters. Nothing is dropped silently: every sample a rule leaves out is
/// counted here.
///
/// A counter left out when deserialising is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quality {
    /// Input rows (samples) read.
    pub samples: u64,
    /// Values (sample × variable) that are NULL or NaN, among the rows kept;
    /// they are not samples and are left out of every statistic.
    pub missing: u64,
    /// Rows dropped because a later row of the same asset has the same
    /// timestamp (the last one in input order is kept).
    pub duplicates: u64,
    /// (window, variable) pairs with fewer valid samples than `min_count`:
    /// their statistics other than `count` are absent.
    pub sparse_windows: u64,
    /// Rows outside the requested time range (counted by the pipeline, which
    /// leaves them out).
    pub outside: u64,
    /// Windows (per asset) that hold at least one input row.
    pub windows: u64,
}

impl Quality {
    /// Whether any rule left something out (missing values, duplicates,
    /// sparse windows or rows outside the range).
    pub fn has_issues(&self) -> bool {
        self.missing > 0 || self.duplicates > 0 || self.sparse_windows > 0 || self.outside > 0
    }
}

impl std::ops::AddAssign for Quality {
    fn add_assign(&mut self, o: Quality) {
        self.samples += o.samples;
        self.missing += o.missing;
        self.duplicates += o.duplicates;
        self.sparse_windows += o.sparse_windows;
        self.outside += o.outside;
        self.windows += o.windows;
    }
}

/// How many bad rows a report keeps with file, line and reason.
pub const BAD_ROW_EXAMPLES: usize = 5;

/// One bad row: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRow {
    /// The file.
    pub file: std::path::PathBuf,
    /// The line (1-based) where the row starts.
    pub line: u64,
    /// What did not parse.
    pub reason: String,
}

/// Rows that were not samples: how many, and the first few.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BadRows {
    /// How many rows did not parse.
    pub count: u64,
    /// The first [`BAD_ROW_EXAMPLES`] of them.
    pub first: Vec<BadRow>,
}

impl BadRows {
    pub(crate) fn add(&mut self, file: &std::path::Path, line: u64, reason: String) {
        self.count += 1;
        if self.first.len() < BAD_ROW_EXAMPLES {
            self.first.push(BadRow {
                file: file.to_path_buf(),
                line,
                reason,
            });
        }
    }

    /// Adds the bad rows of another part of the run (their count, and their
    /// examples while fewer than [`BAD_ROW_EXAMPLES`] are kept).
    pub(super) fn absorb(&mut self, other: BadRows) {
        self.count += other.count;
        let room = BAD_ROW_EXAMPLES.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
    }
}
