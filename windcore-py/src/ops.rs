//! The few compositions of core calls that `windcore.run`, `generate` and
//! `init` need and that the core does not (yet) offer as single calls. Plain
//! Rust and async: no Python in here.

use windcore::{
    DayRange, Generator, Label, Location, Resampler, Result, RunConfig, RunSummary, SourceLayout,
    Stat, Zone,
};

/// A finished run: the core's summary plus what it ran against.
pub struct RunOutcome {
    pub summary: RunSummary,
    pub source: String,
    pub target: String,
    pub signals: Vec<String>,
}

/// Runs a validated configuration (the core does all the assembly).
pub async fn run(config: RunConfig) -> Result<RunOutcome> {
    let prepared = config.prepare().await?;
    let summary = prepared.pipeline.run(prepared.days, |_| {}).await;
    Ok(RunOutcome {
        summary,
        source: prepared.pipeline.source_description(),
        target: prepared.pipeline.target_description(),
        signals: prepared.pipeline.signals().to_vec(),
    })
}

/// Creates the source if needed, then writes generated samples for `days`.
pub async fn generate(
    source: Location,
    layout: SourceLayout,
    days: DayRange,
    generator: Generator,
) -> Result<u64> {
    source.init_source_layout(&layout).await?;
    source
        .generate_layout(&layout, days, &generator, |_| {})
        .await
}

/// Creates the source and/or the target (idempotent).
pub async fn init(source: Option<Location>, target: Option<Location>) -> Result<()> {
    if let Some(s) = source {
        s.init_source().await?;
    }
    if let Some(t) = target {
        t.init_target().await?;
    }
    Ok(())
}

/// What a resampler reads beyond the window length and the statistics.
#[derive(Debug, Clone)]
pub struct Columns {
    /// The timestamp column (the output's time column keeps its name).
    pub time_column: String,
    /// The variables; `None`: every numeric column but the timestamp and keys.
    pub variables: Option<Vec<String>>,
    /// The key columns (empty: one series).
    pub by: Vec<String>,
    /// The variables that are angles in degrees.
    pub angles: Vec<String>,
    /// The fewest valid samples a window needs for its statistics.
    pub min_count: u32,
    /// The zone whose clock the windows line up with.
    pub zone: Zone,
    /// Which end labels a window.
    pub label: Label,
    /// Counters, states, the state hold and the availability mapping.
    pub record: Record,
}

/// The counter and state settings of a run or a resampling.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Cumulative counters.
    pub counters: Vec<String>,
    /// State channels.
    pub states: Vec<String>,
    /// How long a state sample holds at most (default: the window).
    pub state_hold: Option<chrono::TimeDelta>,
    /// The availability mapping.
    pub availability: Option<windcore::Availability>,
}

/// The resampler for the given settings (the builder validates).
pub fn resampler(
    every: chrono::TimeDelta,
    stats: Vec<Stat>,
    columns: Columns,
) -> Result<Resampler> {
    let Columns {
        time_column,
        variables,
        by,
        angles,
        min_count,
        zone,
        label,
        record,
    } = columns;
    let mut b = Resampler::builder()
        .every(every)
        .stats(stats)
        .timestamp_column(time_column)
        .by(by)
        .angles(angles)
        .min_count(min_count)
        .timezone(zone)
        .label(label)
        .counters(record.counters)
        .states(record.states);
    if let Some(h) = record.state_hold {
        b = b.state_hold(h);
    }
    if let Some(m) = record.availability {
        b = b.availability(m);
    }
    if let Some(v) = variables {
        b = b.variables(v);
    }
    b.build()
}
