//! An organization, its members, its robot tokens and its audit log.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::IntoResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::Role;

use super::ListQuery;
use crate::{
    ApiJson, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
};

fn parse_role(role: &str) -> Result<Role, ApiError> {
    Role::parse(role).ok_or_else(|| ApiError::invalid("role", "viewer, developer, admin or owner"))
}

/// `GET /v1/orgs/{org}` (viewer).
pub(super) async fn get_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    let access = caller.access(&state, &org, Role::Viewer, false).await?;
    let o = state.store.org(&org).await?;
    let limits = state.store.limits();
    Ok(Json(json!({
        "id": o.id,
        "name": o.name,
        "role": access.role,
        "limits": {
            "distribution_certificates_per_apple_team": limits.distribution_certificates,
            "push_keys_per_apple_team": limits.push_keys,
            "restore_window_days": limits.restore_window.as_secs() / 86_400,
        },
    })))
}

/// `DELETE /v1/orgs/{org}` (owner): everything in it goes.
pub(super) async fn delete_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Owner, false).await?;
    state.store.delete_org(&access.actor, &org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/orgs/{org}/members` (viewer).
pub(super) async fn members(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.access(&state, &org, Role::Viewer, false).await?;
    Ok(Json(json!({ "items": state.store.members(&org).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MemberBody {
    email: String,
    role: String,
}

/// `PUT /v1/orgs/{org}/members` (admin; owner to grant or take the owner role).
pub(super) async fn set_member(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<MemberBody>,
) -> ApiResult<impl IntoResponse> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let role = parse_role(&body.role)?;
    let current = state
        .store
        .members(&org)
        .await?
        .into_iter()
        .find(|m| m.email == body.email)
        .map(|m| m.role);
    if (role == Role::Owner || current == Some(Role::Owner)) && access.role < Role::Owner {
        return Err(ApiError::forbidden(
            "only an owner can grant or take the owner role",
        ));
    }
    let member = state
        .store
        .set_member(&access.actor, &org, &body.email, role)
        .await?;
    Ok(Json(member))
}

/// `DELETE /v1/orgs/{org}/members/{user}` (admin; owner to remove an owner).
pub(super) async fn remove_member(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let target = state
        .store
        .role_of(&org, &user)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if target == Role::Owner && access.role < Role::Owner {
        return Err(ApiError::forbidden("only an owner can remove an owner"));
    }
    state
        .store
        .remove_member(&access.actor, &org, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/orgs/{org}/robots` (admin).
pub(super) async fn robots(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.access(&state, &org, Role::Admin, false).await?;
    Ok(Json(json!({ "items": state.store.robots(&org).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RobotBody {
    name: String,
    role: String,
    #[serde(default)]
    app_ids: Option<Vec<String>>,
}

/// `POST /v1/orgs/{org}/robots` (admin): the token is in the response, once.
pub(super) async fn create_robot(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<RobotBody>,
) -> ApiResult<impl IntoResponse> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    let role = parse_role(&body.role)?;
    if role > access.role {
        return Err(ApiError::forbidden(
            "a robot cannot have a higher role than its creator",
        ));
    }
    let (info, token) = state
        .store
        .create_robot(
            &access.actor,
            &org,
            &body.name,
            role,
            body.app_ids.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "robot": info, "token": token.as_str() })),
    ))
}

/// `DELETE /v1/orgs/{org}/robots/{id}` (admin).
pub(super) async fn revoke_robot(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = caller.access(&state, &org, Role::Admin, false).await?;
    state.store.revoke_robot(&access.actor, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/orgs/{org}/audit` (admin): newest first.
pub(super) async fn audit(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(org): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    caller.access(&state, &org, Role::Admin, false).await?;
    let page = state.store.audit_log(&org, &q.page()?).await?;
    Ok(Json(json!(page)))
}
