//! `POST /etl/run` and `POST /generate`: the jobs that change the stores.
//! Both need the bearer token.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::server::app::App;
use crate::server::error::{chain, json_response, ApiError, ApiResult};
use crate::server::params::{body_day, body_list, body_str, parse_body};
use crate::server::routes::meta::source_assets;
use crate::{
    demo, parse_stats, Day, DayOutcome, DayRange, Error, Generator, Location, RunConfig, RunDays,
    Setting, Stat,
};

/// The longest ETL or generate request, in days.
pub(crate) const MAX_JOB_DAYS: u32 = 366;

/// A validated ETL request, whatever route it came through.
pub(crate) struct EtlRequest {
    /// The days to run, in order, without repeats (at least one).
    pub days: Vec<Day>,
    /// `None`: the source's default variables.
    pub variables: Option<Vec<String>>,
    /// The body field that lists the variables (for errors).
    pub variables_key: &'static str,
    /// The variables that are angles in degrees (`None`: none).
    pub angles: Option<Vec<String>>,
    /// `None`: mean, min, max, std.
    pub stats: Option<Vec<Stat>>,
    /// The zone of the days (the body's `timezone`; UTC when absent).
    pub zone: crate::Zone,
}

pub(crate) async fn etl_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    app.authorize(&headers)?;
    let m = parse_body(
        &body,
        &[
            "date",
            "from",
            "to",
            "variables",
            "angles",
            "stats",
            "timezone",
        ],
    )?;
    let days = match RunDays::from_args(
        body_str(&m, "date")?,
        body_str(&m, "from")?,
        body_str(&m, "to")?,
    )
    .map_err(|e| ApiError::param(e.arg.name(), e))?
    {
        RunDays::One(d) => DayRange::single(d),
        RunDays::Range(r) => r,
        RunDays::AllInSource => {
            return Err(ApiError::param(
                "date",
                "give either `date` or both `from` and `to` (YYYY-MM-DD)",
            ))
        }
    };
    if days.len() > MAX_JOB_DAYS as usize {
        return Err(ApiError::param(
            "to",
            format!("at most {MAX_JOB_DAYS} days per run"),
        ));
    }
    let req = EtlRequest {
        days: days.iter().collect(),
        variables: body_list(&m, "variables")?,
        variables_key: "variables",
        angles: body_list(&m, "angles")?,
        stats: parse_body_stats(&m)?,
        zone: parse_body_zone(&m)?,
    };
    run_etl(&app, req).await
}

/// The body's `timezone` (IANA name), UTC when absent.
pub(crate) fn parse_body_zone(m: &Map<String, Value>) -> ApiResult<crate::Zone> {
    match body_str(m, "timezone")? {
        Some(z) => z.parse().map_err(|e| ApiError::param("timezone", e)),
        None => Ok(crate::Zone::UTC),
    }
}

pub(crate) fn parse_body_stats(m: &Map<String, Value>) -> ApiResult<Option<Vec<Stat>>> {
    body_str(m, "stats")?
        .map(|s| parse_stats(s).map_err(|e| ApiError::param("stats", e)))
        .transpose()
}

/// Runs the ETL for the request's days: a [`RunConfig`] of the server's
/// open source and target, validated and prepared by the library exactly as
/// `windcore-cli run` is (variables, angles, statistics, zone; on a demo
/// store without channels named, the demo run's settings), then run over
/// the request's days. Answers with its summary (500 when a day failed).
pub(crate) async fn run_etl(app: &Arc<App>, req: EtlRequest) -> ApiResult<Response> {
    let Some(first) = req.days.first().copied() else {
        return Err(ApiError::param("days", "no day to run"));
    };
    let target = app.target().await?;
    let source = app.source().await?;
    let mut config = RunConfig::builder_for(source, target.as_load())
        .days(RunDays::One(first))
        .timezone(req.zone);
    if let Some(v) = &req.variables {
        if v.is_empty() {
            return Err(ApiError::param(req.variables_key, "the list is empty"));
        }
        config = config.variables(v.clone());
    }
    if let Some(a) = &req.angles {
        config = config.angles(a.clone());
    }
    if let Some(s) = &req.stats {
        config = config.stats(s.clone());
    }
    if app.demo_runs {
        config = demo::configure_for(config, &app.source_loc, &app.layout)
            .await
            .map_err(|e| ApiError::from_windcore_as(e, req.variables_key))?;
    }
    let config = config
        .build()
        .map_err(|e| ApiError::from_windcore_as(e, req.variables_key))?;
    let _permit = app.permit().await?;
    let pipeline = config
        .prepare()
        .await
        .map_err(|e| ApiError::from_windcore_as(e, req.variables_key))?
        .pipeline;
    let summary = pipeline.run(req.days.iter().copied(), |_| {}).await;
    let failed: Vec<Value> = summary
        .days
        .iter()
        .filter_map(|r| match &r.outcome {
            DayOutcome::Failed(e) => Some(json!({"day": r.day.to_string(), "error": chain(e)})),
            _ => None,
        })
        .collect();
    let status = if failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    Ok(json_response(
        status,
        json!({
            "days": summary.days.len(),
            "loaded": summary.loaded(),
            "no_source_rows": summary.empty_days().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "failed": failed,
            "rows_in": summary.rows_in(),
            "rows_out": summary.rows_out(),
            "windows": summary.windows(),
            "signals": summary.signals_written(pipeline.signals()),
            "elapsed_ms": summary.elapsed.as_secs_f64() * 1000.0,
        }),
    ))
}

