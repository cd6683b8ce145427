//! Timestamps as files write them: ISO 8601 with or without an offset,
//! `YYYY-MM-DD HH:MM:SS`, a format the user gives (day-first exports), or
//! epoch seconds / milliseconds. Parsed to UTC microseconds; naive times are
//! local times of the source's zone (UTC by default), converted by the one
//! rule of [`Zone::instant_of_sample`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::error::{Error, Result};
use crate::setting::Setting;
use crate::zone::Zone;

/// How a file writes its times.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// ISO 8601 / RFC 3339 (`2024-01-01T00:10:00Z`, `2024-01-01 00:10:00+01:00`,
    /// `2024-01-01 00:10`, fractional seconds allowed), or a number:
    /// epoch seconds, or epoch milliseconds when it is above 10^11.
    #[default]
    Auto,
    /// A chrono `strftime` format, e.g. `%d.%m.%Y %H:%M` (with `%z` / `%:z`
    /// for an offset; without one, the time is local to the source zone).
    Format(String),
    /// Seconds since 1970-01-01 UTC (fractions allowed).
    EpochSeconds,
    /// Milliseconds since 1970-01-01 UTC.
    EpochMillis,
}

impl fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeFormat::Auto => f.write_str("auto"),
            TimeFormat::Format(s) => f.write_str(s),
            TimeFormat::EpochSeconds => f.write_str("epoch-s"),
            TimeFormat::EpochMillis => f.write_str("epoch-ms"),
        }
    }
}

impl FromStr for TimeFormat {
    type Err = Error;

    /// `auto`, `iso`, `epoch-s` (or `epoch`), `epoch-ms`, or a format with at
    /// least one `%` field.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "" | "auto" | "iso" => Ok(TimeFormat::Auto),
            "epoch" | "epoch-s" | "s" => Ok(TimeFormat::EpochSeconds),
            "epoch-ms" | "ms" => Ok(TimeFormat::EpochMillis),
            f if f.contains('%') => Ok(TimeFormat::Format(f.to_string())),
            other => Err(Error::config(
                Setting::TimeFormat,
                format!(
                    "`{other}` is not a time format: give auto, epoch-s, epoch-ms or a strftime \
                     format such as `%d.%m.%Y %H:%M`"
                ),
            )),
        }
    }
}

/// Parses the time fields of one file into UTC microseconds.
#[derive(Debug, Clone)]
pub(crate) struct TimeParser {
    format: TimeFormat,
    zone: Zone,
    /// The last local hour converted and its offset, so that a file of naive
    /// local times asks the zone once an hour, not once a row.
    cache: Option<(i64, i64)>,
}

const US: i64 = 1_000_000;
const HOUR: i64 = 3600 * US;

impl TimeParser {
    pub(crate) fn new(format: TimeFormat, zone: Zone) -> Self {
        TimeParser {
            format,
            zone,
            cache: None,
        }
    }

    /// The instant of `field`, or `None` if it is not a time of the format.
    pub(crate) fn parse(&mut self, field: &[u8]) -> Option<i64> {
        let field = trim(field);
        match &self.format {
            TimeFormat::Auto => {
                if let Some((local_us, offset)) = parse_iso(field) {
                    return Some(match offset {
                        Some(off) => local_us - off * US,
                        None => self.naive_micros(local_us)?,
                    });
                }
                self.epoch(parse_number(field)?)
            }
            TimeFormat::EpochSeconds | TimeFormat::EpochMillis => self.epoch(parse_number(field)?),
            TimeFormat::Format(fmt) => {
                let s = std::str::from_utf8(field).ok()?;
                if let Ok(t) = DateTime::parse_from_str(s, fmt) {
                    return Some(t.timestamp_micros());
                }
                let naive = NaiveDateTime::parse_from_str(s, fmt).ok().or_else(|| {
                    NaiveDate::parse_from_str(s, fmt)
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })?;
                self.naive_micros(naive.and_utc().timestamp_micros())
            }
        }
    }

