//! `RunSummary` and `DayReport`: the report of `windcore.run`, as Python objects.

use chrono::{Datelike, NaiveDate};
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDict};
use windcore::{Day, DayOutcome, DayReport, RunSummary};

use crate::errors::{exception_for, message, PipelineError};
use crate::ops::RunOutcome;

/// What happened to one UTC day of a run.
#[pyclass(frozen, module = "windcore", name = "DayReport")]
pub struct PyDayReport {
    day: NaiveDate,
    /// `"loaded"`, `"no_source_rows"`, `"failed"` or `"skipped"` (not attempted
    /// because an earlier day failed).
    #[pyo3(get)]
    outcome: &'static str,
    /// Why the day failed, or None.
    #[pyo3(get)]
    error: Option<String>,
    /// Source rows read.
    #[pyo3(get)]
    rows_in: u64,
    /// Windows with at least one statistic.
    #[pyo3(get)]
    windows: u64,
    /// Target rows written.
    #[pyo3(get)]
    rows_out: u64,
    /// Seconds spent extracting.
    #[pyo3(get)]
    extract_seconds: f64,
    /// Seconds spent resampling.
    #[pyo3(get)]
    transform_seconds: f64,
    /// Seconds spent loading.
    #[pyo3(get)]
    load_seconds: f64,
    /// NULL/NaN values left out (sample × variable).
    #[pyo3(get)]
    missing: u64,
    /// Rows dropped for a duplicate timestamp of the same asset (the last is kept).
    #[pyo3(get)]
    duplicates: u64,
    /// (window, variable) pairs with fewer valid samples than `min_count`.
    #[pyo3(get)]
    sparse_windows: u64,
    /// Source rows outside the day, left out.
    #[pyo3(get)]
    outside: u64,
    /// Assets in the day's source.
    #[pyo3(get)]
    assets: u64,
    /// Incremental runs: assets unchanged since their load (not written).
    #[pyo3(get)]
    assets_unchanged: u64,
    /// Incremental runs: assets whose samples changed (rewritten).
    #[pyo3(get)]
    assets_changed: u64,
    /// Incremental runs: assets not loaded before.
    #[pyo3(get)]
    assets_new: u64,
    /// Incremental runs: assets without samples any more (their rows deleted).
    #[pyo3(get)]
    assets_removed: u64,
}

#[pymethods]
impl PyDayReport {
    /// The UTC day (`datetime.date`).
    #[getter]
    fn day<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDate>> {
        py_date(py, self.day)
    }

    fn __repr__(&self) -> String {
        format!(
            "DayReport(day={}, outcome='{}', rows_in={}, windows={}, rows_out={}{})",
            self.day,
            self.outcome,
            self.rows_in,
            self.windows,
            self.rows_out,
            self.error
                .as_ref()
                .map(|e| format!(", error={e:?}"))
                .unwrap_or_default()
        )
    }
}

impl From<&DayReport> for PyDayReport {
    fn from(r: &DayReport) -> Self {
        let (outcome, error) = match &r.outcome {
            DayOutcome::Loaded => ("loaded", None),
            DayOutcome::NoSourceRows => ("no_source_rows", None),
            DayOutcome::Unchanged => ("unchanged", None),
            DayOutcome::Failed(e) => ("failed", Some(message(e))),
            DayOutcome::Skipped => ("skipped", None),
            // DayOutcome may grow; an unknown outcome is reported, not guessed.
            #[allow(unreachable_patterns)]
            _ => ("unknown", None),
        };
        PyDayReport {
            day: r.day.date(),
            outcome,
            error,
            rows_in: r.rows_in,
            windows: r.windows,
            rows_out: r.rows_out,
            extract_seconds: r.extract.as_secs_f64(),
            transform_seconds: r.transform.as_secs_f64(),
            load_seconds: r.load.as_secs_f64(),
            missing: r.quality.missing,
            duplicates: r.quality.duplicates,
            sparse_windows: r.quality.sparse_windows,
            outside: r.quality.outside,
            assets: r.assets,
            assets_unchanged: r.assets_unchanged,
            assets_changed: r.assets_changed,
            assets_new: r.assets_new,
            assets_removed: r.assets_removed,
        }
    }
}

