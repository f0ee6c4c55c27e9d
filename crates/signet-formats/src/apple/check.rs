//! The cross-checks Apple applies to a signing identity, a provisioning profile and a
//! push key, run before a build (`signet ios check`) and before signing an IPA.

use time::{Duration, OffsetDateTime};

use crate::{
    Certificate,
    apple::{
        mobileprovision::{Profile, ProfileKind},
        p8,
        pairing::{self, PairCertificate, PairProfile, Pairing, Violation},
    },
};

/// What a build is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// App Store and TestFlight.
    AppStore,
    /// Ad hoc, to registered devices.
    AdHoc,
    /// In-house (Apple Developer Enterprise Program).
    Enterprise,
    /// Development builds.
    Development,
}

impl Distribution {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::AppStore => "app-store",
            Distribution::AdHoc => "ad-hoc",
            Distribution::Enterprise => "enterprise",
            Distribution::Development => "development",
        }
    }

    /// Parses a kebab-case name.
    pub fn parse(name: &str) -> Option<Distribution> {
        [
            Distribution::AppStore,
            Distribution::AdHoc,
            Distribution::Enterprise,
            Distribution::Development,
        ]
        .into_iter()
        .find(|d| d.name() == name)
    }

    /// The distribution a profile kind is for.
    pub fn of_profile(kind: ProfileKind) -> Distribution {
        match kind {
            ProfileKind::AppStore => Distribution::AppStore,
            ProfileKind::AdHoc => Distribution::AdHoc,
            ProfileKind::Enterprise => Distribution::Enterprise,
            ProfileKind::Development => Distribution::Development,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Works, but needs attention soon (expiry) or is unusual (a non-Apple signer).
    Warn,
    /// Apple or the device will refuse it.
    Fail,
}

/// One check's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// A stable name (`bundle-id`, `profile-kind`, …).
    pub check: &'static str,
    /// Pass, warn or fail.
    pub status: Status,
    /// A sentence for the user.
    pub detail: String,
}

/// A push key to check: parsed already, with its ids.
#[derive(Debug, Clone, Copy)]
pub struct PushKey<'a> {
    /// The key id (from `--key-id` or the file name).
    pub key_id: Option<&'a str>,
    /// The team id the key belongs to.
    pub team_id: Option<&'a str>,
}

/// What to check; absent parts are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs<'a> {
    /// The signing certificate (its private key already matched).
    pub identity: Option<&'a Certificate>,
    /// The provisioning profile.
    pub profile: Option<&'a Profile>,
    /// The app's bundle id.
    pub bundle_id: Option<&'a str>,
    /// What the build is for.
    pub distribution: Option<Distribution>,
    /// The push key.
    pub push_key: Option<PushKey<'a>>,
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, check: &'static str, status: Status, detail: impl Into<String>) {
        self.0.push(Finding {
            check,
            status,
            detail: detail.into(),
        });
    }

    /// An expiry finding: failed when the pairing rules say it `expired`, a warning
    /// within 30 days of `not_after`.
    fn expiry(
        &mut self,
        check: &'static str,
        what: &str,
        not_after: OffsetDateTime,
        expired: bool,
        now: OffsetDateTime,
    ) {
        let date = not_after.date();
        if expired {
            self.add(check, Status::Fail, format!("{what} expired on {date}"));
        } else if not_after - now < Duration::days(30) {
            self.add(
                check,
                Status::Warn,
                format!("{what} expires on {date}, within 30 days"),
            );
        } else {
            self.add(check, Status::Pass, format!("{what} valid until {date}"));
        }
    }
}

