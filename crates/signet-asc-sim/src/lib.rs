//! Test support: an in-memory App Store Connect serving the provisioning endpoints of
//! Apple's OpenAPI document (4.4.1, `asc-provisioning-openapi.json`), for signet's tests.
//! Not product code (`publish = false`, a dev-dependency only).
//!
//! What it checks, as Apple would, and records so tests can assert on it:
//! - every request body against the document's schema for its operation (a failure is
//!   answered 422 and recorded: [`Sim::schema_failures`]), and every answer it gives
//!   against the answer's schema (recorded the same way);
//! - query parameters the operation does not declare (400);
//! - the bearer token: ES256 signature by the configured key, `kid`, `iss`, `aud`
//!   `appstoreconnect-v1`, expired, a lifetime over 20 minutes (401, [`Sim::auth_refusals`]);
//! - no request carries a private key (PEM markers, or base64 of PKCS#8 anywhere in a
//!   JSON string: [`Sim::key_leaks`]);
//! - the team's distribution certificate limit (409 with Apple's error body);
//! - profiles turning `INVALID` when a certificate they allow is revoked;
//! - lists in small pages through `links.next`;
//! - injected 429 and 500 answers ([`Sim::inject`]); POSTs counted ([`Sim::posts`]).
//!
//! Certificates are issued from CSRs by its own CA, and profiles are CMS-signed by a
//! signer under that CA (OpenSSL does both), so they read as Apple's do, except for the
//! chain to Apple's roots.

// An Err is the Apple answer to send back; test support, where its size costs nothing.
#![allow(clippy::result_large_err)]

mod ca;
pub mod schema;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde_json::{Value, json};

pub use crate::ca::Ca;
use crate::schema::Schemas;

/// The document the simulator serves.
pub const DOCUMENT: &str = include_str!("../asc-provisioning-openapi.json");

/// Apple's answer at the team's distribution certificate limit.
pub const LIMIT_DETAIL: &str =
    "You already have a current Distribution certificate or a pending certificate request.";

/// How the simulator is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The API key's `.p8` (PEM): tokens must be signed by it.
    pub p8_pem: String,
    /// Its key id (`kid`).
    pub key_id: String,
    /// The issuer id (`iss`).
    pub issuer_id: String,
    /// The team.
    pub team_id: String,
    /// The team's name.
    pub team_name: String,
    /// Items per page of every list.
    pub page_size: usize,
    /// Distribution certificates the team may hold at once.
    pub distribution_limit: usize,
}

impl SimConfig {
    /// A team `A1B2C3D4E5` ("Acme Inc"), pages of 2, a limit of 2 distribution
    /// certificates.
    pub fn new(p8_pem: &str, key_id: &str, issuer_id: &str) -> SimConfig {
        SimConfig {
            p8_pem: p8_pem.to_owned(),
            key_id: key_id.to_owned(),
            issuer_id: issuer_id.to_owned(),
            team_id: "A1B2C3D4E5".into(),
            team_name: "Acme Inc".into(),
            page_size: 2,
            distribution_limit: 2,
        }
    }
}

/// A new App Store Connect API key (`.p8` PEM: PKCS#8, EC P-256), as Apple lets a team
/// download one.
pub fn new_api_key() -> String {
    let key = signet_formats::PrivateKey::generate(signet_formats::KeyAlgorithm::EcP256)
        .unwrap_or_else(|e| panic!("P-256 key: {e}"));
    signet_formats::pem::encode("PRIVATE KEY", key.pkcs8_der())
}

/// One request the simulator saw.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug, Clone)]
struct Rec {
    id: String,
    attrs: Value,
    // bundle id of a capability or profile
    bundle: String,
    certs: Vec<String>,
    devices: Vec<String>,
}

#[derive(Debug, Default)]
struct World {
    next_id: u64,
    bundle_ids: Vec<Rec>,
    capabilities: Vec<Rec>,
    certificates: Vec<Rec>,
    devices: Vec<Rec>,
    profiles: Vec<Rec>,
    log: Vec<Logged>,
    posts: usize,
    schema_failures: Vec<String>,
    key_leaks: Vec<String>,
    auth_refusals: Vec<String>,
    inject: VecDeque<u16>,
    fail_auth_once: bool,
    foreign_next: bool,
}

impl World {
    fn id(&mut self, prefix: char) -> String {
        self.next_id += 1;
        format!("{prefix}{:09}", self.next_id)
    }
}

struct Endpoint {
    operation: String,
    method: String,
    segments: Vec<String>,
    query: Vec<String>,
}

struct Shared {
    config: SimConfig,
    public_key: Vec<u8>,
    schemas: Schemas,
    endpoints: Vec<Endpoint>,
    ca: Ca,
    base: String,
    world: Mutex<World>,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running simulator (its own thread and runtime); stops when dropped.
pub struct Sim {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Sim {
    /// Starts a simulator on 127.0.0.1 (a free port).
    pub fn start(config: SimConfig) -> Sim {
        Sim::try_start(config).unwrap_or_else(|e| panic!("App Store Connect simulator: {e}"))
    }