/// The report of `windcore.run`: totals, the days to look at, one `DayReport` per day.
#[pyclass(frozen, module = "windcore", name = "RunSummary")]
pub struct PyRunSummary {
    /// Number of days in the run.
    #[pyo3(get)]
    days: usize,
    /// Days whose statistics were loaded.
    #[pyo3(get)]
    days_loaded: usize,
    /// Source rows read.
    #[pyo3(get)]
    rows_in: u64,
    /// Target rows written.
    #[pyo3(get)]
    rows_out: u64,
    /// Windows produced.
    #[pyo3(get)]
    windows: u64,
    /// Wall-clock seconds of the run.
    #[pyo3(get)]
    elapsed_seconds: f64,
    /// The source (password masked).
    #[pyo3(get)]
    source: String,
    /// The target (password masked).
    #[pyo3(get)]
    target: String,
    /// The signals each day's load writes (and replaces), e.g. `power_std`.
    #[pyo3(get)]
    signals: Vec<String>,
    /// The first failure, or None.
    #[pyo3(get)]
    error: Option<String>,
    /// NULL/NaN values left out over the run.
    #[pyo3(get)]
    missing: u64,
    /// Rows dropped for duplicate timestamps (per asset) over the run.
    #[pyo3(get)]
    duplicates: u64,
    /// (window, variable) pairs with fewer valid samples than `min_count`.
    #[pyo3(get)]
    sparse_windows: u64,
    /// Source rows outside their day.
    #[pyo3(get)]
    outside: u64,
    /// Incremental runs: days where nothing changed (nothing written).
    #[pyo3(get)]
    days_unchanged: usize,
    /// Incremental runs: (day, asset) pairs unchanged (not written).
    #[pyo3(get)]
    pairs_unchanged: u64,
    /// Incremental runs: (day, asset) pairs whose samples changed (rewritten).
    #[pyo3(get)]
    pairs_changed: u64,
    /// Incremental runs: (day, asset) pairs loaded for the first time.
    #[pyo3(get)]
    pairs_new: u64,
    /// Incremental runs: (day, asset) pairs without samples any more (deleted).
    #[pyo3(get)]
    pairs_removed: u64,
    failed: Vec<NaiveDate>,
    rerun: Vec<NaiveDate>,
    empty: Vec<NaiveDate>,
    reports: Vec<Py<PyDayReport>>,
}

#[pymethods]
impl PyRunSummary {
    /// Days that failed (their previous contents in the target are kept).
    #[getter]
    fn failed_days<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDate>>> {
        py_dates(py, &self.failed)
    }

    /// Days to run again: the failed ones and those skipped after a failure.
    #[getter]
    fn days_to_rerun<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDate>>> {
        py_dates(py, &self.rerun)
    }

    /// Days without source rows: nothing was written for them.
    #[getter]
    fn empty_days<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDate>>> {
        py_dates(py, &self.empty)
    }

    /// One `DayReport` per day, in day order.
    #[getter]
    fn reports(&self, py: Python<'_>) -> Vec<Py<PyDayReport>> {
        self.reports.iter().map(|r| r.clone_ref(py)).collect()
    }

    /// True when no day failed or was skipped.
    #[getter]
    fn ok(&self) -> bool {
        self.rerun.is_empty()
    }

    /// Days where a rule left something out (missing values, duplicates,
    /// sparse windows, rows outside the day).
    #[getter]
    fn days_with_issues<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDate>>> {
        let days: Vec<NaiveDate> = self
            .reports
            .iter()
            .map(|r| r.get())
            .filter(|r| r.missing + r.duplicates + r.sparse_windows + r.outside > 0)
            .map(|r| r.day)
            .collect();
        py_dates(py, &days)
    }

