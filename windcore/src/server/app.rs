//! What the handlers share: the stores (opened lazily, reopened after a
//! failure; a file source is read once and kept), the limits, the token.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use chrono::{DateTime, TimeDelta};
use tokio::sync::{OwnedSemaphorePermit, RwLock, Semaphore};

use super::error::{chain, ApiError, ApiResult};
use super::target::StatsTarget;
use super::ServerConfig;
use crate::{
    Day, Extract, FileOptions, FileSource, LocalStore, Location, PostgresTarget, SourceLayout,
    TimeRange, Zone, ASSET,
};

pub(crate) struct App {
    pub source_loc: Location,
    /// Where the samples are in the source.
    pub layout: SourceLayout,
    /// How a file source is read.
    files: FileOptions,
    source: RwLock<Option<Arc<dyn Extract>>>,
    /// The file source, once read (the same as `source`).
    file_source: RwLock<Option<Arc<FileSource>>>,
    /// Whether a (non-embedded) source has an asset column, once known.
    source_assets: RwLock<Option<bool>>,
    pub target_loc: Option<Location>,
    target: RwLock<Option<StatsTarget>>,
    pub token: Option<String>,
    pub max_range: TimeDelta,
    pub timeout: Duration,
    permits: Arc<Semaphore>,
    pub pool_size: usize,
    /// Runs that name no channels get the demo run's settings on a demo
    /// source ([`ServerConfigBuilder::demo_runs`](super::ServerConfigBuilder::demo_runs)).
    pub demo_runs: bool,
}

/// An empty range at the epoch: reading it checks a store without reading data.
pub(crate) fn probe_range() -> TimeRange {
    TimeRange {
        start: DateTime::UNIX_EPOCH,
        end: DateTime::UNIX_EPOCH + TimeDelta::microseconds(1),
    }
}

impl App {
    pub fn new(config: &ServerConfig) -> App {
        App {
            source_loc: config.source.clone(),
            layout: config.layout.clone(),
            files: config.files.clone(),
            source: RwLock::new(None),
            file_source: RwLock::new(None),
            source_assets: RwLock::new(None),
            target_loc: config.target.clone(),
            target: RwLock::new(None),
            token: config.token.clone(),
            max_range: TimeDelta::days(config.max_range_days as i64),
            timeout: config.request_timeout,
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            pool_size: config.pool_size,
            demo_runs: config.demo_runs,
        }
    }

    /// Whether the POST routes are on (the server has a token).
    pub fn jobs_enabled(&self) -> bool {
        self.token.is_some()
    }

    pub async fn source(&self) -> ApiResult<Arc<dyn Extract>> {
        if let Some(s) = self.source.read().await.as_ref() {
            return Ok(s.clone());
        }
        let mut slot = self.source.write().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let opened = match &self.source_loc {
            // Files are read once, whatever it takes (local work, no
            // connection to time out); requests meanwhile wait for them.
            Location::Files(pattern) => {
                FileSource::open_async(pattern, &self.layout, &self.files, None)
                    .await
                    .map(|f| {
                        let f = Arc::new(f);
                        (f.clone() as Arc<dyn Extract>, Some(f))
                    })
            }
            loc => tokio::time::timeout(
                self.timeout,
                loc.open_source_layout(&self.layout, self.pool_size),
            )
            .await
            .map_err(|_| ApiError::unavailable(format!("{loc}: connect timed out")))?
            .map(|s| (s, None)),
        };
        let (s, files) = opened.map_err(|e| match e {
            crate::Error::Schema(_) => ApiError::unavailable(chain(&e)),
            other => ApiError::from_windcore(other),
        })?;
        if files.is_some() {
            *self.file_source.write().await = files;
        }
        *slot = Some(s.clone());
        Ok(s)
    }

    /// The file source, read on first use (`None` for the other sources).
    async fn file_source(&self) -> ApiResult<Option<Arc<FileSource>>> {
        if !matches!(self.source_loc, Location::Files(_)) {
            return Ok(None);
        }
        self.source().await?;
        Ok(self.file_source.read().await.clone())
    }

