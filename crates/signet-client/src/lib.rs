//! A typed async client of `signet serve`'s HTTP API (`/v1`).
//!
//! One method per endpoint, taking and returning the API's types: signet-store's records
//! ([`Credential`], [`App`], [`BuildSet`], …, read back as the server wrote them) and the
//! answers of [`types`]. A refusal is [`ClientError::Problem`] with the server's
//! problem+json (status, stable type, detail, field); a server that cannot be reached is
//! [`ClientError::Connect`] naming its URL.
//!
//! ```no_run
//! # async fn demo() -> Result<(), signet_client::ClientError> {
//! use signet_client::{Client, PageRequest};
//! let client = Client::new("http://127.0.0.1:8420")?
//!     .with_token(signet_client::SecretString::new("sgu_…"));
//! let org = match client.me().await? {
//!     signet_client::Me::User { orgs, .. } => orgs[0].id.clone(),
//!     signet_client::Me::Robot { org, .. } => org,
//! };
//! let page = client.apps(&org, &PageRequest::default()).await?;
//! # Ok(()) }
//! ```
//!
//! Tokens and secrets never appear in `Debug` output or error messages.

pub mod apple;
mod error;
pub mod types;

use std::time::Duration;

use reqwest::{Method, StatusCode, Url, header};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;
pub use signet_store::{
    App, AppCredentials, AppId, AuditRecord, BuildPair, BuildSet, CertificateRequest,
    CertificateRequestId, Credential, CredentialId, Impact, KeystoreSpec, Kind, Link, Member,
    Metadata, OptedIn, Org, OrgId, Page, PlayAppSigning, Role, TokenId, TokenInfo, User, UserId,
    validate::{SecretString, Upload},
};

pub use crate::{
    error::{ClientError, Problem},
    types::{
        ApnsToken, BuildCredentials, BuildQuery, Bytes, Deleted, Export, LoggedIn, Me, NewRobot,
        OrgDetails, RobotCreated, SecretBytes, SecretMaterial, SetupDone, SignBuild, SignMessage,
        SignRequest, Signed, Token, VersionRecord,
    },
};

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take (the server's own limit is 60 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
/// The largest answer read: above any the API gives (an export of the largest credential
/// the server accepts, 4 MiB of request, base64 in JSON), far below what would hurt.
const MAX_RESPONSE: usize = 32 << 20;
/// The most pages [`Client::all`] follows.
const MAX_PAGES: usize = 100_000;

/// Which page of a list: where to start (a `next_cursor` the server gave) and how many.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// A cursor from the previous page.
    pub cursor: Option<String>,
    /// Items per page (1 to 500; the server's default when absent).
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The page after `cursor`.
    pub fn after(cursor: Option<String>) -> PageRequest {
        PageRequest {
            cursor,
            limit: Some(500),
        }
    }
}

/// Which credentials to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CredentialFilter {
    /// Only this type.
    pub kind: Option<Kind>,
    /// Deleted ones (restorable) instead of live ones.
    pub deleted: bool,
}

/// A client of one server, with or without a token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<Token>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// One request: method, path segments under the base URL, query, body, `If-Match`.
struct Call<'a> {
    method: Method,
    path: Vec<&'a str>,
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
    if_match: Option<i64>,
}

