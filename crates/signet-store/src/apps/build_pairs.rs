//! iOS build credential pairs: a certificate and a profile per bundle id and distribution
//! type, checked against SPEC §1's pairing rules.

use serde_json::json;
use signet_formats::apple::check::Distribution;

use super::{DISTRIBUTIONS, PAIR_COLUMNS, check_identifier, invalid, pair_row};
use crate::{
    Actor, App, BuildPair, Credential, Kind, Scope, Store, StoreError,
    db::{audit, new_id, now},
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
        org: &str,
        app: &App,
        bundle_id: &str,
        distribution: &str,
        certificate_id: &str,
        profile_id: &str,
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
        check_pair(&cert, &profile, bundle_id, distribution)?;
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
                .bind(certificate_id)
                .bind(profile_id)
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
                let id = new_id("pair")?;
                sqlx::query(
                    "INSERT INTO ios_build_pairs (id, org_id, app_id, bundle_id, distribution, certificate_id, profile_id, version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
                )
                .bind(&id)
                .bind(org)
                .bind(&app.id)
                .bind(bundle_id)
                .bind(distribution)
                .bind(certificate_id)
                .bind(profile_id)
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
                       "certificate_id": certificate_id, "profile_id": profile_id }),
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
        org: &str,
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

/// SPEC §1's pairing rules, on derived metadata.
fn check_pair(
    cert: &Credential,
    profile: &Credential,
    bundle_id: &str,
    distribution: &str,
) -> Result<(), StoreError> {
    let (Some(cert_meta), Some(profile_meta)) =
        (cert.metadata.certificate(), profile.metadata.profile())
    else {
        return Err(StoreError::Malformed("pair of other credential types"));
    };
    let cert_kind = cert_meta.kind;
    if cert_kind == CertificateKind::Development && distribution != "development" {
        return Err(invalid(
            "certificate_id",
            format!(
                "a development certificate cannot sign {distribution} builds (stores reject them: \"Application failed codesign verification\")"
            ),
        ));
    }
    if cert_kind == CertificateKind::Distribution && distribution == "development" {
        return Err(invalid(
            "certificate_id",
            "a distribution certificate cannot sign development builds",
        ));
    }
    let profile_kind = Distribution::of_profile(profile_meta.kind).name();
    if profile_kind != distribution {
        return Err(invalid(
            "profile_id",
            format!("the profile is for {profile_kind} builds, not {distribution}"),
        ));
    }
    if !profile_meta.allows_sha1(&cert_meta.certificate.sha1) {
        return Err(invalid(
            "profile_id",
            "the profile does not allow this certificate (not among its DeveloperCertificates)",
        ));
    }
    let pattern = profile_meta.bundle_id.as_str();
    if !signet_formats::apple::mobileprovision::bundle_id_matches(pattern, bundle_id) {
        return Err(invalid(
            "profile_id",
            format!("the profile is for `{pattern}`, which does not match `{bundle_id}`"),
        ));
    }
    if profile.expires_at.is_some_and(|e| e < now()) {
        return Err(invalid("profile_id", "the profile has expired"));
    }
    if cert.expires_at.is_some_and(|e| e < now()) {
        return Err(invalid("certificate_id", "the certificate has expired"));
    }
    if cert.apple_team != profile.apple_team {
        return Err(invalid(
            "profile_id",
            format!(
                "the profile belongs to team {}, the certificate to {}",
                profile.apple_team.as_deref().unwrap_or("?"),
                cert.apple_team.as_deref().unwrap_or("?")
            ),
        ));
    }
    Ok(())
}
