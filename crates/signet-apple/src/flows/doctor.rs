//! `ios doctor`: what App Store Connect says of each build pair of an app, and with `fix`
//! a setup for every pair found wanting.

use serde_json::json;
use signet_store::{Kind, Metadata};

use super::{Context, FlowError, cert_sha1, der_of, setup::kind_name};
use crate::report::{Distribution, DoctorReport, Finding, PairHealth};

fn finding(code: &str, detail: String) -> Finding {
    Finding {
        code: code.into(),
        detail,
    }
}

impl Context<'_> {
    /// Checks every build pair of the app (or of one bundle id); with `fix`, sets each
    /// pair with findings up again (a new certificate or profile where needed).
    pub async fn doctor(
        &self,
        bundle_id: Option<&str>,
        fix: bool,
    ) -> Result<DoctorReport, FlowError> {
        let links = self.store.app_credentials(self.org, self.app).await?;
        let pairs: Vec<_> = links
            .build_pairs
            .iter()
            .filter(|p| bundle_id.is_none_or(|b| p.bundle_id == b))
            .cloned()
            .collect();
        let now = time::OffsetDateTime::now_utc();
        let mut out = Vec::new();
        for pair in pairs {
            let mut findings = Vec::new();
            let asc = match self
                .client(
                    &links,
                    Some(&pair.bundle_id),
                    "doctor",
                    json!({ "distribution": pair.distribution, "fix": fix }),
                )
                .await
            {
                Ok(c) => c,
                Err(FlowError::NoAscKey { bundle_id }) => {
                    findings.push(finding(
                        "no-asc-key",
                        format!(
                            "no App Store Connect API key in the asc-api-key slot of {bundle_id}"
                        ),
                    ));
                    out.push(PairHealth {
                        bundle_id: pair.bundle_id.clone(),
                        distribution: pair.distribution.clone(),
                        findings,
                        fixed: None,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let cert = self
                .store
                .credential(self.org, &pair.certificate_id, true)
                .await?;
            let profile = self
                .store
                .credential(self.org, &pair.profile_id, true)
                .await?;
            let distribution = Distribution::parse(&pair.distribution);
            let types = distribution.map_or(&["IOS_DISTRIBUTION", "DISTRIBUTION"][..], |d| {
                d.certificate_types()
            });
            let apple_certs = asc.certificates(types).await?;
            let sha1 = cert_sha1(&cert).unwrap_or_default();
            let listed = apple_certs.iter().any(|a| {
                a.attributes
                    .certificate_content
                    .as_deref()
                    .and_then(der_of)
                    .is_some_and(|der| signet_formats::fingerprints(&der).sha1 == sha1)
            });
            if !listed {
                findings.push(finding(
                    "certificate-not-listed",
                    format!(
                        "Apple no longer lists the certificate {} (revoked or expired)",
                        cert.name
                    ),
                ));
            }
            if let Metadata::AppleProvisioningProfile(m) = &profile.metadata {
                if m.expires <= now {
                    findings.push(finding(
                        "profile-expired",
                        format!("the profile {} has expired", profile.name),
                    ));
                }
                let apple = match asc.find_bundle_id(&pair.bundle_id).await? {
                    Some(b) => asc.profiles_of(&b.id).await?,
                    None => Vec::new(),
                };
                match apple.iter().find(|a| {
                    a.attributes.uuid.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&m.uuid))
                }) {
                    None => findings.push(finding(
                        "profile-not-listed",
                        format!("Apple no longer lists the profile {} ({})", profile.name, m.uuid),
                    )),
                    Some(a) if !a.attributes.is_active() => findings.push(finding(
                        "profile-invalid",
                        format!(
                            "Apple marks the profile {} {} (a certificate it allows was revoked, or a capability changed)",
                            profile.name,
                            a.attributes.profile_state.as_deref().unwrap_or("INVALID")
                        ),
                    )),
                    Some(_) => {}
                }
                if distribution.is_some_and(Distribution::needs_devices) {
                    let missing: Vec<String> = asc
                        .devices()
                        .await?
                        .into_iter()
                        .filter(|d| d.attributes.status.as_deref() != Some("DISABLED"))
                        .filter_map(|d| d.attributes.udid)
                        .filter(|u| !m.devices.iter().any(|d| d.eq_ignore_ascii_case(u)))
                        .collect();
                    if !missing.is_empty() {
                        findings.push(finding(
                            "profile-missing-devices",
                            format!(
                                "the profile {} lacks registered devices: {}",
                                profile.name,
                                missing.join(", ")
                            ),
                        ));
                    }
                }
                let _ = kind_name(&m.kind);
            }
            if profile.deleted_at.is_some() || cert.deleted_at.is_some() {
                findings.push(finding(
                    "deleted",
                    "the pair points at a deleted certificate or profile".into(),
                ));
            }
            let fixed = match (fix && !findings.is_empty(), distribution) {
                (true, Some(d)) => Some(self.setup(&pair.bundle_id, d, None).await?),
                _ => None,
            };
            out.push(PairHealth {
                bundle_id: pair.bundle_id.clone(),
                distribution: pair.distribution.clone(),
                findings,
                fixed,
            });
        }
        let _ = Kind::AppleProvisioningProfile;
        Ok(DoctorReport { pairs: out })
    }
}