impl<'a> Call<'a> {
    fn new(method: Method, path: &[&'a str]) -> Call<'a> {
        Call {
            method,
            path: path.to_vec(),
            query: Vec::new(),
            body: None,
            if_match: None,
        }
    }

    fn get(path: &[&'a str]) -> Call<'a> {
        Call::new(Method::GET, path)
    }

    fn body(mut self, body: &impl Serialize) -> Result<Call<'a>, ClientError> {
        self.body = Some(serde_json::to_value(body).map_err(|e| ClientError::Decode {
            server: String::new(),
            what: format!("the request body: {e}"),
        })?);
        Ok(self)
    }

    fn query(mut self, name: &'static str, value: &dyn std::fmt::Display) -> Call<'a> {
        self.query.push((name, value.to_string()));
        self
    }

    fn page(self, page: &PageRequest) -> Call<'a> {
        let mut call = self;
        if let Some(cursor) = &page.cursor {
            call = call.query("cursor", &cursor);
        }
        if let Some(limit) = page.limit {
            call = call.query("limit", &limit);
        }
        call
    }

    fn if_match(mut self, version: Option<i64>) -> Call<'a> {
        self.if_match = version;
        self
    }
}

impl Client {
    /// A client of the server at `server` (`http://host:port` or `https://host`, with an
    /// optional path prefix when it is served under one).
    pub fn new(server: &str) -> Result<Client, ClientError> {
        let bad = || ClientError::BadUrl(server.to_owned());
        let mut base = Url::parse(server.trim()).map_err(|_| bad())?;
        if !matches!(base.scheme(), "http" | "https")
            || base.host_str().is_none()
            || base.query().is_some()
            || !base.username().is_empty()
            || base.password().is_some()
        {
            return Err(bad());
        }
        base.set_fragment(None);
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            // Requests carry a token or secrets (a password, a keystore): they go to the
            // server named, never where a redirect points (a 307/308 would resend the body).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Transport {
                server: server.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            base,
            token: None,
        })
    }

    /// The same client, calling with `token`.
    #[must_use]
    pub fn with_token(mut self, token: Token) -> Client {
        self.token = Some(token);
        self
    }

    /// The server's URL, as given (without a trailing slash).
    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Whether the client holds a token.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn url(&self, path: &[&str], query: &[(&'static str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send(
        &self,
        call: Call<'_>,
    ) -> Result<(StatusCode, zeroize::Zeroizing<Vec<u8>>), ClientError> {
        let url = self.url(&call.path, &call.query);
        let mut request = self
            .http
            .request(call.method, url)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(version) = call.if_match {
            request = request.header(header::IF_MATCH, format!("\"{version}\""));
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map_or_else(
                    || "(no Location)".to_owned(),
                    |l| l.chars().filter(|c| !c.is_control()).collect(),
                );
            return Err(ClientError::Redirected {
                server: self.server().to_owned(),
                status: status.as_u16(),
                location,
            });
        }
        let too_large = || ClientError::TooLarge {
            server: self.server().to_owned(),
            limit: MAX_RESPONSE,
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE as u64)
        {
            return Err(too_large());
        }
        // The answer may hold secrets (an export, build credentials): zeroized when dropped.
        let mut body = zeroize::Zeroizing::new(Vec::new());
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(&e))? {
            if body.len() + chunk.len() > MAX_RESPONSE {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok((status, body));
        }
        Err(match error::problem(status.as_u16(), retry_after, &body) {
            Some(problem) => ClientError::Problem(Box::new(problem)),
            None => ClientError::Unexpected {
                server: self.server().to_owned(),
                status: status.as_u16(),
            },
        })
    }

    fn transport(&self, e: &reqwest::Error) -> ClientError {
        let server = self.server().to_owned();
        if e.is_connect() {
            // The innermost cause says what failed: "Connection refused (os error 111)",
            // a name that does not resolve, a TLS alert.
            let mut cause: &dyn std::error::Error = e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            ClientError::Connect {
                server,
                reason: cause.to_string(),
            }
        } else if e.is_timeout() {
            ClientError::Timeout { server }
        } else {
            // reqwest's message names the URL, which holds no secret (tokens travel in a
            // header); the source chain says what failed.
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                reason = format!("{reason}: {s}");
                source = s.source();
            }
            ClientError::Transport { server, reason }
        }
    }

    async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ClientError> {
        let what = format!("{} {}", call.method, call.path.join("/"));
        let (_, body) = self.send(call).await?;
        // serde's message can quote a value of the answer, which may be a secret: only
        // where and what kind of error is said.
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode {
            server: self.server().to_owned(),
            what: format!(
                "{what}: {} at line {}, column {}",
                match e.classify() {
                    serde_json::error::Category::Io => "a read error",
                    serde_json::error::Category::Syntax => "not JSON",
                    serde_json::error::Category::Data => "JSON of another shape",
                    serde_json::error::Category::Eof => "JSON cut short",
                },
                e.line(),
                e.column()
            ),
        })
    }

