//! Extract → transform → load, one day (of the run's time zone) at a time.

mod check;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use polars::prelude::*;

use crate::day::Day;
use crate::day::TimeRange;
use crate::error::{Error, Result};
use crate::fingerprint::{self, text_hash, Fingerprints};
use crate::frame::{only_assets, within, NullTime};
use crate::predecessor;
use crate::report::{DayOutcome, DayReport, RunSummary};
use crate::resample::Resampler;
use crate::schema::TIMESTAMP;
use crate::setting::Setting;
use crate::traits::{Extract, Load, LoadScope, Transform};
use crate::zone::Zone;

/// The variables the reference system aggregates: the default when the
/// source has both; otherwise the default is every channel of the source.
pub const DEFAULT_VARIABLES: [&str; 2] = ["wind_speed", "power"];

/// The default variables of a source with these channels: `wind_speed` and
/// `power` when it has both (the reference), otherwise every channel.
pub fn default_variables(known: &[String]) -> Vec<String> {
    if DEFAULT_VARIABLES
        .iter()
        .all(|d| known.iter().any(|k| k == d))
    {
        DEFAULT_VARIABLES.iter().map(|s| s.to_string()).collect()
    } else {
        known.to_vec()
    }
}

/// Configures a [`Pipeline`]; [`build`](PipelineBuilder::build) validates.
pub struct PipelineBuilder {
    source: Arc<dyn Extract>,
    target: Arc<dyn Load>,
    transform: Arc<dyn Transform>,
    variables: Option<Vec<String>>,
    jobs: usize,
    zone: Zone,
    changed_only: bool,
    assets: Option<Vec<String>>,
}

impl PipelineBuilder {
    /// Variables to read and aggregate. Default: `wind_speed` and `power`
    /// when the source has both (the reference), otherwise every channel
    /// of the source ([`default_variables`]).
    pub fn variables<S: Into<String>>(mut self, vars: impl IntoIterator<Item = S>) -> Self {
        self.variables = Some(vars.into_iter().map(Into::into).collect());
        self
    }

    /// The transform. Default: a [`Resampler`] with 10-minute windows and mean, min, max, std.
    pub fn transform(mut self, t: impl Transform + 'static) -> Self {
        self.transform = Arc::new(t);
        self
    }

    /// Days in flight at once (the extract of one overlaps the load of another). Default 2.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs;
        self
    }

    /// Process only these assets (e.g. a batch of a fleet, for scale-out):
    /// their rows are read, and only their statistics and load records are
    /// replaced; the other assets' are left as they are. Default: every asset.
    pub fn assets<S: Into<String>>(mut self, assets: impl IntoIterator<Item = S>) -> Self {
        self.assets = Some(assets.into_iter().map(Into::into).collect());
        self
    }

    /// Incremental: write only the (day, asset) pairs whose source samples
    /// changed since they were loaded (compared by [`Fingerprints`]); an
    /// unchanged day is not written at all. Default false: every day is
    /// replaced (and its fingerprints recorded).
    pub fn changed_only(mut self, yes: bool) -> Self {
        self.changed_only = yes;
        self
    }

    /// The time zone of the reporting days: a day is `[local 00:00, next
    /// local 00:00)`. Default UTC. The transform should line its windows up
    /// with the same clock ([`ResamplerBuilder::timezone`](crate::ResamplerBuilder::timezone)).
    pub fn timezone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<Pipeline> {
        let known = self.source.variables();
        let requested = self.variables.unwrap_or_else(|| default_variables(&known));
        if requested.is_empty() {
            return Err(Error::config(
                Setting::Variables,
                format!(
                    "the list of variables is empty (the source {} has no numeric channel)",
                    self.source.describe()
                ),
            ));
        }
        let mut variables: Vec<String> = Vec::with_capacity(requested.len());
        // The counters and state channels are read whether asked for or not.
        let carried = self.transform.carried();
        let requested = requested
            .into_iter()
            .chain(carried.iter().cloned())
            .collect::<Vec<_>>();
        for v in requested {
            let v = v.trim().to_string();
            if !known.contains(&v) {
                return Err(Error::UnknownVariable {
                    name: v,
                    known: known.join(", "),
                });
            }
            if !variables.contains(&v) {
                variables.push(v);
            }
        }
        let every = self.transform.every().num_seconds();
        if every <= 0 || 86_400 % every != 0 {
            return Err(Error::config(
                Setting::WindowLength,
                format!(
                    "{}s does not divide a day; the pipeline needs windows that never straddle midnight UTC",
                    every
                ),
            ));
        }
        if self.jobs == 0 || self.jobs > 64 {
            return Err(Error::config(
                Setting::Jobs,
                format!("{} is not in 1 ..= 64", self.jobs),
            ));
        }
        let signals = self.transform.signal_names(&variables);
        let signal_prefixes = self.transform.signal_prefixes(&variables);
        Ok(Pipeline {
            signal_prefixes,
            carried,
            source: self.source,
            target: self.target,
            transform: self.transform,
            variables,
            signals,
            jobs: self.jobs,
            zone: self.zone,
            changed_only: self.changed_only,
            assets: self.assets,
        })
    }
}

