//! The web page of `signet serve`: server-rendered HTML (maud, checked at compile time) on
//! the API's router, with the API's roles and store calls: a page handler is an API
//! handler that renders HTML. Each page's least role is the role of the API route it
//! mirrors ([`PAGES`], looked up in [`crate::routes::ROUTES`] when the router is built).
//!
//! # Sessions, CSRF, headers
//!
//! Signing in sets the cookie `signet_session` to a session token of `POST /v1/auth/login`
//! (same throttling): `HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000`, plus `Secure`
//! when a trusted proxy says `X-Forwarded-Proto: https`. Every form of a signed-in page
//! carries a hidden `csrf` field: the first 32 hex digits of SHA-256 of
//! `"signet csrf\0" + session token` (one-way, so the page never holds the token; no state,
//! so every replica agrees). A POST without it, with another one, with an `Origin` that is
//! not this host, or with a `Sec-Fetch-Site` other than `same-origin`/`none`, is refused
//! with 403 before its handler runs, and changes nothing. Every answer of the pages (and of
//! `/static/…`) carries [`CSP`], `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//! same-origin`, `X-Frame-Options: DENY` and `Cache-Control: no-store`.
//!
//! A page whose role the user lacks answers 403 (GET or POST), and its controls are not
//! rendered. Not signed in: a GET is redirected (303) to `/login`, a POST is 403.
//!
//! # The contract the browser tests rely on (keep stable)
//!
//! Pages (`{org}` is an organization id, `{app}` an app's slug or id, `{id}` a
//! credential id):
//!
//! | URL | least role | what |
//! |---|---|---|
//! | `GET /` | signed in | redirect to `/orgs/{org}` (one organization) or a list of them (`ul#orgs`, links `a.org-link`) |
//! | `GET /login`, `POST /login` | anyone | form `#login-form`: `email`, `password`, button `#login-submit`; wrong password: 401 with `WRONG_LOGIN` ("wrong e-mail or password") in `p#login-error.form-error` |
//! | `POST /logout` | signed in | form `#logout-form` (in the header of every page), button `#logout-submit`; clears the cookie, redirects to `/login` |
//! | `GET /orgs/{org}` | viewer | overview: `table#apps` (rows `tr.app[data-slug]`, links `a.app-link`), `table#expiring` (rows `tr.expiring[data-id]`, badge `span.badge-expiring` or `span.badge-expired`) |
//! | `GET /orgs/{org}/apps/{app}` | viewer | `section#android`, one `section.application-id[data-application-id]` each: `table.build-sets`, rows `tr.build-set[data-name]`, default marked `span.badge-default`; forms `form.set-default` (`id="set-default-{build set id}"`, button `.set-default-submit`) and `form.rename` (`id="rename-{build set id}"`, field `new_name`, button `.rename-submit`) for developers; keystores `div.keystore[data-id]` with `dd.keystore-type`, `dd.alias`, `dd.subject`, `code.md5`, `code.sha1`, `code.sha256`, `code.key-hash`, buttons `button.copy[data-copy]`, `span.badge-expiring`, `p.warn-play-deadline`, `p.warn-debug-key`, link `a.download-certificate` (developer); slots `tr.slot[data-slot]`. `section#ios`, one `section.bundle-id[data-bundle-id]` each: rows `tr.build-pair[data-distribution]`, slots `tr.slot[data-slot]` (push-key, asc-api-key, apple-team) |
//! | `GET /orgs/{org}/credentials` | viewer | `table#credentials`, rows `tr.credential[data-id]` (type, used by, expiry); `?type=` filters; `a#next-page`; link `a#upload-link` (developer) |
//! | `GET /orgs/{org}/credentials/{id}` | viewer | one credential: `dl#metadata`, `ul#used-by`; `a#delete-link` (admin), `a.download-certificate` (keystores, developer) |
//! | `GET /orgs/{org}/credentials/{id}/certificate.pem` | developer | the keystore's certificate as `keytool -exportcert -rfc` writes it (audited as `credential.certificate`) |
//! | `GET /orgs/{org}/upload?type={type}`, `POST /orgs/{org}/upload` | developer | links `a.upload-type[data-type]`; form `#upload-form` (multipart), hidden `type` and `csrf`, button `#upload-submit`; fields below |
//! | `GET /orgs/{org}/credentials/{id}/delete`, `POST` same | admin | `div#impact` (`p#impact-summary`, `ul#impact-used-by`, "Nothing is revoked at Apple or Google."), form `#delete-form`: `confirm_name`, button `#delete-submit`; a wrong name: 422, `CONFIRM_MISMATCH` at `confirm_name`; the right one deletes and redirects to `/orgs/{org}/deleted` |
//! | `GET /orgs/{org}/deleted` | admin | `table#deleted`, rows `tr.deleted[data-id]`, forms `id="restore-{id}"` (button `.restore-submit`) |
//! | `POST /orgs/{org}/credentials/{id}/restore` | admin | restores, redirects to the credential's page |
//! | `GET /orgs/{org}/audit?action=&actor=&credential=` | admin | form `#audit-filter` (GET: `action`, `actor`, `credential`, button `#audit-filter-submit`), `table#audit`, rows `tr.audit-record` |
//! | `GET /orgs/{org}/members` | viewer | `table#members`, rows `tr.member[data-email]`; admin: form `#member-add-form` (`email`, `role`, button `#member-add-submit`), per row `id="member-role-{user id}"` (`role`, button `.member-role-submit`) and `id="member-remove-{user id}"` (button `.member-remove-submit`) |
//! | `POST /orgs/{org}/members`, `…/members/{user}/role`, `…/members/{user}/remove` | admin | as `PUT`/`DELETE /v1/orgs/{org}/members…` |
//! | `GET /orgs/{org}/robots` | admin | `table#robots`, rows `tr.robot[data-id]`, form `#robot-create-form` (`name`, `role`, `expires_in_days`, checkboxes `app_ids`, button `#robot-create-submit`), per row `id="robot-revoke-{id}"` (button `.robot-revoke-submit`) |
//! | `POST /orgs/{org}/robots` | admin | creates; the answer shows the token once in `code#robot-token` |
//! | `POST /orgs/{org}/robots/{id}/revoke` | admin | revokes, redirects to the robots page |
//! | `POST /orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default` | developer | makes the set the default |
//! | `POST /orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/rename` | developer | field `new_name` |
//! | `GET /static/signet.css`, `GET /static/signet.js` | anyone | the vendored style and the copy buttons' script |
//!
//! Upload fields (`name` attributes) by `type`: every type takes `name`;
//! `android-keystore`: `keystore` (file), `store_password`, `key_alias`, `key_password`;
//! `google-service-account-key`: `json` (file); `fcm-legacy-key`: `server_key`;
//! `apple-team`: `team_id`, `team_name`, `team_type`; `apple-distribution-certificate`:
//! `p12` (file), `password`, or `private_key` (file) and `certificate` (file), `team_id`;
//! `apple-provisioning-profile`: `profile` (file), `bundle_id`, `team_id`;
//! `apple-push-key`: `p8` (file), `key_id`, `team_id`; `asc-api-key`: `p8` (file),
//! `key_id`, `issuer_id`, `team_id`, `roles` (comma-separated).
//!
//! Every field is wrapped in `div.field[data-field=NAME]`; a refusal of that field (422,
//! nothing stored) adds the class `has-error` and `p.field-error#error-NAME` with the
//! store's reason (a wrong store password: "keystore password is incorrect" as
//! signet-formats says it). An error of no field is `p#form-error.form-error`. Error pages
//! (403, 404, …) show `p#error-message`. Refusals: CSRF → [`CSRF_REFUSED`], another origin
//! → [`CROSS_ORIGIN_REFUSED`], too low a role → "this needs the {role} role or higher;
//! you are {role}".