    fn try_start(config: SimConfig) -> Result<Sim, String> {
        let public_key = signet_formats::apple::p8::AuthKey::parse(config.p8_pem.as_bytes())
            .and_then(|k| k.public_key())
            .map_err(|e| e.to_string())?;
        let document: Value = serde_json::from_str(DOCUMENT).map_err(|e| e.to_string())?;
        let schemas = Schemas::load(&document)?;
        let endpoints = document["endpoints"]
            .as_array()
            .ok_or("no endpoints")?
            .iter()
            .map(|e| Endpoint {
                operation: e["operation"].as_str().unwrap_or_default().to_owned(),
                method: e["method"].as_str().unwrap_or_default().to_owned(),
                segments: split(e["path"].as_str().unwrap_or_default()),
                query: e["query"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            })
            .collect();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            config,
            public_key,
            schemas,
            endpoints,
            ca: Ca::new()?,
            base: format!("http://{addr}"),
            world: Mutex::new(World::default()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        std::thread::Builder::new()
            .name("asc-sim".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("runtime: {e}"));
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .unwrap_or_else(|e| panic!("listener: {e}"));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .map_err(|e| e.to_string())?;
        Ok(Sim {
            shared,
            stop: Some(stop),
        })
    }

    /// The base URL (what `SIGNET_ASC_URL` is set to).
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// The CA's root certificate (PEM).
    pub fn root_pem(&self) -> Vec<u8> {
        self.shared
            .ca
            .root_pem()
            .unwrap_or_else(|e| panic!("root: {e}"))
    }

    /// How many POSTs it received.
    pub fn posts(&self) -> usize {
        self.shared.world().posts
    }

    /// Every request, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.world().log.clone()
    }

    /// Request bodies (and its own answers) that failed the document's schemas.
    pub fn schema_failures(&self) -> Vec<String> {
        self.shared.world().schema_failures.clone()
    }

    /// Requests that carried a private key.
    pub fn key_leaks(&self) -> Vec<String> {
        self.shared.world().key_leaks.clone()
    }

    /// Tokens refused, with the reason.
    pub fn auth_refusals(&self) -> Vec<String> {
        self.shared.world().auth_refusals.clone()
    }

    /// Answers the next requests with these statuses (429 or 5xx), one each, in order.
    pub fn inject(&self, statuses: &[u16]) {
        self.shared.world().inject.extend(statuses);
    }

    /// Refuses the next token once, however valid (as after a key's revocation and
    /// re-issue, or a clock jump).
    pub fn fail_auth_once(&self) {
        self.shared.world().fail_auth_once = true;
    }

    /// Makes `links.next` point to another host.
    pub fn foreign_next_links(&self) {
        self.shared.world().foreign_next = true;
    }

    /// The team's certificates: (id, type, serial).
    pub fn certificates(&self) -> Vec<(String, String, String)> {
        self.shared
            .world()
            .certificates
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    str_of(&c.attrs, "certificateType"),
                    str_of(&c.attrs, "serialNumber"),
                )
            })
            .collect()
    }

    /// The profiles: (id, name, state).
    pub fn profiles(&self) -> Vec<(String, String, String)> {
        self.shared
            .world()
            .profiles
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    str_of(&p.attrs, "name"),
                    str_of(&p.attrs, "profileState"),
                )
            })
            .collect()
    }

    /// A distribution certificate made on another Mac of the team (signet holds no key
    /// for it), bypassing the API; its id.
    pub fn add_foreign_certificate(&self) -> String {
        let csr = self
            .shared
            .ca
            .foreign_csr()
            .unwrap_or_else(|e| panic!("foreign CSR: {e}"));
        let der = self
            .shared
            .ca
            .issue(
                &csr,
                &self.shared.config.team_id,
                &self.shared.config.team_name,
                true,
            )
            .unwrap_or_else(|e| panic!("issue: {e}"));
        let mut w = self.shared.world();
        let id = w.id('C');
        let rec = certificate_rec(&id, &der, "IOS_DISTRIBUTION");
        w.certificates.push(rec);
        id
    }

    /// Revokes a certificate as the developer portal would (outside the API).
    pub fn revoke_out_of_band(&self, id: &str) {
        revoke(&mut self.shared.world(), id);
    }

    /// Registers a device outside the API (as Xcode does).
    pub fn add_device(&self, udid: &str, name: &str) {
        let mut w = self.shared.world();
        let id = w.id('D');
        w.devices.push(device_rec(&id, name, udid, "IOS"));
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn str_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// An Apple error answer.
fn apple_error(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let body = json!({ "errors": [{
        "id": format!("{:x}", rand_u64()),
        "status": status.as_u16().to_string(),
        "code": code,
        "title": title,
        "detail": detail,
    }]});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut b);
    u64::from_be_bytes(b)
}

fn not_found(what: &str) -> Response {
    apple_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The specified resource does not exist",
        &format!("There is no resource of type '{what}' with this id."),
    )
}

fn conflict(code: &str, detail: &str) -> Response {
    apple_error(
        StatusCode::CONFLICT,
        code,
        "There is a problem with the request entity",
        detail,
    )
}

fn certificate_rec(id: &str, der: &[u8], ty: &str) -> Rec {
    let (name, serial, expires) = match signet_formats::Certificate::from_der(der) {
        Ok(c) => (
            c.info()
                .apple
                .as_ref()
                .map_or_else(|| c.info().subject.clone(), |a| a.name.clone()),
            c.info().serial.replace(':', "").to_uppercase(),
            rfc3339(c.info().not_after),
        ),
        Err(_) => (String::new(), String::new(), String::new()),
    };
    Rec {
        id: id.to_owned(),
        attrs: json!({
            "name": name,
            "certificateType": ty,
            "displayName": name,
            "serialNumber": serial,
            "platform": "IOS",
            "expirationDate": expires,
            "certificateContent": base64::engine::general_purpose::STANDARD.encode(der),
            "activated": true,
        }),
        bundle: String::new(),
        certs: Vec::new(),
        devices: Vec::new(),
    }
}

fn device_rec(id: &str, name: &str, udid: &str, platform: &str) -> Rec {
    Rec {
        id: id.to_owned(),
        attrs: json!({
            "name": name, "platform": platform, "udid": udid, "deviceClass": "IPHONE",
            "status": "ENABLED", "model": "iPhone", "addedDate": rfc3339(now()),
        }),
        bundle: String::new(),
        certs: Vec::new(),
        devices: Vec::new(),
    }
}

