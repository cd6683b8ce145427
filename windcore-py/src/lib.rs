//! `windcore._windcore`: the native part of the `windcore` Python package.
//!
//! Each function converts its arguments, calls the core and maps the error;
//! long work goes through [`runtime::wait_for`] (GIL released, one shared
//! tokio runtime, Ctrl-C honoured). DataFrames cross the boundary as Arrow C
//! streams ([`arrow`]). The Python package (`python/windcore/__init__.py`)
//! adds the pandas / polars / pyarrow front end.

#[cfg(all(target_os = "linux", not(target_env = "musl")))]
mod alloc;
mod arrow;
mod convert;
mod errors;
mod files;
mod inspect;
mod keys;
mod numpy_out;
mod ops;
mod runtime;
mod summary;

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::PyDate;
use windcore::{
    DayRange, Generator, Label, RunConfig, RunDays, SourceLayout, Zone, DEFAULT_DATA_DIR,
    DEFAULT_SEED, TIMESTAMP,
};

use crate::convert::{
    availability_arg, days_arg, DayArg, Every, LocationArg, Names, Stats, RUN_DAY_NAMES,
};
use crate::errors::to_py_err;
use crate::runtime::{wait_for, wait_for_blocking};
use crate::summary::{py_date, summary_or_error};

/// Resamples an Arrow-exportable table into window statistics.
///
/// `data` is any object with `__arrow_c_stream__` (polars DataFrame, pyarrow
/// Table, ...). `by` names the key columns (string or integer; a
/// dictionary-encoded one is read as strings), `angles` the variables in
/// degrees (circular statistics), `min_count` the fewest valid samples a
/// window needs for its statistics other than `count`, `time_column` the
/// timestamp column (default `timestamp`; the output's time column keeps that
/// name). Returns a PyCapsule holding an Arrow C stream
/// (`arrow_array_stream`) of the result; use `windcore.resample` for
/// DataFrames in and out. With `numpy=True` (a pandas caller) returns a
/// tuple: the capsule of the columns other than `Float64`, `UInt32` and
/// `Datetime` (`None` when there are none), a dict of the numeric ones as
/// numpy arrays (handed over without a copy), a dict of the times as
/// `(int64 array, unit, time zone)`, and the order of all columns. `key_words`: key columns handed over as category
/// codes (a polars `Categorical` or `Enum` as its physical integers) and the
/// words of their codes. With `duplicates=True`, returns `(result, n)`: `n`
/// the input rows dropped as duplicate timestamps (of a key's rows with the
/// same timestamp, the last in input order is kept).
#[pyfunction]
#[pyo3(signature = (data, every, stats, variables, by, angles, min_count, long, timezone=None, label=None, time_column=None, counters=None, states=None, state_hold=None, availability=None, numpy=false, key_words=None, duplicates=false))]
#[allow(clippy::too_many_arguments)]
fn resample<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    every: Every,
    stats: Stats,
    variables: Option<Names>,
    by: Option<Names>,
    angles: Option<Names>,
    min_count: i64,
    long: bool,
    timezone: Option<String>,
    label: Option<String>,
    time_column: Option<String>,
    counters: Option<Names>,
    states: Option<Names>,
    state_hold: Option<Every>,
    availability: Option<&Bound<'py, PyAny>>,
    numpy: bool,
    key_words: Option<HashMap<String, Vec<Option<String>>>>,
    duplicates: bool,
) -> PyResult<Bound<'py, PyAny>> {
    // A negative count becomes 0, which the builder rejects with its own
    // "at least 1" message; a huge one is as good as u32::MAX.
    let min_count = u32::try_from(min_count.max(0)).unwrap_or(u32::MAX);
    let time_column = time_column.unwrap_or_else(|| TIMESTAMP.to_string());
    let columns = ops::Columns {
        time_column: time_column.clone(),
        variables: variables.map(|v| v.0),
        by: by.map(|b| b.0).unwrap_or_default(),
        angles: angles.map(|a| a.0).unwrap_or_default(),
        min_count,
        zone: zone_arg(timezone.as_deref())?,
        label: label_arg(label.as_deref())?,
        record: ops::Record {
            counters: counters.map(|c| c.0).unwrap_or_default(),
            states: states.map(|s| s.0).unwrap_or_default(),
            state_hold: state_hold.map(|h| h.0),
            availability: availability_arg(availability)?,
        },
    };
    let resampler = ops::resampler(every.0, stats.0, columns).map_err(to_py_err)?;
    // Counters and states are read like keys (text states may be
    // dictionary-encoded, e.g. pandas categoricals).
    let mut read_as_is = resampler.by().to_vec();
    read_as_is.extend(resampler.carried());
    let projection = arrow::Projection {
        timestamp: &time_column,
        variables: resampler.variables(),
        by: &read_as_is,
        ranked: resampler.by(),
        codes: &key_words.unwrap_or_default(),
    };
    let (input, ranked) = arrow::import_dataframe(data, &projection)?;
    let (output, quality, input) = wait_for_blocking(py, move || {
        let out = if long {
            resampler.resample_long_with_quality(&input)
        } else {
            resampler.resample_wide_with_quality(&input)
        };
        out.map(|(out, quality)| (out, quality, input))
    })?;
    // The input's buffers belong to the Python producer: release them here,
    // attached to the interpreter, rather than on a worker thread.
    drop(input);
    let output = ranked.restore(output)?;
    let result = if numpy {
        let numeric = numpy_out::take_numeric(py, output)?;
        let stream = match numeric.rest {
            Some(rest) => Some(arrow::export_dataframe(py, rest)?),
            None => None,
        };
        let parts = (stream, numeric.arrays, numeric.times, numeric.order);
        parts.into_pyobject(py)?.into_any()
    } else {
        arrow::export_dataframe(py, output)?.into_any()
    };
    if duplicates {
        return Ok((result, quality.duplicates).into_pyobject(py)?.into_any());
    }
    Ok(result)
}