    /// An epoch number as microseconds: seconds or milliseconds as the
    /// format says; for [`TimeFormat::Auto`] by magnitude (below 10^11
    /// seconds, below 10^14 milliseconds, below 10^17 microseconds, else
    /// nanoseconds: each covers the years 1973 to 5138). `None` for a
    /// user format, which numbers do not follow.
    pub(crate) fn epoch(&self, x: f64) -> Option<i64> {
        if !x.is_finite() {
            return None;
        }
        let us = match self.format {
            TimeFormat::EpochSeconds => x * 1e6,
            TimeFormat::EpochMillis => x * 1e3,
            TimeFormat::Format(_) => return None,
            TimeFormat::Auto => match x.abs() {
                a if a < 1e11 => x * 1e6,
                a if a < 1e14 => x * 1e3,
                a if a < 1e17 => x,
                _ => x / 1e3,
            },
        };
        (us.abs() < 9.2e18).then(|| us.round() as i64)
    }

    /// A naive local time (as microseconds of the wall clock) to UTC.
    pub(crate) fn naive_micros(&mut self, local_us: i64) -> Option<i64> {
        if self.zone.is_utc() {
            return Some(local_us);
        }
        let hour = local_us.div_euclid(HOUR);
        if let Some((h, off)) = self.cache {
            if h == hour {
                return Some(local_us - off);
            }
        }
        let off = self.offset_at(local_us)?;
        // An hour whose first and last microsecond share this offset shares
        // it throughout; an hour with a DST change is converted row by row.
        let first = self.offset_at(hour * HOUR)?;
        let last = self.offset_at((hour + 1) * HOUR - 1)?;
        self.cache = (first == off && last == off).then_some((hour, off));
        Some(local_us - off)
    }