/// Runs the ETL: for each UTC day, extract the samples, compute the
/// statistics and replace that day's statistics in the target.
///
/// Each day is loaded atomically by the target, so re-running a day leaves the
/// target as one run would, and a failed day keeps its previous contents.
pub struct Pipeline {
    /// Families of signals whose names depend on the data (state seconds).
    signal_prefixes: Vec<String>,
    /// The counters and state channels, whose predecessors each day reads.
    carried: Vec<String>,
    source: Arc<dyn Extract>,
    target: Arc<dyn Load>,
    transform: Arc<dyn Transform>,
    variables: Vec<String>,
    signals: Vec<String>,
    jobs: usize,
    zone: Zone,
    changed_only: bool,
    assets: Option<Vec<String>>,
}

impl Pipeline {
    /// A builder from a source and a target, with the defaults.
    pub fn builder(source: impl Extract + 'static, target: impl Load + 'static) -> PipelineBuilder {
        Self::builder_shared(Arc::new(source), Arc::new(target))
    }

    /// Like [`builder`](Self::builder), for sources and targets already behind an `Arc`.
    pub fn builder_shared(source: Arc<dyn Extract>, target: Arc<dyn Load>) -> PipelineBuilder {
        PipelineBuilder {
            source,
            target,
            transform: Arc::new(Resampler::default()),
            variables: None,
            jobs: 2,
            zone: Zone::UTC,
            changed_only: false,
            assets: None,
        }
    }

    /// The variables read and aggregated.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// The signals written (and replaced) by each day's load.
    pub fn signals(&self) -> &[String] {
        &self.signals
    }

    /// The source's description (password masked).
    pub fn source_description(&self) -> String {
        self.source.describe()
    }

    /// The target's description (password masked).
    pub fn target_description(&self) -> String {
        self.target.describe()
    }

    /// The time zone of the reporting days.
    pub fn timezone(&self) -> Zone {
        self.zone
    }

    /// Whether the pipeline writes only the (day, asset) pairs that changed.
    pub fn is_changed_only(&self) -> bool {
        self.changed_only
    }

    /// The settings every fingerprint carries: a change of variables,
    /// statistics, window, angles, ... makes every pair "changed".
    fn settings_hash(&self) -> String {
        text_hash(&format!(
            "variables={};signals={};{}",
            self.variables.join(","),
            self.signals.join(","),
            self.transform.settings()
        ))
    }

    /// Runs one day. An `Err` means the day failed and the target kept its
    /// previous contents for it.
    pub async fn run_day(&self, day: Day) -> Result<DayReport> {
        self.run_day_checked(day, true).await
    }

    /// [`run_day`](Self::run_day); `check`: an incremental run asks the
    /// source whether the day changed before reading it (not when a check
    /// of many days at once found that it did).
    async fn run_day_checked(&self, day: Day, check: bool) -> Result<DayReport> {
        self.run_day_inner(day, check)
            .await
            .map_err(|e| Error::Day {
                day,
                source: Box::new(e),
            })
    }

