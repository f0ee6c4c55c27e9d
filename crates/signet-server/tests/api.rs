//! The HTTP API in process (the router, no sockets), on SQLite and on PostgreSQL at
//! 127.0.0.1:5432 (`SIGNET_TEST_POSTGRES_URL` overrides; these tests fail without it).
//!
//! The role × endpoint matrix calls every endpoint as owner, admin, developer, viewer, a
//! developer robot, a member of another organization and anonymously, and asserts the
//! exact status. The expectations are written here, apart from the server's route table,
//! and the test also checks that the table documents exactly these endpoints. Each scenario
//! below is a test of its own on each backend (`sqlite::…`, `postgres::…`), in a world of
//! its own.

mod fixtures;

use std::sync::{Arc, Mutex, OnceLock};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode},
};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use signet_server::AppState;
use signet_store::{
    Actor, AppId, CredentialId, OrgId, Role, Scope, Store, TokenId, UserId, validate,
};
use tower::ServiceExt as _;

const STORE_PASS: &str = "storepass-123";
const KEY_PASS: &str = "keypass-456";
const FCM_KEY: &str = "AAAAfcmServerKeyQwertyuiopZZZZ";
const P12_PASS: &str = "p12-pass";
const PASSWORD: &str = "correct horse battery";

// ---------------------------------------------------------------------------------------
// Log capture: every log line of the suite goes into one buffer, checked for secrets.

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        captured
    })
}

// ---------------------------------------------------------------------------------------
// Backends.

use fixtures::{postgres_store, random_hex, sqlite_store};

// ---------------------------------------------------------------------------------------
// Calling the router.

struct Response {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Response {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
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

// ---------------------------------------------------------------------------------------
// The world the matrix runs in.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    OtherOrg,
    Viewer,
    Robot,
    Developer,
    Admin,
    Owner,
}

const EVERYONE: [Who; 7] = [
    Who::Anonymous,
    Who::OtherOrg,
    Who::Viewer,
    Who::Robot,
    Who::Developer,
    Who::Admin,
    Who::Owner,
];

struct Users {
    owner: String,
    admin: String,
    developer: String,
    viewer: String,
    other: String,
    extra: String,
}

struct World {
    store: Arc<AppState>,
    app: Router,
    users: Users,
    /// Session tokens by user e-mail.
    sessions: std::collections::HashMap<String, String>,
    /// Every secret the suite handles, to look for in responses and logs.
    secrets: Vec<String>,
    keystore: Vec<u8>,
    apple: fixtures::Apple,
    dir: tempfile::TempDir,
}

/// One organization with a member of each role, a developer robot and a credential of
/// each kind the routes need.
struct Ctx {
    org: OrgId,
    robot: String,
    app: AppId,
    keystore_id: CredentialId,
    fcm_id: CredentialId,
    cert_id: CredentialId,
    profile_id: CredentialId,
}

fn actor() -> Actor {
    Actor::system("test")
}

impl World {
    async fn new(store: Store) -> World {
        logs();
        let dir = tempfile::tempdir().unwrap();
        let apple = fixtures::apple(dir.path());
        let state = Arc::new(AppState::new(store, None));
        let app = signet_server::router(Arc::clone(&state));
        let tag = random_hex();
        let email = |role: &str| format!("{role}-{tag}@example.com");
        let users = Users {
            owner: email("owner"),
            admin: email("admin"),
            developer: email("developer"),
            viewer: email("viewer"),
            other: email("other"),
            extra: email("extra"),
        };
        let mut sessions = std::collections::HashMap::new();
        let mut secrets = vec![
            STORE_PASS.to_owned(),
            KEY_PASS.to_owned(),
            FCM_KEY.to_owned(),
            PASSWORD.to_owned(),
        ];
        for e in [
            &users.owner,
            &users.admin,
            &users.developer,
            &users.viewer,
            &users.other,
            &users.extra,
        ] {
            let owner_of = (e == &users.other).then_some("Other Org");
            state
                .store
                .create_user(&actor(), e, PASSWORD, owner_of)
                .await
                .unwrap();
            let (_, _, token) = state.store.login(&actor(), e, PASSWORD).await.unwrap();
            secrets.push(token.to_string());
            sessions.insert(e.clone(), token.to_string());
        }
        let keystore = fixtures::keystore("upload", STORE_PASS, KEY_PASS);
        secrets.push(fixtures::b64(&keystore)[..40].to_owned());
        secrets.push(fixtures::b64(&apple.p12)[20..60].to_owned());
        World {
            store: state,
            app,
            users,
            sessions,
            secrets,
            keystore,
            apple,
            dir,
        }
    }

    fn user_id_token(&self, email: &str) -> &str {
        &self.sessions[email]
    }

    async fn user_id(&self, email: &str) -> UserId {
        let me = call(
            &self.app,
            "GET",
            "/v1/me",
            Some(self.user_id_token(email)),
            None,
            None,
        )
        .await;
        UserId::parse(me.json()["user"]["id"].as_str().unwrap()).unwrap()
    }

    async fn org(&mut self) -> (OrgId, String) {
        let s = &self.state().store;
        let owner = self.user_id(&self.users.owner.clone()).await;
        let org = s.create_org(&actor(), "Acme", &owner).await.unwrap().id;
        for (email, role) in [
            (&self.users.admin, Role::Admin),
            (&self.users.developer, Role::Developer),
            (&self.users.viewer, Role::Viewer),
        ] {
            s.set_member(&actor(), &org, email, role).await.unwrap();
        }
        let (_, robot) = s
            .create_robot(&actor(), &org, "ci", Role::Developer, None, None)
            .await
            .unwrap();
        self.secrets.push(robot.to_string());
        (org, robot.to_string())
    }

    fn state(&self) -> &AppState {
        &self.store
    }

    async fn upload(&self, org: &OrgId, body: Value) -> CredentialId {
        let upload: validate::Upload = serde_json::from_value(body).unwrap();
        let v = validate::validate(&upload, time::OffsetDateTime::now_utc()).unwrap();
        self.state()
            .store
            .create_credential(&actor(), org, v)
            .await
            .unwrap()
            .id
    }

    async fn fcm(&self, org: &OrgId) -> CredentialId {
        self.upload(
            org,
            json!({ "type": "fcm-legacy-key", "server_key": FCM_KEY }),
        )
        .await
    }

