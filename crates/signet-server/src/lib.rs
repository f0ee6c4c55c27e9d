//! `signet serve`: the HTTP API of SPEC §3 over [`signet_store`].
//!
//! JSON under `/v1`, errors as `application/problem+json` ([`error`]), bearer tokens and
//! roles ([`auth`]), an OpenAPI document at `/v1/openapi.json` generated from the same
//! route table the tests walk ([`openapi`]), `/healthz` and `/readyz`, request ids, body
//! limits and logs that hold no secret: requests are logged by method, path, status and
//! time; bodies, headers and query strings never are. Starting a server (data dir, master
//! keys, setup token, logging, signals) is [`run`] with a [`Config`]; `signet admin`
//! commands open the store as it does with [`open_store`].

#![deny(missing_docs)]

mod api;
pub mod auth;
pub mod error;
pub mod login_limit;
pub mod openapi;
pub mod routes;
mod start;
pub mod web;

pub use start::{
    Config, LogFormat, MASTER_KEY_FILE, SETUP_TOKEN_FILE, StartError, StoreConfig, open_store,
    redact_url, run,
};

use std::{net::IpAddr, sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use signet_store::Store;
use tracing::Instrument as _;

use crate::error::ApiError;

/// Largest request body: base64 keystores and profiles are far smaller.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// How long a client may take to send a request's headers before the connection is
/// closed (slow clients must not hold connections).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a whole request may take, body included (a 4 MiB upload needs 70 KB/s):
/// past it the answer is 408 and the connection closes, so a client that sends its body
/// a byte at a time cannot hold a connection.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Connections one client address may hold open at once (trusted proxies excepted): a
/// client that opens more, slowly, to exhaust the server's file descriptors is cut off at
/// this many while everyone else is served.
pub const MAX_CONNECTIONS_PER_PEER: usize = 64;

/// How long a graceful shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The largest body of a route anyone may call (login, setup): an e-mail, a password and
/// a token fit in far less, and nothing larger is read before authentication.
pub const ANONYMOUS_BODY_LIMIT: usize = 16 * 1024;

/// What every handler shares.
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Where this server wrote the setup token, removed once setup is done.
    pub setup_token_file: Option<std::path::PathBuf>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// App Store Connect's base URL (`SIGNET_ASC_URL`).
    pub asc_url: String,
    /// APNs provider tokens minted by this process (see `api/apns.rs`).
    pub(crate) apns_tokens: api::apns::TokenCache,
}

impl AppState {
    /// The state of a server over `store`.
    pub fn new(store: Store, setup_token_file: Option<std::path::PathBuf>) -> AppState {
        AppState {
            store,
            setup_token_file,
            trusted_proxies: Vec::new(),
            asc_url: signet_apple::DEFAULT_BASE_URL.to_owned(),
            apns_tokens: api::apns::TokenCache::default(),
        }
    }

    /// Calls App Store Connect at `url` (a simulator, in tests).
    #[must_use]
    pub fn with_asc_url(mut self, url: &str) -> AppState {
        url.clone_into(&mut self.asc_url);
        self
    }

    /// Trusts these proxies' `X-Forwarded-For`.
    #[must_use]
    /// IPv4-mapped IPv6 addresses count as the IPv4 ones (a dual-stack listener sees a
    /// proxy at 127.0.0.1 as `::ffff:127.0.0.1`).
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpAddr>) -> AppState {
        self.trusted_proxies = proxies.into_iter().map(|ip| ip.to_canonical()).collect();
        self
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` that is not a trusted proxy (read from the right: the
/// entries to the left of it are the client's own word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

fn client_addr(req: &Request, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    // Every header line, split at commas, as bytes: a line with a byte that is not ASCII
    // (the client's own part, joined with the proxy's) still yields the hops after it.
    let hops: Vec<&[u8]> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match forwarded_ip(hop) {
            Some(ip) if trusted.contains(&ip) => client = ip,
            Some(ip) => return Some(ip),
            // Garbage where an address should be: stop at the last trusted hop.
            None => break,
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` hop: an address, with or without a port or IPv6 brackets.
fn forwarded_ip(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
}

/// The request id: the client's `X-Request-Id` when it is sane, else a new one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The whole application: the routes of [`routes::ROUTES`], each behind its access
/// rule, limits, request logging, and errors that are all problem+json.
pub fn router(state: Arc<AppState>) -> Router {
    routes::router(&state)
        .merge(web::router(&state))
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::map_response(web::security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::map_response(problem_json))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            request_context,
        ))
        .with_state(state)
}