mod apps;
mod credentials;
mod layout;
mod org;
mod session;

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{RawPathParams, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{MethodFilter, MethodRouter, on},
};
use signet_store::{Actor, App, OrgId, Principal, Role, StoreError, TokenId, UserId};

use crate::{AppState, BODY_LIMIT, auth, error::ApiError, routes::Need};

/// The session cookie's name over plain HTTP.
pub const COOKIE: &str = "signet_session";

/// Its name over TLS: the `__Host-` prefix makes browsers refuse it unless it is `Secure`,
/// set by this host (no `Domain`) for `Path=/`, so a sibling subdomain cannot plant one.
pub const SECURE_COOKIE: &str = "__Host-signet_session";

/// How long the session cookie lasts: the session's own 30 days.
const COOKIE_MAX_AGE: u64 = 30 * 24 * 3600;

/// The Content-Security-Policy of every page: only this origin's files, no inline script,
/// no framing, forms only to this origin.
pub const CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The refusal of a POST without the session's CSRF token.
pub const CSRF_REFUSED: &str =
    "this form's CSRF token is missing or wrong; reload the page and try again";

/// The refusal of a POST from another site.
pub const CROSS_ORIGIN_REFUSED: &str = "a form from another site cannot act here";

/// The refusal of a delete whose confirmation is not the credential's name.
pub const CONFIRM_MISMATCH: &str = "type the credential's name exactly to confirm";

