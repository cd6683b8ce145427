//! The demo data and the demo run: [`DEMO_DAYS`] days of seeded samples
//! from [`DEMO_START`] of a small farm ([`DEMO_TURBINES`] turbines), what an
//! empty embedded store gets on a first `windcore-cli run` or
//! `windcore-cli serve`, and the settings of the run that turns them into
//! every statistic the dashboard draws ([`configure`]). [`DEMO_DAYS`] and
//! [`start`] are also the default days of `generate` (CLI, Python,
//! `POST /generate`), which otherwise keeps [`Generator::default`] (one
//! turbine).
//!
//! The samples are those of [`generator`]: the farm of
//! [`Generator`](crate::Generator)'s module docs with [`DEMO_TURBINES`]
//! turbines, seed [`DEFAULT_SEED`](crate::DEFAULT_SEED), no missing values:
//! wind speed, power, wind direction, the energy counter
//! ([`ENERGY_CHANNEL`]) and the operating state ([`STATE_CHANNEL`]), among
//! others. The demo run ([`configure`]) aggregates wind speed, power and the
//! wind direction (an angle), the counter's increments and the state
//! durations, and the availability of [`STATE_AVAILABILITY_TOML`].
//!
//! ```no_run
//! use windcore::{demo, Location, RunConfig, SourceLayout};
//!
//! # async fn example() -> windcore::Result<()> {
//! let store: Location = "windcore-data".parse()?;
//! let layout = SourceLayout::default();
//! if let Some(rows) = demo::fill_if_empty(&store, &layout, |_| {}, |_| {}).await? {
//!     println!("{rows} demo samples for {}", demo::days());
//! }
//! // The demo run's settings, unless the run chose its channels itself or
//! // the store holds other data.
//! let builder = RunConfig::builder(store.clone(), store.clone());
//! let summary = demo::configure_for(builder, &store, &layout).await?.build()?.run(|_| {}).await?;
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use crate::availability::Availability;
use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::generate::{Generator, ENERGY_CHANNEL, STATE_AVAILABILITY_TOML, STATE_CHANNEL};
use crate::location::Location;
use crate::postgres::SourceLayout;
use crate::setting::Setting;
use crate::{RunConfig, RunConfigBuilder};

/// The first day of the demo data (UTC, `YYYY-MM-DD`).
pub const DEMO_START: &str = "2024-01-01";

/// How many days of demo data.
pub const DEMO_DAYS: u32 = 10;

/// How many turbines the demo farm has (`T01` … `T03`).
pub const DEMO_TURBINES: u32 = 3;

/// The variables of the demo run: wind speed, power and the wind direction.
pub const DEMO_VARIABLES: [&str; 3] = ["wind_speed", "power", "wind_direction"];

/// The demo run's angles (circular statistics): the wind direction.
pub const DEMO_ANGLES: [&str; 1] = ["wind_direction"];

/// The demo run's counters: the energy counter ([`ENERGY_CHANNEL`]).
pub const DEMO_COUNTERS: [&str; 1] = [ENERGY_CHANNEL];

/// The demo run's state channels: the operating state ([`STATE_CHANNEL`]).
pub const DEMO_STATES: [&str; 1] = [STATE_CHANNEL];

/// The first day of the demo data: [`DEMO_START`].
pub fn start() -> Day {
    DEMO_START.parse().expect("DEMO_START is a date")
}

/// The demo days: [`DEMO_DAYS`] days from [`DEMO_START`].
pub fn days() -> DayRange {
    DayRange::starting(start(), DEMO_DAYS).expect("the demo days are a valid range")
}

/// The generator of the demo samples: [`DEMO_TURBINES`] turbines of the
/// farm generator, the default seed, no missing values.
pub fn generator() -> Generator {
    Generator::builder()
        .turbines(DEMO_TURBINES)
        .build()
        .expect("the demo farm's settings are valid")
}

/// The demo run's availability mapping: [`STATE_AVAILABILITY_TOML`]
/// (running, low wind and high wind available, a fault unavailable,
/// maintenance excluded) for the [`STATE_CHANNEL`].
pub fn availability() -> Availability {
    Availability::from_toml(STATE_AVAILABILITY_TOML)
        .expect("STATE_AVAILABILITY_TOML is a valid mapping")
}

/// Every channel the demo run reads: the variables, the counters and the
/// state channels.
pub fn channels() -> Vec<&'static str> {
    DEMO_VARIABLES
        .iter()
        .chain(&DEMO_COUNTERS)
        .chain(&DEMO_STATES)
        .copied()
        .collect()
}

