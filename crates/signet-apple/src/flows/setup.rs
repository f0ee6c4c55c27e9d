//! `ios setup`: leave an app's bundle id ready to build for a distribution type.

use base64::Engine as _;
use serde_json::{Map, Value};
use signet_store::{
    BuildPair, CertificateRequestId, Credential, Kind, Metadata, Named, StoreError,
    validate::{ProfileUpload, Upload, validate},
};

use super::{Context, FlowError, cert_sha1, der_of};
use crate::{
    AscClient, AscError,
    report::{Distribution, SetupReport, Step},
    types::{AscBundleId, AscCertificate},
};

/// Entitlement keys and the capability (`CapabilityType`) Apple must enable for them.
const CAPABILITIES: &[(&str, &str)] = &[
    ("aps-environment", "PUSH_NOTIFICATIONS"),
    (
        "com.apple.developer.associated-domains",
        "ASSOCIATED_DOMAINS",
    ),
    ("com.apple.security.application-groups", "APP_GROUPS"),
    ("com.apple.developer.applesignin", "APPLE_ID_AUTH"),
    ("com.apple.developer.icloud-container-identifiers", "ICLOUD"),
    ("com.apple.developer.ubiquity-kvstore-identifier", "ICLOUD"),
    ("com.apple.developer.healthkit", "HEALTHKIT"),
    ("com.apple.developer.homekit", "HOMEKIT"),
    ("com.apple.developer.in-app-payments", "APPLE_PAY"),
    ("com.apple.developer.game-center", "GAME_CENTER"),
    (
        "com.apple.developer.networking.wifi-info",
        "ACCESS_WIFI_INFORMATION",
    ),
    (
        "com.apple.developer.networking.networkextension",
        "NETWORK_EXTENSIONS",
    ),
    ("com.apple.developer.networking.vpn.api", "PERSONAL_VPN"),
    (
        "com.apple.developer.nfc.readersession.formats",
        "NFC_TAG_READING",
    ),
    ("com.apple.developer.siri", "SIRIKIT"),
    ("com.apple.developer.pass-type-identifiers", "WALLET"),
    (
        "com.apple.developer.default-data-protection",
        "DATA_PROTECTION",
    ),
    ("com.apple.developer.ClassKit-environment", "CLASSKIT"),
    (
        "com.apple.developer.authentication-services.autofill-credential-provider",
        "AUTOFILL_CREDENTIAL_PROVIDER",
    ),
    ("com.apple.developer.networking.multipath", "MULTIPATH"),
    (
        "com.apple.developer.networking.HotspotConfiguration",
        "HOT_SPOT",
    ),
    (
        "com.apple.external-accessory.wireless-configuration",
        "WIRELESS_ACCESSORY_CONFIGURATION",
    ),
    ("inter-app-audio", "INTER_APP_AUDIO"),
];

/// The capabilities an entitlements dictionary needs, without repeats, in table order.
pub fn capabilities_for(entitlements: &Map<String, Value>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (key, cap) in CAPABILITIES {
        if entitlements.contains_key(*key) && !out.contains(cap) {
            out.push(cap);
        }
    }
    out
}

fn step(what: &str, action: &str, detail: String) -> Step {
    Step {
        what: what.into(),
        action: action.into(),
        detail,
    }
}

fn now_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

