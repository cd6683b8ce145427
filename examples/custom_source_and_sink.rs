//! Plug your own source and sink into the windcore pipeline.
//!
//! The source here makes samples on the fly with the generator (think: a REST
//! API or a CSV drop folder), and the sink keeps the statistics in memory and
//! prints a per-day digest (think: a message queue or another database).
//!
//!     cargo run --release -p windcore-examples --example custom_source_and_sink

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use polars::prelude::*;
use windcore::{Day, DayRange, Extract, Generator, Load, Pipeline, Resampler, Stat, TimeRange};

/// A source that synthesises each requested day.
struct Synthetic {
    generator: Generator,
}

#[async_trait]
impl Extract for Synthetic {
    fn describe(&self) -> String {
        format!("synthetic (seed {})", self.generator.seed())
    }

    fn variables(&self) -> Vec<String> {
        windcore::SOURCE_VARIABLES
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> windcore::Result<DataFrame> {
        let mut cols = vec!["timestamp".to_string()];
        cols.extend(variables.iter().cloned());
        let day = Day::containing(range.start);
        Ok(self.generator.day(day).select(cols)?)
    }
}

/// A sink that keeps what it is given.
#[derive(Clone, Default)]
struct InMemory {
    loads: Arc<Mutex<Vec<(TimeRange, DataFrame)>>>,
}

#[async_trait]
impl Load for InMemory {
    fn describe(&self) -> String {
        "in-memory".into()
    }

    async fn load(
        &self,
        range: TimeRange,
        _signals: &[String],
        stats: &DataFrame,
    ) -> windcore::Result<u64> {
        let mut loads = self.loads.lock().expect("not poisoned");
        // Replace semantics: drop an earlier load of the same range.
        loads.retain(|(r, _)| *r != range);
        loads.push((range, stats.clone()));
        Ok(stats.height() as u64)
    }
}

#[tokio::main]
async fn main() -> windcore::Result<()> {
    let sink = InMemory::default();
    let pipeline = Pipeline::builder(
        Synthetic {
            generator: Generator::default(),
        },
        sink.clone(),
    )
    .variables(["wind_speed", "power"])
    .transform(
        Resampler::builder()
            .stats([Stat::Mean, Stat::Max, Stat::Count])
            .build()?,
    )
    .build()?;

    let days = DayRange::starting("2024-06-01".parse()?, 3)?;
    let summary = pipeline
        .run(days.iter(), |r| {
            println!("{}: {} rows in, {} rows out", r.day, r.rows_in, r.rows_out)
        })
        .await;
    assert!(summary.is_success());

    for (range, stats) in sink.loads.lock().expect("not poisoned").iter() {
        let power_max = stats
            .column("signal")?
            .str()?
            .iter()
            .zip(stats.column("value")?.f64()?.iter())
            .filter(|(s, _)| *s == Some("power_max"))
            .filter_map(|(_, v)| v)
            .fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{range}: {} statistics, highest 10-minute power max {power_max:.0} kW",
            stats.height()
        );
    }
    Ok(())
}
