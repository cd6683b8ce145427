//! What the commands print: progress bars, the run and generate summaries, the
//! notes about empty and failed days, and the server's banner.
//!
//! Summaries go to stdout, notes and progress to stderr (progress only on a
//! terminal). What the words are (a day's outcome, days as ranges, the
//! failure message) is the library's: this module only places them.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::time::Duration;

use chrono::TimeDelta;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use windcore::server::ServerConfig;
use windcore::{
    format_every, Day, DayRange, Location, Pipeline, Quality, RunSummary, DEFAULT_SEED,
    DEMO_TURBINES,
};

/// A progress bar over `len` days on stderr; hidden with `quiet` or when
/// stderr is not a terminal.
pub fn progress_bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} days  {{msg}}  [{{elapsed_precise}}, eta {{eta}}]"
        ))
        .expect("valid template"),
    );
    bar
}

/// The note that an empty embedded store gets demo data first.
pub fn demo_note(source: &Location, demo: DayRange) {
    eprintln!(
        "the source {source} is empty: generating {} days of demo data ({demo}, {DEMO_TURBINES} turbines, seed {DEFAULT_SEED})",
        demo.len()
    );
}

/// The summary of `generate` (stdout).
pub fn print_generated(
    days: DayRange,
    turbines: u32,
    rows: u64,
    seed: u64,
    elapsed: Duration,
    location: &Location,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let what = if turbines > 1 {
        format!("{turbines} turbines")
    } else {
        "one turbine".to_string()
    };
    writeln!(
        out,
        "generated {} days ({days}) of 1-minute samples of {what}, {rows} rows, seed {seed}, in {}\n  written to {location}",
        days.len(),
        fmt_duration(elapsed),
    )
}

/// The summary of `run` (stdout).
pub fn print_summary(
    pipeline: &Pipeline,
    summary: &RunSummary,
    target: &Location,
    every: TimeDelta,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    let span = match (summary.days.first(), summary.days.last()) {
        (Some(a), Some(b)) if a.day != b.day => format!(" ({} .. {})", a.day, b.day),
        (Some(a), _) => format!(" ({})", a.day),
        _ => String::new(),
    };
    let zone = pipeline.timezone();
    let zone = if zone.is_utc() {
        String::new()
    } else {
        format!(" ({zone})")
    };
    writeln!(
        out,
        "windcore: {} day(s){span}{zone}, {} windows of {}, {} -> {}",
        summary.days.len(),
        summary.windows(),
        format_every(every),
        pipeline.source_description(),
        pipeline.target_description()
    )?;
    writeln!(out, "  days loaded   {}", summary.loaded())?;
    if pipeline.is_changed_only() {
        let (unchanged, changed, new, removed) = summary.pairs();
        writeln!(
            out,
            "  incremental   {} day(s) unchanged; (day, asset) pairs: {unchanged} unchanged, {changed} changed, {new} new, {removed} removed",
            summary.unchanged_days()
        )?;
    }
    writeln!(out, "  rows in       {}", summary.rows_in())?;
    writeln!(out, "  rows out      {}", summary.rows_out())?;
    writeln!(
        out,
        "  elapsed       {} ({:.0} rows in/s)",
        fmt_duration(summary.elapsed),
        summary.rows_in() as f64 / secs
    )?;
    let signals = summary.signals_written(pipeline.signals());
    writeln!(out, "  signals       {}", signals.join(", "))?;
    let q = summary.quality();
    writeln!(
        out,
        "  quality       {} samples; {} missing values (NULL/NaN), {} duplicate timestamps dropped, \
         {} sparse windows (< min-count), {} rows outside their day",
        q.samples, q.missing, q.duplicates, q.sparse_windows, q.outside
    )?;
    let issues = summary.days_with_issues();
    const SHOWN: usize = 10;
    for (day, q) in issues.iter().take(SHOWN) {
        writeln!(out, "    {day}  {}", quality_line(q))?;
    }
    if issues.len() > SHOWN {
        writeln!(
            out,
            "    ... and {} more day(s) with something left out",
            issues.len() - SHOWN
        )?;
    }
    let results = match target {
        Location::Local(dir) => dir.join("target").display().to_string(),
        other => format!("{other} (tables signal, data)"),
    };
    writeln!(out, "  results in    {results}")?;
    Ok(())
}

/// The source's notes and its bad rows (stderr, even with --quiet: what a rule
/// left out is always reported).
pub fn source_notes(summary: &RunSummary) {
    for note in &summary.notes {
        eprintln!("windcore-cli: note: {note}");
    }
    let bad = &summary.bad_rows;
    if bad.count > 0 {
        let rows = if bad.count == 1 { "row" } else { "rows" };
        eprintln!(
            "windcore-cli: note: {} bad {rows} left out (a time or a number that did not parse); the first:",
            bad.count
        );
        for b in &bad.first {
            eprintln!("  {}:{}: {}", b.file.display(), b.line, b.reason);
        }
    }
}

/// The note about days the source had no rows for (stderr; nothing if none).
pub fn empty_days_note(empty: &[Day]) {
    if !empty.is_empty() {
        eprintln!(
            "windcore-cli: note: no source rows for {} day(s), nothing written for them: {}",
            empty.len(),
            windcore::day_ranges(empty)
        );
    }
}

/// The report of a failed run (stderr): the first failure and the days to run
/// again; `false` when no day failed.
pub fn failure(summary: &RunSummary) -> bool {
    match summary.failure_message() {
        Some(message) => {
            eprintln!("windcore-cli: error: {message}");
            true
        }
        None => false,
    }
}

/// The banner of `serve`: where it listens and what to open.
pub fn serve_banner(addr: SocketAddr, config: &ServerConfig) -> String {
    let open = if addr.ip().is_unspecified() {
        SocketAddr::new([127, 0, 0, 1].into(), addr.port())
    } else {
        addr
    };
    format!(
        "windcore-cli serve: listening on http://{addr} (source {}{}; POST routes {})\n  \
         dashboard: http://{open}/   API docs: http://{open}/docs\n",
        config.source(),
        config
            .target()
            .map(|t| format!(", target {t}"))
            .unwrap_or_default(),
        if config.jobs_enabled() {
            "enabled"
        } else {
            "disabled: no --token"
        }
    )
}

/// The non-zero quality counters of a day, e.g. `3 duplicates, 12 missing`.
fn quality_line(q: &Quality) -> String {
    let parts: Vec<String> = [
        (q.missing, "missing"),
        (q.duplicates, "duplicates dropped"),
        (q.sparse_windows, "sparse windows"),
        (q.outside, "outside the day"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    parts.join(", ")
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}
