//! Credentials: upload (validated), list, read (ETag), replace and rename (If-Match),
//! soft delete and restore, impact, export, and the expiry report.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::{
    CredentialId, Kind,
    validate::{Upload, UploadError},
};

use super::{ApiPath, ApiQuery, ListQuery, path_id};
use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
    if_match, if_match_optional, with_etag,
};

/// An upload's JSON object, refused when a key appears twice: serde_json would keep the
/// last value, so `{"type":"fcm-legacy-key","type":"android-keystore",…}` or two
/// `store_password`s would be read as whichever came last.
pub(crate) struct UploadBody(Value);

impl<'de> serde::Deserialize<'de> for UploadBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Unique;
        impl<'de> serde::de::Visitor<'de> for Unique {
            type Value = serde_json::Map<String, Value>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Value>()?;
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate field `{key}`"
                        )));
                    }
                    out.insert(key, value);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Unique)
            .map(|m| UploadBody(Value::Object(m)))
    }
}

/// An upload read from its body: an unknown type or a missing required field is 422
/// `invalid` naming the field (as validation's refusals are), any other wrong shape 422
/// `invalid-body` whose detail names the field.
pub(crate) fn upload(body: Value) -> Result<Upload, ApiError> {
    Upload::from_json(body).map_err(|e| match e {
        UploadError::Invalid(e) => ApiError::from(e),
        UploadError::Shape(detail) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body", detail)
        }
    })
}

/// Validates an upload on a blocking thread: opening a keystore runs its password-based
/// key derivation, which must not hold up the async workers.
pub(crate) async fn validated(
    upload: Upload,
) -> Result<signet_store::validate::Validated, ApiError> {
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
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
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
        .credentials(&access.org, kind, deleted, &q.page()?)
        .await?;
    Ok(Json(json!(page)))
}

/// `POST /v1/orgs/{org}/credentials` (developer): validated, then stored sealed.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(UploadBody(body)): ApiJson<UploadBody>,
) -> ApiResult<Response> {
    let v = validated(upload(body)?).await?;
    let c = state
        .store
        .create_credential(&access.actor, &access.org, v)
        .await?;
    let mut response = with_etag(c.version, &c);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `GET /v1/orgs/{org}/credentials/{id}` (viewer), with its ETag.
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let id: CredentialId = path_id(&id)?;
    let c = state.store.credential(&access.org, &id, true).await?;
    Ok(with_etag(c.version, &c))
}

/// `PUT /v1/orgs/{org}/credentials/{id}` (developer, If-Match): a new file and secrets.
pub(crate) async fn replace(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(UploadBody(body)): ApiJson<UploadBody>,
) -> ApiResult<Response> {
    let upload = upload(body)?;
    let version = if_match(&headers)?;
    let v = validated(upload).await?;
    let id: CredentialId = path_id(&id)?;
    let c = state
        .store
        .replace_credential(&access.actor, &access.org, &id, version, v)
        .await?;
    Ok(with_etag(c.version, &c))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenameBody {
    name: String,
}

/// `PATCH /v1/orgs/{org}/credentials/{id}` (developer, If-Match): rename.
pub(crate) async fn rename(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RenameBody>,
) -> ApiResult<Response> {
    let version = if_match(&headers)?;
    // The store checks the name before it looks the credential up: so for an id that
    // cannot be one, too.
    let id: CredentialId = match path_id(&id) {
        Ok(id) => id,
        Err(not_found) => {
            signet_store::Credential::check_name(&body.name)?;
            return Err(not_found);
        }
    };
    let c = state
        .store
        .rename_credential(&access.actor, &access.org, &id, version, &body.name)
        .await?;
    Ok(with_etag(c.version, &c))
}

/// `DELETE /v1/orgs/{org}/credentials/{id}` (admin): soft delete, restorable; returns
/// what it breaks. Nothing is revoked at Apple or Google.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let version = if_match_optional(&headers)?;
    let id: CredentialId = path_id(&id)?;
    let impact = state
        .store
        .delete_credential(&access.actor, &access.org, &id, version)
        .await?;
    Ok(Json(json!({ "deleted": id, "impact": impact })))
}

/// `POST /v1/orgs/{org}/credentials/{id}/restore` (admin).
pub(crate) async fn restore(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let id: CredentialId = path_id(&id)?;
    let c = state
        .store
        .restore_credential(&access.actor, &access.org, &id)
        .await?;
    Ok(with_etag(c.version, &c))
}

/// `GET /v1/orgs/{org}/credentials/{id}/impact` (viewer).
pub(crate) async fn impact(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let id: CredentialId = path_id(&id)?;
    Ok(Json(state.store.impact(&access.org, &id).await?))
}

/// `GET /v1/orgs/{org}/credentials/{id}/secret` (admin): the raw secret material, audited;
/// deleted credentials too, until they are destroyed.
pub(crate) async fn export(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id: CredentialId = path_id(&id)?;
    let (c, secret) = state
        .store
        .export_secret(&access.actor, &access.org, &id)
        .await?;
    let secret: Value = serde_json::from_slice(&secret)
        .map_err(|_| ApiError::from(signet_store::StoreError::Malformed("secret encoding")))?;
    Ok(Json(json!({ "credential": c, "secret": secret })))
}

/// `GET /v1/orgs/{org}/expiring?days=30` (viewer): soonest first, expired included.
pub(crate) async fn expiring(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
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
        .expiring(&access.org, days * 86_400_000, &q.page()?)
        .await?;
    Ok(Json(json!(page)))
}

/// `GET /v1/orgs/{org}/credentials/{id}/versions` (viewer): previous versions kept since
/// the credential was replaced, newest first.
pub(crate) async fn versions(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id: CredentialId = path_id(&id)?;
    let items = state.store.credential_versions(&access.org, &id).await?;
    Ok(Json(json!({ "items": items })))
}

/// A version number in a path.
fn version_param(version: &str) -> Result<i64, ApiError> {
    version
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(ApiError::not_found)
}

/// `GET /v1/orgs/{org}/credentials/{id}/versions/{version}/secret` (admin): a previous
/// version's secret material, audited.
pub(crate) async fn export_version(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id, version)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let version = version_param(&version)?;
    let id: CredentialId = path_id(&id)?;
    let (v, secret) = state
        .store
        .export_version(&access.actor, &access.org, &id, version)
        .await?;
    let secret: Value = serde_json::from_slice(&secret)
        .map_err(|_| ApiError::from(signet_store::StoreError::Malformed("secret encoding")))?;
    Ok(Json(json!({ "version": v, "secret": secret })))
}

/// `POST /v1/orgs/{org}/credentials/{id}/versions/{version}/restore` (admin, If-Match on
/// the credential): the previous version becomes live again as a new version.
pub(crate) async fn restore_version(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id, version)): ApiPath<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let version = version_param(&version)?;
    let expected = if_match(&headers)?;
    let id: CredentialId = path_id(&id)?;
    let c = state
        .store
        .restore_version(&access.actor, &access.org, &id, version, expected)
        .await?;
    Ok(with_etag(c.version, &c))
}