pub(crate) async fn generate(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    app.authorize(&headers)?;
    let m = parse_body(
        &body,
        &["days", "start", "seed", "missing_rate", "turbines"],
    )?;
    let req = parse_generate(&m)?;
    run_generate(&app, req).await
}

/// A validated generate request.
pub(crate) struct GenerateRequest {
    pub days: DayRange,
    pub seed: Option<u64>,
    pub missing_rate: Option<f64>,
    /// `None`: as many turbines as the embedded store holds (1 otherwise).
    pub turbines: Option<u32>,
}

/// The fields `days`, `start`, `seed`, `missing_rate`, `turbines` of a body.
pub(crate) fn parse_generate(m: &Map<String, Value>) -> ApiResult<GenerateRequest> {
    let n = match m.get("days") {
        None | Some(Value::Null) => demo::DEMO_DAYS,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=MAX_JOB_DAYS as u64).contains(n))
            .ok_or_else(|| {
                ApiError::param("days", format!("an integer from 1 to {MAX_JOB_DAYS}"))
            })? as u32,
    };
    let start = body_day(m, "start")?.unwrap_or_else(demo::start);
    let seed = match m.get("seed").filter(|v| !v.is_null()) {
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| ApiError::param("seed", "a non-negative integer"))?,
        ),
        None => None,
    };
    let missing_rate = match m.get("missing_rate").filter(|v| !v.is_null()) {
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| ApiError::param("missing_rate", "a number in [0, 1]"))?,
        ),
        None => None,
    };
    let turbines = match m.get("turbines").filter(|v| !v.is_null()) {
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| ApiError::param("turbines", "a positive integer"))?,
        ),
        None => None,
    };
    let days = DayRange::starting(start, n).map_err(|e| ApiError::param("days", e))?;
    Ok(GenerateRequest {
        days,
        seed,
        missing_rate,
        turbines,
    })
}

/// Fills the source with demo data for the request's days.
pub(crate) async fn run_generate(app: &Arc<App>, req: GenerateRequest) -> ApiResult<Response> {
    let turbines = match req.turbines {
        Some(n) => n,
        // A farm stays a farm: as many turbines as the store holds.
        None if matches!(app.source_loc, Location::Local(_)) => {
            (source_assets(app).await?.len() as u32).max(1)
        }
        None => 1,
    };
    let mut g = Generator::builder().turbines(turbines);
    if let Some(s) = req.seed {
        g = g.seed(s);
    }
    if let Some(p) = req.missing_rate {
        g = g.missing_rate(p);
    }
    let generator = g.build().map_err(|e| match &e {
        Error::InvalidConfig {
            setting: Setting::Turbines,
            ..
        } => ApiError::param("turbines", e),
        _ => ApiError::param("missing_rate", e),
    })?;
    let _permit = app.permit().await?;
    let t = Instant::now();
    let rows = app
        .source_loc
        .generate_layout(&app.layout, req.days, &generator, |_| {})
        .await
        .map_err(ApiError::from_windcore)?;
    Ok(json_response(
        StatusCode::OK,
        json!({
            "days": req.days.len(),
            "first": req.days.first().to_string(),
            "last": req.days.last().to_string(),
            "rows": rows,
            "seed": generator.seed(),
            "turbines": turbines,
            "elapsed_ms": t.elapsed().as_secs_f64() * 1000.0,
        }),
    ))
}
