//! Shared helpers of the windcore benchmarks.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use polars::prelude::*;
use windcore::{Day, DayRange, Generator};

/// Times `f` `runs` times and returns the fastest run and the last result.
pub fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

/// The `timestamp` column's values in its own unit (a `Datetime` column).
pub fn timestamps(df: &DataFrame) -> Int64Chunked {
    df.column("timestamp")
        .unwrap()
        .as_materialized_series()
        .datetime()
        .unwrap()
        .physical()
        .clone()
}

/// `turbines` years of sorted 1-minute samples (`timestamp`, `wind_speed`, `power`):
/// turbine k's year 2023 (its own seed) is shifted by k × 365 days, so the
/// turbine-years lie end to end in time.
pub fn turbine_years(turbines: u32) -> DataFrame {
    let year = DayRange::starting(Day::from_ymd(2023, 1, 1).expect("valid"), 365).expect("valid");
    let per_year = 365 * 1440;
    let n = turbines as usize * per_year;
    let mut ts = Vec::with_capacity(n);
    let mut ws = Vec::with_capacity(n);
    let mut pw = Vec::with_capacity(n);
    for k in 0..turbines {
        let g = Generator::builder()
            .seed(u64::from(k))
            .build()
            .expect("valid");
        let shift = i64::from(k) * 365 * 86_400_000_000;
        for day in year.iter() {
            let df = g.day(day);
            ts.extend(timestamps(&df).into_no_null_iter().map(|v| v + shift));
            ws.extend(
                df.column("wind_speed")
                    .unwrap()
                    .f64()
                    .unwrap()
                    .into_no_null_iter(),
            );
            pw.extend(
                df.column("power")
                    .unwrap()
                    .f64()
                    .unwrap()
                    .into_no_null_iter(),
            );
        }
    }
    let ts = Int64Chunked::from_vec("timestamp".into(), ts)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    DataFrame::new_infer_height(vec![
        ts.into_series().into(),
        Float64Chunked::from_vec("wind_speed".into(), ws)
            .into_series()
            .into(),
        Float64Chunked::from_vec("power".into(), pw)
            .into_series()
            .into(),
    ])
    .expect("equal lengths")
}

/// Writes `df` as Parquet to `path`.
pub fn write_parquet(df: &mut DataFrame, path: &Path) {
    let f = std::fs::File::create(path).expect("create parquet");
    ParquetWriter::new(f)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(df)
        .expect("write parquet");
}

/// The Python interpreter to run the alternatives with (`WINDCORE_PYTHON`, else `python3`).
pub fn python() -> String {
    std::env::var("WINDCORE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs a Python benchmark script and returns its `name seconds` lines.
pub fn run_python(script: &Path, args: &[&str]) -> Vec<(String, f64)> {
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .expect("python runs (set WINDCORE_PYTHON to a python with pandas and polars)");
    if !out.status.success() {
        panic!(
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // What the script reports on stderr (its cross-checks against windcore).
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_string(), it.next()?.parse().ok()?))
        })
        .collect()
}

/// A farm year as the generator lays it out, days after each other: for each
/// day of 2023 (`days` of them), all 1440 minutes of turbine `T001`, then
/// `T002`, … (`turbines` turbines, one seed). Columns: `turbine` (String),
/// `timestamp` (Datetime µs UTC), `wind_speed`, `power`, `wind_direction`.
pub fn farm_year(turbines: u32, days: u32) -> DataFrame {
    let range = DayRange::starting(Day::from_ymd(2023, 1, 1).expect("valid"), days).expect("valid");
    let g = Generator::builder()
        .turbines(turbines)
        .build()
        .expect("valid");
    let names = g.assets();
    let n = turbines as usize * days as usize * 1440;
    let mut key: Vec<u32> = Vec::with_capacity(n);
    let mut ts = Vec::with_capacity(n);
    let mut vars: [Vec<f64>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    for day in range.iter() {
        let df = g.day(day);
        let index: std::collections::HashMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i as u32))
            .collect();
        key.extend(
            df.column("asset")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|s| index[s.expect("an asset")]),
        );
        ts.extend(timestamps(&df).into_no_null_iter());
        for (v, name) in vars
            .iter_mut()
            .zip(["wind_speed", "power", "wind_direction"])
        {
            v.extend(df.column(name).unwrap().f64().unwrap().into_no_null_iter());
        }
    }
    let turbine = StringChunked::from_iter_values(
        "turbine".into(),
        key.iter().map(|k| names[*k as usize].as_str()),
    );
    drop(key);
    let ts = Int64Chunked::from_vec("timestamp".into(), ts)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let [ws, pw, wd] = vars;
    DataFrame::new_infer_height(vec![
        turbine.into_series().into(),
        ts.into_series().into(),
        Float64Chunked::from_vec("wind_speed".into(), ws)
            .into_series()
            .into(),
        Float64Chunked::from_vec("power".into(), pw)
            .into_series()
            .into(),
        Float64Chunked::from_vec("wind_direction".into(), wd)
            .into_series()
            .into(),
    ])
    .expect("equal lengths")
}

/// Times `f` `runs` times and returns the fastest and the slowest run, and the last result.
pub fn best_worst_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut best = Duration::MAX;
    let mut worst = Duration::ZERO;
    let mut last = None;
    for _ in 0..runs {
        drop(last.take());
        let t = Instant::now();
        let out = f();
        let e = t.elapsed();
        best = best.min(e);
        worst = worst.max(e);
        last = Some(out);
    }
    (best, worst, last.expect("at least one run"))
}
