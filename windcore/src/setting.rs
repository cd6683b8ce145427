//! The settings a configuration error can name.
//!
//! At the bottom of the module graph: every module that validates a setting
//! names it with a [`Setting`], and every front door maps it to its own
//! spelling (a flag, a keyword argument, a query parameter) without reading
//! it back out of a message.

use std::fmt;

/// A setting a configuration error is about ([`Error::InvalidConfig`]).
///
/// [`Display`](fmt::Display) is the words of the error message (`invalid
/// window length: ...`); [`name`](Setting::name) is an identifier
/// (`window_length`) for code that maps it to a flag or a parameter.
///
/// [`Error::InvalidConfig`]: crate::Error::InvalidConfig
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// Which variables are angles (circular statistics).
    Angles,
    /// Where the asset of a file source comes from (a column or the file names).
    Asset,
    /// The availability mapping (state values to categories).
    Availability,
    /// The pattern that takes the asset out of a file name.
    AssetPattern,
    /// The assets a run is limited to.
    Assets,
    /// The columns the statistics are grouped by besides the window.
    By,
    /// The comment character of CSV files.
    Comment,
    /// Which channels are cumulative counters.
    Counters,
    /// One day (`YYYY-MM-DD`).
    Date,
    /// A range of days (its first and last day).
    DateRange,
    /// Which days a run covers (one day, a range, or every day in the source).
    Days,
    /// The decimal mark of CSV files.
    Decimal,
    /// The field delimiter of CSV files.
    Delimiter,
    /// The demo data a server generates into an empty store.
    DemoData,
    /// The source of a run is windcore's HTTP API (what it can and cannot do).
    HttpSource,
    /// Days in flight at once.
    Jobs,
    /// Whether windows are labelled by their start or their end.
    Label,
    /// A location: a `postgres://` URL, an `http(s)://` URL, files or a directory.
    Location,
    /// How many requests a server handles at once.
    MaxConcurrency,
    /// How many days one request of a server may span.
    MaxRangeDays,
    /// The fewest valid samples for a window's statistics.
    MinCount,
    /// The share of samples the generator leaves out.
    MissingRate,
    /// How many days, counted from a first day.
    NumberOfDays,
    /// The minute-to-minute correlation of the generated wind.
    Persistence,
    /// How many connections a PostgreSQL pool keeps.
    PoolSize,
    /// The quote character of CSV files.
    Quote,
    /// The rated power of a generated turbine.
    RatedPower,
    /// How long a state sample holds at most.
    StateHold,
    /// Which channels are state channels.
    States,
    /// Where the samples come from.
    Source,
    /// The table, time column and asset column of a source.
    SourceLayout,
    /// A statistic (or the list of statistics).
    Stat,
    /// Where the statistics go.
    Target,
    /// How the timestamps of a file are written.
    TimeFormat,
    /// A range of instants.
    TimeRange,
    /// The time zone of the reporting days (or of naive timestamps).
    TimeZone,
    /// How many turbines the generator makes.
    Turbines,
    /// The variables (channels) to aggregate.
    Variables,
    /// The Weibull scale of the generated wind.
    WeibullScale,
    /// The length of a window.
    WindowLength,
}

