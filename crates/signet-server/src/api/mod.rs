//! The routes. Each handler authenticates ([`crate::auth::Caller`]), checks the role the
//! route needs ([`crate::openapi::ROUTES`] documents the same), calls the store and maps
//! its errors to problem+json.

mod account;
mod apps;
mod credentials;
mod orgs;

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use serde::Deserialize;
use signet_store::PageRequest;

use crate::{AppState, error::ApiError};

/// Query parameters of lists. Parsed by hand so a bad value is a problem+json 422.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    deleted: Option<String>,
    days: Option<String>,
}

impl ListQuery {
    fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match &self.limit {
            Some(l) => Some(
                l.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| ApiError::invalid("limit", "a number from 1 to 500"))?,
            ),
            None => None,
        };
        Ok(PageRequest {
            cursor: self.cursor.clone(),
            limit,
        })
    }

    fn flag(value: Option<&String>, field: &str) -> Result<bool, ApiError> {
        match value.map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::invalid(field, "true or false")),
        }
    }
}

/// Every route of the API.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/setup", post(account::setup))
        .route("/v1/auth/login", post(account::login))
        .route("/v1/auth/logout", post(account::logout))
        .route("/v1/me", get(account::me))
        .route("/v1/me/sessions/{id}", delete(account::revoke_session))
        .route("/v1/orgs", post(account::create_org))
        .route(
            "/v1/orgs/{org}",
            get(orgs::get_org).delete(orgs::delete_org),
        )
        .route(
            "/v1/orgs/{org}/members",
            get(orgs::members).put(orgs::set_member),
        )
        .route("/v1/orgs/{org}/members/{user}", delete(orgs::remove_member))
        .route(
            "/v1/orgs/{org}/robots",
            get(orgs::robots).post(orgs::create_robot),
        )
        .route("/v1/orgs/{org}/robots/{id}", delete(orgs::revoke_robot))
        .route("/v1/orgs/{org}/audit", get(orgs::audit))
        .route(
            "/v1/orgs/{org}/credentials",
            get(credentials::list).post(credentials::create),
        )
        .route(
            "/v1/orgs/{org}/credentials/{id}",
            get(credentials::get)
                .put(credentials::replace)
                .patch(credentials::rename)
                .delete(credentials::delete),
        )
        .route(
            "/v1/orgs/{org}/credentials/{id}/restore",
            post(credentials::restore),
        )
        .route(
            "/v1/orgs/{org}/credentials/{id}/impact",
            get(credentials::impact),
        )
        .route(
            "/v1/orgs/{org}/credentials/{id}/secret",
            get(credentials::export),
        )
        .route("/v1/orgs/{org}/expiring", get(credentials::expiring))
        .route("/v1/orgs/{org}/apps", get(apps::list).post(apps::create))
        .route(
            "/v1/orgs/{org}/apps/{app}",
            get(apps::get).delete(apps::delete),
        )
        .route(
            "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}",
            put(apps::put_build_set)
                .patch(apps::rename_build_set)
                .delete(apps::delete_build_set),
        )
        .route(
            "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default",
            post(apps::make_default),
        )
        .route(
            "/v1/orgs/{org}/apps/{app}/ios/{bundle_id}/build-pairs/{distribution}",
            put(apps::put_build_pair).delete(apps::delete_build_pair),
        )
        .route(
            "/v1/orgs/{org}/apps/{app}/slots/{platform}/{identifier}/{slot}",
            put(apps::set_slot).delete(apps::remove_slot),
        )
        .route(
            "/v1/orgs/{org}/apps/{app}/build-credentials",
            get(apps::build_credentials),
        )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