    async fn ctx(&mut self) -> Ctx {
        let (org, robot) = self.org().await;
        let s = &self.state().store;
        let app = s.create_app(&actor(), &org, "app").await.unwrap();
        let keystore_id = self
            .upload(
                &org,
                json!({ "type": "android-keystore", "keystore": fixtures::b64(&self.keystore),
                        "store_password": STORE_PASS, "key_password": KEY_PASS }),
            )
            .await;
        let fcm_id = self.fcm(&org).await;
        let cert_id = self
            .upload(
                &org,
                json!({ "type": "apple-distribution-certificate",
                        "p12": fixtures::b64(&self.apple.p12), "password": P12_PASS }),
            )
            .await;
        let profile_id = self
            .upload(
                &org,
                json!({ "type": "apple-provisioning-profile",
                        "profile": fixtures::b64(&self.apple.profile) }),
            )
            .await;
        s.put_build_set(
            &actor(),
            &org,
            &app,
            "com.acme.app",
            "release",
            &keystore_id.clone().into(),
            false,
            None,
            &Scope::Org,
        )
        .await
        .unwrap();
        Ctx {
            org,
            robot,
            app: app.id,
            keystore_id,
            fcm_id,
            cert_id,
            profile_id,
        }
    }

    fn token(&self, who: Who, ctx: &Ctx) -> Option<String> {
        let u = &self.users;
        let email = match who {
            Who::Anonymous => return None,
            Who::Robot => return Some(ctx.robot.clone()),
            Who::OtherOrg => &u.other,
            Who::Viewer => &u.viewer,
            Who::Developer => &u.developer,
            Who::Admin => &u.admin,
            Who::Owner => &u.owner,
        };
        Some(self.sessions[email].clone())
    }
}

// ---------------------------------------------------------------------------------------
// The matrix.

/// Who may call an endpoint, and the status of success.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Everyone gets this status.
    All(u16),
    /// Any token: success; anonymous: 401.
    Token(u16),
    /// Users: success; robots: 403; anonymous: 401.
    User(u16),
    /// At least this role: success; below: 403; another organization: 404; anonymous: 401.
    Role(Role, u16),
    /// As `Role`, but past the guard the handler refuses with this status (the Apple
    /// routes: this world has no App Store Connect key, so `asc-key-missing`, 409).
    RoleThen(Role, u16),
}

impl Expect {
    fn status(self, who: Who) -> u16 {
        let role = match who {
            Who::Viewer => Some(Role::Viewer),
            Who::Robot | Who::Developer => Some(Role::Developer),
            Who::Admin => Some(Role::Admin),
            Who::Owner => Some(Role::Owner),
            Who::Anonymous | Who::OtherOrg => None,
        };
        match self {
            Expect::All(s) => s,
            Expect::Token(s) => {
                if who == Who::Anonymous {
                    401
                } else {
                    s
                }
            }
            Expect::User(s) => match who {
                Who::Anonymous => 401,
                Who::Robot => 403,
                _ => s,
            },
            Expect::Role(min, s) | Expect::RoleThen(min, s) => match who {
                Who::Anonymous => 401,
                Who::OtherOrg => 404,
                _ if role.is_some_and(|r| r >= min) => s,
                _ => 403,
            },
        }
    }
}

const BS: &str = "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}";
const BP: &str = "/v1/orgs/{org}/apps/{app}/ios/{bundle_id}/build-pairs/{distribution}";
const SLOT: &str = "/v1/orgs/{org}/apps/{app}/slots/{platform}/{identifier}/{slot}";

