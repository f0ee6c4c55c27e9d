//! Credentials: upload (validated), list, read (ETag), replace and rename (If-Match),
//! soft delete and restore, impact, export, and the expiry report.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::{Kind, Role, validate::Upload};

use super::ListQuery;
use crate::{
    ApiJson, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
    if_match, if_match_optional, with_etag,
};

/// Validates an upload on a blocking thread: opening a keystore runs its password-based
/// key derivation, which must not hold up the async workers.
async fn validated(upload: Upload) -> Result<signet_store::validate::Validated, ApiError> {
    tokio::task::spawn_blocking(move || {
        signet_store::validate::validate(&upload, time::OffsetDateTime::now_utc())
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "validation failed",
        )
    })?
    .map_err(ApiError::from)
}

/// `GET /v1/orgs/{org}/credentials?type=&deleted=&cursor=&limit=` (viewer).
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    caller.access(&state, &org, Role::Viewer, false).await?;
    let kind = match &q.kind {
        Some(k) => Some(
            Kind::parse(k)
                .ok_or_else(|| ApiError::invalid("type", format!("one of: {}", Kind::names())))?,
        ),
        None => None,
    };
    let deleted = ListQuery::flag(q.deleted.as_ref(), "deleted")?;
    let page = state
        .store
        .credentials(&org, kind, deleted, &q.page()?)
        .await?;
    Ok(Json(json!(page)))
}

/// `POST /v1/orgs/{org}/credentials` (developer): validated, then stored sealed.
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(upload): ApiJson<Upload>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, false).await?;
    let v = validated(upload).await?;
    let c = state
        .store
        .create_credential(&access.actor, &org, v)
        .await?;
    let mut response = with_etag(c.version, &c);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `GET /v1/orgs/{org}/credentials/{id}` (viewer), with its ETag.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.access(&state, &org, Role::Viewer, false).await?;
    let c = state.store.credential(&org, &id, true).await?;
    Ok(with_etag(c.version, &c))
}

/// `PUT /v1/orgs/{org}/credentials/{id}` (developer, If-Match): a new file and secrets.
pub(super) async fn replace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(upload): ApiJson<Upload>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, false).await?;
    let version = if_match(&headers)?;
    let v = validated(upload).await?;
    let c = state
        .store
        .replace_credential(&access.actor, &org, &id, version, v)
        .await?;
    Ok(with_etag(c.version, &c))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RenameBody {
    name: String,
}

/// `PATCH /v1/orgs/{org}/credentials/{id}` (developer, If-Match): rename.
pub(super) async fn rename(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, false).await?;
    let version = if_match(&headers)?;
    let c = state
        .store
        .rename_credential(&access.actor, &org, &id, version, &body.name)
        .await?;
    Ok(with_etag(c.version, &c))
}

/// `DELETE /v1/orgs/{org}/credentials/{id}` (admin): soft delete, restorable; returns
/// what it breaks. Nothing is revoked at Apple or Google.
pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let version = if_match_optional(&headers)?;
    let impact = state
        .store
        .delete_credential(&access.actor, &org, &id, version)
        .await?;
    Ok(Json(json!({ "deleted": id, "impact": impact })))
}

/// `POST /v1/orgs/{org}/credentials/{id}/restore` (admin).
pub(super) async fn restore(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let c = state
        .store
        .restore_credential(&access.actor, &org, &id)
        .await?;
    Ok(with_etag(c.version, &c))
}

/// `GET /v1/orgs/{org}/credentials/{id}/impact` (viewer).
pub(super) async fn impact(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    caller.access(&state, &org, Role::Viewer, false).await?;
    Ok(Json(state.store.impact(&org, &id).await?))
}

/// `GET /v1/orgs/{org}/credentials/{id}/secret` (admin): the raw secret material, audited;
/// deleted credentials too, until they are destroyed.
pub(super) async fn export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let (c, secret) = state.store.export_secret(&access.actor, &org, &id).await?;
    let secret: Value = serde_json::from_slice(&secret)
        .map_err(|_| ApiError::from(signet_store::StoreError::Malformed("secret encoding")))?;
    Ok(Json(json!({ "credential": c, "secret": secret })))
}

/// `GET /v1/orgs/{org}/expiring?days=30` (viewer): soonest first, expired included.
pub(super) async fn expiring(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    caller.access(&state, &org, Role::Viewer, false).await?;
    let days = match &q.days {
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=3650).contains(d))
            .ok_or_else(|| ApiError::invalid("days", "a number from 0 to 3650"))?,
        None => 30,
    };
    let page = state
        .store
        .expiring(&org, days * 86_400_000, &q.page()?)
        .await?;
    Ok(Json(json!(page)))
}
