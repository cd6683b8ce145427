//! The error answer of every route: `{"error": …, "detail": …}`, plus the
//! `parameter` that was wrong for a bad request.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An error answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub detail: String,
    pub parameter: Option<&'static str>,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            detail: detail.into(),
            parameter: None,
        }
    }

    /// A 400 naming the parameter (or body field) that is wrong.
    pub fn param(parameter: &'static str, detail: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_parameter",
            detail: format!("{parameter}: {detail}"),
            parameter: Some(parameter),
        }
    }

    /// A 400 about the JSON body as a whole.
    pub fn body(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", detail)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            e.to_string(),
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            detail,
        )
    }

    /// Maps a library error: unreachable stores are 503, bad settings 400.
    /// `variables` names the parameter that lists variables in this route.
    pub fn from_windcore_as(e: crate::Error, variables: &'static str) -> Self {
        use crate::Error as E;
        let detail = chain(&e);
        match e {
            E::Connection { .. } | E::Database { .. } | E::Protocol { .. } => {
                ApiError::unavailable(detail)
            }
            E::UnknownVariable { .. } => ApiError::param(variables, detail),
            E::InvalidConfig { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
            }
            E::Day { ref source, .. }
                if matches!(**source, E::Connection { .. } | E::Database { .. }) =>
            {
                ApiError::unavailable(detail)
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", detail),
        }
    }

    pub fn from_windcore(e: crate::Error) -> Self {
        ApiError::from_windcore_as(e, "variables")
    }
}

/// The error and its causes on one line, without repeating a cause that the
/// message above it already spells out.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    crate::error::error_chain(e)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.error, "detail": self.detail});
        if let Some(p) = self.parameter {
            body["parameter"] = json!(p);
        }
        let mut resp = json_response(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

/// A JSON answer with its content type.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