/// Who may open a page.
#[derive(Debug, Clone, Copy)]
pub enum PageNeed {
    /// Anyone (sign-in, static files).
    Anonymous,
    /// A signed-in user (the organization picker, sign-out).
    Session,
    /// The least role of this API route (method, path) in the path's organization.
    Mirrors(&'static str, &'static str),
    /// A role the API has no route for (the certificate download).
    Role(Role),
}

/// One page (or form action).
pub struct Page {
    /// HTTP method.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// Who may open it.
    pub need: PageNeed,
    handler: fn(MethodFilter) -> MethodRouter<Arc<AppState>>,
}

const fn page(
    method: &'static str,
    path: &'static str,
    need: PageNeed,
    handler: fn(MethodFilter) -> MethodRouter<Arc<AppState>>,
) -> Page {
    Page {
        method,
        path,
        need,
        handler,
    }
}

use PageNeed::{Anonymous, Mirrors, Session};

const CREDENTIAL: &str = "/v1/orgs/{org}/credentials/{id}";
const BUILD_SET: &str = "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}";

/// Every page and form action.
pub static PAGES: &[Page] = &[
    page("GET", "/static/signet.css", Anonymous, |m| {
        on(m, layout::css)
    }),
    page("GET", "/static/signet.js", Anonymous, |m| on(m, layout::js)),
    page("GET", "/login", Anonymous, |m| on(m, session::login_page)),
    page("POST", "/login", Anonymous, |m| on(m, session::login)),
    page("POST", "/logout", Session, |m| on(m, session::logout)),
    page("GET", "/", Session, |m| on(m, session::index)),
    page(
        "GET",
        "/orgs/{org}",
        Mirrors("GET", "/v1/orgs/{org}"),
        |m| on(m, org::overview),
    ),
    page(
        "GET",
        "/orgs/{org}/apps/{app}",
        Mirrors("GET", "/v1/orgs/{org}/apps/{app}"),
        |m| on(m, apps::app_page),
    ),
    page(
        "POST",
        "/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default",
        Mirrors(
            "POST",
            "/v1/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/default",
        ),
        |m| on(m, apps::make_default),
    ),
    page(
        "POST",
        "/orgs/{org}/apps/{app}/android/{application_id}/build-sets/{name}/rename",
        Mirrors("PATCH", BUILD_SET),
        |m| on(m, apps::rename_build_set),
    ),
    page(
        "GET",
        "/orgs/{org}/credentials",
        Mirrors("GET", "/v1/orgs/{org}/credentials"),
        |m| on(m, credentials::list),
    ),
    page(
        "GET",
        "/orgs/{org}/credentials/{id}",
        Mirrors("GET", CREDENTIAL),
        |m| on(m, credentials::show),
    ),
    page(
        "GET",
        "/orgs/{org}/credentials/{id}/certificate.pem",
        PageNeed::Role(Role::Developer),
        |m| on(m, credentials::certificate),
    ),
    page(
        "GET",
        "/orgs/{org}/upload",
        Mirrors("POST", "/v1/orgs/{org}/credentials"),
        |m| on(m, credentials::upload_page),
    ),
    page(
        "POST",
        "/orgs/{org}/upload",
        Mirrors("POST", "/v1/orgs/{org}/credentials"),
        |m| on(m, credentials::upload),
    ),
    page(
        "GET",
        "/orgs/{org}/credentials/{id}/delete",
        Mirrors("DELETE", CREDENTIAL),
        |m| on(m, credentials::delete_page),
    ),
    page(
        "POST",
        "/orgs/{org}/credentials/{id}/delete",
        Mirrors("DELETE", CREDENTIAL),
        |m| on(m, credentials::delete),
    ),
    page(
        "GET",
        "/orgs/{org}/deleted",
        Mirrors("POST", "/v1/orgs/{org}/credentials/{id}/restore"),
        |m| on(m, credentials::deleted),
    ),
    page(
        "POST",
        "/orgs/{org}/credentials/{id}/restore",
        Mirrors("POST", "/v1/orgs/{org}/credentials/{id}/restore"),
        |m| on(m, credentials::restore),
    ),
    page(
        "GET",
        "/orgs/{org}/audit",
        Mirrors("GET", "/v1/orgs/{org}/audit"),
        |m| on(m, org::audit),
    ),
    page(
        "GET",
        "/orgs/{org}/members",
        Mirrors("GET", "/v1/orgs/{org}/members"),
        |m| on(m, org::members),
    ),
    page(
        "POST",
        "/orgs/{org}/members",
        Mirrors("PUT", "/v1/orgs/{org}/members"),
        |m| on(m, org::add_member),
    ),
    page(
        "POST",
        "/orgs/{org}/members/{user}/role",
        Mirrors("PUT", "/v1/orgs/{org}/members"),
        |m| on(m, org::set_role),
    ),
    page(
        "POST",
        "/orgs/{org}/members/{user}/remove",
        Mirrors("DELETE", "/v1/orgs/{org}/members/{user}"),
        |m| on(m, org::remove_member),
    ),
    page(
        "GET",
        "/orgs/{org}/robots",
        Mirrors("GET", "/v1/orgs/{org}/robots"),
        |m| on(m, org::robots),
    ),
    page(
        "POST",
        "/orgs/{org}/robots",
        Mirrors("POST", "/v1/orgs/{org}/robots"),
        |m| on(m, org::create_robot),
    ),
    page(
        "POST",
        "/orgs/{org}/robots/{id}/revoke",
        Mirrors("DELETE", "/v1/orgs/{org}/robots/{id}"),
        |m| on(m, org::revoke_robot),
    ),
];

