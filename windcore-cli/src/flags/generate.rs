//! The flags of `windcore-cli generate`.

use clap::Args;
use windcore::DEFAULT_SEED;

use windcore::{DEMO_DAYS, DEMO_START};

use super::{LayoutArgs, SourceArg, StoreArgs};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Number of days to generate.
    #[arg(long, value_name = "N", default_value_t = DEMO_DAYS)]
    pub(super) days: u32,
    /// First UTC day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY", default_value = DEMO_START)]
    pub(super) start: String,
    /// Random seed; the same seed and days give the same data.
    #[arg(long, value_name = "SEED", default_value_t = DEFAULT_SEED)]
    pub(super) seed: u64,
    /// Probability that a value is missing (NULL), in [0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub(super) missing_rate: f64,
    /// Number of turbines: 1 is the reference layout (timestamp, wind_speed, power,
    /// ambient_temperature); more makes a farm (asset T01, T02, ...; plus wind_direction,
    /// nacelle_position, energy and state). In PostgreSQL a farm needs --table and
    /// --asset-column.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(super) turbines: u32,
    #[command(flatten)]
    pub(super) source: SourceArg,
    #[command(flatten)]
    pub(super) store: StoreArgs,
    #[command(flatten)]
    pub(super) layout: LayoutArgs,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub(super) quiet: bool,
}
