//! The resampler against hand-computed windows and a straightforward reference.

use std::collections::BTreeMap;

use polars::prelude::*;
use proptest::prelude::*;
use windcore::{Error, Resampler, Stat};

const MIN_US: i64 = 60_000_000;

/// A frame with microsecond UTC timestamps (minutes since epoch offset) and `x`.
fn frame(minutes: &[i64], x: &[Option<f64>]) -> DataFrame {
    frame_unit(minutes, x, TimeUnit::Microseconds, Some(TimeZone::UTC))
}

fn frame_unit(minutes: &[i64], x: &[Option<f64>], tu: TimeUnit, tz: Option<TimeZone>) -> DataFrame {
    let per_min = match tu {
        TimeUnit::Milliseconds => 60_000,
        TimeUnit::Microseconds => MIN_US,
        TimeUnit::Nanoseconds => 60_000_000_000,
    };
    let ts = Int64Chunked::from_vec(
        "timestamp".into(),
        minutes.iter().map(|m| m * per_min).collect(),
    )
    .into_datetime(tu, tz);
    DataFrame::new_infer_height(vec![
        ts.into_series().into(),
        Column::new("x".into(), x.to_vec()),
    ])
    .unwrap()
}

fn all_stats() -> Resampler {
    Resampler::builder().stats(Stat::ALL).build().unwrap()
}

