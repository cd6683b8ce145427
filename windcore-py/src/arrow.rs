//! Data across the boundary: the Arrow C stream interface, as PyCapsules.
//!
//! Input: any Python object with `__arrow_c_stream__` (a polars DataFrame, a
//! pyarrow Table, ...) is read as a stream of struct arrays and turned into a
//! polars DataFrame that points at the producer's buffers: no column is copied.
//! Dictionary-encoded key columns (a pandas `category`, a polars
//! `Categorical` or `Enum`, a pyarrow dictionary) are the one exception: this
//! polars build has no categoricals, so such a key column becomes the ranks
//! of its words, and the result's key column the words again (see
//! [`keys`](crate::keys)).
//! Output: a DataFrame becomes an `ArrowArrayStream` in a capsule named
//! `arrow_array_stream`, which polars (`pl.DataFrame(obj)`) and pyarrow
//! (`pa.table(obj)`) import without copying either.
//!
//! See <https://arrow.apache.org/docs/format/CDataInterface/PyCapsuleInterface.html>.

use std::collections::HashMap;
use std::ffi::CStr;

use polars::prelude::*;
use polars_arrow::array::{
    new_empty_array, Array, MutableBinaryViewArray, PrimitiveArray, StructArray, Utf8Array,
    Utf8ViewArray, View,
};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use polars_arrow::types::NativeType;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use rayon::prelude::*;

use crate::errors::{polars_to_py, ColumnError};
use crate::keys::{decode_dictionary, RankedKeys};

/// The capsule name the PyCapsule interface prescribes for streams.
const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// The columns of the input the resampler reads. Only these are converted;
/// the others become cheap all-null placeholders, so they cost nothing, cannot
/// fail, and still show up by name in "column not found" messages.
pub struct Projection<'a> {
    /// The timestamp column.
    pub timestamp: &'a str,
    /// The variables asked for; `None`: every numeric column.
    pub variables: Option<&'a [String]>,
    /// The columns read as they are (string or integer; dictionary-encoded
    /// ones decoded or ranked): the keys and the state channels.
    pub by: &'a [String],
    /// Of those, the ones that, dictionary-encoded, are read as the ranks of
    /// their words (the keys).
    pub ranked: &'a [String],
    /// Of those, the ones handed over as category codes (a polars
    /// `Categorical` or `Enum` as its physical integers), with their words:
    /// code `c` stands for word `c`.
    pub codes: &'a HashMap<String, Vec<Option<String>>>,
}

impl Projection<'_> {
    fn is_key(&self, field: &ArrowField) -> bool {
        self.by.iter().any(|k| k == field.name.as_str())
    }

    fn wants(&self, field: &ArrowField) -> bool {
        let name = field.name.as_str();
        name == self.timestamp
            || self.is_key(field)
            || match self.variables {
                Some(vars) => vars.iter().any(|v| v == name),
                None => is_numeric(field.dtype()),
            }
    }
}

/// Reads a tabular Python object through `__arrow_c_stream__` into a DataFrame.
///
/// The wanted columns keep their Arrow types (timestamps their unit and time
/// zone, nulls their validity) and their buffers, which stay owned by the
/// producer and are released when the DataFrame is dropped. Two exceptions,
/// for types this polars build does not carry: 8- and 16-bit integers are
/// widened to 32 bits and decimals become Float64, and a dictionary-encoded
/// column becomes the ranks of its words (the keys, `projection.ranked`,
/// whose words are returned for the result) or plain strings (all copies).
pub fn import_dataframe(
    obj: &Bound<'_, PyAny>,
    projection: &Projection<'_>,
) -> PyResult<(DataFrame, RankedKeys)> {
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
    let wanted: Vec<bool> = fields.iter().map(|f| projection.wants(f)).collect();
    let keys: Vec<bool> = fields.iter().map(|f| projection.is_key(f)).collect();
    let mut chunks: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    let mut height = 0usize;
    // SAFETY: as above, the producer follows the C stream interface.
    while let Some(array) = unsafe { reader.next() } {
        let array = array.map_err(polars_to_py)?;
        let batch = array
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| PyTypeError::new_err("the stream produced a non-struct array"))?;
        height += batch.len();
        for ((column, child), keep) in chunks.iter_mut().zip(batch.values()).zip(&wanted) {
            if *keep {
                column.push(child.clone());
            }
        }
    }
    let mut columns = Vec::with_capacity(fields.len());
    let mut ranked = RankedKeys::default();
    for (((field, column), keep), key) in fields.iter().zip(chunks).zip(wanted).zip(keys) {
        let rank = projection.ranked.iter().any(|k| k == field.name.as_str());
        let words = projection.codes.get(field.name.as_str()).map(Vec::as_slice);
        columns.push(if keep {
            to_column(field, column, key, rank.then_some(&mut ranked), words)?
        } else {
            Column::full_null(field.name.clone(), height, &DataType::Null)
        });
    }
    let df = DataFrame::new_infer_height(columns).map_err(polars_to_py)?;
    Ok((df, ranked))
}