impl Page {
    /// The least role in the organization, or `None` for pages outside one. A page that
    /// mirrors a route the table lacks needs the owner role (fail closed; a test checks
    /// every page's route exists).
    pub fn role(&self) -> Option<Role> {
        match self.need {
            Anonymous | Session => None,
            PageNeed::Role(role) => Some(role),
            Mirrors(method, path) => Some(
                crate::routes::ROUTES
                    .iter()
                    .find(|r| r.method == method && r.path == path)
                    .and_then(|r| match r.need {
                        Need::Role(role) => Some(role),
                        _ => None,
                    })
                    .unwrap_or(Role::Owner),
            ),
        }
    }

    fn method_filter(&self) -> MethodFilter {
        if self.method == "POST" {
            MethodFilter::POST
        } else {
            MethodFilter::GET
        }
    }
}

/// The pages' router: each page behind [`guard`] with its entry (the security headers are
/// the whole server's, [`security_headers`]).
pub fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    PAGES.iter().fold(Router::new(), |router, page| {
        let mut method_router = (page.handler)(page.method_filter()).route_layer(
            axum::middleware::from_fn_with_state((Arc::clone(state), page), guard),
        );
        // Nothing larger than the API's anonymous limit is read before authentication.
        if matches!(page.need, Anonymous) {
            method_router = method_router.layer(axum::extract::DefaultBodyLimit::max(
                crate::ANONYMOUS_BODY_LIMIT,
            ));
        }
        router.route(page.path, method_router)
    })
}

/// The pages' security headers, on every answer of the server (pages, static files, the
/// API, and the fallback's 404): harmless on JSON, and no answer escapes them.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A signed-in user, on every page but the anonymous ones.
#[derive(Clone)]
pub(crate) struct WebSession {
    pub(crate) user: UserId,
    pub(crate) token_id: TokenId,
    pub(crate) actor: Actor,
    /// The value of every form's hidden `csrf` field.
    pub(crate) csrf: String,
}

