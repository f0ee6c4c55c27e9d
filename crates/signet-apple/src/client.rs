//! A small async client of App Store Connect's provisioning endpoints.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url, header};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use crate::{
    AscError, AscKey,
    jwt::LIFETIME_SECS,
    types::{
        AscBundleId, AscCapability, AscCertificate, AscDevice, AscProfile, ErrorResponse, Linkage,
        Many, One,
    },
};

/// Apple's API.
pub const DEFAULT_BASE_URL: &str = "https://api.appstoreconnect.apple.com";

/// The largest answer read (a profile list with its contents stays far below).
const MAX_RESPONSE: usize = 32 << 20;

/// Checks an App Store Connect base URL (`SIGNET_ASC_URL`) as [`AscClient::new`] will.
pub fn check_base_url(base: &str) -> Result<(), AscError> {
    parse_base(base).map(|_| ())
}

fn parse_base(base: &str) -> Result<Url, AscError> {
    let mut url = Url::parse(base).map_err(|_| AscError::BadUrl(base.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(AscError::BadUrl(base.to_owned()));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The most bytes all the pages of one list may take together.
const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;

/// Retries and bounds.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Retries after a 429 or 5xx (so at most `retries + 1` requests).
    pub retries: u32,
    /// The first backoff; doubled per retry.
    pub backoff: Duration,
    /// The longest wait, `Retry-After` included.
    pub max_wait: Duration,
    /// The most pages a list follows.
    pub max_pages: usize,
    /// Re-mint the cached token this long before it expires.
    pub refresh_margin_secs: i64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            retries: 4,
            backoff: Duration::from_millis(500),
            // A hostile or overloaded endpoint's `Retry-After` must not hold a request past
            // the server's own 60 s limit on a whole request.
            max_wait: Duration::from_secs(5),
            max_pages: 200,
            refresh_margin_secs: 60,
        }
    }
}

struct Minted {
    token: Zeroizing<String>,
    expires: i64,
}

/// A client of App Store Connect for one API key. Tokens are cached until shortly before
/// they expire; a 401 re-mints once; 429 and 5xx are retried with backoff (honouring
/// `Retry-After`); lists follow `links.next` on the same host only.
pub struct AscClient {
    base: Url,
    http: reqwest::Client,
    key: AscKey,
    token: Mutex<Option<Minted>>,
    policy: Policy,
}

