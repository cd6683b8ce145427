//! UTC days and half-open time ranges.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

use crate::error::{Error, Result};
use crate::setting::Setting;

/// One UTC day: the half-open interval `[00:00, 24:00)` UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(NaiveDate);

impl Day {
    /// The day of a calendar date.
    pub fn new(date: NaiveDate) -> Self {
        Day(date)
    }

    /// The day from year, month and day-of-month; `None` if no such date.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, day).map(Day)
    }

    /// The UTC day that contains `t`.
    pub fn containing(t: DateTime<Utc>) -> Self {
        Day(t.date_naive())
    }

    /// Today, in UTC.
    pub fn today() -> Self {
        Day::containing(Utc::now())
    }

    /// The calendar date.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// Midnight UTC at the start of the day (inclusive).
    pub fn start(self) -> DateTime<Utc> {
        self.0
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
    }

    /// Midnight UTC at the end of the day (exclusive).
    pub fn end(self) -> DateTime<Utc> {
        self.start() + TimeDelta::days(1)
    }

    /// The day's time range `[start, end)`.
    pub fn range(self) -> TimeRange {
        TimeRange {
            start: self.start(),
            end: self.end(),
        }
    }

    /// The following day.
    pub fn succ(self) -> Option<Self> {
        self.0.checked_add_days(Days::new(1)).map(Day)
    }

    /// The day `n` days later.
    pub fn plus_days(self, n: u64) -> Option<Self> {
        self.0.checked_add_days(Days::new(n)).map(Day)
    }

    /// The day before.
    pub fn pred(self) -> Option<Self> {
        self.0.checked_sub_days(Days::new(1)).map(Day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        (self.0 - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days()
    }

    /// The day `n` days after 1970-01-01 (before, for negative `n`), if
    /// chrono can represent it.
    pub fn from_days_since_epoch(n: i64) -> Option<Self> {
        NaiveDate::from_ymd_opt(1970, 1, 1)?
            .checked_add_signed(chrono::TimeDelta::try_days(n)?)
            .map(Day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// A day serialises as `YYYY-MM-DD`.
impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A day deserialises from `YYYY-MM-DD` (as [`FromStr`] reads it).
impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Day {
    type Err = Error;

    /// Parses `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Self> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Day)
            .map_err(|e| {
                Error::config(
                    Setting::Date,
                    format!("`{s}` is not a date of the form YYYY-MM-DD ({e})"),
                )
            })
    }
}

impl From<NaiveDate> for Day {
    fn from(d: NaiveDate) -> Self {
        Day(d)
    }
}

/// An inclusive range of UTC days, `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    first: Day,
    last: Day,
}

impl DayRange {
    /// The days from `first` to `last`, both included. Fails if `last` is before `first`.
    pub fn new(first: Day, last: Day) -> Result<Self> {
        if last < first {
            return Err(Error::config(
                Setting::DateRange,
                format!("the range {first} .. {last} is empty: --to must not be before --from"),
            ));
        }
        Ok(DayRange { first, last })
    }

    /// A range of a single day.
    pub fn single(day: Day) -> Self {
        DayRange {
            first: day,
            last: day,
        }
    }

    /// `n` days starting at `first` (`n` ≥ 1).
    pub fn starting(first: Day, n: u32) -> Result<Self> {
        if n == 0 {
            return Err(Error::config(Setting::NumberOfDays, "must be at least 1"));
        }
        let last = first.plus_days(u64::from(n) - 1).ok_or_else(|| {
            Error::config(
                Setting::NumberOfDays,
                format!("{n} days from {first} is out of range"),
            )
        })?;
        Ok(DayRange { first, last })
    }

    /// First day.
    pub fn first(&self) -> Day {
        self.first
    }

    /// Last day (included).
    pub fn last(&self) -> Day {
        self.last
    }

    /// How many days.
    pub fn len(&self) -> usize {
        (self.last.days_since_epoch() - self.first.days_since_epoch() + 1) as usize
    }

    /// Always false: a range holds at least one day.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The days in order.
    pub fn iter(&self) -> impl Iterator<Item = Day> + '_ {
        let last = self.last;
        std::iter::successors(Some(self.first), move |d| d.succ().filter(|n| *n <= last))
    }

    /// The time range `[first 00:00, last+1 00:00)`.
    pub fn time_range(&self) -> TimeRange {
        TimeRange {
            start: self.first.start(),
            end: self.last.end(),
        }
    }
}

impl fmt::Display for DayRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{} .. {}", self.first, self.last)
        }
    }
}

/// A half-open UTC time interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// `[start, end)`; fails unless `start < end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self> {
        if start >= end {
            return Err(Error::config(
                Setting::TimeRange,
                format!("start {start} must be before end {end}"),
            ));
        }
        Ok(TimeRange { start, end })
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Start in microseconds since the Unix epoch.
    pub fn start_micros(&self) -> i64 {
        self.start.timestamp_micros()
    }

    /// End in microseconds since the Unix epoch.
    pub fn end_micros(&self) -> i64 {
        self.end.timestamp_micros()
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}, {})",
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_is_half_open_utc() {
        let d: Day = "2024-02-28".parse().unwrap();
        assert_eq!(d.start().to_rfc3339(), "2024-02-28T00:00:00+00:00");
        assert_eq!(d.end().to_rfc3339(), "2024-02-29T00:00:00+00:00");
        assert!(d.range().contains(d.start()));
        assert!(!d.range().contains(d.end()));
    }

    #[test]
    fn bad_dates_are_errors() {
        for s in ["2024-13-01", "2024-02-30", "yesterday", ""] {
            let err = s.parse::<Day>().unwrap_err().to_string();
            assert!(err.contains("YYYY-MM-DD"), "{err}");
        }
    }

    #[test]
    fn ranges() {
        let a: Day = "2024-02-27".parse().unwrap();
        let b: Day = "2024-03-01".parse().unwrap();
        let r = DayRange::new(a, b).unwrap();
        let days: Vec<String> = r.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            days,
            ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]
        );
        assert_eq!(r.len(), 4);
        assert!(DayRange::new(b, a)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert_eq!(DayRange::starting(a, 10).unwrap().len(), 10);
        assert!(DayRange::starting(a, 0).is_err());
    }
}