fn revoke(w: &mut World, id: &str) -> bool {
    let before = w.certificates.len();
    w.certificates.retain(|c| c.id != id);
    if w.certificates.len() == before {
        return false;
    }
    for p in &mut w.profiles {
        if p.certs.iter().any(|c| c == id) {
            p.attrs["profileState"] = json!("INVALID");
        }
    }
    true
}

const DISTRIBUTION_TYPES: [&str; 2] = ["IOS_DISTRIBUTION", "DISTRIBUTION"];
const DEVELOPMENT_TYPES: [&str; 2] = ["IOS_DEVELOPMENT", "DEVELOPMENT"];

fn type_name(collection: &str) -> &'static str {
    match collection {
        "bundleIds" => "BundleId",
        "bundleIdCapabilities" => "BundleIdCapability",
        "certificates" => "Certificate",
        "devices" => "Device",
        _ => "Profile",
    }
}

fn plural_response(collection: &str) -> &'static str {
    match collection {
        "bundleIds" => "BundleIdsResponse",
        "bundleIdCapabilities" => "BundleIdCapabilitiesResponse",
        "certificates" => "CertificatesResponse",
        "devices" => "DevicesResponse",
        _ => "ProfilesResponse",
    }
}

/// Looks for a private key in a request body: PEM markers, or a JSON string that is base64
/// of a PKCS#8 structure.
fn find_key(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    if text.contains("PRIVATE KEY-----") {
        return Some("a PEM private key".into());
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut found = None;
    walk_strings(&v, &mut |s| {
        let cleaned: String = s
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if cleaned.len() < 64 {
            return;
        }
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes())
            && looks_like_pkcs8(&der)
        {
            found = Some("base64 of a PKCS#8 private key".into());
        }
    });
    found
}

fn walk_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| walk_strings(x, f)),
        Value::Object(o) => o.values().for_each(|x| walk_strings(x, f)),
        _ => {}
    }
}

/// `PrivateKeyInfo ::= SEQUENCE { version INTEGER (0|1), algorithm SEQUENCE, … }`.
fn looks_like_pkcs8(der: &[u8]) -> bool {
    if der.first() != Some(&0x30) {
        return false;
    }
    let skip = match der.get(1) {
        Some(l) if *l < 0x80 => 2,
        Some(0x81) => 3,
        Some(0x82) => 4,
        Some(0x83) => 5,
        _ => return false,
    };
    matches!(
        der.get(skip..skip + 4),
        Some([0x02, 0x01, 0x00 | 0x01, 0x30])
    )
}

fn check_token(shared: &Shared, headers: &HeaderMap) -> Result<(), String> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("no Authorization header")?;
    let token = auth.strip_prefix("Bearer ").ok_or("not a bearer token")?;
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err("not a JWS compact serialization".into());
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = b64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("header is not base64url JSON")?;
    let claims: Value = b64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("claims are not base64url JSON")?;
    let sig = b64.decode(s).map_err(|_| "signature is not base64url")?;
    if header["alg"] != "ES256" {
        return Err(format!("alg {} is not ES256", header["alg"]));
    }
    if header["kid"] != shared.config.key_id.as_str() {
        return Err("kid is not the key's id".into());
    }
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        &shared.public_key,
    );
    key.verify(format!("{h}.{c}").as_bytes(), &sig)
        .map_err(|_| "signature does not verify with the key")?;
    if claims["iss"] != shared.config.issuer_id.as_str() {
        return Err("iss is not the issuer id".into());
    }
    if claims["aud"] != "appstoreconnect-v1" {
        return Err(format!("aud {} is not appstoreconnect-v1", claims["aud"]));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err("iat or exp missing".into());
    };
    let now = now().unix_timestamp();
    if exp <= now {
        return Err("expired".into());
    }
    if exp - iat > 20 * 60 {
        return Err(format!("lifetime {} s is over 20 minutes", exp - iat));
    }
    if iat > now + 60 {
        return Err("iat in the future".into());
    }
    Ok(())
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), ToString::to_string);
    let resp = answer(&shared, &method, &uri, &headers, &body);
    let mut w = shared.world();
    if method == Method::POST {
        w.posts += 1;
    }
    w.log.push(Logged {
        method: method.to_string(),
        path: path_and_query,
        status: resp.status().as_u16(),
    });
    resp
}

fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if let Some(leak) = find_key(body) {
        shared
            .world()
            .key_leaks
            .push(format!("{method} {}: {leak}", uri.path()));
    }
    let injected = shared.world().inject.pop_front();
    if let Some(status) = injected {
        return match status {
            429 => {
                let mut r = apple_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMIT_EXCEEDED",
                    "The request rate limit has been reached.",
                    "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                r
            }
            s => apple_error(
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "UNEXPECTED_ERROR",
                "An unexpected error occurred.",
                "An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.",
            ),
        };
    }
    let refused = {
        let mut w = shared.world();
        if w.fail_auth_once {
            w.fail_auth_once = false;
            Some("refused once by the test".to_owned())
        } else {
            None
        }
    }
    .or_else(|| check_token(shared, headers).err());
    if let Some(reason) = refused {
        shared.world().auth_refusals.push(reason);
        return apple_error(
            StatusCode::UNAUTHORIZED,
            "NOT_AUTHORIZED",
            "Authentication credentials are missing or invalid.",
            "Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens",
        );
    }
    let segments = split(uri.path());
    let matches = |e: &&Endpoint| {
        e.segments.len() == segments.len()
            && e.segments
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
    };
    let Some(endpoint) = shared
        .endpoints
        .iter()
        .filter(matches)
        .find(|e| e.method == method.as_str())
    else {
        if shared.endpoints.iter().any(|e| matches(&e)) {
            return apple_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "The request method is not valid for the resource path.",
                &format!("The request method is not valid for the resource path. Method: {method}"),
            );
        }
        return apple_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The specified resource does not exist",
            &format!(
                "The path provided does not match a defined resource type. Path: {}",
                uri.path()
            ),
        );
    };
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for (k, _) in &query {
        if !endpoint.query.contains(k) && k != "cursor" && k != "limit" {
            return apple_error(
                StatusCode::BAD_REQUEST,
                "PARAMETER_ERROR.INVALID",
                "A parameter has an invalid value",
                &format!("'{k}' is not a valid filter type"),
            );
        }
    }
    let id = segments.get(2).cloned().unwrap_or_default();
    let mut request = Value::Null;
    if *method == Method::POST || *method == Method::PATCH {
        let schema = match endpoint.operation.as_str() {
            "bundleIdCapabilitiesCreateInstance" => "BundleIdCapabilityCreateRequest",
            "bundleIdCapabilitiesUpdateInstance" => "BundleIdCapabilityUpdateRequest",
            "bundleIdsCreateInstance" => "BundleIdCreateRequest",
            "bundleIdsUpdateInstance" => "BundleIdUpdateRequest",
            "certificatesCreateInstance" => "CertificateCreateRequest",
            "certificatesUpdateInstance" => "CertificateUpdateRequest",
            "devicesCreateInstance" => "DeviceCreateRequest",
            "devicesUpdateInstance" => "DeviceUpdateRequest",
            _ => "ProfileCreateRequest",
        };
        request = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                shared.world().schema_failures.push(format!(
                    "{} {}: not JSON: {e}",
                    method,
                    uri.path()
                ));
                return apple_error(
                    StatusCode::BAD_REQUEST,
                    "PARAMETER_ERROR.INVALID",
                    "The provided entity includes an invalid JSON document",
                    "The request body is not a JSON document.",
                );
            }
        };
        let errors = shared.schemas.validate(schema, &request);
        if !errors.is_empty() {
            let detail = errors.join("; ");
            shared
                .world()
                .schema_failures
                .push(format!("{method} {} ({schema}): {detail}", uri.path()));
            return apple_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ENTITY_UNPROCESSABLE",
                "The request entity is not valid",
                &detail,
            );
        }
        if *method == Method::PATCH && request["data"]["id"] != id.as_str() {
            return conflict(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                "The id in the request body does not match the id in the path.",
            );
        }
    }
    let (status, value, schema) = match dispatch(shared, &endpoint.operation, &id, &query, &request)
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(schema) = schema {
        let errors = shared.schemas.validate(schema, &value);
        if !errors.is_empty() {
            shared.world().schema_failures.push(format!(
                "answer to {method} {} ({schema}): {}",
                uri.path(),
                errors.join("; ")
            ));
        }
    }
    if status == StatusCode::NO_CONTENT {
        return status.into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

type Answer = Result<(StatusCode, Value, Option<&'static str>), Response>;

fn resource(base: &str, collection: &str, r: &Rec) -> Value {
    json!({
        "type": collection,
        "id": r.id,
        "attributes": r.attrs,
        "links": { "self": format!("{base}/v1/{collection}/{}", r.id) },
    })
}

fn one(base: &str, collection: &str, r: &Rec) -> Value {
    json!({
        "data": resource(base, collection, r),
        "links": { "self": format!("{base}/v1/{collection}/{}", r.id) },
    })
}

/// One page of `items` (already filtered), with `links.next` when more follow.
fn page(shared: &Shared, path: &str, query: &[(String, String)], items: Vec<Value>) -> Value {
    let size = shared.config.page_size.max(1);
    let start: usize = query
        .iter()
        .find(|(k, _)| k == "cursor")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let mut links = json!({ "self": format!("{}{path}", shared.base) });
    if start + size < total {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in query.iter().filter(|(k, _)| k != "cursor") {
            q.append_pair(k, v);
        }
        q.append_pair("cursor", &(start + size).to_string());
        let host = if shared.world().foreign_next {
            "http://elsewhere.invalid".to_owned()
        } else {
            shared.base.clone()
        };
        links["next"] = json!(format!("{host}{path}?{}", q.finish()));
    }
    json!({ "data": data, "links": links, "meta": { "paging": { "total": total, "limit": size } } })
}

fn filtered<'a>(items: &'a [Rec], query: &[(String, String)]) -> Vec<&'a Rec> {
    items
        .iter()
        .filter(|r| {
            query.iter().all(|(k, v)| {
                let Some(field) = k.strip_prefix("filter[").and_then(|k| k.strip_suffix(']'))
                else {
                    return true;
                };
                let wanted: Vec<&str> = v.split(',').collect();
                if field == "id" {
                    return wanted.contains(&r.id.as_str());
                }
                let have = r.attrs[field].as_str().unwrap_or_default();
                if field == "identifier" {
                    // Apple's identifier filter matches by prefix.
                    wanted.iter().any(|w| have.starts_with(w))
                } else {
                    wanted.contains(&have)
                }
            })
        })
        .collect()
}

fn linkage(
    shared: &Shared,
    path: &str,
    query: &[(String, String)],
    ty: &str,
    ids: &[String],
) -> Value {
    page(
        shared,
        path,
        query,
        ids.iter()
            .map(|id| json!({ "type": ty, "id": id }))
            .collect(),
    )
}

