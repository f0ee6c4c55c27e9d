//! An organization, its members, its robot tokens and its audit log.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::{AppId, Named, Role, TokenId, UserId};

use super::{ApiPath, ApiQuery, ListQuery, path_id};
use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
};

fn parse_role(role: &str) -> Result<Role, ApiError> {
    Role::parse(role).ok_or_else(|| ApiError::invalid("role", "viewer, developer, admin or owner"))
}

/// `GET /v1/orgs/{org}` (viewer).
pub(crate) async fn get_org(
    State(state): State<Arc<AppState>>,
    access: Access,
) -> ApiResult<Json<Value>> {
    let o = state.store.org(&access.org).await?;
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
pub(crate) async fn delete_org(
    State(state): State<Arc<AppState>>,
    access: Access,
) -> ApiResult<StatusCode> {
    state.store.delete_org(&access.actor, &access.org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/orgs/{org}/members` (viewer).
pub(crate) async fn members(
    State(state): State<Arc<AppState>>,
    access: Access,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": state.store.members(&access.org).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberBody {
    email: String,
    role: String,
}

/// `PUT /v1/orgs/{org}/members` (admin; owner to grant or take the owner role).
pub(crate) async fn set_member(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<MemberBody>,
) -> ApiResult<impl IntoResponse> {
    let role = parse_role(&body.role)?;
    let current = state
        .store
        .members(&access.org)
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
        .set_member(&access.actor, &access.org, &body.email, role)
        .await?;
    Ok(Json(member))
}

/// `DELETE /v1/orgs/{org}/members/{user}` (admin; owner to remove an owner).
pub(crate) async fn remove_member(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, user)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let user: UserId = path_id(&user)?;
    let target = state
        .store
        .role_of(&access.org, &user)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if target == Role::Owner && access.role < Role::Owner {
        return Err(ApiError::forbidden("only an owner can remove an owner"));
    }
    state
        .store
        .remove_member(&access.actor, &access.org, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/orgs/{org}/robots` (admin).
pub(crate) async fn robots(
    State(state): State<Arc<AppState>>,
    access: Access,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": state.store.robots(&access.org).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RobotBody {
    name: String,
    role: String,
    #[serde(default)]
    app_ids: Option<Vec<Named<AppId>>>,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// `POST /v1/orgs/{org}/robots` (admin, a user's session: a robot cannot make robots):
/// the token is in the response, once.
pub(crate) async fn create_robot(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<RobotBody>,
) -> ApiResult<impl IntoResponse> {
    let role = parse_role(&body.role)?;
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days @ 1..=3650) => Some(
            time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + i64::from(days) * 86_400_000,
        ),
        Some(_) => return Err(ApiError::invalid("expires_in_days", "1 to 3650")),
    };
    if role > access.role {
        return Err(ApiError::forbidden(
            "a robot cannot have a higher role than its creator",
        ));
    }
    let (info, token) = state
        .store
        .create_robot(
            &access.actor,
            &access.org,
            &body.name,
            role,
            body.app_ids.as_deref(),
            expires_at,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "robot": info, "token": token.as_str() })),
    ))
}

/// `DELETE /v1/orgs/{org}/robots/{id}` (admin).
pub(crate) async fn revoke_robot(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let id: TokenId = path_id(&id)?;
    state
        .store
        .revoke_robot(&access.actor, &access.org, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/orgs/{org}/audit` (admin): newest first; `?action=sign` only signatures.
pub(crate) async fn audit(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let filter = signet_store::AuditFilter {
        action: q.action()?,
        ..signet_store::AuditFilter::default()
    };
    let page = state
        .store
        .audit_log_where(&access.org, &filter, &q.page()?)
        .await?;
    Ok(Json(json!(page)))
}