fn col_f64(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

fn starts_min(df: &DataFrame) -> Vec<i64> {
    let c = df.column("timestamp").unwrap();
    let DataType::Datetime(tu, _) = c.dtype() else {
        panic!("not datetime")
    };
    let per_min = match tu {
        TimeUnit::Milliseconds => 60_000,
        TimeUnit::Microseconds => MIN_US,
        TimeUnit::Nanoseconds => 60_000_000_000,
    };
    c.as_materialized_series()
        .datetime()
        .unwrap()
        .physical()
        .into_no_null_iter()
        .map(|t| t / per_min)
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12
}

#[test]
fn hand_computed_windows() {
    // Window [0, 10): 1..=10 ; window [10, 20): 2, 4 ; window [20, 30): 7
    let mins: Vec<i64> = (0..10).chain([12, 15]).chain([29]).collect();
    let x: Vec<Option<f64>> = (1..=10)
        .map(|v| Some(v as f64))
        .chain([Some(2.0), Some(4.0), Some(7.0)])
        .collect();
    let wide = all_stats().resample_wide(&frame(&mins, &x)).unwrap();
    assert_eq!(starts_min(&wide), vec![0, 10, 20]);
    assert_eq!(
        col_f64(&wide, "x_mean"),
        vec![Some(5.5), Some(3.0), Some(7.0)]
    );
    assert_eq!(
        col_f64(&wide, "x_min"),
        vec![Some(1.0), Some(2.0), Some(7.0)]
    );
    assert_eq!(
        col_f64(&wide, "x_max"),
        vec![Some(10.0), Some(4.0), Some(7.0)]
    );
    assert_eq!(
        col_f64(&wide, "x_count"),
        vec![Some(10.0), Some(2.0), Some(1.0)]
    );
    let std = col_f64(&wide, "x_std");
    // var(1..=10, ddof=1) = 55/6 ; var(2,4) = 2
    assert!(close(std[0].unwrap(), (55.0f64 / 6.0).sqrt()));
    assert!(close(std[1].unwrap(), 2.0f64.sqrt()));
    assert_eq!(std[2], None, "std of one sample is absent, not 0");
    assert_eq!(wide.column("x_count").unwrap().dtype(), &DataType::UInt32);
    assert_eq!(
        wide.column("timestamp").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    );
}

#[test]
fn windows_are_half_open_and_labelled_by_start() {
    // minute 10 belongs to [10, 20), not to [0, 10)
    let wide = all_stats()
        .resample_wide(&frame(&[9, 10], &[Some(1.0), Some(2.0)]))
        .unwrap();
    assert_eq!(starts_min(&wide), vec![0, 10]);
    assert_eq!(col_f64(&wide, "x_count"), vec![Some(1.0), Some(1.0)]);
}

#[test]
fn epoch_aligned_before_1970() {
    let wide = all_stats()
        .resample_wide(&frame(&[-11, -10, -1], &[Some(1.0), Some(2.0), Some(3.0)]))
        .unwrap();
    assert_eq!(starts_min(&wide), vec![-20, -10]);
    assert_eq!(col_f64(&wide, "x_mean"), vec![Some(1.0), Some(2.5)]);
}

#[test]
fn gaps_produce_no_windows() {
    let wide = all_stats()
        .resample_wide(&frame(&[0, 1, 100, 101], &[Some(1.0); 4]))
        .unwrap();
    assert_eq!(starts_min(&wide), vec![0, 100]);
}

#[test]
fn null_and_nan_are_not_samples() {
    let x = vec![
        Some(1.0),
        None,
        Some(f64::NAN),
        Some(3.0),
        None,
        Some(f64::NAN),
    ];
    let wide = all_stats()
        .resample_wide(&frame(&[0, 1, 2, 3, 10, 11], &x))
        .unwrap();
    assert_eq!(col_f64(&wide, "x_mean"), vec![Some(2.0), None]);
    assert_eq!(col_f64(&wide, "x_count"), vec![Some(2.0), None]);
    assert!(close(col_f64(&wide, "x_std")[0].unwrap(), 2.0f64.sqrt()));
    assert_eq!(col_f64(&wide, "x_std")[1], None);
    let long = all_stats()
        .resample_long(&frame(&[0, 1, 2, 3, 10, 11], &x))
        .unwrap();
    // Only the first window has statistics; no row at all for the second.
    assert_eq!(long.height(), 5);
    assert!(starts_min(&long).iter().all(|m| *m == 0));
    let vals = col_f64(&long, "value");
    assert!(vals.iter().all(|v| v.is_some_and(|v| !v.is_nan())));
}

#[test]
fn single_sample_window_has_no_std_row() {
    let long = all_stats()
        .resample_long(&frame(&[5], &[Some(4.0)]))
        .unwrap();
    let sig: Vec<String> = long
        .column("signal")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect();
    assert_eq!(sig, ["x_mean", "x_min", "x_max", "x_count"]);
}

#[test]
fn unsorted_input_equals_sorted() {
    let mins: Vec<i64> = (0..50).collect();
    let x: Vec<Option<f64>> = mins.iter().map(|m| Some((m * 7 % 13) as f64)).collect();
    let sorted = all_stats().resample_wide(&frame(&mins, &x)).unwrap();
    let mut pairs: Vec<(i64, Option<f64>)> = mins.iter().copied().zip(x.iter().copied()).collect();
    pairs.reverse();
    pairs.swap(3, 40);
    let (m2, x2): (Vec<i64>, Vec<Option<f64>>) = pairs.into_iter().unzip();
    let shuffled = all_stats().resample_wide(&frame(&m2, &x2)).unwrap();
    assert!(sorted.equals_missing(&shuffled));
}

#[test]
fn duplicate_timestamps_keep_the_last_sample() {
    // sorted input: minute 1 twice, the later 100.0 wins
    let wide = all_stats()
        .resample_wide(&frame(
            &[0, 1, 1, 2],
            &[Some(1.0), Some(50.0), Some(100.0), Some(3.0)],
        ))
        .unwrap();
    assert_eq!(col_f64(&wide, "x_count"), vec![Some(3.0)]);
    assert_eq!(col_f64(&wide, "x_max"), vec![Some(100.0)]);
    // unsorted input: "last" means last in input order
    let wide = all_stats()
        .resample_wide(&frame(
            &[2, 1, 0, 1],
            &[Some(3.0), Some(50.0), Some(1.0), Some(100.0)],
        ))
        .unwrap();
    assert_eq!(col_f64(&wide, "x_max"), vec![Some(100.0)]);
    assert_eq!(col_f64(&wide, "x_count"), vec![Some(3.0)]);
    // a duplicate whose last value is missing: the minute has no valid sample
    let wide = all_stats()
        .resample_wide(&frame(&[0, 1, 1], &[Some(1.0), Some(50.0), None]))
        .unwrap();
    assert_eq!(col_f64(&wide, "x_count"), vec![Some(1.0)]);
}

#[test]
fn time_units_and_zones_are_utc_instants() {
    let mins: Vec<i64> = (0..30).collect();
    let x: Vec<Option<f64>> = mins.iter().map(|m| Some(*m as f64)).collect();
    let base = all_stats().resample_wide(&frame(&mins, &x)).unwrap();
    for tu in [
        TimeUnit::Milliseconds,
        TimeUnit::Microseconds,
        TimeUnit::Nanoseconds,
    ] {
        for tz in [
            None,
            Some(TimeZone::UTC),
            Some(unsafe { TimeZone::from_static("Asia/Kolkata") }),
        ] {
            let out = all_stats()
                .resample_wide(&frame_unit(&mins, &x, tu, tz.clone()))
                .unwrap();
            assert_eq!(starts_min(&out), starts_min(&base), "{tu:?} {tz:?}");
            assert_eq!(col_f64(&out, "x_mean"), col_f64(&base, "x_mean"));
            assert_eq!(
                out.column("timestamp").unwrap().dtype(),
                &DataType::Datetime(tu, Some(TimeZone::UTC))
            );
        }
    }
}

#[test]
fn empty_input_gives_empty_output_with_schema() {
    let df = frame(&[], &[]);
    let wide = all_stats().resample_wide(&df).unwrap();
    assert_eq!(wide.height(), 0);
    let names: Vec<&str> = wide.get_column_names().iter().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        ["timestamp", "x_mean", "x_min", "x_max", "x_std", "x_count"]
    );
    let long = all_stats().resample_long(&df).unwrap();
    assert_eq!(long.height(), 0);
    assert_eq!(long.get_column_names(), ["timestamp", "signal", "value"]);
}

