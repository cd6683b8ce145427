//! Frame helpers every module shares: a required column, a time column read
//! as integers (in its own unit or as UTC microseconds), the rows in a time
//! range, the rows of some assets.

use std::collections::HashSet;

use polars::prelude::*;

use crate::day::TimeRange;
use crate::error::{Error, Result};
use crate::schema::{ASSET, TIMESTAMP};

/// The column `name` of `df`, or [`Error::MissingColumn`] naming the
/// columns it has.
pub(crate) fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column> {
    df.column(name).map_err(|_| Error::MissingColumn {
        column: name.into(),
        available: column_list(df),
    })
}

/// The names of `df`'s columns, comma separated (for errors).
pub(crate) fn column_list(df: &DataFrame) -> String {
    df.get_column_names()
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Datetime column's unit and its values as integers since the Unix epoch
/// in that unit (UTC: polars keeps instants in UTC whatever the column's time
/// zone; naive timestamps are taken as UTC). Nulls stay null.
pub(crate) fn time_values(col: &Column) -> Result<(TimeUnit, Int64Chunked)> {
    let DataType::Datetime(unit, _) = col.dtype() else {
        return Err(Error::ColumnType {
            column: col.name().to_string(),
            found: col.dtype().to_string(),
            expected: "Datetime".into(),
        });
    };
    Ok((
        *unit,
        col.as_materialized_series().datetime()?.physical().clone(),
    ))
}

/// `v`, a time in `unit` since the epoch, in microseconds: milliseconds
/// exactly (saturating), nanoseconds rounded down.
#[inline]
pub(crate) fn micros_of(unit: TimeUnit, v: i64) -> i64 {
    match unit {
        TimeUnit::Milliseconds => v.saturating_mul(1000),
        TimeUnit::Microseconds => v,
        TimeUnit::Nanoseconds => v.div_euclid(1000),
    }
}

/// A Datetime column as UTC microseconds since the epoch (see
/// [`micros_of`]); nulls stay null.
pub(crate) fn utc_micros(col: &Column) -> Result<Int64Chunked> {
    let (unit, values) = time_values(col)?;
    Ok(match unit {
        TimeUnit::Microseconds => values,
        unit => values.apply_values(|v| micros_of(unit, v)),
    })
}

/// What [`within`] does with a row without a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullTime {
    /// Keep it (so that the resampler can refuse it by name).
    Keep,
    /// Leave it out, as a row outside the range.
    Drop,
}

/// The rows of `df` whose [`TIMESTAMP`] lies in `range` (`start <= t <
/// end`, compared in microseconds), and how many rows were left out.
pub(crate) fn within(
    df: &DataFrame,
    range: TimeRange,
    nulls: NullTime,
) -> Result<(DataFrame, u64)> {
    let values = utc_micros(column(df, TIMESTAMP)?)?;
    let (lo, hi) = (range.start_micros(), range.end_micros());
    let inside = |t: Option<i64>| match t {
        Some(t) => lo <= t && t < hi,
        None => nulls == NullTime::Keep,
    };
    let outside = values.iter().filter(|t| !inside(*t)).count() as u64;
    if outside == 0 {
        return Ok((df.clone(), 0));
    }
    let mask: BooleanChunked = values.iter().map(|t| Some(inside(t))).collect();
    Ok((df.filter(&mask)?, outside))
}

/// The rows of `df` whose [`ASSET`] is one of `assets` (`""`: every row of
/// a frame without an asset column, which holds one asset).
pub(crate) fn only_assets(df: &DataFrame, assets: &[String]) -> Result<DataFrame> {
    let Ok(col) = df.column(ASSET) else {
        return Ok(if assets.iter().any(|a| a.is_empty()) {
            df.clone()
        } else {
            df.clear()
        });
    };
    let col = col.cast(&DataType::String)?;
    let set: HashSet<&str> = assets.iter().map(|s| s.as_str()).collect();
    let mask: BooleanChunked = col
        .str()?
        .iter()
        .map(|a| Some(a.is_some_and(|a| set.contains(a))))
        .collect();
    Ok(df.filter(&mask)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::Day;

    fn frame(unit: TimeUnit, ts: &[Option<i64>]) -> DataFrame {
        let ts = Int64Chunked::from_iter_options(TIMESTAMP.into(), ts.iter().copied())
            .into_datetime(unit, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            Column::new(ASSET.into(), vec!["a"; ts.len()]),
            ts.into_series().into(),
        ])
        .unwrap()
    }

    #[test]
    fn times_read_as_utc_micros() {
        for (unit, per_us) in [
            (TimeUnit::Milliseconds, 0),
            (TimeUnit::Microseconds, 1),
            (TimeUnit::Nanoseconds, 1000),
        ] {
            let raw = [Some(-1501), Some(2_000_000), None];
            let df = frame(unit, &raw);
            let us = utc_micros(df.column(TIMESTAMP).unwrap()).unwrap();
            let want: Vec<Option<i64>> = raw
                .iter()
                .map(|v| {
                    v.map(|v| match per_us {
                        0 => v * 1000,
                        n => v.div_euclid(n),
                    })
                })
                .collect();
            assert_eq!(us.iter().collect::<Vec<_>>(), want, "{unit:?}");
        }
        let bad = DataFrame::new_infer_height(vec![Column::new(TIMESTAMP.into(), [1i64])]).unwrap();
        assert!(matches!(
            utc_micros(bad.column(TIMESTAMP).unwrap()),
            Err(Error::ColumnType { .. })
        ));
    }

    #[test]
    fn rows_in_a_range() {
        let day: Day = "1970-01-01".parse().unwrap();
        let r = day.range();
        let us = 86_400_000_000;
        let df = frame(
            TimeUnit::Microseconds,
            &[Some(-1), Some(0), None, Some(us - 1), Some(us)],
        );
        let (kept, out) = within(&df, r, NullTime::Keep).unwrap();
        assert_eq!((kept.height(), out), (3, 2));
        let (kept, out) = within(&df, r, NullTime::Drop).unwrap();
        assert_eq!((kept.height(), out), (2, 3));
    }

    #[test]
    fn rows_of_assets() {
        let df = frame(TimeUnit::Microseconds, &[Some(0), Some(1)]);
        assert_eq!(only_assets(&df, &["a".into()]).unwrap().height(), 2);
        assert_eq!(only_assets(&df, &["b".into()]).unwrap().height(), 0);
        let single = df.drop(ASSET).unwrap();
        assert_eq!(only_assets(&single, &["".into()]).unwrap().height(), 2);
        assert_eq!(only_assets(&single, &["b".into()]).unwrap().height(), 0);
    }
}
