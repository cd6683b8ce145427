//! The report of a run: what each day's input held and what the rules left
//! out ([`Quality`]), what happened to each day ([`DayOutcome`],
//! [`DayReport`]) and the run as a whole ([`RunSummary`]), with the one
//! failure message and list of days to re-run that every front door prints.
//!
//! Every type here serialises with serde (days as `YYYY-MM-DD`, durations as
//! seconds, an error as its message), so a front door can hand a report on
//! as one structure, and deserialises again (a failed day's error becomes an
//! [`Error::Reported`] with its message), so that the reports of parts of a
//! run made elsewhere (e.g. on the workers of a cluster) can be put together
//! with [`RunSummary::merge`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::day::Day;
use crate::error::Error;

mod quality;
pub use quality::{BadRow, BadRows, Quality, BAD_ROW_EXAMPLES};

/// What happened to one day.
///
/// Serialised as `{"outcome": "<name>"}`, with `"error": "<message>"` for a
/// failed day (see [`name`](Self::name)); deserialised from the same, a
/// failed day's error as an [`Error::Reported`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    tag = "outcome",
    content = "error",
    rename_all = "snake_case",
    from = "OutcomeText"
)]
pub enum DayOutcome {
    /// Statistics were computed and loaded.
    Loaded,
    /// The source has no rows for the day; nothing was written.
    NoSourceRows,
    /// Incremental run: no (day, asset) pair changed since it was loaded;
    /// nothing was written.
    Unchanged,
    /// The day failed; its previous contents in the target are untouched.
    Failed(#[serde(serialize_with = "error_message", deserialize_with = "reported_error")] Error),
    /// Not attempted, because an earlier day failed.
    Skipped,
}

/// The report of one day.
///
/// Serialised flat: the outcome's `outcome` (and `error`) beside the other
/// fields; the times as `extract_seconds`, `transform_seconds` and
/// `load_seconds`. When deserialising, only `day` and `outcome` are needed:
/// a counter or time left out is 0.
#[derive(Debug, Serialize, Deserialize)]
pub struct DayReport {
    /// The day.
    pub day: Day,
    /// What happened.
    #[serde(flatten)]
    pub outcome: DayOutcome,
    /// Source rows read.
    #[serde(default)]
    pub rows_in: u64,
    /// Windows with at least one statistic.
    #[serde(default)]
    pub windows: u64,
    /// Target rows written.
    #[serde(default)]
    pub rows_out: u64,
    /// Time spent extracting.
    #[serde(
        rename = "extract_seconds",
        default,
        serialize_with = "seconds",
        deserialize_with = "from_seconds"
    )]
    pub extract: Duration,
    /// Time spent transforming.
    #[serde(
        rename = "transform_seconds",
        default,
        serialize_with = "seconds",
        deserialize_with = "from_seconds"
    )]
    pub transform: Duration,
    /// Time spent loading.
    #[serde(
        rename = "load_seconds",
        default,
        serialize_with = "seconds",
        deserialize_with = "from_seconds"
    )]
    pub load: Duration,
    /// What the day's input held and what the rules left out.
    #[serde(default)]
    pub quality: Quality,
    /// Assets in the day's source (1 for a source with one asset).
    #[serde(default)]
    pub assets: u64,
    /// Incremental runs: assets whose samples did not change (not written).
    #[serde(default)]
    pub assets_unchanged: u64,
    /// Incremental runs: assets whose samples changed (rewritten).
    #[serde(default)]
    pub assets_changed: u64,
    /// Incremental runs: assets not loaded before (written).
    #[serde(default)]
    pub assets_new: u64,
    /// Incremental runs: assets loaded before that have no samples any more
    /// (their statistics of the day deleted).
    #[serde(default)]
    pub assets_removed: u64,
    /// Signals whose names came from the data that the day's load wrote
    /// besides the pipeline's own (a state channel's `<s>_seconds_<state>`
    /// for each state present), in the order they first appeared.
    #[serde(default)]
    pub data_signals: Vec<String>,
}