#[test]
fn bad_columns_are_clear_errors() {
    let df = frame(&[0], &[Some(1.0)]);
    let no_ts = df
        .clone()
        .rename("timestamp", "time".into())
        .unwrap()
        .clone();
    let err = Resampler::default().resample_wide(&no_ts).unwrap_err();
    assert!(
        matches!(err, Error::MissingColumn { ref column, .. } if column == "timestamp"),
        "{err}"
    );
    assert!(
        err.to_string().contains("available columns: time, x"),
        "{err}"
    );

    let missing_var = Resampler::builder().variables(["power"]).build().unwrap();
    let err = missing_var.resample_wide(&df).unwrap_err();
    assert!(
        err.to_string().contains("column `power` not found"),
        "{err}"
    );

    let text = DataFrame::new_infer_height(vec![
        df.column("timestamp").unwrap().clone(),
        Column::new("x".into(), ["a"]),
    ])
    .unwrap();
    let err = Resampler::builder()
        .variables(["x"])
        .build()
        .unwrap()
        .resample_wide(&text)
        .unwrap_err();
    assert!(err.to_string().contains("column `x` has type str"), "{err}");

    let int_ts = DataFrame::new_infer_height(vec![
        Column::new("timestamp".into(), [0i64]),
        Column::new("x".into(), [1.0]),
    ])
    .unwrap();
    let err = Resampler::default().resample_wide(&int_ts).unwrap_err();
    assert!(err.to_string().contains("expected Datetime"), "{err}");

    let null_ts = DataFrame::new_infer_height(vec![
        Int64Chunked::new("timestamp".into(), [Some(0i64), None])
            .into_datetime(TimeUnit::Microseconds, None)
            .into_series()
            .into(),
        Column::new("x".into(), [1.0, 2.0]),
    ])
    .unwrap();
    let err = Resampler::default().resample_wide(&null_ts).unwrap_err();
    assert!(err.to_string().contains("1 null timestamp"), "{err}");
}