    async fn call_empty(&self, call: Call<'_>) -> Result<(), ClientError> {
        self.send(call).await.map(|_| ())
    }

    fn authed(&self) -> Result<(), ClientError> {
        if self.token.is_some() {
            Ok(())
        } else {
            Err(ClientError::NoToken)
        }
    }

    // --- account -------------------------------------------------------------------

    /// `GET /healthz`: whether a server answers there.
    pub async fn health(&self) -> Result<(), ClientError> {
        self.send(Call::get(&["healthz"])).await.map(|_| ())
    }

    /// `POST /v1/setup`: spends the setup token to make the first user and organization.
    pub async fn setup(
        &self,
        setup_token: &SecretString,
        email: &str,
        password: &SecretString,
        org: &str,
    ) -> Result<SetupDone, ClientError> {
        let body = json!({ "setup_token": setup_token.expose(), "email": email,
                           "password": password.expose(), "org": org });
        self.call(Call::new(Method::POST, &["v1", "setup"]).body(&body)?)
            .await
    }

    /// `POST /v1/auth/login`: a session token for an e-mail and password.
    pub async fn login(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<LoggedIn, ClientError> {
        let body = json!({ "email": email, "password": password.expose() });
        self.call(Call::new(Method::POST, &["v1", "auth", "login"]).body(&body)?)
            .await
    }

    /// `POST /v1/auth/logout`: revokes the session in use.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.authed()?;
        self.call_empty(Call::new(Method::POST, &["v1", "auth", "logout"]))
            .await
    }

