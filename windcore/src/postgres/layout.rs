//! [`SourceLayout`]: where the raw samples are in a source table, and the
//! SQL that names its table and its time range.

use crate::day::TimeRange;
use crate::error::{Error, Result};
use crate::schema::TIMESTAMP;
use crate::setting::Setting;
use crate::zone::Zone;

use super::sql::{quote_ident, ts_literal};

/// Where the raw samples are in a source: the table, its timestamp column and
/// (for a farm) the column that tells the assets apart.
///
/// The default is the reference system's layout: table `data`, column
/// `timestamp`, one asset. Names are identifiers, matched exactly (case
/// matters) and always quoted in SQL; `schema.table` names a table in another
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLayout {
    /// The table (PostgreSQL); ignored by the embedded store.
    pub table: String,
    /// The timestamp column (`timestamptz`, or `timestamp` read as UTC).
    pub time_column: String,
    /// The asset column (any type, read as text), if the table holds several assets.
    pub asset_column: Option<String>,
    /// For a time column of naive local times (a logger on local time): their
    /// zone. Each is converted as PostgreSQL's `AT TIME ZONE` does: a time of
    /// the repeated fall-back hour is taken as standard time (its second
    /// occurrence), so the two passes of that hour land on the same instants
    /// and count as duplicate timestamps (the later row wins); a time in the
    /// spring-forward gap is moved forward by the gap. `None`: naive times are UTC.
    pub naive_timezone: Option<Zone>,
}

impl Default for SourceLayout {
    fn default() -> Self {
        SourceLayout {
            table: "data".into(),
            time_column: TIMESTAMP.into(),
            asset_column: None,
            naive_timezone: None,
        }
    }
}

impl SourceLayout {
    /// Checks that every name is a usable identifier.
    pub fn validate(&self) -> Result<()> {
        for (what, name) in [
            ("table", Some(&self.table)),
            ("time column", Some(&self.time_column)),
            ("asset column", self.asset_column.as_ref()),
        ] {
            if let Some(n) = name {
                if n.trim().is_empty() || n.contains('\0') || n.len() > 63 * 2 + 1 {
                    return Err(Error::config(
                        Setting::SourceLayout,
                        format!("the {what} name `{n}` is empty or not a valid identifier"),
                    ));
                }
            }
        }
        if self.asset_column.as_deref() == Some(self.time_column.as_str()) {
            return Err(Error::config(
                Setting::SourceLayout,
                "the asset column and the time column must differ",
            ));
        }
        Ok(())
    }

    /// Whether this is the reference layout (`data`, `timestamp`, no asset).
    pub fn is_reference(&self) -> bool {
        *self == SourceLayout::default()
    }

    /// The time column as a timestamptz SQL expression.
    pub(super) fn time_expr(&self) -> String {
        let t = quote_ident(&self.time_column);
        match self.naive_timezone {
            Some(z) => format!("({t} at time zone '{}')", z.name().replace('\'', "''")),
            None => format!("{t}::timestamptz"),
        }
    }

    /// `[start, end)` as a condition on the time column (its own type, so an
    /// index on it is used).
    pub(super) fn where_range(&self, range: TimeRange) -> String {
        let t = quote_ident(&self.time_column);
        let (lo, hi) = match self.naive_timezone {
            Some(z) => {
                let zone = z.name().replace('\'', "''");
                (
                    format!("({} at time zone '{zone}')", ts_literal(range.start)),
                    format!("({} at time zone '{zone}')", ts_literal(range.end)),
                )
            }
            None => (ts_literal(range.start), ts_literal(range.end)),
        };
        format!("{t} >= {lo} and {t} < {hi}")
    }

    /// `(schema, table)`: `schema.table` splits at the first dot.
    pub(super) fn schema_and_table(&self) -> (Option<&str>, &str) {
        match self.table.split_once('.') {
            Some((s, t)) => (Some(s), t),
            None => (None, self.table.as_str()),
        }
    }

    /// The table as quoted SQL.
    pub(super) fn quoted_table(&self) -> String {
        match self.schema_and_table() {
            (Some(s), t) => format!("{}.{}", quote_ident(s), quote_ident(t)),
            (None, t) => quote_ident(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_quoted() {
        assert!(SourceLayout::default().validate().is_ok());
        assert!(SourceLayout::default().is_reference());
        let same = SourceLayout {
            asset_column: Some(TIMESTAMP.into()),
            ..SourceLayout::default()
        };
        assert!(same.validate().is_err());
        let empty = SourceLayout {
            table: " ".into(),
            ..SourceLayout::default()
        };
        assert!(empty.validate().is_err());
        let other = SourceLayout {
            table: "raw.Log\"s".into(),
            ..SourceLayout::default()
        };
        assert_eq!(other.schema_and_table(), (Some("raw"), "Log\"s"));
        assert_eq!(other.quoted_table(), "\"raw\".\"Log\"\"s\"");
    }

    #[test]
    fn a_naive_local_time_column_is_compared_in_its_own_type() {
        let day: crate::day::Day = "2024-10-27".parse().unwrap();
        let utc = SourceLayout::default();
        assert_eq!(utc.time_expr(), "\"timestamp\"::timestamptz");
        assert_eq!(
            utc.where_range(day.range()),
            "\"timestamp\" >= '2024-10-27T00:00:00.000000+00:00'::timestamptz \
             and \"timestamp\" < '2024-10-28T00:00:00.000000+00:00'::timestamptz"
        );
        let local = SourceLayout {
            naive_timezone: Some("Europe/Berlin".parse().unwrap()),
            ..SourceLayout::default()
        };
        assert_eq!(
            local.time_expr(),
            "(\"timestamp\" at time zone 'Europe/Berlin')"
        );
        assert!(local
            .where_range(day.range())
            .starts_with("\"timestamp\" >= ('2024-10-27T00:00:00.000000+00:00'::timestamptz at time zone 'Europe/Berlin')"));
    }
}
