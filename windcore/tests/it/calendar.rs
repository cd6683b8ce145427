//! Local reporting days (DST) and end labels, on the embedded store.

use polars::prelude::*;
use windcore::{
    Day, DayRange, Generator, Label, LocalStore, Location, RunConfig, RunDays, Stat, Zone,
};

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

/// An embedded store with `n` generated UTC days from `first`.
async fn store(first: &str, n: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Local(dir.path().to_path_buf());
    let g = Generator::builder().turbines(2).build().unwrap();
    loc.generate(DayRange::starting(day(first), n).unwrap(), &g, |_| {})
        .await
        .unwrap();
    dir
}

/// The target rows (asset, µs, signal, value) of the whole store.
fn target(dir: &std::path::Path) -> Vec<(String, i64, String, f64)> {
    let t = LocalStore::new(dir).target();
    let mut out = Vec::new();
    for d in t.days().unwrap() {
        let df = t.read_day(d).unwrap().unwrap();
        let a = df.column("asset").unwrap().str().unwrap().clone();
        let ts = df
            .column("timestamp")
            .unwrap()
            .as_materialized_series()
            .datetime()
            .unwrap()
            .physical()
            .clone();
        let s = df.column("signal").unwrap().str().unwrap().clone();
        let v = df.column("value").unwrap().f64().unwrap().clone();
        for i in 0..df.height() {
            out.push((
                a.get(i).unwrap().to_string(),
                ts.get(i).unwrap(),
                s.get(i).unwrap().to_string(),
                v.get(i).unwrap(),
            ));
        }
    }
    out.sort_by(|x, y| (&x.0, x.1, &x.2).cmp(&(&y.0, y.1, &y.2)));
    out
}

async fn run_local(
    dir: &std::path::Path,
    zone: &str,
    d: &str,
    label: Label,
) -> windcore::RunSummary {
    let loc = Location::Local(dir.to_path_buf());
    RunConfig::builder(loc.clone(), loc)
        .timezone(zone.parse().unwrap())
        .label(label)
        .stats([Stat::Mean, Stat::Count])
        .days(RunDays::One(day(d)))
        .build()
        .unwrap()
        .run(|_| {})
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dst_days_have_138_and_150_windows_and_their_local_span() {
    for (zone, d, first, windows) in [
        ("Europe/Berlin", "2025-03-30", "2025-03-29", 138u64),
        ("Europe/Berlin", "2025-10-26", "2025-10-25", 150),
        ("America/Sao_Paulo", "2018-11-04", "2018-11-03", 138),
    ] {
        let dir = store(first, 3).await;
        let summary = run_local(dir.path(), zone, d, Label::Start).await;
        assert!(
            summary.is_success(),
            "{zone} {d}: {:?}",
            summary.first_error()
        );
        // Two turbines.
        assert_eq!(summary.windows(), 2 * windows, "{zone} {d}");
        let z: Zone = zone.parse().unwrap();
        let span = z.day_range(day(d));
        let rows = target(dir.path());
        let ts: Vec<i64> = rows.iter().map(|r| r.1).collect();
        assert_eq!(*ts.iter().min().unwrap(), span.start_micros(), "{zone} {d}");
        assert_eq!(
            *ts.iter().max().unwrap(),
            span.end_micros() - 600_000_000,
            "{zone} {d}"
        );
        // Every window of each turbine has its 10 samples.
        for r in rows.iter().filter(|r| r.2 == "wind_speed_count") {
            assert_eq!(r.3, 10.0, "{r:?}");
        }
        let per_asset = rows
            .iter()
            .filter(|r| r.2 == "wind_speed_count" && r.0 == "T01")
            .count();
        assert_eq!(per_asset as u64, windows, "{zone} {d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_labels_shift_every_label_by_the_window_and_nothing_else() {
    let a = store("2025-10-25", 3).await;
    let b = store("2025-10-25", 3).await;
    run_local(a.path(), "Europe/Berlin", "2025-10-26", Label::Start).await;
    run_local(b.path(), "Europe/Berlin", "2025-10-26", Label::End).await;
    let start = target(a.path());
    let end = target(b.path());
    assert_eq!(start.len(), end.len());
    assert_eq!(start.len(), 2 * 150 * 4);
    for (s, e) in start.iter().zip(&end) {
        assert_eq!((&s.0, &s.2, s.3), (&e.0, &e.2, e.3));
        assert_eq!(e.1 - s.1, 600_000_000);
    }
    // A re-run of the same local day is idempotent.
    run_local(b.path(), "Europe/Berlin", "2025-10-26", Label::End).await;
    assert_eq!(target(b.path()), end);
}

#[test]
fn a_window_that_cannot_follow_the_local_clock_is_refused() {
    let loc = Location::Local("unused".into());
    let err = RunConfig::builder(loc.clone(), loc)
        .timezone("Europe/Berlin".parse().unwrap())
        .every(chrono::TimeDelta::hours(2))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("divide an hour"), "{err}");
}

#[test]
fn resampler_windows_follow_a_quarter_hour_zone() {
    // Asia/Kathmandu is +05:45 (since 1986): local 10-minute windows start at
    // :05, :15, ... UTC.
    let t0 = day("2024-01-01").start().timestamp_micros();
    let ts = Int64Chunked::from_vec("timestamp".into(), vec![t0, t0 + 60_000_000 * 7])
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let df = DataFrame::new_infer_height(vec![
        ts.into_series().into(),
        Column::new("x".into(), [1.0, 2.0]),
    ])
    .unwrap();
    let r = windcore::Resampler::builder()
        .timezone("Asia/Kathmandu".parse().unwrap())
        .stats([Stat::Mean])
        .build()
        .unwrap();
    let wide = r.resample_wide(&df).unwrap();
    let starts: Vec<i64> = wide
        .column("timestamp")
        .unwrap()
        .as_materialized_series()
        .datetime()
        .unwrap()
        .physical()
        .iter()
        .map(|t| (t.unwrap() - t0) / 60_000_000)
        .collect();
    // 00:00 UTC is 05:45 local -> window 05:40 local = 23:55 UTC the day before;
    // 00:07 UTC is 05:52 local -> window 05:50 local = 00:05 UTC.
    assert_eq!(starts, [-5, 5]);
    assert_eq!(
        wide.column("timestamp").unwrap().dtype(),
        &DataType::Datetime(
            TimeUnit::Microseconds,
            TimeZone::opt_try_new(Some("Asia/Kathmandu")).unwrap()
        )
    );
}
