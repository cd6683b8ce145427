//! `windcore-cli init`: create the tables (or the store's directories).

use std::io::Write;
use std::process::ExitCode;

use crate::flags::InitPlan;

/// Prepares the source and/or the target; safe to repeat.
pub async fn init(plan: InitPlan) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if let Some((location, layout)) = plan.source()? {
        location.init_source_layout(&layout).await?;
        writeln!(out, "source ready: {location}")?;
    }
    if let Some(location) = plan.target()? {
        location.init_target().await?;
        writeln!(out, "target ready: {location}")?;
    }
    Ok(ExitCode::SUCCESS)
}
