//! Parsing and validating what a request carries: query parameters, time
//! ranges, formats, JSON bodies. Every failure is a 400 naming the parameter.

use std::collections::VecDeque;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::Value;

use super::encode::Format;
use super::error::{ApiError, ApiResult};
use crate::{Day, TimeRange, Zone};

/// Query parameters, in order; repeated keys kept.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string, refusing parameters not in `allowed`.
    pub fn parse(raw: Option<&str>, allowed: &[&'static str]) -> ApiResult<Params> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, _) in &pairs {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("unknown parameter `{k}` (known: {})", allowed.join(", ")),
                ));
            }
        }
        Ok(Params(pairs))
    }

    /// The value of a parameter that may be given once.
    pub fn one(&self, key: &'static str) -> ApiResult<Option<&str>> {
        let mut vals = self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        let first = vals.next();
        if vals.next().is_some() {
            return Err(ApiError::param(key, "given more than once"));
        }
        Ok(first)
    }

    /// A day (`YYYY-MM-DD`) that may be given once.
    pub fn day(&self, key: &'static str) -> ApiResult<Option<Day>> {
        self.one(key)?
            .map(|s| s.parse::<Day>().map_err(|e| ApiError::param(key, e)))
            .transpose()
    }

    /// Every value of a repeatable, comma-separated list parameter.
    pub fn list(&self, key: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            if !out.iter().any(|o| o == v) {
                out.push(v.to_string());
            }
        }
        out
    }
}

/// The `timezone` parameter (IANA name; UTC when absent): the zone in which
/// dates and naive timestamps of the request are read.
pub(crate) fn parse_zone(p: &Params) -> ApiResult<Zone> {
    match p.one("timezone")? {
        Some(z) => z.parse().map_err(|e| ApiError::param("timezone", e)),
        None => Ok(Zone::UTC),
    }
}

/// An RFC 3339 timestamp, a naive timestamp (local time of `zone`) or a date
/// (local midnight of `zone`).
pub(crate) fn parse_time_in(key: &'static str, s: &str, zone: Zone) -> ApiResult<DateTime<Utc>> {
    if zone.is_utc() {
        return parse_time(key, s);
    }
    let t = s.trim();
    if DateTime::parse_from_rfc3339(t).is_ok() {
        return parse_time(key, s);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(zone.instant_of(n));
        }
    }
    if let Some(d) = parse_date(t) {
        return Ok(zone.day_range(d).start);
    }
    parse_time(key, s)
}

/// An RFC 3339 timestamp, a naive timestamp (taken as UTC) or a date (midnight UTC).
pub(crate) fn parse_time(key: &'static str, s: &str) -> ApiResult<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ApiError::param(key, "empty"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // An unencoded `+` in a query string arrives as a space: `…T00:00:00 01:00`.
    if let Some(i) = s.rfind(' ') {
        if i > 10 {
            let fixed = format!("{}+{}", &s[..i], &s[i + 1..]);
            if let Ok(t) = DateTime::parse_from_rfc3339(&fixed) {
                return Ok(t.with_timezone(&Utc));
            }
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Some(d) = parse_date(s) {
        return Ok(d.start());
    }
    Err(ApiError::param(
        key,
        format!("cannot parse `{s}`: give an RFC 3339 timestamp (2024-01-01T00:00:00Z) or a date (2024-01-01)"),
    ))
}

fn parse_date(s: &str) -> Option<Day> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .map(Day::new)
}

/// How a route names its range parameters.
pub(crate) struct RangeKeys {
    pub start: &'static str,
    pub end: &'static str,
    /// A date as the end means the whole day is included (the reference
    /// system's `end_date`); otherwise the end is exclusive.
    pub end_date_inclusive: bool,
}

/// windcore's own: `start`, `end`, half-open.
pub(crate) const OUR_RANGE: RangeKeys = RangeKeys {
    start: "start",
    end: "end",
    end_date_inclusive: false,
};

/// The reference system's: `start_date`, `end_date` (a date includes that day).
pub(crate) const SEED_RANGE: RangeKeys = RangeKeys {
    start: "start_date",
    end: "end_date",
    end_date_inclusive: true,
};

/// A validated request for the rows of a time range, whatever route it came
/// through: `/data`, `/signals` and their `/api` aliases differ only in the
/// names of their parameters.
pub(crate) struct RangeQuery {
    pub range: TimeRange,
    /// The listed names (variables or signals); empty: all of them.
    pub names: Vec<String>,
    /// The name of the parameter that lists them (for errors).
    pub names_key: &'static str,
    /// Empty: every asset.
    pub assets: Vec<String>,
    pub format: Format,
}

impl RangeQuery {
    /// Parses a query string that takes the range parameters `keys`, the
    /// list `names_key`, and `asset`, `format`, `timezone`; any other
    /// parameter is refused.
    pub fn parse(
        raw: Option<&str>,
        headers: &HeaderMap,
        keys: &RangeKeys,
        names_key: &'static str,
        max: TimeDelta,
    ) -> ApiResult<RangeQuery> {
        let p = Params::parse(
            raw,
            &[
                keys.start, keys.end, names_key, "asset", "format", "timezone",
            ],
        )?;
        Ok(RangeQuery {
            range: parse_range(&p, keys, max)?,
            format: parse_format(&p, headers)?,
            names: p.list(names_key),
            names_key,
            assets: p.list("asset"),
        })
    }
}

/// `[start, end)` from the query, checked against the maximum range. Dates
/// and naive timestamps are read in the `timezone` parameter's zone (UTC
/// when absent): a date is its local midnight.
pub(crate) fn parse_range(p: &Params, keys: &RangeKeys, max: TimeDelta) -> ApiResult<TimeRange> {
    let zone = parse_zone(p)?;
    let start = parse_time_in(
        keys.start,
        p.one(keys.start)?
            .ok_or_else(|| ApiError::param(keys.start, "missing"))?,
        zone,
    )?;
    let end_text = p
        .one(keys.end)?
        .ok_or_else(|| ApiError::param(keys.end, "missing"))?;
    let end = match parse_date(end_text).filter(|_| keys.end_date_inclusive) {
        Some(d) => zone.day_range(d).end,
        None => parse_time_in(keys.end, end_text, zone)?,
    };
    if start >= end {
        return Err(ApiError::param(
            keys.end,
            format!(
                "must be after {} ({} >= {})",
                keys.start,
                end.to_rfc3339(),
                start.to_rfc3339()
            ),
        ));
    }
    if end - start > max {
        return Err(ApiError::param(
            keys.end,
            format!(
                "the range is longer than the maximum of {} days; split it into several requests",
                max.num_days()
            ),
        ));
    }
    TimeRange::new(start, end).map_err(|e| ApiError::param(keys.end, e))
}

/// The response format from `format=` or the `Accept` header (JSON by default).
pub(crate) fn parse_format(p: &Params, headers: &HeaderMap) -> ApiResult<Format> {
    Ok(match p.one("format")? {
        Some(s) => Format::parse(s).ok_or_else(|| {
            ApiError::param("format", format!("unknown format `{s}` (json, csv, arrow)"))
        })?,
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .and_then(Format::from_accept)
            .unwrap_or(Format::Json),
    })
}

/// Splits a range at UTC midnights.
pub(crate) fn day_chunks(r: TimeRange) -> VecDeque<TimeRange> {
    let mut out = VecDeque::new();
    let mut t = r.start;
    while t < r.end {
        let next = Day::containing(t).end().min(r.end);
        out.push_back(TimeRange {
            start: t,
            end: next,
        });
        t = next;
    }
    out
}

/// A JSON object body (an empty body is an empty object), refusing unknown fields.
pub(crate) fn parse_body(
    body: &Bytes,
    allowed: &[&str],
) -> ApiResult<serde_json::Map<String, Value>> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(serde_json::Map::new());
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::body(format!("the body is not JSON: {e}")))?;
    let Value::Object(m) = v else {
        return Err(ApiError::body("the body must be a JSON object"));
    };
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::body(format!(
            "unknown field `{k}` (known: {})",
            allowed.join(", ")
        )));
    }
    Ok(m)
}

