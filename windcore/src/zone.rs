//! The operator's calendar: a time zone (IANA name) that sets where days
//! begin and end, and how windows line up with the local clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::setting::Setting;

/// A time zone by IANA name (`Europe/Berlin`, `America/Sao_Paulo`, `UTC`).
///
/// A [`Day`] in a zone is `[local 00:00, next local 00:00)`: 23 or 25 hours
/// on days with a DST change. Where local midnight does not exist (DST
/// starting at midnight, as in São Paulo until 2018) the day starts at the
/// first local time after the gap; where it exists twice, at the first.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

impl Zone {
    /// UTC, the default.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Whether this is UTC (or an alias of it with offset 0 all year).
    pub fn is_utc(&self) -> bool {
        matches!(
            self.0,
            Tz::UTC
                | Tz::Etc__UTC
                | Tz::Etc__UCT
                | Tz::UCT
                | Tz::Zulu
                | Tz::Etc__Zulu
                | Tz::Universal
                | Tz::Etc__Universal
                | Tz::GMT
                | Tz::Etc__GMT
        )
    }

    /// The chrono-tz zone.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The UTC offset in effect at `t`, in seconds (east positive).
    pub fn offset_seconds(&self, t: DateTime<Utc>) -> i64 {
        self.0
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc() as i64
    }