/// Integer, float and decimal types: the candidates for "every numeric column".
fn is_numeric(dtype: &ArrowDataType) -> bool {
    use ArrowDataType as A;
    matches!(
        dtype,
        A::Int8
            | A::Int16
            | A::Int32
            | A::Int64
            | A::Int128
            | A::UInt8
            | A::UInt16
            | A::UInt32
            | A::UInt64
            | A::UInt128
            | A::Float16
            | A::Float32
            | A::Float64
            | A::Decimal(..)
            | A::Decimal32(..)
            | A::Decimal64(..)
            | A::Decimal256(..)
    )
}

/// One wanted column from its Arrow field and chunks; `key`: a column read as
/// it is (by); `ranked`: where a dictionary-encoded one is ranked; `words`:
/// the words of its codes if it came as category codes.
fn to_column(
    field: &ArrowField,
    chunks: Vec<Box<dyn Array>>,
    key: bool,
    ranked: Option<&mut RankedKeys>,
    words: Option<&[Option<String>]>,
) -> PyResult<Column> {
    use ArrowDataType as A;
    let name = field.name.clone();
    let dtype = field.dtype().clone();
    let (dtype, chunks) = match &dtype {
        // A polars `Categorical` / `Enum` key as its codes: their ranks.
        _ if ranked.is_some() && words.is_some() => {
            ranked
                .expect("checked")
                .rank_codes(&name, &chunks, &dtype, words.expect("checked"))?
        }
        A::Int8 => (A::Int32, widen::<i8, i32>(chunks, A::Int32)?),
        A::Int16 => (A::Int32, widen::<i16, i32>(chunks, A::Int32)?),
        A::UInt8 => (A::UInt32, widen::<u8, u32>(chunks, A::UInt32)?),
        A::UInt16 => (A::UInt32, widen::<u16, u32>(chunks, A::UInt32)?),
        A::Decimal(_, scale) => (A::Float64, decimal_to_f64::<i128>(chunks, *scale)?),
        A::Decimal64(_, scale) => (A::Float64, decimal_to_f64::<i64>(chunks, *scale)?),
        A::Decimal32(_, scale) => (A::Float64, decimal_to_f64::<i32>(chunks, *scale)?),
        // A categorical key (this polars build has no categoricals): the
        // ranks of its words, or its words.
        A::Dictionary(index, values, _) if ranked.is_some() => ranked
            .expect("checked")
            .rank(&name, &chunks, index, values)?,
        A::Dictionary(index, values, _) if key => (
            A::Utf8View,
            chunks
                .iter()
                .map(|a| decode_dictionary(&name, a.as_ref(), index, values))
                .collect::<PyResult<_>>()?,
        ),
        // A string key (pandas' `str`, pyarrow strings): the ranks of its
        // words; a text state: string views made on every core, sharing the
        // strings' bytes.
        A::Utf8 | A::LargeUtf8 if ranked.is_some() => {
            ranked.expect("checked").rank_strings(&name, &chunks)?
        }
        A::Utf8 | A::LargeUtf8 if key => (
            A::Utf8View,
            chunks.iter().map(|a| string_views(a.as_ref())).collect(),
        ),
        // An Arrow timestamp is an instant (UTC epoch) whatever its time zone
        // says. A time zone polars does not know (e.g. an odd fixed offset like
        // +05:30) is replaced by UTC, which keeps every instant; the resampler
        // works in UTC anyway.
        A::Timestamp(unit, Some(tz)) if TimeZone::opt_try_new(Some(tz.clone())).is_err() => {
            let utc = A::Timestamp(*unit, Some(PlSmallStr::from_static("UTC")));
            let chunks = chunks
                .into_iter()
                .map(|a| retag::<i64>(a, &utc))
                .collect::<PyResult<_>>()?;
            (utc, chunks)
        }
        // Types this polars build reads (the core then says whether it can use them).
        A::Null
        | A::Boolean
        | A::Int32
        | A::Int64
        | A::UInt32
        | A::UInt64
        | A::Float32
        | A::Float64
        | A::Timestamp(..)
        | A::Date32
        | A::Date64
        | A::Time64(_)
        | A::Duration(_)
        | A::Utf8
        | A::LargeUtf8
        | A::Utf8View
        | A::Binary
        | A::LargeBinary
        | A::BinaryView => (dtype.clone(), chunks),
        other if key => {
            return Err(ColumnError::new_err(format!(
                "key column `{name}` has Arrow type {other:?}, which windcore cannot read; \
                 cast it to a string or an integer"
            )))
        }
        other => {
            return Err(ColumnError::new_err(format!(
                "column `{name}` has Arrow type {other:?}, which windcore cannot read; \
                 cast it to Float64 (variables) or to a datetime (the timestamp)"
            )))
        }
    };
    let mut chunks = chunks;
    if chunks.is_empty() {
        chunks.push(new_empty_array(dtype.clone()));
    }
    let field = ArrowField::new(name, dtype, field.is_nullable);
    Ok(Series::try_from((&field, chunks))
        .map_err(polars_to_py)?
        .into())
}

