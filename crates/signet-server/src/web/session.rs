//! Signing in and out, and the organization picker at `/`.

use std::sync::Arc;

use axum::{
    Form,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::html;
use serde::Deserialize;
use signet_store::validate::SecretString;

use super::{Secure, WebResult, WebSession, layout, see_other, session_cookie};
use crate::{AppState, api::account, auth::Origin};

fn login_form(email: &str, error: Option<&str>) -> maud::Markup {
    html! {
        form #login-form method="post" action="/login" {
            @if let Some(e) = error {
                p #login-error .form-error { (e) }
            }
            (layout::field("email", "E-mail", &html! {
                input #f-email type="email" name="email" value=(email) required autocomplete="username";
            }, None))
            (layout::field("password", "Password", &html! {
                input #f-password type="password" name="password" required autocomplete="current-password";
            }, None))
            button #login-submit .primary type="submit" { "Sign in" }
        }
    }
}

pub(crate) async fn login_page() -> Response {
    layout::shell("Sign in", None, &login_form("", None)).into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: SecretString,
}

/// `POST /login`: the API's login (same budgets); the session token goes into the
/// cookie only.
pub(crate) async fn login(
    State(state): State<Arc<AppState>>,
    Origin(actor): Origin,
    Secure(secure): Secure,
    Form(form): Form<LoginForm>,
) -> Response {
    match account::checked_login(&state, &actor, &form.email, form.password.expose()).await {
        Ok((_, _, token)) => {
            let mut response = see_other("/");
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(Some(&token), secure));
            response
        }
        Err(e) => {
            let status = e.status();
            // An e-mail no account can have is not echoed back.
            let email = if form.email.len() > signet_store::MAX_EMAIL_BYTES {
                ""
            } else {
                form.email.as_str()
            };
            let body = layout::shell("Sign in", None, &login_form(email, Some(e.detail())));
            (status, body).into_response()
        }
    }
}

/// `POST /logout`: revokes the session and clears the cookie.
pub(crate) async fn logout(
    State(state): State<Arc<AppState>>,
    session: WebSession,
    Secure(secure): Secure,
) -> WebResult {
    state
        .store
        .revoke_session(&session.actor, &session.user, &session.token_id)
        .await?;
    let mut response = see_other("/login");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(None, secure));
    Ok(response)
}

/// `GET /`: the user's organization, or a choice of them.
pub(crate) async fn index(State(state): State<Arc<AppState>>, session: WebSession) -> WebResult {
    let orgs = state.store.orgs_of(&session.user).await?;
    if let [org] = orgs.as_slice() {
        return Ok(see_other(&format!("/orgs/{}", org.id)));
    }
    let header = html! {
        header.top {
            a.brand href="/" { "signet" }
            form #logout-form method="post" action="/logout" {
                (layout::csrf(&session.csrf))
                button #logout-submit type="submit" { "Sign out" }
            }
        }
    };
    let body = html! {
        @if orgs.is_empty() {
            p { "You are not a member of any organization yet." }
        }
        ul #orgs {
            @for org in &orgs {
                li {
                    a.org-link href=(format!("/orgs/{}", org.id)) { (org.name) }
                    @if let Some(role) = org.role { " " span.muted { (role.name()) } }
                }
            }
        }
    };
    Ok((
        StatusCode::OK,
        layout::shell("Organizations", Some(&header), &body),
    )
        .into_response())
}
