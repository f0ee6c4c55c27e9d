//! First-run setup, login, logout, the caller, and creating organizations.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::{Role, secrets::TokenKind, validate::SecretString};

use crate::{
    ApiJson, AppState,
    auth::{Caller, Origin},
    error::{ApiError, ApiResult},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetupBody {
    setup_token: SecretString,
    email: String,
    password: SecretString,
    org: String,
}

/// `POST /v1/setup`: spend the one-time setup token printed at first start.
pub(super) async fn setup(
    State(state): State<Arc<AppState>>,
    Origin(actor): Origin,
    ApiJson(body): ApiJson<SetupBody>,
) -> ApiResult<impl IntoResponse> {
    let (user, org) = state
        .store
        .complete_setup(
            &actor,
            body.setup_token.expose(),
            &body.email,
            body.password.expose(),
            &body.org,
        )
        .await?;
    if let Some(file) = &state.setup_token_file {
        let _ = std::fs::remove_file(file);
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user, "org": org })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginBody {
    email: String,
    password: SecretString,
}

/// `POST /v1/auth/login`: a session token, shown once. Five failures in a row lock the
/// address for a minute (429 with `Retry-After`).
pub(super) async fn login(
    State(state): State<Arc<AppState>>,
    Origin(actor): Origin,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<axum::response::Response> {
    if let Err(seconds) = state.logins.check(&body.email) {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-logins",
            format!("too many failed logins for this address; try again in {seconds} s"),
        )
        .into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        return Ok(response);
    }
    let result = state
        .store
        .login(&actor, &body.email, body.password.expose())
        .await;
    let (user, info, token) = match result {
        Ok(ok) => {
            state.logins.succeeded(&body.email);
            ok
        }
        Err(signet_store::StoreError::Unauthenticated) => {
            state.logins.failed(&body.email);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "wrong e-mail or password",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user, "session": info, "token": token.as_str() })),
    )
        .into_response())
}

/// `POST /v1/auth/logout`: revokes the session used.
pub(super) async fn logout(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    let user = caller.user_id()?.to_owned();
    state
        .store
        .revoke_session(&caller.actor, &user, &caller.principal.token_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/me/sessions/{id}`: revokes another of the caller's sessions (a login on a
/// lost laptop); another user's session is 404.
pub(super) async fn revoke_session(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    let user = caller.user_id()?.to_owned();
    state
        .store
        .revoke_session(&caller.actor, &user, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/me`: who the token belongs to, and their organizations.
pub(super) async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let p = &caller.principal;
    Ok(Json(match p.kind {
        TokenKind::Session => {
            let user = state.store.user(caller.user_id()?).await?;
            let orgs = state.store.orgs_of(&user.id).await?;
            let sessions = state.store.sessions_of(&user.id).await?;
            json!({ "kind": "user", "user": user, "orgs": orgs, "sessions": sessions,
                    "token_id": p.token_id })
        }
        _ => json!({
            "kind": "robot",
            "token_id": p.token_id,
            "org": p.org_id,
            "role": p.role.map(Role::name),
            "app_ids": p.app_ids,
        }),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrgBody {
    name: String,
}

/// `POST /v1/orgs`: any user may create an organization and owns it.
pub(super) async fn create_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(body): ApiJson<OrgBody>,
) -> ApiResult<impl IntoResponse> {
    let user = caller.user_id()?.to_owned();
    let org = state
        .store
        .create_org(&caller.actor, &body.name, &user)
        .await?;
    Ok((StatusCode::CREATED, Json(org)))
}
