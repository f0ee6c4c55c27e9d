//! `POST /v1/orgs/{org}/apps/{app}/apns-token`: an ES256 APNs provider token minted with
//! the push key in the app's iOS `push-key` slot, so the push sender never holds the .p8.
//!
//! Tokens are cached in this process per (organization, push key credential, version) for
//! up to [`CACHE_FOR`]: Apple accepts a token for 60 minutes and refuses refreshes more
//! often than every 20 (`TooManyProviderTokenUpdates`), so handing every sender the same
//! token is what Apple wants. A replaced key has a new version and a deleted or reassigned
//! one is found by the slot lookup before the cache is read, so neither is ever served from
//! it. `fresh: true` mints a new one. Every call is audited (`apns-token.issue`, with the
//! key id and whether it came from the cache); a minted token reads the key through the
//! store's audited read. Replicas cache apart, which Apple tolerates (each refreshes at
//! most every 50 minutes).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use signet_formats::apple::p8::AuthKey;
use signet_store::{CredentialId, Metadata, OrgId, StoreError};
use zeroize::Zeroizing;

use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
};

/// How long a minted token is served again.
pub const CACHE_FOR: Duration = Duration::from_secs(50 * 60);
/// How long Apple accepts a token.
const LIFETIME_S: i64 = 60 * 60;

/// One cached token. The token is a bearer credential for pushes: zeroized when dropped.
#[derive(Clone)]
struct Cached {
    token: Arc<Zeroizing<String>>,
    issued_at: i64,
}

/// The tokens this process minted, per (organization, push key, key version).
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<(OrgId, CredentialId, i64), Cached>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache([redacted])")
    }
}

impl TokenCache {
    fn get(&self, key: &(OrgId, CredentialId, i64), now: i64) -> Option<Cached> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .get(key)
            .filter(|c| now - c.issued_at < cache_for_s() && now >= c.issued_at)
            .cloned()
    }

    fn put(&self, key: (OrgId, CredentialId, i64), cached: Cached, now: i64) {
        if let Ok(mut tokens) = self.tokens.lock() {
            // Expired entries and other versions of this key go, so the map stays small.
            tokens.retain(|k, c| {
                now - c.issued_at < cache_for_s() && !(k.0 == key.0 && k.1 == key.1)
            });
            tokens.insert(key, cached);
        }
    }
}

fn cache_for_s() -> i64 {
    i64::try_from(CACHE_FOR.as_secs()).unwrap_or(i64::MAX)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    bundle_id: Option<String>,
    #[serde(default)]
    fresh: bool,
}

/// The answer: the token and what it was minted with.
#[derive(Serialize)]
struct Minted<'a> {
    token: &'a str,
    key_id: &'a str,
    team_id: &'a str,
    bundle_id: &'a str,
    push_key_id: &'a CredentialId,
    issued_at: i64,
    expires_at: i64,
    cached: bool,
}

/// A push key's sealed secret, as validation wrote it.
#[derive(Deserialize)]
struct PushKeySecret {
    p8: String,
    key_id: String,
    team_id: String,
}

fn internal() -> ApiError {
    ApiError::from(StoreError::Malformed("push key secret"))
}

/// `POST /v1/orgs/{org}/apps/{app}/apns-token` (developer, app-scoped robots of the app).
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let app = access.app()?.clone();
    let store = &state.store;
    let (bundle, c) = store
        .app_push_key(&access.org, &app, body.bundle_id.as_deref())
        .await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (key_id, team_id) = match &c.metadata {
        Metadata::ApplePushKey(m) => (m.key_id.clone(), m.team_id.clone()),
        _ => return Err(internal()),
    };
    let key = (access.org.clone(), c.id.clone(), c.version);
    if !body.fresh
        && let Some(hit) = state.apns_tokens.get(&key, now)
    {
        store
            .audit_use(
                &access.actor,
                &access.org,
                "apns-token.issue",
                c.id.as_str(),
                json!({ "key_id": key_id, "team_id": team_id, "bundle_id": bundle,
                        "app": app.slug, "cached": true, "issued_at": hit.issued_at }),
            )
            .await?;
        return Ok(answer(&hit, &key_id, &team_id, &bundle, &c.id, true));
    }
    // The key as it is now (read and audited in one step): its version may have moved
    // since the lookup, so what is cached is keyed by what was read.
    let (read, secret) = store
        .read_secret(
            &access.actor,
            &access.org,
            &c.id,
            "apns-token.issue",
            &json!({ "key_id": key_id, "team_id": team_id, "bundle_id": bundle,
                     "app": app.slug, "cached": false, "fresh": body.fresh, "issued_at": now }),
        )
        .await?;
    let secret: PushKeySecret = serde_json::from_slice(&secret).map_err(|_| internal())?;
    let p8 = Zeroizing::new(secret.p8);
    let auth = AuthKey::parse(p8.as_bytes()).map_err(|_| internal())?;
    let token = auth
        .provider_token(&secret.key_id, &secret.team_id, now)
        .map_err(|_| internal())?;
    let minted = Cached {
        token: Arc::new(Zeroizing::new(token)),
        issued_at: now,
    };
    state.apns_tokens.put(
        (access.org.clone(), read.id.clone(), read.version),
        minted.clone(),
        now,
    );
    Ok(answer(
        &minted,
        &secret.key_id,
        &secret.team_id,
        &bundle,
        &read.id,
        false,
    ))
}

fn answer(
    t: &Cached,
    key_id: &str,
    team_id: &str,
    bundle: &str,
    id: &CredentialId,
    cached: bool,
) -> (StatusCode, Json<serde_json::Value>) {
    let body = Minted {
        token: t.token.as_str(),
        key_id,
        team_id,
        bundle_id: bundle,
        push_key_id: id,
        issued_at: t.issued_at,
        expires_at: t.issued_at + LIFETIME_S,
        cached,
    };
    (StatusCode::OK, Json(json!(body)))
}