#[test]
fn integer_variables_are_accepted() {
    let ts = Int64Chunked::from_vec("timestamp".into(), vec![0, MIN_US])
        .into_datetime(TimeUnit::Microseconds, None);
    let df = DataFrame::new_infer_height(vec![
        ts.into_series().into(),
        Column::new("n".into(), [1i32, 4]),
    ])
    .unwrap();
    let wide = Resampler::default().resample_wide(&df).unwrap();
    assert_eq!(col_f64(&wide, "n_mean"), vec![Some(2.5)]);
}

#[test]
fn other_window_lengths() {
    let mins: Vec<i64> = (0..120).collect();
    let x: Vec<Option<f64>> = mins.iter().map(|m| Some(*m as f64)).collect();
    let hourly = Resampler::builder()
        .every(chrono::TimeDelta::hours(1))
        .stats([Stat::Count])
        .build()
        .unwrap();
    let wide = hourly.resample_wide(&frame(&mins, &x)).unwrap();
    assert_eq!(starts_min(&wide), vec![0, 60]);
    assert_eq!(col_f64(&wide, "x_count"), vec![Some(60.0), Some(60.0)]);
}

#[test]
fn large_sorted_input_uses_chunks_consistently() {
    // Big enough to be split across threads; compare with the reference.
    let n = 400_000i64;
    let mins: Vec<i64> = (0..n).map(|i| i + i / 97).collect();
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| {
            if i % 31 == 0 {
                None
            } else {
                Some(((i * 7919) % 1000) as f64 / 7.0)
            }
        })
        .collect();
    check_against_reference(&mins, &x);
}

/// Straightforward reference: a BTreeMap from window start to the values, last duplicate wins.
fn reference(
    mins: &[i64],
    x: &[Option<f64>],
    every_min: i64,
) -> BTreeMap<(i64, &'static str), f64> {
    let mut by_ts: BTreeMap<i64, Option<f64>> = BTreeMap::new();
    for (m, v) in mins.iter().zip(x) {
        by_ts.insert(*m, *v); // later inserts overwrite: last in input order wins
    }
    let mut windows: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (m, v) in by_ts {
        let w = m.div_euclid(every_min) * every_min;
        let e = windows.entry(w).or_default();
        if let Some(v) = v.filter(|v| !v.is_nan()) {
            e.push(v);
        }
    }
    let mut out = BTreeMap::new();
    for (w, vals) in windows {
        let n = vals.len();
        if n == 0 {
            continue;
        }
        let mean = vals.iter().sum::<f64>() / n as f64;
        out.insert((w, "mean"), mean);
        out.insert(
            (w, "min"),
            vals.iter().cloned().fold(f64::INFINITY, f64::min),
        );
        out.insert(
            (w, "max"),
            vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        );
        out.insert((w, "count"), n as f64);
        if n > 1 {
            let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            out.insert((w, "std"), var.sqrt());
        }
    }
    out
}

fn check_against_reference(mins: &[i64], x: &[Option<f64>]) {
    let long = all_stats().resample_long(&frame(mins, x)).unwrap();
    let ts = starts_min(&long);
    let sig: Vec<&str> = long
        .column("signal")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap())
        .collect();
    let val = col_f64(&long, "value");
    let expected = reference(mins, x, 10);
    assert_eq!(ts.len(), expected.len(), "number of (window, signal) rows");
    for ((t, s), v) in ts.iter().zip(sig).zip(val) {
        let stat = s.strip_prefix("x_").unwrap();
        let stat: &'static str = ["mean", "min", "max", "std", "count"]
            .into_iter()
            .find(|k| *k == stat)
            .unwrap();
        let e = expected
            .get(&(*t, stat))
            .unwrap_or_else(|| panic!("unexpected ({t}, {stat})"));
        assert!(close(v.unwrap(), *e), "({t}, {stat}): {v:?} vs {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn matches_reference_on_random_data(
        rows in proptest::collection::vec((-3000i64..3000, proptest::option::weighted(0.85, -1e4f64..1e4), 0u8..20), 0..400)
    ) {
        // Sprinkle NaN where the third element is 0.
        let mins: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let x: Vec<Option<f64>> = rows.iter().map(|r| if r.2 == 0 { Some(f64::NAN) } else { r.1 }).collect();
        check_against_reference(&mins, &x);
    }
}

