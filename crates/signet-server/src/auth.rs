//! Who is calling and what they may do, enforced in one place: [`guard`] runs before
//! every route that needs more than anonymity, with that route's entry of
//! [`crate::routes::ROUTES`] (least role, which tokens may call it). It resolves the bearer
//! token, the caller's role in the path's organization and, for routes on one app, the
//! app, and hands the handler an [`Access`] (or a [`Caller`]). Handlers cannot be reached
//! around it: the extractors read what the guard left, and fail closed without it.
//!
//! Another organization's ids are 404, too low a role is 403, no or a bad token is 401.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, RawPathParams, Request, State},
    http::{header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use signet_store::{Actor, App, OrgId, Principal, Role, Scope, StoreError, UserId};

use crate::{
    AppState, ClientAddr, RequestId,
    error::ApiError,
    routes::{Need, Route, Tokens},
};

/// The longest path parameter accepted: ids, slugs, application and bundle ids are far
/// shorter; nothing longer is looked up.
pub const MAX_PATH_PARAM: usize = 255;

/// An authenticated caller.
#[derive(Clone)]
pub struct Caller {
    /// The token's owner.
    pub principal: Principal,
    /// For the audit log.
    pub actor: Actor,
}

/// The caller's address and request id, for the audit log, without authentication.
pub struct Origin(pub Actor);

pub(crate) fn origin(parts: &Parts) -> Actor {
    let ip = parts
        .extensions
        .get::<ClientAddr>()
        .map_or_else(|| "local".to_owned(), |c| c.0.to_string());
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

/// The caller's standing in the organization of the path.
#[derive(Clone)]
pub struct Access {
    /// The organization.
    pub org: OrgId,
    /// The caller's role there.
    pub role: Role,
    /// For the audit log.
    pub actor: Actor,
    /// What the caller may reach: the organization, or some of its apps.
    pub scope: Scope,
    app: Option<App>,
    app_ref: Option<String>,
}

impl Access {
    /// The app of the path (`{app}`), resolved and within the caller's scope.
    pub fn app(&self) -> Result<&App, ApiError> {
        self.app.as_ref().ok_or_else(unguarded)
    }

    /// The `{app}` of the path as given (id or slug), for a route that resolves it in its
    /// own query and checks it against [`Access::scope`] there.
    pub fn app_ref(&self) -> Result<&str, ApiError> {
        self.app_ref.as_deref().ok_or_else(unguarded)
    }

    /// The app of the path for a route that resolves it itself ([`Access::app_ref`]), when
    /// a branch of it needs the app after all: looked up and checked as the guard does.
    pub async fn resolve_app(&self, state: &AppState) -> Result<App, ApiError> {
        app_in_scope(state, &self.org, self.app_ref()?, &self.scope).await
    }
}

/// A handler that asks for what the guard did not provide: a route table mistake. Fails
/// closed.
fn unguarded() -> ApiError {
    tracing::error!("a handler ran without the access it needs; check the route table");
    ApiError::internal()
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(unguarded)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Access, ApiError> {
        parts
            .extensions
            .get::<Access>()
            .cloned()
            .ok_or_else(unguarded)
    }
}

impl Caller {
    /// The user behind a session token.
    pub fn user_id(&self) -> Result<&UserId, ApiError> {
        match &self.principal {
            Principal::User { user_id, .. } => Ok(user_id),
            Principal::Robot { .. } => Err(ApiError::forbidden(
                "this needs a user's session, not a robot token",
            )),
        }
    }
}

async fn authenticate(state: &AppState, parts: &Parts) -> Result<Caller, ApiError> {
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

/// The role of `caller` in `org`; 404 when it is not theirs.
pub(crate) async fn role_in(
    state: &AppState,
    caller: &Caller,
    org: &OrgId,
) -> Result<Role, ApiError> {
    match &caller.principal {
        Principal::User { user_id, .. } => state
            .store
            .role_of(org, user_id)
            .await?
            .ok_or_else(ApiError::not_found),
        Principal::Robot { org_id, role, .. } if org_id == org => Ok(*role),
        Principal::Robot { .. } => Err(ApiError::not_found()),
    }
}

/// The app `app_ref` (id or slug) of `org`, if `scope` reaches it: 404 when there is
/// none, 403 when it is another app's.
pub(crate) async fn app_in_scope(
    state: &AppState,
    org: &OrgId,
    app_ref: &str,
    scope: &Scope,
) -> Result<App, ApiError> {
    let app = state.store.app(org, app_ref).await?;
    if !scope.allows(&app.id) {
        return Err(ApiError::forbidden(
            "this robot token is not allowed to act on this app",
        ));
    }
    Ok(app)
}

/// Enforces `route`'s access rule, then runs the handler with the [`Caller`] and, for
/// routes in an organization, the [`Access`] it has.
pub async fn guard(
    State((state, route)): State<(Arc<AppState>, &'static Route)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match check(&state, route, &mut parts).await {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, route: &Route, parts: &mut Parts) -> Result<(), ApiError> {
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|_| ApiError::bad_request("a path segment is not valid percent-encoded UTF-8"))?;
    if params.iter().any(|(_, v)| v.len() > MAX_PATH_PARAM) {
        return Err(ApiError::not_found());
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    };
    let caller = match route.need {
        Need::Anonymous => return Ok(()),
        _ => authenticate(state, parts).await?,
    };
    let robot = matches!(caller.principal, Principal::Robot { .. });
    if robot && route.tokens == Tokens::Users {
        return Err(ApiError::forbidden(
            "this needs a user's session, not a robot token",
        ));
    }
    let Need::Role(min) = route.need else {
        parts.extensions.insert(caller);
        return Ok(());
    };
    // An organization id the store could not have minted is no organization of the
    // caller's: 404, as any other is.
    let org = param("org").ok_or_else(unguarded)?;
    let org = OrgId::parse(&org).map_err(|_| ApiError::not_found())?;
    let role = role_in(state, &caller, &org).await?;
    if role < min {
        return Err(ApiError::forbidden(format!(
            "this needs the {} role or higher; you are {}",
            min.name(),
            role.name()
        )));
    }
    let scope = match caller.principal.app_ids() {
        None => Scope::Org,
        Some(apps) => {
            if route.tokens != Tokens::AppScoped {
                return Err(ApiError::forbidden(
                    "this robot token is limited to some apps and cannot act on the organization",
                ));
            }
            Scope::Apps {
                apps: apps.to_vec(),
                creator: caller.actor.who.clone(),
            }
        }
    };
    let app_ref = param("app");
    let app = match app_ref.as_deref().filter(|_| !route.app_in_query) {
        None => None,
        Some(app) => Some(app_in_scope(state, &org, app, &scope).await?),
    };
    let access = Access {
        org,
        role,
        actor: caller.actor.clone(),
        scope,
        app,
        app_ref,
    };
    parts.extensions.insert(caller);
    parts.extensions.insert(access);
    Ok(())
}