fn dispatch(
    shared: &Shared,
    operation: &str,
    id: &str,
    query: &[(String, String)],
    req: &Value,
) -> Answer {
    let base = shared.base.as_str();
    let attrs = &req["data"]["attributes"];
    let rels = &req["data"]["relationships"];
    match operation {
        // bundle ids -------------------------------------------------------------------
        "bundleIdsGetCollection" => {
            let w = shared.world();
            let items = filtered(&w.bundle_ids, query)
                .into_iter()
                .map(|r| resource(base, "bundleIds", r))
                .collect();
            drop(w);
            Ok((
                StatusCode::OK,
                page(shared, "/v1/bundleIds", query, items),
                Some("BundleIdsResponse"),
            ))
        }
        "bundleIdsCreateInstance" => {
            let mut w = shared.world();
            let identifier = str_of(attrs, "identifier");
            if w.bundle_ids
                .iter()
                .any(|b| str_of(&b.attrs, "identifier") == identifier)
            {
                return Err(conflict(
                    "ENTITY_ERROR.ATTRIBUTE.INVALID",
                    &format!(
                        "An App ID with Identifier '{identifier}' is not available. Please enter a different string."
                    ),
                ));
            }
            let id = w.id('B');
            let rec = Rec {
                id,
                attrs: json!({
                    "name": str_of(attrs, "name"),
                    "platform": str_of(attrs, "platform"),
                    "identifier": identifier,
                    "seedId": shared.config.team_id,
                }),
                bundle: String::new(),
                certs: Vec::new(),
                devices: Vec::new(),
            };
            w.bundle_ids.push(rec.clone());
            Ok((
                StatusCode::CREATED,
                one(base, "bundleIds", &rec),
                Some("BundleIdResponse"),
            ))
        }
        "bundleIdsGetInstance" => {
            let w = shared.world();
            let r = w
                .bundle_ids
                .iter()
                .find(|b| b.id == id)
                .ok_or_else(|| not_found("bundleIds"))?;
            Ok((
                StatusCode::OK,
                one(base, "bundleIds", r),
                Some("BundleIdResponse"),
            ))
        }
        "bundleIdsUpdateInstance" => {
            let mut w = shared.world();
            let r = w
                .bundle_ids
                .iter_mut()
                .find(|b| b.id == id)
                .ok_or_else(|| not_found("bundleIds"))?;
            if let Some(n) = attrs.get("name").and_then(Value::as_str) {
                r.attrs["name"] = json!(n);
            }
            let r = r.clone();
            Ok((
                StatusCode::OK,
                one(base, "bundleIds", &r),
                Some("BundleIdResponse"),
            ))
        }
        "bundleIdsDeleteInstance" => {
            let mut w = shared.world();
            let before = w.bundle_ids.len();
            w.bundle_ids.retain(|b| b.id != id);
            if w.bundle_ids.len() == before {
                return Err(not_found("bundleIds"));
            }
            w.capabilities.retain(|c| c.bundle != id);
            Ok((StatusCode::NO_CONTENT, Value::Null, None))
        }
        "bundleIdsBundleIdCapabilitiesGetToManyRelated"
        | "bundleIdsBundleIdCapabilitiesGetToManyRelationship" => {
            let w = shared.world();
            if !w.bundle_ids.iter().any(|b| b.id == id) {
                return Err(not_found("bundleIds"));
            }
            let caps: Vec<&Rec> = w.capabilities.iter().filter(|c| c.bundle == id).collect();
            let related = operation.ends_with("Related");
            let path = if related {
                format!("/v1/bundleIds/{id}/bundleIdCapabilities")
            } else {
                format!("/v1/bundleIds/{id}/relationships/bundleIdCapabilities")
            };
            let items: Vec<Value> = caps
                .iter()
                .map(|c| resource(base, "bundleIdCapabilities", c))
                .collect();
            let ids: Vec<String> = caps.iter().map(|c| c.id.clone()).collect();
            drop(w);
            if related {
                Ok((
                    StatusCode::OK,
                    page(shared, &path, query, items),
                    Some("BundleIdCapabilitiesResponse"),
                ))
            } else {
                Ok((
                    StatusCode::OK,
                    linkage(shared, &path, query, "bundleIdCapabilities", &ids),
                    None,
                ))
            }
        }
        "bundleIdsProfilesGetToManyRelated" | "bundleIdsProfilesGetToManyRelationship" => {
            let w = shared.world();
            if !w.bundle_ids.iter().any(|b| b.id == id) {
                return Err(not_found("bundleIds"));
            }
            let ps: Vec<&Rec> = w.profiles.iter().filter(|p| p.bundle == id).collect();
            let related = operation.ends_with("Related");
            let items: Vec<Value> = ps.iter().map(|p| resource(base, "profiles", p)).collect();
            let ids: Vec<String> = ps.iter().map(|p| p.id.clone()).collect();
            drop(w);
            if related {
                let path = format!("/v1/bundleIds/{id}/profiles");
                Ok((
                    StatusCode::OK,
                    page(shared, &path, query, items),
                    Some("ProfilesResponse"),
                ))
            } else {
                let path = format!("/v1/bundleIds/{id}/relationships/profiles");
                Ok((
                    StatusCode::OK,
                    linkage(shared, &path, query, "profiles", &ids),
                    None,
                ))
            }
        }
        "bundleIdsAppGetToOneRelationship" | "bundleIdsAppGetToOneRelated" => {
            Err(not_found("apps"))
        }
        // capabilities -----------------------------------------------------------------
        "bundleIdCapabilitiesCreateInstance" => {
            let mut w = shared.world();
            let bundle = rels["bundleId"]["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !w.bundle_ids.iter().any(|b| b.id == bundle) {
                return Err(not_found("bundleIds"));
            }
            let ty = str_of(attrs, "capabilityType");
            if w.capabilities
                .iter()
                .any(|c| c.bundle == bundle && str_of(&c.attrs, "capabilityType") == ty)
            {
                return Err(conflict(
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    &format!("The capability {ty} is already enabled on this bundle id."),
                ));
            }
            let rec = Rec {
                id: format!("{bundle}_{ty}"),
                attrs: json!({ "capabilityType": ty }),
                bundle,
                certs: Vec::new(),
                devices: Vec::new(),
            };
            w.capabilities.push(rec.clone());
            Ok((
                StatusCode::CREATED,
                one(base, "bundleIdCapabilities", &rec),
                Some("BundleIdCapabilityResponse"),
            ))
        }
        "bundleIdCapabilitiesUpdateInstance" => {
            let w = shared.world();
            let r = w
                .capabilities
                .iter()
                .find(|c| c.id == id)
                .ok_or_else(|| not_found("bundleIdCapabilities"))?;
            Ok((
                StatusCode::OK,
                one(base, "bundleIdCapabilities", r),
                Some("BundleIdCapabilityResponse"),
            ))
        }
        "bundleIdCapabilitiesDeleteInstance" => {
            let mut w = shared.world();
            let before = w.capabilities.len();
            w.capabilities.retain(|c| c.id != id);
            if before == w.capabilities.len() {
                return Err(not_found("bundleIdCapabilities"));
            }
            Ok((StatusCode::NO_CONTENT, Value::Null, None))
        }
        // certificates -----------------------------------------------------------------
        "certificatesGetCollection" => {
            let w = shared.world();
            let items = filtered(&w.certificates, query)
                .into_iter()
                .map(|r| resource(base, "certificates", r))
                .collect();
            drop(w);
            Ok((
                StatusCode::OK,
                page(shared, "/v1/certificates", query, items),
                Some("CertificatesResponse"),
            ))
        }
        "certificatesCreateInstance" => {
            let ty = str_of(attrs, "certificateType");
            let distribution = DISTRIBUTION_TYPES.contains(&ty.as_str());
            if !distribution && !DEVELOPMENT_TYPES.contains(&ty.as_str()) {
                return Err(conflict(
                    "ENTITY_ERROR.ATTRIBUTE.INVALID",
                    &format!("The certificate type {ty} is not supported by this simulator."),
                ));
            }
            {
                let w = shared.world();
                let held = w
                    .certificates
                    .iter()
                    .filter(|c| {
                        DISTRIBUTION_TYPES.contains(&str_of(&c.attrs, "certificateType").as_str())
                    })
                    .count();
                if distribution && held >= shared.config.distribution_limit {
                    return Err(conflict("ENTITY_ERROR.ATTRIBUTE.INVALID", LIMIT_DETAIL));
                }
            }
            let csr = str_of(attrs, "csrContent");
            let pem = if csr.contains("-----BEGIN") {
                csr
            } else {
                format!(
                    "-----BEGIN CERTIFICATE REQUEST-----\n{csr}\n-----END CERTIFICATE REQUEST-----\n"
                )
            };
            if shared.ca.check_csr(&pem).is_err() {
                return Err(conflict(
                    "ENTITY_ERROR.ATTRIBUTE.INVALID",
                    "The CSR content is not a valid certificate signing request.",
                ));
            }
            let der = shared
                .ca
                .issue(
                    &pem,
                    &shared.config.team_id,
                    &shared.config.team_name,
                    distribution,
                )
                .map_err(|e| {
                    apple_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "UNEXPECTED_ERROR",
                        "An unexpected error occurred.",
                        &e,
                    )
                })?;
            let mut w = shared.world();
            let id = w.id('C');
            let rec = certificate_rec(&id, &der, &ty);
            w.certificates.push(rec.clone());
            Ok((
                StatusCode::CREATED,
                one(base, "certificates", &rec),
                Some("CertificateResponse"),
            ))
        }
        "certificatesGetInstance" => {
            let w = shared.world();
            let r = w
                .certificates
                .iter()
                .find(|c| c.id == id)
                .ok_or_else(|| not_found("certificates"))?;
            Ok((
                StatusCode::OK,
                one(base, "certificates", r),
                Some("CertificateResponse"),
            ))
        }
        "certificatesUpdateInstance" => {
            let mut w = shared.world();
            let r = w
                .certificates
                .iter_mut()
                .find(|c| c.id == id)
                .ok_or_else(|| not_found("certificates"))?;
            if let Some(a) = attrs.get("activated").and_then(Value::as_bool) {
                r.attrs["activated"] = json!(a);
            }
            let r = r.clone();
            Ok((
                StatusCode::OK,
                one(base, "certificates", &r),
                Some("CertificateResponse"),
            ))
        }
        "certificatesDeleteInstance" => {
            if revoke(&mut shared.world(), id) {
                Ok((StatusCode::NO_CONTENT, Value::Null, None))
            } else {
                Err(not_found("certificates"))
            }
        }
        "certificatesPassTypeIdGetToOneRelationship" | "certificatesPassTypeIdGetToOneRelated" => {
            Err(not_found("passTypeIds"))
        }
        // devices ----------------------------------------------------------------------
        "devicesGetCollection" => {
            let w = shared.world();
            let items = filtered(&w.devices, query)
                .into_iter()
                .map(|r| resource(base, "devices", r))
                .collect();
            drop(w);
            Ok((
                StatusCode::OK,
                page(shared, "/v1/devices", query, items),
                Some("DevicesResponse"),
            ))
        }
        "devicesCreateInstance" => {
            let udid = str_of(attrs, "udid");
            let valid = (udid.len() == 40 && udid.chars().all(|c| c.is_ascii_hexdigit()))
                || (udid.len() == 25
                    && udid.char_indices().all(|(i, c)| {
                        if i == 8 {
                            c == '-'
                        } else {
                            c.is_ascii_hexdigit()
                        }
                    }));
            if !valid {
                return Err(conflict(
                    "ENTITY_ERROR.ATTRIBUTE.INVALID",
                    "An attribute value is not acceptable for the current resource. Invalid UDID.",
                ));
            }
            let mut w = shared.world();
            if w.devices
                .iter()
                .any(|d| str_of(&d.attrs, "udid").eq_ignore_ascii_case(&udid))
            {
                return Err(conflict(
                    "ENTITY_ERROR.ATTRIBUTE.INVALID",
                    &format!("A device with number '{udid}' already exists on this team."),
                ));
            }
            let id = w.id('D');
            let rec = device_rec(
                &id,
                &str_of(attrs, "name"),
                &udid,
                &str_of(attrs, "platform"),
            );
            w.devices.push(rec.clone());
            Ok((
                StatusCode::CREATED,
                one(base, "devices", &rec),
                Some("DeviceResponse"),
            ))
        }
        "devicesGetInstance" => {
            let w = shared.world();
            let r = w
                .devices
                .iter()
                .find(|d| d.id == id)
                .ok_or_else(|| not_found("devices"))?;
            Ok((
                StatusCode::OK,
                one(base, "devices", r),
                Some("DeviceResponse"),
            ))
        }
        "devicesUpdateInstance" => {
            let mut w = shared.world();
            let r = w
                .devices
                .iter_mut()
                .find(|d| d.id == id)
                .ok_or_else(|| not_found("devices"))?;
            for k in ["name", "status"] {
                if let Some(v) = attrs.get(k).and_then(Value::as_str) {
                    r.attrs[k] = json!(v);
                }
            }
            let r = r.clone();
            Ok((
                StatusCode::OK,
                one(base, "devices", &r),
                Some("DeviceResponse"),
            ))
        }
        // profiles ---------------------------------------------------------------------
        "profilesGetCollection" => {
            let w = shared.world();
            let items = filtered(&w.profiles, query)
                .into_iter()
                .map(|r| resource(base, "profiles", r))
                .collect();
            drop(w);
            Ok((
                StatusCode::OK,
                page(shared, "/v1/profiles", query, items),
                Some("ProfilesResponse"),
            ))
        }
        "profilesCreateInstance" => create_profile(shared, attrs, rels),
        "profilesGetInstance" => {
            let w = shared.world();
            let r = w
                .profiles
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| not_found("profiles"))?;
            Ok((
                StatusCode::OK,
                one(base, "profiles", r),
                Some("ProfileResponse"),
            ))
        }
        "profilesDeleteInstance" => {
            let mut w = shared.world();
            let before = w.profiles.len();
            w.profiles.retain(|p| p.id != id);
            if before == w.profiles.len() {
                return Err(not_found("profiles"));
            }
            Ok((StatusCode::NO_CONTENT, Value::Null, None))
        }
        "profilesBundleIdGetToOneRelated" | "profilesBundleIdGetToOneRelationship" => {
            let w = shared.world();
            let p = w
                .profiles
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| not_found("profiles"))?;
            if operation.ends_with("Relationship") {
                return Ok((
                    StatusCode::OK,
                    json!({ "data": { "type": "bundleIds", "id": p.bundle },
                    "links": { "self": format!("{base}/v1/profiles/{id}/relationships/bundleId") } }),
                    None,
                ));
            }
            let b = w
                .bundle_ids
                .iter()
                .find(|b| b.id == p.bundle)
                .ok_or_else(|| not_found("bundleIds"))?;
            Ok((
                StatusCode::OK,
                one(base, "bundleIds", b),
                Some("BundleIdResponse"),
            ))
        }
        "profilesCertificatesGetToManyRelated"
        | "profilesCertificatesGetToManyRelationship"
        | "profilesDevicesGetToManyRelated"
        | "profilesDevicesGetToManyRelationship" => {
            let w = shared.world();
            let p = w
                .profiles
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| not_found("profiles"))?
                .clone();
            let (collection, ids, all) = if operation.contains("Certificates") {
                ("certificates", p.certs.clone(), &w.certificates)
            } else {
                ("devices", p.devices.clone(), &w.devices)
            };
            let items: Vec<Value> = all
                .iter()
                .filter(|r| ids.contains(&r.id))
                .map(|r| resource(base, collection, r))
                .collect();
            drop(w);
            if operation.ends_with("Related") {
                let path = format!("/v1/profiles/{id}/{collection}");
                Ok((
                    StatusCode::OK,
                    page(shared, &path, query, items),
                    Some(plural_response(collection)),
                ))
            } else {
                let path = format!("/v1/profiles/{id}/relationships/{collection}");
                Ok((
                    StatusCode::OK,
                    linkage(shared, &path, query, collection, &ids),
                    None,
                ))
            }
        }
        other => Err(apple_error(
            StatusCode::NOT_IMPLEMENTED,
            "NOT_IMPLEMENTED",
            "Not implemented by the simulator",
            &format!("{other} ({} is not simulated)", type_name(other)),
        )),
    }
}

