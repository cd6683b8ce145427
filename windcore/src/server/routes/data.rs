//! `GET /data`: the raw samples of a time range, streamed a UTC day at a time.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::server::app::App;
use crate::server::encode::{Kind, Layout};
use crate::server::error::{ApiError, ApiResult};
use crate::server::params::{RangeQuery, OUR_RANGE};
use crate::server::stream::{ReadFuture, Reader, Streamer};
use crate::server::target::{filter_assets, with_asset_column};
use crate::{TimeRange, ASSET};

pub(crate) async fn data(
    State(app): State<Arc<App>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let query = RangeQuery::parse(
        q.as_deref(),
        &headers,
        &OUR_RANGE,
        "variables",
        app.max_range,
    )?;
    stream_data(&app, query).await
}

/// Answers a [`RangeQuery`] for samples (its names are variables):
/// `timestamp`, `asset` (for a farm), the variables.
pub(crate) async fn stream_data(app: &Arc<App>, q: RangeQuery) -> ApiResult<Response> {
    let permit = app.permit().await?;
    let source = app.source().await?;
    let known = source.variables();
    let mut vars: Vec<String> = Vec::new();
    for v in &q.names {
        if !known.contains(v) {
            return Err(ApiError::param(
                q.names_key,
                format!("unknown variable `{v}` (known: {})", known.join(", ")),
            ));
        }
        vars.push(v.clone());
    }
    if vars.is_empty() {
        vars = known;
    }
    let has_assets = app.source_has_assets(&source).await?;
    if !q.assets.is_empty() && !has_assets {
        return Err(ApiError::param(
            "asset",
            "this source holds one asset (it has no asset column)",
        ));
    }
    let read_vars = vars.clone();
    let assets = Arc::new(q.assets);
    let read: Reader = Arc::new(move |r: TimeRange| -> ReadFuture {
        let source = source.clone();
        let vars = read_vars.clone();
        let assets = assets.clone();
        Box::pin(async move {
            let df = source.extract(r, &vars).await?;
            let df = with_asset_column(df, has_assets)?;
            filter_assets(df, &assets)
        })
    });
    let mut columns: Vec<(String, Kind)> = Vec::with_capacity(vars.len() + 1);
    if has_assets {
        columns.push((ASSET.to_string(), Kind::Str));
    }
    columns.extend(vars.into_iter().map(|v| (v, Kind::F64)));
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