    /// The totals as a JSON-friendly dict (days as 'YYYY-MM-DD' strings), e.g.
    /// for Dagster metadata or structured logging.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let iso = |ds: &[NaiveDate]| ds.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        let d = PyDict::new(py);
        d.set_item("days", self.days)?;
        d.set_item("days_loaded", self.days_loaded)?;
        d.set_item("rows_in", self.rows_in)?;
        d.set_item("rows_out", self.rows_out)?;
        d.set_item("windows", self.windows)?;
        d.set_item("elapsed_seconds", self.elapsed_seconds)?;
        d.set_item("failed_days", iso(&self.failed))?;
        d.set_item("days_to_rerun", iso(&self.rerun))?;
        d.set_item("empty_days", iso(&self.empty))?;
        d.set_item("source", &self.source)?;
        d.set_item("target", &self.target)?;
        d.set_item("signals", &self.signals)?;
        d.set_item("error", &self.error)?;
        d.set_item("missing", self.missing)?;
        d.set_item("duplicates", self.duplicates)?;
        d.set_item("sparse_windows", self.sparse_windows)?;
        d.set_item("outside", self.outside)?;
        d.set_item("days_unchanged", self.days_unchanged)?;
        d.set_item("pairs_unchanged", self.pairs_unchanged)?;
        d.set_item("pairs_changed", self.pairs_changed)?;
        d.set_item("pairs_new", self.pairs_new)?;
        d.set_item("pairs_removed", self.pairs_removed)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let days = |ds: &[NaiveDate]| {
            ds.iter()
                .map(|d| format!("'{d}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "RunSummary(days={}, days_loaded={}, rows_in={}, rows_out={}, windows={}, \
             elapsed_seconds={:.3}, failed_days=[{}], days_to_rerun=[{}], empty_days=[{}])",
            self.days,
            self.days_loaded,
            self.rows_in,
            self.rows_out,
            self.windows,
            self.elapsed_seconds,
            days(&self.failed),
            days(&self.rerun),
            days(&self.empty),
        )
    }
}

impl PyRunSummary {
    fn new(py: Python<'_>, out: &RunOutcome) -> PyResult<Self> {
        let s: &RunSummary = &out.summary;
        let dates = |ds: Vec<Day>| ds.into_iter().map(Day::date).collect();
        Ok(PyRunSummary {
            days: s.days.len(),
            days_loaded: s.loaded(),
            rows_in: s.rows_in(),
            rows_out: s.rows_out(),
            windows: s.windows(),
            elapsed_seconds: s.elapsed.as_secs_f64(),
            source: out.source.clone(),
            target: out.target.clone(),
            signals: out.signals.clone(),
            error: s.first_error().map(|(_, e)| message(e)),
            missing: s.quality().missing,
            duplicates: s.quality().duplicates,
            sparse_windows: s.quality().sparse_windows,
            outside: s.quality().outside,
            days_unchanged: s.unchanged_days(),
            pairs_unchanged: s.pairs().0,
            pairs_changed: s.pairs().1,
            pairs_new: s.pairs().2,
            pairs_removed: s.pairs().3,
            failed: dates(s.failed()),
            rerun: dates(s.to_rerun()),
            empty: dates(s.empty_days()),
            reports: s
                .days
                .iter()
                .map(|r| Py::new(py, PyDayReport::from(r)))
                .collect::<PyResult<_>>()?,
        })
    }
}

/// The summary, or — if a day failed — a `PipelineError` that names the failed
/// day and the days to re-run, carries the summary (`err.summary`,
/// `err.failed_days`, `err.days_to_rerun`) and has the day's own error
/// (e.g. a `DatabaseError`) as `__cause__`.
pub fn summary_or_error(py: Python<'_>, out: RunOutcome) -> PyResult<PyRunSummary> {
    let summary = PyRunSummary::new(py, &out)?;
    let Some((day, cause)) = out.summary.first_error() else {
        return Ok(summary);
    };
    let rerun = out.summary.to_rerun();
    let msg = format!(
        "day {day} failed: {}\n  days already loaded are kept; the failed day kept its previous \
         contents.\n  re-run these {} day(s): {}",
        message(cause),
        rerun.len(),
        rerun
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let err = PipelineError::new_err(msg);
    let value = err.value(py);
    value.setattr("day", py_date(py, day.date())?)?;
    value.setattr("failed_days", summary.failed_days(py)?)?;
    value.setattr("days_to_rerun", summary.days_to_rerun(py)?)?;
    value.setattr("summary", Py::new(py, summary)?)?;
    err.set_cause(py, Some(exception_for(cause)));
    Err(err)
}

fn py_date(py: Python<'_>, d: NaiveDate) -> PyResult<Bound<'_, PyDate>> {
    PyDate::new(py, d.year(), d.month() as u8, d.day() as u8)
}

fn py_dates<'py>(py: Python<'py>, ds: &[NaiveDate]) -> PyResult<Vec<Bound<'py, PyDate>>> {
    ds.iter().map(|d| py_date(py, *d)).collect()
}
