//! Resample a polars DataFrame you already have: wide and long form.
//!
//!     cargo run --release -p windcore-examples --example resample_dataframe

use polars::prelude::*;
use windcore::{Resampler, Stat};

fn main() -> windcore::Result<()> {
    // Three samples, one of them missing, in one 10-minute window; one in the next.
    let minute = 60_000_000i64; // microseconds
    let ts = Int64Chunked::from_vec("timestamp".into(), vec![0, minute, 2 * minute, 10 * minute])
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let df = DataFrame::new_infer_height(vec![
        ts.into_series().into(),
        Column::new("power".into(), [Some(100.0), None, Some(300.0), Some(50.0)]),
    ])?;

    let resampler = Resampler::builder().stats(Stat::ALL).build()?;
    println!("wide form:\n{}", resampler.resample_wide(&df)?);
    // The second window has one sample: its std is absent (no row), never 0.0.
    println!("long form:\n{}", resampler.resample_long(&df)?);
    Ok(())
}
