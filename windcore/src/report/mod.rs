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
    fn absorb(&mut self, other: BadRows) {
        self.count += other.count;
        let room = BAD_ROW_EXAMPLES.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setting::Setting;

    fn d(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn consecutive_days_become_ranges() {
        let days = [
            d("2024-01-03"),
            d("2023-12-31"),
            d("2024-01-01"),
            d("2024-01-02"),
            d("2024-01-05"),
        ];
        assert_eq!(day_ranges(&days), "2023-12-31..2024-01-03 2024-01-05");
        assert_eq!(day_ranges(&[]), "");
    }

    #[test]
    fn failure_message_names_the_day_and_the_days_to_rerun() {
        let failed = Error::config(Setting::Jobs, "boom");
        let summary = RunSummary {
            days: vec![
                DayReport::new(d("2024-01-01"), DayOutcome::Loaded),
                DayReport::new(d("2024-01-02"), DayOutcome::Failed(failed)),
                DayReport::new(d("2024-01-03"), DayOutcome::Skipped),
                DayReport::new(d("2024-01-04"), DayOutcome::Skipped),
            ],
            elapsed: Duration::ZERO,
            ..RunSummary::default()
        };
        assert_eq!(
            summary.failure_message().unwrap(),
            "day 2024-01-02 failed: invalid jobs: boom\n  days already loaded are kept; the failed day kept its previous contents.\n  re-run these 3 day(s): 2024-01-02..2024-01-04"
        );
        assert_eq!(summary.rerun_days_text(), "2024-01-02..2024-01-04");
        assert!(RunSummary::default().failure_message().is_none());
    }

    #[test]
    fn reports_serialise_flat_with_outcome_names() {
        let mut ok = DayReport::new(d("2024-01-01"), DayOutcome::Loaded);
        ok.load = Duration::from_millis(1500);
        let summary = RunSummary {
            days: vec![
                ok,
                DayReport::new(d("2024-01-02"), DayOutcome::Failed(Error::Cancelled)),
            ],
            elapsed: Duration::from_secs(2),
            notes: vec!["a note".into()],
            ..RunSummary::default()
        };
        let v = serde_json::to_value(&summary).unwrap();
        assert_eq!(v["notes"][0], "a note");
        assert_eq!(v["bad_rows"]["count"], 0);
        assert_eq!(v["elapsed_seconds"], 2.0);
        assert_eq!(v["days"][0]["day"], "2024-01-01");
        assert_eq!(v["days"][0]["outcome"], "loaded");
        assert_eq!(v["days"][0]["load_seconds"], 1.5);
        assert!(v["days"][0].get("error").is_none());
        assert_eq!(v["days"][0]["quality"]["samples"], 0);
        assert_eq!(v["days"][1]["outcome"], "failed");
        assert_eq!(v["days"][1]["error"], "cancelled");
        for (o, name) in [
            (DayOutcome::Loaded, "loaded"),
            (DayOutcome::NoSourceRows, "no_source_rows"),
            (DayOutcome::Unchanged, "unchanged"),
            (DayOutcome::Failed(Error::Cancelled), "failed"),
            (DayOutcome::Skipped, "skipped"),
        ] {
            assert_eq!(o.name(), name);
            assert_eq!(serde_json::to_value(&o).unwrap()["outcome"], name);
        }
    }

    #[test]
    fn reports_deserialise_from_what_they_serialise() {
        let mut ok = DayReport::new(d("2024-01-01"), DayOutcome::Loaded);
        ok.rows_in = 1440;
        ok.quality.missing = 3;
        ok.transform = Duration::from_millis(250);
        let failed = Error::Day {
            day: d("2024-01-02"),
            source: Box::new(Error::config(Setting::Jobs, "boom")),
        };
        let summary = RunSummary {
            days: vec![
                ok,
                DayReport::new(d("2024-01-02"), DayOutcome::Failed(failed)),
                DayReport::new(d("2024-01-03"), DayOutcome::Skipped),
            ],
            elapsed: Duration::from_secs(2),
            notes: vec!["a note".into()],
            bad_rows: BadRows::default(),
        };
        let mut summary = summary;
        summary
            .bad_rows
            .add(std::path::Path::new("a.csv"), 3, "no time".into());
        let json = serde_json::to_string(&summary).unwrap();
        let back: RunSummary = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.failure_message(), summary.failure_message());
        assert!(matches!(
            back.days[1].outcome.error(),
            Some(Error::Reported(_))
        ));
        // Only the day and its outcome are needed.
        let short: RunSummary = serde_json::from_str(
            r#"{"days": [{"day": "2024-01-05", "outcome": "failed", "error": "lost"}]}"#,
        )
        .unwrap();
        assert_eq!(short.days[0].rows_in, 0);
        assert_eq!(short.first_error().unwrap().1.to_string(), "lost");
        let bad = r#"{"days": [{"day": "2024-02-30", "outcome": "loaded"}]}"#;
        assert!(serde_json::from_str::<RunSummary>(bad).is_err());
        let bad = r#"{"days": [{"day": "2024-01-01", "outcome": "eaten"}]}"#;
        assert!(serde_json::from_str::<RunSummary>(bad).is_err());
        let bad = r#"{"days": [], "elapsed_seconds": -1.0}"#;
        assert!(serde_json::from_str::<RunSummary>(bad).is_err());
    }

    #[test]
    fn merge_adds_up_the_parts_of_each_day() {
        let part = |day: &str, outcome: DayOutcome, rows_in: u64| {
            let mut r = DayReport::new(d(day), outcome);
            r.rows_in = rows_in;
            r.rows_out = 2 * rows_in;
            r.assets = 1;
            r.quality.samples = rows_in;
            r.load = Duration::from_secs(1);
            let mut bad_rows = BadRows::default();
            for line in 0..rows_in % 4 {
                bad_rows.add(std::path::Path::new(day), line, "bad".into());
            }
            RunSummary {
                days: vec![r],
                elapsed: Duration::from_secs(1),
                notes: vec![format!("note {}", rows_in % 2)],
                bad_rows,
            }
        };
        let merged = RunSummary::merge([
            part("2024-01-02", DayOutcome::Loaded, 10),
            part("2024-01-01", DayOutcome::Loaded, 10),
            part("2024-01-01", DayOutcome::Loaded, 5),
            part(
                "2024-01-02",
                DayOutcome::Failed(Error::Reported("a".into())),
                0,
            ),
            part(
                "2024-01-02",
                DayOutcome::Failed(Error::Reported("b".into())),
                0,
            ),
            part("2024-01-03", DayOutcome::Loaded, 0),
            part("2024-01-03", DayOutcome::NoSourceRows, 0),
            part("2024-01-04", DayOutcome::Unchanged, 7),
            part("2024-01-04", DayOutcome::Unchanged, 7),
            part("2024-01-05", DayOutcome::Unchanged, 7),
            part("2024-01-05", DayOutcome::Loaded, 7),
        ]);
        let days: Vec<String> = merged.days.iter().map(|r| r.day.to_string()).collect();
        assert_eq!(
            days,
            [
                "2024-01-01",
                "2024-01-02",
                "2024-01-03",
                "2024-01-04",
                "2024-01-05"
            ]
        );
        let outcomes: Vec<&str> = merged.days.iter().map(|r| r.outcome.name()).collect();
        assert_eq!(
            outcomes,
            ["loaded", "failed", "no_source_rows", "unchanged", "loaded"]
        );
        let first = &merged.days[0];
        assert_eq!((first.rows_in, first.rows_out, first.assets), (15, 30, 2));
        assert_eq!(first.quality.samples, 15);
        assert_eq!(first.load, Duration::from_secs(2));
        assert_eq!(merged.days[1].outcome.error().unwrap().to_string(), "a");
        assert_eq!(merged.days[1].rows_in, 10);
        assert_eq!(merged.elapsed, Duration::from_secs(11));
        assert_eq!(merged.rows_in(), 15 + 10 + 14 + 14);
        assert_eq!(merged.rerun_days_text(), "2024-01-02");
        assert_eq!(merged.notes, ["note 0", "note 1"]);
        // 2 + 2 + 1 + 3 + 3 + 3 + 3 bad rows, the first 5 kept.
        assert_eq!(merged.bad_rows.count, 17);
        assert_eq!(merged.bad_rows.first.len(), BAD_ROW_EXAMPLES);
        assert!(RunSummary::merge([]).days.is_empty());
    }
}
