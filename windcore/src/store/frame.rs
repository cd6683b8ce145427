//! Timestamps as the store keeps them (UTC microseconds) and rows in a time
//! range.

use polars::prelude::*;

use crate::day::{Day, TimeRange};
use crate::error::{column, Error, Result};
use crate::resample::TIMESTAMP;
use crate::zone::Zone;

/// A Datetime column as UTC microseconds (the same instants).
pub(super) fn to_utc_micros(col: &Column) -> Result<Column> {
    match col.dtype() {
        DataType::Datetime(_, _) => {
            let target = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
            // Casting between units keeps the instant; re-labelling the zone is
            // free because polars stores instants in UTC.
            let phys = col
                .as_materialized_series()
                .datetime()?
                .physical()
                .clone()
                .into_datetime(col_unit(col), Some(TimeZone::UTC))
                .into_series();
            Ok(phys.cast(&target)?.into())
        }
        other => Err(Error::ColumnType {
            column: col.name().to_string(),
            found: other.to_string(),
            expected: "Datetime".into(),
        }),
    }
}

/// Naive local times of `zone` as UTC instants (see
/// [`Zone::instant_of_sample`]); a column that has a time zone already is
/// left as it is.
pub(super) fn naive_to_utc(col: &Column, zone: Zone) -> Result<Column> {
    let DataType::Datetime(unit, None) = col.dtype() else {
        return Ok(col.clone());
    };
    let per_us = |v: i64| match unit {
        TimeUnit::Milliseconds => v * 1000,
        TimeUnit::Microseconds => v,
        TimeUnit::Nanoseconds => v.div_euclid(1000),
    };
    let phys = col.as_materialized_series().datetime()?.physical().clone();
    let out: Int64Chunked = phys
        .iter()
        .map(|v| {
            v.and_then(|v| chrono::DateTime::from_timestamp_micros(per_us(v)))
                .map(|t| zone.instant_of_sample(t.naive_utc()).timestamp_micros())
        })
        .collect();
    Ok(out
        .with_name(col.name().clone())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into())
}

fn col_unit(col: &Column) -> TimeUnit {
    match col.dtype() {
        DataType::Datetime(tu, _) => *tu,
        _ => TimeUnit::Microseconds,
    }
}

/// The timestamp column as UTC microseconds, checking that it lies inside `day`.
pub(super) fn utc_micros(df: &DataFrame, day: Day) -> Result<Column> {
    let col = column(df, TIMESTAMP)?;
    let ts = to_utc_micros(col)?;
    if ts.null_count() > 0 {
        return Err(Error::NullTimestamps {
            column: TIMESTAMP.into(),
            nulls: ts.null_count(),
        });
    }
    let phys = ts.as_materialized_series().datetime()?.physical().clone();
    let (lo, hi) = (day.range().start_micros(), day.range().end_micros());
    if let Some(t) = phys.into_no_null_iter().find(|t| *t < lo || *t >= hi) {
        return Err(Error::config(
            "samples",
            format!("timestamp {t} µs since the epoch lies outside the day {day}"),
        ));
    }
    Ok(ts)
}

/// Rows with `range.start <= timestamp < range.end`.
pub(super) fn filter_range(df: &DataFrame, range: TimeRange) -> Result<DataFrame> {
    let col = df.column(TIMESTAMP)?;
    let unit = col_unit(col);
    let (lo, hi) = match unit {
        TimeUnit::Milliseconds => (range.start.timestamp_millis(), range.end.timestamp_millis()),
        TimeUnit::Microseconds => (range.start_micros(), range.end_micros()),
        TimeUnit::Nanoseconds => (
            range.start.timestamp_nanos_opt().unwrap_or(i64::MIN),
            range.end.timestamp_nanos_opt().unwrap_or(i64::MAX),
        ),
    };
    let phys = col.as_materialized_series().datetime()?.physical().clone();
    if phys.iter().all(|t| t.is_some_and(|t| lo <= t && t < hi)) {
        return Ok(df.clone());
    }
    let mask: BooleanChunked = phys
        .iter()
        .map(|t| Some(t.is_some_and(|t| lo <= t && t < hi)))
        .collect();
    Ok(df.filter(&mask)?)
}