impl Setting {
    /// The setting as an identifier, in snake case: `window_length`,
    /// `max_range_days`, `http_source`.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Angles => "angles",
            Setting::Asset => "asset",
            Setting::Availability => "availability",
            Setting::AssetPattern => "asset_pattern",
            Setting::Assets => "assets",
            Setting::By => "by",
            Setting::Comment => "comment",
            Setting::Counters => "counters",
            Setting::Date => "date",
            Setting::DateRange => "date_range",
            Setting::Days => "days",
            Setting::Decimal => "decimal",
            Setting::Delimiter => "delimiter",
            Setting::DemoData => "demo_data",
            Setting::HttpSource => "http_source",
            Setting::Jobs => "jobs",
            Setting::Label => "label",
            Setting::Location => "location",
            Setting::MaxConcurrency => "max_concurrency",
            Setting::MaxRangeDays => "max_range_days",
            Setting::MinCount => "min_count",
            Setting::MissingRate => "missing_rate",
            Setting::NumberOfDays => "number_of_days",
            Setting::Persistence => "persistence",
            Setting::PoolSize => "pool_size",
            Setting::Quote => "quote",
            Setting::RatedPower => "rated_power",
            Setting::StateHold => "state_hold",
            Setting::States => "states",
            Setting::Source => "source",
            Setting::SourceLayout => "source_layout",
            Setting::Stat => "stat",
            Setting::Target => "target",
            Setting::TimeFormat => "time_format",
            Setting::TimeRange => "time_range",
            Setting::TimeZone => "time_zone",
            Setting::Turbines => "turbines",
            Setting::Variables => "variables",
            Setting::WeibullScale => "weibull_scale",
            Setting::WindowLength => "window_length",
        }
    }

    /// The words an error message uses for the setting (`window length`).
    fn words(self) -> &'static str {
        match self {
            Setting::Angles => "angles",
            Setting::Asset => "asset",
            Setting::Availability => "availability",
            Setting::AssetPattern => "asset pattern",
            Setting::Assets => "assets",
            Setting::By => "by",
            Setting::Comment => "comment",
            Setting::Counters => "counters",
            Setting::Date => "date",
            Setting::DateRange => "date range",
            Setting::Days => "days",
            Setting::Decimal => "decimal",
            Setting::Delimiter => "delimiter",
            Setting::DemoData => "demo data",
            Setting::HttpSource => "HTTP source",
            Setting::Jobs => "jobs",
            Setting::Label => "label",
            Setting::Location => "location",
            Setting::MaxConcurrency => "max concurrency",
            Setting::MaxRangeDays => "max range days",
            Setting::MinCount => "min_count",
            Setting::MissingRate => "missing rate",
            Setting::NumberOfDays => "number of days",
            Setting::Persistence => "persistence",
            Setting::PoolSize => "pool size",
            Setting::Quote => "quote",
            Setting::RatedPower => "rated power",
            Setting::StateHold => "state hold",
            Setting::States => "states",
            Setting::Source => "source",
            Setting::SourceLayout => "source layout",
            Setting::Stat => "stat",
            Setting::Target => "target",
            Setting::TimeFormat => "time format",
            Setting::TimeRange => "time range",
            Setting::TimeZone => "time zone",
            Setting::Turbines => "turbines",
            Setting::Variables => "variables",
            Setting::WeibullScale => "Weibull scale",
            Setting::WindowLength => "window length",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting.
    const ALL: [Setting; 40] = [
        Setting::Angles,
        Setting::Asset,
        Setting::Availability,
        Setting::Counters,
        Setting::StateHold,
        Setting::States,
        Setting::AssetPattern,
        Setting::Assets,
        Setting::By,
        Setting::Comment,
        Setting::Date,
        Setting::DateRange,
        Setting::Days,
        Setting::Decimal,
        Setting::Delimiter,
        Setting::DemoData,
        Setting::HttpSource,
        Setting::Jobs,
        Setting::Label,
        Setting::Location,
        Setting::MaxConcurrency,
        Setting::MaxRangeDays,
        Setting::MinCount,
        Setting::MissingRate,
        Setting::NumberOfDays,
        Setting::Persistence,
        Setting::PoolSize,
        Setting::Quote,
        Setting::RatedPower,
        Setting::Source,
        Setting::SourceLayout,
        Setting::Stat,
        Setting::Target,
        Setting::TimeFormat,
        Setting::TimeRange,
        Setting::TimeZone,
        Setting::Turbines,
        Setting::Variables,
        Setting::WeibullScale,
        Setting::WindowLength,
    ];

    #[test]
    fn names_are_snake_case_of_the_words() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name()).collect();
        for s in ALL {
            assert_eq!(s.name(), s.to_string().to_lowercase().replace(' ', "_"));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "names are distinct");
        assert_eq!(Setting::WindowLength.to_string(), "window length");
        assert_eq!(Setting::WindowLength.name(), "window_length");
    }
}
