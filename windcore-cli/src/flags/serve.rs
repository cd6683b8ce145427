//! The flags of `windcore-cli serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use windcore::DEFAULT_DATA_DIR;

use super::files::FileArgs;
use super::LayoutArgs;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The source: a postgres:// URL, an embedded store directory, or files: a
    /// CSV/Parquet file, a glob such as 'exports/*.csv', or a directory of them
    /// (read once, when the server starts) [default: the --data-dir store].
    #[arg(
        long,
        value_name = "URL|DIR|FILES",
        env = "WINDCORE_SOURCE_URL",
        hide_env_values = true
    )]
    pub(super) source: Option<String>,
    /// The target: a postgres:// URL or an embedded store directory; enables
    /// /signals, /coverage and POST /etl/run [default: the --data-dir store
    /// when --source is not given either; otherwise none].
    #[arg(
        long,
        value_name = "URL|DIR",
        env = "WINDCORE_TARGET_URL",
        hide_env_values = true
    )]
    pub(super) target: Option<String>,
    /// The embedded store served (as source and target) when neither --source
    /// nor --target is given. An empty store first gets 10 days of demo data
    /// (a farm of 3 turbines) and their statistics, as `windcore-cli run` does.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR, env = "WINDCORE_DATA_DIR")]
    pub(super) data_dir: PathBuf,
    /// Address to listen on. Only loopback by default; give 0.0.0.0:8000 to expose it.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8000",
        env = "WINDCORE_BIND"
    )]
    pub(super) bind: SocketAddr,
    /// Bearer token that enables POST /etl/run and POST /generate (and the
    /// dashboard's actions, where it is typed in); off without one.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "WINDCORE_API_TOKEN",
        hide_env_values = true
    )]
    pub(super) token: Option<String>,
    /// Longest time range one GET may ask for, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 31)]
    pub(super) max_range_days: u32,
    /// Time allowed to start a response (and to read each further day), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(super) request_timeout: u64,
    /// Requests reading the stores at once; further ones wait (up to the timeout).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub(super) max_concurrency: usize,
    /// Connections kept open to each database (1 to 64); requests beyond that
    /// queue for a connection, within the request timeout.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub(super) pool_size: usize,
    #[command(flatten)]
    pub(super) layout: LayoutArgs,
    #[command(flatten)]
    pub(super) files: FileArgs,
    /// No access log.
    #[arg(long, short)]
    pub(super) quiet: bool,
}