    /// Wall clock minus UTC at the local time `local_us`, by the zone's rule.
    fn offset_at(&self, local_us: i64) -> Option<i64> {
        let local = DateTime::<Utc>::from_timestamp_micros(local_us)?.naive_utc();
        Some(local_us - self.zone.instant_of_sample(local).timestamp_micros())
    }
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() || *first == b'"' {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() || *last == b'"' {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn parse_number(b: &[u8]) -> Option<f64> {
    let x: f64 = fast_float2::parse(b).ok()?;
    x.is_finite().then_some(x)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    let mut v = 0i64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.f+]][Z|±HH[:]MM|±HH]` (or a date alone): the
/// wall-clock time as microseconds since the epoch, and the offset in
/// seconds east of UTC when the text has one.
pub(crate) fn parse_iso(b: &[u8]) -> Option<(i64, Option<i64>)> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let days = days_from_civil(y, mo, d)?;
    let mut us = days * 86_400 * US;
    if b.len() == 10 {
        return Some((us, None));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (h, mi) = (digits(b, 11, 2)?, digits(b, 14, 2)?);
    if h > 24 || mi > 59 {
        return None;
    }
    let mut i = 16;
    let mut s = 0;
    if b.get(i) == Some(&b':') {
        s = digits(b, i + 1, 2)?;
        if s > 60 {
            return None;
        }
        i += 3;
        if matches!(b.get(i), Some(b'.') | Some(b',')) {
            i += 1;
            let start = i;
            let mut frac = 0i64;
            let mut scale = US;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                if scale > 1 {
                    scale /= 10;
                    frac += (c - b'0') as i64 * scale;
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            us += frac;
        }
    }
    us += (h * 3600 + mi * 60 + s) * US;
    let rest = &b[i..];
    let offset = match rest {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let (oh, om) = match tail.len() {
                2 => (digits(tail, 0, 2)?, 0),
                4 => (digits(tail, 0, 2)?, digits(tail, 2, 2)?),
                5 if tail[2] == b':' => (digits(tail, 0, 2)?, digits(tail, 3, 2)?),
                _ => return None,
            };
            Some(sign * (oh * 3600 + om * 60))
        }
        _ => return None,
    };
    Some((us, offset))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), or `None` for an impossible date.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn iso_forms() {
        let mut p = TimeParser::new(TimeFormat::Auto, Zone::UTC);
        assert_eq!(
            p.parse(b"2014-01-01T01:00:00+01:00"),
            Some(utc("2014-01-01T00:00:00Z"))
        );
        assert_eq!(
            p.parse(b"2014-01-01 01:00:00+0100"),
            Some(utc("2014-01-01T00:00:00Z"))
        );
        assert_eq!(
            p.parse(b"2014-01-01 01:00:00-03"),
            Some(utc("2014-01-01T04:00:00Z"))
        );
        assert_eq!(
            p.parse(b"2014-01-01T00:00:00Z"),
            Some(utc("2014-01-01T00:00:00Z"))
        );
        assert_eq!(
            p.parse(b"\"2014-01-01 00:10\""),
            Some(utc("2014-01-01T00:10:00Z"))
        );
        assert_eq!(
            p.parse(b"2014-01-01 00:10:05.25"),
            Some(utc("2014-01-01T00:10:05.25Z"))
        );
        assert_eq!(p.parse(b"2024-02-29"), Some(utc("2024-02-29T00:00:00Z")));
        assert_eq!(p.parse(b"1700000000"), Some(1_700_000_000 * US));
        assert_eq!(p.parse(b"1700000000123"), Some(1_700_000_000_123_000));
        for bad in [
            &b"2023-02-29 00:00"[..],
            b"2014-13-01",
            b"2014-01-01 25:00",
            b"x",
            b"",
            b"2014-01-01 00:00+1",
        ] {
            assert_eq!(p.parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn civil_days_match_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (1969, 12, 31),
            (2038, 1, 19),
            (1600, 3, 1),
        ] {
            let want = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                .num_days();
            assert_eq!(days_from_civil(y as i64, m as i64, d as i64), Some(want));
        }
    }

    #[test]
    fn naive_local_times_follow_the_zone_rule() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        let mut p = TimeParser::new(TimeFormat::Auto, berlin);
        // Winter and summer.
        assert_eq!(
            p.parse(b"2024-01-15 12:00"),
            Some(utc("2024-01-15T11:00:00Z"))
        );
        assert_eq!(
            p.parse(b"2024-07-15 12:00"),
            Some(utc("2024-07-15T10:00:00Z"))
        );
        // Every minute of the autumn change day agrees with the zone's own rule.
        let mut q = TimeParser::new(TimeFormat::Auto, berlin);
        for (y, mo, d) in [(2025, 10, 25), (2025, 3, 29)] {
            for m in 0..(26 * 60) {
                let local = NaiveDate::from_ymd_opt(y, mo, d)
                    .unwrap()
                    .and_hms_opt(23, 0, 0)
                    .unwrap()
                    + chrono::TimeDelta::minutes(m);
                let text = local.format("%Y-%m-%d %H:%M:%S").to_string();
                assert_eq!(
                    q.parse(text.as_bytes()),
                    Some(berlin.instant_of_sample(local).timestamp_micros()),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn user_formats_and_epochs() {
        let mut p = TimeParser::new("%d.%m.%Y %H:%M".parse().unwrap(), Zone::UTC);
        assert_eq!(
            p.parse(b"05.03.2024 14:10"),
            Some(utc("2024-03-05T14:10:00Z"))
        );
        assert_eq!(p.parse(b"2024-03-05 14:10"), None);
        let mut p = TimeParser::new("%d/%m/%Y %H:%M %z".parse().unwrap(), Zone::UTC);
        assert_eq!(
            p.parse(b"05/03/2024 14:10 +0100"),
            Some(utc("2024-03-05T13:10:00Z"))
        );
        let mut p = TimeParser::new(TimeFormat::EpochMillis, Zone::UTC);
        assert_eq!(p.parse(b"1000"), Some(1_000_000));
        let mut p = TimeParser::new(TimeFormat::EpochSeconds, Zone::UTC);
        assert_eq!(p.parse(b"1.5"), Some(1_500_000));
        assert!("nonsense".parse::<TimeFormat>().is_err());
    }
}
