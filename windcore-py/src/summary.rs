//! The report of `windcore.run` for Python: the core's `RunSummary`
//! serialised once (serde), with the run's totals and where it ran, and
//! wrapped by the Python classes of `windcore._report` (`RunSummary`,
//! `DayReport`, `Quality`).

use chrono::{Datelike, NaiveDate};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDate;
use serde::Serialize;
use windcore::{Day, RunSummary};

use crate::errors::{exception_for, message, PipelineError};
use crate::ops::RunOutcome;

/// The totals of a run, as `RunSummary.to_dict()` gives them (JSON-friendly:
/// days as 'YYYY-MM-DD'); the Python `RunSummary` reads its attributes here.
#[derive(Serialize)]
struct Totals<'a> {
    days: usize,
    days_loaded: usize,
    rows_in: u64,
    rows_out: u64,
    windows: u64,
    elapsed_seconds: f64,
    failed_days: Vec<Day>,
    days_to_rerun: Vec<Day>,
    empty_days: Vec<Day>,
    source: &'a str,
    target: &'a str,
    signals: Vec<String>,
    error: Option<String>,
    missing: u64,
    duplicates: u64,
    sparse_windows: u64,
    outside: u64,
    days_unchanged: usize,
    pairs_unchanged: u64,
    pairs_changed: u64,
    pairs_new: u64,
    pairs_removed: u64,
}

/// What `windcore._report.RunSummary` is made of: the totals, the core's
/// report itself (its days, as serde writes them) and the texts of a failure.
#[derive(Serialize)]
struct View<'a> {
    totals: Totals<'a>,
    report: &'a RunSummary,
    days_with_issues: Vec<Day>,
    failure_message: Option<String>,
    rerun_days_text: String,
}

/// Where a run read and wrote, and what it wrote.
pub struct Origin<'a> {
    /// The source (password masked).
    pub source: &'a str,
    /// The target (password masked).
    pub target: &'a str,
    /// The pipeline's own signals (the summary adds those whose names
    /// came from the data).
    pub signals: &'a [String],
}

/// The Python `RunSummary` of a core summary.
pub fn to_python<'py>(
    py: Python<'py>,
    s: &RunSummary,
    origin: Origin<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    let quality = s.quality();
    let (pairs_unchanged, pairs_changed, pairs_new, pairs_removed) = s.pairs();
    let view = View {
        totals: Totals {
            days: s.days.len(),
            days_loaded: s.loaded(),
            rows_in: s.rows_in(),
            rows_out: s.rows_out(),
            windows: s.windows(),
            elapsed_seconds: s.elapsed.as_secs_f64(),
            failed_days: s.failed(),
            days_to_rerun: s.to_rerun(),
            empty_days: s.empty_days(),
            source: origin.source,
            target: origin.target,
            signals: s.signals_written(origin.signals),
            error: s.first_error().map(|(_, e)| message(e)),
            missing: quality.missing,
            duplicates: quality.duplicates,
            sparse_windows: quality.sparse_windows,
            outside: quality.outside,
            days_unchanged: s.unchanged_days(),
            pairs_unchanged,
            pairs_changed,
            pairs_new,
            pairs_removed,
        },
        report: s,
        days_with_issues: s.days_with_issues().into_iter().map(|(d, _)| d).collect(),
        failure_message: s.failure_message(),
        rerun_days_text: s.rerun_days_text(),
    };
    let json = serde_json::to_string(&view)
        .map_err(|e| PyValueError::new_err(format!("cannot serialise the run summary: {e}")))?;
    py.import("windcore._report")?
        .getattr("RunSummary")?
        .call_method1("_from_json", (json,))
}

/// The summary, or — if a day failed — a `PipelineError` whose message is
/// the core's `failure_message` (the failed day, the days to re-run as
/// ranges), that carries the summary (`err.summary`, `err.failed_days`,
/// `err.days_to_rerun`) and has the day's own error (e.g. a
/// `DatabaseError`) as `__cause__`.
pub fn summary_or_error(py: Python<'_>, out: RunOutcome) -> PyResult<Bound<'_, PyAny>> {
    let origin = Origin {
        source: &out.source,
        target: &out.target,
        signals: &out.signals,
    };
    let summary = to_python(py, &out.summary, origin)?;
    let (Some((day, cause)), Some(msg)) =
        (out.summary.first_error(), out.summary.failure_message())
    else {
        return Ok(summary);
    };
    let err = PipelineError::new_err(msg);
    let value = err.value(py);
    value.setattr("day", py_date(py, day.date())?)?;
    value.setattr("failed_days", summary.getattr("failed_days")?)?;
    value.setattr("days_to_rerun", summary.getattr("days_to_rerun")?)?;
    value.setattr("summary", summary)?;
    err.set_cause(py, Some(exception_for(cause)));
    Err(err)
}

/// Merges the summaries of parts of one run (e.g. the tasks of
/// `windcore.dask.run`), each the JSON of a core `RunSummary`
/// (`RunSummary._report_json()`), with the core's `RunSummary::merge`: one
/// report per day, summed over its parts. `elapsed_seconds` replaces the sum
/// of the parts' times (e.g. by the wall time of the whole run). Returns a
/// `RunSummary`.
#[pyfunction]
#[pyo3(signature = (parts, elapsed_seconds=None, source="", target="", signals=Vec::new()))]
pub fn merge_summaries<'py>(
    py: Python<'py>,
    parts: Vec<String>,
    elapsed_seconds: Option<f64>,
    source: &str,
    target: &str,
    signals: Vec<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let parts = parts
        .iter()
        .map(|p| serde_json::from_str::<RunSummary>(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("not a windcore run summary: {e}")))?;
    let mut merged = RunSummary::merge(parts);
    if let Some(secs) = elapsed_seconds {
        merged.elapsed = std::time::Duration::try_from_secs_f64(secs)
            .map_err(|e| PyValueError::new_err(format!("elapsed_seconds {secs}: {e}")))?;
    }
    let origin = Origin {
        source,
        target,
        signals: &signals,
    };
    to_python(py, &merged, origin)
}

/// A day as a `datetime.date`.
pub fn py_date(py: Python<'_>, d: NaiveDate) -> PyResult<Bound<'_, PyDate>> {
    PyDate::new(py, d.year(), d.month() as u8, d.day() as u8)
}