impl DayOutcome {
    /// The outcome's stable lower-case name, as reports show it and as the
    /// Python module and the API return it: `loaded`, `no_source_rows`,
    /// `unchanged`, `failed` or `skipped`.
    pub fn name(&self) -> &'static str {
        match self {
            DayOutcome::Loaded => "loaded",
            DayOutcome::NoSourceRows => "no_source_rows",
            DayOutcome::Unchanged => "unchanged",
            DayOutcome::Failed(_) => "failed",
            DayOutcome::Skipped => "skipped",
        }
    }

    /// The error of a failed day.
    pub fn error(&self) -> Option<&Error> {
        match self {
            DayOutcome::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl DayReport {
    /// An empty report of `day` with `outcome`.
    pub(crate) fn new(day: Day, outcome: DayOutcome) -> Self {
        DayReport {
            day,
            outcome,
            rows_in: 0,
            windows: 0,
            rows_out: 0,
            extract: Duration::ZERO,
            transform: Duration::ZERO,
            load: Duration::ZERO,
            quality: Quality::default(),
            assets: 0,
            assets_unchanged: 0,
            assets_changed: 0,
            assets_new: 0,
            assets_removed: 0,
            data_signals: Vec::new(),
        }
    }

    /// A day whose `assets` all match their load record: nothing read or written.
    pub(crate) fn unchanged(day: Day, assets: u64) -> Self {
        DayReport {
            assets,
            assets_unchanged: assets,
            ..DayReport::new(day, DayOutcome::Unchanged)
        }
    }
}

impl DayReport {
    /// The reports of parts of one day as one (see [`RunSummary::merge`]).
    fn merge(day: Day, reports: Vec<DayReport>) -> DayReport {
        let mut out = DayReport::new(day, DayOutcome::Loaded);
        let mut outcomes = Vec::with_capacity(reports.len());
        for r in reports {
            out.rows_in += r.rows_in;
            out.windows += r.windows;
            out.rows_out += r.rows_out;
            out.extract += r.extract;
            out.transform += r.transform;
            out.load += r.load;
            out.quality += r.quality;
            out.assets += r.assets;
            out.assets_unchanged += r.assets_unchanged;
            out.assets_changed += r.assets_changed;
            out.assets_new += r.assets_new;
            out.assets_removed += r.assets_removed;
            union_into(&mut out.data_signals, r.data_signals);
            outcomes.push(r.outcome);
        }
        out.outcome = DayOutcome::merge(outcomes, out.rows_in);
        out
    }
}

impl DayOutcome {
    /// The outcome of a day from those of its parts (see [`RunSummary::merge`]).
    fn merge(mut parts: Vec<DayOutcome>, rows_in: u64) -> DayOutcome {
        use DayOutcome::*;
        if let Some(i) = parts.iter().position(|o| matches!(o, Failed(_))) {
            return parts.swap_remove(i);
        }
        if parts.iter().any(|o| matches!(o, Skipped)) {
            Skipped
        } else if rows_in == 0 && parts.iter().all(|o| matches!(o, Loaded | NoSourceRows)) {
            NoSourceRows
        } else if !parts.is_empty() && parts.iter().all(|o| matches!(o, Unchanged)) {
            Unchanged
        } else {
            Loaded
        }
    }
}

/// The report of a run over several days.
///
/// Serialised as its days, `elapsed_seconds`, the source's notes and its bad rows.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RunSummary {
    /// One report per day, in day order.
    pub days: Vec<DayReport>,
    /// Wall-clock time of the run.
    #[serde(
        rename = "elapsed_seconds",
        default,
        serialize_with = "seconds",
        deserialize_with = "from_seconds"
    )]
    pub elapsed: Duration,
    /// What the source says a user should know (e.g. a table read without
    /// an index on its time column), once per run.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Rows of the source that were not samples (a file source's rows whose
    /// time or a number did not parse), with the first few.
    #[serde(default)]
    pub bad_rows: BadRows,
}