/// Runs the ETL: for each UTC day, read the samples from `source`, compute the
/// window statistics and replace that day's statistics in `target`.
///
/// Days: `date` for one day, or `start` and `end` (both included) for a range,
/// or neither for every day present in the source. A day is a
/// `datetime.date`, a `datetime.datetime` (its UTC day) or a 'YYYY-MM-DD'
/// string. `source` / `target` are a directory of the embedded store or a
/// `postgres://` URL; `source` may also be the `http://` URL of windcore's
/// connector API (`windcore-cli serve`), or files: a CSV / TOA5 / Parquet
/// file, a glob such as `'exports/*.csv'`, or a directory of them (CSV may
/// be `.gz` / `.zst`; a `files:` prefix forces this reading). `target`
/// defaults to `source` (not for files: give a target).
/// `changed_only=True` makes the run incremental: only the (day, asset)
/// pairs whose source samples changed since they were loaded are rewritten.
/// `table`, `time_column`, `asset_column` say where the samples are in a
/// PostgreSQL source (default: the reference `data` table, column
/// `timestamp`, one asset); with an asset column the statistics are per asset.
/// For files, `time_column` (default: a column named `timestamp` in any case,
/// else the first column of times) and `asset_column` are column names, and
/// `source_timezone` the zone of naive times.
///
/// Files only: `asset_pattern`, a regex with one capture group matched
/// against each file's path (the turbine named only in the file name);
/// `delimiter` (`','`, `';'`, `'tab'`; default sniffed); `decimal` (`'auto'`:
/// a comma when the delimiter is not a comma, `'comma'`, `'point'`);
/// `comment` (default `'#'`; `None` for none); `skip_lines` before the
/// header; `quote`; `na_values`, more missing-value markers; `time_format`
/// (`'auto'`, `'epoch-s'`, `'epoch-ms'` or a strftime format such as
/// `'%d.%m.%Y %H:%M'`); `rename`, `{column: variable}`. A row that does not
/// parse is counted as a bad row (never a sample); of duplicate rows across
/// files the later file in sorted path order wins.
///
/// Returns a `RunSummary`. If a day fails, the days after it are not started
/// and `PipelineError` is raised; it names the failed day and the days to
/// re-run and carries the summary as `err.summary`.
#[pyfunction]
#[pyo3(
    signature = (
        date=None, start=None, end=None, source=None, target=None,
        variables=None, stats=Stats::default(), every=Every::default(), jobs=2,
        table=None, time_column=None, asset_column=None, angles=None, min_count=1,
        timezone=None, label=None, changed_only=false, source_timezone=None, assets=None,
        asset_pattern=None, delimiter=None, decimal=None, comment=Some("#".to_owned()),
        skip_lines=0, quote="\"".to_owned(), na_values=None, time_format=None, rename=None,
        counters=None, states=None, state_hold=None, availability=None,
    ),
    text_signature = "(date=None, start=None, end=None, source='windcore-data', target=None, \
        variables=None, stats=('mean', 'min', 'max', 'std'), every='10m', jobs=2, \
        table='data', time_column='timestamp', asset_column=None, angles=None, min_count=1, \
        timezone='UTC', label='start', changed_only=False, source_timezone=None, \
        assets=None, asset_pattern=None, delimiter=None, decimal='auto', comment='#', \
        skip_lines=0, quote='\"', na_values=None, time_format='auto', rename=None, \
        counters=None, states=None, state_hold=None, availability=None)"
)]
#[allow(clippy::too_many_arguments)]
fn run<'py>(
    py: Python<'py>,
    date: Option<DayArg>,
    start: Option<DayArg>,
    end: Option<DayArg>,
    source: Option<LocationArg>,
    target: Option<LocationArg>,
    variables: Option<Names>,
    stats: Stats,
    every: Every,
    jobs: usize,
    table: Option<String>,
    time_column: Option<String>,
    asset_column: Option<String>,
    angles: Option<Names>,
    min_count: u32,
    timezone: Option<String>,
    label: Option<String>,
    changed_only: bool,
    source_timezone: Option<String>,
    assets: Option<Names>,
    asset_pattern: Option<String>,
    delimiter: Option<String>,
    decimal: Option<String>,
    comment: Option<String>,
    skip_lines: usize,
    quote: String,
    na_values: Option<Names>,
    time_format: Option<String>,
    rename: Option<HashMap<String, String>>,
    counters: Option<Names>,
    states: Option<Names>,
    state_hold: Option<Every>,
    availability: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let files = files::FileArgs {
        asset_pattern,
        delimiter,
        decimal,
        comment,
        skip_lines,
        quote,
        na_values,
        time_format,
        rename,
    }
    .options()?;
    let days = days_arg(date, start, end, RUN_DAY_NAMES)?;
    let source = match source {
        Some(s) => s.0,
        None => DEFAULT_DATA_DIR.parse().map_err(to_py_err)?,
    };
    let target = target.map(|t| t.0).unwrap_or_else(|| source.clone());
    let mut config = RunConfig::builder(source, target)
        .layout(layout(
            table,
            time_column,
            asset_column,
            source_timezone.as_deref(),
        )?)
        .stats(stats.0)
        .every(every.0)
        .min_count(min_count)
        .timezone(zone_arg(timezone.as_deref())?)
        .label(label_arg(label.as_deref())?)
        .changed_only(changed_only)
        .days(days)
        .jobs(jobs)
        .files(files);
    if let Some(v) = variables {
        config = config.variables(v.0);
    }
    if let Some(a) = angles {
        config = config.angles(a.0);
    }
    if let Some(a) = assets {
        config = config.assets(a.0);
    }
    if let Some(c) = counters {
        config = config.counters(c.0);
    }
    if let Some(s) = states {
        config = config.states(s.0);
    }
    if let Some(h) = state_hold {
        config = config.state_hold(h.0);
    }
    if let Some(m) = availability_arg(availability)? {
        config = config.availability(m);
    }
    let config = config.build().map_err(to_py_err)?;
    let outcome = wait_for(py, ops::run(config))?;
    summary_or_error(py, outcome)
}