fn create_profile(shared: &Shared, attrs: &Value, rels: &Value) -> Answer {
    let base = shared.base.as_str();
    let name = str_of(attrs, "name");
    let ty = str_of(attrs, "profileType");
    let bundle = rels["bundleId"]["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ids = |k: &str| -> Vec<String> {
        rels[k]["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["id"].as_str().map(str::to_owned))
            .collect()
    };
    let (cert_ids, device_ids) = (ids("certificates"), ids("devices"));
    let (identifier, capabilities, certs, udids) = {
        let w = shared.world();
        if w.profiles.iter().any(|p| str_of(&p.attrs, "name") == name) {
            return Err(conflict(
                "ENTITY_ERROR.ATTRIBUTE.INVALID",
                &format!(
                    "Multiple profiles found with the name '{name}'.  Please remove the duplicate profiles and try again."
                ),
            ));
        }
        let b = w
            .bundle_ids
            .iter()
            .find(|b| b.id == bundle)
            .ok_or_else(|| not_found("bundleIds"))?;
        let development = ty.ends_with("_DEVELOPMENT");
        let mut certs = Vec::new();
        for id in &cert_ids {
            let c = w.certificates.iter().find(|c| &c.id == id).ok_or_else(|| {
                conflict(
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    &format!("There is no certificate with id '{id}'."),
                )
            })?;
            let ct = str_of(&c.attrs, "certificateType");
            let ok = if development {
                DEVELOPMENT_TYPES.contains(&ct.as_str())
            } else {
                DISTRIBUTION_TYPES.contains(&ct.as_str())
            };
            if !ok {
                return Err(conflict(
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    &format!("The certificate '{id}' ({ct}) cannot be used for a {ty} profile."),
                ));
            }
            certs.push(str_of(&c.attrs, "certificateContent"));
        }
        if certs.is_empty() {
            return Err(conflict(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "A profile needs at least one certificate.",
            ));
        }
        let mut udids = Vec::new();
        for id in &device_ids {
            let d = w.devices.iter().find(|d| &d.id == id).ok_or_else(|| {
                conflict(
                    "ENTITY_ERROR.RELATIONSHIP.INVALID",
                    &format!("There is no device with id '{id}'."),
                )
            })?;
            udids.push(str_of(&d.attrs, "udid"));
        }
        let needs_devices = ty.ends_with("_ADHOC") || development;
        if needs_devices && udids.is_empty() {
            return Err(conflict(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                "There are no current ios devices on this team matching the provided device IDs.",
            ));
        }
        if !needs_devices && !udids.is_empty() {
            return Err(conflict(
                "ENTITY_ERROR.RELATIONSHIP.INVALID",
                &format!("Devices cannot be included in a {ty} profile."),
            ));
        }
        let capabilities: Vec<String> = w
            .capabilities
            .iter()
            .filter(|c| c.bundle == bundle)
            .map(|c| str_of(&c.attrs, "capabilityType"))
            .collect();
        (str_of(&b.attrs, "identifier"), capabilities, certs, udids)
    };
    let created = now();
    let expires = created + time::Duration::days(365);
    let uuid = {
        let mut b = [0u8; 16];
        let _ = aws_lc_rs::rand::fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
        .to_uppercase()
    };
    let plist = profile_plist(&ProfilePlist {
        name: &name,
        team_id: &shared.config.team_id,
        team_name: &shared.config.team_name,
        identifier: &identifier,
        profile_type: &ty,
        capabilities: &capabilities,
        certs: &certs,
        udids: &udids,
        uuid: &uuid,
        created: &rfc3339(created),
        expires: &rfc3339(expires),
    });
    let content = shared.ca.sign_profile(&plist).map_err(|e| {
        apple_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred.",
            &e,
        )
    })?;
    let mut w = shared.world();
    let id = w.id('P');
    let rec = Rec {
        id,
        attrs: json!({
            "name": name,
            "platform": "IOS",
            "profileType": ty,
            "profileState": "ACTIVE",
            "profileContent": base64::engine::general_purpose::STANDARD.encode(content),
            "uuid": uuid,
            "createdDate": rfc3339(created),
            "expirationDate": rfc3339(expires),
        }),
        bundle,
        certs: cert_ids,
        devices: device_ids,
    };
    w.profiles.push(rec.clone());
    Ok((
        StatusCode::CREATED,
        one(base, "profiles", &rec),
        Some("ProfileResponse"),
    ))
}