pub(crate) fn body_str<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &'static str,
) -> ApiResult<Option<&'a str>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::param(key, "must be a string")),
    }
}

pub(crate) fn body_day(
    m: &serde_json::Map<String, Value>,
    key: &'static str,
) -> ApiResult<Option<Day>> {
    body_str(m, key)?
        .map(|s| s.parse::<Day>().map_err(|e| ApiError::param(key, e)))
        .transpose()
}

/// A list of strings given as a JSON array or a comma-separated string.
pub(crate) fn body_list(
    m: &serde_json::Map<String, Value>,
    key: &'static str,
) -> ApiResult<Option<Vec<String>>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            s.split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        )),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| ApiError::param(key, "must be strings"))
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(ApiError::param(key, "a list or a comma-separated string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        let t = parse_time("start", "2024-01-02").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let t = parse_time("start", "2024-01-02T01:00:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let t = parse_time("start", "2024-01-02T01:00:00 01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let t = parse_time("start", "2024-01-02T00:30:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-02T00:30:00+00:00");
        assert!(parse_time("start", "yesterday").is_err());
    }

    #[test]
    fn splits_ranges_at_midnight() {
        let r = TimeRange::new(
            parse_time("start", "2024-01-01T12:00:00Z").unwrap(),
            parse_time("end", "2024-01-03T06:00:00Z").unwrap(),
        )
        .unwrap();
        let c = day_chunks(r);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].end.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        assert_eq!(c[2].start.to_rfc3339(), "2024-01-03T00:00:00+00:00");
        assert_eq!(c[2].end, r.end);
    }

    #[test]
    fn seed_end_date_includes_the_day() {
        let max = TimeDelta::days(31);
        let p = Params::parse(
            Some("start_date=2024-01-01&end_date=2024-01-02"),
            &["start_date", "end_date"],
        )
        .unwrap();
        let r = parse_range(&p, &SEED_RANGE, max).unwrap();
        assert_eq!(r.end.to_rfc3339(), "2024-01-03T00:00:00+00:00");
        let p = Params::parse(
            Some("start_date=2024-01-01&end_date=2024-01-02T06:00:00Z"),
            &["start_date", "end_date"],
        )
        .unwrap();
        let r = parse_range(&p, &SEED_RANGE, max).unwrap();
        assert_eq!(r.end.to_rfc3339(), "2024-01-02T06:00:00+00:00");
        // Ours: a date is midnight, exclusive.
        let p = Params::parse(Some("start=2024-01-01&end=2024-01-02"), &["start", "end"]).unwrap();
        let r = parse_range(&p, &OUR_RANGE, max).unwrap();
        assert_eq!(r.end.to_rfc3339(), "2024-01-02T00:00:00+00:00");
        let p = Params::parse(
            Some("start_date=2024-01-02&end_date=2024-01-01"),
            &["start_date", "end_date"],
        )
        .unwrap();
        let e = parse_range(&p, &SEED_RANGE, max).unwrap_err();
        assert_eq!(e.parameter, Some("end_date"));
    }

    #[test]
    fn unknown_parameters_are_named_in_the_detail() {
        let e = Params::parse(Some("colour=red"), &["start"]).err().unwrap();
        assert_eq!(e.parameter, None);
        assert!(
            e.detail.starts_with("unknown parameter `colour`"),
            "{}",
            e.detail
        );
    }
}
