//! Incremental runs: what a (day, asset) records of its input, and which days
//! of a run are unchanged, checked for many days with one query to the
//! source and one to the target.

use std::collections::BTreeMap;

use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprints;

use super::Pipeline;

/// Days checked for changes at once: a year's, so that the queries stay a
/// size whose answer comes in seconds and progress is reported in between.
pub(super) const DAYS_AT_ONCE: usize = 366;

/// The fingerprints a day records per asset: the settings, the fingerprint
/// of the asset's samples of the day and (with counters or states,
/// `carried`) of the samples carried into the day; `-` for a side without
/// samples.
pub(super) fn stamp(
    settings: &str,
    fps: Fingerprints,
    carried: Option<&Fingerprints>,
) -> Fingerprints {
    let Some(before) = carried else {
        return fps
            .into_iter()
            .map(|(a, f)| (a, format!("{settings}/{f}")))
            .collect();
    };
    let assets: std::collections::BTreeSet<&String> = fps.keys().chain(before.keys()).collect();
    assets
        .into_iter()
        .map(|a| {
            let day = fps.get(a).map_or("-", |f| f.as_str());
            let p = before.get(a).map_or("-", |f| f.as_str());
            (a.clone(), format!("{settings}/{day}/p:{p}"))
        })
        .collect()
}

/// A load record restricted to the run's assets (all when `None`).
pub(super) fn only(mut record: Fingerprints, assets: Option<&[String]>) -> Fingerprints {
    if let Some(assets) = assets {
        record.retain(|a, _| assets.contains(a));
    }
    record
}

/// Whether a run checks its days for changes at once: incremental, and
/// without counters or states (a day of those also depends on the samples
/// carried into it, which each day reads when it runs).
pub(super) fn applies(p: &Pipeline) -> bool {
    p.changed_only && p.carried.is_empty()
}

/// The run's note when the check at once failed, and each day was checked
/// when it ran (which reports the error against the day, if it recurs).
pub(super) fn fallback_note(days: &[Day], e: &Error) -> String {
    let (first, last) = (days.first(), days.last());
    let span = match (first, last) {
        (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    };
    format!(
        "checking the days {span} for changes at once failed, so each was checked on its own: {e}"
    )
}

impl Pipeline {
    /// The days of `days` that were loaded before, checked against their
    /// load record: `Some(assets)` if every asset's fingerprint matches it
    /// (the number of those assets), `None` if one does not. A day not in
    /// the answer (never loaded, or the source or the target cannot answer
    /// for many days at once) is checked when it runs.
    pub(super) async fn check_days(&self, days: &[Day]) -> Result<BTreeMap<Day, Option<u64>>> {
        let mut out = BTreeMap::new();
        let subset = self.assets.as_deref();
        let Some(loaded) = self.target.loaded_days(days, self.zone.name()).await? else {
            return Ok(out);
        };
        // Only days loaded before can be unchanged.
        let loaded: Vec<(Day, Fingerprints)> = loaded
            .into_iter()
            .map(|(day, record)| (day, only(record, subset)))
            .filter(|(_, record)| !record.is_empty())
            .collect();
        if loaded.is_empty() {
            return Ok(out);
        }
        let ranges: Vec<TimeRange> = loaded
            .iter()
            .map(|(day, _)| self.zone.day_range(*day))
            .collect();
        let Some(now) = self
            .source
            .fingerprints_of_ranges(&ranges, &self.variables, subset)
            .await?
        else {
            return Ok(out);
        };
        let settings = self.settings_hash();
        for ((day, record), now) in loaded.into_iter().zip(now) {
            let same = stamp(&settings, now, None) == record;
            out.insert(day, same.then_some(record.len() as u64));
        }
        Ok(out)
    }
}
