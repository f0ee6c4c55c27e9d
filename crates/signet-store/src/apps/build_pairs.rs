//! iOS build credential pairs: a certificate and a profile per bundle id and distribution
//! type, checked against SPEC §1's pairing rules.

use serde_json::json;
use signet_formats::apple::{
    AppleCertificateKind,
    check::Distribution,
    pairing::{self, PairCertificate, PairProfile, Pairing, Violation},
};
use time::OffsetDateTime;

use super::{DISTRIBUTIONS, PAIR_COLUMNS, check_identifier, invalid, pair_row};
use crate::{
    Actor, App, BuildPair, BuildPairId, Credential, CredentialId, Kind, Metadata, Named, OrgId,
    Scope, Store, StoreError,
    db::{audit, now},
    metadata::CertificateKind,
};

impl Store {
    /// Sets the certificate + profile pair of a bundle id and distribution type (says
    /// whether it created one; replacing one needs `expected_version`), after
    /// checking SPEC §1's rules: the profile allows the certificate, matches the bundle
    /// id, is unexpired and of the right kind; a development certificate cannot sign for
    /// the store, ad hoc or enterprise; both belong to the app's team.
    pub async fn put_build_pair(
        &self,
        actor: &Actor,
        org: &OrgId,
        app: &App,
        bundle_id: &str,
        distribution: &str,
        certificate_id: &Named<CredentialId>,
        profile_id: &Named<CredentialId>,
        expected_version: Option<i64>,
        scope: &Scope,
    ) -> Result<(BuildPair, bool), StoreError> {
        check_identifier("bundle_id", bundle_id)?;
        if !DISTRIBUTIONS.contains(&distribution) {
            return Err(invalid(
                "distribution",
                format!("one of: {}", DISTRIBUTIONS.join(", ")),
            ));
        }
        let mut tx = self.begin().await?;
        let cert = self
            .expect_kind(
                &mut tx,
                org,
                certificate_id,
                Kind::AppleDistributionCertificate,
                "certificate_id",
            )
            .await?;
        let profile = self
            .expect_kind(
                &mut tx,
                org,
                profile_id,
                Kind::AppleProvisioningProfile,
                "profile_id",
            )
            .await?;
        check_pair(&cert, &profile, bundle_id, distribution, now())?;
        self.check_assignable(&mut tx, scope, &cert, "certificate_id")
            .await?;
        self.check_assignable(&mut tx, scope, &profile, "profile_id")
            .await?;
        if let Some(team) = self.linked_team(&mut tx, &app.id, bundle_id).await?
            && cert.apple_team.as_deref() != Some(team.as_str())
        {
            return Err(invalid(
                "certificate_id",
                format!(
                    "the certificate belongs to team {}, the app's team is {team}",
                    cert.apple_team.as_deref().unwrap_or("?")
                ),
            ));
        }
        let existing = sqlx::query(&format!(
            "SELECT {PAIR_COLUMNS} FROM ios_build_pairs WHERE app_id = $1 AND bundle_id = $2 AND distribution = $3"
        ))
        .bind(&app.id)
        .bind(bundle_id)
        .bind(distribution)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(pair_row)
        .transpose()?;
        let t = now();
        let created = existing.is_none();
        let id = match (existing, expected_version) {
            (Some(p), Some(v)) if p.version == v => {
                let done = sqlx::query(
                    "UPDATE ios_build_pairs SET certificate_id = $1, profile_id = $2, version = version + 1, updated_at = $3 \
                     WHERE id = $4 AND version = $5",
                )
                .bind(&cert.id)
                .bind(&profile.id)
                .bind(t)
                .bind(&p.id)
                .bind(v)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict);
                }
                p.id
            }
            (Some(_), None) => return Err(StoreError::VersionRequired),
            (Some(_), Some(_)) => return Err(StoreError::Conflict),
            (None, Some(_)) => return Err(StoreError::NotFound),
            (None, None) => {
                let id = BuildPairId::mint()?;
                sqlx::query(
                    "INSERT INTO ios_build_pairs (id, org_id, app_id, bundle_id, distribution, certificate_id, profile_id, version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
                )
                .bind(&id)
                .bind(org)
                .bind(&app.id)
                .bind(bundle_id)
                .bind(distribution)
                .bind(&cert.id)
                .bind(&profile.id)
                .bind(t)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        audit(
            &mut tx,
            Some(org),
            actor,
            "build-pair.put",
            &id,
            &json!({ "app": app.slug, "bundle_id": bundle_id, "distribution": distribution,
                       "certificate_id": cert.id, "profile_id": profile.id }),
        )
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {PAIR_COLUMNS} FROM ios_build_pairs WHERE id = $1"
        ))
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        let pair = pair_row(&row)?;
        tx.commit().await?;
        Ok((pair, created))
    }

    /// Removes a build pair.
    pub async fn delete_build_pair(
        &self,
        actor: &Actor,
        org: &OrgId,
        app: &App,
        bundle_id: &str,
        distribution: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "DELETE FROM ios_build_pairs WHERE app_id = $1 AND bundle_id = $2 AND distribution = $3",
        )
        .bind(&app.id)
        .bind(bundle_id)
        .bind(distribution)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "build-pair.delete",
            &app.id,
            &json!({ "bundle_id": bundle_id, "distribution": distribution }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// SPEC §1's pairing rules ([`pairing::violations`]) on the stored metadata of a
/// certificate and a profile; the first rule broken is refused naming the field at fault.
fn check_pair(
    cert: &Credential,
    profile: &Credential,
    bundle_id: &str,
    distribution: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    check_pair_metadata(
        (&cert.metadata, cert.expires_at),
        (&profile.metadata, profile.expires_at),
        bundle_id,
        distribution,
        now_ms,
    )
}

/// The pairing rules [`Store::put_build_pair`] checks, on a certificate's and a profile's
/// metadata with their expiry (ms since the epoch, as the rows hold it): what
/// [`validate`](crate::validate::validate) derives from files before they are uploaded
/// gives the answer the server will, so a client can check a pair before changing
/// anything. The first rule broken is [`StoreError::Invalid`] naming `certificate_id` or
/// `profile_id`.
pub fn check_pair_metadata(
    cert: (&Metadata, Option<i64>),
    profile: (&Metadata, Option<i64>),
    bundle_id: &str,
    distribution: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (Some(cert_meta), Some(profile_meta)) = (cert.0.certificate(), profile.0.profile()) else {
        return Err(StoreError::Malformed("pair of other credential types"));
    };
    let at = |ms: i64| {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map_err(|_| StoreError::Malformed("timestamp out of range"))
    };
    // Expiry from the rows' `expires_at`, as the expiring report reads it.
    let never = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT);
    let expiry = |ms: Option<i64>| ms.map_or(Ok(never), at);
    let pairing = Pairing {
        certificate: Some(PairCertificate {
            kind: Some(match cert_meta.kind {
                CertificateKind::Distribution => AppleCertificateKind::Distribution,
                CertificateKind::Development => AppleCertificateKind::Development,
                CertificateKind::Other => AppleCertificateKind::Other,
            }),
            sha1: &cert_meta.certificate.sha1,
            team_id: Some(&cert_meta.team_id),
            not_after: expiry(cert.1)?,
        }),
        profile: Some(PairProfile {
            kind: profile_meta.kind,
            certificates: &profile_meta.certificates,
            bundle_id: &profile_meta.bundle_id,
            team_id: &profile_meta.team_id,
            expires: expiry(profile.1)?,
        }),
        bundle_id: Some(bundle_id),
        distribution: Some(Distribution::parse(distribution).ok_or_else(|| {
            invalid(
                "distribution",
                format!("one of: {}", DISTRIBUTIONS.join(", ")),
            )
        })?),
    };
    match pairing::violations(&pairing, at(now_ms)?).first() {
        None => Ok(()),
        Some(v) => {
            let (field, reason) = refusal(v);
            Err(invalid(field, reason))
        }
    }
}