/// The demo run's settings on `builder`: the variables [`DEMO_VARIABLES`]
/// with the angles [`DEMO_ANGLES`], the counters [`DEMO_COUNTERS`], the
/// states [`DEMO_STATES`] and the [`availability`] mapping. Every other
/// setting (days, statistics, window length, …) stays as it is.
pub fn configure(builder: RunConfigBuilder) -> RunConfigBuilder {
    builder
        .variables(DEMO_VARIABLES)
        .angles(DEMO_ANGLES)
        .counters(DEMO_COUNTERS)
        .states(DEMO_STATES)
        .availability(availability())
}

/// Whether `source` (laid out as `layout`) holds every channel of the demo
/// run ([`channels`]): demo data, or a farm generated as it is. A store
/// filled by an earlier windcore (one turbine: wind speed, power, ambient
/// temperature) does not.
pub async fn holds_channels(source: &Location, layout: &SourceLayout) -> Result<bool> {
    let known = source.open_source_layout(layout, 1).await?.variables();
    Ok(channels().iter().all(|c| known.iter().any(|k| k == c)))
}

/// The rule of a run on the demo store: the demo run's settings
/// ([`configure`]) when `builder` chose none of the channels itself
/// ([`RunConfigBuilder::chooses_channels`]: no variables, angles, counters,
/// states or availability) and `source` [holds the demo's
/// channels](holds_channels); otherwise `builder` as it is.
pub async fn configure_for(
    builder: RunConfigBuilder,
    source: &Location,
    layout: &SourceLayout,
) -> Result<RunConfigBuilder> {
    if builder.chooses_channels() || !holds_channels(source, layout).await? {
        return Ok(builder);
    }
    Ok(configure(builder))
}