impl RunSummary {
    /// The summaries of parts of one run (e.g. the (day, asset batch) tasks
    /// of a cluster, each run on its own) as one summary: one report per day,
    /// in day order, whose counters, times and quality are the sums over the
    /// day's reports in the parts. The day's outcome: `failed` (with the
    /// first failure's error, in the order of `parts`) if any part failed,
    /// else `skipped` if any part was skipped, else `no_source_rows` if no
    /// part read a row and each was loaded or had none, else `unchanged` if
    /// every part was unchanged, else `loaded`. `elapsed` is the sum of the
    /// parts' (their work, not the wall time of parts run side by side); the
    /// notes are those of every part, each once; the bad rows are counted
    /// over the parts, with the first few examples.
    pub fn merge(parts: impl IntoIterator<Item = RunSummary>) -> RunSummary {
        let mut by_day: BTreeMap<Day, Vec<DayReport>> = BTreeMap::new();
        let mut merged = RunSummary::default();
        for part in parts {
            merged.elapsed += part.elapsed;
            for report in part.days {
                by_day.entry(report.day).or_default().push(report);
            }
            for note in part.notes {
                if !merged.notes.contains(&note) {
                    merged.notes.push(note);
                }
            }
            merged.bad_rows.absorb(part.bad_rows);
        }
        merged.days = by_day
            .into_iter()
            .map(|(day, reports)| DayReport::merge(day, reports))
            .collect();
        merged
    }

    /// The signals the run wrote: `fixed` (the pipeline's own,
    /// `Pipeline::signals`), then those whose names came from the data (a
    /// state channel's `<s>_seconds_<state>`) in the order days wrote them.
    pub fn signals_written(&self, fixed: &[String]) -> Vec<String> {
        let mut out = fixed.to_vec();
        for day in &self.days {
            union_into(&mut out, day.data_signals.iter().cloned());
        }
        out
    }

    /// Days whose statistics were loaded.
    pub fn loaded(&self) -> usize {
        self.count(|o| matches!(o, DayOutcome::Loaded))
    }

    /// Days of an incremental run where nothing changed (nothing written).
    pub fn unchanged_days(&self) -> usize {
        self.count(|o| matches!(o, DayOutcome::Unchanged))
    }

    /// Incremental runs: the (day, asset) pairs that were unchanged,
    /// changed, new and removed.
    pub fn pairs(&self) -> (u64, u64, u64, u64) {
        self.days.iter().fold((0, 0, 0, 0), |a, d| {
            (
                a.0 + d.assets_unchanged,
                a.1 + d.assets_changed,
                a.2 + d.assets_new,
                a.3 + d.assets_removed,
            )
        })
    }

    /// Days without source rows.
    pub fn empty_days(&self) -> Vec<Day> {
        self.select(|o| matches!(o, DayOutcome::NoSourceRows))
    }

    /// Days that failed.
    pub fn failed(&self) -> Vec<Day> {
        self.select(|o| matches!(o, DayOutcome::Failed(_)))
    }

    /// Days to run again: the failed and the skipped ones.
    pub fn to_rerun(&self) -> Vec<Day> {
        self.select(|o| matches!(o, DayOutcome::Failed(_) | DayOutcome::Skipped))
    }

    /// The first error, if any day failed.
    pub fn first_error(&self) -> Option<(Day, &Error)> {
        self.days.iter().find_map(|r| match &r.outcome {
            DayOutcome::Failed(e) => Some((r.day, e)),
            _ => None,
        })
    }

    /// Whether every day was loaded or had no source rows.
    pub fn is_success(&self) -> bool {
        self.to_rerun().is_empty()
    }

    /// Source rows read.
    pub fn rows_in(&self) -> u64 {
        self.days.iter().map(|d| d.rows_in).sum()
    }

