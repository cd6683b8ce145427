//! The few compositions of core calls that `windcore.run`, `generate` and
//! `init` need and that the core does not (yet) offer as single calls. Plain
//! Rust and async: no Python in here.

use windcore::{Day, DayRange, Generator, Location, Pipeline, Resampler, Result, RunSummary, Stat};

/// Which days a run covers.
pub enum Days {
    /// One UTC day.
    One(Day),
    /// An inclusive range.
    Range(DayRange),
    /// Every day the source holds samples for.
    AllInSource,
}

/// Everything `run` needs, already validated by the core's parsers.
pub struct RunRequest {
    pub source: Location,
    pub target: Location,
    pub days: Days,
    pub variables: Vec<String>,
    pub resampler: Resampler,
    pub jobs: usize,
}

/// A finished run: the core's summary plus what it ran against.
pub struct RunOutcome {
    pub summary: RunSummary,
    pub source: String,
    pub target: String,
    pub signals: Vec<String>,
}

/// Opens source and target, builds the pipeline and runs it over the days.
pub async fn run(req: RunRequest) -> Result<RunOutcome> {
    let pool_size = windcore::pool_size_for_jobs(req.jobs);
    let source = req.source.open_source_with_pool_size(pool_size).await?;
    let target = req.target.open_target_with_pool_size(pool_size).await?;
    let pipeline = Pipeline::builder_shared(source, target)
        .variables(req.variables)
        .transform(req.resampler)
        .jobs(req.jobs)
        .build()?;
    let days: Vec<Day> = match req.days {
        Days::One(day) => vec![day],
        Days::Range(range) => range.iter().collect(),
        Days::AllInSource => req.source.source_days().await?,
    };
    let summary = pipeline.run(days, |_| {}).await;
    Ok(RunOutcome {
        summary,
        source: pipeline.source_description(),
        target: pipeline.target_description(),
        signals: pipeline.signals().to_vec(),
    })
}

/// Creates the source if needed, then writes generated samples for `days`.
pub async fn generate(source: Location, days: DayRange, generator: Generator) -> Result<u64> {
    source.init_source().await?;
    source.generate(days, &generator, |_| {}).await
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

/// The resampler for the given settings (the builder validates).
pub fn resampler(
    every: chrono::TimeDelta,
    stats: Vec<Stat>,
    variables: Option<Vec<String>>,
) -> Result<Resampler> {
    let mut b = Resampler::builder().every(every).stats(stats);
    if let Some(v) = variables {
        b = b.variables(v);
    }
    b.build()
}
