//! The demo data: [`DEMO_DAYS`] days of seeded samples from [`DEMO_START`],
//! what an empty embedded store gets on a first `windcore-cli run` or
//! `windcore-cli serve`, and the default days of `generate` (CLI, Python,
//! `POST /generate`).
//!
//! The samples are those of [`Generator::default`]: one turbine, seed
//! [`DEFAULT_SEED`](crate::DEFAULT_SEED), no missing values.
//!
//! ```no_run
//! use windcore::{demo, Location, SourceLayout};
//!
//! # async fn example() -> windcore::Result<()> {
//! let store: Location = "windcore-data".parse()?;
//! if let Some(rows) = demo::fill_if_empty(&store, &SourceLayout::default(), |_| {}, |_| {}).await? {
//!     println!("{rows} demo samples for {}", demo::days());
//! }
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::generate::Generator;
use crate::location::Location;
use crate::postgres::SourceLayout;
use crate::setting::Setting;
use crate::RunConfig;

/// The first day of the demo data (UTC, `YYYY-MM-DD`).
pub const DEMO_START: &str = "2024-01-01";

/// How many days of demo data.
pub const DEMO_DAYS: u32 = 10;

/// The first day of the demo data: [`DEMO_START`].
pub fn start() -> Day {
    DEMO_START.parse().expect("DEMO_START is a date")
}

/// The demo days: [`DEMO_DAYS`] days from [`DEMO_START`].
pub fn days() -> DayRange {
    DayRange::starting(start(), DEMO_DAYS).expect("the demo days are a valid range")
}

/// Writes the demo samples of [`days`] into `source` (laid out as `layout`;
/// a PostgreSQL table is created if it does not exist), replacing those
/// days. Calls `progress` after each day. Returns the rows written.
pub async fn fill(source: &Location, layout: &SourceLayout, progress: impl Fn(Day)) -> Result<u64> {
    source
        .generate_layout(layout, days(), &Generator::default(), progress)
        .await
}

/// Like [`fill`], only if `source` holds no samples yet; then `announce` is
/// called with the days before the work starts. Returns the rows written, or
/// `None` when the source already had samples.
pub async fn fill_if_empty(
    source: &Location,
    layout: &SourceLayout,
    announce: impl FnOnce(DayRange),
    progress: impl Fn(Day),
) -> Result<Option<u64>> {
    if !source.source_days_layout(layout).await?.is_empty() {
        return Ok(None);
    }
    announce(days());
    fill(source, layout, progress).await.map(Some)
}

/// What [`prepare_store`] did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// The days generated.
    pub days: DayRange,
    /// Samples written to the source.
    pub rows: u64,
    /// 10-minute windows written to the target.
    pub windows: u64,
    /// Time taken.
    pub elapsed: Duration,
}

/// If the embedded store at `dir` holds no samples, fills it as
/// `windcore-cli run` does: the demo days ([`fill`]), then the ETL of every
/// day into the same store's target. `announce` is called before the work
/// starts. Returns `None` when the store already had samples.
pub async fn prepare_store(
    dir: &Path,
    announce: impl FnOnce(DayRange),
) -> Result<Option<DemoReport>> {
    let loc = Location::Local(dir.to_path_buf());
    let t = Instant::now();
    let Some(rows) = fill_if_empty(&loc, &SourceLayout::default(), announce, |_| {}).await? else {
        return Ok(None);
    };
    let summary = RunConfig::builder(loc.clone(), loc)
        .build()?
        .run(|_| {})
        .await?;
    if let Some((day, e)) = summary.first_error() {
        return Err(Error::config(Setting::DemoData, format!("day {day}: {e}")));
    }
    Ok(Some(DemoReport {
        days: days(),
        rows,
        windows: summary.windows(),
        elapsed: t.elapsed(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_days() {
        let d = days();
        assert_eq!(d.first(), start());
        assert_eq!(start().to_string(), DEMO_START);
        assert_eq!(d.len(), DEMO_DAYS as usize);
        assert_eq!(d.to_string(), "2024-01-01 .. 2024-01-10");
    }

    #[tokio::test]
    async fn an_empty_store_is_filled_and_loaded_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut announced = None;
        let report = prepare_store(dir.path(), |d| announced = Some(d))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(announced.map(|d| d.to_string()), Some(days().to_string()));
        assert_eq!(report.rows, u64::from(DEMO_DAYS) * 1440);
        assert_eq!(report.windows, u64::from(DEMO_DAYS) * 144);
        let store = crate::LocalStore::new(dir.path());
        assert_eq!(
            store.source().days().unwrap(),
            days().iter().collect::<Vec<_>>()
        );
        assert_eq!(store.target().days().unwrap().len(), DEMO_DAYS as usize);
        // A store with samples is left alone.
        assert!(prepare_store(dir.path(), |_| panic!("announced twice"))
            .await
            .unwrap()
            .is_none());
        let loc = Location::Local(dir.path().to_path_buf());
        let again = fill_if_empty(&loc, &SourceLayout::default(), |_| {}, |_| {}).await;
        assert_eq!(again.unwrap(), None);
    }
}