/// The days `windcore.run` would run for `date`, or `start` and `end` (both
/// included), as a list of `datetime.date`; None when none is given (every
/// day in the source). The same parser and errors as `run` (`ConfigError`,
/// `TypeError`); `names` are the names of the three arguments in the
/// messages (default `("date", "start", "end")`).
#[pyfunction]
#[pyo3(signature = (date=None, start=None, end=None, names=None))]
fn run_days<'py>(
    py: Python<'py>,
    date: Option<DayArg>,
    start: Option<DayArg>,
    end: Option<DayArg>,
    names: Option<(String, String, String)>,
) -> PyResult<Option<Vec<Bound<'py, PyDate>>>> {
    let names = names.as_ref().map_or(RUN_DAY_NAMES, |(d, s, e)| {
        [d.as_str(), s.as_str(), e.as_str()]
    });
    let range = match days_arg(date, start, end, names)? {
        RunDays::AllInSource => return Ok(None),
        RunDays::One(d) => DayRange::single(d),
        RunDays::Range(r) => r,
    };
    range
        .iter()
        .map(|d| py_date(py, d.date()))
        .collect::<PyResult<_>>()
        .map(Some)
}

/// A time zone name (None: UTC), parsed by the core.
fn zone_arg(name: Option<&str>) -> PyResult<Zone> {
    name.map_or(Ok(Zone::UTC), |n| n.parse().map_err(to_py_err))
}