/// Every error is problem+json (SPEC §3): an error response that something other than
/// [`ApiError`] made (axum's rejections, a layer) is replaced by the problem for its
/// status, keeping headers such as `Allow` and `Retry-After`.
async fn problem_json(response: Response) -> Response {
    let status = response.status();
    // The web pages' errors are pages (HTML), made by `web`.
    let is_problem_or_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem_or_page {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = ApiError::from_status(status).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &problem_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// A new request id. It is not a secret: if the RNG fails, the time will do.
fn new_request_id() -> String {
    signet_store::secrets::random_hex(8).unwrap_or_else(|_| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{t:x}")
    })
}

async fn request_context(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(client) = client_addr(&req, &state.trusted_proxies) {
        req.extensions_mut().insert(ClientAddr(client));
    }
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(new_request_id, str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let start = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let micros = start.elapsed().as_micros();
    span.in_scope(|| tracing::info!(status, micros, "done"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// A JSON body whose rejections are problem+json, and whose messages never echo a value
/// (serde's "invalid type: string \"…\"" could hold a password).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                let text = e.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                    .unwrap_or(&text);
                let detail = match text.find(": invalid ") {
                    Some(at) => format!("`{}` has the wrong type or value", &text[..at]),
                    None if text.contains("invalid type") || text.contains("invalid value") => {
                        "a value has the wrong type".to_owned()
                    }
                    None => text.to_owned(),
                };
                Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-body",
                    detail,
                ))
            }
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::bad_request("the body is not valid JSON"))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send Content-Type: application/json",
            )),
            Err(other) => {
                let status = other.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Err(ApiError::new(
                        status,
                        "too-large",
                        "the body is larger than this request accepts",
                    ))
                } else {
                    Err(ApiError::bad_request("the body could not be read"))
                }
            }
        }
    }
}

/// The version a client names in `If-Match` (`"3"` or `W/"3"`); 428 when absent.
pub fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    let value = headers
        .get(header::IF_MATCH)
        .ok_or_else(ApiError::precondition_required)?;
    parse_etag(value).ok_or_else(|| ApiError::bad_request("If-Match is not an ETag of signet's"))
}

/// `If-Match` when present.
pub fn if_match_optional(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    match headers.get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => parse_etag(v)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("If-Match is not an ETag of signet's")),
    }
}

fn parse_etag(value: &HeaderValue) -> Option<i64> {
    let s = value.to_str().ok()?.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// A PUT's response: 201 when it created, 200 when it replaced, with the `ETag`.
pub fn put_response(created: bool, version: i64, body: impl serde::Serialize) -> Response {
    let mut response = with_etag(version, body);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

/// A JSON response with an `ETag` of `version`.
pub fn with_etag(version: i64, body: impl serde::Serialize) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Serves until `shutdown` resolves, then stops accepting and finishes requests in
/// flight (graceful shutdown), and closes the store. A client that does not send its
/// request headers within [`HEADER_READ_TIMEOUT`] is disconnected.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(Arc::clone(&state));
    let purger = tokio::spawn(purge_periodically(Arc::clone(&state)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        IpAddr,
        usize,
    >::new()));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then accept again.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = PeerSlot::take(&open, peer.ip(), &state.trusted_proxies) else {
            tracing::debug!("a client holds too many connections; closing a new one");
            continue;
        };
        let service = tower::ServiceExt::map_request(app.clone(), move |mut req: Request<_>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            req
        });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period; closing them");
    }
    purger.abort();
    state.store.close().await;
    Ok(())
}