/// The signed-in user's standing in the path's organization.
#[derive(Clone)]
pub(crate) struct WebAccess {
    pub(crate) session: WebSession,
    pub(crate) org: OrgId,
    pub(crate) org_name: String,
    pub(crate) role: Role,
    /// The `{app}` of the path, resolved.
    pub(crate) app: Option<App>,
}

impl WebAccess {
    /// Whether the user's role reaches the page at `method path`: controls to pages it
    /// does not reach are not rendered.
    pub(crate) fn may(&self, method: &str, path: &str) -> bool {
        PAGES
            .iter()
            .find(|p| p.method == method && p.path == path)
            .and_then(Page::role)
            .is_some_and(|need| self.role >= need)
    }

    pub(crate) fn app(&self) -> Result<&App, WebError> {
        self.app
            .as_ref()
            .ok_or_else(|| WebError::from(ApiError::internal()))
    }
}

macro_rules! from_extension {
    ($ty:ty) => {
        impl<S: Send + Sync> axum::extract::FromRequestParts<S> for $ty {
            type Rejection = WebError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<$ty, WebError> {
                parts
                    .extensions
                    .get::<$ty>()
                    .cloned()
                    .ok_or_else(|| WebError::from(ApiError::internal()))
            }
        }
    };
}
from_extension!(WebSession);
from_extension!(WebAccess);

/// An error page: the status and a sentence (never a secret).
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    message: String,
}

impl WebError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError {
            status,
            message: message.into(),
        }
    }

    fn forbidden(message: &str) -> WebError {
        WebError::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        WebError::new(e.status(), e.detail())
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        ApiError::from(e).into()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let body = layout::error_page(self.status, &self.message);
        (self.status, body).into_response()
    }
}

pub(crate) type WebResult<T = Response> = Result<T, WebError>;

/// A 303 to `to` (after a POST, so that a reload does not repeat it).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The CSRF token of a session token.
fn csrf_of(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &[b"signet csrf\0".as_slice(), token.as_bytes()].concat(),
    );
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session token in the request's cookie. More than one session cookie (one planted
/// beside the user's own, which a browser may send first) counts as none: signed out.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE || *name == SECURE_COOKIE)
        .map(|(_, value)| value);
    let first = found.next()?;
    if found.next().is_some() || first.is_empty() {
        return None;
    }
    Some(first.to_owned())
}

/// Whether the request came over TLS, as a trusted proxy says (`serve` itself speaks
/// plain HTTP).
fn over_tls(state: &AppState, parts: &Parts) -> bool {
    let peer_trusted = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| state.trusted_proxies.contains(&c.0.ip().to_canonical()));
    peer_trusted
        && parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value of a new session, or of its removal (`token` `None`).
pub(crate) fn session_cookie(token: Option<&str>, secure: bool) -> HeaderValue {
    let (name, secure) = if secure {
        (SECURE_COOKIE, "; Secure")
    } else {
        (COOKIE, "")
    };
    let value = match token {
        Some(t) => format!(
            "{name}={t}; HttpOnly; SameSite=Strict; Path=/; Max-Age={COOKIE_MAX_AGE}{secure}"
        ),
        None => format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    };
    // A token is base62 and `_`: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// Whether a POST comes from this origin: `Sec-Fetch-Site` (when sent) is `same-origin`
/// or `none`, and `Origin` (when sent) is this host's.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin = origin.as_bytes();
    [b"http://".as_slice(), b"https://".as_slice()]
        .iter()
        .any(|scheme| origin.strip_prefix(*scheme) == Some(host.as_bytes()))
}

/// The `csrf` field of a form body (URL-encoded or multipart).
async fn csrf_field(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded::parse(body)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
    }
    let boundary = multer::parse_boundary(content_type).ok()?;
    let data = body.clone();
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(data) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("csrf") {
            return field.text().await.ok();
        }
    }
    None
}