/// `"start"` / `"end"` (None: start), parsed by the core.
fn label_arg(name: Option<&str>) -> PyResult<Label> {
    name.map_or(Ok(Label::Start), |n| n.parse().map_err(to_py_err))
}

/// The source layout from the optional Python arguments.
fn layout(
    table: Option<String>,
    time_column: Option<String>,
    asset_column: Option<String>,
    source_timezone: Option<&str>,
) -> PyResult<SourceLayout> {
    let d = SourceLayout::default();
    Ok(SourceLayout {
        table: table.unwrap_or(d.table),
        time_column: time_column.unwrap_or(d.time_column),
        asset_column,
        naive_timezone: match source_timezone {
            Some(z) => Some(z.parse().map_err(to_py_err)?),
            None => None,
        },
    })
}

/// Fills the source with seeded, deterministic demo data: `days` days of
/// 1-minute samples from `start`, replacing those days. One turbine gives the
/// reference layout (timestamp, wind_speed, power, ambient_temperature);
/// `turbines` > 1 a farm (asset T01, T02, ...; plus wind_direction,
/// nacelle_position, the energy counter `energy` in kWh since 00:00 UTC and
/// the operating state `state`: 1 running, 2 low_wind, 3 fault,
/// 4 maintenance, 5 high_wind), which in PostgreSQL needs `table` and
/// `asset_column` (the table is created if missing). Each value is missing
/// (NULL) with probability `missing_rate`. Creates the source if needed.
/// Returns the number of rows written.
#[pyfunction]
#[pyo3(
    signature = (days=windcore::DEMO_DAYS, start=None, seed=DEFAULT_SEED, missing_rate=0.0, source=None,
                 turbines=1, table=None, time_column=None, asset_column=None),
    text_signature = "(days=10, start='2024-01-01', seed=42, missing_rate=0.0, source='windcore-data', \
        turbines=1, table='data', time_column='timestamp', asset_column=None)"
)]
#[allow(clippy::too_many_arguments)]
fn generate(
    py: Python<'_>,
    days: u32,
    start: Option<DayArg>,
    seed: u64,
    missing_rate: f64,
    source: Option<LocationArg>,
    turbines: u32,
    table: Option<String>,
    time_column: Option<String>,
    asset_column: Option<String>,
) -> PyResult<u64> {
    let start = match start {
        Some(d) => d.day()?,
        None => windcore::demo::start(),
    };
    let range = DayRange::starting(start, days).map_err(to_py_err)?;
    let generator = Generator::builder()
        .seed(seed)
        .missing_rate(missing_rate)
        .turbines(turbines)
        .build()
        .map_err(to_py_err)?;
    let source = match source {
        Some(s) => s.0,
        None => DEFAULT_DATA_DIR.parse().map_err(to_py_err)?,
    };
    let layout = layout(table, time_column, asset_column, None)?;
    wait_for(py, ops::generate(source, layout, range, generator))
}

/// Creates a source and/or a target: the directories of an embedded store, or
/// the tables of a PostgreSQL database. Safe to repeat. With neither given,
/// creates both in the default store directory 'windcore-data'.
#[pyfunction]
#[pyo3(signature = (source=None, target=None))]
fn init(py: Python<'_>, source: Option<LocationArg>, target: Option<LocationArg>) -> PyResult<()> {
    let (source, target) = match (source, target) {
        (None, None) => {
            let default: windcore::Location = DEFAULT_DATA_DIR.parse().map_err(to_py_err)?;
            (Some(default.clone()), Some(default))
        }
        (s, t) => (s.map(|s| s.0), t.map(|t| t.0)),
    };
    wait_for(py, ops::init(source, target))
}

/// The native module; the public API is the `windcore` package.
#[pymodule]
fn _windcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_DATA_DIR", DEFAULT_DATA_DIR)?;
    m.add("DEFAULT_SEED", DEFAULT_SEED)?;
    m.add_function(wrap_pyfunction!(resample, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::source_assets, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::day_fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::target_windows, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::target_availability, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::mask_password, m)?)?;
    m.add_function(wrap_pyfunction!(run_days, m)?)?;
    m.add_function(wrap_pyfunction!(summary::merge_summaries, m)?)?;
    Ok(())
}