/// One open connection of a client address, counted while it lives.
struct PeerSlot {
    open: Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>,
    peer: IpAddr,
}

impl PeerSlot {
    /// A slot for `peer`, unless it holds [`MAX_CONNECTIONS_PER_PEER`] already.
    fn take(
        open: &Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>,
        peer: IpAddr,
        trusted: &[IpAddr],
    ) -> Option<PeerSlot> {
        let peer = peer.to_canonical();
        let mut counts = open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = counts.entry(peer).or_insert(0);
        if *n >= MAX_CONNECTIONS_PER_PEER && !trusted.contains(&peer) {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            open: Arc::clone(open),
            peer,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.peer);
            }
        }
    }
}

/// Destroys credentials whose restore window has passed and checkpoints SQLite's log, at
/// start and then hourly.
async fn purge_periodically(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match state
            .store
            .purge_deleted(&signet_store::Actor::system("purge"))
            .await
        {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(
                    count = ids.len(),
                    "destroyed credentials past their restore window"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging deleted credentials failed"),
        }
        match state.store.purge_attempts(login_limit::FORGET_AFTER).await {
            Ok(n) if n > 0 => tracing::info!(count = n, "forgot old login attempt counts"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging login attempt counts failed"),
        }
        if let Err(e) = state.store.checkpoint().await {
            tracing::warn!(error = %e, "checkpointing the SQLite log failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&[u8]]) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        for value in forwarded {
            req.headers_mut().append(
                "x-forwarded-for",
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            peer.parse::<std::net::SocketAddr>()
                .expect("a socket address"),
        ));
        req
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_forwarded_hop() {
        let proxy = [ip("127.0.0.1")];
        let cases: [(&str, &[&[u8]], &str); 9] = [
            // Not a trusted peer: the header is the client's word, ignored.
            ("192.0.2.5:1", &[b"203.0.113.9"], "192.0.2.5"),
            ("127.0.0.1:1", &[b"203.0.113.9"], "203.0.113.9"),
            // A forged first hop is left of the real one.
            ("127.0.0.1:1", &[b"10.0.0.1, 203.0.113.9"], "203.0.113.9"),
            // The client's own line and the proxy's, as two header lines.
            ("127.0.0.1:1", &[b"10.0.0.1", b"203.0.113.9"], "203.0.113.9"),
            // A byte that is not ASCII in the client's part does not hide the proxy's.
            (
                "127.0.0.1:1",
                &[b"\xff198.51.100.1, 203.0.113.9"],
                "203.0.113.9",
            ),
            // Ports and brackets, as some proxies write them.
            ("127.0.0.1:1", &[b"203.0.113.9:4711"], "203.0.113.9"),
            ("127.0.0.1:1", &[b"[2001:db8::1]"], "2001:db8::1"),
            // A dual-stack listener sees the proxy as an IPv4-mapped address.
            ("[::ffff:127.0.0.1]:1", &[b"203.0.113.9"], "203.0.113.9"),
            // Garbage as the nearest hop: the proxy is all that is known.
            ("127.0.0.1:1", &[b"203.0.113.9, unknown"], "127.0.0.1"),
        ];
        for (peer, forwarded, want) in cases {
            assert_eq!(
                client_addr(&request(peer, forwarded), &proxy),
                Some(ip(want)),
                "{peer} {forwarded:?}"
            );
        }
    }

    #[test]
    fn a_peer_holds_at_most_its_share_of_connections() {
        let open = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let peer = ip("192.0.2.1");
        let slots: Vec<_> = (0..MAX_CONNECTIONS_PER_PEER)
            .map(|_| PeerSlot::take(&open, peer, &[]).expect("a slot"))
            .collect();
        assert!(PeerSlot::take(&open, peer, &[]).is_none());
        assert!(PeerSlot::take(&open, ip("192.0.2.2"), &[]).is_some());
        assert!(
            PeerSlot::take(&open, peer, &[peer]).is_some(),
            "trusted proxies are not limited"
        );
        drop(slots);
        assert!(PeerSlot::take(&open, peer, &[]).is_some());
    }
}