/// Enforces `page`'s rule before its handler runs: the session from the cookie, for a
/// POST the origin and the CSRF token, the role in the path's organization, the app.
async fn guard(
    State((state, page)): State<(Arc<AppState>, &'static Page)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let post = parts.method == Method::POST;
    if post && !same_origin(&parts.headers) {
        return WebError::forbidden(CROSS_ORIGIN_REFUSED).into_response();
    }
    if matches!(page.need, Anonymous) {
        parts.extensions.insert(Secure(over_tls(&state, &parts)));
        return next.run(Request::from_parts(parts, body)).await;
    }
    let Some(session) = session(&state, &parts).await else {
        return if post {
            WebError::forbidden("sign in first").into_response()
        } else {
            see_other("/login")
        };
    };
    let body = if post {
        let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
            return WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large")
                .into_response();
        };
        let given = csrf_field(&parts.headers, &bytes).await;
        if !given.is_some_and(|g| same_bytes(g.as_bytes(), session.csrf.as_bytes())) {
            return WebError::forbidden(CSRF_REFUSED).into_response();
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(Secure(over_tls(&state, &parts)));
    if let Some(need) = page.role() {
        match access(&state, &mut parts, session.clone(), need).await {
            Ok(access) => {
                parts.extensions.insert(access);
            }
            Err(e) => return e.into_response(),
        }
    }
    parts.extensions.insert(session);
    next.run(Request::from_parts(parts, body)).await
}

/// Whether the request came over TLS (for the cookie's `Secure`).
#[derive(Clone, Copy)]
pub(crate) struct Secure(pub(crate) bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Secure {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Secure, WebError> {
        Ok(parts
            .extensions
            .get::<Secure>()
            .copied()
            .unwrap_or(Secure(false)))
    }
}

/// The user's session from the cookie; robots' tokens are not sessions.
async fn session(state: &AppState, parts: &Parts) -> Option<WebSession> {
    let token = cookie_token(&parts.headers)?;
    let Ok(Principal::User { token_id, user_id }) = state.store.authenticate(&token).await else {
        return None;
    };
    let mut actor = auth::origin(parts);
    actor.who = format!("user:{user_id}");
    Some(WebSession {
        user: user_id,
        token_id,
        actor,
        csrf: csrf_of(&token),
    })
}

async fn access(
    state: &AppState,
    parts: &mut Parts,
    session: WebSession,
    need: Role,
) -> Result<WebAccess, WebError> {
    let params =
        <RawPathParams as axum::extract::FromRequestParts<()>>::from_request_parts(parts, &())
            .await
            .map_err(|_| {
                WebError::new(StatusCode::BAD_REQUEST, "a path segment is not valid UTF-8")
            })?;
    if params.iter().any(|(_, v)| v.len() > auth::MAX_PATH_PARAM) {
        return Err(ApiError::not_found().into());
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    };
    let org = param("org").ok_or_else(|| WebError::from(ApiError::internal()))?;
    let org = OrgId::parse(&org).map_err(|_| ApiError::not_found())?;
    let caller = auth::Caller {
        principal: Principal::User {
            token_id: session.token_id.clone(),
            user_id: session.user.clone(),
        },
        actor: session.actor.clone(),
    };
    let role = auth::role_in(state, &caller, &org).await?;
    if role < need {
        return Err(WebError::forbidden(&format!(
            "this needs the {} role or higher; you are {}",
            need.name(),
            role.name()
        )));
    }
    let org_name = state.store.org(&org).await?.name;
    let app = match param("app") {
        Some(app) => Some(state.store.app(&org, app.as_str()).await?),
        None => None,
    };
    Ok(WebAccess {
        session,
        org,
        org_name,
        role,
        app,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mirrored_route_exists() {
        for p in PAGES {
            if let Mirrors(method, path) = p.need {
                assert!(
                    crate::routes::ROUTES.iter().any(|r| r.method == method
                        && r.path == path
                        && matches!(r.need, Need::Role(_))),
                    "{} {} mirrors {method} {path}, which is no route with a role",
                    p.method,
                    p.path
                );
            }
        }
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("signet.example:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://signet.example:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h));
    }

    #[test]
    fn csrf_is_not_the_token() {
        let t = "sgs_abc";
        assert_eq!(csrf_of(t).len(), 32);
        assert_ne!(csrf_of(t), csrf_of("sgs_abd"));
        assert!(!csrf_of(t).contains(t));
    }
}
