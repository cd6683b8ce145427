//! `windcore-cli generate`: fill the source with seeded demo data.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use windcore::{DayRange, Generator, Location, SourceLayout};

use crate::flags::GeneratePlan;
use crate::report;

/// Generates the days into the source and prints what was written.
pub async fn generate(plan: GeneratePlan) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let rows = generate_days(
        &plan.location,
        &plan.layout,
        plan.days,
        &plan.generator,
        plan.quiet,
    )
    .await?;
    if !plan.quiet {
        report::print_generated(
            plan.days,
            plan.turbines,
            rows,
            plan.seed,
            t.elapsed(),
            &plan.location,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Generates `days` into `location` behind a progress bar; the rows written.
pub(super) async fn generate_days(
    location: &Location,
    layout: &SourceLayout,
    days: DayRange,
    generator: &Generator,
    quiet: bool,
) -> anyhow::Result<u64> {
    let bar = report::progress_bar(days.len() as u64, quiet, "generating");
    let rows = location
        .generate_layout(layout, days, generator, |day| {
            bar.set_message(day.to_string());
            bar.inc(1);
        })
        .await
        .with_context(|| format!("generating demo data into {location}"))?;
    bar.finish_and_clear();
    Ok(rows)
}
