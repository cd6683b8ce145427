//! The reference system's routes, kept so that its clients work unchanged.
//! Each one parses its own parameter names and then answers exactly as the
//! windcore route it aliases (same rows, same errors, same token rule):
//!
//! | reference route | parameters | windcore route |
//! |---|---|---|
//! | `GET /api/data` | `start_date`, `end_date` (a date includes that day), `columns` | `GET /data` |
//! | `GET /api/signals` | `start_date`, `end_date`, `signal_type` | `GET /signals` |
//! | `POST /api/run-etl` | `{"days": [...]}` or `{"date": ...}` | `POST /etl/run` |
//! | `POST /api/generate-data` | `{"days": N, "frequency": "1min"}` | `POST /generate` |

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::data::stream_data;
use super::jobs::{
    parse_body_stats, parse_generate, run_etl, run_generate, EtlRequest, MAX_JOB_DAYS,
};
use super::signals::stream_signals;
use crate::server::app::App;
use crate::server::error::{ApiError, ApiResult};
use crate::server::params::{body_list, body_str, parse_body, RangeQuery, SEED_RANGE};
use crate::{Day, RunDays};

/// `GET /api/data?start_date&end_date&columns`: `GET /data`.
pub(crate) async fn api_data(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let query = RangeQuery::parse(
        q.as_deref(),
        &headers,
        &SEED_RANGE,
        "columns",
        app.max_range,
    )?;
    stream_data(&app, query).await
}

/// `GET /api/signals?start_date&end_date&signal_type`: `GET /signals`.
pub(crate) async fn api_signals(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let query = RangeQuery::parse(
        q.as_deref(),
        &headers,
        &SEED_RANGE,
        "signal_type",
        app.max_range,
    )?;
    stream_signals(&app, query).await
}

/// `POST /api/run-etl` with `{"days": ["2024-01-01", ...]}` or `{"date": "2024-01-01"}`.
pub(crate) async fn api_run_etl(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    app.authorize(&headers)?;
    let m = parse_body(
        &body,
        &["days", "date", "variables", "angles", "stats", "timezone"],
    )?;
    // `date` is read as every front door reads it; `days` is this route's own.
    let date = match RunDays::from_args(body_str(&m, "date")?, None, None)
        .map_err(|e| ApiError::param(e.arg.name(), e))?
    {
        RunDays::One(d) => Some(d),
        _ => None,
    };
    let mut days: Vec<Day> = match (m.get("days").filter(|v| !v.is_null()), date) {
        (Some(_), Some(_)) => {
            return Err(ApiError::param("date", "give `days` or `date`, not both"))
        }
        (None, Some(d)) => vec![d],
        (Some(Value::String(s)), None) => {
            vec![s.parse::<Day>().map_err(|e| ApiError::param("days", e))?]
        }
        (Some(Value::Array(a)), None) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| ApiError::param("days", "a list of dates (YYYY-MM-DD)"))?
                    .parse::<Day>()
                    .map_err(|e| ApiError::param("days", e))
            })
            .collect::<ApiResult<_>>()?,
        (Some(_), None) => return Err(ApiError::param("days", "a list of dates (YYYY-MM-DD)")),
        (None, None) => {
            return Err(ApiError::param(
                "days",
                "give `days` (a list of dates, YYYY-MM-DD) or `date`",
            ))
        }
    };
    days.sort();
    days.dedup();
    if days.is_empty() {
        return Err(ApiError::param("days", "the list is empty"));
    }
    if days.len() > MAX_JOB_DAYS as usize {
        return Err(ApiError::param(
            "days",
            format!("at most {MAX_JOB_DAYS} days per run"),
        ));
    }
    let req = EtlRequest {
        days,
        variables: body_list(&m, "variables")?,
        variables_key: "variables",
        angles: body_list(&m, "angles")?,
        stats: parse_body_stats(&m)?,
        zone: super::jobs::parse_body_zone(&m)?,
    };
    run_etl(&app, req).await
}

/// `POST /api/generate-data` with `{"days": N, "frequency": "1min"}`.
pub(crate) async fn api_generate_data(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    app.authorize(&headers)?;
    let m = parse_body(
        &body,
        &[
            "days",
            "frequency",
            "start",
            "seed",
            "missing_rate",
            "turbines",
        ],
    )?;
    if let Some(f) = body_str(&m, "frequency")? {
        if !f.trim().eq_ignore_ascii_case("1min") {
            return Err(ApiError::param(
                "frequency",
                format!("`{f}` is not supported: the demo data has one sample a minute (1min)"),
            ));
        }
    }
    let req = parse_generate(&m)?;
    run_generate(&app, req).await
}