/// Runs every check the inputs allow, in a fixed order. The certificate/profile rules
/// are [`pairing::violations`]; this adds the profile's own signature and signer, the
/// push key, and warnings for what expires within 30 days.
pub fn run(inputs: &Inputs<'_>, now: OffsetDateTime) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let broken = pairing::violations(
        &Pairing {
            certificate: inputs.identity.map(PairCertificate::of),
            profile: inputs.profile.map(PairProfile::of),
            bundle_id: inputs.bundle_id,
            distribution: inputs.distribution,
        },
        now,
    );
    let find = |matches: fn(&Violation) -> bool| broken.iter().find(|v| matches(v));
    if let Some(cert) = inputs.identity {
        f.add(
            "identity",
            Status::Pass,
            format!("{} (private key matches)", cert.info().subject),
        );
        f.expiry(
            "certificate-expiry",
            "certificate",
            cert.info().not_after,
            find(|v| matches!(v, Violation::CertificateExpired { .. })).is_some(),
            now,
        );
        if let Some(dist) = inputs.distribution {
            let want = dist.name();
            let kind = find(|v| {
                matches!(
                    v,
                    Violation::DevelopmentCertificate { .. }
                        | Violation::DistributionCertificate
                        | Violation::NotSigningCertificate
                )
            });
            match kind {
                Some(Violation::DevelopmentCertificate { .. }) => f.add(
                    "certificate-kind",
                    Status::Fail,
                    format!(
                        "a development certificate cannot sign for {want}: Apple rejects the upload \
                         (\"Application failed codesign verification\")"
                    ),
                ),
                Some(Violation::DistributionCertificate) => f.add(
                    "certificate-kind",
                    Status::Fail,
                    "a distribution certificate cannot sign development builds; use an Apple Development certificate",
                ),
                Some(_) => f.add(
                    "certificate-kind",
                    Status::Fail,
                    format!("{} is not an Apple Development or Distribution certificate", cert.info().subject),
                ),
                None => f.add("certificate-kind", Status::Pass, format!("fits {want}")),
            }
        }
    }
    if let Some(p) = inputs.profile {
        if p.signature_valid {
            f.add(
                "profile-signature",
                Status::Pass,
                "the CMS signature verifies",
            );
        } else {
            f.add(
                "profile-signature",
                Status::Fail,
                "the profile was modified after it was signed",
            );
        }
        if p.apple_signed {
            f.add("profile-signer", Status::Pass, "signed by Apple");
        } else {
            f.add(
                "profile-signer",
                Status::Warn,
                "not signed by an Apple CA: devices and App Store Connect will reject it",
            );
        }
        f.expiry(
            "profile-expiry",
            "profile",
            p.expires,
            find(|v| matches!(v, Violation::ProfileExpired { .. })).is_some(),
            now,
        );
        if let Some(cert) = inputs.identity {
            let sha1 = &cert.fingerprints().sha1;
            if find(|v| matches!(v, Violation::CertificateNotAllowed)).is_some() {
                f.add(
                    "profile-allows-certificate",
                    Status::Fail,
                    format!("the profile does not include certificate SHA-1 {sha1}"),
                );
            } else {
                f.add(
                    "profile-allows-certificate",
                    Status::Pass,
                    format!("SHA-1 {sha1} is in the profile"),
                );
            }
        }
        if let Some(bundle) = inputs.bundle_id {
            if find(|v| matches!(v, Violation::BundleId { .. })).is_some() {
                f.add(
                    "bundle-id",
                    Status::Fail,
                    format!(
                        "{bundle} does not match the profile's {}",
                        p.application_identifier
                    ),
                );
            } else {
                f.add(
                    "bundle-id",
                    Status::Pass,
                    format!("{bundle} matches {}", p.application_identifier),
                );
            }
        }
        if let Some(dist) = inputs.distribution {
            match find(|v| matches!(v, Violation::ProfileKind { .. })) {
                Some(Violation::ProfileKind { profile, .. }) => f.add(
                    "profile-kind",
                    Status::Fail,
                    format!(
                        "a {} profile cannot be used for {}",
                        profile.name(),
                        dist.name()
                    ),
                ),
                _ => f.add(
                    "profile-kind",
                    Status::Pass,
                    format!("{} profile", dist.name()),
                ),
            }
        }
        if let Some(cert) = inputs.identity.map(PairCertificate::of)
            && let Some(team) = cert.team_id
        {
            if find(|v| matches!(v, Violation::Team { .. })).is_some() {
                f.add(
                    "team",
                    Status::Fail,
                    format!("certificate is team {team}, profile is team {}", p.team_id),
                );
            } else {
                f.add(
                    "team",
                    Status::Pass,
                    format!("certificate and profile belong to team {team}"),
                );
            }
        }
    }
    if let Some(key) = inputs.push_key {
        match key.key_id {
            Some(k) if p8::check_id("key id", k).is_ok() => {
                f.add("push-key", Status::Pass, format!("EC P-256 key {k}"));
            }
            _ => f.add(
                "push-key",
                Status::Fail,
                "no valid key id: pass --key-id (10 characters)",
            ),
        }
        if let (Some(team), Some(p)) = (key.team_id, inputs.profile) {
            if team == p.team_id {
                f.add(
                    "push-key-team",
                    Status::Pass,
                    format!("push key and profile belong to team {team}"),
                );
            } else {
                f.add(
                    "push-key-team",
                    Status::Fail,
                    format!("push key is team {team}, profile is team {}", p.team_id),
                );
            }
        }
        if let Some(p) = inputs.profile {
            match p.entitlements.get("aps-environment").and_then(|v| v.as_str()) {
                Some(env) => f.add("aps-environment", Status::Pass, format!("aps-environment is {env}")),
                None => f.add(
                    "aps-environment",
                    Status::Fail,
                    "the profile has no aps-environment entitlement: push notifications will not work",
                ),
            }
        }
    }
    f.0
}