    /// The instant of the local wall-clock time `local`: the earlier one where
    /// it exists twice, the first instant after the gap where it does not exist.
    pub fn instant_of(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap (clocks spring forward): the offset before the gap
                // applied to the wall time gives an instant after the change;
                // for a wall time at the start of the gap (midnight, when DST
                // begins at midnight) that is the change itself, the first
                // instant of the new local day.
                let before = self
                    .0
                    .offset_from_utc_datetime(&(local - TimeDelta::hours(26)))
                    .fix()
                    .local_minus_utc();
                (local - TimeDelta::seconds(before as i64)).and_utc()
            }
        }
    }

    /// The instant of a naive local sample time, the way PostgreSQL's `AT
    /// TIME ZONE` reads it: a time that exists twice (the fall-back hour) is
    /// taken as standard time, the later instant; a time in the spring-forward
    /// gap is moved forward by the gap.
    pub fn instant_of_sample(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(_, b) => b.with_timezone(&Utc),
            LocalResult::None => self.instant_of(local),
        }
    }

    /// The time range of `day` in this zone, `[local 00:00, next local 00:00)`.
    pub fn day_range(&self, day: Day) -> TimeRange {
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists");
        let start = self.instant_of(midnight(day.date()));
        let next = day.succ().map(|d| d.date()).unwrap_or(day.date());
        let end = self.instant_of(midnight(next));
        TimeRange { start, end }
    }

    /// How long `day` is in this zone: 24 hours, 23 or 25 on the days the
    /// clocks change.
    pub fn day_length(&self, day: Day) -> TimeDelta {
        let r = self.day_range(day);
        r.end - r.start
    }

    /// How many windows of `every` the local `day` has when it is complete:
    /// its length over `every` (144 ten-minute windows, 138 or 150 on the days
    /// the clocks change by an hour); 0 for a window that is not positive.
    pub fn windows_in_day(&self, day: Day, every: TimeDelta) -> u32 {
        let (len, e) = (self.day_length(day).num_seconds(), every.num_seconds());
        if e <= 0 {
            return 0;
        }
        u32::try_from(len / e).unwrap_or(u32::MAX)
    }

    /// The local day that contains `t`.
    pub fn day_of(&self, t: DateTime<Utc>) -> Day {
        Day::new(t.with_timezone(&self.0).date_naive())
    }

    /// The local days that `range` touches, in order.
    pub fn days_touching(&self, range: TimeRange) -> Vec<Day> {
        let first = self.day_of(range.start);
        let last = self.day_of(range.end - TimeDelta::microseconds(1));
        let mut out = vec![first];
        let mut d = first;
        while d < last {
            match d.succ() {
                Some(n) => {
                    out.push(n);
                    d = n;
                }
                None => break,
            }
        }
        out
    }

    /// How far local windows of `every` are shifted from windows aligned to
    /// the Unix epoch during `range`: the UTC offset modulo `every`, in
    /// seconds. Fails if that shift changes within the range (a DST change by
    /// an amount `every` does not divide, e.g. hourly windows across a
    /// 30-minute change), since windows could not stay aligned to the clock.
    pub fn window_shift(&self, range: TimeRange, every: TimeDelta) -> Result<i64> {
        let e = every.num_seconds();
        let a = self.offset_seconds(range.start).rem_euclid(e);
        let last = range.end - TimeDelta::seconds(1);
        let b = self.offset_seconds(last).rem_euclid(e);
        if a != b {
            return Err(Error::config(
                Setting::WindowLength,
                format!(
                    "windows of {}s cannot stay aligned to the local clock of {} across the UTC offset change in {range}",
                    e,
                    self.name()
                ),
            ));
        }
        Ok(a)
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl FromStr for Zone {
    type Err = Error;

    /// Parses an IANA name; `utc`/`z` in any case mean UTC.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Zone::UTC);
        }
        t.parse::<Tz>().map(Zone).map_err(|_| {
            Error::config(
                Setting::TimeZone,
                format!("`{s}` is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/Sao_Paulo)"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    fn hours(r: TimeRange) -> i64 {
        (r.end - r.start).num_minutes()
    }

    #[test]
    fn windows_of_local_days() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let ten = TimeDelta::minutes(10);
        assert_eq!(berlin.windows_in_day(day("2025-03-30"), ten), 138);
        assert_eq!(berlin.windows_in_day(day("2025-10-26"), ten), 150);
        assert_eq!(berlin.windows_in_day(day("2025-03-31"), ten), 144);
        assert_eq!(berlin.day_length(day("2025-10-26")), TimeDelta::hours(25));
        assert_eq!(
            berlin.windows_in_day(day("2025-03-30"), TimeDelta::hours(1)),
            23
        );
        assert_eq!(
            berlin.windows_in_day(day("2025-10-26"), TimeDelta::minutes(15)),
            100
        );
        assert_eq!(Zone::UTC.windows_in_day(day("2025-03-30"), ten), 144);
        assert_eq!(
            Zone::UTC.windows_in_day(day("2025-03-30"), TimeDelta::days(1)),
            1
        );
        assert_eq!(
            Zone::UTC.windows_in_day(day("2025-03-30"), TimeDelta::zero()),
            0
        );
    }

    #[test]
    fn local_days_on_dst_changes() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let spring = berlin.day_range(day("2025-03-30"));
        assert_eq!(spring.start.to_rfc3339(), "2025-03-29T23:00:00+00:00");
        assert_eq!(spring.end.to_rfc3339(), "2025-03-30T22:00:00+00:00");
        assert_eq!(hours(spring), 23 * 60);
        let fall = berlin.day_range(day("2025-10-26"));
        assert_eq!(fall.start.to_rfc3339(), "2025-10-25T22:00:00+00:00");
        assert_eq!(fall.end.to_rfc3339(), "2025-10-26T23:00:00+00:00");
        assert_eq!(hours(fall), 25 * 60);
        // DST began at midnight: the day starts at 01:00 local (03:00 UTC).
        let sp: Zone = "America/Sao_Paulo".parse().unwrap();
        let r = sp.day_range(day("2018-11-04"));
        assert_eq!(r.start.to_rfc3339(), "2018-11-04T03:00:00+00:00");
        assert_eq!(r.end.to_rfc3339(), "2018-11-05T02:00:00+00:00");
        assert_eq!(hours(r), 23 * 60);
        assert_eq!(
            Zone::UTC.day_range(day("2024-01-01")),
            day("2024-01-01").range()
        );
    }

    #[test]
    fn names_and_shifts() {
        assert!("Mars/Olympus".parse::<Zone>().is_err());
        assert!("utc".parse::<Zone>().unwrap().is_utc());
        let kathmandu: Zone = "Asia/Kathmandu".parse().unwrap();
        let r = kathmandu.day_range(day("2024-01-01"));
        assert_eq!(
            kathmandu.window_shift(r, TimeDelta::minutes(10)).unwrap(),
            300
        );
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let r = berlin.day_range(day("2025-10-26"));
        assert_eq!(berlin.window_shift(r, TimeDelta::minutes(10)).unwrap(), 0);
        assert_eq!(berlin.days_touching(day("2025-10-26").range()).len(), 2);
    }
}
