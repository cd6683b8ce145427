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

mod incremental {
    use super::*;
    use windcore::{Day, DayRange, LocalStore, Pipeline, Zone};

    /// One-minute samples of `assets` over `[start, end)` UTC (minutes since
    /// the epoch): a rising energy counter (whole kWh) and a status code.
    fn samples(assets: &[&str], start: i64, end: i64, skip: &[(&str, i64)]) -> DataFrame {
        let mut a = Vec::new();
        let mut t = Vec::new();
        let mut e = Vec::new();
        let mut s = Vec::new();
        for (k, asset) in assets.iter().enumerate() {
            for m in start..end {
                if skip.contains(&(*asset, m)) {
                    continue;
                }
                a.push(*asset);
                t.push(m * MIN_US);
                e.push((m * (k as i64 + 2)) as f64);
                s.push(((m / 37) % 3) as f64);
            }
        }
        let ts = Int64Chunked::from_vec("timestamp".into(), t)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            Column::new("asset".into(), a),
            ts.into_series().into(),
            Column::new("energy".into(), e),
            Column::new("status".into(), s),
        ])
        .unwrap()
    }

    fn min_of(d: Day) -> i64 {
        d.start().timestamp() / 60
    }

    fn resampler(zone: Zone) -> Resampler {
        Resampler::builder()
            .counters(["energy"])
            .states(["status"])
            .timezone(zone)
            .build()
            .unwrap()
    }

    /// A late sample in the last minute of day D−1 rewrites (D−1, asset) and
    /// (D, asset), and only those.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_sample_before_midnight_rewrites_that_day_and_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let days = DayRange::starting("2024-01-01".parse().unwrap(), 3).unwrap();
        let d0: Day = days.first();
        let last_minute = min_of(d0) + 1439;
        let write = |late: bool| {
            for d in days.iter() {
                let skip: Vec<(&str, i64)> = if late {
                    vec![]
                } else {
                    vec![("A", last_minute)]
                };
                let df = samples(&["A", "B"], min_of(d), min_of(d) + 1440, &skip);
                store.source().write_day(d, &df).unwrap();
            }
        };
        write(false);
        let pipeline = Pipeline::builder(store.source(), store.target())
            .transform(resampler(Zone::UTC))
            .changed_only(true)
            .build()
            .unwrap();
        let first = pipeline.run(days.iter(), |_| {}).await;
        assert!(first.is_success(), "{first:?}");
        let again = pipeline.run(days.iter(), |_| {}).await;
        assert!(again
            .days
            .iter()
            .all(|r| r.assets_changed == 0 && r.assets_new == 0));
        write(true);
        let late = pipeline.run(days.iter(), |_| {}).await;
        assert!(late.is_success());
        let changed: Vec<(u64, u64)> = late
            .days
            .iter()
            .map(|r| (r.assets_changed, r.assets_unchanged))
            .collect();
        assert_eq!(changed, vec![(1, 1), (1, 1), (0, 2)]);
        // Day 2's deltas of A add up to its increase from the late sample on.
        let out = store
            .target()
            .read_day(days.iter().nth(1).unwrap())
            .unwrap()
            .unwrap();
        let sum: f64 = out.sum_of("A", "energy_delta");
        assert_eq!(sum, (1440.0 * 2.0));
    }

    /// A state that is gone after a re-run leaves no rows behind.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_state_gone_after_a_rerun_leaves_no_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let d: Day = "2024-01-01".parse().unwrap();
        let df = samples(&["A", "B"], min_of(d), min_of(d) + 1440, &[]);
        store.source().write_day(d, &df).unwrap();
        let pipeline = Pipeline::builder(store.source(), store.target())
            .transform(resampler(Zone::UTC))
            .build()
            .unwrap();
        assert!(pipeline.run([d], |_| {}).await.is_success());
        let signals = |store: &LocalStore| -> Vec<String> {
            let out = store.target().read_day(d).unwrap().unwrap();
            let s = out.column("signal").unwrap().str().unwrap().clone();
            let mut v: Vec<String> = s.iter().flatten().map(str::to_string).collect();
            v.sort();
            v.dedup();
            v
        };
        assert!(signals(&store).contains(&"status_seconds_2".to_string()));
        let status = df.column("status").unwrap().f64().unwrap().clone();
        let fixed: Float64Chunked = status.iter().map(|v| v.map(|v| v.min(1.0))).collect();
        let mut df2 = df.clone();
        df2.with_column(Column::from(fixed.into_series().with_name("status".into())))
            .unwrap();
        store.source().write_day(d, &df2).unwrap();
        assert!(pipeline.run([d], |_| {}).await.is_success());
        let after = signals(&store);
        assert!(after.contains(&"status_seconds_1".to_string()));
        assert!(
            !after.contains(&"status_seconds_2".to_string()),
            "{after:?}"
        );
    }

    trait SumOf {
        fn sum_of(&self, asset: &str, signal: &str) -> f64;
    }

    impl SumOf for DataFrame {
        fn sum_of(&self, asset: &str, signal: &str) -> f64 {
            let a = self.column("asset").unwrap().str().unwrap();
            let s = self.column("signal").unwrap().str().unwrap();
            let v = self.column("value").unwrap().f64().unwrap();
            (0..self.height())
                .filter(|i| a.get(*i) == Some(asset) && s.get(*i) == Some(signal))
                .map(|i| v.get(i).unwrap())
                .sum()
        }
    }

    /// Local days in Europe/Berlin over the October change (a 25-hour day):
    /// each day's deltas add up to its increase from the last sample before
    /// the day, exactly, and the states fill each window.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_days_over_the_dst_change_keep_every_increment() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let utc_days = DayRange::starting("2024-10-25".parse().unwrap(), 5).unwrap();
        for d in utc_days.iter() {
            // A gap of 30 minutes around each UTC midnight, so local days start without a sample.
            let skip: Vec<(&str, i64)> = (0..30)
                .flat_map(|m| [("A", min_of(d) + m), ("B", min_of(d) + m)])
                .collect();
            let df = samples(&["A", "B"], min_of(d), min_of(d) + 1440, &skip);
            store.source().write_day(d, &df).unwrap();
        }
        let zone: Zone = "Europe/Berlin".parse().unwrap();
        let pipeline = Pipeline::builder(store.source(), store.target())
            .transform(resampler(zone))
            .timezone(zone)
            .build()
            .unwrap();
        let local = DayRange::starting("2024-10-26".parse().unwrap(), 3).unwrap();
        let run = pipeline.run(local.iter(), |_| {}).await;
        assert!(run.is_success(), "{run:?}");
        // The target keeps UTC day files: every row, then each local day's.
        let mut all: Option<DataFrame> = None;
        for d in store.target().days().unwrap() {
            let df = store.target().read_day(d).unwrap().unwrap();
            match all.as_mut() {
                Some(a) => {
                    a.vstack_mut(&df).unwrap();
                }
                None => all = Some(df),
            }
        }
        let all = all.unwrap();

        // Day by day with predecessors equals one continuous resampling of
        // every sample (states held over midnight, counters across it).
        let mut samples: Option<DataFrame> = None;
        for d in utc_days.iter() {
            let df = store.source().read_day(d).unwrap().unwrap();
            match samples.as_mut() {
                Some(a) => {
                    a.vstack_mut(&df).unwrap();
                }
                None => samples = Some(df),
            }
        }
        let continuous = resampler(zone)
            .with_by(["asset"])
            .resample_long(&samples.unwrap())
            .unwrap();
        let span = TimeRange::new(
            zone.day_range(local.first()).start,
            zone.day_range(local.last()).end,
        )
        .unwrap();
        let inside =
            |m: BTreeMap<(String, i64, String), f64>| -> BTreeMap<(String, i64, String), f64> {
                let (lo, hi) = (span.start_micros(), span.end_micros());
                m.into_iter()
                    .filter(|((_, t, _), _)| *t >= lo && *t < hi)
                    .collect()
            };
        let t0 = day_start_min() * MIN_US;
        let shifted =
            |m: BTreeMap<(String, i64, String), f64>| -> BTreeMap<(String, i64, String), f64> {
                m.into_iter()
                    .map(|((a, minute, s), v)| ((a, t0 + minute * MIN_US, s), v))
                    .collect()
            };
        let from_pipeline = inside(shifted(by_key(&all)));
        let from_continuous = inside(shifted(by_key(&continuous)));
        assert!(from_pipeline.keys().any(|k| k.2 == "status_seconds_nodata"));
        assert_eq!(from_pipeline, from_continuous);

        for d in local.iter() {
            let r = zone.day_range(d);
            let (lo, hi) = (r.start.timestamp() / 60, r.end.timestamp() / 60);
            let mask: BooleanChunked = all
                .column("timestamp")
                .unwrap()
                .as_materialized_series()
                .to_physical_repr()
                .i64()
                .unwrap()
                .iter()
                .map(|t| t.map(|t| t >= lo * MIN_US && t < hi * MIN_US))
                .collect();
            let out = all.filter(&mask).unwrap();
            assert!(out.height() > 0);
            for (k, asset) in ["A", "B"].iter().enumerate() {
                // The last sample before the day and the last in it (samples skip
                // the first 30 minutes of each UTC day).
                let present = |m: i64| m.rem_euclid(1440) >= 30;
                let before = (lo - 1440..lo).rev().find(|m| present(*m)).unwrap();
                let last = (lo..hi).rev().find(|m| present(*m)).unwrap();
                let f = (k as f64) + 2.0;
                let want = (last as f64) * f - (before as f64) * f;
                assert_eq!(out.sum_of(asset, "energy_delta"), want, "{d} {asset}");
            }
        }
    }
}
