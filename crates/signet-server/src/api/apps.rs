//! Apps, their build credential sets and pairs, slots, and the build-credentials fetch.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::Role;

use super::ListQuery;
use crate::{
    ApiJson, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
    if_match, if_match_optional, put_response, with_etag,
};

/// `GET /v1/orgs/{org}/apps` (viewer).
pub(super) async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    caller.access(&state, &org, Role::Viewer, false).await?;
    Ok(Json(json!(state.store.apps(&org, &q.page()?).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AppBody {
    slug: String,
}

/// `POST /v1/orgs/{org}/apps` (developer).
pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<AppBody>,
) -> ApiResult<impl IntoResponse> {
    let access = caller.access(&state, &org, Role::Developer, false).await?;
    let app = state
        .store
        .create_app(&access.actor, &org, &body.slug)
        .await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// `GET /v1/orgs/{org}/apps/{app}` (viewer): the app and everything it builds with.
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let access = caller.access(&state, &org, Role::Viewer, true).await?;
    let app = access.app(&state, &app).await?;
    Ok(Json(state.store.app_credentials(&org, &app).await?))
}

/// `DELETE /v1/orgs/{org}/apps/{app}` (admin): the credentials stay.
pub(super) async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let app = access.app(&state, &app).await?;
    state.store.delete_app(&access.actor, &org, &app.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BuildSetBody {
    keystore_id: String,
    #[serde(default)]
    default: bool,
}

/// `PUT …/android/{application_id}/build-sets/{name}` (developer): create, or swap the
/// keystore with If-Match. The first set of an application id is its default.
pub(super) async fn put_build_set(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, application_id, name)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BuildSetBody>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, true).await?;
    let app = access.app(&state, &app).await?;
    let version = if_match_optional(&headers)?;
    let (set, created) = state
        .store
        .put_build_set(
            &access.actor,
            &org,
            &app,
            &application_id,
            &name,
            &body.keystore_id,
            body.default,
            version,
        )
        .await?;
    Ok(put_response(created, set.version, &set))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RenameBody {
    name: String,
}

/// `PATCH …/build-sets/{name}` (developer, If-Match): rename.
pub(super) async fn rename_build_set(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, application_id, name)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, true).await?;
    let app = access.app(&state, &app).await?;
    let version = if_match(&headers)?;
    let set = state
        .store
        .rename_build_set(
            &access.actor,
            &org,
            &app,
            &application_id,
            &name,
            &body.name,
            version,
        )
        .await?;
    Ok(with_etag(set.version, &set))
}

/// `POST …/build-sets/{name}/default` (developer): make it the default.
pub(super) async fn make_default(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, application_id, name)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, true).await?;
    let app = access.app(&state, &app).await?;
    let current = state
        .store
        .app_credentials(&org, &app)
        .await?
        .build_sets
        .into_iter()
        .find(|s| s.application_id == application_id && s.name == name)
        .ok_or_else(ApiError::not_found)?;
    let (set, _) = state
        .store
        .put_build_set(
            &access.actor,
            &org,
            &app,
            &application_id,
            &name,
            &current.keystore_id,
            true,
            Some(current.version),
        )
        .await?;
    Ok(with_etag(set.version, &set))
}

/// `DELETE …/build-sets/{name}` (admin).
pub(super) async fn delete_build_set(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, application_id, name)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Admin, true).await?;
    let app = access.app(&state, &app).await?;
    state
        .store
        .delete_build_set(&access.actor, &org, &app, &application_id, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PairBody {
    certificate_id: String,
    profile_id: String,
}

/// `PUT …/ios/{bundle_id}/build-pairs/{distribution}` (developer; If-Match to replace).
pub(super) async fn put_build_pair(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, bundle_id, distribution)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PairBody>,
) -> ApiResult<Response> {
    let access = caller.access(&state, &org, Role::Developer, true).await?;
    let app = access.app(&state, &app).await?;
    let version = if_match_optional(&headers)?;
    let (pair, created) = state
        .store
        .put_build_pair(
            &access.actor,
            &org,
            &app,
            &bundle_id,
            &distribution,
            &body.certificate_id,
            &body.profile_id,
            version,
        )
        .await?;
    Ok(put_response(created, pair.version, &pair))
}

