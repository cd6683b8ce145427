//! The routes. Each handler parses and validates its request (400 naming
//! the parameter), then calls the library and streams or returns the answer.
//!
//! * [`data`]: `GET /data`, the raw samples.
//! * [`signals`]: `GET /signals`, `GET /signals/names`, the statistics.
//! * [`jobs`]: `POST /etl/run`, `POST /generate` (bearer token).
//! * [`meta`]: `GET /health`, `/info`, `/assets`, `/coverage`, the docs.
//! * [`availability`]: `GET /availability`, per asset and day.
//! * [`seed`]: the reference system's routes under `/api/…`, aliases of the above.

pub(crate) mod availability;
pub(crate) mod data;
pub(crate) mod jobs;
pub(crate) mod meta;
pub(crate) mod seed;
pub(crate) mod signals;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use super::app::App;
use super::dashboard;
use super::error::ApiError;

/// Every route of the server, with its state.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/data", get(data::data))
        .route("/signals", get(signals::signals))
        .route("/signals/names", get(signals::signal_names))
        .route("/etl/run", post(jobs::etl_run))
        .route("/generate", post(jobs::generate))
        .route("/health", get(meta::health))
        .route("/info", get(meta::info))
        .route("/assets", get(meta::assets))
        .route("/coverage", get(meta::coverage))
        .route("/availability", get(availability::availability))
        .route("/api/data", get(seed::api_data))
        .route("/api/signals", get(seed::api_signals))
        .route("/api/run-etl", post(seed::api_run_etl))
        .route("/api/generate-data", post(seed::api_generate_data))
        .route("/openapi.json", get(meta::openapi))
        .route("/docs", get(meta::docs))
        .route("/", get(dashboard::index))
        .route("/static/{file}", get(dashboard::asset))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route; see /docs",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method; see /docs",
            )
        })
        .with_state(app)
}
