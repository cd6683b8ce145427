//! The one error type of the crate.

use std::path::PathBuf;

use crate::day::Day;
use crate::setting::Setting;

/// Result alias used across windcore.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in windcore.
///
/// Variants carry the context a user needs to act: which column, which day,
/// which file, which database (with its password masked).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required column is not in the input.
    #[error("column `{column}` not found (available columns: {available})")]
    MissingColumn {
        /// The column that was asked for.
        column: String,
        /// The columns that are there, comma-separated.
        available: String,
    },

    /// A column has a type windcore cannot use for that role.
    #[error("column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        /// The offending column.
        column: String,
        /// Its data type.
        found: String,
        /// What windcore needs there.
        expected: String,
    },

    /// The timestamp column contains nulls, which cannot be placed in a window.
    #[error("column `{column}` has {nulls} null timestamp(s); every sample needs a timestamp")]
    NullTimestamps {
        /// The timestamp column.
        column: String,
        /// How many nulls it holds.
        nulls: usize,
    },

    /// A configuration value is out of range or malformed.
    #[error("invalid {setting}: {detail}")]
    InvalidConfig {
        /// Which setting (e.g. [`Setting::WindowLength`], [`Setting::Stat`],
        /// [`Setting::DateRange`]).
        setting: Setting,
        /// What is wrong and what is allowed.
        detail: String,
    },

    /// A peer spoke badly or a stream was cut short: a response that is not
    /// HTTP, an Arrow or COPY stream that ends early, JSON that is not the
    /// API's. Transient: the same request may well succeed again.
    #[error("{context}: {detail}")]
    Protocol {
        /// What was being read, and from where (password masked).
        context: String,
        /// What was wrong with it.
        detail: String,
    },

    /// The data themselves are bad: a sample without its asset, a timestamp
    /// outside the day being written, statistics of a signal not being
    /// loaded. Final: repeating the same work fails the same way.
    #[error("{context}: {detail}")]
    Data {
        /// Which data (e.g. `samples`, `statistics`).
        context: String,
        /// What is wrong with them.
        detail: String,
    },

    /// A variable that the source does not provide.
    #[error("unknown variable `{name}` (known variables: {known})")]
    UnknownVariable {
        /// The requested variable.
        name: String,
        /// The variables the source knows.
        known: String,
    },

    /// A file of the embedded store could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`reading`, `writing`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A day failed in the pipeline; the day's previous contents are kept.
    #[error("day {day}: {source}")]
    Day {
        /// The day that failed.
        day: Day,
        /// Why.
        #[source]
        source: Box<Error>,
    },

    /// A database error, with the (password-masked) connection it came from.
    #[error("{context}: {detail}")]
    Database {
        /// What was being done and against which database (password masked).
        context: String,
        /// The server's or driver's message.
        detail: String,
    },

    /// A database could not be reached or the pool failed.
    #[error("{context}: {detail}")]
    Connection {
        /// Which database (password masked).
        context: String,
        /// What happened.
        detail: String,
    },

    /// The target database has a schema windcore will not write into.
    #[error("{0}")]
    Schema(String),

    /// The operation was cancelled (Ctrl-C, or the caller dropped it).
    #[error("cancelled")]
    Cancelled,

    /// A failure known only by its message, as another process reported it
    /// (e.g. the error of a failed day in a deserialised
    /// [`RunSummary`](crate::RunSummary)).
    #[error("{0}")]
    Reported(String),

    /// An error from polars.
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
}

impl Error {
    /// Whether repeating the failed work may succeed: a store that could not
    /// be reached, a statement or request that failed on the server, a cut
    /// stream, a file that could not be read, a cancelled operation. False
    /// for what a repeat cannot fix: settings, input columns, bad data, a
    /// schema windcore does not write into, and errors of the transform.
    /// A failed [`Day`](Error::Day) is transient when its cause is; a
    /// [`Reported`](Error::Reported) failure is not (its kind is not known).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connection { .. }
            | Error::Database { .. }
            | Error::Protocol { .. }
            | Error::Io { .. }
            | Error::Cancelled => true,
            Error::Day { source, .. } => source.is_transient(),
            Error::MissingColumn { .. }
            | Error::ColumnType { .. }
            | Error::NullTimestamps { .. }
            | Error::InvalidConfig { .. }
            | Error::UnknownVariable { .. }
            | Error::Data { .. }
            | Error::Schema(_)
            | Error::Reported(_)
            | Error::Polars(_) => false,
        }
    }

    pub(crate) fn protocol(context: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Protocol {
            context: context.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn data(context: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Data {
            context: context.into(),
            detail: detail.into(),
        }
    }

    /// The setting a configuration error is about: that of an
    /// [`InvalidConfig`](Error::InvalidConfig), [`Setting::Variables`] for an
    /// [`UnknownVariable`](Error::UnknownVariable), `None` for any other
    /// error (a failed [`Day`](Error::Day) included: it is about the data of
    /// that day, not about a setting).
    ///
    /// ```
    /// use windcore::{parse_every, Setting};
    ///
    /// let err = parse_every("10x").unwrap_err();
    /// assert_eq!(err.setting(), Some(Setting::WindowLength));
    /// assert!(err.to_string().starts_with("invalid window length: "));
    /// ```
    pub fn setting(&self) -> Option<Setting> {
        match self {
            Error::InvalidConfig { setting, .. } => Some(*setting),
            Error::UnknownVariable { .. } => Some(Setting::Variables),
            _ => None,
        }
    }

    pub(crate) fn config(setting: Setting, detail: impl Into<String>) -> Self {
        Error::InvalidConfig {
            setting,
            detail: detail.into(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// An error and its causes on one line, leaving out causes its message (or
/// an earlier cause's) already spells out: what every front door prints.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_those_a_repeat_may_fix() {
        let day = |e: Error| Error::Day {
            day: Day::from_ymd(2024, 1, 1).expect("a day"),
            source: Box::new(e),
        };
        for e in [
            Error::protocol("Arrow stream", "cut"),
            Error::Connection {
                context: "db".into(),
                detail: "refused".into(),
            },
            Error::Database {
                context: "db".into(),
                detail: "deadlock".into(),
            },
            Error::Cancelled,
            day(Error::protocol("JSON response", "not JSON")),
        ] {
            assert!(e.is_transient(), "{e:?}");
        }
        for e in [
            Error::data("samples", "a row has no asset"),
            Error::config(Setting::Stat, "median"),
            Error::Schema("not windcore's".into()),
            Error::NullTimestamps {
                column: "timestamp".into(),
                nulls: 1,
            },
            day(Error::data("statistics", "a row has no asset (NULL)")),
        ] {
            assert!(!e.is_transient(), "{e:?}");
        }
        assert_eq!(
            Error::protocol("Arrow stream", "cut").to_string(),
            "Arrow stream: cut"
        );
    }
}
