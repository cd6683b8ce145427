//! `windcore-cli serve`: parses the flags and runs [`windcore::server`], the
//! connector API and the dashboard.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use windcore::server::{fill_demo_if_empty, Server, ServerConfig, DEMO_DAYS};
use windcore::{Location, DEFAULT_DATA_DIR, DEFAULT_SEED};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The source: a postgres:// URL or an embedded store directory
    /// [default: the --data-dir store].
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_SOURCE_URL",
        hide_env_values = true
    )]
    source: Option<String>,
    /// The target: a postgres:// URL or an embedded store directory; enables
    /// /signals, /coverage and POST /etl/run [default: the --data-dir store
    /// when --source is not given either; otherwise none].
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_TARGET_URL",
        hide_env_values = true
    )]
    target: Option<String>,
    /// The embedded store served (as source and target) when neither --source
    /// nor --target is given. An empty store first gets 10 days of demo data
    /// and their statistics, as `windcore-cli run` does.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR, env = "WINDCORE_DATA_DIR")]
    data_dir: PathBuf,
    /// Address to listen on. Only loopback by default; give 0.0.0.0:8000 to expose it.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8000",
        env = "WINDCORE_BIND"
    )]
    bind: SocketAddr,
    /// Bearer token that enables POST /etl/run and POST /generate (and the
    /// dashboard's actions, where it is typed in); off without one.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "WINDCORE_API_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Longest time range one GET may ask for, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 31)]
    max_range_days: u32,
    /// Time allowed to start a response (and to read each further day), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    request_timeout: u64,
    /// Requests reading the stores at once; further ones wait (up to the timeout).
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_concurrency: usize,
    /// Connections kept open to each database (1 to 64); requests beyond that
    /// queue for a connection, within the request timeout.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pool_size: usize,
    /// No access log.
    #[arg(long, short)]
    quiet: bool,
}

/// A configuration error named by the flag that set it.
fn flag_error(e: windcore::Error) -> anyhow::Error {
    let flag = match &e {
        windcore::Error::InvalidConfig { what, .. } => Some(what.replace(' ', "-")),
        _ => None,
    };
    match flag {
        Some(f) => anyhow::Error::new(e).context(format!("--{f}")),
        None => e.into(),
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let default_store = args.source.is_none() && args.target.is_none();
    let source: Location = match &args.source {
        Some(s) => s.parse().context("--source")?,
        None => Location::Local(args.data_dir.clone()),
    };
    let target: Option<Location> = match &args.target {
        Some(t) => Some(t.parse().context("--target")?),
        None if default_store => Some(source.clone()),
        None => None,
    };
    let mut builder = ServerConfig::builder(source)
        .max_range_days(args.max_range_days)
        .request_timeout(Duration::from_secs(args.request_timeout))
        .max_concurrency(args.max_concurrency)
        .pool_size(args.pool_size)
        .access_log(!args.quiet);
    if let Some(t) = target {
        builder = builder.target(t);
    }
    if let Some(t) = args.token {
        builder = builder.token(t);
    }
    let config = builder.build().map_err(flag_error)?;

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    if default_store {
        let dir = args.data_dir.display().to_string();
        let demo = fill_demo_if_empty(&args.data_dir, |days| {
            eprintln!(
                "windcore-cli serve: the embedded store {dir} is empty: generating {DEMO_DAYS} days of demo data ({days}, seed {DEFAULT_SEED}) and running the ETL"
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
    let open = if addr.ip().is_unspecified() {
        SocketAddr::new([127, 0, 0, 1].into(), addr.port())
    } else {
        addr
    };
    let banner = format!(
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
    );
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