    /// `GET /v1/me`: who the token belongs to.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.authed()?;
        self.call(Call::get(&["v1", "me"])).await
    }

    /// `POST /v1/orgs`: a new organization the caller owns.
    pub async fn create_org(&self, name: &str) -> Result<Org, ClientError> {
        self.call(Call::new(Method::POST, &["v1", "orgs"]).body(&json!({ "name": name }))?)
            .await
    }

    // --- organizations -------------------------------------------------------------

    /// `GET /v1/orgs/{org}`.
    pub async fn org(&self, org: &OrgId) -> Result<OrgDetails, ClientError> {
        self.call(Call::get(&["v1", "orgs", org.as_str()])).await
    }

    /// `GET …/members`.
    pub async fn members(&self, org: &OrgId) -> Result<Vec<Member>, ClientError> {
        self.items(Call::get(&["v1", "orgs", org.as_str(), "members"]))
            .await
    }

    /// `PUT …/members`: adds a user by e-mail, or changes their role.
    pub async fn set_member(
        &self,
        org: &OrgId,
        email: &str,
        role: Role,
    ) -> Result<Member, ClientError> {
        let body = json!({ "email": email, "role": role });
        self.call(Call::new(Method::PUT, &["v1", "orgs", org.as_str(), "members"]).body(&body)?)
            .await
    }

    /// `DELETE …/members/{user}`.
    pub async fn remove_member(&self, org: &OrgId, user: &UserId) -> Result<(), ClientError> {
        self.call_empty(Call::new(
            Method::DELETE,
            &["v1", "orgs", org.as_str(), "members", user.as_str()],
        ))
        .await
    }

    /// `GET …/robots`.
    pub async fn robots(&self, org: &OrgId) -> Result<Vec<TokenInfo>, ClientError> {
        self.items(Call::get(&["v1", "orgs", org.as_str(), "robots"]))
            .await
    }

    /// `POST …/robots`: a robot token, shown once.
    pub async fn create_robot(
        &self,
        org: &OrgId,
        robot: &NewRobot,
    ) -> Result<RobotCreated, ClientError> {
        self.call(Call::new(Method::POST, &["v1", "orgs", org.as_str(), "robots"]).body(robot)?)
            .await
    }

    /// `DELETE …/robots/{id}`.
    pub async fn revoke_robot(&self, org: &OrgId, id: &TokenId) -> Result<(), ClientError> {
        self.call_empty(Call::new(
            Method::DELETE,
            &["v1", "orgs", org.as_str(), "robots", id.as_str()],
        ))
        .await
    }

    /// `GET …/audit`: the audit log, newest first.
    pub async fn audit(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<AuditRecord>, ClientError> {
        self.call(Call::get(&["v1", "orgs", org.as_str(), "audit"]).page(page))
            .await
    }

    /// `GET …/audit?action=A`: only the records of one action (`sign`: every signature
    /// made with a held key).
    pub async fn audit_action(
        &self,
        org: &OrgId,
        action: &str,
        page: &PageRequest,
    ) -> Result<Page<AuditRecord>, ClientError> {
        self.call(
            Call::get(&["v1", "orgs", org.as_str(), "audit"])
                .query("action", &action)
                .page(page),
        )
        .await
    }

    /// `POST …/apps/{app}/sign`: signatures made on the server with a build's held key
    /// (developer; audited). The private key never leaves the server.
    pub async fn sign(
        &self,
        org: &OrgId,
        app: &str,
        request: &SignRequest,
    ) -> Result<Signed, ClientError> {
        self.call(
            Call::new(
                Method::POST,
                &["v1", "orgs", org.as_str(), "apps", app, "sign"],
            )
            .body(request)?,
        )
        .await
    }

    // --- credentials ---------------------------------------------------------------

    /// `GET …/credentials`.
    pub async fn credentials(
        &self,
        org: &OrgId,
        filter: CredentialFilter,
        page: &PageRequest,
    ) -> Result<Page<Credential>, ClientError> {
        let mut call = Call::get(&["v1", "orgs", org.as_str(), "credentials"]).page(page);
        if let Some(kind) = filter.kind {
            call = call.query("type", &kind.name());
        }
        if filter.deleted {
            call = call.query("deleted", &"true");
        }
        self.call(call).await
    }

    /// `POST …/credentials`: uploads a credential (validated and stored sealed).
    pub async fn upload(&self, org: &OrgId, upload: &Upload) -> Result<Credential, ClientError> {
        self.call(
            Call::new(Method::POST, &["v1", "orgs", org.as_str(), "credentials"]).body(upload)?,
        )
        .await
    }

    /// `GET …/credentials/{id}`.
    pub async fn credential(
        &self,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<Credential, ClientError> {
        self.call(Call::get(&[
            "v1",
            "orgs",
            org.as_str(),
            "credentials",
            id.as_str(),
        ]))
        .await
    }

    /// `PUT …/credentials/{id}`: replaces its file and secrets, if still at `version`.
    pub async fn replace(
        &self,
        org: &OrgId,
        id: &CredentialId,
        version: i64,
        upload: &Upload,
    ) -> Result<Credential, ClientError> {
        self.call(
            Call::new(
                Method::PUT,
                &["v1", "orgs", org.as_str(), "credentials", id.as_str()],
            )
            .body(upload)?
            .if_match(Some(version)),
        )
        .await
    }

    /// `PATCH …/credentials/{id}`: renames it, if still at `version`.
    pub async fn rename(
        &self,
        org: &OrgId,
        id: &CredentialId,
        version: i64,
        name: &str,
    ) -> Result<Credential, ClientError> {
        self.call(
            Call::new(
                Method::PATCH,
                &["v1", "orgs", org.as_str(), "credentials", id.as_str()],
            )
            .body(&json!({ "name": name }))?
            .if_match(Some(version)),
        )
        .await
    }

    /// `DELETE …/credentials/{id}`: soft delete (restorable); the impact.
    pub async fn delete_credential(
        &self,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<Deleted, ClientError> {
        self.call(Call::new(
            Method::DELETE,
            &["v1", "orgs", org.as_str(), "credentials", id.as_str()],
        ))
        .await
    }

    /// `POST …/credentials/{id}/restore`.
    pub async fn restore(&self, org: &OrgId, id: &CredentialId) -> Result<Credential, ClientError> {
        self.call(Call::new(
            Method::POST,
            &[
                "v1",
                "orgs",
                org.as_str(),
                "credentials",
                id.as_str(),
                "restore",
            ],
        ))
        .await
    }

    /// `GET …/credentials/{id}/impact`: what stops working without it.
    pub async fn impact(&self, org: &OrgId, id: &CredentialId) -> Result<Impact, ClientError> {
        self.call(Call::get(&[
            "v1",
            "orgs",
            org.as_str(),
            "credentials",
            id.as_str(),
            "impact",
        ]))
        .await
    }

    /// `POST …/credentials/generate`: an android-keystore generated on the server; its
    /// record (never the key or its password).
    pub async fn generate_keystore(
        &self,
        org: &OrgId,
        spec: &KeystoreSpec,
    ) -> Result<Credential, ClientError> {
        self.call(
            Call::new(
                Method::POST,
                &["v1", "orgs", org.as_str(), "credentials", "generate"],
            )
            .body(spec)?,
        )
        .await
    }

    /// `POST …/certificate-requests`: a key made and kept on the server, and its CSR.
    pub async fn create_certificate_request(
        &self,
        org: &OrgId,
        common_name: &str,
        email: Option<&str>,
    ) -> Result<CertificateRequest, ClientError> {
        let body = json!({ "common_name": common_name, "email": email });
        self.call(
            Call::new(
                Method::POST,
                &["v1", "orgs", org.as_str(), "certificate-requests"],
            )
            .body(&body)?,
        )
        .await
    }

    /// `GET …/certificate-requests`: one page of the organization's requests.
    pub async fn certificate_requests(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<CertificateRequest>, ClientError> {
        self.call(Call::get(&["v1", "orgs", org.as_str(), "certificate-requests"]).page(page))
            .await
    }

    /// `GET …/certificate-requests/{id}`.
    pub async fn certificate_request(
        &self,
        org: &OrgId,
        id: &CertificateRequestId,
    ) -> Result<CertificateRequest, ClientError> {
        self.call(Call::get(&[
            "v1",
            "orgs",
            org.as_str(),
            "certificate-requests",
            id.as_str(),
        ]))
        .await
    }

    /// `POST …/certificate-requests/{id}/certificate`: Apple's certificate (DER or PEM
    /// bytes) joined to the request's key; the apple-distribution-certificate made.
    pub async fn complete_certificate_request(
        &self,
        org: &OrgId,
        id: &CertificateRequestId,
        cer: &[u8],
        name: Option<&str>,
    ) -> Result<Credential, ClientError> {
        use base64::Engine as _;
        let certificate = match std::str::from_utf8(cer) {
            Ok(text) if text.contains("-----BEGIN") => text.to_owned(),
            _ => base64::engine::general_purpose::STANDARD.encode(cer),
        };
        let body = json!({ "certificate": certificate, "name": name });
        self.call(
            Call::new(
                Method::POST,
                &[
                    "v1",
                    "orgs",
                    org.as_str(),
                    "certificate-requests",
                    id.as_str(),
                    "certificate",
                ],
            )
            .body(&body)?,
        )
        .await
    }

    /// `POST …/apps/{app}/android/{application_id}/play-app-signing` (admin): the opt-in to
    /// Play App Signing; the upload key's build set is `upload` unless `build_set` names it.
    pub async fn opt_in_play_app_signing(
        &self,
        org: &OrgId,
        app: &str,
        application_id: &str,
        build_set: Option<&str>,
    ) -> Result<OptedIn, ClientError> {
        let body = json!({ "build_set": build_set });
        self.call(
            Call::new(
                Method::POST,
                &[
                    "v1",
                    "orgs",
                    org.as_str(),
                    "apps",
                    app,
                    "android",
                    application_id,
                    "play-app-signing",
                ],
            )
            .body(&body)?,
        )
        .await
    }

    /// `POST …/apps/{app}/apns-token`: an APNs provider token minted with the push key of
    /// the app's bundle id (its only one with a push key when `None`); a cached one unless
    /// `fresh`.
    pub async fn apns_token(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: Option<&str>,
        fresh: bool,
    ) -> Result<ApnsToken, ClientError> {
        let body = json!({ "bundle_id": bundle_id, "fresh": fresh });
        self.call(
            Call::new(
                Method::POST,
                &["v1", "orgs", org.as_str(), "apps", app, "apns-token"],
            )
            .body(&body)?,
        )
        .await
    }

    /// `GET …/credentials/{id}/secret`: the secret material (admin; audited).
    pub async fn export(&self, org: &OrgId, id: &CredentialId) -> Result<Export, ClientError> {
        self.call(Call::get(&[
            "v1",
            "orgs",
            org.as_str(),
            "credentials",
            id.as_str(),
            "secret",
        ]))
        .await
    }

    /// `GET …/credentials/{id}/versions`: previous versions kept.
    pub async fn versions(
        &self,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<Vec<VersionRecord>, ClientError> {
        self.items(Call::get(&[
            "v1",
            "orgs",
            org.as_str(),
            "credentials",
            id.as_str(),
            "versions",
        ]))
        .await
    }

    /// `GET …/expiring?days=N`: soonest first, expired included.
    pub async fn expiring(
        &self,
        org: &OrgId,
        days: u32,
        page: &PageRequest,
    ) -> Result<Page<Credential>, ClientError> {
        self.call(
            Call::get(&["v1", "orgs", org.as_str(), "expiring"])
                .query("days", &days)
                .page(page),
        )
        .await
    }

    // --- apps ----------------------------------------------------------------------

    /// `GET …/apps`.
    pub async fn apps(&self, org: &OrgId, page: &PageRequest) -> Result<Page<App>, ClientError> {
        self.call(Call::get(&["v1", "orgs", org.as_str(), "apps"]).page(page))
            .await
    }

    /// `POST …/apps`.
    pub async fn create_app(&self, org: &OrgId, slug: &str) -> Result<App, ClientError> {
        self.call(
            Call::new(Method::POST, &["v1", "orgs", org.as_str(), "apps"])
                .body(&json!({ "slug": slug }))?,
        )
        .await
    }

    /// `GET …/apps/{app}` (id or slug): the app with its build sets, pairs and slots.
    pub async fn app(&self, org: &OrgId, app: &str) -> Result<AppCredentials, ClientError> {
        self.call(Call::get(&["v1", "orgs", org.as_str(), "apps", app]))
            .await
    }

    /// `DELETE …/apps/{app}` (its credentials stay).
    pub async fn delete_app(&self, org: &OrgId, app: &str) -> Result<(), ClientError> {
        self.call_empty(Call::new(
            Method::DELETE,
            &["v1", "orgs", org.as_str(), "apps", app],
        ))
        .await
    }

    /// `PUT …/android/{application_id}/build-sets/{name}`: creates a build set, or swaps
    /// its keystore (`version`: the set's, when it exists).
    #[allow(clippy::too_many_arguments)]
    pub async fn put_build_set(
        &self,
        org: &OrgId,
        app: &str,
        application_id: &str,
        name: &str,
        keystore: &CredentialId,
        default: bool,
        version: Option<i64>,
    ) -> Result<BuildSet, ClientError> {
        let body = json!({ "keystore_id": keystore, "default": default });
        self.call(
            Call::new(Method::PUT, &build_set(org, app, application_id, name))
                .body(&body)?
                .if_match(version),
        )
        .await
    }

    /// `PATCH …/build-sets/{name}`: renames a build set at `version`.
    pub async fn rename_build_set(
        &self,
        org: &OrgId,
        app: &str,
        application_id: &str,
        name: &str,
        new_name: &str,
        version: i64,
    ) -> Result<BuildSet, ClientError> {
        self.call(
            Call::new(Method::PATCH, &build_set(org, app, application_id, name))
                .body(&json!({ "name": new_name }))?
                .if_match(Some(version)),
        )
        .await
    }

    /// `POST …/build-sets/{name}/default`.
    pub async fn make_default(
        &self,
        org: &OrgId,
        app: &str,
        application_id: &str,
        name: &str,
    ) -> Result<BuildSet, ClientError> {
        let mut path = build_set(org, app, application_id, name);
        path.push("default");
        self.call(Call::new(Method::POST, &path)).await
    }

    /// `DELETE …/build-sets/{name}` (the default only when it is the last).
    pub async fn delete_build_set(
        &self,
        org: &OrgId,
        app: &str,
        application_id: &str,
        name: &str,
    ) -> Result<(), ClientError> {
        self.call_empty(Call::new(
            Method::DELETE,
            &build_set(org, app, application_id, name),
        ))
        .await
    }

    /// `PUT …/ios/{bundle_id}/build-pairs/{distribution}`: the certificate and profile of
    /// a distribution type (`version`: the pair's, when it exists).
    #[allow(clippy::too_many_arguments)]
    pub async fn put_build_pair(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: &str,
        distribution: &str,
        certificate: &CredentialId,
        profile: &CredentialId,
        version: Option<i64>,
    ) -> Result<BuildPair, ClientError> {
        let body = json!({ "certificate_id": certificate, "profile_id": profile });
        self.call(
            Call::new(Method::PUT, &build_pair(org, app, bundle_id, distribution))
                .body(&body)?
                .if_match(version),
        )
        .await
    }

    /// `DELETE …/build-pairs/{distribution}`.
    pub async fn delete_build_pair(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: &str,
        distribution: &str,
    ) -> Result<(), ClientError> {
        self.call_empty(Call::new(
            Method::DELETE,
            &build_pair(org, app, bundle_id, distribution),
        ))
        .await
    }

    /// `PUT …/slots/{platform}/{identifier}/{slot}`: assigns a credential to a slot
    /// (`fcm-key`, `push-key`, `asc-api-key`, …).
    pub async fn set_slot(
        &self,
        org: &OrgId,
        app: &str,
        platform: &str,
        identifier: &str,
        slot: &str,
        credential: &CredentialId,
    ) -> Result<Link, ClientError> {
        self.call(
            Call::new(
                Method::PUT,
                &slot_path(org, app, platform, identifier, slot),
            )
            .body(&json!({ "credential_id": credential }))?,
        )
        .await
    }

    /// `DELETE …/slots/{platform}/{identifier}/{slot}`.
    pub async fn remove_slot(
        &self,
        org: &OrgId,
        app: &str,
        platform: &str,
        identifier: &str,
        slot: &str,
    ) -> Result<(), ClientError> {
        self.call_empty(Call::new(
            Method::DELETE,
            &slot_path(org, app, platform, identifier, slot),
        ))
        .await
    }

    /// `GET …/apps/{app}/build-credentials`: one build's credentials (developer; audited).
    pub async fn build_credentials(
        &self,
        org: &OrgId,
        app: &str,
        query: &BuildQuery,
    ) -> Result<BuildCredentials, ClientError> {
        let mut call = Call::get(&["v1", "orgs", org.as_str(), "apps", app, "build-credentials"]);
        match query {
            BuildQuery::Android {
                application_id,
                name,
            } => {
                call = call
                    .query("platform", &"android")
                    .query("application_id", &application_id);
                if let Some(name) = name {
                    call = call.query("name", &name);
                }
            }
            BuildQuery::Ios {
                bundle_id,
                distribution,
            } => {
                call = call
                    .query("platform", &"ios")
                    .query("bundle_id", &bundle_id)
                    .query("distribution", &distribution);
            }
        }
        self.call(call).await
    }

    /// Every item of a paged list, page after page.
    pub async fn all<T>(
        &self,
        mut page: impl AsyncFnMut(PageRequest) -> Result<Page<T>, ClientError>,
    ) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let p = page(PageRequest::after(cursor.clone())).await?;
            items.extend(p.items);
            match p.next_cursor {
                // A server that hands back the cursor it was given would be followed forever.
                Some(next) if cursor.as_ref() == Some(&next) => break,
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
        Err(ClientError::Decode {
            server: self.server().to_owned(),
            what: "a list whose pages do not end (a cursor repeated)".into(),
        })
    }

    async fn items<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<Vec<T>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Items<T> {
            items: Vec<T>,
        }
        self.call::<Items<T>>(call).await.map(|i| i.items)
    }
}

fn build_set<'a>(
    org: &'a OrgId,
    app: &'a str,
    application_id: &'a str,
    name: &'a str,
) -> Vec<&'a str> {
    vec![
        "v1",
        "orgs",
        org.as_str(),
        "apps",
        app,
        "android",
        application_id,
        "build-sets",
        name,
    ]
}

fn build_pair<'a>(
    org: &'a OrgId,
    app: &'a str,
    bundle_id: &'a str,
    distribution: &'a str,
) -> Vec<&'a str> {
    vec![
        "v1",
        "orgs",
        org.as_str(),
        "apps",
        app,
        "ios",
        bundle_id,
        "build-pairs",
        distribution,
    ]
}