    async fn run_day_inner(&self, day: Day, check: bool) -> Result<DayReport> {
        let mut report = DayReport::new(day, DayOutcome::Loaded);
        let range = self.zone.day_range(day);
        let settings = self.settings_hash();
        let t = Instant::now();
        let subset = self.assets.as_deref();
        // Counters and states: each asset's last sample of each before the
        // day carries into it, so a (day, asset)'s fingerprint covers it too.
        let pred = if self.carried.is_empty() {
            None
        } else {
            let p = self
                .source
                .predecessors(range.start, predecessor::LOOKBACK, &self.carried, subset)
                .await?;
            let fps = fingerprint::of_frame(&p, &self.carried)?;
            Some((p, fps))
        };
        let stamp = |fps: Fingerprints| {
            check::stamp(&settings, fps, pred.as_ref().map(|(_, before)| before))
        };
        // Incremental: what was loaded, and (where the source can say so
        // cheaply) whether anything changed at all.
        let loaded = if self.changed_only {
            self.target
                .loaded(day, self.zone.name())
                .await?
                .map(|before| check::only(before, subset))
        } else {
            None
        };
        // A day without a record is read anyway (to find its new assets).
        if let Some(before) = loaded.as_ref().filter(|b| check && !b.is_empty()) {
            if let Some(now) = self
                .source
                .fingerprints(range, &self.variables, subset)
                .await?
            {
                if stamp(now) == *before {
                    let mut report = DayReport::unchanged(day, before.len() as u64);
                    report.extract = t.elapsed();
                    return Ok(report);
                }
            }
        }
        let (samples, fps) = self
            .source
            .extract_fingerprinted(range, &self.variables, subset)
            .await?;
        report.extract = t.elapsed();
        report.rows_in = samples.height() as u64;
        let t = Instant::now();
        // A source may hand over rows outside the day: they are counted and left out.
        let (samples, outside) = within(&samples, range, NullTime::Keep)?;
        let fps = stamp(match fps {
            Some(f) => f,
            None => fingerprint::of_frame(&samples, &self.variables)?,
        });
        report.assets = fps.len() as u64;
        // The assets to write: all, or (incremental) those that changed.
        let scope: Option<Vec<String>> = match &loaded {
            // A subset replaces its own assets only, those without samples included.
            None => subset.map(|s| s.to_vec()),
            Some(before) => {
                let mut scope = Vec::new();
                for (asset, fp) in &fps {
                    match before.get(asset) {
                        Some(old) if old == fp => report.assets_unchanged += 1,
                        Some(_) => {
                            report.assets_changed += 1;
                            scope.push(asset.clone());
                        }
                        None => {
                            report.assets_new += 1;
                            scope.push(asset.clone());
                        }
                    }
                }
                for asset in before.keys().filter(|a| !fps.contains_key(*a)) {
                    report.assets_removed += 1;
                    scope.push(asset.clone());
                }
                if scope.is_empty() {
                    report.outcome = DayOutcome::Unchanged;
                    return Ok(report);
                }
                Some(scope)
            }
        };
        let pred_rows = pred.as_ref().map_or(0, |(p, _)| p.height());
        if samples.height() == 0 && pred_rows == 0 && scope.is_none() {
            report.outcome = DayOutcome::NoSourceRows;
            return Ok(report);
        }
        let samples = match &scope {
            Some(assets) => only_assets(&samples, assets)?,
            None => samples,
        };
        let (stats, mut quality) = match &pred {
            None => self.transform.transform_with_quality(&samples)?,
            Some((p, _)) => {
                let p = match &scope {
                    Some(assets) => only_assets(p, assets)?,
                    None => p.clone(),
                };
                let mut all = predecessor::align_to(&p, &samples)?;
                all.vstack_mut(&samples)?;
                self.transform.transform_range(&all, range)?
            }
        };
        // State signals (`<s>_seconds_<state>`) depend on the data: the day's
        // are replaced besides the fixed ones.
        let day_signals: Vec<String> = if self.carried.is_empty() {
            Vec::new()
        } else {
            let mut extra: Vec<String> = Vec::new();
            for s in crate::frame::column(&stats, crate::schema::SIGNAL)?
                .str()?
                .iter()
                .flatten()
            {
                if !self.signals.iter().any(|x| x == s) && !extra.iter().any(|x| x == s) {
                    extra.push(s.to_string());
                }
            }
            report.data_signals = extra.clone();
            self.signals.iter().cloned().chain(extra).collect()
        };
        let signals: &[String] = if day_signals.is_empty() {
            &self.signals
        } else {
            &day_signals
        };
        quality.outside = outside;
        quality.samples += outside;
        report.windows = if quality.windows > 0 || stats.height() == 0 {
            quality.windows
        } else {
            count_windows(&stats)?
        };
        report.quality = quality;
        report.transform = t.elapsed();
        let t = Instant::now();
        // End labels lie one window later than the windows' starts.
        let shift = self.transform.label_offset();
        let label_range = TimeRange {
            start: range.start + shift,
            end: range.end + shift,
        };
        let recorded: Fingerprints = match &scope {
            Some(assets) => fps
                .into_iter()
                .filter(|(a, _)| assets.contains(a))
                .collect(),
            None => fps,
        };
        report.rows_out = self
            .target
            .load_scoped(
                LoadScope {
                    day,
                    zone: self.zone.name(),
                    range: label_range,
                    signals,
                    signal_prefixes: &self.signal_prefixes,
                    assets: scope.as_deref(),
                    fingerprints: &recorded,
                },
                &stats,
            )
            .await?;
        report.load = t.elapsed();
        Ok(report)
    }