/// `DELETE …/ios/{bundle_id}/build-pairs/{distribution}` (admin).
pub(super) async fn delete_build_pair(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, bundle_id, distribution)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Admin, true).await?;
    let app = access.app(&state, &app).await?;
    state
        .store
        .delete_build_pair(&access.actor, &org, &app, &bundle_id, &distribution)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SlotBody {
    credential_id: String,
}

/// `PUT …/slots/{platform}/{identifier}/{slot}` (developer): assign a credential.
pub(super) async fn set_slot(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, platform, identifier, slot)): Path<(String, String, String, String, String)>,
    ApiJson(body): ApiJson<SlotBody>,
) -> ApiResult<impl IntoResponse> {
    let access = caller.access(&state, &org, Role::Developer, true).await?;
    let app = access.app(&state, &app).await?;
    let link = state
        .store
        .set_link(
            &access.actor,
            &org,
            &app,
            &platform,
            &identifier,
            &slot,
            &body.credential_id,
        )
        .await?;
    Ok(Json(link))
}

/// `DELETE …/slots/{platform}/{identifier}/{slot}` (admin).
pub(super) async fn remove_slot(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app, platform, identifier, slot)): Path<(String, String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Admin, true).await?;
    let app = access.app(&state, &app).await?;
    state
        .store
        .remove_link(&access.actor, &org, &app, &platform, &identifier, &slot)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub(super) struct BuildQuery {
    platform: Option<String>,
    application_id: Option<String>,
    name: Option<String>,
    bundle_id: Option<String>,
    distribution: Option<String>,
}

fn secret_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|_| ApiError::from(signet_store::StoreError::Malformed("secret encoding")))
}

/// `GET …/apps/{app}/build-credentials?platform=android&application_id=…[&name=…]` or
/// `?platform=ios&bundle_id=…&distribution=…` (developer): one build's decrypted
/// material. Every fetch is audited.
pub(super) async fn build_credentials(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, app)): Path<(String, String)>,
    Query(q): Query<BuildQuery>,
) -> ApiResult<Json<Value>> {
    let access = caller.access(&state, &org, Role::Developer, true).await?;
    match q.platform.as_deref() {
        Some("android") => {
            let application_id = q
                .application_id
                .as_deref()
                .ok_or_else(|| ApiError::invalid("application_id", "required for android"))?;
            let b = state
                .store
                .android_build_credentials(
                    &access.actor,
                    &org,
                    &app,
                    |a| access.allows(a),
                    application_id,
                    q.name.as_deref(),
                )
                .await?;
            let secret = secret_json(&b.secrets[0])?;
            Ok(Json(json!({
                "platform": "android",
                "application_id": application_id,
                "chosen": b.chosen,
                "keystore": {
                    "credential": b.credentials[0],
                    "keystore": secret["keystore"],
                    "store_password": secret["store_password"],
                    "key_alias": secret["key_alias"],
                    "key_password": secret["key_password"],
                },
            })))
        }
        Some("ios") => {
            let bundle_id = q
                .bundle_id
                .as_deref()
                .ok_or_else(|| ApiError::invalid("bundle_id", "required for ios"))?;
            let distribution = q.distribution.as_deref().unwrap_or("app-store");
            let app = access.app(&state, &app).await?;
            let b = state
                .store
                .ios_build_credentials(&access.actor, &org, &app, bundle_id, distribution)
                .await?;
            let cert = secret_json(&b.secrets[0])?;
            let profile = secret_json(&b.secrets[1])?;
            Ok(Json(json!({
                "platform": "ios",
                "bundle_id": bundle_id,
                "distribution": distribution,
                "chosen": b.chosen,
                "distribution_certificate": {
                    "credential": b.credentials[0],
                    "p12": cert["p12"],
                    "password": cert["password"],
                },
                "provisioning_profile": {
                    "credential": b.credentials[1],
                    "profile": profile["profile"],
                },
            })))
        }
        _ => Err(ApiError::invalid("platform", "android or ios")),
    }
}