/// Every endpoint: a name for `prepare`, method, path template, who may call it.
const CASES: &[(&str, &str, &str, Expect)] = &[
    ("healthz", "GET", "/healthz", Expect::All(200)),
    ("readyz", "GET", "/readyz", Expect::All(200)),
    ("openapi", "GET", "/v1/openapi.json", Expect::All(200)),
    // Users exist: setup is closed for everyone (410), whatever the token.
    ("setup", "POST", "/v1/setup", Expect::All(410)),
    ("login", "POST", "/v1/auth/login", Expect::All(201)),
    ("logout", "POST", "/v1/auth/logout", Expect::User(204)),
    ("me", "GET", "/v1/me", Expect::Token(200)),
    (
        "session-revoke",
        "DELETE",
        "/v1/me/sessions/{id}",
        Expect::User(204),
    ),
    ("org-create", "POST", "/v1/orgs", Expect::User(201)),
    (
        "org-get",
        "GET",
        "/v1/orgs/{org}",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "org-delete",
        "DELETE",
        "/v1/orgs/{org}",
        Expect::Role(Role::Owner, 204),
    ),
    (
        "members",
        "GET",
        "/v1/orgs/{org}/members",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "member-set",
        "PUT",
        "/v1/orgs/{org}/members",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "member-remove",
        "DELETE",
        "/v1/orgs/{org}/members/{user}",
        Expect::Role(Role::Admin, 204),
    ),
    (
        "robots",
        "GET",
        "/v1/orgs/{org}/robots",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "robot-create",
        "POST",
        "/v1/orgs/{org}/robots",
        Expect::Role(Role::Admin, 201),
    ),
    (
        "robot-revoke",
        "DELETE",
        "/v1/orgs/{org}/robots/{id}",
        Expect::Role(Role::Admin, 204),
    ),
    (
        "audit",
        "GET",
        "/v1/orgs/{org}/audit",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "creds",
        "GET",
        "/v1/orgs/{org}/credentials",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "cred-create",
        "POST",
        "/v1/orgs/{org}/credentials",
        Expect::Role(Role::Developer, 201),
    ),
    (
        "keystore-generate",
        "POST",
        "/v1/orgs/{org}/credentials/generate",
        Expect::Role(Role::Developer, 201),
    ),
    (
        "csr-create",
        "POST",
        "/v1/orgs/{org}/certificate-requests",
        Expect::Role(Role::Developer, 201),
    ),
    (
        "csrs",
        "GET",
        "/v1/orgs/{org}/certificate-requests",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "csr-get",
        "GET",
        "/v1/orgs/{org}/certificate-requests/{id}",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "csr-complete",
        "POST",
        "/v1/orgs/{org}/certificate-requests/{id}/certificate",
        Expect::Role(Role::Developer, 201),
    ),
    (
        "cred-get",
        "GET",
        "/v1/orgs/{org}/credentials/{id}",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "cred-replace",
        "PUT",
        "/v1/orgs/{org}/credentials/{id}",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "cred-rename",
        "PATCH",
        "/v1/orgs/{org}/credentials/{id}",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "cred-delete",
        "DELETE",
        "/v1/orgs/{org}/credentials/{id}",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "cred-restore",
        "POST",
        "/v1/orgs/{org}/credentials/{id}/restore",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "cred-impact",
        "GET",
        "/v1/orgs/{org}/credentials/{id}/impact",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "cred-secret",
        "GET",
        "/v1/orgs/{org}/credentials/{id}/secret",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "cred-versions",
        "GET",
        "/v1/orgs/{org}/credentials/{id}/versions",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "version-secret",
        "GET",
        "/v1/orgs/{org}/credentials/{id}/versions/{version}/secret",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "version-restore",
        "POST",
        "/v1/orgs/{org}/credentials/{id}/versions/{version}/restore",
        Expect::Role(Role::Admin, 200),
    ),
    (
        "expiring",
        "GET",
        "/v1/orgs/{org}/expiring",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "apps",
        "GET",
        "/v1/orgs/{org}/apps",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "app-create",
        "POST",
        "/v1/orgs/{org}/apps",
        Expect::Role(Role::Developer, 201),
    ),
    (
        "app-get",
        "GET",
        "/v1/orgs/{org}/apps/{app}",
        Expect::Role(Role::Viewer, 200),
    ),
    (
        "app-delete",
        "DELETE",
        "/v1/orgs/{org}/apps/{app}",
        Expect::Role(Role::Admin, 204),
    ),
    ("set-put", "PUT", BS, Expect::Role(Role::Developer, 201)),
    (
        "set-rename",
        "PATCH",
        BS,
        Expect::Role(Role::Developer, 200),
    ),
    ("set-delete", "DELETE", BS, Expect::Role(Role::Admin, 204)),
    (
        "set-default",
        "POST",
        "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "play-opt-in",
        "POST",
        "/v1/orgs/{org}/apps/{app}/android/{application_id}/play-app-signing",
        Expect::Role(Role::Admin, 201),
    ),
    ("pair-put", "PUT", BP, Expect::Role(Role::Developer, 201)),
    ("pair-delete", "DELETE", BP, Expect::Role(Role::Admin, 204)),
    ("slot-put", "PUT", SLOT, Expect::Role(Role::Developer, 200)),
    (
        "slot-delete",
        "DELETE",
        SLOT,
        Expect::Role(Role::Admin, 204),
    ),
    (
        "apns-token",
        "POST",
        "/v1/orgs/{org}/apps/{app}/apns-token",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "build-credentials",
        "GET",
        "/v1/orgs/{org}/apps/{app}/build-credentials",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "sign",
        "POST",
        "/v1/orgs/{org}/apps/{app}/sign",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "apple-setup",
        "POST",
        "/v1/orgs/{org}/apps/{app}/ios/{bundle_id}/setup",
        Expect::RoleThen(Role::Developer, 409),
    ),
    (
        "apple-doctor",
        "POST",
        "/v1/orgs/{org}/apps/{app}/apple/doctor",
        Expect::Role(Role::Developer, 200),
    ),
    (
        "apple-devices",
        "GET",
        "/v1/orgs/{org}/apps/{app}/apple/devices",
        Expect::RoleThen(Role::Developer, 409),
    ),
    (
        "apple-device-add",
        "POST",
        "/v1/orgs/{org}/apps/{app}/apple/devices",
        Expect::RoleThen(Role::Developer, 409),
    ),
    (
        "apple-certificates",
        "GET",
        "/v1/orgs/{org}/apps/{app}/apple/certificates",
        Expect::RoleThen(Role::Developer, 409),
    ),
    (
        "apple-revoke",
        "DELETE",
        "/v1/orgs/{org}/apps/{app}/apple/certificates/{id}",
        Expect::RoleThen(Role::Admin, 409),
    ),
];

/// A request ready to send: path, body, If-Match, and a token that replaces the
/// caller's (for routes that consume or need their own).
struct Prepared {
    path: String,
    body: Option<Value>,
    if_match: Option<String>,
    token: As,
}

/// Whose token a prepared request carries.
#[derive(Clone)]
enum As {
    /// The caller's own.
    Caller,
    /// This one (or none).
    Token(Option<String>),
}

fn prepared(path: String) -> Prepared {
    Prepared {
        path,
        body: None,
        if_match: None,
        token: As::Caller,
    }
}

