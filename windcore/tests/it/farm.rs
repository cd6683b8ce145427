//! Farms: statistics per asset, angles, coverage (min_count), exact edges and
//! the quality counters.

use polars::prelude::*;
use windcore::{Day, Generator, Quality, Resampler, Stat, ASSET};

const MIN_US: i64 = 60_000_000;

/// A farm frame: (asset, minute, x, dir) rows in the given order.
fn farm(rows: &[(&str, i64, Option<f64>, Option<f64>)]) -> DataFrame {
    let ts = Int64Chunked::from_vec(
        "timestamp".into(),
        rows.iter().map(|r| r.1 * MIN_US).collect(),
    )
    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    DataFrame::new_infer_height(vec![
        Column::new(
            "turbine".into(),
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        ),
        ts.into_series().into(),
        Column::new("x".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("dir".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
    ])
    .unwrap()
}

fn resampler(min_count: u32) -> Resampler {
    Resampler::builder()
        .by(["turbine"])
        .angles(["dir"])
        .stats(Stat::ALL)
        .min_count(min_count)
        .build()
        .unwrap()
}

fn f64s(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn assets_sharing_timestamps_are_not_duplicates() {
    // Two turbines with the same timestamps, interleaved as an export lists them.
    let df = farm(&[
        ("B", 0, Some(1.0), Some(350.0)),
        ("A", 0, Some(10.0), Some(10.0)),
        ("B", 1, Some(3.0), Some(10.0)),
        ("A", 1, Some(20.0), Some(20.0)),
    ]);
    let (wide, q) = resampler(1).resample_wide_with_quality(&df).unwrap();
    // Key first, then timestamp; ordered by key.
    assert_eq!(wide.get_column_names()[0].as_str(), "turbine");
    assert_eq!(wide.get_column_names()[1].as_str(), "timestamp");
    assert_eq!(strs(&wide, "turbine"), ["A", "B"]);
    assert_eq!(f64s(&wide, "x_mean"), [Some(15.0), Some(2.0)]);
    assert_eq!(f64s(&wide, "x_count"), [Some(2.0), Some(2.0)]);
    assert_eq!(q.duplicates, 0);
    assert_eq!(q.samples, 4);
    assert_eq!(q.windows, 2);
}

#[test]
fn duplicates_are_per_asset_and_the_last_wins() {
    let df = farm(&[
        ("A", 0, Some(1.0), None),
        ("B", 0, Some(100.0), None),
        ("A", 0, Some(2.0), None), // replaces A's first row
        ("A", 1, Some(4.0), None),
    ]);
    let (wide, q) = resampler(1).resample_wide_with_quality(&df).unwrap();
    assert_eq!(f64s(&wide, "x_mean"), [Some(3.0), Some(100.0)]);
    assert_eq!(f64s(&wide, "x_count"), [Some(2.0), Some(1.0)]);
    assert_eq!(q.duplicates, 1);
    // All `dir` values are NULL: 3 kept rows missing `dir`, plus nothing for x.
    assert_eq!(q.missing, 3);
}

#[test]
fn angles_wrap_through_north() {
    let df = farm(&[
        ("A", 0, None, Some(350.0)),
        ("A", 1, None, Some(10.0)),
        ("A", 2, None, Some(355.0)),
        ("A", 3, None, Some(20.0)),
    ]);
    let wide = resampler(1).resample_wide(&df).unwrap();
    let mean = f64s(&wide, "dir_mean")[0].unwrap();
    // Independent: the vector mean.
    let xs = [350.0f64, 10.0, 355.0, 20.0];
    let s: f64 = xs.iter().map(|x| x.to_radians().sin()).sum::<f64>() / 4.0;
    let c: f64 = xs.iter().map(|x| x.to_radians().cos()).sum::<f64>() / 4.0;
    let expect = s.atan2(c).to_degrees().rem_euclid(360.0);
    assert!((mean - expect).abs() < 1e-9, "{mean} vs {expect}");
    assert!(!(90.0..270.0).contains(&mean), "mean {mean} points south");
    let r = (s * s + c * c).sqrt();
    assert!(close(
        f64s(&wide, "dir_std")[0],
        (-2.0 * r.ln()).sqrt().to_degrees()
    ));
    // min / max: the mean plus the extreme deviations, back in [0, 360).
    assert!(close(f64s(&wide, "dir_min")[0], 350.0));
    assert!(close(f64s(&wide, "dir_max")[0], 20.0));

    // 350 and 10 average to 0, not 180.
    let df = farm(&[("A", 0, None, Some(350.0)), ("A", 1, None, Some(10.0))]);
    let m = f64s(&resampler(1).resample_wide(&df).unwrap(), "dir_mean")[0].unwrap();
    assert!(!(1e-9..=360.0 - 1e-9).contains(&m), "{m}");
}

#[test]
fn cancelling_directions_have_no_mean() {
    let df = farm(&[("A", 0, None, Some(90.0)), ("A", 1, None, Some(270.0))]);
    let wide = resampler(1).resample_wide(&df).unwrap();
    for stat in ["mean", "std", "min", "max"] {
        assert_eq!(f64s(&wide, &format!("dir_{stat}")), [None], "{stat}");
    }
    assert_eq!(f64s(&wide, "dir_count"), [Some(2.0)]);
}

#[test]
fn identical_samples_have_exactly_zero_std() {
    let rows: Vec<_> = (0..6).map(|m| ("A", m, Some(0.1), Some(359.9))).collect();
    let wide = resampler(1).resample_wide(&farm(&rows)).unwrap();
    assert_eq!(f64s(&wide, "x_std"), [Some(0.0)]);
    assert_eq!(f64s(&wide, "x_mean"), [Some(0.1)]);
    assert_eq!(f64s(&wide, "dir_std"), [Some(0.0)]);
    assert_eq!(f64s(&wide, "dir_mean"), [Some(359.9)]);
}

#[test]
fn min_count_keeps_count_and_counts_sparse_windows() {
    let mut rows: Vec<_> = (0..10).map(|m| ("A", m, Some(m as f64), None)).collect();
    rows.extend((10..13).map(|m| ("A", m, Some(1.0), None))); // 3 samples in window 2
    let (wide, q) = resampler(8)
        .resample_wide_with_quality(&farm(&rows))
        .unwrap();
    assert_eq!(f64s(&wide, "x_count"), [Some(10.0), Some(3.0)]);
    assert_eq!(f64s(&wide, "x_mean"), [Some(4.5), None]);
    assert_eq!(f64s(&wide, "x_std")[1], None);
    // x in window 2 and dir (no valid sample) in both windows.
    assert_eq!(q.sparse_windows, 3);
    // Long form: only `count` for the sparse window.
    let long = resampler(8).resample_long(&farm(&rows)).unwrap();
    let sig = strs(&long, "signal");
    let ts: Vec<i64> = long
        .column("timestamp")
        .unwrap()
        .as_materialized_series()
        .datetime()
        .unwrap()
        .physical()
        .iter()
        .map(|t| t.unwrap())
        .collect();
    let second: Vec<&String> = sig
        .iter()
        .zip(&ts)
        .filter(|(_, t)| **t == 10 * MIN_US)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(second, [&"x_count".to_string()]);
    assert!(Resampler::builder().min_count(0).build().is_err());
}

#[test]
fn integer_keys_and_several_keys() {
    let ts = Int64Chunked::from_vec("timestamp".into(), vec![0, 0, 0, MIN_US])
        .into_datetime(TimeUnit::Microseconds, None);
    let df = DataFrame::new_infer_height(vec![
        Column::new("site".into(), ["s", "s", "t", "s"]),
        Column::new("unit".into(), [2i64, 1, 1, 2]),
        ts.into_series().into(),
        Column::new("x".into(), [1.0, 2.0, 3.0, 5.0]),
    ])
    .unwrap();
    let r = Resampler::builder()
        .by(["site", "unit"])
        .stats([Stat::Mean])
        .build()
        .unwrap();
    let wide = r.resample_wide(&df).unwrap();
    assert_eq!(wide.column("unit").unwrap().dtype(), &DataType::Int64);
    assert_eq!(strs(&wide, "site"), ["s", "s", "t"]);
    assert_eq!(f64s(&wide, "unit"), [Some(1.0), Some(2.0), Some(1.0)]);
    assert_eq!(f64s(&wide, "x_mean"), [Some(2.0), Some(3.0), Some(3.0)]);
    let err = Resampler::builder()
        .by(["nope"])
        .build()
        .unwrap()
        .resample_wide(&df)
        .unwrap_err();
    assert!(err.to_string().contains("`nope`"), "{err}");
}

#[test]
fn grouped_and_time_major_input_agree() {
    let g = Generator::builder()
        .turbines(7)
        .missing_rate(0.02)
        .build()
        .unwrap();
    let day: Day = "2024-03-01".parse().unwrap();
    let grouped = g.day(day);
    assert!(grouped.column(ASSET).is_ok());
    // Time-major: sort by timestamp, then asset, as exports are often ordered.
    let time_major = grouped
        .sort(
            ["timestamp", ASSET],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .unwrap();
    let r = Resampler::builder()
        .by([ASSET])
        .angles(["wind_direction", "nacelle_position"])
        .stats(Stat::ALL)
        .build()
        .unwrap();
    let (a, qa) = r.resample_long_with_quality(&grouped).unwrap();
    let (b, qb) = r.resample_long_with_quality(&time_major).unwrap();
    assert!(a.equals_missing(&b));
    assert_eq!(qa, qb);
    assert_eq!(
        qa,
        Quality {
            samples: 7 * 1440,
            windows: 7 * 144,
            missing: qa.missing,
            ..Quality::default()
        }
    );
    assert!(qa.missing > 0);
    // Every direction mean is in [0, 360).
    let wide = r.resample_wide(&grouped).unwrap();
    for v in f64s(&wide, "wind_direction_mean").into_iter().flatten() {
        assert!((0.0..360.0).contains(&v), "{v}");
    }
}
