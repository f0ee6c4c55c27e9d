//! The Apple side through App Store Connect (issue 12): setup, doctor, devices and
//! certificates of an app's team, with the key of the app's `asc-api-key` slot, which
//! never leaves the server. The flows are signet-apple's; these handlers map their errors.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use signet_apple::{
    AscError, Context, FlowError,
    report::{CertificateList, DeviceEntry, Distribution, DoctorReport, Revoked, SetupReport},
};

use super::{ApiPath, ApiQuery};
use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
};

fn context<'a>(state: &'a AppState, access: &'a Access) -> Result<Context<'a>, ApiError> {
    Ok(Context {
        store: &state.store,
        actor: &access.actor,
        org: &access.org,
        app: access.app()?,
        scope: &access.scope,
        may_delete: access.role >= signet_store::Role::Admin
            && matches!(access.scope, signet_store::Scope::Org),
        asc_url: &state.asc_url,
        policy: signet_apple::Policy::default(),
    })
}

/// A flow's failure as problem+json: Apple's refusals with Apple's status, code and
/// detail; the certificate limit with Apple's list of certificates.
pub(crate) fn flow_error(e: FlowError) -> ApiError {
    match e {
        FlowError::Store(s) => s.into(),
        FlowError::NoAscKey { .. } | FlowError::WhichAscKey => {
            ApiError::new(StatusCode::CONFLICT, "asc-key-missing", e.to_string())
        }
        FlowError::CertificateLimit {
            detail,
            certificates,
        } => ApiError::new(StatusCode::CONFLICT, "certificate-limit", detail)
            .with(json!({ "certificates": certificates })),
        FlowError::NoDevices(_) => ApiError::new(StatusCode::CONFLICT, "no-devices", e.to_string()),
        FlowError::Invalid { field, reason } => ApiError::invalid(field, reason),
        FlowError::NoSuchCertificate(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "not-found", e.to_string())
        }
        FlowError::Unusable { .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, "apple", e.to_string())
        }
        FlowError::Asc(a) => asc_error(&a),
        other => {
            tracing::error!(error = %other, "App Store Connect flow");
            ApiError::internal()
        }
    }
}

fn asc_error(e: &AscError) -> ApiError {
    match e {
        AscError::Apple { status, errors } => {
            let first = errors.first();
            ApiError::new(StatusCode::BAD_GATEWAY, "apple", e.to_string()).with(json!({
                "apple_status": status,
                "apple_code": first.map(|x| x.code.clone()),
                "apple_detail": first.map(|x| x.detail.clone()),
            }))
        }
        AscError::Unavailable { .. } | AscError::Transport { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "apple-unavailable",
            e.to_string(),
        ),
        AscError::Key(_) => ApiError::new(StatusCode::CONFLICT, "asc-key-unusable", e.to_string()),
        _ => ApiError::new(StatusCode::BAD_GATEWAY, "apple", e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetupBody {
    distribution: String,
    /// The app's entitlements (a plist dictionary as JSON): the capabilities to enable.
    entitlements: Option<Map<String, Value>>,
}

fn distribution(s: &str) -> Result<Distribution, ApiError> {
    Distribution::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "distribution",
            "one of: app-store, ad-hoc, enterprise, development",
        )
    })
}

/// `POST …/apps/{app}/ios/{bundle_id}/setup` (developer).
pub(crate) async fn setup(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, bundle_id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<SetupBody>,
) -> ApiResult<Json<SetupReport>> {
    let d = distribution(&body.distribution)?;
    let cx = context(&state, &access)?;
    Ok(Json(
        cx.setup(&bundle_id, d, body.entitlements.as_ref())
            .await
            .map_err(flow_error)?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DoctorBody {
    bundle_id: Option<String>,
    #[serde(default)]
    fix: bool,
}

/// `POST …/apps/{app}/apple/doctor` (developer).
pub(crate) async fn doctor(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<DoctorBody>,
) -> ApiResult<Json<DoctorReport>> {
    let cx = context(&state, &access)?;
    Ok(Json(
        cx.doctor(body.bundle_id.as_deref(), body.fix)
            .await
            .map_err(flow_error)?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct KeyQuery {
    bundle_id: Option<String>,
}

/// `GET …/apps/{app}/apple/devices` (developer).
pub(crate) async fn devices(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<KeyQuery>,
) -> ApiResult<Json<Value>> {
    let cx = context(&state, &access)?;
    let devices = cx
        .devices(q.bundle_id.as_deref())
        .await
        .map_err(flow_error)?;
    Ok(Json(json!({ "devices": devices })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceBody {
    udid: String,
    name: String,
    platform: Option<String>,
    bundle_id: Option<String>,
}

/// `POST …/apps/{app}/apple/devices` (developer).
pub(crate) async fn add_device(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<DeviceBody>,
) -> ApiResult<(StatusCode, Json<DeviceEntry>)> {
    let cx = context(&state, &access)?;
    let d = cx
        .add_device(
            body.bundle_id.as_deref(),
            &body.udid,
            &body.name,
            body.platform.as_deref().unwrap_or("IOS"),
        )
        .await
        .map_err(flow_error)?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// `GET …/apps/{app}/apple/certificates` (developer).
pub(crate) async fn certificates(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<KeyQuery>,
) -> ApiResult<Json<CertificateList>> {
    let cx = context(&state, &access)?;
    Ok(Json(
        cx.certificates(q.bundle_id.as_deref())
            .await
            .map_err(flow_error)?,
    ))
}

/// `DELETE …/apps/{app}/apple/certificates/{id}` (admin): revoke at Apple.
pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, _, id)): ApiPath<(String, String, String)>,
    ApiQuery(q): ApiQuery<KeyQuery>,
) -> ApiResult<Json<Revoked>> {
    let cx = context(&state, &access)?;
    Ok(Json(
        cx.revoke(q.bundle_id.as_deref(), &id)
            .await
            .map_err(flow_error)?,
    ))
}
