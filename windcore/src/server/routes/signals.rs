//! `GET /signals`: the 10-minute statistics of a time range (long form),
//! streamed a UTC day at a time; `GET /signals/names`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::server::app::App;
use crate::server::encode::{Kind, Layout};
use crate::server::error::{json_response, ApiError, ApiResult};
use crate::server::params::{Params, RangeQuery, OUR_RANGE};
use crate::server::stream::{ReadFuture, Reader, Streamer};
use crate::server::target::{filter_assets, filter_text, StatsTarget};
use crate::{Location, Stat, TimeRange, ASSET, SIGNAL, VALUE};

pub(crate) async fn signals(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let query = RangeQuery::parse(q.as_deref(), &headers, &OUR_RANGE, "signal", app.max_range)?;
    stream_signals(&app, query).await
}

pub(crate) async fn signal_names(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    Params::parse(q.as_deref(), &[])?;
    let _permit = app.permit().await?;
    let names = app.signal_names().await?;
    Ok(json_response(StatusCode::OK, json!(names)))
}

/// Answers a [`RangeQuery`] for statistics (its names are signals):
/// `timestamp`, `asset` (for a farm), `signal`, `value`.
pub(crate) async fn stream_signals(app: &Arc<App>, q: RangeQuery) -> ApiResult<Response> {
    let permit = app.permit().await?;
    let target = app.target().await?;
    check_signal_names(app, &target, &q.names, q.names_key).await?;
    let with_assets = !q.assets.is_empty()
        || target
            .has_assets()
            .map_err(|e| ApiError::from_windcore_as(e, q.names_key))?;
    let wanted = Arc::new(q.names);
    let assets = Arc::new(q.assets);
    let read: Reader = Arc::new(move |r: TimeRange| -> ReadFuture {
        let target = target.clone();
        let wanted = wanted.clone();
        let assets = assets.clone();
        Box::pin(async move {
            let df = target.read(r, with_assets).await?;
            let df = filter_text(df, SIGNAL, &wanted)?;
            filter_assets(df, &assets)
        })
    });
    let mut columns = Vec::with_capacity(3);
    if with_assets {
        columns.push((ASSET.to_string(), Kind::Str));
    }
    columns.push((SIGNAL.to_string(), Kind::Str));
    columns.push((VALUE.to_string(), Kind::F64));
    Streamer::new(
        read,
        Layout { columns },
        q.format,
        q.range,
        app.timeout,
        permit,
    )
    .respond()
    .await
}

/// Refuses signal names the target does not hold (400 naming `key`).
///
/// A database is asked for its names. The embedded store would have to
/// open every file for that, so a name that the ETL makes from one of the
/// source's variables (`<variable>_<stat>`) is accepted without looking.
async fn check_signal_names(
    app: &App,
    target: &StatsTarget,
    wanted: &[String],
    key: &'static str,
) -> ApiResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    if matches!(target, StatsTarget::Local(_)) && matches!(app.source_loc, Location::Local(_)) {
        if let Ok(source) = app.source().await {
            let vars = source.variables();
            let producible = |name: &str| {
                Stat::EVERY.iter().any(|s| {
                    name.strip_suffix(s.name())
                        .and_then(|p| p.strip_suffix('_'))
                        .is_some_and(|v| vars.iter().any(|x| x == v))
                })
            };
            if wanted.iter().all(|w| producible(w)) {
                return Ok(());
            }
        }
    }
    let known = app.signal_names().await?;
    if let Some(bad) = wanted.iter().find(|w| !known.contains(w)) {
        return Err(ApiError::param(
            key,
            format!("unknown signal `{bad}` (known: {})", known.join(", ")),
        ));
    }
    Ok(())
}