    /// Every asset of the source, on any day, sorted (empty for one asset).
    /// A file source answers from what it read; the others are asked.
    pub async fn source_assets(&self) -> ApiResult<Vec<String>> {
        if let Some(f) = self.file_source().await? {
            let mut assets = f.assets();
            assets.sort();
            return Ok(assets);
        }
        tokio::time::timeout(self.timeout, self.source_loc.source_assets(&self.layout))
            .await
            .map_err(|_| ApiError::unavailable("listing the source's assets timed out"))?
            .map_err(ApiError::from_windcore)
    }

    /// The local days of `zone` with source samples.
    pub async fn source_days(&self, zone: Zone) -> ApiResult<Vec<Day>> {
        if let Some(f) = self.file_source().await? {
            let mut days: Vec<Day> = f
                .days()
                .into_iter()
                .flat_map(|d| zone.days_touching(d.range()))
                .collect();
            days.dedup();
            return Ok(days);
        }
        tokio::time::timeout(
            self.timeout,
            self.source_loc.source_days_in(&self.layout, zone),
        )
        .await
        .map_err(|_| ApiError::unavailable("listing the source's days timed out"))?
        .map_err(ApiError::from_windcore)
    }

    /// Whether the source's samples carry an asset (a farm). The embedded
    /// store is asked every time (its files may change); a database once.
    pub async fn source_has_assets(&self, source: &Arc<dyn Extract>) -> ApiResult<bool> {
        let local = matches!(self.source_loc, Location::Local(_));
        if !local {
            if let Some(b) = *self.source_assets.read().await {
                return Ok(b);
            }
        }
        let df = tokio::time::timeout(self.timeout, source.extract(probe_range(), &[]))
            .await
            .map_err(|_| ApiError::unavailable("reading the source timed out"))?
            .map_err(ApiError::from_windcore)?;
        let has = df.column(ASSET).is_ok();
        if !local {
            *self.source_assets.write().await = Some(has);
        }
        Ok(has)
    }

    pub async fn target(&self) -> ApiResult<StatsTarget> {
        let url = match &self.target_loc {
            None => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_target",
                    "the server was started without a target (--target)",
                ))
            }
            Some(Location::Local(dir)) => {
                return Ok(StatsTarget::Local(LocalStore::new(dir).target()))
            }
            Some(Location::Http(_) | Location::Files(_)) => {
                return Err(ApiError::internal(
                    "an HTTP API or files cannot be a target",
                ))
            }
            Some(Location::Postgres(url)) => url,
        };
        if let Some(t) = self.target.read().await.as_ref() {
            return Ok(t.clone());
        }
        let mut slot = self.target.write().await;
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let t = tokio::time::timeout(
            self.timeout,
            PostgresTarget::connect_with_pool_size(url, self.pool_size),
        )
        .await
        .map_err(|_| ApiError::unavailable("target: connect timed out"))?
        .map_err(|e| ApiError::unavailable(chain(&e)))?;
        let t = StatsTarget::Postgres(t);
        *slot = Some(t.clone());
        Ok(t)
    }

    /// The target's signal names, within the request timeout.
    pub async fn signal_names(&self) -> ApiResult<Vec<String>> {
        let target = self.target().await?;
        tokio::time::timeout(self.timeout, target.signal_names())
            .await
            .map_err(|_| ApiError::unavailable("listing signals timed out"))?
            .map_err(ApiError::from_windcore)
    }

    pub async fn permit(&self) -> ApiResult<OwnedSemaphorePermit> {
        tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "too many requests in flight; retry later",
                )
            })?
            .map_err(|_| ApiError::unavailable("shutting down"))
    }

    pub fn authorize(&self, headers: &HeaderMap) -> ApiResult<()> {
        let Some(token) = &self.token else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "disabled",
                "this route is off: start the server with --token (or WINDCORE_API_TOKEN) to enable it",
            ));
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match given {
            Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong bearer token",
            )),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing `Authorization: Bearer <token>` header",
            )),
        }
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() != b.len()) as u8;
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
    }
}
