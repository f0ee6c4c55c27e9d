//! SPEC §1's rules for a certificate and a provisioning profile that sign one build:
//! the certificate's kind fits the distribution (a development certificate cannot sign
//! for the App Store, ad hoc or enterprise; a distribution certificate cannot sign
//! development builds; nothing else signs), the profile's kind is the distribution, the
//! profile allows the certificate and matches the bundle id, neither has expired, and both
//! belong to one team.
//!
//! The one place these rules are written: [`check::run`](super::check::run) (`signet ios
//! check`, IPA signing) and signet-store's build pairs both ask [`violations`], on typed
//! inputs each builds from what it holds (parsed files, or stored metadata).

use time::OffsetDateTime;

use crate::{
    Certificate,
    apple::{
        AppleCertificateKind,
        check::Distribution,
        mobileprovision::{AllowedCertificate, Profile, ProfileKind, bundle_id_matches},
    },
};

/// The certificate of a pairing.
#[derive(Debug, Clone, Copy)]
pub struct PairCertificate<'a> {
    /// Its Apple kind; `None` when nothing marks it as an Apple code-signing certificate.
    pub kind: Option<AppleCertificateKind>,
    /// Its SHA-1 fingerprint, as [`AllowedCertificate::sha1`] writes it.
    pub sha1: &'a str,
    /// Its team (subject OU), when it names one.
    pub team_id: Option<&'a str>,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl<'a> PairCertificate<'a> {
    /// The facts of a parsed certificate.
    pub fn of(cert: &'a Certificate) -> PairCertificate<'a> {
        let info = cert.info();
        let apple = info.apple.as_ref();
        PairCertificate {
            kind: apple.map(|a| a.kind),
            sha1: &info.fingerprints.sha1,
            team_id: apple.and_then(|a| a.team_id.as_deref()),
            not_after: info.not_after,
        }
    }
}

/// The provisioning profile of a pairing.
#[derive(Debug, Clone, Copy)]
pub struct PairProfile<'a> {
    /// Its kind.
    pub kind: ProfileKind,
    /// The certificates it allows (`DeveloperCertificates`).
    pub certificates: &'a [AllowedCertificate],
    /// Its bundle id pattern (`com.acme.app`, `com.acme.*` or `*`).
    pub bundle_id: &'a str,
    /// Its team.
    pub team_id: &'a str,
    /// `ExpirationDate`.
    pub expires: OffsetDateTime,
}

impl<'a> PairProfile<'a> {
    /// The facts of a parsed profile.
    pub fn of(profile: &'a Profile) -> PairProfile<'a> {
        PairProfile {
            kind: profile.kind,
            certificates: &profile.certificates,
            bundle_id: &profile.bundle_id,
            team_id: &profile.team_id,
            expires: profile.expires,
        }
    }
}

/// What to check; a rule whose inputs are absent is skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pairing<'a> {
    /// The signing certificate.
    pub certificate: Option<PairCertificate<'a>>,
    /// The provisioning profile.
    pub profile: Option<PairProfile<'a>>,
    /// The app's bundle id.
    pub bundle_id: Option<&'a str>,
    /// What the build is for.
    pub distribution: Option<Distribution>,
}

/// A broken pairing rule. Exhaustive on purpose: a new rule makes every caller say how
/// it answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A development certificate for an App Store, ad hoc or enterprise build.
    DevelopmentCertificate {
        /// The build's distribution.
        distribution: Distribution,
    },
    /// A distribution certificate for a development build.
    DistributionCertificate,
    /// Not an Apple Development or Distribution certificate (Developer ID, other, none).
    NotSigningCertificate,
    /// The profile is for another distribution.
    ProfileKind {
        /// What the profile is for.
        profile: Distribution,
        /// What the build is for.
        distribution: Distribution,
    },
    /// The certificate is not among the profile's `DeveloperCertificates`.
    CertificateNotAllowed,
    /// The profile's app id does not match the bundle id.
    BundleId {
        /// The profile's pattern.
        pattern: String,
        /// The app's bundle id.
        bundle_id: String,
    },
    /// The profile has expired.
    ProfileExpired {
        /// When.
        expires: OffsetDateTime,
    },
    /// The certificate has expired.
    CertificateExpired {
        /// When.
        not_after: OffsetDateTime,
    },
    /// Certificate and profile belong to different teams.
    Team {
        /// The certificate's team.
        certificate: String,
        /// The profile's team.
        profile: String,
    },
}