/// Writes the demo samples of [`days`] into `source` (laid out as `layout`;
/// a PostgreSQL table is created if it does not exist), replacing those
/// days. Calls `progress` after each day. Returns the rows written.
pub async fn fill(source: &Location, layout: &SourceLayout, progress: impl Fn(Day)) -> Result<u64> {
    source
        .generate_layout(layout, days(), &generator(), progress)
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
/// `windcore-cli run` does: the demo days ([`fill`]), then the demo run
/// ([`configure`]) of every day into the same store's target. `announce` is
/// called before the work starts. Returns `None` when the store already had
/// samples.
pub async fn prepare_store(
    dir: &Path,
    announce: impl FnOnce(DayRange),
) -> Result<Option<DemoReport>> {
    let loc = Location::Local(dir.to_path_buf());
    let t = Instant::now();
    let Some(rows) = fill_if_empty(&loc, &SourceLayout::default(), announce, |_| {}).await? else {
        return Ok(None);
    };
    let summary = configure(RunConfig::builder(loc.clone(), loc))
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
        let turbine_days = u64::from(DEMO_DAYS) * u64::from(DEMO_TURBINES);
        assert_eq!(report.rows, turbine_days * 1440);
        assert_eq!(report.windows, turbine_days * 144);
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

    /// The signals of one (asset, window) of a target day: name -> value.
    fn signals_of(
        target: &polars::prelude::DataFrame,
    ) -> std::collections::BTreeMap<(String, i64, String), f64> {
        let asset = target.column("asset").unwrap().str().unwrap().clone();
        let ts = target
            .column("timestamp")
            .unwrap()
            .as_materialized_series()
            .datetime()
            .unwrap()
            .physical()
            .clone();
        let signal = target.column("signal").unwrap().str().unwrap().clone();
        let value = target.column("value").unwrap().f64().unwrap().clone();
        (0..target.height())
            .map(|i| {
                (
                    (
                        asset.get(i).unwrap().to_string(),
                        ts.get(i).unwrap(),
                        signal.get(i).unwrap().to_string(),
                    ),
                    value.get(i).unwrap(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn the_demo_run_writes_direction_energy_states_and_availability() {
        let dir = tempfile::tempdir().unwrap();
        prepare_store(dir.path(), |_| {}).await.unwrap().unwrap();
        let store = crate::LocalStore::new(dir.path());
        let day = start().succ().unwrap();
        let src = store.source().read_day(day).unwrap().unwrap();
        let tgt = signals_of(&store.target().read_day(day).unwrap().unwrap());
        let assets = generator().assets();
        assert_eq!(assets.len(), DEMO_TURBINES as usize);
        let src_asset = src.column("asset").unwrap().str().unwrap().clone();
        let src_ts = src
            .column("timestamp")
            .unwrap()
            .as_materialized_series()
            .datetime()
            .unwrap()
            .physical()
            .clone();
        let power = src.column("power").unwrap().f64().unwrap().clone();
        let state = src
            .column("state")
            .unwrap()
            .cast(&polars::prelude::DataType::Float64)
            .unwrap();
        let state = state.f64().unwrap().clone();
        for a in &assets {
            // Worked from the samples: every sample holds its state for its
            // minute, and a day's energy increments add up to the energy of its
            // power samples (kWh = kW / 60 a minute; the counter restarts at
            // midnight, which the reset rule counts as the new value).
            let mut energy = 0.0;
            let mut by_window: std::collections::BTreeMap<i64, [f64; 6]> = Default::default();
            for i in 0..src.height() {
                if src_asset.get(i) != Some(a.as_str()) {
                    continue;
                }
                energy += power.get(i).unwrap() / 60.0;
                let t = src_ts.get(i).unwrap();
                let w = t - t.rem_euclid(600_000_000);
                let code = state.get(i).unwrap() as usize;
                by_window.entry(w).or_default()[code] += 60.0;
            }
            let delta: f64 = tgt
                .iter()
                .filter(|((x, _, s), _)| x == a && s == "energy_delta")
                .map(|(_, v)| v)
                .sum();
            assert!(
                (delta - energy).abs() < 1e-6 * energy.max(1.0),
                "{a}: {delta} vs {energy}"
            );
            assert_eq!(by_window.len(), 144);
            for (w, secs) in by_window {
                let get = |s: &str| tgt.get(&(a.clone(), w, s.to_string())).copied();
                for (code, name) in crate::STATES {
                    let want = secs[usize::from(code)];
                    let got = get(&format!("state_seconds_{code}")).unwrap_or(0.0);
                    assert_eq!(got, want, "{a} {w} {name}");
                }
                let available = secs[1] + secs[2] + secs[5];
                assert_eq!(get("available_seconds"), Some(available));
                assert_eq!(get("unavailable_seconds"), Some(secs[3]));
                assert_eq!(get("excluded_seconds"), Some(secs[4]));
                assert_eq!(
                    get("availability"),
                    crate::availability::ratio(available, secs[3])
                );
                assert!(get("wind_direction_mean").is_some());
                assert!(get("wind_speed_mean").is_some() && get("power_mean").is_some());
            }
        }
        assert!(!tgt
            .keys()
            .any(|(_, _, s)| s.starts_with("ambient_temperature")));
    }

    #[tokio::test]
    async fn the_demo_settings_only_where_the_run_chose_no_channels_and_the_store_holds_them() {
        let demo_dir = tempfile::tempdir().unwrap();
        let demo_store = Location::Local(demo_dir.path().to_path_buf());
        let layout = SourceLayout::default();
        let empty = RunConfig::builder(demo_store.clone(), demo_store.clone());
        // An empty store does not hold them.
        assert!(!holds_channels(&demo_store, &layout).await.unwrap());
        assert!(!configure_for(empty.clone(), &demo_store, &layout)
            .await
            .unwrap()
            .chooses_channels());
        fill(&demo_store, &layout, |_| {}).await.unwrap();
        assert!(holds_channels(&demo_store, &layout).await.unwrap());
        assert!(configure_for(empty.clone(), &demo_store, &layout)
            .await
            .unwrap()
            .chooses_channels());
        // A run that chose its channels keeps them.
        let chosen = empty.clone().variables(["power"]);
        let kept = configure_for(chosen.clone(), &demo_store, &layout)
            .await
            .unwrap();
        assert_eq!(format!("{kept:?}"), format!("{chosen:?}"));
        for b in [
            empty.clone().angles(["wind_direction"]),
            empty.clone().counters(["energy"]),
            empty.clone().states(["state"]),
            empty.clone().availability(availability()),
        ] {
            let kept = configure_for(b.clone(), &demo_store, &layout)
                .await
                .unwrap();
            assert_eq!(format!("{kept:?}"), format!("{b:?}"));
        }
        // A store of one turbine (an earlier windcore's demo) keeps the defaults.
        let old_dir = tempfile::tempdir().unwrap();
        let old = Location::Local(old_dir.path().to_path_buf());
        old.generate(days(), &Generator::default(), |_| {})
            .await
            .unwrap();
        assert!(!holds_channels(&old, &layout).await.unwrap());
        let b = RunConfig::builder(old.clone(), old.clone());
        assert!(!configure_for(b, &old, &layout)
            .await
            .unwrap()
            .chooses_channels());
    }

    #[test]
    fn the_demo_settings() {
        assert_eq!(generator().turbines(), DEMO_TURBINES);
        assert_eq!(generator().seed(), crate::DEFAULT_SEED);
        let a = availability();
        assert_eq!(a.channel(), Some(STATE_CHANNEL));
        for c in channels() {
            assert!(crate::FARM_VARIABLES.contains(&c), "{c}");
        }
        let b = configure(RunConfig::builder(
            Location::Local("a".into()),
            Location::Local("a".into()),
        ));
        assert!(b.chooses_channels());
        b.build().unwrap();
    }
}