/// `df` cut into chunks at `cuts` (row offsets), the same cuts in every column.
fn chunked(df: &DataFrame, cuts: &[usize]) -> DataFrame {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (df.height() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(df.height());
    let mut out = df.slice(0, cuts[0]);
    for w in cuts.windows(2) {
        out.vstack_mut(&df.slice(w[0] as i64, w[1] - w[0])).unwrap();
    }
    out
}

fn two_variables(mins: &[i64], x: &[Option<f64>]) -> DataFrame {
    let mut df = frame(mins, x);
    let y: Vec<Option<f64>> = x.iter().rev().map(|v| v.map(|v| v * 0.5 - 3.0)).collect();
    df.with_column(Column::new("y".into(), y)).unwrap();
    df
}

#[test]
fn chunked_input_equals_contiguous_input() {
    // 1-minute rows with gaps, nulls and a duplicate, cut inside windows, on
    // window boundaries, into one-row chunks and a chunk inside one window.
    let mins: Vec<i64> = (0..300).filter(|m| m % 37 != 5).chain([299]).collect();
    let x: Vec<Option<f64>> = (0..mins.len())
        .map(|i| (i % 11 != 3).then(|| (i * 7 % 13) as f64 + 0.25))
        .collect();
    let df = two_variables(&mins, &x);
    let expected = all_stats().resample_wide(&df).unwrap();
    for cuts in [
        vec![3, 10, 25, 26, 27, 100, 101, 250],
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9],
        vec![41, 42, 43],
        vec![0, 0, 150, 150, mins.len()],
        vec![mins.len() - 1],
    ] {
        let input = chunked(&df, &cuts);
        assert!(input.first_col_n_chunks() > 1, "{cuts:?}");
        let got = all_stats().resample_wide(&input).unwrap();
        assert!(
            got.equals_missing(&expected),
            "{cuts:?}:\n{got}\n{expected}"
        );
    }
    // Columns cut differently from each other: still the same result.
    let mut x_col = df
        .column("x")
        .unwrap()
        .as_materialized_series()
        .slice(0, 100);
    x_col
        .append(
            &df.column("x")
                .unwrap()
                .as_materialized_series()
                .slice(100, mins.len()),
        )
        .unwrap();
    let mut uneven = df.clone();
    uneven.with_column(Column::from(x_col)).unwrap();
    let got = all_stats().resample_wide(&uneven).unwrap();
    assert!(got.equals_missing(&expected));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunked_random_input_equals_contiguous_input(
        rows in proptest::collection::vec((-300i64..300, proptest::option::weighted(0.8, -1e4f64..1e4)), 1..300),
        cuts in proptest::collection::vec(0usize..400, 1..12),
        sorted in any::<bool>(),
    ) {
        let mut rows = rows;
        if sorted {
            rows.sort_by_key(|r| r.0);
        }
        let mins: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let x: Vec<Option<f64>> = rows.iter().map(|r| r.1).collect();
        let df = two_variables(&mins, &x);
        let expected = all_stats().resample_wide(&df).unwrap();
        let got = all_stats().resample_wide(&chunked(&df, &cuts)).unwrap();
        prop_assert!(got.equals_missing(&expected), "{}\n{}", got, expected);
    }
}
