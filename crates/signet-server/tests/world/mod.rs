//! The router in process with one organization (owner, admin, developer), apps `a` and
//! `b` with a keystore each, and a request builder that sets the client address: what the
//! security and rule tests share.
// Each test binary uses a part of this harness.
#![allow(dead_code)]

use crate::fixtures;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{HeaderMap, Method, Request, StatusCode},
};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use signet_server::AppState;
use signet_store::{Actor, CredentialId, OrgId, Role, Store, validate};
use tower::ServiceExt as _;

pub(crate) const STORE_PASS: &str = "storepass-123";
pub(crate) const KEY_PASS: &str = "keypass-456";
pub(crate) const P12_PASS: &str = "p12-pass";
pub(crate) const PASSWORD: &str = "correct horse battery";

use crate::fixtures::{random_hex, sqlite_store};

pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Response {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub(crate) fn problem_type(&self) -> String {
        self.json()["type"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

/// One request, from `from` (the client address the server sees).
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) body: Option<Value>,
    /// A body sent as it is, with this `Content-Type` (none when `None`).
    pub(crate) raw: Option<(Option<&'a str>, Vec<u8>)>,
    pub(crate) if_match: Option<String>,
    pub(crate) headers: Vec<(&'a str, String)>,
    pub(crate) from: SocketAddr,
}

pub(crate) fn call<'a>(method: &'a str, path: &'a str) -> Call<'a> {
    Call {
        method,
        path,
        token: None,
        body: None,
        raw: None,
        if_match: None,
        headers: Vec::new(),
        from: "192.0.2.1:40000".parse().unwrap(),
    }
}

impl<'a> Call<'a> {
    pub(crate) fn token(mut self, token: &'a str) -> Call<'a> {
        self.token = Some(token);
        self
    }

    pub(crate) fn body(mut self, body: Value) -> Call<'a> {
        self.body = Some(body);
        self
    }

    /// A body of any bytes, with `content_type` or none.
    pub(crate) fn raw_body(mut self, content_type: Option<&'a str>, bytes: Vec<u8>) -> Call<'a> {
        self.raw = Some((content_type, bytes));
        self
    }

    pub(crate) fn if_match(mut self, version: i64) -> Call<'a> {
        self.if_match = Some(format!("\"{version}\""));
        self
    }

    pub(crate) fn header(mut self, name: &'a str, value: &str) -> Call<'a> {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub(crate) fn from(mut self, ip: &str) -> Call<'a> {
        self.from = format!("{ip}:40000").parse().unwrap();
        self
    }

    pub(crate) async fn send(self, app: &Router) -> Response {
        let mut req = Request::builder()
            .method(Method::from_bytes(self.method.as_bytes()).unwrap())
            .uri(self.path);
        if let Some(t) = self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(v) = &self.if_match {
            req = req.header("if-match", v);
        }
        for (name, value) in &self.headers {
            req = req.header(*name, value);
        }
        let mut req = match (&self.body, self.raw) {
            (Some(b), _) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            (None, Some((content_type, bytes))) => {
                if let Some(t) = content_type {
                    req = req.header("content-type", t);
                }
                req.body(Body::from(bytes))
            }
            (None, None) => req.body(Body::empty()),
        }
        .unwrap();
        req.extensions_mut().insert(ConnectInfo(self.from));
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Response {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

pub(crate) fn actor() -> Actor {
    Actor::system("test")
}

/// An organization with an owner, an admin and a developer, apps `a` and `b`, and a
/// keystore assigned to each app's build set.
pub(crate) struct World {
    pub(crate) state: Arc<AppState>,
    pub(crate) app: Router,
    pub(crate) org: OrgId,
    pub(crate) owner_email: String,
    pub(crate) owner: String,
    pub(crate) admin: String,
    pub(crate) developer: String,
    pub(crate) app_a: signet_store::App,
    pub(crate) app_b: signet_store::App,
    pub(crate) keystore_a: CredentialId,
    pub(crate) keystore_b: CredentialId,
    /// Keeps the SQLite data dir alive as long as the world.
    #[allow(dead_code)]
    pub(crate) dir: Option<tempfile::TempDir>,
}

pub(crate) async fn upload(store: &Store, org: &OrgId, body: Value) -> CredentialId {
    let upload: validate::Upload = serde_json::from_value(body).unwrap();
    let v = validate::validate(&upload, time::OffsetDateTime::now_utc()).unwrap();
    store.create_credential(&actor(), org, v).await.unwrap().id
}

pub(crate) fn keystore_upload(alias: &str) -> Value {
    json!({ "type": "android-keystore",
            "keystore": fixtures::b64(&fixtures::keystore(alias, STORE_PASS, KEY_PASS)),
            "store_password": STORE_PASS, "key_password": KEY_PASS })
}

impl World {
    pub(crate) async fn new(store: Store) -> World {
        World::behind(store, Vec::new()).await
    }

    /// A world whose server trusts `proxies`' `X-Forwarded-For`.
    pub(crate) async fn behind(store: Store, proxies: Vec<std::net::IpAddr>) -> World {
        let state = Arc::new(AppState::new(store, None).with_trusted_proxies(proxies));
        let app = signet_server::router(Arc::clone(&state));
        let s = &state.store;
        let tag = random_hex();
        let owner_email = format!("owner-{tag}@example.com");
        let (_, org) = s
            .create_user(&actor(), &owner_email, PASSWORD, Some("Acme"))
            .await
            .unwrap();
        let org = org.unwrap().id;
        let mut sessions = Vec::new();
        for role in [Role::Admin, Role::Developer] {
            let email = format!("{}-{tag}@example.com", role.name());
            s.create_user(&actor(), &email, PASSWORD, None)
                .await
                .unwrap();
            s.set_member(&actor(), &org, &email, role).await.unwrap();
            let (_, _, token) = s.login(&actor(), &email, PASSWORD).await.unwrap();
            sessions.push(token.to_string());
        }
        let (_, _, owner) = s.login(&actor(), &owner_email, PASSWORD).await.unwrap();
        let app_a = s.create_app(&actor(), &org, "a").await.unwrap();
        let app_b = s.create_app(&actor(), &org, "b").await.unwrap();
        let keystore_a = upload(s, &org, keystore_upload("a")).await;
        let keystore_b = upload(s, &org, keystore_upload("b")).await;
        for (app, ks) in [(&app_a, &keystore_a), (&app_b, &keystore_b)] {
            s.put_build_set(
                &actor(),
                &org,
                app,
                "com.acme.app",
                "release",
                &ks.clone().into(),
                false,
                None,
                &signet_store::Scope::Org,
            )
            .await
            .unwrap();
        }
        World {
            app,
            org,
            owner_email,
            owner: owner.to_string(),
            admin: sessions[0].clone(),
            developer: sessions[1].clone(),
            app_a,
            app_b,
            keystore_a,
            keystore_b,
            dir: None,
            state,
        }
    }

    pub(crate) async fn sqlite() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        let mut w = World::new(store).await;
        w.dir = Some(dir);
        w
    }

    /// A developer robot limited to app `a`, made by the admin through the API.
    pub(crate) async fn robot_for_a(&self) -> String {
        let r = call("POST", &format!("/v1/orgs/{}/robots", self.org))
            .token(&self.admin)
            .body(json!({ "name": "ci-a", "role": "developer", "app_ids": [self.app_a.id] }))
            .send(&self.app)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()["token"].as_str().unwrap().to_owned()
    }

    pub(crate) fn base(&self) -> String {
        format!("/v1/orgs/{}", self.org)
    }
}