impl Context<'_> {
    /// Registers the bundle id if missing, enables the capabilities `entitlements` needs,
    /// reuses or creates the certificate and profile, and sets the build pair.
    pub async fn setup(
        &self,
        bundle_id: &str,
        distribution: Distribution,
        entitlements: Option<&Map<String, Value>>,
    ) -> Result<SetupReport, FlowError> {
        signet_store::check_identifier("bundle_id", bundle_id)?;
        if bundle_id.contains('*') {
            return Err(FlowError::Invalid {
                field: "bundle_id",
                reason: "a wildcard cannot be registered as an app's bundle id".into(),
            });
        }
        let links = self.store.app_credentials(self.org, self.app).await?;
        let asc = self
            .client(
                &links,
                Some(bundle_id),
                "setup",
                serde_json::json!({ "distribution": distribution.as_str() }),
            )
            .await?;
        let mut steps = Vec::new();

        let bundle = self.bundle_id(&asc, bundle_id, &mut steps).await?;
        if let Some(ent) = entitlements {
            let enabled: Vec<String> = asc
                .capabilities(&bundle.id)
                .await?
                .into_iter()
                .filter_map(|c| c.attributes.capability_type)
                .collect();
            for cap in capabilities_for(ent) {
                if enabled.iter().any(|e| e == cap) {
                    continue;
                }
                asc.enable_capability(&bundle.id, cap).await?;
                steps.push(step(
                    "capability",
                    "enabled",
                    format!("{cap} on {bundle_id}"),
                ));
            }
        }

        let current = links
            .build_pairs
            .iter()
            .find(|p| p.bundle_id == bundle_id && p.distribution == distribution.as_str())
            .cloned();
        let (cert, apple_cert) = self
            .certificate(&asc, distribution, current.as_ref(), &mut steps)
            .await?;
        let profile = self
            .profile(
                &asc,
                bundle_id,
                &bundle,
                distribution,
                (&cert, &apple_cert),
                current.as_ref(),
                &mut steps,
            )
            .await?;

        match &current {
            Some(p) if p.certificate_id == cert.id && p.profile_id == profile.id => {
                steps.push(step(
                    "build-pair",
                    "unchanged",
                    format!("{bundle_id} {}", distribution.as_str()),
                ));
            }
            _ => {
                self.store
                    .put_build_pair(
                        self.actor,
                        self.org,
                        self.app,
                        bundle_id,
                        distribution.as_str(),
                        &Named::Id(cert.id.clone()),
                        &Named::Id(profile.id.clone()),
                        current.as_ref().map(|p| p.version),
                        self.scope,
                    )
                    .await?;
                steps.push(step(
                    "build-pair",
                    "set",
                    format!(
                        "{bundle_id} {}: {} + {}",
                        distribution.as_str(),
                        cert.name,
                        profile.name
                    ),
                ));
            }
        }

        let push_key = links
            .links
            .iter()
            .any(|l| l.platform == "ios" && l.identifier == bundle_id && l.slot == "push-key");
        let mut notes = Vec::new();
        if !push_key {
            notes.push(format!(
                "{bundle_id} has no push key, and the App Store Connect API cannot create one: make it at \
                 developer.apple.com → Certificates, IDs & Profiles → Keys (Apple Push Notifications service), \
                 download AuthKey_<KEY ID>.p8, then run `signet credentials upload push-key AuthKey_<KEY ID>.p8 \
                 --team-id <TEAM ID>` and `signet credentials ios slot set --app {} --bundle-id {bundle_id} \
                 push-key --credential <its id>`.",
                self.app.slug
            ));
        }
        Ok(SetupReport {
            bundle_id: bundle_id.to_owned(),
            distribution,
            apple_bundle_id: bundle.id,
            certificate_id: cert.id,
            profile_id: profile.id,
            steps,
            push_key,
            notes,
        })
    }

    async fn bundle_id(
        &self,
        asc: &AscClient,
        bundle_id: &str,
        steps: &mut Vec<Step>,
    ) -> Result<AscBundleId, FlowError> {
        if let Some(b) = asc.find_bundle_id(bundle_id).await? {
            steps.push(step(
                "bundle-id",
                "reused",
                format!("{bundle_id} ({})", b.id),
            ));
            return Ok(b);
        }
        // Apple's names take letters, digits and spaces.
        let name: String = format!("signet {bundle_id}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
            .collect();
        let b = asc.create_bundle_id(bundle_id, &name).await?;
        steps.push(step(
            "bundle-id",
            "created",
            format!("{bundle_id} ({})", b.id),
        ));
        Ok(b)
    }

    /// A stored certificate Apple lists as valid (the pair's first), else a new one.
    async fn certificate(
        &self,
        asc: &AscClient,
        distribution: Distribution,
        current: Option<&BuildPair>,
        steps: &mut Vec<Step>,
    ) -> Result<(Credential, AscCertificate), FlowError> {
        let types = distribution.certificate_types();
        let apple = asc.certificates(types).await?;
        let now = now_utc();
        let mut stored = self.stored(Kind::AppleDistributionCertificate).await?;
        // The pair's own certificate first.
        stored.sort_by_key(|c| current.is_none_or(|p| p.certificate_id != c.id));
        for c in stored {
            let Metadata::AppleDistributionCertificate(m) = &c.metadata else {
                continue;
            };
            if m.certificate.not_after <= now {
                continue;
            }
            let found = apple.iter().find(|a| {
                a.attributes
                    .certificate_content
                    .as_deref()
                    .and_then(der_of)
                    .is_some_and(|der| {
                        cert_sha1(&c).as_deref()
                            == Some(signet_formats::fingerprints(&der).sha1.as_str())
                    })
            });
            if let Some(a) = found {
                steps.push(step(
                    "certificate",
                    "reused",
                    format!("{} (Apple {})", c.name, a.id),
                ));
                return Ok((c, a.clone()));
            }
        }
        // A new one: the store makes the key and CSR (the key sealed there, as every
        // secret); only the CSR goes to Apple.
        let request = self
            .store
            .create_certificate_request(self.actor, self.org, "signet", None)
            .await?;
        let csr = request.csr_pem.clone();
        let created = match asc.create_certificate(&csr, types[0]).await {
            Ok(c) => c,
            Err(AscError::Apple {
                status: 409,
                errors,
            }) if errors
                .iter()
                .any(|e| e.detail.contains("already have a current")) =>
            {
                let detail = errors
                    .iter()
                    .map(|e| e.detail.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                let certificates = self.certificate_entries(asc, types).await?;
                return Err(FlowError::CertificateLimit {
                    detail,
                    certificates,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let stored = match self
            .store_certificate(asc, &request.id, &created, current, steps)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                // Nothing half-done: a certificate whose key is lost would only take a slot.
                if let Err(revoke) = asc.revoke_certificate(&created.id).await {
                    tracing::warn!(certificate = %created.id, error = %revoke, "could not revoke an unusable certificate");
                }
                return Err(e);
            }
        };
        steps.push(step(
            "certificate",
            "created",
            format!("{} (Apple {})", stored.name, created.id),
        ));
        Ok((stored, created))
    }

    /// Joins Apple's certificate to the request's key (a stored .p12). At signet's own
    /// per-team limit, the stored certificates Apple no longer lists (revoked, expired:
    /// they can sign nothing) are deleted first (restorable within the restore window,
    /// audited), the pair's own first.
    async fn store_certificate(
        &self,
        asc: &AscClient,
        request: &CertificateRequestId,
        created: &AscCertificate,
        current: Option<&BuildPair>,
        steps: &mut Vec<Step>,
    ) -> Result<Credential, FlowError> {
        let der = created
            .attributes
            .certificate_content
            .as_deref()
            .and_then(der_of)
            .ok_or_else(|| FlowError::Unusable {
                what: "a certificate",
                reason: "no certificateContent".into(),
            })?;
        let limit = match self
            .store
            .complete_certificate_request(self.actor, self.org, request, &der, None)
            .await
        {
            Ok(c) => return Ok(c),
            Err(limit @ StoreError::Limit { .. }) => limit,
            Err(e) => return Err(e.into()),
        };
        let team = signet_formats::Certificate::from_der(&der)
            .ok()
            .and_then(|c| c.info().apple.as_ref().and_then(|a| a.team_id.clone()));
        let listed: Vec<String> = asc
            .certificates(&[])
            .await?
            .iter()
            .filter_map(|a| a.attributes.certificate_content.as_deref().and_then(der_of))
            .map(|der| signet_formats::fingerprints(&der).sha1)
            .collect();
        let mut stale: Vec<Credential> = self
            .stored(Kind::AppleDistributionCertificate)
            .await?
            .into_iter()
            .filter(|c| team.is_some() && c.apple_team == team)
            .filter(|c| cert_sha1(c).is_some_and(|s| !listed.contains(&s)))
            .collect();
        // Deleting is an admin's to do (as `DELETE …/credentials/{id}` is): a developer or
        // robot gets the limit, which names what occupies it.
        if stale.is_empty() || !self.may_delete {
            return Err(limit.into());
        }
        stale.sort_by_key(|c| current.is_none_or(|p| p.certificate_id != c.id));
        let old = &stale[0];
        self.store
            .delete_credential(self.actor, self.org, &old.id, Some(old.version))
            .await?;
        steps.push(step(
            "certificate",
            "deleted",
            format!(
                "{} ({}): Apple no longer lists it; restorable with `signet credentials restore`",
                old.name, old.id
            ),
        ));
        Ok(self
            .store
            .complete_certificate_request(self.actor, self.org, request, &der, None)
            .await?)
    }

    /// A stored profile Apple lists as active, allowing the certificate and holding every
    /// registered device (ad hoc, development), else a new one.
    #[allow(clippy::too_many_arguments)]
    async fn profile(
        &self,
        asc: &AscClient,
        bundle_id: &str,
        bundle: &AscBundleId,
        distribution: Distribution,
        (cert, apple_cert): (&Credential, &AscCertificate),
        current: Option<&BuildPair>,
        steps: &mut Vec<Step>,
    ) -> Result<Credential, FlowError> {
        let devices: Vec<(String, String)> = if distribution.needs_devices() {
            asc.devices()
                .await?
                .into_iter()
                .filter(|d| d.attributes.status.as_deref() != Some("DISABLED"))
                .filter(|d| {
                    matches!(
                        d.attributes.platform.as_deref(),
                        Some("IOS" | "UNIVERSAL") | None
                    )
                })
                .filter_map(|d| d.attributes.udid.map(|u| (d.id, u)))
                .collect()
        } else {
            Vec::new()
        };
        if distribution.needs_devices() && devices.is_empty() {
            return Err(FlowError::NoDevices(distribution.as_str()));
        }
        let apple: Vec<_> = asc
            .profiles_of(&bundle.id)
            .await?
            .into_iter()
            .filter(|p| p.attributes.profile_type.as_deref() == Some(distribution.profile_type()))
            .collect();
        let sha1 = cert_sha1(cert).unwrap_or_default();
        let now = now_utc();
        let mut stored = self.stored(Kind::AppleProvisioningProfile).await?;
        stored.sort_by_key(|c| current.is_none_or(|p| p.profile_id != c.id));
        for p in stored {
            let Metadata::AppleProvisioningProfile(m) = &p.metadata else {
                continue;
            };
            let usable = m.bundle_id == bundle_id
                && kind_name(&m.kind).as_deref() == Some(distribution.as_str())
                && m.allows_sha1(&sha1)
                && m.expires > now
                && devices
                    .iter()
                    .all(|(_, udid)| m.devices.iter().any(|d| d.eq_ignore_ascii_case(udid)));
            if !usable {
                continue;
            }
            let listed = apple.iter().find(|a| {
                a.attributes
                    .uuid
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&m.uuid))
            });
            if let Some(a) = listed
                && a.attributes.is_active()
            {
                steps.push(step(
                    "profile",
                    "reused",
                    format!("{} (Apple {})", p.name, a.id),
                ));
                return Ok(p);
            }
        }
        // Apple refuses a second profile of the same name: the time and a random tag.
        let mut tag = [0u8; 3];
        aws_lc_rs::rand::fill(&mut tag).map_err(|_| FlowError::Unusable {
            what: "a profile name",
            reason: "no randomness".into(),
        })?;
        let name = format!(
            "signet {bundle_id} {} {} {}",
            distribution.as_str(),
            now.unix_timestamp(),
            signet_formats::hex_lower(&tag)
        );
        let device_ids: Vec<String> = devices.iter().map(|(id, _)| id.clone()).collect();
        let created = asc
            .create_profile(
                &name,
                distribution.profile_type(),
                &bundle.id,
                std::slice::from_ref(&apple_cert.id),
                &device_ids,
            )
            .await?;
        let content = created
            .attributes
            .profile_content
            .as_deref()
            .and_then(der_of)
            .ok_or_else(|| FlowError::Unusable {
                what: "a profile",
                reason: "no profileContent".into(),
            })?;
        let upload = Upload::AppleProvisioningProfile(ProfileUpload {
            name: None,
            profile: base64::engine::general_purpose::STANDARD.encode(&content),
            bundle_id: Some(bundle_id.to_owned()),
            team_id: None,
        });
        let stored = match validate(&upload, now) {
            Ok(v) => {
                self.store
                    .create_credential(self.actor, self.org, v)
                    .await?
            }
            Err(e) => {
                if let Err(del) = asc.delete_profile(&created.id).await {
                    tracing::warn!(profile = %created.id, error = %del, "could not delete an unusable profile");
                }
                return Err(e.into());
            }
        };
        steps.push(step(
            "profile",
            "created",
            format!(
                "{} (Apple {}, {} devices)",
                stored.name,
                created.id,
                device_ids.len()
            ),
        ));
        Ok(stored)
    }
}

/// A profile kind's name (`app-store`, …), as SPEC and the distribution types name it.
pub(crate) fn kind_name<T: serde::Serialize>(kind: &T) -> Option<String> {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entitlements_name_their_capabilities_once() {
        let e: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "aps-environment": "production",
            "com.apple.developer.icloud-container-identifiers": [],
            "com.apple.developer.ubiquity-kvstore-identifier": "x",
            "get-task-allow": false,
            "keychain-access-groups": [],
        }))
        .unwrap();
        assert_eq!(capabilities_for(&e), vec!["PUSH_NOTIFICATIONS", "ICLOUD"]);
        assert!(capabilities_for(&Map::new()).is_empty());
    }

    #[test]
    fn distributions_map_to_apples_types() {
        for (name, profile, cert, devices) in [
            ("app-store", "IOS_APP_STORE", "IOS_DISTRIBUTION", false),
            ("ad-hoc", "IOS_APP_ADHOC", "IOS_DISTRIBUTION", true),
            ("enterprise", "IOS_APP_INHOUSE", "IOS_DISTRIBUTION", false),
            (
                "development",
                "IOS_APP_DEVELOPMENT",
                "IOS_DEVELOPMENT",
                true,
            ),
        ] {
            let d = Distribution::parse(name).unwrap();
            assert_eq!(
                (
                    d.as_str(),
                    d.profile_type(),
                    d.certificate_types()[0],
                    d.needs_devices()
                ),
                (name, profile, cert, devices)
            );
        }
        assert!(Distribution::parse("store").is_none());
    }
}
