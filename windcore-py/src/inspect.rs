//! `source_assets`, `day_fingerprints`, `target_windows`, `target_availability`
//! and `mask_password`:
//! what a source and a target hold, for orchestrators (windcore.dask, the
//! Dagster example) that would otherwise need a database driver of their own.
//! The logic is the core's (`windcore::inspect`); this only converts.

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDate, PyDict, PyList};
use windcore::{DayRange, RunDays};

use crate::convert::{days_arg, DayArg, Every, LocationArg, Names};
use crate::errors::ConfigError;
use crate::runtime::wait_for;
use crate::{label_arg, layout, zone_arg};

/// The days `from_`..`to` (both needed; or, with neither, the source's days),
/// by the core's one parser of days.
fn day_range(from_: Option<DayArg>, to: Option<DayArg>) -> PyResult<Option<DayRange>> {
    Ok(match days_arg(None, from_, to, DAY_NAMES)? {
        RunDays::Range(r) => Some(r),
        RunDays::One(d) => Some(DayRange::single(d)),
        RunDays::AllInSource => None,
    })
}

/// The days `from_`..`to`, both given.
fn given_range(from_: DayArg, to: DayArg) -> PyResult<DayRange> {
    day_range(Some(from_), Some(to))?
        .ok_or_else(|| ConfigError::new_err("`from_` and `to` are needed"))
}

/// The Python names of the core's `date`, `from` and `to` here.
const DAY_NAMES: [&str; 3] = ["date", "from_", "to"];

fn py_date(py: Python<'_>, d: windcore::Day) -> PyResult<Bound<'_, PyDate>> {
    use chrono::Datelike;
    let d = d.date();
    PyDate::new(py, d.year(), d.month() as u8, d.day() as u8)
}

/// The assets (turbines) with samples in the source on the local days
/// `from_`..`to` of `timezone` (with neither, on any day), sorted; `['']` for
/// a source with one asset. A PostgreSQL source answers with one aggregate
/// query, without moving its samples.
#[pyfunction]
#[pyo3(signature = (
    source, from_=None, to=None, *, table=None, time_column=None, asset_column=None,
    source_timezone=None, timezone=None,
))]
#[allow(clippy::too_many_arguments)]
pub fn source_assets(
    py: Python<'_>,
    source: LocationArg,
    from_: Option<DayArg>,
    to: Option<DayArg>,
    table: Option<String>,
    time_column: Option<String>,
    asset_column: Option<String>,
    source_timezone: Option<String>,
    timezone: Option<String>,
) -> PyResult<Vec<String>> {
    let days = day_range(from_, to)?;
    let layout = layout(table, time_column, asset_column, source_timezone.as_deref())?;
    let zone = zone_arg(timezone.as_deref())?;
    let source = source.0;
    wait_for(py, async move {
        windcore::source_assets(&source, &layout, days, zone).await
    })
}

/// Per local day `from_`..`to` of `timezone`: ``{"rows": n, "assets": {asset:
/// fingerprint}}``, the fingerprints an incremental run compares, over the
/// timestamp and `variables` (default: every variable of the source). A day
/// without samples has ``rows`` 0 and no assets. Keys are ``datetime.date``.
#[pyfunction]
#[pyo3(signature = (
    source, from_, to, *, variables=None, table=None, time_column=None, asset_column=None,
    source_timezone=None, timezone=None,
))]
#[allow(clippy::too_many_arguments)]
pub fn day_fingerprints<'py>(
    py: Python<'py>,
    source: LocationArg,
    from_: DayArg,
    to: DayArg,
    variables: Option<Names>,
    table: Option<String>,
    time_column: Option<String>,
    asset_column: Option<String>,
    source_timezone: Option<String>,
    timezone: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let days = given_range(from_, to)?;
    let layout = layout(table, time_column, asset_column, source_timezone.as_deref())?;
    let zone = zone_arg(timezone.as_deref())?;
    let source = source.0;
    let variables = variables.map(|v| v.0);
    let found = wait_for(py, async move {
        windcore::day_fingerprints(&source, &layout, days, zone, variables.as_deref()).await
    })?;
    let out = PyDict::new(py);
    for (day, fp) in found {
        let entry = PyDict::new(py);
        entry.set_item("rows", fp.rows)?;
        entry.set_item("assets", fp.assets.into_py_dict(py)?)?;
        out.set_item(py_date(py, day)?, entry)?;
    }
    Ok(out)
}

