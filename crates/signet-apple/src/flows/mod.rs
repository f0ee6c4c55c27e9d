//! The flows of `signet serve` that act at Apple for one app: [`setup`](Context::setup),
//! the [`doctor`](Context::doctor), devices and certificates. Each reads the App Store
//! Connect key from the app's `asc-api-key` slot (an audited read: no audit record, no
//! key) and keeps it on the server; private keys of certificates are made here and only
//! their CSRs go to Apple.

mod doctor;
mod setup;
mod team;

use serde_json::{Value, json};
use signet_store::{
    Actor, App, AppCredentials, Credential, CredentialId, Kind, Metadata, OrgId, PageRequest,
    Scope, Store, StoreError,
};
use zeroize::Zeroizing;

use crate::{AscClient, AscError, AscKey, Policy, report::CertificateEntry};

/// Why a flow failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// App Store Connect refused or failed.
    #[error(transparent)]
    Asc(#[from] AscError),
    /// No App Store Connect key is assigned for the bundle id.
    #[error("no App Store Connect API key in the `asc-api-key` slot of {bundle_id}")]
    NoAscKey {
        /// The bundle id (or `(any)`).
        bundle_id: String,
    },
    /// The app's bundle ids have different keys: name one.
    #[error("the app's bundle ids use different App Store Connect keys: name the bundle id")]
    WhichAscKey,
    /// The team is at its distribution certificate limit: Apple's certificates, which
    /// signet holds, and what uses them.
    #[error("{detail}")]
    CertificateLimit {
        /// Apple's detail.
        detail: String,
        /// Apple's certificates.
        certificates: Vec<CertificateEntry>,
    },
    /// An ad hoc or development profile needs registered devices.
    #[error(
        "no devices are registered with the team: an {0} profile lists devices; register one with `signet ios device add`"
    )]
    NoDevices(&'static str),
    /// A request value is not acceptable.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Something Apple sent cannot be used (a certificate or profile that does not parse).
    #[error("App Store Connect sent {what} that signet cannot use: {reason}")]
    Unusable {
        /// What.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// No such certificate at Apple.
    #[error("App Store Connect lists no certificate {0}")]
    NoSuchCertificate(String),
}

/// Who acts, for which app, against which App Store Connect.
pub struct Context<'a> {
    /// The store.
    pub store: &'a Store,
    /// The caller.
    pub actor: &'a Actor,
    /// The organization.
    pub org: &'a OrgId,
    /// The app.
    pub app: &'a App,
    /// The caller's scope (assignments are checked against it).
    pub scope: &'a Scope,
    /// Whether the caller may delete credentials (an admin of the whole organization): at
    /// signet's own certificate limit, setup then soft-deletes a stored certificate Apple no
    /// longer lists; anyone else gets the limit, naming it.
    pub may_delete: bool,
    /// App Store Connect's base URL.
    pub asc_url: &'a str,
    /// Retries and bounds.
    pub policy: Policy,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("org", &self.org)
            .field("app", &self.app.id)
            .field("asc_url", &self.asc_url)
            .finish_non_exhaustive()
    }
}

impl Context<'_> {
    /// The app's App Store Connect client: the key of the bundle id's `asc-api-key` slot,
    /// or, without a bundle id, the one key the app's slots hold. The read is audited as
    /// `asc.<purpose>`.
    pub(crate) async fn client(
        &self,
        links: &AppCredentials,
        bundle_id: Option<&str>,
        purpose: &str,
        what: Value,
    ) -> Result<AscClient, FlowError> {
        let mut keys: Vec<&CredentialId> = links
            .links
            .iter()
            .filter(|l| l.platform == "ios" && l.slot == "asc-api-key")
            .filter(|l| bundle_id.is_none_or(|b| l.identifier == b))
            .map(|l| &l.credential_id)
            .collect();
        keys.sort_by_key(ToString::to_string);
        keys.dedup();
        let id = match keys.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(FlowError::NoAscKey {
                    bundle_id: bundle_id.unwrap_or("(any bundle id)").to_owned(),
                });
            }
            _ => return Err(FlowError::WhichAscKey),
        };
        let (_, secret) = self
            .store
            .read_secret(
                self.actor,
                self.org,
                &id,
                &format!("asc.{purpose}"),
                &json!({ "app": self.app.id, "bundle_id": bundle_id, "what": what }),
            )
            .await?;
        let v: Value = serde_json::from_slice(&secret)
            .map_err(|_| StoreError::Malformed("secret encoding"))?;
        let p8 = Zeroizing::new(v["p8"].as_str().unwrap_or_default().to_owned());
        let key = AscKey::new(
            p8.as_bytes(),
            v["key_id"].as_str().unwrap_or_default(),
            v["issuer_id"].as_str().unwrap_or_default(),
        )?;
        Ok(AscClient::new(self.asc_url, key, self.policy.clone())?)
    }

    /// Every live credential of a type in the organization.
    pub(crate) async fn stored(&self, kind: Kind) -> Result<Vec<Credential>, FlowError> {
        let mut out = Vec::new();
        let mut page = PageRequest {
            cursor: None,
            limit: Some(500),
        };
        for _ in 0..10_000 {
            let p = self
                .store
                .credentials(self.org, Some(kind), false, &page)
                .await?;
            out.extend(p.items);
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Apple's certificates beside the stored ones holding their keys and what uses them.
    pub(crate) async fn certificate_entries(
        &self,
        asc: &AscClient,
        types: &[&str],
    ) -> Result<Vec<CertificateEntry>, FlowError> {
        let apple = asc.certificates(types).await?;
        let stored = self.stored(Kind::AppleDistributionCertificate).await?;
        let uses = self.store.uses(self.org).await?;
        Ok(apple
            .into_iter()
            .map(|c| {
                let sha1 = c
                    .attributes
                    .certificate_content
                    .as_deref()
                    .and_then(der_of)
                    .map(|der| signet_formats::fingerprints(&der).sha1);
                let held = sha1.as_ref().and_then(|s| {
                    stored
                        .iter()
                        .find(|st| cert_sha1(st).as_deref() == Some(s.as_str()))
                });
                CertificateEntry {
                    certificate_type: c.attributes.certificate_type.clone().unwrap_or_default(),
                    name: c
                        .attributes
                        .display_name
                        .clone()
                        .or(c.attributes.name.clone())
                        .unwrap_or_default(),
                    serial: c.attributes.serial_number.clone().unwrap_or_default(),
                    expires: c.attributes.expiration_date.clone().unwrap_or_default(),
                    sha1,
                    held_by: held.map(|h| h.id.clone()),
                    used_by: held
                        .and_then(|h| uses.get(&h.id.to_string()).cloned())
                        .unwrap_or_default(),
                    id: c.id,
                }
            })
            .collect())
    }
}

/// The SHA-1 (colon hex) of a stored certificate.
pub(crate) fn cert_sha1(c: &Credential) -> Option<String> {
    match &c.metadata {
        Metadata::AppleDistributionCertificate(m) => Some(m.certificate.sha1.clone()),
        _ => None,
    }
}

/// Base64 DER as Apple sends certificates and profiles.
pub(crate) fn der_of(b64: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let cleaned: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .ok()
}

/// The sentence said before a certificate is revoked.
pub const REVOKE_IMPACT: &str = "Revoking it at Apple makes every provisioning profile that allows it invalid, so the next builds signed with them fail until new profiles are made (`signet ios setup` or `signet ios doctor --fix`); apps already in the App Store are not affected.";
