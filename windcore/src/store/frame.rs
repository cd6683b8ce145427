//! Timestamps as the store keeps them (UTC microseconds), on top of the
//! shared frame helpers ([`crate::frame`]).

use polars::prelude::*;

use crate::day::Day;
use crate::error::{Error, Result};
use crate::frame::{column, micros_of, utc_micros as micros};
use crate::schema::TIMESTAMP;
use crate::zone::Zone;

/// A Datetime column as a UTC microsecond Datetime column (the same instants).
pub(super) fn to_utc_micros(col: &Column) -> Result<Column> {
    Ok(micros(col)?
        .with_name(col.name().clone())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into())
}

/// Naive local times of `zone` as UTC instants (see
/// [`Zone::instant_of_sample`]); a column that has a time zone already is
/// left as it is.
pub(super) fn naive_to_utc(col: &Column, zone: Zone) -> Result<Column> {
    let DataType::Datetime(unit, None) = col.dtype() else {
        return Ok(col.clone());
    };
    let unit = *unit;
    let phys = col.as_materialized_series().datetime()?.physical().clone();
    let out: Int64Chunked = phys
        .iter()
        .map(|v| {
            v.and_then(|v| chrono::DateTime::from_timestamp_micros(micros_of(unit, v)))
                .map(|t| zone.instant_of_sample(t.naive_utc()).timestamp_micros())
        })
        .collect();
    Ok(out
        .with_name(col.name().clone())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into())
}

/// The timestamp column as UTC microseconds, checking that it lies inside `day`.
pub(super) fn utc_micros(df: &DataFrame, day: Day) -> Result<Column> {
    let ts = to_utc_micros(column(df, TIMESTAMP)?)?;
    if ts.null_count() > 0 {
        return Err(Error::NullTimestamps {
            column: TIMESTAMP.into(),
            nulls: ts.null_count(),
        });
    }
    let phys = ts.as_materialized_series().datetime()?.physical().clone();
    let (lo, hi) = (day.range().start_micros(), day.range().end_micros());
    if let Some(t) = phys.into_no_null_iter().find(|t| *t < lo || *t >= hi) {
        return Err(Error::data(
            "samples",
            format!("timestamp {t} µs since the epoch lies outside the day {day}"),
        ));
    }
    Ok(ts)
}
