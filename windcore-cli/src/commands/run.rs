//! `windcore-cli run`: the ETL.

use std::process::ExitCode;

use anyhow::{bail, Context};
use windcore::{demo, Location};

use crate::flags::RunPlan;
use crate::report;

/// Runs the ETL over the planned days, prints the summary and the notes; a
/// failed day makes the exit code a failure (the other days are kept).
pub async fn run(plan: RunPlan) -> anyhow::Result<ExitCode> {
    let RunPlan {
        config,
        source,
        target,
        layout,
        every,
        demo_if_empty,
        quiet,
    } = plan;
    if demo_if_empty {
        // An empty embedded store gets the demo data first, as the README says.
        let bar = report::progress_bar(u64::from(demo::DEMO_DAYS), quiet, "generating");
        demo::fill_if_empty(
            &source,
            &layout,
            |days| {
                if !quiet {
                    report::demo_note(&source, days);
                }
            },
            |day| {
                bar.set_message(day.to_string());
                bar.inc(1);
            },
        )
        .await
        .with_context(|| format!("generating demo data into {source}"))?;
        bar.finish_and_clear();
    }
    let config = if demo_if_empty {
        // The demo store gets the demo run's settings, unless the flags chose
        // the channels (the rule is the library's).
        demo::configure_for(config, &source, &layout)
            .await
            .with_context(|| format!("reading the channels of {source}"))?
    } else {
        config
    };
    let prepared = config.build()?.prepare().await?;
    if prepared.days.is_empty() {
        if let Location::Files(_) = source {
            bail!("the file source {source} holds no samples (no rows, or every row was bad): nothing to do");
        }
        bail!("the source {source} holds no samples: nothing to do (fill it with `windcore-cli generate`)");
    }
    let pipeline = prepared.pipeline;
    let bar = report::progress_bar(prepared.days.len() as u64, quiet, "running");
    let summary = pipeline
        .run(prepared.days.iter().copied(), |r| {
            bar.set_message(format!("{} {}", r.day, r.outcome.name().replace('_', " ")));
            bar.inc(1);
        })
        .await;
    bar.finish_and_clear();

    if !quiet {
        report::print_summary(&pipeline, &summary, &target, every)?;
    }
    report::source_notes(&summary);
    report::empty_days_note(&summary.empty_days());
    if report::failure(&summary) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
