//! Who is calling and what they may do: bearer tokens resolved to a principal, then a
//! role in the organization of the path (SPEC §3). Another organization's ids are 404,
//! too low a role is 403, no or a bad token is 401.

use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};
use signet_store::{Actor, App, Principal, Role, StoreError, secrets::TokenKind};

use crate::{AppState, RequestId, error::ApiError};

/// An authenticated caller.
pub struct Caller {
    /// The token's owner.
    pub principal: Principal,
    /// For the audit log.
    pub actor: Actor,
}

/// The caller's address and request id, for the audit log, without authentication.
pub struct Origin(pub Actor);

fn origin(parts: &Parts) -> Actor {
    let ip = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "local".to_owned(), |c| c.0.ip().to_string());
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    Actor {
        who: "anonymous".into(),
        ip,
        request_id,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Origin, ApiError> {
        Ok(Origin(origin(parts)))
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Caller, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthenticated)?;
        let principal = state.store.authenticate(token).await.map_err(|e| match e {
            StoreError::Unauthenticated => ApiError::unauthenticated(),
            other => other.into(),
        })?;
        let mut actor = origin(parts);
        actor.who = principal.who();
        Ok(Caller { principal, actor })
    }
}

/// The caller's standing in one organization.
pub struct Access {
    /// The organization.
    pub org: String,
    /// The caller's role there.
    pub role: Role,
    /// For the audit log.
    pub actor: Actor,
    apps: Option<Vec<String>>,
}

impl Caller {
    /// The user behind a session token; robots are refused.
    pub fn user_id(&self) -> Result<&str, ApiError> {
        match (&self.principal.user_id, self.principal.kind) {
            (Some(u), TokenKind::Session) => Ok(u),
            _ => Err(ApiError::forbidden(
                "this needs a user's session, not a robot token",
            )),
        }
    }

    /// Requires at least `min` in `org`. `app_route`: the endpoint works on one app, so
    /// a robot limited to some apps may call it (the app is checked by [`Access::app`]).
    pub async fn access(
        &self,
        state: &AppState,
        org: &str,
        min: Role,
        app_route: bool,
    ) -> Result<Access, ApiError> {
        let p = &self.principal;
        let role = match p.kind {
            TokenKind::Session => {
                let user = p.user_id.as_deref().ok_or_else(ApiError::unauthenticated)?;
                state
                    .store
                    .role_of(org, user)
                    .await?
                    .ok_or_else(ApiError::not_found)?
            }
            TokenKind::Robot => {
                if p.org_id.as_deref() != Some(org) {
                    return Err(ApiError::not_found());
                }
                p.role.ok_or_else(ApiError::unauthenticated)?
            }
            TokenKind::Setup => return Err(ApiError::unauthenticated()),
        };
        if role < min {
            return Err(ApiError::forbidden(format!(
                "this needs the {} role or higher; you are {}",
                min.name(),
                role.name()
            )));
        }
        if p.app_ids.is_some() && !app_route {
            return Err(ApiError::forbidden(
                "this robot token is limited to some apps and cannot act on the organization",
            ));
        }
        Ok(Access {
            org: org.to_owned(),
            role,
            actor: self.actor.clone(),
            apps: p.app_ids.clone(),
        })
    }
}

impl Access {
    /// Whether the caller may act on `app` (a robot limited to some apps).
    pub fn allows(&self, app: &App) -> bool {
        self.apps.as_ref().is_none_or(|apps| apps.contains(&app.id))
    }

    /// Resolves an app (id or slug) of the organization, within a robot's app scope.
    pub async fn app(&self, state: &AppState, id_or_slug: &str) -> Result<App, ApiError> {
        let app = state.store.app(&self.org, id_or_slug).await?;
        if !self.allows(&app) {
            return Err(ApiError::forbidden(
                "this robot token is not allowed to act on this app",
            ));
        }
        Ok(app)
    }
}
