//! Reading Parquet dumps (a historian's export, 1 Hz data) slice by slice:
//! the time as a Datetime (with a zone: an instant; naive: local to the
//! source zone), as epoch seconds or milliseconds, or as text.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::files::rows::{AssetFrom, Batch, FileColumns};
use crate::files::time::TimeParser;
use crate::report::BadRows;

/// Rows read at a time.
const SLICE: usize = 1 << 20;

fn polars_err(path: &Path, e: PolarsError) -> Error {
    Error::io("reading", path, std::io::Error::other(e.to_string()))
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io("opening", path, e))
}

/// The columns of a Parquet file and their types.
pub(crate) fn schema(path: &Path) -> Result<Schema> {
    let df = ParquetReader::new(open(path)?)
        .with_slice(Some((0, 0)))
        .finish()
        .map_err(|e| polars_err(path, e))?;
    Ok(df.schema().as_ref().clone())
}

/// Whether a column of this type can hold times.
pub(crate) fn is_time_type(dt: &DataType) -> bool {
    matches!(dt, DataType::Datetime(_, _) | DataType::Date)
}

/// Reads every row of the Parquet file at `path` whose columns are `names`
/// (by index, as in `cols`), calling `emit` with batches in file order.
pub(crate) fn read_rows(
    path: &Path,
    names: &[String],
    cols: &FileColumns,
    time: &mut TimeParser,
    bad: &mut BadRows,
    mut emit: impl FnMut(Batch) -> Result<()>,
) -> Result<u64> {
    let mut wanted: Vec<PlSmallStr> = vec![names[cols.time].as_str().into()];
    if let Some(AssetFrom::Column(a)) = &cols.asset {
        wanted.push(names[*a].as_str().into());
    }
    for c in cols.variables.iter().flatten() {
        wanted.push(names[*c].as_str().into());
    }
    wanted.dedup();
    let mut offset = 0usize;
    let mut rows = 0u64;
    loop {
        let df = ParquetReader::new(open(path)?)
            .with_columns(Some(wanted.iter().map(|s| s.to_string()).collect()))
            .with_slice(Some((offset, SLICE)))
            .finish()
            .map_err(|e| polars_err(path, e))?;
        let n = df.height();
        if n == 0 {
            break;
        }
        let batch = to_batch(path, &df, names, cols, time, bad, offset)?;
        rows += batch.len() as u64;
        if !batch.is_empty() {
            emit(batch)?;
        }
        offset += n;
        if n < SLICE {
            break;
        }
    }
    Ok(rows)
}

fn to_batch(
    path: &Path,
    df: &DataFrame,
    names: &[String],
    cols: &FileColumns,
    time: &mut TimeParser,
    bad: &mut BadRows,
    offset: usize,
) -> Result<Batch> {
    let n = df.height();
    let tname = names[cols.time].as_str();
    let times = times_of(df.column(tname)?, time)?;
    let assets: Option<StringChunked> = match &cols.asset {
        Some(AssetFrom::Column(a)) => Some(
            df.column(names[*a].as_str())?
                .cast(&DataType::String)?
                .str()?
                .clone(),
        ),
        _ => None,
    };
    let mut values: Vec<Option<Float64Chunked>> = Vec::with_capacity(cols.variables.len());
    for c in &cols.variables {
        values.push(match c {
            None => None,
            Some(c) => {
                let col = df.column(names[*c].as_str())?;
                if !col.dtype().is_primitive_numeric() && col.dtype() != &DataType::Boolean {
                    return Err(Error::ColumnType {
                        column: format!("{} in {}", names[*c], path.display()),
                        found: col.dtype().to_string(),
                        expected: "a numeric type".into(),
                    });
                }
                Some(col.cast(&DataType::Float64)?.f64()?.rechunk().into_owned())
            }
        });
    }
    let mut batch = Batch::new(cols.variables.len(), cols.asset.is_some());
    batch.ts.reserve(n);
    for v in &mut batch.values {
        v.reserve(n);
    }
    for (i, &t) in times.iter().enumerate().take(n) {
        let Some(t) = t else {
            bad.add(
                path,
                (offset + i + 1) as u64,
                format!("row {}: no time in column `{tname}`", offset + i + 1),
            );
            continue;
        };
        match (&cols.asset, &assets) {
            (Some(from @ AssetFrom::Column(_)), Some(a)) => match a.get(i) {
                Some(name) => batch.push_asset(from, name.as_bytes()),
                None => {
                    bad.add(
                        path,
                        (offset + i + 1) as u64,
                        format!("row {}: no asset", offset + i + 1),
                    );
                    continue;
                }
            },
            (Some(from), _) => batch.push_asset(from, &[]),
            (None, _) => {}
        }
        batch.ts.push(t);
        for (k, v) in values.iter().enumerate() {
            batch.values[k].push(v.as_ref().and_then(|c| c.get(i)).unwrap_or(f64::NAN));
        }
    }
    Ok(batch)
}

/// The instants of a time column, `None` where a row has none.
fn times_of(col: &Column, time: &mut TimeParser) -> Result<Vec<Option<i64>>> {
    Ok(match col.dtype() {
        DataType::Datetime(unit, zone) => {
            let to_us = |v: i64| match unit {
                TimeUnit::Milliseconds => v * 1000,
                TimeUnit::Microseconds => v,
                TimeUnit::Nanoseconds => v.div_euclid(1000),
            };
            let phys = col.as_materialized_series().datetime()?.physical().clone();
            let naive = zone.is_none();
            phys.iter()
                .map(|v| {
                    v.and_then(|v| {
                        let us = to_us(v);
                        if naive {
                            time.naive_micros(us)
                        } else {
                            Some(us)
                        }
                    })
                })
                .collect()
        }
        DataType::Date => {
            let phys = col.as_materialized_series().date()?.physical().clone();
            phys.iter()
                .map(|d| d.and_then(|d| time.naive_micros(d as i64 * 86_400_000_000)))
                .collect()
        }
        DataType::String => col
            .str()?
            .iter()
            .map(|s| s.and_then(|s| time.parse(s.as_bytes())))
            .collect(),
        dt if dt.is_primitive_numeric() => col
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|x| x.and_then(|x| time.epoch(x)))
            .collect(),
        other => {
            return Err(Error::ColumnType {
                column: col.name().to_string(),
                found: other.to_string(),
                expected: "a time (Datetime, Date, epoch seconds or milliseconds, or text)".into(),
            })
        }
    })
}
