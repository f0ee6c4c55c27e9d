//! Previous versions of replaced credentials: kept for the restore window, listed,
//! exported by an admin, restored under If-Match.

use serde_json::json;
use sqlx::{AnyConnection, Row, any::AnyRow};
use zeroize::Zeroizing;

use crate::{
    Actor, Binding, Credential, CredentialId, CredentialVersion, Kind, OrgId, Sealed, Store,
    StoreError,
    credentials::{Current, derived_in_row, version_u},
    db::{audit, now},
    metadata,
};

/// A kept version of credential `id` from its row; `window` is the restore window (ms).
fn version_record(
    row: &AnyRow,
    id: &CredentialId,
    window: i64,
) -> Result<(CredentialVersion, Kind), StoreError> {
    let kind: String = row.try_get("kind")?;
    let kind = Kind::parse(&kind).ok_or(StoreError::Malformed("unknown credential type"))?;
    let metadata: String = row.try_get("metadata")?;
    let replaced_at: i64 = row.try_get("replaced_at")?;
    let record = CredentialVersion {
        version: row.try_get("version")?,
        name: row.try_get("name")?,
        apple_team: row.try_get("apple_team")?,
        expires_at: row.try_get("expires_at")?,
        metadata: metadata::from_row(id.as_str(), kind, &metadata)?,
        replaced_at,
        replaced_by: row.try_get("replaced_by")?,
        purge_after: replaced_at.saturating_add(window),
    };
    Ok((record, kind))
}

impl Store {
    /// The previous versions of a credential kept since it was replaced, newest first.
    pub async fn credential_versions(
        &self,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<Vec<CredentialVersion>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.credential_in(&mut conn, org, id, true).await?;
        let rows = sqlx::query(
            "SELECT version, kind, name, apple_team, expires_at, metadata, replaced_at, replaced_by \
             FROM credential_versions WHERE credential_id = $1 AND org_id = $2 ORDER BY version DESC",
        )
        .bind(id)
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
        let window = self.limits.restore_window_ms();
        rows.iter()
            .map(|r| version_record(r, id, window).map(|(record, _)| record))
            .collect()
    }

    /// Opens a kept previous version: its record and secret.
    async fn open_version(
        &self,
        conn: &mut AnyConnection,
        org: &OrgId,
        id: &CredentialId,
        version: i64,
    ) -> Result<(CredentialVersion, Kind, Zeroizing<Vec<u8>>), StoreError> {
        let row = sqlx::query(
            "SELECT version, kind, name, apple_team, expires_at, metadata, replaced_at, replaced_by, sealed \
             FROM credential_versions WHERE credential_id = $1 AND org_id = $2 AND version = $3",
        )
        .bind(id)
        .bind(org)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let sealed = Sealed::from_bytes(row.try_get("sealed")?);
        let window = self.limits.restore_window_ms();
        let (record, kind) = version_record(&row, id, window)?;
        if now() - record.replaced_at > window {
            // Past the restore window: as good as destroyed, whether or not the hourly
            // purge has run yet.
            return Err(StoreError::NotFound);
        }
        let bound = derived_in_row(&row)?;
        let secret = self.open_sealed(
            &sealed,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: kind.name(),
                version: version_u(version)?,
                derived: Some(&bound),
            },
        )?;
        Ok((record, kind, secret))
    }

    /// Exports a kept previous version's secret (admin), audited as `credential.export`
    /// with the version.
    pub async fn export_version(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        version: i64,
    ) -> Result<(CredentialVersion, Zeroizing<Vec<u8>>), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let (v, _, secret) = self.open_version(&mut conn, org, id, version).await?;
        drop(conn);
        self.audit_read(crate::audit_log::Entry {
            org: org.to_owned(),
            actor: actor.clone(),
            action: "credential.export".into(),
            target: id.to_string(),
            detail: json!({ "version": version }),
        })
        .await?;
        Ok((v, secret))
    }

    /// Makes a kept previous version live again (as a new version; the live one is kept
    /// in its turn), if the credential is still at `expected_version`.
    pub async fn restore_version(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        version: i64,
        expected_version: i64,
    ) -> Result<Credential, StoreError> {
        let mut tx = self.begin().await?;
        let (old, kind, secret) = self.open_version(&mut tx, org, id, version).await?;
        let current = self.keep_current(&mut tx, actor, org, id).await?;
        if current.version != expected_version {
            return Err(StoreError::Conflict);
        }
        if let Some(team) = &old.apple_team
            && kind != Kind::AppleTeam
        {
            self.lock_team(&mut tx, actor, org, team).await?;
            self.check_limits(&mut tx, org, kind, team, &old.metadata, Some(id))
                .await?;
        }
        self.write_version(
            &mut tx,
            actor,
            org,
            id,
            expected_version,
            &Current {
                kind,
                name: &old.name,
                apple_team: old.apple_team.as_deref(),
                expires_at: old.expires_at,
                metadata: &old.metadata.stored()?,
            },
            &secret,
        )
        .await?;
        sqlx::query("DELETE FROM credential_versions WHERE credential_id = $1 AND version = $2")
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "credential.restore-version",
            id,
            &json!({ "restored": version, "version": expected_version + 1 }),
        )
        .await?;
        let c = self.credential_in(&mut tx, org, id, false).await?;
        tx.commit().await?;
        Ok(c)
    }
}
