//! Errors as RFC 9457 `application/problem+json`: a stable `type` per kind of failure, a
//! human `detail`, and for invalid input the `field` at fault. Details come from typed
//! errors whose messages never hold secrets.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use signet_store::StoreError;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    extra: Value,
    retry_after: Option<u64>,
}

impl ApiError {
    /// A problem of a given status and stable type.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            extra: Value::Null,
            retry_after: None,
        }
    }

    /// With a `Retry-After` of `seconds` (at least 1).
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// 500 without detail: the server log has it.
    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }

    /// The problem for an error status that no handler described (axum's own rejections:
    /// 405, 413 outside JSON bodies, …); the detail is generic and echoes nothing.
    pub fn from_status(status: StatusCode) -> ApiError {
        let (kind, detail) = match status.as_u16() {
            400 => ("bad-request", "the request is malformed"),
            404 => ("not-found", "no such resource"),
            405 => (
                "method-not-allowed",
                "this resource does not support the method; see the Allow header",
            ),
            413 => ("too-large", "the request body is too large"),
            415 => (
                "unsupported-media-type",
                "send Content-Type: application/json",
            ),
            422 => ("invalid", "the request could not be processed"),
            408 => ("timeout", "the request took too long to arrive"),
            s if s >= 500 => ("internal", "internal error; the server log has the details"),
            _ => ("error", "the request failed"),
        };
        ApiError::new(status, kind, detail)
    }

    /// 401.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token is required (Authorization: Bearer sgu_… or sgr_…)",
        )
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
    }

    /// 422 naming a field.
    pub fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
        let reason = reason.into();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("invalid `{field}`: {reason}"),
        );
        e.extra = json!({ "field": field, "reason": reason });
        e
    }

    /// 400 for a body that is not the JSON expected.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 428: a write without `If-Match`.
    pub fn precondition_required() -> ApiError {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "send If-Match with the ETag you read, so that a concurrent change is not overwritten",
        )
    }

    /// With extension members beside `type`, `title`, `status` and `detail`.
    #[must_use]
    pub fn with(mut self, extra: Value) -> ApiError {
        self.extra = extra;
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The human detail (never a secret).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The field at fault, for invalid input.
    pub fn field(&self) -> Option<&str> {
        self.extra.get("field").and_then(Value::as_str)
    }

    /// Why the field is refused, for invalid input (the detail without the field's name).
    pub fn reason(&self) -> Option<&str> {
        self.extra.get("reason").and_then(Value::as_str)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Invalid { field, reason } => ApiError::invalid(field, reason),
            StoreError::Conflict => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "the resource changed since it was read (If-Match does not match); read it again",
            ),
            StoreError::Limit {
                ref limit,
                max,
                ref occupied_by,
            } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "limit", e.to_string());
                err.extra = json!({ "limit": limit, "max": max, "occupied_by": occupied_by });
                err
            }
            StoreError::Exists(_) => ApiError::new(StatusCode::CONFLICT, "exists", e.to_string()),
            StoreError::Rule(rule) => {
                ApiError::new(StatusCode::CONFLICT, rule.slug(), rule.to_string())
            }
            StoreError::Unauthenticated => ApiError::unauthenticated(),
            StoreError::VersionRequired => ApiError::precondition_required(),
            StoreError::Forbidden(detail) => ApiError::forbidden(detail),
            StoreError::Busy { retry_after } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many passwords are being checked at once; try again shortly",
            )
            .retry_after(retry_after.as_secs()),
            StoreError::Throttled { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-logins",
                format!(
                    "too many login attempts for this account; try again in {} s",
                    retry_after.as_secs().max(1)
                ),
            )
            .retry_after(retry_after.as_secs()),
            StoreError::SetupClosed => {
                ApiError::new(StatusCode::GONE, "setup-closed", e.to_string())
            }
            // The store logged it once when the file went; the detail names the file (an
            // operator's fix), never a key.
            StoreError::KeyFileMissing(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "master-key-unavailable",
                e.to_string(),
            ),
            StoreError::Tampered | StoreError::MissingKey(_) | StoreError::Malformed(_) => {
                tracing::error!(error = %e, "a stored secret cannot be opened");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "sealed-data",
                    "a stored secret cannot be opened; the server log says why",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("https://signet.invalid/problems/{}", self.kind),
            "title": self.status.canonical_reason().unwrap_or("error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Value::Object(map), Value::Object(extra)) = (&mut body, self.extra) {
            map.extend(extra);
        }
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