/// The windows per (local day of `timezone`, asset) that the target holds on
/// `from_`..`to`: distinct window timestamps of any of `signals` (default:
/// any signal), windows labelled by their start or, with ``label="end"``, by
/// their end (``every`` later). Returns columns ``{"day": [date], "asset":
/// [str], "windows": [int]}`` ordered by day and asset, for
/// ``pandas.DataFrame(...)`` / ``polars.DataFrame(...)``; a (day, asset)
/// without windows is absent; the asset is ``''`` for a single turbine.
#[pyfunction]
#[pyo3(signature = (target, from_, to, *, timezone=None, signals=None, label=None, every=Every::default()))]
#[allow(clippy::too_many_arguments)]
pub fn target_windows<'py>(
    py: Python<'py>,
    target: LocationArg,
    from_: DayArg,
    to: DayArg,
    timezone: Option<String>,
    signals: Option<Names>,
    label: Option<String>,
    every: Every,
) -> PyResult<Bound<'py, PyDict>> {
    let days = given_range(from_, to)?;
    let zone = zone_arg(timezone.as_deref())?;
    let offset = label_arg(label.as_deref())?.offset(every.0);
    let target = target.0;
    let signals = signals.map(|s| s.0);
    let found = wait_for(py, async move {
        windcore::target_windows(&target, days, zone, signals.as_deref(), offset).await
    })?;
    let (day, asset, windows) = (PyList::empty(py), PyList::empty(py), PyList::empty(py));
    for (d, per_asset) in found {
        for (a, n) in per_asset {
            day.append(py_date(py, d)?)?;
            asset.append(a)?;
            windows.append(n)?;
        }
    }
    let out = PyDict::new(py);
    out.set_item("day", day)?;
    out.set_item("asset", asset)?;
    out.set_item("windows", windows)?;
    Ok(out)
}

/// Time-based availability per (local day, asset) in ``target``, from its
/// windows' availability signals: columns ``{"day": [date], "asset": [str],
/// "windows": [int], "available_seconds": [float], "unavailable_seconds":
/// [float], "excluded_seconds": [float], "unknown_seconds": [float],
/// "availability": [float | None]}`` ordered by day and asset. A day's
/// ``availability`` is ``available / (available + unavailable)`` of its
/// windows' sums (``None`` when both are 0), never a mean of window ratios;
/// a period's figure is the same ratio of its days' sums: with
/// ``per_day=False``, one row per asset over the whole range (no ``day``
/// column). A (day, asset) without availability signals is absent.
#[pyfunction]
#[pyo3(signature = (target, from_, to, *, timezone=None, label=None, every=Every::default(), per_day=true))]
#[allow(clippy::too_many_arguments)]
pub fn target_availability<'py>(
    py: Python<'py>,
    target: LocationArg,
    from_: DayArg,
    to: DayArg,
    timezone: Option<String>,
    label: Option<String>,
    every: Every,
    per_day: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let days = given_range(from_, to)?;
    let zone = zone_arg(timezone.as_deref())?;
    let offset = label_arg(label.as_deref())?.offset(every.0);
    let target = target.0;
    let found = wait_for(py, async move {
        windcore::target_availability(&target, days, zone, offset).await
    })?;
    let names = [
        "day",
        "asset",
        "windows",
        "available_seconds",
        "unavailable_seconds",
        "excluded_seconds",
        "unknown_seconds",
        "availability",
    ];
    let columns: Vec<Bound<'py, PyList>> = names.iter().map(|_| PyList::empty(py)).collect();
    // Per day, or (per_day=False) each asset's days added up: one row per
    // asset over the whole range, without `day`.
    let rows: Vec<(Option<windcore::Day>, String, windcore::DayAvailability)> = if per_day {
        found
            .into_iter()
            .flat_map(|(d, per_asset)| per_asset.into_iter().map(move |(a, v)| (Some(d), a, v)))
            .collect()
    } else {
        windcore::DayAvailability::period_totals(&found)
            .into_iter()
            .map(|(a, v)| (None, a, v))
            .collect()
    };
    for (d, a, v) in rows {
        if let Some(d) = d {
            columns[0].append(py_date(py, d)?)?;
        }
        columns[1].append(a)?;
        columns[2].append(v.windows)?;
        columns[3].append(v.available_seconds)?;
        columns[4].append(v.unavailable_seconds)?;
        columns[5].append(v.excluded_seconds)?;
        columns[6].append(v.unknown_seconds)?;
        columns[7].append(v.availability())?;
    }
    let out = PyDict::new(py);
    for (name, column) in names.iter().zip(columns) {
        if per_day || *name != "day" {
            out.set_item(name, column)?;
        }
    }
    Ok(out)
}

/// `text` (a location, or a message naming one) with any password masked:
/// ``postgres://user:***@host/db`` and ``password=***`` (key/value form).
#[pyfunction]
pub fn mask_password(text: &str) -> String {
    windcore::mask_password(text)
}
