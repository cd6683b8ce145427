//! What the server and its stores hold: `GET /health`, `/info`, `/assets`,
//! `/coverage`, and the API's description (`/openapi.json`, `/docs`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use chrono::TimeDelta;
use serde_json::{json, Value};

use super::jobs::MAX_JOB_DAYS;
use crate::server::app::{probe_range, App};
use crate::server::docs;
use crate::server::error::{chain, json_response, ApiError, ApiResult};
use crate::server::params::{parse_zone, Params};
use crate::{format_every, parse_every, Day, Location};

pub(crate) async fn openapi() -> Response {
    json_response(StatusCode::OK, docs::openapi())
}

pub(crate) async fn docs() -> Html<String> {
    docs::html()
}

pub(crate) async fn health(State(app): State<Arc<App>>) -> Response {
    let source = match app.source().await {
        Ok(s) => match tokio::time::timeout(app.timeout, s.extract(probe_range(), &[])).await {
            Ok(Ok(_)) => json!({"status": "ok", "location": app.source_loc.to_string()}),
            Ok(Err(e)) => json!({"status": "unavailable", "detail": chain(&e)}),
            Err(_) => json!({"status": "unavailable", "detail": "timed out"}),
        },
        Err(e) => json!({"status": "unavailable", "detail": e.detail}),
    };
    let target = match &app.target_loc {
        None => json!({"status": "not configured"}),
        Some(Location::Postgres(url)) => match app.signal_names().await {
            Ok(_) => json!({"status": "ok", "location": crate::mask_password(url)}),
            Err(e) => json!({"status": "unavailable", "detail": e.detail}),
        },
        Some(other) => json!({"status": "ok", "location": other.to_string()}),
    };
    let ok = source["status"] == "ok" && target["status"] != "unavailable";
    json_response(
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({"status": if ok {"ok"} else {"unavailable"}, "source": source, "target": target}),
    )
}

/// What a client (the dashboard) needs to know about this server.
pub(crate) async fn info(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    Params::parse(q.as_deref(), &[])?;
    let variables = match app.source().await {
        Ok(s) => json!(s.variables()),
        Err(_) => Value::Null,
    };
    Ok(json_response(
        StatusCode::OK,
        json!({
            "name": "windcore",
            "version": env!("CARGO_PKG_VERSION"),
            "source": app.source_loc.to_string(),
            "target": app.target_loc.as_ref().map(|t| t.to_string()),
            "jobs_enabled": app.jobs_enabled(),
            "max_range_days": app.max_range.num_days(),
            "max_job_days": MAX_JOB_DAYS,
            "variables": variables,
            // The generated farm's state codes, so the dashboard names them.
            "states": crate::STATES,
        }),
    ))
}

/// Every asset of the source, on any day (empty for a single asset).
pub(crate) async fn source_assets(app: &App) -> ApiResult<Vec<String>> {
    app.source_assets().await
}

/// `GET /assets`: the assets (turbines) of the source, a JSON array.
pub(crate) async fn assets(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    Params::parse(q.as_deref(), &[])?;
    let _permit = app.permit().await?;
    Ok(json_response(
        StatusCode::OK,
        json!(source_assets(&app).await?),
    ))
}

/// The days `[first, last]` a calendar route (`/coverage`,
/// `/availability`) answers for: `from` and `to` when given; else the days
/// of the source (`present`, sorted), at most [`MAX_JOB_DAYS`] ending with
/// the newest; `None` when neither says. At most [`MAX_JOB_DAYS`] days.
pub(crate) fn day_span(
    from: Option<Day>,
    to: Option<Day>,
    present: &[Day],
) -> ApiResult<Option<(Day, Day)>> {
    let (first, last) = match (from, to, present.first(), present.last()) {
        (Some(f), Some(t), _, _) => (f, t),
        (Some(f), None, _, Some(l)) => (f, (*l).max(f)),
        (None, Some(t), Some(f), _) => ((*f).min(t), t),
        (None, None, Some(f), Some(l)) => {
            // At most a year, ending with the newest day.
            let earliest = Day::new(l.date() - chrono::Days::new(MAX_JOB_DAYS as u64 - 1));
            ((*f).max(earliest), *l)
        }
        _ => return Ok(None),
    };
    if first > last {
        return Err(ApiError::param("to", "must not be before `from`"));
    }
    let n = (last.date() - first.date()).num_days() + 1;
    if n > MAX_JOB_DAYS as i64 {
        return Err(ApiError::param(
            "to",
            format!("at most {MAX_JOB_DAYS} days at once"),
        ));
    }
    Ok(Some((first, last)))
}

/// `GET /coverage?from&to&timezone&every`: per local day (UTC by default),
/// whether the source has samples, how many windows the target holds per
/// asset, and how many a complete day has (138 or 150 ten-minute windows on
/// the days the clocks change).
pub(crate) async fn coverage(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let p = Params::parse(q.as_deref(), &["from", "to", "timezone", "every"])?;
    let zone = parse_zone(&p)?;
    let every = match p.one("every")? {
        Some(s) => parse_every(s).map_err(|e| ApiError::param("every", e))?,
        None => TimeDelta::minutes(10),
    };
    if 86_400 % every.num_seconds().max(1) != 0 {
        return Err(ApiError::param(
            "every",
            format!("{} does not divide a day", format_every(every)),
        ));
    }
    // A complete day of 24 hours.
    let expected = (86_400 / every.num_seconds().max(1)) as u32;
    let (from, to) = (p.day("from")?, p.day("to")?);
    let _permit = app.permit().await?;
    let present = app.source_days(zone).await?;
    let Some((first, last)) = day_span(from, to, &present)? else {
        return Ok(json_response(
            StatusCode::OK,
            json!({"first": null, "last": null, "timezone": zone.name(),
                   "every": format_every(every), "expected_windows": expected,
                   "assets": [], "days": []}),
        ));
    };
    let n = (last.date() - first.date()).num_days() + 1;
    let windows: BTreeMap<Day, BTreeMap<String, u32>> = match &app.target_loc {
        None => BTreeMap::new(),
        Some(_) => {
            let target = app.target().await?;
            tokio::time::timeout(app.timeout, target.windows_per_day(first, last, zone))
                .await
                .map_err(|_| ApiError::unavailable("reading the target timed out"))?
                .map_err(ApiError::from_windcore)?
        }
    };
    let mut assets: BTreeSet<String> = windows.values().flat_map(|m| m.keys().cloned()).collect();
    if assets.is_empty() {
        assets.extend(source_assets(&app).await.unwrap_or_default());
    }
    let mut days = Vec::with_capacity(n as usize);
    let mut d = first;
    loop {
        let w = windows.get(&d);
        days.push(json!({
            "day": d.to_string(),
            "source": present.binary_search(&d).is_ok(),
            "expected_windows": zone.windows_in_day(d, every),
            "windows": w.map(|m| json!(m)).unwrap_or_else(|| json!({})),
        }));
        if d >= last {
            break;
        }
        d = match d.succ() {
            Some(x) => x,
            None => break,
        };
    }
    Ok(json_response(
        StatusCode::OK,
        json!({
            "first": first.to_string(),
            "last": last.to_string(),
            "timezone": zone.name(),
            "every": format_every(every),
            "expected_windows": expected,
            "assets": assets,
            "days": days,
        }),
    ))
}
