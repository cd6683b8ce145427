//! The flags of `windcore-cli run`.

use clap::Args;

use super::files::FileArgs;
use super::{LayoutArgs, SourceArg, StoreArgs, TargetArg};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Process this day only (YYYY-MM-DD; a local day with --timezone).
    #[arg(long, value_name = "DAY", conflicts_with_all = ["from", "to"])]
    pub(super) date: Option<String>,
    /// First day of a range (YYYY-MM-DD); needs --to.
    #[arg(long, value_name = "DAY", requires = "to")]
    pub(super) from: Option<String>,
    /// Last day of a range, included (YYYY-MM-DD); needs --from.
    #[arg(long, value_name = "DAY", requires = "from")]
    pub(super) to: Option<String>,
    /// Variables (channels) to aggregate, comma-separated
    /// [default: wind_speed,power when the source has both, else every numeric channel].
    #[arg(long, value_name = "LIST")]
    pub(super) variables: Option<String>,
    /// Variables that are angles in degrees (wind direction, nacelle position), comma-separated:
    /// their mean is the direction of the mean unit vector (350° and 10° average to 0°),
    /// std is the circular std sqrt(-2 ln R), min/max the extreme deviations from the mean.
    #[arg(long, value_name = "LIST")]
    pub(super) angles: Option<String>,
    /// Fewest valid samples a window needs for its statistics; windows with fewer get only
    /// `count` (e.g. 8 of 10 one-minute samples). Counted in the summary.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(super) min_count: u32,
    /// Statistics of the analog channels, comma-separated (mean, min, max,
    /// std, count, first, last, sum, median).
    #[arg(long, value_name = "LIST", default_value = "mean,min,max,std")]
    pub(super) stats: String,
    /// Window length, e.g. 10m, 1h; must divide a day (an hour with --timezone).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub(super) every: String,
    /// Cumulative counters, comma-separated (energy in kWh, operating hours): per window
    /// <c>_delta, the sum of the increments (a decrease is a reset: the increment is the new
    /// value), and <c>_last. A day's first sample takes its predecessor from up to 24 h
    /// before the day, so a day's deltas add up to its increase.
    #[arg(long, value_name = "LIST")]
    pub(super) counters: Option<String>,
    /// State channels, comma-separated (operating state, alarm code): per window
    /// <s>_seconds_<state> for each state present and <s>_seconds_nodata, adding up to the
    /// window length. A sample's state holds until the next sample, for at most --state-hold.
    #[arg(long, value_name = "LIST")]
    pub(super) states: Option<String>,
    /// How long a state sample holds at most, e.g. 2m, 10m [default: the window length].
    #[arg(long, value_name = "DURATION")]
    pub(super) state_hold: Option<String>,
    /// Availability (IEC 61400-26-1, time-based) from a state channel: a TOML file with
    /// lists of state values under `available`, `unavailable` and `excluded` (and `channel`
    /// when there are several state channels). Adds availability, available_seconds,
    /// unavailable_seconds, excluded_seconds and unknown_seconds per window.
    #[arg(long, value_name = "FILE")]
    pub(super) availability: Option<std::path::PathBuf>,
    /// The time zone of the reporting days (IANA name, e.g. Europe/Berlin): a day is
    /// [local 00:00, next local 00:00), 23 or 25 hours on DST days (138 or 150 ten-minute
    /// windows), and --date/--from/--to are local days.
    #[arg(
        long,
        value_name = "ZONE",
        default_value = "UTC",
        env = "WINDCORE_TIMEZONE"
    )]
    pub(super) timezone: String,
    /// Incremental: compare each (day, asset)'s source samples with the fingerprint recorded
    /// when it was loaded, and rewrite only the pairs that changed (late data); unchanged
    /// days are not written at all. The summary counts unchanged, changed, new and removed pairs.
    #[arg(long)]
    pub(super) changed: bool,
    /// Only these assets, comma-separated (a batch of a fleet): only their rows are read
    /// and only their statistics replaced [default: every asset].
    #[arg(long, value_name = "LIST")]
    pub(super) assets: Option<String>,
    /// Label each window by its `start` (t, as pandas and polars do) or its `end`
    /// (t + every, as many SCADA systems stamp 10-minute values).
    #[arg(long, value_name = "start|end", default_value = "start")]
    pub(super) label: String,
    /// Days in flight at once (the extract of one overlaps the load of another), 1 to 64.
    /// A PostgreSQL source or target keeps up to max(N, 4) connections open.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(super) jobs: usize,
    #[command(flatten)]
    pub(super) source: SourceArg,
    #[command(flatten)]
    pub(super) target: TargetArg,
    #[command(flatten)]
    pub(super) store: StoreArgs,
    #[command(flatten)]
    pub(super) layout: LayoutArgs,
    #[command(flatten)]
    pub(super) files: FileArgs,
    /// No progress bar and no summary; errors are still reported.
    #[arg(long, short)]
    pub(super) quiet: bool,
}
