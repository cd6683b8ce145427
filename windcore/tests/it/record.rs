//! Counters, states and availability: a small case worked by hand.

use std::collections::BTreeMap;

use chrono::{TimeZone as _, Utc};
use polars::prelude::*;
use windcore::{Availability, Resampler, TimeRange};

const MIN_US: i64 = 60_000_000;

/// 2024-01-01 00:00 UTC in minutes since the epoch.
fn day_start_min() -> i64 {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp()
        / 60
}

type Row<'a> = (&'a str, i64, Option<&'a str>, Option<f64>);

/// (asset, minute, [run, fault, stop, nodata], [availability, available,
/// unavailable, excluded, unknown], (delta, last)).
type Expected<'a> = (&'a str, i64, [f64; 4], [f64; 5], (f64, f64));

fn frame(rows: &[Row<'_>]) -> DataFrame {
    let t0 = day_start_min();
    let ts = Int64Chunked::from_vec(
        "timestamp".into(),
        rows.iter().map(|r| (t0 + r.1) * MIN_US).collect(),
    )
    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    DataFrame::new_infer_height(vec![
        Column::new("asset".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        ts.into_series().into(),
        Column::new(
            "status".into(),
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        ),
        Column::new(
            "energy".into(),
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        ),
    ])
    .unwrap()
}

/// (asset, minute of the day, signal) → value of long-form output.
fn by_key(long: &DataFrame) -> BTreeMap<(String, i64, String), f64> {
    let t0 = day_start_min() * MIN_US;
    let a = long.column("asset").unwrap().str().unwrap().clone();
    let ts = long
        .column("timestamp")
        .unwrap()
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let ts = ts.i64().unwrap();
    let s = long.column("signal").unwrap().str().unwrap().clone();
    let v = long.column("value").unwrap().f64().unwrap().clone();
    (0..long.height())
        .map(|i| {
            (
                (
                    a.get(i).unwrap().to_string(),
                    (ts.get(i).unwrap() - t0) / MIN_US,
                    s.get(i).unwrap().to_string(),
                ),
                v.get(i).unwrap(),
            )
        })
        .collect()
}

/// Three turbines, one hour, 10-minute windows, a 10-minute hold, worked by hand:
///
/// * A (states only): run 00:00, run 00:05, fault 00:12, run 00:30, stop 00:55.
///   Run covers 00:00–00:12; fault 00:12–00:22 (its hold; the next sample is
///   at 00:30); nodata 00:22–00:30; run 00:30–00:40; nodata 00:40–00:55
///   (00:40–00:50 is a window without data: no row); stop 00:55–01:00.
/// * B: fault at 23:58 the day before (a predecessor), then run every 10
///   minutes from 00:03: fault 00:00–00:03, run from 00:03 on.
/// * C (counter only, state NULL): energy 100 at 23:59 the day before, 101 at
///   00:00, 103 at 00:05, 2 at 00:15 (a reset), NULL at 00:25, 5 at 00:35 and
///   00:45: deltas 3, 2, none, 3, 0 (the day's increase: 8).
#[test]
fn three_turbines_one_hour_by_hand() {
    let rows: Vec<Row<'_>> = vec![
        ("A", 0, Some("run"), None),
        ("A", 5, Some("run"), None),
        ("A", 12, Some("fault"), None),
        ("A", 30, Some("run"), None),
        ("A", 55, Some("stop"), None),
        ("B", -2, Some("fault"), None),
        ("B", 3, Some("run"), None),
        ("B", 13, Some("run"), None),
        ("B", 23, Some("run"), None),
        ("B", 33, Some("run"), None),
        ("B", 43, Some("run"), None),
        ("B", 53, Some("run"), None),
        ("C", -1, None, Some(100.0)),
        ("C", 0, None, Some(101.0)),
        ("C", 5, None, Some(103.0)),
        ("C", 15, None, Some(2.0)),
        ("C", 25, None, None),
        ("C", 35, None, Some(5.0)),
        ("C", 45, None, Some(5.0)),
    ];
    let mapping = Availability::from_toml(
        "available = [\"run\"]\nunavailable = [\"fault\"]\nexcluded = [\"stop\"]",
    )
    .unwrap();
    let r = Resampler::builder()
        .by(["asset"])
        .counters(["energy"])
        .states(["status"])
        .availability(mapping)
        .build()
        .unwrap();
    let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let range = TimeRange::new(t0, t0 + chrono::TimeDelta::hours(1)).unwrap();
    let (long, q) = r.resample_long_within(&frame(&rows), range).unwrap();
    // The rows before the hour are context, not samples.
    assert_eq!(q.samples, 17);
    let got = by_key(&long);
    let nan = f64::NAN;
    // (asset, minute, [run, fault, stop, nodata], [availability, available,
    // unavailable, excluded, unknown], (delta, last)); NaN: absent.
    let want: Vec<Expected<'_>> = vec![
        (
            "A",
            0,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "A",
            10,
            [120., 480., nan, 0.],
            [0.2, 120., 480., 0., 0.],
            (nan, nan),
        ),
        (
            "A",
            20,
            [nan, 120., nan, 480.],
            [0.0, 0., 120., 0., 480.],
            (nan, nan),
        ),
        (
            "A",
            30,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "A",
            50,
            [nan, nan, 300., 300.],
            [nan, 0., 0., 300., 300.],
            (nan, nan),
        ),
        (
            "B",
            0,
            [420., 180., nan, 0.],
            [0.7, 420., 180., 0., 0.],
            (nan, nan),
        ),
        (
            "B",
            10,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "B",
            20,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "B",
            30,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "B",
            40,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "B",
            50,
            [600., nan, nan, 0.],
            [1.0, 600., 0., 0., 0.],
            (nan, nan),
        ),
        (
            "C",
            0,
            [nan, nan, nan, 600.],
            [nan, 0., 0., 0., 600.],
            (3., 103.),
        ),
        (
            "C",
            10,
            [nan, nan, nan, 600.],
            [nan, 0., 0., 0., 600.],
            (2., 2.),
        ),
        (
            "C",
            20,
            [nan, nan, nan, 600.],
            [nan, 0., 0., 0., 600.],
            (nan, nan),
        ),
        (
            "C",
            30,
            [nan, nan, nan, 600.],
            [nan, 0., 0., 0., 600.],
            (3., 5.),
        ),
        (
            "C",
            40,
            [nan, nan, nan, 600.],
            [nan, 0., 0., 0., 600.],
            (0., 5.),
        ),
    ];
    let mut expected: BTreeMap<(String, i64, String), f64> = BTreeMap::new();
    for (asset, minute, states, avail, (delta, last)) in &want {
        let mut put = |signal: &str, v: f64| {
            if !v.is_nan() {
                expected.insert((asset.to_string(), *minute, signal.to_string()), v);
            }
        };
        for (name, v) in [
            "status_seconds_fault",
            "status_seconds_nodata",
            "status_seconds_run",
            "status_seconds_stop",
        ]
        .iter()
        .zip([states[1], states[3], states[0], states[2]])
        {
            put(name, v);
        }
        for (name, v) in windcore::availability::SIGNALS.iter().zip(avail) {
            put(name, *v);
        }
        put("energy_delta", *delta);
        put("energy_last", *last);
    }
    assert_eq!(got, expected);
    // Per window the states and nodata add up to the window length.
    let mut sums: BTreeMap<(String, i64), f64> = BTreeMap::new();
    for ((a, m, s), v) in &got {
        if s.starts_with("status_seconds_") {
            *sums.entry((a.clone(), *m)).or_default() += v;
        }
    }
    assert!(sums.values().all(|s| *s == 600.0), "{sums:?}");
}

#[test]
fn settings_are_checked() {
    let err = |b: windcore::ResamplerBuilder| b.build().unwrap_err().to_string();
    let m = Availability::from_toml("available = [1]").unwrap();
    assert!(err(Resampler::builder().availability(m.clone())).contains("state channel"));
    assert!(err(Resampler::builder()
        .states(["a", "b"])
        .availability(m.clone()))
    .contains("several state channels"));
    assert!(err(Resampler::builder()
        .states(["a"])
        .availability(m.with_channel("z")))
    .contains("`z`"));
    assert!(err(Resampler::builder().counters(["x"]).states(["x"])).contains("choose one"));
    assert!(err(Resampler::builder()
        .states(["s"])
        .state_hold(chrono::TimeDelta::days(2)))
    .contains("state hold"));
}