    /// Target rows written.
    pub fn rows_out(&self) -> u64 {
        self.days.iter().map(|d| d.rows_out).sum()
    }

    /// Windows produced.
    pub fn windows(&self) -> u64 {
        self.days.iter().map(|d| d.windows).sum()
    }

    /// The quality counters of every day, added up.
    pub fn quality(&self) -> Quality {
        let mut q = Quality::default();
        for d in &self.days {
            q += d.quality;
        }
        q
    }

    /// Days where a rule left something out (missing values, duplicate
    /// timestamps, sparse windows, rows outside the day), with their counters.
    pub fn days_with_issues(&self) -> Vec<(Day, Quality)> {
        self.days
            .iter()
            .filter(|d| d.quality.has_issues())
            .map(|d| (d.day, d.quality))
            .collect()
    }

    /// The days to run again ([`to_rerun`](Self::to_rerun)) as
    /// [`day_ranges`] writes them, e.g. `2024-01-03..2024-01-05`.
    pub fn rerun_days_text(&self) -> String {
        day_ranges(&self.to_rerun())
    }

    /// If a day failed: what to tell the user, in three lines: the first
    /// failed day and its error (with its causes), that the days already
    /// loaded are kept, and the days to re-run (as [`day_ranges`]).
    pub fn failure_message(&self) -> Option<String> {
        let (day, err) = self.first_error()?;
        let rerun = self.to_rerun();
        Some(format!(
            "day {day} failed: {}\n  days already loaded are kept; the failed day kept its previous contents.\n  re-run these {} day(s): {}",
            crate::error::error_chain(err),
            rerun.len(),
            day_ranges(&rerun)
        ))
    }

    fn count(&self, f: impl Fn(&DayOutcome) -> bool) -> usize {
        self.days.iter().filter(|d| f(&d.outcome)).count()
    }

    fn select(&self, f: impl Fn(&DayOutcome) -> bool) -> Vec<Day> {
        self.days
            .iter()
            .filter(|d| f(&d.outcome))
            .map(|d| d.day)
            .collect()
    }
}

/// Days as a list, runs of consecutive days as `first..last`, sorted, without
/// repeats, separated by spaces: `2023-12-31..2024-01-03 2024-01-05` (a
/// backfill over years of empty days is one item, not thousands).
pub fn day_ranges(days: &[Day]) -> String {
    let mut sorted = days.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j].succ() == Some(sorted[j + 1]) {
            j += 1;
        }
        out.push(match j - i {
            0 => sorted[i].to_string(),
            _ => format!("{}..{}", sorted[i], sorted[j]),
        });
        i = j + 1;
    }
    out.join(" ")
}

fn error_message<S: Serializer>(err: &Error, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::error::error_chain(err))
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A [`DayOutcome`] as it is serialised, the error as its message.
#[derive(Deserialize)]
#[serde(tag = "outcome", content = "error", rename_all = "snake_case")]
enum OutcomeText {
    Loaded,
    NoSourceRows,
    Unchanged,
    Failed(String),
    Skipped,
}

impl From<OutcomeText> for DayOutcome {
    fn from(o: OutcomeText) -> Self {
        match o {
            OutcomeText::Loaded => DayOutcome::Loaded,
            OutcomeText::NoSourceRows => DayOutcome::NoSourceRows,
            OutcomeText::Unchanged => DayOutcome::Unchanged,
            OutcomeText::Failed(message) => DayOutcome::Failed(Error::Reported(message)),
            OutcomeText::Skipped => DayOutcome::Skipped,
        }
    }
}

fn from_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let secs = f64::deserialize(d)?;
    Duration::try_from_secs_f64(secs)
        .map_err(|e| serde::de::Error::custom(format!("{secs} is not a duration in seconds ({e})")))
}

/// Appends to `out` each of `names` it does not hold yet.
fn union_into(out: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
}

#[cfg(test)]
mod tests;
