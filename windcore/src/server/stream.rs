//! Streamed answers: a range is read one UTC day at a time.
//!
//! The first day is read before the status is sent (so a dead database is a
//! 503, not a truncated 200); later days are read while the client consumes
//! the earlier ones, and a failure then aborts the chunked body (the client
//! sees an incomplete response, never a silently short one).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures_util::future::BoxFuture;
use polars::prelude::DataFrame;
use tokio::sync::OwnedSemaphorePermit;

use super::encode::{Format, Layout};
use super::error::{chain, ApiError, ApiResult};
use super::params::day_chunks;
use crate::TimeRange;

/// The frame of one chunk, being read.
pub(crate) type ReadFuture = BoxFuture<'static, crate::Result<DataFrame>>;

/// Reads one chunk of rows as a frame.
pub(crate) type Reader = Arc<dyn Fn(TimeRange) -> ReadFuture + Send + Sync>;

pub(crate) struct Streamer {
    read: Reader,
    layout: Layout,
    format: Format,
    chunks: VecDeque<TimeRange>,
    first_row: bool,
    done: bool,
    timeout: Duration,
    _permit: OwnedSemaphorePermit,
}

impl Streamer {
    /// Reads `range` a UTC day at a time through `read`, holding `permit` until done.
    pub fn new(
        read: Reader,
        layout: Layout,
        format: Format,
        range: TimeRange,
        timeout: Duration,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Streamer {
            read,
            layout,
            format,
            chunks: day_chunks(range),
            first_row: true,
            done: false,
            timeout,
            _permit: permit,
        }
    }

    async fn next_bytes(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        if self.done {
            return Ok(None);
        }
        let Some(range) = self.chunks.pop_front() else {
            self.done = true;
            return Ok(Some(Bytes::from(Layout::epilogue(self.format))));
        };
        let fail = |d: String| {
            eprintln!("windcore serve: aborting a response: {d}");
            std::io::Error::other(d)
        };
        let df = tokio::time::timeout(self.timeout, (self.read)(range))
            .await
            .map_err(|_| fail(format!("reading {range} timed out")))?
            .map_err(|e| fail(chain(&e)))?;
        let df = self.layout.conform(&df).map_err(|e| fail(e.to_string()))?;
        let bytes = self
            .layout
            .rows(&df, self.format, &mut self.first_row)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Some(Bytes::from(bytes)))
    }

    /// Reads the first day, then answers with a body that streams the rest.
    pub async fn respond(mut self) -> ApiResult<Response> {
        let content_type = HeaderValue::from_static(self.format.content_type());
        let mut head = self
            .layout
            .prologue(self.format)
            .map_err(ApiError::internal)?;
        if let Some(range) = self.chunks.pop_front() {
            let df = tokio::time::timeout(self.timeout, (self.read)(range))
                .await
                .map_err(|_| ApiError::unavailable(format!("reading {range} timed out")))?
                .map_err(ApiError::from_windcore)?;
            let df = self.layout.conform(&df).map_err(ApiError::internal)?;
            let rows = self
                .layout
                .rows(&df, self.format, &mut self.first_row)
                .map_err(ApiError::internal)?;
            head.extend_from_slice(&rows);
        }
        let first =
            futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) });
        let rest = futures_util::stream::unfold(self, |mut s| async move {
            match s.next_bytes().await {
                Ok(Some(b)) => Some((Ok(b), s)),
                Ok(None) => None,
                Err(e) => {
                    s.done = true;
                    Some((Err(e), s))
                }
            }
        });
        use futures_util::StreamExt;
        let mut resp = Response::new(Body::from_stream(first.chain(rest)));
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
        Ok(resp)
    }
}