impl std::fmt::Debug for AscClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AscClient")
            .field("base", &self.base.as_str())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl AscClient {
    /// A client of the API at `base` (e.g. [`DEFAULT_BASE_URL`]) with `key`.
    pub fn new(base: &str, key: AscKey, policy: Policy) -> Result<AscClient, AscError> {
        let base = parse_base(base)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            // The token goes to Apple's host only.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AscError::Transport {
                url: base.to_string(),
                reason: e.to_string(),
            })?;
        Ok(AscClient {
            base,
            http,
            key,
            token: Mutex::new(None),
            policy,
        })
    }

    async fn bearer(&self, fresh: bool) -> Result<Zeroizing<String>, AscError> {
        let mut cached = self.token.lock().await;
        let now = now();
        if !fresh
            && let Some(m) = cached.as_ref()
            && now < m.expires - self.policy.refresh_margin_secs
        {
            return Ok(m.token.clone());
        }
        let token = Zeroizing::new(self.key.token(now, LIFETIME_SECS)?);
        *cached = Some(Minted {
            token: token.clone(),
            expires: now + LIFETIME_SECS,
        });
        Ok(token)
    }

    fn url(&self, path: &str) -> Result<Url, AscError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|_| AscError::BadUrl(format!("{}{path}", self.base)))
    }

    /// One request with the retry rules; returns the status and body of a success.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Vec<u8>), AscError> {
        let mut reminted = false;
        let mut attempts = 0u32;
        let mut fresh = false;
        loop {
            attempts += 1;
            let token = self.bearer(fresh).await?;
            fresh = false;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(header::AUTHORIZATION, format!("Bearer {}", token.as_str()))
                .header(header::ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| AscError::Transport {
                url: self.base.to_string(),
                reason: if e.is_timeout() {
                    "timed out".into()
                } else if e.is_connect() {
                    "connection refused or unreachable".into()
                } else {
                    e.to_string()
                },
            })?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let bytes = read_limited(resp, &self.base).await?;
            if status.is_success() {
                return Ok((status, bytes));
            }
            if status == StatusCode::UNAUTHORIZED && !reminted {
                // A token Apple no longer takes (clock skew, a revoked cache): one more,
                // freshly minted.
                reminted = true;
                fresh = true;
                tracing::debug!("App Store Connect answered 401: minting a new token");
                continue;
            }
            if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                && attempts <= self.policy.retries
            {
                let backoff = self.policy.backoff * 2u32.saturating_pow(attempts - 1);
                let wait = retry_after
                    .map_or(backoff, Duration::from_secs)
                    .min(self.policy.max_wait);
                tracing::debug!(
                    status = status.as_u16(),
                    ?wait,
                    "App Store Connect: retrying"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                return Err(AscError::Unavailable {
                    status: status.as_u16(),
                    attempts,
                });
            }
            return Err(match serde_json::from_slice::<ErrorResponse>(&bytes) {
                Ok(e) if !e.errors.is_empty() => AscError::Apple {
                    status: status.as_u16(),
                    errors: e.errors,
                },
                _ => AscError::Status {
                    status: status.as_u16(),
                },
            });
        }
    }

    async fn get_one<T: DeserializeOwned>(&self, path: &str) -> Result<T, AscError> {
        let (_, bytes) = self.send(Method::GET, self.url(path)?, None).await?;
        decode::<One<T>>(path, &bytes).map(|o| o.data)
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, AscError> {
        let (_, bytes) = self.send(Method::POST, self.url(path)?, Some(body)).await?;
        decode::<One<T>>(path, &bytes).map(|o| o.data)
    }

    async fn delete(&self, path: &str) -> Result<(), AscError> {
        self.send(Method::DELETE, self.url(path)?, None).await?;
        Ok(())
    }

    /// Every item of a list, page after page through `links.next`.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, AscError> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut out = Vec::new();
        let mut read = 0usize;
        for _ in 0..self.policy.max_pages {
            let (_, bytes) = self.send(Method::GET, url.clone(), None).await?;
            // Each page is bounded; so is the whole list (memory per request).
            read = read.saturating_add(bytes.len());
            if read > MAX_LIST_BYTES {
                return Err(AscError::Decode {
                    what: path.to_owned(),
                    reason: format!("the list is larger than {} MiB", MAX_LIST_BYTES >> 20),
                });
            }
            let page = decode::<Many<T>>(path, &bytes)?;
            out.extend(page.data);
            match page.links.and_then(|l| l.next) {
                None => return Ok(out),
                Some(next) => {
                    let next = self.base.join(&next).map_err(|_| AscError::Decode {
                        what: path.to_owned(),
                        reason: "links.next is not a URL".into(),
                    })?;
                    if next.scheme() != self.base.scheme()
                        || next.host_str() != self.base.host_str()
                        || next.port_or_known_default() != self.base.port_or_known_default()
                    {
                        return Err(AscError::ForeignNextLink {
                            host: next.host_str().unwrap_or("(none)").to_owned(),
                        });
                    }
                    url = next;
                }
            }
        }
        Err(AscError::TooManyPages {
            what: path.to_owned(),
            max: self.policy.max_pages,
        })
    }

    // -----------------------------------------------------------------------------------
    // bundle ids

    /// The bundle id registered for `identifier` on iOS (or universal), if any.
    pub async fn find_bundle_id(&self, identifier: &str) -> Result<Option<AscBundleId>, AscError> {
        let all: Vec<AscBundleId> = self
            .get_all("v1/bundleIds", &[("filter[identifier]", identifier)])
            .await?;
        // Apple's filter matches prefixes too: keep the exact one.
        Ok(all
            .into_iter()
            .find(|b| b.attributes.identifier.as_deref() == Some(identifier)))
    }

    /// Registers a bundle id for iOS.
    pub async fn create_bundle_id(
        &self,
        identifier: &str,
        name: &str,
    ) -> Result<AscBundleId, AscError> {
        self.post(
            "v1/bundleIds",
            &json!({ "data": { "type": "bundleIds", "attributes": {
                "identifier": identifier, "name": name, "platform": "IOS" } } }),
        )
        .await
    }

    /// The capabilities enabled on a bundle id.
    pub async fn capabilities(&self, bundle_id: &str) -> Result<Vec<AscCapability>, AscError> {
        self.get_all(
            &format!("v1/bundleIds/{}/bundleIdCapabilities", seg(bundle_id)),
            &[],
        )
        .await
    }

    /// Enables a capability (`CapabilityType`) on a bundle id.
    pub async fn enable_capability(
        &self,
        bundle_id: &str,
        capability: &str,
    ) -> Result<AscCapability, AscError> {
        self.post(
            "v1/bundleIdCapabilities",
            &json!({ "data": { "type": "bundleIdCapabilities",
                "attributes": { "capabilityType": capability },
                "relationships": { "bundleId": { "data": { "type": "bundleIds", "id": bundle_id } } } } }),
        )
        .await
    }

    // -----------------------------------------------------------------------------------
    // certificates

    /// The team's certificates of these types.
    pub async fn certificates(&self, types: &[&str]) -> Result<Vec<AscCertificate>, AscError> {
        let filter = types.join(",");
        let query: Vec<(&str, &str)> = if types.is_empty() {
            Vec::new()
        } else {
            vec![("filter[certificateType]", filter.as_str())]
        };
        self.get_all("v1/certificates", &query).await
    }

    /// Asks Apple for a certificate from a CSR (PEM). Only the request goes: its key stays
    /// with the caller.
    pub async fn create_certificate(
        &self,
        csr_pem: &str,
        certificate_type: &str,
    ) -> Result<AscCertificate, AscError> {
        self.post(
            "v1/certificates",
            &json!({ "data": { "type": "certificates", "attributes": {
                "csrContent": csr_pem, "certificateType": certificate_type } } }),
        )
        .await
    }

    /// Revokes a certificate.
    pub async fn revoke_certificate(&self, id: &str) -> Result<(), AscError> {
        self.delete(&format!("v1/certificates/{}", seg(id))).await
    }

    // -----------------------------------------------------------------------------------
    // devices

    /// The team's registered devices.
    pub async fn devices(&self) -> Result<Vec<AscDevice>, AscError> {
        self.get_all("v1/devices", &[]).await
    }

    /// Registers a device.
    pub async fn register_device(
        &self,
        name: &str,
        udid: &str,
        platform: &str,
    ) -> Result<AscDevice, AscError> {
        self.post(
            "v1/devices",
            &json!({ "data": { "type": "devices", "attributes": {
                "name": name, "udid": udid, "platform": platform } } }),
        )
        .await
    }

    // -----------------------------------------------------------------------------------
    // profiles

    /// The profiles of a bundle id.
    pub async fn profiles_of(&self, bundle_id: &str) -> Result<Vec<AscProfile>, AscError> {
        self.get_all(&format!("v1/bundleIds/{}/profiles", seg(bundle_id)), &[])
            .await
    }

    /// A profile.
    pub async fn profile(&self, id: &str) -> Result<AscProfile, AscError> {
        self.get_one(&format!("v1/profiles/{}", seg(id))).await
    }

    /// The ids of the certificates a profile allows.
    pub async fn profile_certificates(&self, id: &str) -> Result<Vec<String>, AscError> {
        let l: Vec<Linkage> = self
            .get_all(
                &format!("v1/profiles/{}/relationships/certificates", seg(id)),
                &[],
            )
            .await?;
        Ok(l.into_iter().map(|l| l.id).collect())
    }

    /// The ids of the devices a profile holds.
    pub async fn profile_devices(&self, id: &str) -> Result<Vec<String>, AscError> {
        let l: Vec<Linkage> = self
            .get_all(
                &format!("v1/profiles/{}/relationships/devices", seg(id)),
                &[],
            )
            .await?;
        Ok(l.into_iter().map(|l| l.id).collect())
    }

    /// Creates a profile.
    pub async fn create_profile(
        &self,
        name: &str,
        profile_type: &str,
        bundle_id: &str,
        certificates: &[String],
        devices: &[String],
    ) -> Result<AscProfile, AscError> {
        let certs: Vec<Value> = certificates
            .iter()
            .map(|id| json!({ "type": "certificates", "id": id }))
            .collect();
        let mut relationships = json!({
            "bundleId": { "data": { "type": "bundleIds", "id": bundle_id } },
            "certificates": { "data": certs },
        });
        if !devices.is_empty() {
            relationships["devices"] = json!({ "data": devices
                .iter()
                .map(|id| json!({ "type": "devices", "id": id }))
                .collect::<Vec<_>>() });
        }
        self.post(
            "v1/profiles",
            &json!({ "data": { "type": "profiles",
                "attributes": { "name": name, "profileType": profile_type },
                "relationships": relationships } }),
        )
        .await
    }

    /// Deletes a profile.
    pub async fn delete_profile(&self, id: &str) -> Result<(), AscError> {
        self.delete(&format!("v1/profiles/{}", seg(id))).await
    }
}

