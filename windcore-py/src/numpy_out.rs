//! The result for a pandas caller: its statistic and time columns handed to
//! numpy as they are (numpy takes over the buffers the core wrote, no copy),
//! the rest (keys, signal names) through Arrow as for every caller.
//!
//! pandas keeps the arrays of a frame built from them as they are, writable,
//! where converting the whole frame through Arrow (`DataFrame.to_pandas`)
//! copies every column into fresh memory: on a 5-million-window result that
//! copy alone took 0.1 to 0.9 s. The time column goes the same way: through
//! Arrow, one timestamp column of a small result took a quarter of a
//! millisecond to reach pandas.

use numpy::PyArray1;
use polars::prelude::*;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// What [`take_numeric`] takes out of a frame for pandas.
pub struct Numeric<'py> {
    /// The columns left to cross through Arrow (none: `None`).
    pub rest: Option<DataFrame>,
    /// Name → numpy array, for the `Float64` and `UInt32` columns.
    pub arrays: Bound<'py, PyDict>,
    /// Name → (`int64` numpy array, unit, time zone) for the `Datetime`
    /// columns: the instants since the epoch in that unit (`"ns"`, `"us"`,
    /// `"ms"`), to be read as UTC and shown in the zone (`None`: naive).
    pub times: Bound<'py, PyDict>,
    /// The names of all columns, in order.
    pub order: Vec<String>,
}

/// Takes the `Float64`, `UInt32` and `Datetime` columns out of `df` as numpy
/// arrays, as pandas would get them from Arrow: a float column's nulls
/// become NaN; a `UInt32` column without nulls stays `uint32`, with nulls it
/// becomes `float64` with NaN; a `Datetime` column without nulls gives its
/// integers (see [`Numeric::times`]), with nulls it stays in the rest.
pub fn take_numeric(py: Python<'_>, df: DataFrame) -> PyResult<Numeric<'_>> {
    let arrays = PyDict::new(py);
    let times = PyDict::new(py);
    let mut order = Vec::with_capacity(df.width());
    let mut rest: Vec<Column> = Vec::new();
    for column in df.into_columns() {
        let name = column.name().to_string();
        order.push(name.clone());
        match column.dtype() {
            DataType::Datetime(unit, zone) if column.null_count() == 0 => {
                let unit = match unit {
                    TimeUnit::Nanoseconds => "ns",
                    TimeUnit::Microseconds => "us",
                    TimeUnit::Milliseconds => "ms",
                };
                let zone = zone.as_ref().map(|z| z.to_string());
                let s = column.take_materialized_series();
                let ca = s.datetime().expect("a Datetime column").physical().clone();
                drop(s);
                let values = PyArray1::from_vec(py, owned(ca));
                times.set_item(&name, (values, unit, zone))?;
            }
            DataType::Float64 => {
                let values = floats(column.take_materialized_series());
                arrays.set_item(&name, PyArray1::from_vec(py, values))?;
            }
            DataType::UInt32 if column.null_count() == 0 => {
                let values = owned_u32(column.take_materialized_series());
                arrays.set_item(&name, PyArray1::from_vec(py, values))?;
            }
            DataType::UInt32 => {
                let s = column.take_materialized_series();
                let values: Vec<f64> = s
                    .u32()
                    .expect("a UInt32 column")
                    .iter()
                    .map(|v| v.map_or(f64::NAN, f64::from))
                    .collect();
                arrays.set_item(&name, PyArray1::from_vec(py, values))?;
            }
            _ => rest.push(column),
        }
    }
    let rest = if rest.is_empty() {
        None
    } else {
        Some(DataFrame::new_infer_height(rest).map_err(crate::errors::polars_to_py)?)
    };
    Ok(Numeric {
        rest,
        arrays,
        times,
        order,
    })
}

/// The values of a `Float64` series, nulls as NaN (see [`owned`]).
fn floats(s: Series) -> Vec<f64> {
    let ca = s.f64().expect("a Float64 column").clone();
    drop(s);
    let validity = ca.rechunk_validity();
    let mut values = owned(ca);
    if let Some(validity) = validity {
        for (v, ok) in values.iter_mut().zip(validity.iter()) {
            if !ok {
                *v = f64::NAN;
            }
        }
    }
    values
}

/// The values of a `UInt32` series without nulls (see [`owned`]).
fn owned_u32(s: Series) -> Vec<u32> {
    let ca = s.u32().expect("a UInt32 column").clone();
    drop(s);
    owned(ca)
}

/// The value buffer of `ca` (whatever lies under its nulls): its own where
/// it holds the only reference to it in one chunk (the core's results do),
/// else a copy.
fn owned<T: PolarsNumericType>(ca: ChunkedArray<T>) -> Vec<T::Native> {
    if ca.chunks().len() == 1 {
        let arr = ca.downcast_into_iter().next().expect("one chunk");
        let (_, values, _) = arr.into_inner();
        match values.into_mut() {
            polars_arrow::Either::Right(values) => values,
            polars_arrow::Either::Left(values) => values.to_vec(),
        }
    } else {
        ca.downcast_iter()
            .flat_map(|a| a.values().iter().copied())
            .collect()
    }
}