/// The field at fault and the reason for a broken pairing rule.
fn refusal(v: &Violation) -> (&'static str, String) {
    match v {
        Violation::DevelopmentCertificate { distribution } => (
            "certificate_id",
            format!(
                "a development certificate cannot sign {} builds (stores reject them: \"Application failed codesign verification\")",
                distribution.name()
            ),
        ),
        Violation::DistributionCertificate => (
            "certificate_id",
            "a distribution certificate cannot sign development builds".into(),
        ),
        Violation::NotSigningCertificate => (
            "certificate_id",
            "not an Apple Development or Distribution certificate: it cannot sign iOS builds"
                .into(),
        ),
        Violation::ProfileKind {
            profile,
            distribution,
        } => (
            "profile_id",
            format!(
                "the profile is for {} builds, not {}",
                profile.name(),
                distribution.name()
            ),
        ),
        Violation::CertificateNotAllowed => (
            "profile_id",
            "the profile does not allow this certificate (not among its DeveloperCertificates)"
                .into(),
        ),
        Violation::BundleId { pattern, bundle_id } => (
            "profile_id",
            format!("the profile is for `{pattern}`, which does not match `{bundle_id}`"),
        ),
        Violation::ProfileExpired { .. } => ("profile_id", "the profile has expired".into()),
        Violation::CertificateExpired { .. } => {
            ("certificate_id", "the certificate has expired".into())
        }
        Violation::Team {
            certificate,
            profile,
        } => (
            "profile_id",
            format!("the profile belongs to team {profile}, the certificate to {certificate}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use signet_formats::apple::mobileprovision::{AllowedCertificate, ProfileKind};

    use super::*;
    use crate::{
        Kind,
        metadata::{CertificateFacts, CertificateMetadata, Metadata, ProfileMetadata},
    };

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_780_000_000_000;

    fn at(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
    }

    fn record(kind: Kind, team: &str, expires_at: i64, metadata: Metadata) -> Credential {
        Credential {
            id: CredentialId::mint().unwrap(),
            kind,
            name: "x".into(),
            apple_team: Some(team.into()),
            expires_at: Some(expires_at),
            version: 1,
            metadata,
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
        }
    }

    fn cert(kind: CertificateKind, sha1: &str, team: &str, expires_at: i64) -> Credential {
        let facts = CertificateFacts {
            subject: "CN=x".into(),
            issuer: "CN=ca".into(),
            serial: "1".into(),
            not_before: at(0),
            not_after: at(expires_at),
            key_algorithm: "RSA".into(),
            key_size: 2048,
            md5: String::new(),
            sha1: sha1.into(),
            sha256: String::new(),
            base64_sha1: String::new(),
        };
        let metadata = Metadata::AppleDistributionCertificate(CertificateMetadata {
            certificate: facts,
            team_id: team.into(),
            kind,
            common_name: "x".into(),
            portal_id: None,
        });
        record(
            Kind::AppleDistributionCertificate,
            team,
            expires_at,
            metadata,
        )
    }

    fn profile(
        kind: ProfileKind,
        allows: &str,
        pattern: &str,
        team: &str,
        expires_at: i64,
    ) -> Credential {
        let metadata = Metadata::AppleProvisioningProfile(ProfileMetadata {
            uuid: "u".into(),
            name: "p".into(),
            team_id: team.into(),
            team_name: "t".into(),
            app_id_name: "a".into(),
            application_identifier: format!("{team}.{pattern}"),
            bundle_id: pattern.into(),
            kind,
            created: at(0),
            expires: at(expires_at),
            devices: vec![],
            provisions_all_devices: false,
            entitlements: serde_json::json!({}),
            certificates: vec![AllowedCertificate {
                subject: "CN=x".into(),
                sha1: allows.into(),
                sha256: String::new(),
                not_after: at(NOW + 300 * DAY),
            }],
            apple_signed: true,
        });
        record(Kind::AppleProvisioningProfile, team, expires_at, metadata)
    }

    /// The refusal of a pair: a distribution certificate and an App Store profile of team
    /// T1 for `com.acme.*`, each changed by the case.
    fn refused(
        cert_kind: CertificateKind,
        profile_kind: ProfileKind,
        allows: &str,
        profile_team: &str,
        cert_expires: i64,
        profile_expires: i64,
        bundle_id: &str,
        distribution: &str,
    ) -> Option<(&'static str, String)> {
        let c = cert(cert_kind, "AA", "T1", cert_expires);
        let p = profile(
            profile_kind,
            allows,
            "com.acme.*",
            profile_team,
            profile_expires,
        );
        match check_pair(&c, &p, bundle_id, distribution, NOW) {
            Ok(()) => None,
            Err(StoreError::Invalid { field, reason }) => Some((field, reason)),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_broken_rule_names_its_field_and_reason() {
        use CertificateKind as C;
        use ProfileKind as P;
        let (later, past) = (NOW + 100 * DAY, NOW - 1);
        let ok = |c, p, dist| refused(c, p, "AA", "T1", later, later, "com.acme.app", dist);
        assert_eq!(ok(C::Distribution, P::AppStore, "app-store"), None);
        assert_eq!(ok(C::Development, P::Development, "development"), None);
        let cases: [(Option<(&str, String)>, &str, &str); 9] = [
            (
                ok(C::Development, P::AppStore, "app-store"),
                "certificate_id",
                "a development certificate cannot sign app-store builds (stores reject them: \"Application failed codesign verification\")",
            ),
            (
                ok(C::Distribution, P::Development, "development"),
                "certificate_id",
                "a distribution certificate cannot sign development builds",
            ),
            (
                ok(C::Other, P::AppStore, "app-store"),
                "certificate_id",
                "not an Apple Development or Distribution certificate: it cannot sign iOS builds",
            ),
            (
                ok(C::Distribution, P::AppStore, "ad-hoc"),
                "profile_id",
                "the profile is for app-store builds, not ad-hoc",
            ),
            (
                refused(
                    C::Distribution,
                    P::AppStore,
                    "BB",
                    "T1",
                    later,
                    later,
                    "com.acme.app",
                    "app-store",
                ),
                "profile_id",
                "the profile does not allow this certificate (not among its DeveloperCertificates)",
            ),
            (
                refused(
                    C::Distribution,
                    P::AppStore,
                    "AA",
                    "T1",
                    later,
                    later,
                    "org.other.app",
                    "app-store",
                ),
                "profile_id",
                "the profile is for `com.acme.*`, which does not match `org.other.app`",
            ),
            (
                refused(
                    C::Distribution,
                    P::AppStore,
                    "AA",
                    "T1",
                    later,
                    past,
                    "com.acme.app",
                    "app-store",
                ),
                "profile_id",
                "the profile has expired",
            ),
            (
                refused(
                    C::Distribution,
                    P::AppStore,
                    "AA",
                    "T1",
                    past,
                    later,
                    "com.acme.app",
                    "app-store",
                ),
                "certificate_id",
                "the certificate has expired",
            ),
            (
                refused(
                    C::Distribution,
                    P::AppStore,
                    "AA",
                    "T2",
                    later,
                    later,
                    "com.acme.app",
                    "app-store",
                ),
                "profile_id",
                "the profile belongs to team T2, the certificate to T1",
            ),
        ];
        for (got, field, reason) in cases {
            assert_eq!(got, Some((field, reason.to_owned())), "{reason}");
        }
    }

    #[test]
    fn the_first_rule_broken_is_the_one_refused() {
        // Kind before expiry before team, as the rule lists them.
        let got = refused(
            CertificateKind::Development,
            ProfileKind::AppStore,
            "AA",
            "T2",
            NOW - 1,
            NOW - 1,
            "com.acme.app",
            "app-store",
        );
        assert_eq!(got.map(|(field, _)| field), Some("certificate_id"));
        let got = refused(
            CertificateKind::Distribution,
            ProfileKind::AppStore,
            "AA",
            "T2",
            NOW - 1,
            NOW + DAY,
            "com.acme.app",
            "app-store",
        );
        assert_eq!(
            got,
            Some(("certificate_id", "the certificate has expired".into()))
        );
    }
}
