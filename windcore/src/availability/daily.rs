//! Time-based availability per local day and asset, from the availability
//! signals a target holds per window (`available_seconds`,
//! `unavailable_seconds`, `excluded_seconds`, `unknown_seconds`).
//!
//! A day's availability is computed from the sums of its windows' seconds,
//! `available / (available + unavailable)`, and is absent when both sums are
//! 0; never a mean of the windows' ratios (see the SPEC, "Counters, states
//! and availability"). A period's figure (a month's) is the same ratio of
//! the sums over its days: [`DayAvailability::add`].

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::TimeDelta;
use polars::prelude::*;

use crate::day::{Day, DayRange};
use crate::error::Result;
use crate::inspect::{each_frame, with_target, StatsStore};
use crate::location::Location;
use crate::schema::{ASSET, SIGNAL, TIMESTAMP, VALUE};
use crate::zone::Zone;

use super::{ratio, SIGNALS};

/// The availability signals summed, in the order of [`DayAvailability`]'s
/// seconds: [`SIGNALS`] after `availability` itself.
const SECONDS: [&str; 4] = [SIGNALS[1], SIGNALS[2], SIGNALS[3], SIGNALS[4]];

/// The availability of one (local day, asset), or of several days summed:
/// the sums of the windows' seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DayAvailability {
    /// The windows with at least one of the availability signals.
    pub windows: u64,
    /// The sum of the windows' `available_seconds`.
    pub available_seconds: f64,
    /// The sum of the windows' `unavailable_seconds`.
    pub unavailable_seconds: f64,
    /// The sum of the windows' `excluded_seconds`.
    pub excluded_seconds: f64,
    /// The sum of the windows' `unknown_seconds`.
    pub unknown_seconds: f64,
}

impl DayAvailability {
    /// `available / (available + unavailable)` of the sums; `None` when both
    /// are 0.
    pub fn availability(&self) -> Option<f64> {
        ratio(self.available_seconds, self.unavailable_seconds)
    }

    /// Adds another day's (or window's) sums to these.
    pub fn add(&mut self, other: &DayAvailability) {
        self.windows += other.windows;
        self.available_seconds += other.available_seconds;
        self.unavailable_seconds += other.unavailable_seconds;
        self.excluded_seconds += other.excluded_seconds;
        self.unknown_seconds += other.unknown_seconds;
    }

    /// Each asset's days of `per_day` added up: its sums over the whole
    /// period, whose [`availability`](Self::availability) is the ratio of
    /// the sums (never a mean of the days' ratios).
    pub fn period_totals(
        per_day: &BTreeMap<Day, BTreeMap<String, DayAvailability>>,
    ) -> BTreeMap<String, DayAvailability> {
        let mut total: BTreeMap<String, DayAvailability> = BTreeMap::new();
        for per_asset in per_day.values() {
            for (asset, a) in per_asset {
                match total.get_mut(asset) {
                    Some(t) => t.add(a),
                    None => {
                        total.insert(asset.clone(), *a);
                    }
                }
            }
        }
        total
    }

    fn seconds_mut(&mut self, k: usize) -> &mut f64 {
        match k {
            0 => &mut self.available_seconds,
            1 => &mut self.unavailable_seconds,
            2 => &mut self.excluded_seconds,
            _ => &mut self.unknown_seconds,
        }
    }
}

/// The availability per local day of `zone` and asset that the target at
/// `location` holds for `days`, from its availability signals. Windows are
/// labelled `label_offset` after their start (0, or the window length for
/// end labels); a window belongs to the local day of its start. A (day,
/// asset) without availability signals is absent; the asset is `""` for a
/// target with one asset.
///
/// A PostgreSQL target is read a month at a time, the embedded store a UTC
/// file at a time.
pub async fn target_availability(
    location: &Location,
    days: DayRange,
    zone: Zone,
    label_offset: TimeDelta,
) -> Result<BTreeMap<Day, BTreeMap<String, DayAvailability>>> {
    with_target(location, async |target| {
        availability_of(target, days, zone, label_offset).await
    })
    .await
}