async fn prepare(w: &mut World, ctx: &Ctx, who: Who, name: &str, n: usize) -> Prepared {
    let s = &w.state().store;
    let org = &ctx.org;
    let base = format!("/v1/orgs/{org}");
    let app = s.app(org, ctx.app.as_str()).await.unwrap();
    let fresh_fcm = || w.fcm(org);
    match name {
        "healthz" => prepared("/healthz".into()),
        "readyz" => prepared("/readyz".into()),
        "openapi" => prepared("/v1/openapi.json".into()),
        "setup" => Prepared {
            body: Some(json!({
                "setup_token": signet_store::secrets::mint(signet_store::secrets::TokenKind::Setup).unwrap().as_str(),
                "email": "new@example.com", "password": PASSWORD, "org": "New" })),
            ..prepared("/v1/setup".into())
        },
        "login" => Prepared {
            body: Some(json!({ "email": w.users.owner, "password": PASSWORD })),
            ..prepared("/v1/auth/login".into())
        },
        "logout" => {
            // Log out a fresh session of the same user, so the caller's stays valid.
            let token = match who {
                Who::Anonymous | Who::Robot => w.token(who, ctx),
                _ => {
                    let email = match who {
                        Who::OtherOrg => w.users.other.clone(),
                        Who::Viewer => w.users.viewer.clone(),
                        Who::Developer => w.users.developer.clone(),
                        Who::Admin => w.users.admin.clone(),
                        _ => w.users.owner.clone(),
                    };
                    let (_, _, t) = s.login(&actor(), &email, PASSWORD).await.unwrap();
                    w.secrets.push(t.to_string());
                    Some(t.to_string())
                }
            };
            Prepared {
                token: As::Token(token),
                ..prepared("/v1/auth/logout".into())
            }
        }
        "me" => prepared("/v1/me".into()),
        "session-revoke" => {
            // A second session of the caller's user, revoked with the first.
            let email = match who {
                Who::OtherOrg => Some(w.users.other.clone()),
                Who::Viewer => Some(w.users.viewer.clone()),
                Who::Developer => Some(w.users.developer.clone()),
                Who::Admin => Some(w.users.admin.clone()),
                Who::Owner => Some(w.users.owner.clone()),
                Who::Anonymous | Who::Robot => None,
            };
            let id = match email {
                Some(address) => {
                    let (_, info, token) = s.login(&actor(), &address, PASSWORD).await.unwrap();
                    w.secrets.push(token.to_string());
                    info.id
                }
                None => TokenId::parse("tok_000000000000000000000000").unwrap(),
            };
            prepared(format!("/v1/me/sessions/{id}"))
        }
        "org-create" => Prepared {
            body: Some(json!({ "name": format!("Org {n}") })),
            ..prepared("/v1/orgs".into())
        },
        "org-get" => prepared(base),
        "org-delete" => {
            // A whole organization of its own, with the same members.
            let (org, robot) = w.org().await;
            let token = if who == Who::Robot {
                As::Token(Some(robot))
            } else {
                As::Caller
            };
            Prepared {
                token,
                ..prepared(format!("/v1/orgs/{org}"))
            }
        }
        "members" => prepared(format!("{base}/members")),
        "member-set" => Prepared {
            body: Some(json!({ "email": w.users.extra, "role": "developer" })),
            ..prepared(format!("{base}/members"))
        },
        "member-remove" => {
            let extra = w.users.extra.clone();
            s.set_member(&actor(), org, &extra, Role::Viewer)
                .await
                .unwrap();
            let id = w.user_id(&extra).await;
            prepared(format!("{base}/members/{id}"))
        }
        "robots" => prepared(format!("{base}/robots")),
        "robot-create" => Prepared {
            body: Some(json!({ "name": format!("r{n}"), "role": "viewer" })),
            ..prepared(format!("{base}/robots"))
        },
        "robot-revoke" => {
            let (info, _) = s
                .create_robot(&actor(), org, "old", Role::Viewer, None, None)
                .await
                .unwrap();
            prepared(format!("{base}/robots/{}", info.id))
        }
        "audit" => prepared(format!("{base}/audit")),
        "creds" => prepared(format!("{base}/credentials?limit=3")),
        "cred-create" => Prepared {
            body: Some(json!({ "type": "fcm-legacy-key", "server_key": FCM_KEY })),
            ..prepared(format!("{base}/credentials"))
        },
        "keystore-generate" => Prepared {
            body: Some(json!({ "key_alg": "ec" })),
            ..prepared(format!("{base}/credentials/generate"))
        },
        "csr-create" => Prepared {
            body: Some(json!({ "common_name": "CI" })),
            ..prepared(format!("{base}/certificate-requests"))
        },
        "csrs" => prepared(format!("{base}/certificate-requests")),
        "csr-get" | "csr-complete" => {
            let r = s
                .create_certificate_request(&actor(), org, "CI", None)
                .await
                .unwrap();
            if name == "csr-get" {
                prepared(format!("{base}/certificate-requests/{}", r.id))
            } else {
                // A team of its own each time: one distribution certificate per team.
                let team = format!("T{n:09}");
                let cer = fixtures::apple_cer_for_csr(w.dir.path(), &r.csr_pem, &team);
                Prepared {
                    body: Some(json!({ "certificate": fixtures::b64(&cer) })),
                    ..prepared(format!("{base}/certificate-requests/{}/certificate", r.id))
                }
            }
        }
        "cred-get" => prepared(format!("{base}/credentials/{}", ctx.keystore_id)),
        "cred-replace" => {
            let id = fresh_fcm().await;
            Prepared {
                body: Some(json!({ "type": "fcm-legacy-key", "server_key": FCM_KEY })),
                if_match: Some("\"1\"".into()),
                ..prepared(format!("{base}/credentials/{id}"))
            }
        }
        "cred-rename" => {
            let id = fresh_fcm().await;
            Prepared {
                body: Some(json!({ "name": "renamed" })),
                if_match: Some("\"1\"".into()),
                ..prepared(format!("{base}/credentials/{id}"))
            }
        }
        "cred-delete" => {
            let id = fresh_fcm().await;
            prepared(format!("{base}/credentials/{id}"))
        }
        "cred-restore" => {
            let id = fresh_fcm().await;
            s.delete_credential(&actor(), org, &id, None).await.unwrap();
            prepared(format!("{base}/credentials/{id}/restore"))
        }
        "cred-impact" => prepared(format!("{base}/credentials/{}/impact", ctx.cert_id)),
        "cred-secret" => prepared(format!("{base}/credentials/{}/secret", ctx.keystore_id)),
        "cred-versions" | "version-secret" | "version-restore" => {
            let id = fresh_fcm().await;
            let upload: validate::Upload = serde_json::from_value(
                json!({ "type": "fcm-legacy-key", "server_key": format!("{FCM_KEY}-v2") }),
            )
            .unwrap();
            let v = validate::validate(&upload, time::OffsetDateTime::now_utc()).unwrap();
            s.replace_credential(&actor(), org, &id, 1, v)
                .await
                .unwrap();
            match name {
                "cred-versions" => prepared(format!("{base}/credentials/{id}/versions")),
                "version-secret" => prepared(format!("{base}/credentials/{id}/versions/1/secret")),
                _ => Prepared {
                    if_match: Some("\"2\"".into()),
                    ..prepared(format!("{base}/credentials/{id}/versions/1/restore"))
                },
            }
        }
        "expiring" => prepared(format!("{base}/expiring?days=400")),
        "apps" => prepared(format!("{base}/apps")),
        "app-create" => Prepared {
            body: Some(json!({ "slug": format!("app-{n}") })),
            ..prepared(format!("{base}/apps"))
        },
        "app-get" => prepared(format!("{base}/apps/app")),
        "app-delete" => {
            let a = s
                .create_app(&actor(), org, &format!("gone-{n}"))
                .await
                .unwrap();
            prepared(format!("{base}/apps/{}", a.slug))
        }
        "set-put" => Prepared {
            body: Some(json!({ "keystore_id": ctx.keystore_id })),
            ..prepared(format!(
                "{base}/apps/app/android/com.acme.app/build-sets/s{n}"
            ))
        },
        "set-rename" | "set-delete" | "set-default" => {
            let (set, _) = s
                .put_build_set(
                    &actor(),
                    org,
                    &app,
                    "com.acme.app",
                    &format!("t{n}"),
                    &ctx.keystore_id.clone().into(),
                    false,
                    None,
                    &Scope::Org,
                )
                .await
                .unwrap();
            let path = format!("{base}/apps/app/android/com.acme.app/build-sets/t{n}");
            match name {
                "set-rename" => Prepared {
                    body: Some(json!({ "name": format!("u{n}") })),
                    if_match: Some(format!("\"{}\"", set.version)),
                    ..prepared(path)
                },
                "set-default" => prepared(format!("{path}/default")),
                _ => prepared(path),
            }
        }
        "play-opt-in" => Prepared {
            body: Some(json!({})),
            ..prepared(format!(
                "{base}/apps/app/android/com.acme.app/play-app-signing"
            ))
        },
        "pair-put" => Prepared {
            body: Some(json!({ "certificate_id": ctx.cert_id, "profile_id": ctx.profile_id })),
            ..prepared(format!(
                "{base}/apps/app/ios/com.acme.app{n}/build-pairs/app-store"
            ))
        },
        "pair-delete" => {
            s.put_build_pair(
                &actor(),
                org,
                &app,
                &format!("com.acme.d{n}"),
                "app-store",
                &ctx.cert_id.clone().into(),
                &ctx.profile_id.clone().into(),
                None,
                &Scope::Org,
            )
            .await
            .unwrap();
            prepared(format!(
                "{base}/apps/app/ios/com.acme.d{n}/build-pairs/app-store"
            ))
        }
        "slot-put" => Prepared {
            body: Some(json!({ "credential_id": ctx.fcm_id })),
            ..prepared(format!(
                "{base}/apps/app/slots/android/com.acme.app/fcm-key"
            ))
        },
        "slot-delete" => {
            s.set_link(
                &actor(),
                org,
                &app,
                "android",
                "com.acme.app",
                "fcm-key",
                &ctx.fcm_id.clone().into(),
                &Scope::Org,
            )
            .await
            .unwrap();
            prepared(format!(
                "{base}/apps/app/slots/android/com.acme.app/fcm-key"
            ))
        }
        "apns-token" => {
            let p8 = fixtures::private_key_pem(signet_formats::KeyAlgorithm::EcP256);
            let id = w
                .upload(
                    org,
                    json!({ "type": "apple-push-key", "p8": p8, "key_id": format!("K{n:09}"),
                            "team_id": "A1B2C3D4E5" }),
                )
                .await;
            s.set_link(
                &actor(),
                org,
                &app,
                "ios",
                "com.acme.app",
                "push-key",
                &id.into(),
                &Scope::Org,
            )
            .await
            .unwrap();
            Prepared {
                body: Some(json!({})),
                ..prepared(format!("{base}/apps/app/apns-token"))
            }
        }
        "build-credentials" => prepared(format!(
            "{base}/apps/app/build-credentials?platform=android&application_id=com.acme.app"
        )),
        "sign" => Prepared {
            body: Some(json!({ "artifact": "apk", "application_id": "com.acme.app" })),
            ..prepared(format!("{base}/apps/app/sign"))
        },
        "apple-setup" => Prepared {
            body: Some(json!({ "distribution": "app-store" })),
            ..prepared(format!("{base}/apps/app/ios/com.acme.app/setup"))
        },
        "apple-doctor" => Prepared {
            body: Some(json!({})),
            ..prepared(format!("{base}/apps/app/apple/doctor"))
        },
        "apple-devices" => prepared(format!("{base}/apps/app/apple/devices")),
        "apple-device-add" => Prepared {
            body: Some(json!({ "udid": "00008101-000A1B2C3D4E5F60", "name": "phone" })),
            ..prepared(format!("{base}/apps/app/apple/devices"))
        },
        "apple-certificates" => prepared(format!("{base}/apps/app/apple/certificates")),
        "apple-revoke" => prepared(format!("{base}/apps/app/apple/certificates/C000000001")),
        other => panic!("no preparation for {other}"),
    }
}

