//! `GET /availability`: time-based availability per asset and local day,
//! from the availability signals of the target's windows.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::meta::day_span;
use crate::server::app::App;
use crate::server::error::{json_response, ApiError, ApiResult};
use crate::server::params::{parse_zone, Params};
use crate::DayAvailability;

/// One (day, asset)'s or one asset's sums, as JSON.
fn sums_json(a: &DayAvailability) -> Value {
    json!({
        "availability": a.availability(),
        "available_seconds": a.available_seconds,
        "unavailable_seconds": a.unavailable_seconds,
        "excluded_seconds": a.excluded_seconds,
        "unknown_seconds": a.unknown_seconds,
        "windows": a.windows,
    })
}

/// `GET /availability?from&to&timezone`: per local day (UTC by default) and
/// asset, the sums of the windows' `available_seconds`,
/// `unavailable_seconds`, `excluded_seconds` and `unknown_seconds`, and
/// `availability = available / (available + unavailable)` of those sums
/// (`null` when both are 0); the same over the whole range per asset
/// (`total`). The days default as for `/coverage`.
pub(crate) async fn availability(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let p = Params::parse(q.as_deref(), &["from", "to", "timezone"])?;
    let zone = parse_zone(&p)?;
    let (from, to) = (p.day("from")?, p.day("to")?);
    let _permit = app.permit().await?;
    let target = app.target().await?;
    let present = app.source_days(zone).await?;
    let Some((first, last)) = day_span(from, to, &present)? else {
        return Ok(json_response(
            StatusCode::OK,
            json!({"first": null, "last": null, "timezone": zone.name(),
                   "assets": [], "days": [], "total": {}}),
        ));
    };
    let found = tokio::time::timeout(app.timeout, target.availability_per_day(first, last, zone))
        .await
        .map_err(|_| ApiError::unavailable("reading the target timed out"))?
        .map_err(ApiError::from_windcore)?;
    let assets: BTreeSet<&String> = found.values().flat_map(|m| m.keys()).collect();
    let mut days = Vec::new();
    let mut d = first;
    loop {
        let mut per_asset = serde_json::Map::new();
        if let Some(m) = found.get(&d) {
            for (asset, a) in m {
                per_asset.insert(asset.clone(), sums_json(a));
            }
        }
        days.push(json!({"day": d.to_string(), "assets": per_asset}));
        if d >= last {
            break;
        }
        d = match d.succ() {
            Some(x) => x,
            None => break,
        };
    }
    let total: serde_json::Map<String, Value> = DayAvailability::period_totals(&found)
        .into_iter()
        .map(|(asset, a)| (asset, sums_json(&a)))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({
            "first": first.to_string(),
            "last": last.to_string(),
            "timezone": zone.name(),
            "assets": assets,
            "days": days,
            "total": total,
        }),
    ))
}
