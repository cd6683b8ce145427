//! Data across the boundary: the Arrow C stream interface, as PyCapsules.
//!
//! Input: any Python object with `__arrow_c_stream__` (a polars DataFrame, a
//! pyarrow Table, ...) is read as a stream of struct arrays and turned into a
//! polars DataFrame that points at the producer's buffers: no column is copied.
//! Output: a DataFrame becomes an `ArrowArrayStream` in a capsule named
//! `arrow_array_stream`, which polars (`pl.DataFrame(obj)`) and pyarrow
//! (`pa.table(obj)`) import without copying either.
//!
//! See <https://arrow.apache.org/docs/format/CDataInterface/PyCapsuleInterface.html>.

use std::ffi::CStr;

use polars::prelude::*;
use polars_arrow::array::{new_empty_array, Array, PrimitiveArray, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::errors::polars_to_py;

/// The capsule name the PyCapsule interface prescribes for streams.
const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// Reads a tabular Python object through `__arrow_c_stream__` into a DataFrame.
///
/// Columns keep their Arrow types: timestamps their unit and time zone, nulls
/// their validity. Buffers stay owned by the producer (released when the
/// DataFrame is dropped).
pub fn import_dataframe(obj: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "expected a polars or pandas DataFrame, a pyarrow Table or another object \
             implementing the Arrow PyCapsule interface (`__arrow_c_stream__`), got {}",
            obj.get_type().name()?
        )));
    }
    let capsule = obj.call_method1("__arrow_c_stream__", (obj.py().None(),))?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("`__arrow_c_stream__` did not return a PyCapsule"))?;
    let ptr = capsule.pointer_checked(Some(STREAM_CAPSULE))?;
    // SAFETY: the capsule is named `arrow_array_stream`, so by the PyCapsule
    // interface it points at a valid `ArrowArrayStream`. We move the stream
    // out and leave a released (empty) one behind, so the capsule's destructor
    // does not release it a second time.
    let stream = unsafe {
        std::ptr::replace(
            ptr.cast::<ArrowArrayStream>().as_ptr(),
            ArrowArrayStream::empty(),
        )
    };
    // SAFETY: the producer follows the C stream interface.
    let mut reader =
        unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(polars_to_py)?;
    let fields = match reader.field().dtype() {
        ArrowDataType::Struct(fields) => fields.clone(),
        other => {
            return Err(PyTypeError::new_err(format!(
                "expected a stream of tables (Arrow struct arrays), got a stream of {other:?}"
            )))
        }
    };
    let mut chunks: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    // SAFETY: as above, the producer follows the C stream interface.
    while let Some(array) = unsafe { reader.next() } {
        let array = array.map_err(polars_to_py)?;
        let batch = array
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| PyTypeError::new_err("the stream produced a non-struct array"))?;
        for (column, child) in chunks.iter_mut().zip(batch.values()) {
            column.push(child.clone());
        }
    }
    let columns = fields
        .iter()
        .zip(chunks)
        .map(|(field, column)| to_column(field, column))
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(polars_to_py)?;
    DataFrame::new_infer_height(columns).map_err(polars_to_py)
}

/// One column from its Arrow field and chunks, without copying.
fn to_column(field: &ArrowField, mut chunks: Vec<Box<dyn Array>>) -> PolarsResult<Column> {
    if chunks.is_empty() {
        chunks.push(new_empty_array(field.dtype().clone()));
    }
    // An Arrow timestamp is an instant (UTC epoch) whatever its time zone says.
    // A time zone polars does not know (e.g. an odd fixed offset like +05:30)
    // is therefore replaced by UTC, which keeps every instant; the resampler
    // works in UTC anyway.
    if let ArrowDataType::Timestamp(unit, Some(tz)) = field.dtype() {
        if TimeZone::opt_try_new(Some(tz.clone())).is_err() {
            let utc = ArrowDataType::Timestamp(*unit, Some(PlSmallStr::from_static("UTC")));
            chunks = chunks
                .into_iter()
                .map(|a| retag_timestamps(a, &utc))
                .collect::<PolarsResult<_>>()?;
            let field = ArrowField::new(field.name.clone(), utc, field.is_nullable);
            return Ok(Series::try_from((&field, chunks))?.into());
        }
    }
    Ok(Series::try_from((field, chunks))?.into())
}

/// The same timestamps (same buffer) with another time zone tag.
fn retag_timestamps(array: Box<dyn Array>, dtype: &ArrowDataType) -> PolarsResult<Box<dyn Array>> {
    let ts = array
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .ok_or_else(|| polars_err!(ComputeError: "timestamp array is not backed by i64"))?;
    Ok(ts.clone().to(dtype.clone()).boxed())
}

/// Exports a DataFrame as an `arrow_array_stream` capsule (one struct array per chunk).
pub fn export_dataframe<'py>(
    py: Python<'py>,
    mut df: DataFrame,
) -> PyResult<Bound<'py, PyCapsule>> {
    df.align_chunks_par();
    let fields: Vec<ArrowField> = df
        .columns()
        .iter()
        .map(|c| c.field().to_arrow(CompatLevel::newest()))
        .collect();
    let dtype = ArrowDataType::Struct(fields);
    let height = df.height();
    let batches: Vec<PolarsResult<Box<dyn Array>>> = df
        .iter_chunks(CompatLevel::newest(), false)
        .map(|batch| {
            let len = batch.height();
            StructArray::try_new(dtype.clone(), len, batch.into_arrays(), None).map(|a| a.boxed())
        })
        .collect();
    // An empty frame still announces its schema; a zero-row batch is not needed.
    let batches = if height == 0 { Vec::new() } else { batches };
    let stream = export_iterator(
        Box::new(batches.into_iter()),
        ArrowField::new(PlSmallStr::EMPTY, dtype, false),
    );
    PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
}
