//! First-run setup, login, logout, the caller, and creating organizations.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use signet_store::{
    MAX_EMAIL_BYTES, MAX_PASSWORD_BYTES, Principal, StoreError, TokenId, TokenInfo, User,
    validate::SecretString,
};
use zeroize::Zeroizing;

use crate::{
    ApiJson, AppState,
    auth::{Caller, Origin},
    error::{ApiError, ApiResult},
    login_limit,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetupBody {
    setup_token: SecretString,
    email: String,
    password: SecretString,
    org: String,
}

/// `POST /v1/setup`: spend the one-time setup token printed at first start.
pub(crate) async fn setup(
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
pub(crate) struct LoginBody {
    email: String,
    password: SecretString,
}

/// `POST /v1/auth/login`: a session token, shown once. Attempts are counted before the
/// password is checked, per account and address and per account ([`crate::login_limit`]):
/// past the budget, 429 with `Retry-After`; when too many passwords are being checked,
/// 503 with `Retry-After`.
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    Origin(actor): Origin,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<axum::response::Response> {
    let (user, info, token) =
        checked_login(&state, &actor, &body.email, body.password.expose()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user, "session": info, "token": token.as_str() })),
    )
        .into_response())
}

/// A login as `POST /v1/auth/login` checks it (the web page's sign-in too): sizes, the
/// attempt budgets of [`crate::login_limit`], then the password.
pub(crate) async fn checked_login(
    state: &AppState,
    actor: &signet_store::Actor,
    email: &str,
    password: &str,
) -> ApiResult<(User, TokenInfo, Zeroizing<String>)> {
    if email.len() > MAX_EMAIL_BYTES {
        return Err(ApiError::invalid(
            "email",
            format!("at most {MAX_EMAIL_BYTES} bytes"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid(
            "password",
            format!("at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    let store = &state.store;
    // Counted before the password is checked; an attempt refused by a later budget, or
    // not checked because the hashers are busy, is given back to the earlier ones.
    let budgets = [
        (login_limit::client_key(&actor.ip), &login_limit::PER_CLIENT),
        (
            login_limit::address_key(email, &actor.ip),
            &login_limit::PER_ADDRESS,
        ),
        (login_limit::account_key(email), &login_limit::PER_ACCOUNT),
    ];
    for (taken, (key, budget)) in budgets.iter().enumerate() {
        if let Err(e) = store.take_attempt(key, budget).await {
            for (key, _) in &budgets[..taken] {
                store.refund_attempt(key).await?;
            }
            return Err(e.into());
        }
    }
    let [(client, _), (address, _), (account, _)] = &budgets;
    match store.login(actor, email, password).await {
        Ok(ok) => {
            store.forget_attempts(address).await?;
            store.refund_attempt(account).await?;
            store.refund_attempt(client).await?;
            Ok(ok)
        }
        Err(StoreError::Unauthenticated) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            WRONG_LOGIN,
        )),
        Err(other) => {
            // Busy (503): no password was checked; give the attempts back.
            for (key, _) in &budgets {
                store.refund_attempt(key).await?;
            }
            Err(other.into())
        }
    }
}

/// The answer to a wrong e-mail or password (the API's detail, the sign-in page's error).
pub(crate) const WRONG_LOGIN: &str = "wrong e-mail or password";

/// `POST /v1/auth/logout`: revokes the session used.
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    let user = caller.user_id()?.clone();
    state
        .store
        .revoke_session(&caller.actor, &user, caller.principal.token_id())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/me/sessions/{id}`: revokes another of the caller's sessions (a login on a
/// lost laptop); another user's session is 404.
pub(crate) async fn revoke_session(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    super::ApiPath(id): super::ApiPath<String>,
) -> ApiResult<StatusCode> {
    let user = caller.user_id()?.to_owned();
    let id: TokenId = super::path_id(&id)?;
    state
        .store
        .revoke_session(&caller.actor, &user, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/me`: who the token belongs to, and their organizations.
pub(crate) async fn me(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    Ok(Json(match &caller.principal {
        Principal::User { token_id, user_id } => {
            let user = state.store.user(user_id).await?;
            let orgs = state.store.orgs_of(&user.id).await?;
            let sessions = state.store.sessions_of(&user.id).await?;
            json!({ "kind": "user", "user": user, "orgs": orgs, "sessions": sessions,
                    "token_id": token_id })
        }
        Principal::Robot {
            token_id,
            org_id,
            role,
            app_ids,
        } => json!({
            "kind": "robot",
            "token_id": token_id,
            "org": org_id,
            "role": role.name(),
            "app_ids": app_ids,
        }),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrgBody {
    name: String,
}

/// `POST /v1/orgs`: any user may create an organization and owns it.
pub(crate) async fn create_org(
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
