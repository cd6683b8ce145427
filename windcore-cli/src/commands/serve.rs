//! `windcore-cli serve`: runs [`windcore::server`], the connector API and the
//! dashboard.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use windcore::demo::{prepare_store, DEMO_DAYS, DEMO_TURBINES};
use windcore::server::Server;
use windcore::DEFAULT_SEED;

use crate::flags::ServePlan;
use crate::report;

/// Listens, fills an empty default store with demo data, prints the banner and
/// serves until Ctrl-C or SIGTERM.
pub async fn serve(plan: ServePlan) -> anyhow::Result<ExitCode> {
    let ServePlan {
        config,
        bind,
        default_store,
        data_dir,
    } = plan;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    if default_store {
        let dir = data_dir.display().to_string();
        let demo = prepare_store(&data_dir, |days| {
            eprintln!(
                "windcore-cli serve: the embedded store {dir} is empty: generating {DEMO_DAYS} days of demo data ({days}, {DEMO_TURBINES} turbines, seed {DEFAULT_SEED}) and running the ETL"
            );
        })
        .await
        .with_context(|| format!("preparing the demo data in {dir}"))?;
        if let Some(r) = demo {
            eprintln!(
                "windcore-cli serve: demo data ready: {} samples, {} ten-minute windows, in {:.2} s",
                r.rows,
                r.windows,
                r.elapsed.as_secs_f64()
            );
        }
    }
    let server = Server::new(config.clone());
    for warning in server.check().await {
        eprintln!("windcore-cli serve: warning: {warning}");
    }
    let banner = report::serve_banner(addr, &config);
    {
        // One write: whoever reads only the first line may close the pipe.
        // The server keeps serving even if nobody reads its stdout.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|_| out.flush());
    }
    server
        .serve(listener, async {
            windcore::server::shutdown_signal().await;
            eprintln!("windcore-cli serve: shutting down (letting requests in flight finish)");
        })
        .await
        .context("serving")?;
    eprintln!("windcore-cli serve: stopped");
    Ok(ExitCode::SUCCESS)
}