/// [`target_availability`] of an open target (the server's, or one just opened).
pub(crate) async fn availability_of(
    target: StatsStore<'_>,
    days: DayRange,
    zone: Zone,
    label_offset: TimeDelta,
) -> Result<BTreeMap<Day, BTreeMap<String, DayAvailability>>> {
    let mut sums: BTreeMap<Day, BTreeMap<String, DayAvailability>> = BTreeMap::new();
    let mut windows: HashMap<(Day, String), HashSet<i64>> = HashMap::new();
    each_frame(target, days, zone, label_offset, |df| {
        add_frame(df, zone, label_offset, days, &mut sums, &mut windows)
    })
    .await?;
    for ((day, asset), stamps) in windows {
        if let Some(a) = sums.get_mut(&day).and_then(|m| m.get_mut(&asset)) {
            a.windows = stamps.len() as u64;
        }
    }
    Ok(sums)
}

/// Adds the availability signals of `df` (long form, with or without
/// `asset`) to `sums`, by the local day of their window's start, keeping the
/// days of `days` only; `windows` collects the window stamps.
fn add_frame(
    df: &DataFrame,
    zone: Zone,
    label_offset: TimeDelta,
    days: DayRange,
    sums: &mut BTreeMap<Day, BTreeMap<String, DayAvailability>>,
    windows: &mut HashMap<(Day, String), HashSet<i64>>,
) -> Result<()> {
    if df.height() == 0 {
        return Ok(());
    }
    let ts = crate::frame::column(df, TIMESTAMP)?.cast(&DataType::Datetime(
        TimeUnit::Microseconds,
        Some(TimeZone::UTC),
    ))?;
    let ts = ts.as_materialized_series().datetime()?.physical().rechunk();
    let names = crate::frame::column(df, SIGNAL)?
        .cast(&DataType::String)?
        .str()?
        .rechunk()
        .into_owned();
    let values = crate::frame::column(df, VALUE)?
        .cast(&DataType::Float64)?
        .f64()?
        .rechunk()
        .into_owned();
    let assets = match df.column(ASSET) {
        Ok(a) => Some(a.cast(&DataType::String)?.str()?.rechunk().into_owned()),
        Err(_) => None,
    };
    let offset = label_offset.num_microseconds().unwrap_or(0);
    for (i, name) in names.iter().enumerate() {
        let Some(k) = name.and_then(|n| SECONDS.iter().position(|s| *s == n)) else {
            continue;
        };
        let (Some(t), Some(v)) = (ts.get(i), values.get(i)) else {
            continue;
        };
        if !v.is_finite() {
            continue;
        }
        let Some(start) = chrono::DateTime::from_timestamp_micros(t - offset) else {
            continue;
        };
        let day = zone.day_of(start);
        if day < days.first() || day > days.last() {
            continue;
        }
        let asset = assets.as_ref().and_then(|a| a.get(i)).unwrap_or("");
        let entry = sums.entry(day).or_default();
        let a = match entry.get_mut(asset) {
            Some(a) => a,
            None => entry.entry(asset.to_string()).or_default(),
        };
        *a.seconds_mut(k) += v;
        windows
            .entry((day, asset.to_string()))
            .or_default()
            .insert(t);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LocalStore;

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    /// Statistics in long form: (asset, window start, signal, value).
    fn stats(rows: &[(&str, &str, &str, f64)]) -> DataFrame {
        let ts = Int64Chunked::from_vec(
            TIMESTAMP.into(),
            rows.iter().map(|r| at(r.1)).collect::<Vec<_>>(),
        )
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            Column::new(ASSET.into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            ts.into_series().into(),
            Column::new(SIGNAL.into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new(VALUE.into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        ])
        .unwrap()
    }

    #[test]
    fn the_ratio_rule() {
        assert_eq!(ratio(0.0, 0.0), None);
        assert_eq!(ratio(600.0, 0.0), Some(1.0));
        assert_eq!(ratio(450.0, 150.0), Some(0.75));
        assert_eq!(ratio(0.0, 600.0), Some(0.0));
    }

    /// Worked by hand: T01 has two windows on 2024-01-01, one fully
    /// available (600 s), one 60 s available, 300 s unavailable and 240 s
    /// excluded: the day is 660 / 960 = 0.6875, not the mean of the
    /// windows' ratios ((1 + 1/6) / 2 = 0.583…). T02 has only excluded and
    /// unknown time: no availability. Another day and other signals are
    /// kept apart.
    #[tokio::test]
    async fn a_day_is_the_ratio_of_its_sums() {
        let dir = tempfile::tempdir().unwrap();
        let target = LocalStore::new(dir.path()).target();
        let d1: Day = "2024-01-01".parse().unwrap();
        let d2: Day = "2024-01-02".parse().unwrap();
        let day1 = stats(&[
            ("T01", "2024-01-01T00:00:00Z", "available_seconds", 600.0),
            ("T01", "2024-01-01T00:00:00Z", "unavailable_seconds", 0.0),
            ("T01", "2024-01-01T00:00:00Z", "availability", 1.0),
            ("T01", "2024-01-01T00:00:00Z", "power_mean", 1234.0),
            ("T01", "2024-01-01T23:50:00Z", "available_seconds", 60.0),
            ("T01", "2024-01-01T23:50:00Z", "unavailable_seconds", 300.0),
            ("T01", "2024-01-01T23:50:00Z", "excluded_seconds", 240.0),
            ("T02", "2024-01-01T12:00:00Z", "excluded_seconds", 500.0),
            ("T02", "2024-01-01T12:00:00Z", "unknown_seconds", 100.0),
        ]);
        let day2 = stats(&[
            ("T01", "2024-01-02T00:00:00Z", "available_seconds", 300.0),
            ("T01", "2024-01-02T00:00:00Z", "unavailable_seconds", 300.0),
        ]);
        use crate::traits::Load;
        for (d, df) in [(d1, &day1), (d2, &day2)] {
            let signals: Vec<String> = [
                "available_seconds",
                "unavailable_seconds",
                "excluded_seconds",
                "unknown_seconds",
                "availability",
                "power_mean",
            ]
            .map(String::from)
            .to_vec();
            target.load(d.range(), &signals, df).await.unwrap();
        }
        let days = DayRange::new(d1, d2).unwrap();
        let loc = Location::Local(dir.path().to_path_buf());
        let got = target_availability(&loc, days, Zone::UTC, TimeDelta::zero())
            .await
            .unwrap();
        let t01 = got[&d1]["T01"];
        assert_eq!(t01.windows, 2);
        assert_eq!(
            (
                t01.available_seconds,
                t01.unavailable_seconds,
                t01.excluded_seconds,
                t01.unknown_seconds
            ),
            (660.0, 300.0, 240.0, 0.0)
        );
        assert_eq!(t01.availability(), Some(660.0 / 960.0));
        let t02 = got[&d1]["T02"];
        assert_eq!(t02.availability(), None);
        assert_eq!((t02.excluded_seconds, t02.unknown_seconds), (500.0, 100.0));
        assert_eq!(got[&d2]["T01"].availability(), Some(0.5));
        assert!(!got[&d2].contains_key("T02"));
        // The two days summed.
        let mut both = got[&d1]["T01"];
        both.add(&got[&d2]["T01"]);
        assert_eq!(both.availability(), Some(960.0 / 1560.0));
        assert_eq!(both.windows, 3);

        // In Berlin, 2024-01-01T23:50Z is on 2024-01-02 (local 00:50), and
        // 2024-01-01T00:00Z on 2024-01-01 (local 01:00).
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let got = target_availability(&loc, days, berlin, TimeDelta::zero())
            .await
            .unwrap();
        assert_eq!(got[&d1]["T01"].availability(), Some(1.0));
        assert_eq!(got[&d2]["T01"].available_seconds, 360.0);
        assert_eq!(got[&d2]["T01"].windows, 2);
        // End labels: the stamps are 10 minutes after the windows' starts,
        // so 2024-01-02T00:00Z labels a window of 2024-01-01.
        let got = target_availability(
            &loc,
            DayRange::single(d1),
            Zone::UTC,
            TimeDelta::minutes(10),
        )
        .await
        .unwrap();
        assert_eq!(got[&d1]["T01"].available_seconds, 360.0);
        assert_eq!(got[&d1]["T01"].windows, 2);
    }
}