/// Responses that may carry secret material, for whom.
fn may_hold_secrets(name: &str) -> bool {
    matches!(
        name,
        "cred-secret"
            | "version-secret"
            | "build-credentials"
            | "login"
            | "robot-create"
            | "apns-token"
    )
}

async fn role_matrix(w: &mut World) {
    let mut failures = Vec::new();
    let mut n = 0;
    for who in EVERYONE {
        let ctx = w.ctx().await;
        for (name, method, _, expect) in CASES {
            n += 1;
            let p = prepare(w, &ctx, who, name, n).await;
            let token = match p.token.clone() {
                As::Caller => w.token(who, &ctx),
                As::Token(t) => t,
            };
            let r = call(
                &w.app,
                method,
                &p.path,
                token.as_deref(),
                p.body.as_ref(),
                p.if_match.as_deref(),
            )
            .await;
            let want = expect.status(who);
            if r.status.as_u16() != want {
                failures.push(format!(
                    "{who:?} {method} {} ({name}): want {want}, got {} {}",
                    p.path, r.status, r.text
                ));
            }
            if r.status.is_client_error() {
                assert_eq!(
                    r.headers["content-type"], "application/problem+json",
                    "{name} as {who:?}"
                );
            }
            if !(may_hold_secrets(name) && r.status.is_success()) {
                for secret in &w.secrets {
                    assert!(
                        !r.text.contains(secret.as_str()),
                        "{name} as {who:?} leaked a secret: {}",
                        r.text
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Behaviour beyond the matrix.

async fn secrets_only_with_permission(w: &mut World) {
    let ctx = w.ctx().await;
    let dev = w.token(Who::Developer, &ctx);
    let viewer = w.token(Who::Viewer, &ctx);
    let admin = w.token(Who::Admin, &ctx);
    let base = format!("/v1/orgs/{}", ctx.org);

    // A developer's build fetch holds exactly the uploaded keystore and its passwords.
    let r = call(
        &w.app,
        "GET",
        &format!("{base}/apps/app/build-credentials?platform=android&application_id=com.acme.app"),
        dev.as_deref(),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["keystore"]["keystore"], fixtures::b64(&w.keystore));
    assert_eq!(v["keystore"]["store_password"], STORE_PASS);
    assert_eq!(v["keystore"]["key_password"], KEY_PASS);
    assert_eq!(v["keystore"]["key_alias"], "upload");
    assert_eq!(v["chosen"]["build_set"]["name"], "release");

    // iOS: the pair's .p12 and profile.
    call(
        &w.app,
        "PUT",
        &format!("{base}/apps/app/ios/com.acme.app/build-pairs/app-store"),
        dev.as_deref(),
        Some(&json!({ "certificate_id": ctx.cert_id, "profile_id": ctx.profile_id })),
        None,
    )
    .await;
    let r = call(
        &w.app,
        "GET",
        &format!(
            "{base}/apps/app/build-credentials?platform=ios&bundle_id=com.acme.app&distribution=app-store"
        ),
        dev.as_deref(),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["distribution_certificate"]["p12"],
        fixtures::b64(&w.apple.p12)
    );
    assert_eq!(v["distribution_certificate"]["password"], P12_PASS);
    assert_eq!(
        v["provisioning_profile"]["profile"],
        fixtures::b64(&w.apple.profile)
    );

    // A viewer sees metadata only, everywhere.
    for path in [
        format!("{base}/credentials"),
        format!("{base}/credentials/{}", ctx.keystore_id),
        format!("{base}/apps/app"),
        format!("{base}/expiring?days=3650"),
    ] {
        let r = call(&w.app, "GET", &path, viewer.as_deref(), None, None).await;
        assert_eq!(r.status, 200, "{path}");
        for s in &w.secrets {
            assert!(!r.text.contains(s.as_str()), "{path}: {}", r.text);
        }
    }
    // Both secret reads were audited, with who and from where.
    let r = call(
        &w.app,
        "GET",
        &format!("{base}/audit"),
        admin.as_deref(),
        None,
        None,
    )
    .await;
    let developer = format!("user:{}", w.user_id(&w.users.developer.clone()).await);
    let fetches: Vec<Value> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "build-credentials.fetch")
        .cloned()
        .collect();
    let mut targets: Vec<&str> = fetches
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    let mut expected = vec![
        ctx.keystore_id.as_str(),
        ctx.cert_id.as_str(),
        ctx.profile_id.as_str(),
    ];
    expected.sort_unstable();
    assert_eq!(
        targets, expected,
        "android once, ios certificate and profile"
    );
    for a in &fetches {
        // Who: the developer's session; from where: the client address (the router in
        // process has no socket: `local`) and the request's id.
        assert_eq!(a["actor"], developer.as_str(), "{a}");
        assert_eq!(a["ip"], "local", "{a}");
        assert!(
            a["request_id"].as_str().is_some_and(|id| id.len() == 16),
            "{a}"
        );
    }
}

async fn versions_and_pages(w: &mut World) {
    let ctx = w.ctx().await;
    let dev = w.token(Who::Developer, &ctx);
    let base = format!("/v1/orgs/{}", ctx.org);
    // A user cannot revoke another user's session: 404, and it still works.
    let viewer = w.token(Who::Viewer, &ctx);
    let me = call(&w.app, "GET", "/v1/me", viewer.as_deref(), None, None).await;
    let session = me.json()["token_id"].as_str().unwrap().to_owned();
    let r = call(
        &w.app,
        "DELETE",
        &format!("/v1/me/sessions/{session}"),
        dev.as_deref(),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(&w.app, "GET", "/v1/me", viewer.as_deref(), None, None).await;
    assert_eq!(r.status, 200);
    // The organization shows the limits in force.
    let r = call(&w.app, "GET", &base, dev.as_deref(), None, None).await;
    assert_eq!(r.json()["role"], "developer");
    assert_eq!(r.json()["limits"]["push_keys_per_apple_team"], 2);
    assert_eq!(
        r.json()["limits"]["distribution_certificates_per_apple_team"],
        1
    );
    let path = format!("{base}/credentials/{}", ctx.fcm_id);
    let r = call(&w.app, "GET", &path, dev.as_deref(), None, None).await;
    assert_eq!(r.headers["etag"], "\"1\"");
    let body = json!({ "name": "prod" });
    // No If-Match: 428; a wrong one: 412; the right one: 200 with the next ETag.
    let r = call(&w.app, "PATCH", &path, dev.as_deref(), Some(&body), None).await;
    assert_eq!(r.status, 428);
    let r = call(
        &w.app,
        "PATCH",
        &path,
        dev.as_deref(),
        Some(&body),
        Some("\"7\""),
    )
    .await;
    assert_eq!(r.status, 412);
    assert_eq!(r.json()["type"], "https://signet.invalid/problems/stale");
    let r = call(
        &w.app,
        "PATCH",
        &path,
        dev.as_deref(),
        Some(&body),
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["etag"], "\"2\"");
    let r = call(
        &w.app,
        "PATCH",
        &path,
        dev.as_deref(),
        Some(&body),
        Some("\"1\""),
    )
    .await;
    assert_eq!(
        r.status, 412,
        "the same If-Match twice: the second is stale"
    );

    // Pages chain through every credential exactly once.
    for _ in 0..4 {
        w.fcm(&ctx.org).await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = call(
            &w.app,
            "GET",
            &format!("{base}/credentials?limit=2{cursor}"),
            dev.as_deref(),
            None,
            None,
        )
        .await;
        let v = r.json();
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len());
    // keystore, fcm, certificate, profile, the implicit Apple team, four more fcm keys.
    assert_eq!(seen.len(), 9, "{seen:?}");

    // Bad input is a 422 naming the field, never an echo of the value.
    let r = call(
        &w.app,
        "POST",
        &format!("{base}/credentials"),
        dev.as_deref(),
        Some(
            &json!({ "type": "android-keystore", "keystore": fixtures::b64(&w.keystore),
                      "store_password": 12345 }),
        ),
        None,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(!r.text.contains("12345"), "{}", r.text);
    let r = call(
        &w.app,
        "POST",
        &format!("{base}/credentials"),
        dev.as_deref(),
        Some(
            &json!({ "type": "android-keystore", "keystore": fixtures::b64(&w.keystore),
                      "store_password": "hunter2-wrong" }),
        ),
        None,
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "store_password");
    assert!(!r.text.contains("hunter2"), "{}", r.text);
    let r = call(
        &w.app,
        "GET",
        &format!("{base}/credentials?limit=0"),
        dev.as_deref(),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "limit");
}

async fn robots_scoped_to_apps(w: &mut World) {
    let ctx = w.ctx().await;
    let s = &w.state().store;
    let other = s.create_app(&actor(), &ctx.org, "other").await.unwrap();
    let (_, token) = s
        .create_robot(
            &actor(),
            &ctx.org,
            "ci-app",
            Role::Developer,
            Some(&[ctx.app.clone().into()]),
            None,
        )
        .await
        .unwrap();
    let base = format!("/v1/orgs/{}", ctx.org);
    let fetch = |app: &str| {
        format!("{base}/apps/{app}/build-credentials?platform=android&application_id=com.acme.app")
    };
    let r = call(&w.app, "GET", &fetch("app"), Some(&token), None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(&w.app, "GET", &fetch(&other.slug), Some(&token), None, None).await;
    assert_eq!(r.status, 403);
    let r = call(
        &w.app,
        "GET",
        &format!("{base}/credentials"),
        Some(&token),
        None,
        None,
    )
    .await;
    assert_eq!(
        r.status, 403,
        "an app-scoped robot cannot act on the organization"
    );
    // Revoked: 401.
    let admin = w.token(Who::Admin, &ctx);
    let robots = call(
        &w.app,
        "GET",
        &format!("{base}/robots"),
        admin.as_deref(),
        None,
        None,
    )
    .await;
    let listed = robots.json();
    let entry = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "ci-app")
        .unwrap()
        .clone();
    assert!(entry["last_used_at"].is_i64(), "last use recorded: {entry}");
    assert!(
        !listed.to_string().contains(token.as_str()),
        "robots are listed without tokens"
    );
    let id = entry["id"].as_str().unwrap().to_owned();
    let r = call(
        &w.app,
        "DELETE",
        &format!("{base}/robots/{id}"),
        admin.as_deref(),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    let r = call(&w.app, "GET", &fetch("app"), Some(&token), None, None).await;
    assert_eq!(r.status, 401);
}

async fn pairs_follow_the_rules(w: &mut World) {
    let ctx = w.ctx().await;
    let dev = w.token(Who::Developer, &ctx);
    let base = format!("/v1/orgs/{}", ctx.org);
    let put = |bundle: &str, dist: &str| format!("{base}/apps/app/ios/{bundle}/build-pairs/{dist}");
    let body = json!({ "certificate_id": ctx.cert_id, "profile_id": ctx.profile_id });
    // The profile is for com.acme.*; an app-store profile cannot do ad hoc.
    let r = call(
        &w.app,
        "PUT",
        &put("org.other.app", "app-store"),
        dev.as_deref(),
        Some(&body),
        None,
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "profile_id");
    assert!(r.text.contains("does not match"), "{}", r.text);
    let r = call(
        &w.app,
        "PUT",
        &put("com.acme.app", "ad-hoc"),
        dev.as_deref(),
        Some(&body),
        None,
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text.contains("app-store builds, not ad-hoc"),
        "{}",
        r.text
    );
    let swapped = json!({ "certificate_id": ctx.profile_id, "profile_id": ctx.cert_id });
    let r = call(
        &w.app,
        "PUT",
        &put("com.acme.app", "app-store"),
        dev.as_deref(),
        Some(&swapped),
        None,
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "certificate_id");
    let r = call(
        &w.app,
        "PUT",
        &put("com.acme.app", "app-store"),
        dev.as_deref(),
        Some(&body),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Replacing needs If-Match.
    let r = call(
        &w.app,
        "PUT",
        &put("com.acme.app", "app-store"),
        dev.as_deref(),
        Some(&body),
        None,
    )
    .await;
    assert_eq!(r.status, 428);
    // A second distribution certificate for the team: 409 naming the first.
    let r = call(
        &w.app,
        "POST",
        &format!("{base}/credentials"),
        dev.as_deref(),
        Some(&json!({ "type": "apple-distribution-certificate",
                      "p12": fixtures::b64(&w.apple.p12), "password": P12_PASS })),
        None,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.json()["type"], "https://signet.invalid/problems/limit");
    assert!(
        r.json()["occupied_by"][0]
            .as_str()
            .unwrap()
            .starts_with(ctx.cert_id.as_str())
    );
    // The impact of the certificate names the profile and the pair.
    let r = call(
        &w.app,
        "GET",
        &format!("{base}/credentials/{}/impact", ctx.cert_id),
        dev.as_deref(),
        None,
        None,
    )
    .await;
    let v = r.json();
    assert!(
        v["affected_credentials"][0]
            .as_str()
            .unwrap()
            .starts_with(ctx.profile_id.as_str())
    );
    assert_eq!(
        v["used_by"][0],
        "app app / ios com.acme.app / app-store builds"
    );
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("production are not affected")
    );
}

async fn certificate_from_key_and_cer(w: &mut World) {
    let (org, _) = w.org().await;
    let owner = w.sessions[&w.users.owner].clone();
    let path = format!("/v1/orgs/{org}/credentials");
    let other_key = signet_formats::pem::encode(
        "PRIVATE KEY",
        signet_formats::PrivateKey::generate(signet_formats::KeyAlgorithm::Rsa2048)
            .unwrap()
            .pkcs8_der(),
    );
    let r = call(
        &w.app,
        "POST",
        &path,
        Some(&owner),
        Some(&json!({ "type": "apple-distribution-certificate",
                      "private_key": other_key, "certificate": w.apple.cert_pem })),
        None,
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["field"], "certificate");
    assert!(r.text.contains("not issued for the key"), "{}", r.text);
    let r = call(
        &w.app,
        "POST",
        &path,
        Some(&owner),
        Some(&json!({ "type": "apple-distribution-certificate",
                      "private_key": w.apple.key_pem, "certificate": w.apple.cert_pem })),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let v = r.json();
    assert_eq!(v["metadata"]["team_id"], "A1B2C3D4E5");
    assert_eq!(v["metadata"]["kind"], "distribution");
    // The .p12 signet built opens with the password it generated.
    let r = call(
        &w.app,
        "GET",
        &format!("{path}/{}/secret", v["id"].as_str().unwrap()),
        Some(&owner),
        None,
        None,
    )
    .await;
    let secret = &r.json()["secret"];
    let p12 = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        secret["p12"].as_str().unwrap(),
    )
    .unwrap();
    let password = signet_formats::Password::new(secret["password"].as_str().unwrap());
    assert_eq!(password.expose().len(), 32);
    let ks = signet_formats::Keystore::open(&p12, Some(&password)).unwrap();
    let id = ks.unlock(None, &password).unwrap();
    assert_eq!(
        id.chain[0]
            .info()
            .apple
            .as_ref()
            .unwrap()
            .team_id
            .as_deref(),
        Some("A1B2C3D4E5")
    );
}

async fn failed_logins_lock_the_address(w: &mut World) {
    let extra = w.users.extra.clone();
    let login = |password: &str| json!({ "email": extra, "password": password });
    for _ in 0..signet_server::login_limit::PER_ADDRESS.attempts {
        let r = call(
            &w.app,
            "POST",
            "/v1/auth/login",
            None,
            Some(&login("wrong password!")),
            None,
        )
        .await;
        assert_eq!(r.status, 401);
    }
    // Locked now, even with the right password; other addresses log in.
    let r = call(
        &w.app,
        "POST",
        "/v1/auth/login",
        None,
        Some(&login(PASSWORD)),
        None,
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.text);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    let owner = json!({ "email": w.users.owner, "password": PASSWORD });
    let r = call(&w.app, "POST", "/v1/auth/login", None, Some(&owner), None).await;
    assert_eq!(r.status, 201);
    if let Some(t) = r.json()["token"].as_str() {
        w.secrets.push(t.to_owned());
    }
}

fn no_secret_in_logs(w: &World) {
    let text = String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned();
    assert!(
        text.contains("status="),
        "request logging is captured: {text:.200}"
    );
    for s in &w.secrets {
        assert!(!text.contains(s.as_str()), "a secret reached the log");
    }
}

fn the_route_table_documents_these_endpoints() {
    let mut documented: Vec<(String, String)> = signet_server::routes::ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let mut tested: Vec<(String, String)> = CASES
        .iter()
        .map(|(_, m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    documented.sort();
    tested.sort();
    assert_eq!(documented, tested);
    // And what the table says about roles is what the matrix found.
    for route in signet_server::routes::ROUTES {
        let (_, _, _, expect) = CASES
            .iter()
            .find(|(_, m, p, _)| *m == route.method && *p == route.path)
            .unwrap();
        let documented = match route.need {
            signet_server::routes::Need::Role(r) => Some(r),
            _ => None,
        };
        let tested = match expect {
            Expect::Role(r, _) | Expect::RoleThen(r, _) => Some(*r),
            _ => None,
        };
        assert_eq!(documented, tested, "{} {}", route.method, route.path);
        if let Expect::Role(_, ok) = expect {
            assert_eq!(route.ok, *ok, "{} {}", route.method, route.path);
        }
    }
}

/// Each scenario is a test of its own, on each backend, in a world of its own (a fresh
/// database), and ends by checking that none of its secrets reached the log.
macro_rules! scenarios {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    let mut w = super::World::new(super::sqlite_store(&dir).await).await;
                    super::$scenario(&mut w).await;
                    super::no_secret_in_logs(&w);
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let mut w = super::World::new(super::postgres_store().await).await;
                    super::$scenario(&mut w).await;
                    super::no_secret_in_logs(&w);
                }
            )*
        }
    };
}

scenarios!(
    role_matrix,
    secrets_only_with_permission,
    versions_and_pages,
    robots_scoped_to_apps,
    pairs_follow_the_rules,
    certificate_from_key_and_cer,
    failed_logins_lock_the_address,
);

#[test]
fn openapi_matches_the_tested_endpoints() {
    the_route_table_documents_these_endpoints();
    let doc = signet_server::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let ops: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(ops, CASES.len());
}

/// Every field an upload of some type takes, written here apart from the store's list.
const UPLOAD_FIELDS: [&str; 20] = [
    "name",
    "keystore",
    "store_password",
    "key_alias",
    "key_password",
    "json",
    "server_key",
    "team_id",
    "team_name",
    "team_type",
    "p12",
    "password",
    "private_key",
    "certificate",
    "profile",
    "bundle_id",
    "p8",
    "key_id",
    "issuer_id",
    "roles",
];

/// The document's `Upload` is one schema per credential type, told apart by `type`, and
/// each is what `Upload::from_json` reads for that type: a body with every property it
/// lists is read as that type, leaving out a property it requires is refused naming that
/// field (and leaving out any other is not), and every field it does not list is refused
/// as unknown.
#[test]
fn openapi_upload_is_one_schema_per_credential_type() {
    use validate::{Upload, UploadError};

    let doc = signet_server::openapi::document();
    let schemas = &doc["components"]["schemas"];
    let upload = &schemas["Upload"];
    assert_eq!(upload["discriminator"]["propertyName"], "type", "{upload}");
    let mapping = upload["discriminator"]["mapping"].as_object().unwrap();
    let mut kinds: Vec<&str> = mapping.keys().map(String::as_str).collect();
    kinds.sort_unstable();
    let mut expected: Vec<String> = signet_store::Kind::names()
        .split(", ")
        .map(str::to_owned)
        .collect();
    expected.sort_unstable();
    assert_eq!(kinds, expected);
    let one_of = upload["oneOf"].as_array().unwrap();
    assert_eq!(one_of.len(), mapping.len(), "{upload}");
    for (kind, reference) in mapping {
        assert!(one_of.contains(&json!({ "$ref": reference })), "{kind}");
        let name = reference
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap();
        let schema = &schemas[name];
        assert_eq!(schema["type"], "object", "{kind}");
        assert_eq!(schema["additionalProperties"], false, "{kind}");
        assert_eq!(schema["properties"]["type"]["const"], *kind);
        let properties = schema["properties"].as_object().unwrap();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(required.contains(&"type"), "{kind}");
        let mut full = serde_json::Map::new();
        for (field, property) in properties {
            let value = match (field.as_str(), property["type"].as_str()) {
                ("type", _) => json!(kind),
                (_, Some("array")) => json!(["x"]),
                (_, Some("string")) => json!("x"),
                other => panic!("{kind}: {other:?}"),
            };
            full.insert(field.clone(), value);
        }
        let read = Upload::from_json(Value::Object(full.clone()))
            .unwrap_or_else(|e| panic!("{kind}: every listed field: {e}"));
        assert_eq!(read.kind().name(), kind);
        for field in properties.keys().filter(|f| *f != "type") {
            let mut without = full.clone();
            without.remove(field);
            match (
                required.contains(&field.as_str()),
                Upload::from_json(Value::Object(without)),
            ) {
                (
                    true,
                    Err(UploadError::Invalid(signet_store::StoreError::Invalid {
                        field: named,
                        reason,
                    })),
                ) => {
                    assert_eq!(named, field, "{kind}");
                    assert_eq!(reason, "required for this type", "{kind}");
                }
                (false, Ok(_)) => {}
                (required, other) => {
                    panic!("{kind} without {field} (required: {required}): {other:?}")
                }
            }
        }
        for field in UPLOAD_FIELDS
            .into_iter()
            .chain(["unheard_of"])
            .filter(|f| !properties.contains_key(*f))
        {
            let mut with = full.clone();
            with.insert(field.into(), json!("x"));
            match Upload::from_json(Value::Object(with)) {
                Err(UploadError::Shape(detail)) => assert!(
                    detail.starts_with(&format!("unknown field `{field}`")),
                    "{kind} with {field}: {detail}"
                ),
                other => panic!("{kind} with {field}: {other:?}"),
            }
        }
    }
}
