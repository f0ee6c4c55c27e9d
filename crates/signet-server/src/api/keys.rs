//! Keys made on the server: Android keystores generated for build sets, and Apple
//! certificate requests (the key stays here, the CSR goes out, Apple's `.cer` comes back).

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde::Deserialize;
use signet_store::{CertificateRequestId, KeystoreSpec};

use super::{ApiPath, ApiQuery, ListQuery, path_id};
use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
    with_etag,
};

/// `POST /v1/orgs/{org}/credentials/generate` (developer, app-scoped robots too): an
/// android-keystore generated here; the answer is its record (certificate, fingerprints),
/// never the key or its password.
pub(crate) async fn generate_keystore(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(spec): ApiJson<KeystoreSpec>,
) -> ApiResult<Response> {
    let c = state
        .store
        .generate_keystore(&access.actor, &access.org, spec)
        .await?;
    let mut response = with_etag(c.version, &c);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRequest {
    common_name: String,
    email: Option<String>,
}

/// `POST /v1/orgs/{org}/certificate-requests` (developer): a key made and kept here, and
/// the CSR to upload on Apple's portal.
pub(crate) async fn create_request(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<NewRequest>,
) -> ApiResult<Response> {
    let r = state
        .store
        .create_certificate_request(
            &access.actor,
            &access.org,
            &body.common_name,
            body.email.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// `GET /v1/orgs/{org}/certificate-requests` (viewer).
pub(crate) async fn list_requests(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state
            .store
            .certificate_requests(&access.org, &q.page()?)
            .await?,
    ))
}

/// `GET /v1/orgs/{org}/certificate-requests/{id}` (viewer).
pub(crate) async fn get_request(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let id: CertificateRequestId = path_id(&id)?;
    Ok(Json(
        state.store.certificate_request(&access.org, &id).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Certificate {
    /// Apple's `.cer`: base64 of the DER, or PEM.
    certificate: String,
    name: Option<String>,
}

/// `POST /v1/orgs/{org}/certificate-requests/{id}/certificate` (developer): Apple's
/// certificate joined to the request's key into a stored apple-distribution-certificate.
pub(crate) async fn complete_request(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Certificate>,
) -> ApiResult<Response> {
    let cer = if body.certificate.contains("-----BEGIN") {
        body.certificate.into_bytes()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(body.certificate.trim())
            .map_err(|_| {
                ApiError::invalid("certificate", "neither PEM nor base64 of a DER certificate")
            })?
    };
    if let Some(name) = &body.name {
        signet_store::Credential::check_name(name)?;
    }
    let id: CertificateRequestId = path_id(&id)?;
    let c = state
        .store
        .complete_certificate_request(&access.actor, &access.org, &id, &cer, body.name.as_deref())
        .await?;
    let mut response = with_etag(c.version, &c);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OptIn {
    /// The new upload key's build set [default: `upload`].
    build_set: Option<String>,
}

/// `POST /v1/orgs/{org}/apps/{app}/android/{application_id}/play-app-signing` (admin): the
/// default keystore marked as Google's app-signing key, a new upload key generated and
/// made the default, in one transaction.
pub(crate) async fn opt_in_play_signing(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, application_id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<OptIn>,
) -> ApiResult<Response> {
    let app = access.app()?.clone();
    let opted = state
        .store
        .opt_in_play_app_signing(
            &access.actor,
            &access.org,
            &app,
            &application_id,
            body.build_set.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(opted)).into_response())
}
