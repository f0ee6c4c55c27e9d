//! Apps, their build credential sets and pairs, slots, and the build-credentials fetch.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::{CredentialId, Named};

use super::{ApiPath, ApiQuery, ListQuery};
use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
    if_match, if_match_optional, put_response, with_etag,
};

/// `GET /v1/orgs/{org}/apps` (viewer).
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state.store.apps(&access.org, &q.page()?).await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppBody {
    slug: String,
}

/// `POST /v1/orgs/{org}/apps` (developer).
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<AppBody>,
) -> ApiResult<impl IntoResponse> {
    let app = state
        .store
        .create_app(&access.actor, &access.org, &body.slug)
        .await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// `GET /v1/orgs/{org}/apps/{app}` (viewer): the app and everything it builds with.
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    access: Access,
) -> ApiResult<impl IntoResponse> {
    let app = access.app()?;
    Ok(Json(state.store.app_credentials(&access.org, app).await?))
}

/// `DELETE /v1/orgs/{org}/apps/{app}` (admin): the credentials stay.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    access: Access,
) -> ApiResult<StatusCode> {
    let app = access.app()?;
    state
        .store
        .delete_app(&access.actor, &access.org, &app.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildSetBody {
    keystore_id: Named<CredentialId>,
    #[serde(default)]
    default: bool,
}

/// `PUT …/android/{application_id}/build-sets/{name}` (developer): create, or swap the
/// keystore with If-Match. The first set of an application id is its default.
pub(crate) async fn put_build_set(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, application_id, name)): ApiPath<(String, String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BuildSetBody>,
) -> ApiResult<Response> {
    let app = access.app()?;
    let version = if_match_optional(&headers)?;
    let (set, created) = state
        .store
        .put_build_set(
            &access.actor,
            &access.org,
            app,
            &application_id,
            &name,
            &body.keystore_id,
            body.default,
            version,
            &access.scope,
        )
        .await?;
    Ok(put_response(created, set.version, &set))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenameBody {
    name: String,
}

/// `PATCH …/build-sets/{name}` (developer, If-Match): rename.
pub(crate) async fn rename_build_set(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, application_id, name)): ApiPath<(String, String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Response> {
    let app = access.app()?;
    let version = if_match(&headers)?;
    let set = state
        .store
        .rename_build_set(
            &access.actor,
            &access.org,
            app,
            &application_id,
            &name,
            &body.name,
            version,
        )
        .await?;
    Ok(with_etag(set.version, &set))
}

/// `POST …/build-sets/{name}/default` (developer): make it the default.
pub(crate) async fn make_default(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, application_id, name)): ApiPath<(String, String, String, String)>,
) -> ApiResult<Response> {
    let app = access.app()?;
    let current = state
        .store
        .app_credentials(&access.org, app)
        .await?
        .build_sets
        .into_iter()
        .find(|s| s.application_id == application_id && s.name == name)
        .ok_or_else(ApiError::not_found)?;
    let (set, _) = state
        .store
        .put_build_set(
            &access.actor,
            &access.org,
            app,
            &application_id,
            &name,
            &current.keystore_id.into(),
            true,
            Some(current.version),
            &access.scope,
        )
        .await?;
    Ok(with_etag(set.version, &set))
}

/// `DELETE …/build-sets/{name}` (admin).
pub(crate) async fn delete_build_set(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, application_id, name)): ApiPath<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let app = access.app()?;
    state
        .store
        .delete_build_set(&access.actor, &access.org, app, &application_id, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairBody {
    certificate_id: Named<CredentialId>,
    profile_id: Named<CredentialId>,
}

/// `PUT …/ios/{bundle_id}/build-pairs/{distribution}` (developer; If-Match to replace).
pub(crate) async fn put_build_pair(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, bundle_id, distribution)): ApiPath<(String, String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PairBody>,
) -> ApiResult<Response> {
    let app = access.app()?;
    let version = if_match_optional(&headers)?;
    let (pair, created) = state
        .store
        .put_build_pair(
            &access.actor,
            &access.org,
            app,
            &bundle_id,
            &distribution,
            &body.certificate_id,
            &body.profile_id,
            version,
            &access.scope,
        )
        .await?;
    Ok(put_response(created, pair.version, &pair))
}

/// `DELETE …/ios/{bundle_id}/build-pairs/{distribution}` (admin).
pub(crate) async fn delete_build_pair(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, bundle_id, distribution)): ApiPath<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let app = access.app()?;
    state
        .store
        .delete_build_pair(&access.actor, &access.org, app, &bundle_id, &distribution)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlotBody {
    credential_id: Named<CredentialId>,
}

/// `PUT …/slots/{platform}/{identifier}/{slot}` (developer): assign a credential.
pub(crate) async fn set_slot(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, platform, identifier, slot)): ApiPath<(String, String, String, String, String)>,
    ApiJson(body): ApiJson<SlotBody>,
) -> ApiResult<impl IntoResponse> {
    let app = access.app()?;
    let link = state
        .store
        .set_link(
            &access.actor,
            &access.org,
            app,
            &platform,
            &identifier,
            &slot,
            &body.credential_id,
            &access.scope,
        )
        .await?;
    Ok(Json(link))
}

/// `DELETE …/slots/{platform}/{identifier}/{slot}` (admin).
pub(crate) async fn remove_slot(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, platform, identifier, slot)): ApiPath<(String, String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let app = access.app()?;
    state
        .store
        .remove_link(
            &access.actor,
            &access.org,
            app,
            &platform,
            &identifier,
            &slot,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub(crate) struct BuildQuery {
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
pub(crate) async fn build_credentials(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<BuildQuery>,
) -> ApiResult<Json<Value>> {
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
                    &access.org,
                    access.app_ref()?,
                    &access.scope,
                    application_id,
                    q.name.as_deref(),
                    access.role >= signet_store::Role::Admin,
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
            let app = access.resolve_app(&state).await?;
            let b = state
                .store
                .ios_build_credentials(
                    &access.actor,
                    &access.org,
                    &app,
                    bundle_id,
                    distribution,
                    access.role >= signet_store::Role::Admin,
                )
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