fn downcast<T: NativeType>(array: &dyn Array) -> PyResult<&PrimitiveArray<T>> {
    array_as::<PrimitiveArray<T>>(array)
}

/// `array` as the concrete array type its Arrow type promises.
pub(crate) fn array_as<A: Array + 'static>(array: &dyn Array) -> PyResult<&A> {
    array.as_any().downcast_ref::<A>().ok_or_else(|| {
        PyTypeError::new_err(format!(
            "Arrow array of type {:?} has an unexpected layout",
            array.dtype()
        ))
    })
}

/// The same values (same buffer) with another logical type of the same width.
fn retag<T: NativeType>(array: Box<dyn Array>, dtype: &ArrowDataType) -> PyResult<Box<dyn Array>> {
    Ok(downcast::<T>(array.as_ref())?
        .clone()
        .to(dtype.clone())
        .boxed())
}

/// Small integers widened to a type this polars build carries (a copy).
fn widen<S, D>(chunks: Vec<Box<dyn Array>>, dtype: ArrowDataType) -> PyResult<Vec<Box<dyn Array>>>
where
    S: NativeType + Into<D>,
    D: NativeType,
{
    chunks
        .iter()
        .map(|a| {
            let a = downcast::<S>(a.as_ref())?;
            let values: Vec<D> = a.values().iter().map(|&v| v.into()).collect();
            Ok(PrimitiveArray::new(dtype.clone(), values.into(), a.validity().cloned()).boxed())
        })
        .collect()
}

/// Decimals as Float64 (a copy; exact to the 15-16 significant digits of a double).
fn decimal_to_f64<S>(chunks: Vec<Box<dyn Array>>, scale: usize) -> PyResult<Vec<Box<dyn Array>>>
where
    S: NativeType + AsF64,
{
    let div = 10f64.powi(scale as i32);
    chunks
        .iter()
        .map(|a| {
            let a = downcast::<S>(a.as_ref())?;
            let values: Vec<f64> = a.values().iter().map(|v| v.as_f64() / div).collect();
            Ok(
                PrimitiveArray::new(ArrowDataType::Float64, values.into(), a.validity().cloned())
                    .boxed(),
            )
        })
        .collect()
}

/// A chunk of Arrow strings (32- or 64-bit offsets) as string views, made on
/// every core; the views of long strings point into the chunk's own bytes
/// (no string is copied). polars' conversion makes them on one thread.
fn string_views(array: &dyn Array) -> Box<dyn Array> {
    let any = array.as_any();
    match (
        any.downcast_ref::<Utf8Array<i64>>(),
        any.downcast_ref::<Utf8Array<i32>>(),
    ) {
        (Some(a), _) => views_of(a),
        (_, Some(a)) => views_of(a),
        // (Unreachable: the caller matched on the type.)
        _ => array.to_boxed(),
    }
}

fn views_of<O: polars_arrow::offset::Offset>(a: &Utf8Array<O>) -> Box<dyn Array> {
    let values = a.values();
    if values.len() > u32::MAX as usize {
        // A view addresses at most 4 GiB of one buffer: copied instead.
        return MutableBinaryViewArray::<str>::from_iter(a.iter())
            .freeze()
            .boxed();
    }
    let offsets = a.offsets().buffer().as_slice();
    let bytes = values.as_slice();
    let views: Vec<View> = (0..a.len())
        .into_par_iter()
        .with_min_len(1 << 14)
        .map(|i| {
            let (lo, hi) = (offsets[i].to_usize(), offsets[i + 1].to_usize());
            View::new_from_bytes(&bytes[lo..hi], 0, lo as u32)
        })
        .collect();
    // SAFETY: each view is its row's bytes (UTF-8, as the array's are), inline
    // or at its offset in buffer 0, which is the array's own bytes.
    let strings = unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            ArrowDataType::Utf8View,
            views.into(),
            vec![values.clone()].into(),
            a.validity().cloned(),
            Some(values.len()),
        )
    };
    strings.boxed()
}

/// Lossy conversion of a decimal's unscaled integer to f64.
trait AsF64 {
    fn as_f64(&self) -> f64;
}

macro_rules! as_f64 {
    ($($t:ty),*) => {$(
        impl AsF64 for $t {
            fn as_f64(&self) -> f64 {
                *self as f64
            }
        }
    )*};
}
as_f64!(i32, i64, i128);

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
    // The batches share the columns' buffers. An empty frame announces its
    // schema and yields no batch.
    let batches: Vec<PolarsResult<Box<dyn Array>>> = if df.height() == 0 {
        Vec::new()
    } else {
        df.iter_chunks(CompatLevel::newest(), false)
            .map(|batch| {
                let len = batch.height();
                StructArray::try_new(dtype.clone(), len, batch.into_arrays(), None)
                    .map(|a| a.boxed())
            })
            .collect()
    };
    let stream = export_iterator(
        Box::new(batches.into_iter()),
        ArrowField::new(PlSmallStr::EMPTY, dtype, false),
    );
    PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
}
