//! Which days a run covers, from the arguments every front door takes
//! (`date`, or `from` and `to`).

use crate::day::{Day, DayRange};
use crate::error::Error;
use crate::setting::Setting;

/// Which days a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunDays {
    /// One UTC day.
    One(Day),
    /// An inclusive range of UTC days.
    Range(DayRange),
    /// Every day the source holds samples for.
    AllInSource,
}

/// The argument of [`RunDays::from_args`] an error is about, so that each
/// front door can name its own flag or field (`--from`, `start`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaysArg {
    /// The single day (`date`).
    Date,
    /// The first day of a range (`from`).
    From,
    /// The last day of a range, included (`to`).
    To,
}

impl DaysArg {
    /// `date`, `from` or `to`.
    pub fn name(self) -> &'static str {
        match self {
            DaysArg::Date => "date",
            DaysArg::From => "from",
            DaysArg::To => "to",
        }
    }
}

/// An error of [`RunDays::from_args`]: which argument, and what is wrong with
/// it. Converts into [`Error`] (the `?` operator does it).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunDaysError {
    /// The argument that is wrong (or missing).
    pub arg: DaysArg,
    /// What is wrong.
    pub error: Error,
}

impl From<RunDaysError> for Error {
    fn from(e: RunDaysError) -> Error {
        e.error
    }
}

impl RunDays {
    /// The days of a run from the usual arguments, the same for every front
    /// door: `date` alone is one day, `from` with `to` an inclusive range,
    /// none of them every day in the source. Both a date and a range, or half
    /// a range, is an error; so is a string that is not a `YYYY-MM-DD` date
    /// (`invalid date: `2024-13-01` is not a date of the form YYYY-MM-DD
    /// (...)`) and a range whose `to` is before its `from`. The shape is
    /// checked before the dates are read.
    ///
    /// ```
    /// use windcore::{DaysArg, RunDays};
    ///
    /// assert_eq!(RunDays::from_args(None, None, None)?, RunDays::AllInSource);
    /// assert!(matches!(RunDays::from_args(Some("2024-01-01"), None, None)?, RunDays::One(_)));
    /// let err = RunDays::from_args(None, Some("2024-01-05"), Some("2024-01-01")).unwrap_err();
    /// assert_eq!(err.arg, DaysArg::To);
    /// # Ok::<(), windcore::RunDaysError>(())
    /// ```
    pub fn from_args(
        date: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> std::result::Result<RunDays, RunDaysError> {
        let err = |arg, error| RunDaysError { arg, error };
        let day = |arg: DaysArg, s: &str| s.parse::<Day>().map_err(|e| err(arg, e));
        match (date, from, to) {
            (None, None, None) => Ok(RunDays::AllInSource),
            (Some(d), None, None) => Ok(RunDays::One(day(DaysArg::Date, d)?)),
            (None, Some(f), Some(t)) => {
                let (f, t) = (day(DaysArg::From, f)?, day(DaysArg::To, t)?);
                DayRange::new(f, t)
                    .map(RunDays::Range)
                    .map_err(|e| err(DaysArg::To, e))
            }
            (Some(_), _, _) => Err(err(
                DaysArg::Date,
                Error::config(
                    Setting::Days,
                    "give either a date or a range (from and to), not both",
                ),
            )),
            (None, Some(_), None) => Err(err(
                DaysArg::To,
                Error::config(
                    Setting::DateRange,
                    "a range needs its last day too: give from and to, or a single date",
                ),
            )),
            (None, None, Some(_)) => Err(err(
                DaysArg::From,
                Error::config(
                    Setting::DateRange,
                    "a range needs its first day too: give from and to, or a single date",
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn days_from_args() {
        assert_eq!(
            RunDays::from_args(None, None, None).unwrap(),
            RunDays::AllInSource
        );
        assert_eq!(
            RunDays::from_args(Some(" 2024-01-02 "), None, None).unwrap(),
            RunDays::One(day("2024-01-02"))
        );
        assert_eq!(
            RunDays::from_args(None, Some("2024-01-01"), Some("2024-01-03")).unwrap(),
            RunDays::Range(DayRange::new(day("2024-01-01"), day("2024-01-03")).unwrap())
        );
        assert_eq!(
            RunDays::from_args(None, Some("2024-01-01"), Some("2024-01-01")).unwrap(),
            RunDays::Range(DayRange::single(day("2024-01-01")))
        );
    }

    #[test]
    fn days_from_bad_args() {
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            DaysArg,
            &'a str,
        );
        let cases: &[Case] = &[
            (
                Some("2024-13-01"),
                None,
                None,
                DaysArg::Date,
                "invalid date: `2024-13-01` is not a date of the form YYYY-MM-DD",
            ),
            (
                None,
                Some("2024-02-30"),
                Some("2024-03-01"),
                DaysArg::From,
                "invalid date: `2024-02-30` is not a date of the form YYYY-MM-DD",
            ),
            (
                None,
                Some("2024-01-01"),
                Some("01/02/2024"),
                DaysArg::To,
                "invalid date: `01/02/2024` is not a date of the form YYYY-MM-DD",
            ),
            (
                None,
                Some("2024-01-05"),
                Some("2024-01-01"),
                DaysArg::To,
                "invalid date range: the range 2024-01-05 .. 2024-01-01 is empty: --to must not be before --from",
            ),
            (
                Some("2024-01-01"),
                Some("2024-01-01"),
                Some("2024-01-02"),
                DaysArg::Date,
                "invalid days: give either a date or a range (from and to), not both",
            ),
            // The shape is checked before the dates.
            (
                Some("nonsense"),
                None,
                Some("2024-01-02"),
                DaysArg::Date,
                "not both",
            ),
            (
                None,
                Some("2024-01-01"),
                None,
                DaysArg::To,
                "invalid date range: a range needs its last day too",
            ),
            (
                None,
                None,
                Some("2024-01-01"),
                DaysArg::From,
                "invalid date range: a range needs its first day too",
            ),
        ];
        for (date, from, to, arg, needle) in cases {
            let e = RunDays::from_args(*date, *from, *to).unwrap_err();
            assert_eq!(e.arg, *arg, "{date:?} {from:?} {to:?}: {e}");
            assert!(
                e.to_string().starts_with(needle) || e.to_string().contains(needle),
                "{e}"
            );
            assert_eq!(e.to_string(), Error::from(e).to_string());
        }
    }
}