/// Every rule `pairing` breaks at `now`, in this order: the certificate's kind, the
/// profile's kind, the certificate in the profile, the bundle id, the profile's expiry,
/// the certificate's expiry, the team.
pub fn violations(pairing: &Pairing<'_>, now: OffsetDateTime) -> Vec<Violation> {
    let mut found = Vec::new();
    let cert = pairing.certificate.as_ref();
    let profile = pairing.profile.as_ref();
    if let (Some(cert), Some(dist)) = (cert, pairing.distribution) {
        match cert.kind {
            Some(AppleCertificateKind::Development) if dist != Distribution::Development => {
                found.push(Violation::DevelopmentCertificate { distribution: dist });
            }
            Some(AppleCertificateKind::Distribution) if dist == Distribution::Development => {
                found.push(Violation::DistributionCertificate);
            }
            Some(AppleCertificateKind::Development | AppleCertificateKind::Distribution) => {}
            Some(AppleCertificateKind::DeveloperId | AppleCertificateKind::Other) | None => {
                found.push(Violation::NotSigningCertificate);
            }
        }
    }
    if let (Some(p), Some(dist)) = (profile, pairing.distribution) {
        let of_profile = Distribution::of_profile(p.kind);
        if of_profile != dist {
            found.push(Violation::ProfileKind {
                profile: of_profile,
                distribution: dist,
            });
        }
    }
    if let (Some(c), Some(p)) = (cert, profile)
        && !p.certificates.iter().any(|a| a.sha1 == c.sha1)
    {
        found.push(Violation::CertificateNotAllowed);
    }
    if let (Some(p), Some(bundle)) = (profile, pairing.bundle_id)
        && !bundle_id_matches(p.bundle_id, bundle)
    {
        found.push(Violation::BundleId {
            pattern: p.bundle_id.to_owned(),
            bundle_id: bundle.to_owned(),
        });
    }
    if let Some(p) = profile
        && p.expires < now
    {
        found.push(Violation::ProfileExpired { expires: p.expires });
    }
    if let Some(c) = cert
        && c.not_after < now
    {
        found.push(Violation::CertificateExpired {
            not_after: c.not_after,
        });
    }
    if let (Some(c), Some(p)) = (cert, profile)
        && let Some(team) = c.team_id
        && team != p.team_id
    {
        found.push(Violation::Team {
            certificate: team.to_owned(),
            profile: p.team_id.to_owned(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use time::{Duration, macros::datetime};

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn allowed(sha1: &str) -> AllowedCertificate {
        AllowedCertificate {
            subject: "CN=x".into(),
            sha1: sha1.into(),
            sha256: String::new(),
            not_after: NOW + Duration::days(300),
        }
    }

    /// A distribution certificate `AA` of team T1 and an App Store profile for
    /// `com.acme.*` of T1 allowing it, for `com.acme.app`: no violation. Each test
    /// changes one thing.
    fn check(
        edit: impl FnOnce(&mut PairCertificate<'_>, &mut PairProfile<'_>, &mut Distribution),
    ) -> Vec<Violation> {
        let certificates = [allowed("AA")];
        let mut cert = PairCertificate {
            kind: Some(AppleCertificateKind::Distribution),
            sha1: "AA",
            team_id: Some("T1"),
            not_after: NOW + Duration::days(300),
        };
        let mut profile = PairProfile {
            kind: ProfileKind::AppStore,
            certificates: &certificates,
            bundle_id: "com.acme.*",
            team_id: "T1",
            expires: NOW + Duration::days(200),
        };
        let mut dist = Distribution::AppStore;
        edit(&mut cert, &mut profile, &mut dist);
        violations(
            &Pairing {
                certificate: Some(cert),
                profile: Some(profile),
                bundle_id: Some("com.acme.app"),
                distribution: Some(dist),
            },
            NOW,
        )
    }

    #[test]
    fn a_fitting_pair_breaks_no_rule() {
        assert_eq!(check(|_, _, _| {}), []);
    }

    #[test]
    fn refuses_a_development_certificate_for_the_store() {
        let v = check(|c, _, _| c.kind = Some(AppleCertificateKind::Development));
        assert_eq!(
            v,
            [Violation::DevelopmentCertificate {
                distribution: Distribution::AppStore
            }]
        );
    }

    #[test]
    fn refuses_a_distribution_certificate_for_development() {
        let v = check(|_, p, d| {
            p.kind = ProfileKind::Development;
            *d = Distribution::Development;
        });
        assert_eq!(v, [Violation::DistributionCertificate]);
    }

    #[test]
    fn refuses_a_certificate_that_is_neither() {
        for kind in [
            Some(AppleCertificateKind::DeveloperId),
            Some(AppleCertificateKind::Other),
            None,
        ] {
            assert_eq!(
                check(|c, _, _| c.kind = kind),
                [Violation::NotSigningCertificate],
                "{kind:?}"
            );
        }
    }

    #[test]
    fn refuses_a_profile_of_another_kind() {
        let v = check(|_, _, d| *d = Distribution::AdHoc);
        assert_eq!(
            v,
            [Violation::ProfileKind {
                profile: Distribution::AppStore,
                distribution: Distribution::AdHoc
            }]
        );
    }

    #[test]
    fn refuses_a_certificate_the_profile_does_not_allow() {
        assert_eq!(
            check(|c, _, _| c.sha1 = "BB"),
            [Violation::CertificateNotAllowed]
        );
    }

    #[test]
    fn refuses_a_bundle_id_the_profile_does_not_match() {
        assert_eq!(
            check(|_, p, _| p.bundle_id = "org.other.*"),
            [Violation::BundleId {
                pattern: "org.other.*".into(),
                bundle_id: "com.acme.app".into()
            }]
        );
    }

    #[test]
    fn refuses_an_expired_profile_or_certificate() {
        let past = NOW - Duration::seconds(1);
        assert_eq!(
            check(|_, p, _| p.expires = past),
            [Violation::ProfileExpired { expires: past }]
        );
        assert_eq!(
            check(|c, _, _| c.not_after = past),
            [Violation::CertificateExpired { not_after: past }]
        );
    }

    #[test]
    fn refuses_two_teams_unless_the_certificate_names_none() {
        assert_eq!(
            check(|c, _, _| c.team_id = Some("T2")),
            [Violation::Team {
                certificate: "T2".into(),
                profile: "T1".into()
            }]
        );
        assert_eq!(check(|c, _, _| c.team_id = None), []);
    }

    #[test]
    fn reports_every_broken_rule_in_order() {
        let past = NOW - Duration::days(1);
        let v = check(|c, p, d| {
            c.kind = Some(AppleCertificateKind::Development);
            c.sha1 = "BB";
            c.not_after = past;
            c.team_id = Some("T2");
            p.bundle_id = "org.other.app";
            p.expires = past;
            *d = Distribution::AdHoc;
        });
        assert_eq!(
            v,
            [
                Violation::DevelopmentCertificate {
                    distribution: Distribution::AdHoc
                },
                Violation::ProfileKind {
                    profile: Distribution::AppStore,
                    distribution: Distribution::AdHoc
                },
                Violation::CertificateNotAllowed,
                Violation::BundleId {
                    pattern: "org.other.app".into(),
                    bundle_id: "com.acme.app".into()
                },
                Violation::ProfileExpired { expires: past },
                Violation::CertificateExpired { not_after: past },
                Violation::Team {
                    certificate: "T2".into(),
                    profile: "T1".into()
                },
            ]
        );
    }

    #[test]
    fn skips_rules_whose_inputs_are_absent() {
        let past = NOW - Duration::days(1);
        let certificates = [allowed("AA")];
        let profile_only = Pairing {
            profile: Some(PairProfile {
                kind: ProfileKind::AdHoc,
                certificates: &certificates,
                bundle_id: "com.acme.app",
                team_id: "T1",
                expires: past,
            }),
            ..Pairing::default()
        };
        assert_eq!(
            violations(&profile_only, NOW),
            [Violation::ProfileExpired { expires: past }]
        );
    }
}