fn slot_path<'a>(
    org: &'a OrgId,
    app: &'a str,
    platform: &'a str,
    identifier: &'a str,
    slot: &'a str,
) -> Vec<&'a str> {
    vec![
        "v1",
        "orgs",
        org.as_str(),
        "apps",
        app,
        "slots",
        platform,
        identifier,
        slot,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_prefix_and_escape_segments() {
        let c = Client::new("https://example.com/signet/").unwrap();
        let url = c.url(&["v1", "orgs", "a b/c"], &[("cursor", "x&y".into())]);
        assert_eq!(
            url.as_str(),
            "https://example.com/signet/v1/orgs/a%20b%2Fc?cursor=x%26y"
        );
        let c = Client::new("http://127.0.0.1:8420").unwrap();
        assert_eq!(
            c.url(&["v1", "me"], &[]).as_str(),
            "http://127.0.0.1:8420/v1/me"
        );
        assert_eq!(c.server(), "http://127.0.0.1:8420");
    }

    #[test]
    fn only_http_urls_without_credentials_are_servers() {
        for bad in [
            "ftp://example.com",
            "example.com",
            "http://user:pw@example.com",
            "http://example.com/?q=1",
            "",
        ] {
            assert!(
                matches!(Client::new(bad), Err(ClientError::BadUrl(ref u)) if u == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn tokens_are_not_in_debug() {
        let c = Client::new("http://127.0.0.1:1")
            .unwrap()
            .with_token(SecretString::new("sgu_secret"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("sgu_secret"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    /// A server that answers every request with `response`, and counts connections.
    fn answering(
        response: &'static str,
    ) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = std::sync::Arc::clone(&count);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (url, count)
    }

    #[tokio::test]
    async fn redirects_are_refused_and_the_body_goes_nowhere_else() {
        let (elsewhere, reached) = answering("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
        let redirect: &'static str = Box::leak(
            format!(
                "HTTP/1.1 308 Permanent Redirect\r\nlocation: {elsewhere}/v1/auth/login\r\n\
                 content-length: 0\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (server, _) = answering(redirect);
        let c = Client::new(&server).unwrap();
        match c.login("a@b.c", &SecretString::new("hunter22")).await {
            Err(ClientError::Redirected {
                status, location, ..
            }) => {
                assert_eq!(status, 308);
                assert_eq!(location, format!("{elsewhere}/v1/auth/login"));
            }
            other => panic!("expected Redirected, got {other:?}"),
        }
        assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_refused() {
        let huge: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                MAX_RESPONSE + 1
            )
            .into_boxed_str(),
        );
        let (server, _) = answering(huge);
        let c = Client::new(&server)
            .unwrap()
            .with_token(SecretString::new("sgu_x"));
        assert!(
            matches!(c.me().await, Err(ClientError::TooLarge { limit, .. }) if limit == MAX_RESPONSE)
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error_naming_the_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let c = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
        match c.health().await {
            Err(ClientError::Connect { server, reason }) => {
                assert_eq!(server, format!("http://127.0.0.1:{port}"));
                assert!(reason.contains("refused"), "{reason}");
            }
            other => panic!("expected Connect, got {other:?}"),
        }
    }
}