/// A path segment: Apple's ids are alphanumeric; anything else is percent-encoded.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, AscError> {
    serde_json::from_slice(bytes).map_err(|e| AscError::Decode {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

async fn read_limited(mut resp: reqwest::Response, base: &Url) -> Result<Vec<u8>, AscError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| AscError::Transport {
        url: base.to_string(),
        reason: e.to_string(),
    })? {
        if out.len() + chunk.len() > MAX_RESPONSE {
            return Err(AscError::Decode {
                what: resp.url().path().to_owned(),
                reason: format!("answer over {MAX_RESPONSE} bytes"),
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_a_path_prefix_and_refuse_other_schemes() {
        assert_eq!(
            parse_base("https://api.appstoreconnect.apple.com")
                .unwrap()
                .as_str(),
            "https://api.appstoreconnect.apple.com/"
        );
        assert_eq!(
            parse_base("http://127.0.0.1:9/asc").unwrap().as_str(),
            "http://127.0.0.1:9/asc/"
        );
        for bad in ["ftp://apple.com", "not a url", "file:///etc/passwd", ""] {
            assert!(
                matches!(check_base_url(bad), Err(AscError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(seg("ABC123"), "ABC123");
        assert_eq!(seg("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(seg("../x"), "..%2Fx");
    }
}