    /// Runs `days` in order, up to `jobs` at once, calling `progress` after
    /// each day. After a day fails no new day is started; the ones in flight
    /// finish, and the rest are reported as [`DayOutcome::Skipped`].
    pub async fn run<I>(&self, days: I, progress: impl Fn(&DayReport)) -> RunSummary
    where
        I: IntoIterator<Item = Day>,
    {
        let started = Instant::now();
        let abort = AtomicBool::new(false);
        let abort = &abort;
        let mut reports = Vec::new();
        let mut notes = self.source.notes();
        let days: Vec<Day> = days.into_iter().collect();
        // Incremental runs check many days for changes at once, a part at a time.
        let at_once = check::applies(self).then_some(check::DAYS_AT_ONCE);
        for part in days.chunks(at_once.unwrap_or(days.len()).max(1)) {
            let checked = match at_once {
                Some(_) if !abort.load(Ordering::SeqCst) => match self.check_days(part).await {
                    Ok(u) => u,
                    Err(e) => {
                        notes.push(check::fallback_note(part, &e));
                        Default::default()
                    }
                },
                _ => Default::default(),
            };
            let checked = &checked;
            let mut s = stream::iter(part.iter().copied())
                .map(|day| async move {
                    if abort.load(Ordering::SeqCst) {
                        return DayReport::new(day, DayOutcome::Skipped);
                    }
                    let check = match checked.get(&day) {
                        Some(&Some(assets)) => return DayReport::unchanged(day, assets),
                        Some(None) => false,
                        None => true,
                    };
                    match self.run_day_checked(day, check).await {
                        Ok(r) => r,
                        Err(e) => {
                            abort.store(true, Ordering::SeqCst);
                            let e = match e {
                                Error::Day { source, .. } => *source,
                                other => other,
                            };
                            DayReport::new(day, DayOutcome::Failed(e))
                        }
                    }
                })
                .buffered(self.jobs);
            while let Some(r) = s.next().await {
                progress(&r);
                reports.push(r);
            }
        }
        RunSummary {
            days: reports,
            elapsed: started.elapsed(),
            notes,
            bad_rows: self.source.bad_rows(),
        }
    }
}

/// Distinct timestamps of long-form statistics.
fn count_windows(stats: &DataFrame) -> Result<u64> {
    let col = crate::frame::column(stats, TIMESTAMP)?;
    let phys = col.as_materialized_series().to_physical_repr().into_owned();
    let distinct: std::collections::HashSet<Option<i64>> = phys.i64()?.iter().collect();
    Ok(distinct.len() as u64)
}
