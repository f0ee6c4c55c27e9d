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
}

impl ApiError {
    /// A problem of a given status and stable type.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            extra: Value::Null,
        }
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

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
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
            StoreError::Rule(_) => ApiError::new(StatusCode::CONFLICT, "rule", e.to_string()),
            StoreError::Unauthenticated => ApiError::unauthenticated(),
            StoreError::VersionRequired => ApiError::precondition_required(),
            StoreError::Forbidden(detail) => ApiError::forbidden(detail),
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
                    format!("a stored secret cannot be opened: {e}"),
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the server log has the details",
                )
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
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
