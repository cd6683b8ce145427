//! `windcore-cli`: generate demo data, run the 10-minute ETL, serve the dashboard.
//!
//! `main` parses the flags, has [`flags`] turn them into the library's validated
//! configuration, dispatches to the command in [`commands`] and maps errors to
//! an exit code; [`report`] does the printing.

mod commands;
mod flags;
mod report;

use std::process::ExitCode;

use clap::Parser;

use flags::{Cli, Command, GeneratePlan, InitPlan, RunPlan, ServePlan};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("windcore-cli: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        // Whoever reads our output stopped reading (`| head`): not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("windcore-cli: error: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// Checks the command's flags and runs it.
async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => commands::run(RunPlan::from_args(&args)?).await,
        Command::Init(args) => commands::init(InitPlan::from_args(args)?).await,
        Command::Generate(args) => commands::generate(GeneratePlan::from_args(&args)?).await,
        Command::Serve(args) => commands::serve(ServePlan::from_args(*args)?).await,
    }
}

/// The error and its causes on one line, skipping causes already spelled out
/// by the message above them.
fn error_chain(err: &anyhow::Error) -> String {
    windcore::error_chain(err.as_ref())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