struct ProfilePlist<'a> {
    name: &'a str,
    team_id: &'a str,
    team_name: &'a str,
    identifier: &'a str,
    profile_type: &'a str,
    capabilities: &'a [String],
    certs: &'a [String],
    udids: &'a [String],
    uuid: &'a str,
    created: &'a str,
    expires: &'a str,
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A profile's property list as Apple writes it (the keys signet and Xcode read).
fn profile_plist(p: &ProfilePlist<'_>) -> String {
    let development = p.profile_type.ends_with("_DEVELOPMENT");
    let mut ent = format!(
        "<key>application-identifier</key><string>{team}.{id}</string>\n\
         <key>com.apple.developer.team-identifier</key><string>{team}</string>\n\
         <key>get-task-allow</key>{gta}\n\
         <key>keychain-access-groups</key><array><string>{team}.*</string></array>\n",
        team = xml(p.team_id),
        id = xml(p.identifier),
        gta = if development { "<true/>" } else { "<false/>" },
    );
    for c in p.capabilities {
        match c.as_str() {
            "PUSH_NOTIFICATIONS" => ent.push_str(&format!(
                "<key>aps-environment</key><string>{}</string>\n",
                if development { "development" } else { "production" }
            )),
            "ASSOCIATED_DOMAINS" => ent.push_str("<key>com.apple.developer.associated-domains</key><string>*</string>\n"),
            "APP_GROUPS" => ent.push_str("<key>com.apple.security.application-groups</key><array/>\n"),
            "APPLE_ID_AUTH" => ent.push_str("<key>com.apple.developer.applesignin</key><array><string>Default</string></array>\n"),
            _ => {}
        }
    }
    let devices = if p.udids.is_empty() {
        String::new()
    } else {
        format!(
            "<key>ProvisionedDevices</key><array>{}</array>\n",
            p.udids
                .iter()
                .map(|u| format!("<string>{}</string>", xml(u)))
                .collect::<String>()
        )
    };
    let all = if p.profile_type.ends_with("_INHOUSE") {
        "<key>ProvisionsAllDevices</key><true/>\n"
    } else {
        ""
    };
    let certs: String = p
        .certs
        .iter()
        .map(|c| format!("<data>{c}</data>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>AppIDName</key><string>{identifier}</string>
<key>ApplicationIdentifierPrefix</key><array><string>{team}</string></array>
<key>CreationDate</key><date>{created}</date>
<key>Platform</key><array><string>iOS</string></array>
<key>DeveloperCertificates</key><array>{certs}</array>
<key>Entitlements</key><dict>
{ent}</dict>
<key>ExpirationDate</key><date>{expires}</date>
<key>Name</key><string>{name}</string>
{devices}{all}<key>TeamIdentifier</key><array><string>{team}</string></array>
<key>TeamName</key><string>{team_name}</string>
<key>TimeToLive</key><integer>365</integer>
<key>UUID</key><string>{uuid}</string>
<key>Version</key><integer>1</integer>
</dict></plist>"#,
        identifier = xml(p.identifier),
        team = xml(p.team_id),
        team_name = xml(p.team_name),
        created = p.created,
        expires = p.expires,
        name = xml(p.name),
        uuid = p.uuid,
    )
}
