//! The pipeline on the embedded store and on user-provided sources and sinks.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use polars::prelude::*;
use windcore::{
    Day, DayOutcome, DayRange, Error, Extract, Generator, Load, LocalStore, Pipeline, Resampler,
    Stat, TimeRange,
};

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn fill(store: &LocalStore, first: &str, n: u32) -> DayRange {
    let g = Generator::builder().missing_rate(0.02).build().unwrap();
    let days = DayRange::starting(day(first), n).unwrap();
    for d in days.iter() {
        store.source().write_day(d, &g.day(d)).unwrap();
    }
    days
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_run_is_idempotent_and_matches_the_resampler() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let days = fill(&store, "2024-01-30", 3);
    let pipeline = Pipeline::builder(store.source(), store.target())
        .build()
        .unwrap();
    let first = pipeline.run(days.iter(), |_| {}).await;
    assert!(first.is_success());
    assert_eq!(first.loaded(), 3);
    assert_eq!(first.rows_in(), 3 * 1440);
    assert_eq!(first.windows(), 3 * 144);
    let snapshot: Vec<DataFrame> = days
        .iter()
        .map(|d| store.target().read_day(d).unwrap().unwrap())
        .collect();

    // Each day's file equals the resampler applied to that day's samples.
    let resampler = Resampler::default();
    for (d, got) in days.iter().zip(&snapshot) {
        let samples = store.source().read_day(d).unwrap().unwrap();
        let samples = samples
            .select(["timestamp", "wind_speed", "power"])
            .unwrap();
        let expected = resampler.resample_long(&samples).unwrap();
        assert!(got.equals_missing(&expected), "day {d}");
    }
    assert_eq!(
        first.rows_out(),
        snapshot.iter().map(|d| d.height() as u64).sum::<u64>()
    );

    // A second and third run leave exactly the same target.
    for _ in 0..2 {
        let again = pipeline.run(days.iter(), |_| {}).await;
        assert!(again.is_success());
        for (d, before) in days.iter().zip(&snapshot) {
            assert!(store
                .target()
                .read_day(d)
                .unwrap()
                .unwrap()
                .equals_missing(before));
        }
    }
}

#[tokio::test]
async fn a_run_replaces_only_its_own_signals() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let days = fill(&store, "2024-05-01", 1);
    let temp = Pipeline::builder(store.source(), store.target())
        .variables(["ambient_temperature"])
        .build()
        .unwrap();
    temp.run(days.iter(), |_| {}).await;
    let with_temp = store
        .target()
        .read_day(days.first())
        .unwrap()
        .unwrap()
        .height();
    let power = Pipeline::builder(store.source(), store.target())
        .variables(["power"])
        .transform(Resampler::builder().stats([Stat::Mean]).build().unwrap())
        .build()
        .unwrap();
    power.run(days.iter(), |_| {}).await;
    power.run(days.iter(), |_| {}).await;
    let after = store.target().read_day(days.first()).unwrap().unwrap();
    assert_eq!(after.height(), with_temp + 144);
}

#[tokio::test]
async fn a_day_without_source_rows_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let pipeline = Pipeline::builder(store.source(), store.target())
        .build()
        .unwrap();
    let s = pipeline.run([day("2024-01-01")], |_| {}).await;
    assert!(s.is_success());
    assert_eq!(s.empty_days(), vec![day("2024-01-01")]);
    assert!(store.target().days().unwrap().is_empty());
}

#[tokio::test]
async fn builder_validates() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let err = Pipeline::builder(store.source(), store.target())
        .variables(["rotor_speed"])
        .build()
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("unknown variable `rotor_speed`"),
        "{err}"
    );
    let err = Pipeline::builder(store.source(), store.target())
        .transform(
            Resampler::builder()
                .every(chrono::TimeDelta::minutes(7))
                .build()
                .unwrap(),
        )
        .build()
        .err()
        .unwrap();
    assert!(err.to_string().contains("does not divide a day"), "{err}");
    assert!(Pipeline::builder(store.source(), store.target())
        .jobs(0)
        .build()
        .is_err());
}

/// A source that fails on one day, to check what a failure leaves behind.
struct Flaky {
    inner: windcore::ParquetSource,
    fail_on: Day,
}

#[async_trait]
impl Extract for Flaky {
    fn describe(&self) -> String {
        "flaky".into()
    }
    fn variables(&self) -> Vec<String> {
        self.inner.variables()
    }
    async fn extract(&self, range: TimeRange, variables: &[String]) -> windcore::Result<DataFrame> {
        if Day::containing(range.start) == self.fail_on {
            return Err(Error::Connection {
                context: "flaky source".into(),
                detail: "server closed the connection".into(),
            });
        }
        self.inner.extract(range, variables).await
    }
}

#[tokio::test]
async fn a_failure_stops_the_backfill_and_keeps_the_failed_day() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let days = fill(&store, "2024-03-01", 5);
    // A first clean run, so the failing day has previous contents.
    let clean = Pipeline::builder(store.source(), store.target())
        .jobs(1)
        .build()
        .unwrap();
    clean.run(days.iter(), |_| {}).await;
    let before = store.target().read_day(day("2024-03-03")).unwrap().unwrap();
    // Overwrite the source of day 3 so a successful reload would change it.
    store
        .source()
        .write_day(
            day("2024-03-03"),
            &Generator::builder()
                .seed(9)
                .build()
                .unwrap()
                .day(day("2024-03-03")),
        )
        .unwrap();
    let flaky = Flaky {
        inner: store.source(),
        fail_on: day("2024-03-03"),
    };
    let p = Pipeline::builder(flaky, store.target())
        .jobs(1)
        .build()
        .unwrap();
    let s = p.run(days.iter(), |_| {}).await;
    assert!(!s.is_success());
    assert_eq!(s.loaded(), 2);
    assert_eq!(s.failed(), vec![day("2024-03-03")]);
    assert_eq!(
        s.to_rerun(),
        vec![day("2024-03-03"), day("2024-03-04"), day("2024-03-05")]
    );
    assert!(matches!(s.days[3].outcome, DayOutcome::Skipped));
    assert!(s
        .first_error()
        .unwrap()
        .1
        .to_string()
        .contains("server closed"));
    assert!(store
        .target()
        .read_day(day("2024-03-03"))
        .unwrap()
        .unwrap()
        .equals_missing(&before));
}

/// A user-provided sink that keeps everything in memory.
#[derive(Default, Clone)]
struct Memory(Arc<Mutex<Vec<DataFrame>>>);

#[async_trait]
impl Load for Memory {
    fn describe(&self) -> String {
        "memory".into()
    }
    async fn load(
        &self,
        _range: TimeRange,
        _signals: &[String],
        stats: &DataFrame,
    ) -> windcore::Result<u64> {
        self.0.lock().unwrap().push(stats.clone());
        Ok(stats.height() as u64)
    }
}

#[tokio::test]
async fn custom_sink() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let days = fill(&store, "2024-01-01", 2);
    let sink = Memory::default();
    let p = Pipeline::builder(store.source(), sink.clone())
        .build()
        .unwrap();
    let s = p.run(days.iter(), |_| {}).await;
    assert_eq!(s.loaded(), 2);
    assert_eq!(sink.0.lock().unwrap().len(), 2);
}
