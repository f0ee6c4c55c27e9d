//! The handlers. Access is checked before any of them runs, by [`crate::auth::guard`]
//! with the route's entry of [`crate::routes::ROUTES`]; a handler takes the
//! [`crate::auth::Access`] it was given, calls the store and maps its errors to
//! problem+json.

pub(crate) mod account;
pub(crate) mod apns;
pub(crate) mod apple;
pub(crate) mod apps;
pub(crate) mod credentials;
pub(crate) mod keys;
pub(crate) mod orgs;
pub(crate) mod signing;

use std::sync::Arc;

use axum::{
    Json,
    extract::{FromRequestParts, Path, Query, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use signet_store::PageRequest;

use crate::{AppState, error::ApiError};

/// Path parameters whose rejections are problem+json and never echo the path.
pub(crate) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiPath<T>, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|_| {
                ApiError::bad_request(
                    "a path segment is not valid percent-encoded UTF-8, or not of its type",
                )
            })
    }
}

/// An id in the path. A value the store could not have minted names nothing: 404, as an
/// id of nothing is.
pub(crate) fn path_id<I: std::str::FromStr>(value: &str) -> Result<I, ApiError> {
    value.parse().map_err(|_| ApiError::not_found())
}

/// Query parameters whose rejections are problem+json and never echo the query.
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiQuery<T>, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|_| {
                ApiError::bad_request(
                    "the query string is malformed (a parameter given twice, or not UTF-8)",
                )
            })
    }
}

/// The longest query parameter value accepted.
const MAX_QUERY_VALUE: usize = 255;

/// Query parameters of lists. Parsed by hand so a bad value is a problem+json 422.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    deleted: Option<String>,
    days: Option<String>,
    action: Option<String>,
}

impl ListQuery {
    fn page(&self) -> Result<PageRequest, ApiError> {
        if self
            .cursor
            .as_ref()
            .is_some_and(|c| c.len() > MAX_QUERY_VALUE)
        {
            return Err(ApiError::invalid("cursor", "not a cursor of this list"));
        }
        let limit = match &self.limit {
            Some(l) => Some(
                l.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| ApiError::invalid("limit", "a number from 1 to 500"))?,
            ),
            None => None,
        };
        Ok(PageRequest {
            cursor: self.cursor.clone(),
            limit,
        })
    }

    /// `?action=`: an audit action (`sign`, `credential.export`, …).
    fn action(&self) -> Result<Option<String>, ApiError> {
        match &self.action {
            None => Ok(None),
            Some(a)
                if !a.is_empty()
                    && a.len() <= 64
                    && a.bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'-') =>
            {
                Ok(Some(a.clone()))
            }
            Some(_) => Err(ApiError::invalid("action", "an audit action, such as sign")),
        }
    }

    fn flag(value: Option<&String>, field: &str) -> Result<bool, ApiError> {
        match value.map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::invalid(field, "true or false")),
        }
    }
}

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
