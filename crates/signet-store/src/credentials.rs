//! Credentials: create (validated, within limits), read, replace, rename, soft delete and
//! restore, export, impact of revocation, expiry report, rewrap.

use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};
use zeroize::Zeroizing;

use crate::{
    Actor, Binding, Credential, CredentialId, Impact, Kind, OrgId, Page, PageRequest, Sealed,
    Store, StoreError,
    db::{audit, now},
    metadata::{self, AppleTeamMetadata, Metadata, TeamType},
    validate::Validated,
};

pub(crate) const COLUMNS: &str =
    "id, kind, name, apple_team, expires_at, version, metadata, created_at, updated_at, deleted_at";

pub(crate) fn credential(row: &AnyRow) -> Result<Credential, StoreError> {
    let id: CredentialId = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let kind = Kind::parse(&kind).ok_or(StoreError::Malformed("unknown credential type"))?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Credential {
        metadata: metadata::from_row(id.as_str(), kind, &metadata)?,
        id,
        kind,
        name: row.try_get("name")?,
        apple_team: row.try_get("apple_team")?,
        expires_at: row.try_get("expires_at")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        deleted_at: row.try_get("deleted_at")?,
    })
}

/// The live columns of a credential a new version writes.
pub(crate) struct Current<'a> {
    pub(crate) kind: Kind,
    pub(crate) name: &'a str,
    pub(crate) apple_team: Option<&'a str>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) metadata: &'a str,
}

/// The metadata a sealed secret is bound to (envelope format 2): the derived columns in
/// their stored form. Written from what is stored and recomputed from what is read, so a
/// change to any of them in the database makes the secret fail to open.
pub(crate) fn derived(metadata: &str, expires_at: Option<i64>, apple_team: Option<&str>) -> String {
    format!(
        "{metadata}\n{}\n{}",
        expires_at.map(|e| e.to_string()).unwrap_or_default(),
        apple_team.unwrap_or_default()
    )
}

/// [`derived`] of a row with `metadata`, `expires_at` and `apple_team` columns, from the
/// text the row holds (never from its typed reading), so what was bound is what is
/// checked.
pub(crate) fn derived_in_row(row: &AnyRow) -> Result<String, StoreError> {
    let metadata: String = row.try_get("metadata")?;
    let metadata: Value = serde_json::from_str(&metadata).unwrap_or(Value::Null);
    let apple_team: Option<String> = row.try_get("apple_team")?;
    Ok(derived(
        &metadata.to_string(),
        row.try_get("expires_at")?,
        apple_team.as_deref(),
    ))
}

pub(crate) fn version_u(version: i64) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| StoreError::Malformed("negative version"))
}

impl Credential {
    /// The rule for a new name ([`Store::rename_credential`]): 1 to 200 printable
    /// characters.
    pub fn check_name(name: &str) -> Result<(), StoreError> {
        if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid {
                field: "name",
                reason: "1 to 200 printable characters".into(),
            });
        }
        Ok(())
    }
}

impl Store {
    /// Reads a credential's record (never its secret). Deleted ones only when asked.
    pub(crate) async fn credential_in(
        &self,
        conn: &mut AnyConnection,
        org: &OrgId,
        id: &CredentialId,
        include_deleted: bool,
    ) -> Result<Credential, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credentials WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let c = credential(&row)?;
        if c.deleted_at.is_some() && !include_deleted {
            return Err(StoreError::NotFound);
        }
        Ok(c)
    }

    /// A credential's record.
    pub async fn credential(
        &self,
        org: &OrgId,
        id: &CredentialId,
        include_deleted: bool,
    ) -> Result<Credential, StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.credential_in(&mut conn, org, id, include_deleted)
            .await
    }

    /// Lists credentials, optionally of one type, deleted ones instead when `deleted`.
    pub async fn credentials(
        &self,
        org: &OrgId,
        kind: Option<Kind>,
        deleted: bool,
        page: &PageRequest,
    ) -> Result<Page<Credential>, StoreError> {
        let limit = page.limit();
        let after = match page.cursor.as_deref() {
            Some(cursor) => Some(CredentialId::parse(cursor).map_err(|_| bad_cursor())?),
            None => None,
        };
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credentials WHERE org_id = $1 AND id > $2 \
             AND ($3 = '' OR kind = $4) AND (deleted_at IS NULL) = $5 ORDER BY id LIMIT $6"
        ))
        .bind(org)
        .bind(after.as_ref().map_or("", CredentialId::as_str))
        .bind(kind.map_or("", Kind::name))
        .bind(kind.map_or("", Kind::name))
        .bind(!deleted)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(paginate(
            rows.iter().map(credential).collect::<Result<_, _>>()?,
            limit,
            |c| c.id.to_string(),
        ))
    }

    /// Makes sure an Apple team record exists for `team` (teams are created implicitly
    /// by uploads that name one) and locks it, so that limit checks of concurrent uploads
    /// for one team run one after the other on every backend.
    pub(crate) async fn lock_team(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        org: &OrgId,
        team: &str,
    ) -> Result<(), StoreError> {
        let existing = sqlx::query(&format!(
            "SELECT id FROM credentials WHERE org_id = $1 AND kind = 'apple-team' AND apple_team = $2{}",
            self.for_update()
        ))
        .bind(org)
        .bind(team)
        .fetch_optional(&mut *conn)
        .await?;
        if existing.is_some() {
            return Ok(());
        }
        let id = CredentialId::mint()?;
        let metadata = Metadata::AppleTeam(AppleTeamMetadata {
            team_id: team.to_owned(),
            team_name: team.to_owned(),
            team_type: TeamType::Company,
        })
        .stored()?;
        let bound = derived(&metadata, None, Some(team));
        let sealed = self.seal(
            b"{}",
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: Kind::AppleTeam.name(),
                version: 1,
                derived: Some(&bound),
            },
        )?;
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO credentials (id, org_id, kind, name, apple_team, expires_at, version, key_id, sealed, metadata, created_at, updated_at) \
             VALUES ($1, $2, 'apple-team', $3, $4, NULL, 1, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(org)
        .bind(team)
        .bind(team)
        .bind(sealed.key_id()?.to_owned())
        .bind(sealed.as_bytes().to_vec())
        .bind(metadata)
        .bind(t)
        .bind(t)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            audit(
                conn,
                Some(org),
                actor,
                "credential.create",
                &id,
                &json!({ "type": "apple-team", "implicit": true }),
            )
            .await?;
        }
        // Lock whichever row won.
        sqlx::query(&format!(
            "SELECT id FROM credentials WHERE org_id = $1 AND kind = 'apple-team' AND apple_team = $2{}",
            self.for_update()
        ))
        .bind(org)
        .bind(team)
        .fetch_one(&mut *conn)
        .await?;
        Ok(())
    }

    /// Refuses a credential that would exceed its Apple team's limit.
    pub(crate) async fn check_limits(
        &self,
        conn: &mut AnyConnection,
        org: &OrgId,
        kind: Kind,
        team: &str,
        metadata: &Metadata,
        replacing: Option<&CredentialId>,
    ) -> Result<(), StoreError> {
        let (max, limit) = match kind {
            Kind::AppleDistributionCertificate if metadata.is_distribution_certificate() => (
                self.limits.distribution_certificates,
                "distribution certificates per Apple team",
            ),
            Kind::ApplePushKey => (self.limits.push_keys, "push keys per Apple team"),
            _ => return Ok(()),
        };
        let rows = sqlx::query(
            "SELECT id, name, metadata FROM credentials \
             WHERE org_id = $1 AND apple_team = $2 AND kind = $3 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(org)
        .bind(team)
        .bind(kind.name())
        .fetch_all(&mut *conn)
        .await?;
        let mut occupied = Vec::new();
        for r in &rows {
            let id: CredentialId = r.try_get("id")?;
            if Some(&id) == replacing {
                continue;
            }
            let meta: String = r.try_get("metadata")?;
            if kind == Kind::AppleDistributionCertificate
                && !metadata::from_row(id.as_str(), kind, &meta)?.is_distribution_certificate()
            {
                continue;
            }
            let name: String = r.try_get("name")?;
            occupied.push(format!("{id} ({name})"));
        }
        if occupied.len() >= max {
            return Err(StoreError::Limit {
                limit: format!("{limit} (team {team})"),
                max,
                occupied_by: occupied,
            });
        }
        Ok(())
    }

    /// Stores a validated upload.
    pub async fn create_credential(
        &self,
        actor: &Actor,
        org: &OrgId,
        v: Validated,
    ) -> Result<Credential, StoreError> {
        let mut tx = self.begin().await?;
        let detail = json!({ "type": v.kind.name(), "name": v.name });
        let id = self
            .insert_credential(&mut tx, actor, org, v, "credential.create", detail)
            .await?;
        let c = self.credential_in(&mut tx, org, &id, false).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Stores a validated credential inside the caller's transaction (limits checked, the
    /// Apple team locked), audited as `action` with `detail`: the one insert behind
    /// uploads, keystores generated on the server and completed certificate requests.
    pub(crate) async fn insert_credential(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        org: &OrgId,
        v: Validated,
        action: &str,
        detail: Value,
    ) -> Result<CredentialId, StoreError> {
        let id = CredentialId::mint()?;
        if let Some(team) = &v.apple_team {
            if v.kind == Kind::AppleTeam {
                let exists = sqlx::query(
                    "SELECT id FROM credentials WHERE org_id = $1 AND kind = 'apple-team' AND apple_team = $2",
                )
                .bind(org)
                .bind(team)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = exists {
                    let other: String = row.try_get("id")?;
                    return Err(StoreError::Exists(format!("Apple team {team} ({other})")));
                }
            } else {
                self.lock_team(tx, actor, org, team).await?;
                self.check_limits(tx, org, v.kind, team, &v.metadata, None)
                    .await?;
            }
        }
        let stored = v.metadata.stored()?;
        let bound = derived(&stored, v.expires_at, v.apple_team.as_deref());
        let sealed = self.seal(
            &v.secret,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: v.kind.name(),
                version: 1,
                derived: Some(&bound),
            },
        )?;
        let t = now();
        sqlx::query(
            "INSERT INTO credentials (id, org_id, kind, name, apple_team, expires_at, version, key_id, sealed, metadata, created_at, updated_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(org)
        .bind(v.kind.name())
        .bind(&v.name)
        .bind(v.apple_team.clone())
        .bind(v.expires_at)
        .bind(sealed.key_id()?.to_owned())
        .bind(sealed.as_bytes().to_vec())
        .bind(stored)
        .bind(t)
        .bind(t)
        .bind(&actor.who)
        .execute(&mut *tx)
        .await?;
        audit(tx, Some(org), actor, action, &id, &detail).await?;
        Ok(id)
    }

    /// Replaces a credential's file and secrets (same type) if it is still at
    /// `expected_version`. The previous version is kept (SPEC §3: replacing a secret keeps
    /// the previous one restorable for the restore window, as a delete does).
    pub async fn replace_credential(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        expected_version: i64,
        v: Validated,
    ) -> Result<Credential, StoreError> {
        let mut tx = self.begin().await?;
        let current = self.keep_current(&mut tx, actor, org, id).await?;
        if current.kind != v.kind {
            return Err(StoreError::Invalid {
                field: "type",
                reason: format!(
                    "this credential is a {}, not a {}",
                    current.kind.name(),
                    v.kind.name()
                ),
            });
        }
        if current.version != expected_version {
            return Err(StoreError::Conflict);
        }
        if let Some(team) = &v.apple_team
            && v.kind != Kind::AppleTeam
        {
            self.lock_team(&mut tx, actor, org, team).await?;
            self.check_limits(&mut tx, org, v.kind, team, &v.metadata, Some(id))
                .await?;
        }
        let next = expected_version + 1;
        self.write_version(
            &mut tx,
            actor,
            org,
            id,
            expected_version,
            &Current {
                kind: v.kind,
                name: &v.name,
                apple_team: v.apple_team.as_deref(),
                expires_at: v.expires_at,
                metadata: &v.metadata.stored()?,
            },
            &v.secret,
        )
        .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "credential.replace",
            id,
            &json!({ "version": next, "previous_version": expected_version }),
        )
        .await?;
        let c = self.credential_in(&mut tx, org, id, false).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The live row of a credential (not a deleted one) with its key id and sealed blob,
    /// read in one statement (locked on PostgreSQL) so that blob and version belong
    /// together.
    async fn lock_live(
        &self,
        conn: &mut AnyConnection,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<AnyRow, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS}, key_id, sealed FROM credentials WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL{}",
            self.for_update()
        ))
        .bind(id)
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Copies the live row of a credential into `credential_versions` (its sealed blob
    /// as it is: it stays bound to its version) and returns the row, locked on
    /// PostgreSQL. The caller then overwrites the row under the next version.
    pub(crate) async fn keep_current(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<Credential, StoreError> {
        let row = self.lock_live(conn, org, id).await?;
        let current = credential(&row)?;
        sqlx::query(
            "INSERT INTO credential_versions (credential_id, org_id, version, kind, name, apple_team, expires_at, \
             key_id, sealed, metadata, replaced_at, replaced_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(org)
        .bind(current.version)
        .bind(current.kind.name())
        .bind(&current.name)
        .bind(current.apple_team.clone())
        .bind(current.expires_at)
        .bind(row.try_get::<String, _>("key_id")?)
        .bind(row.try_get::<Vec<u8>, _>("sealed")?)
        .bind(row.try_get::<String, _>("metadata")?)
        .bind(now())
        .bind(&actor.who)
        .execute(&mut *conn)
        .await?;
        Ok(current)
    }

    /// Seals `secret` for the version after `expected_version` and writes it with `new`
    /// into the live row; [`StoreError::Conflict`] if the row moved meanwhile.
    pub(crate) async fn write_version(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        expected_version: i64,
        new: &Current<'_>,
        secret: &[u8],
    ) -> Result<(), StoreError> {
        let next = expected_version + 1;
        let bound = derived(new.metadata, new.expires_at, new.apple_team);
        let sealed = self.seal(
            secret,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: new.kind.name(),
                version: version_u(next)?,
                derived: Some(&bound),
            },
        )?;
        let done = sqlx::query(
            "UPDATE credentials SET name = $1, apple_team = $2, expires_at = $3, version = $4, key_id = $5, \
             sealed = $6, metadata = $7, updated_at = $8, created_by = $9, held = 0 \
             WHERE id = $10 AND org_id = $11 AND version = $12 AND deleted_at IS NULL",
        )
        .bind(new.name)
        .bind(new.apple_team.map(str::to_owned))
        .bind(new.expires_at)
        .bind(next)
        .bind(sealed.key_id()?.to_owned())
        .bind(sealed.as_bytes().to_vec())
        .bind(new.metadata)
        .bind(now())
        .bind(&actor.who)
        .bind(id)
        .bind(org)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    /// Renames a credential if it is still at `expected_version`.
    pub async fn rename_credential(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        expected_version: i64,
        name: &str,
    ) -> Result<Credential, StoreError> {
        Credential::check_name(name)?;
        let mut tx = self.begin().await?;
        // The sealed blob is bound to the version: it moves with it.
        let row = self.lock_live(&mut tx, org, id).await?;
        let current = credential(&row)?;
        if current.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let sealed = Sealed::from_bytes(row.try_get("sealed")?);
        let bound = derived_in_row(&row)?;
        let plaintext = self.open_sealed(
            &sealed,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: current.kind.name(),
                version: version_u(current.version)?,
                derived: Some(&bound),
            },
        )?;
        let next = expected_version + 1;
        let resealed = self.seal(
            &plaintext,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: current.kind.name(),
                version: version_u(next)?,
                derived: Some(&bound),
            },
        )?;
        let done = sqlx::query(
            "UPDATE credentials SET name = $1, version = $2, key_id = $3, sealed = $4, updated_at = $5 \
             WHERE id = $6 AND org_id = $7 AND version = $8",
        )
        .bind(name.trim())
        .bind(next)
        .bind(resealed.key_id()?.to_owned())
        .bind(resealed.as_bytes().to_vec())
        .bind(now())
        .bind(id)
        .bind(org)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "credential.rename",
            id,
            &json!({ "name": name.trim() }),
        )
        .await?;
        let c = self.credential_in(&mut tx, org, id, false).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Soft-deletes a credential (restorable for the restore window); returns what it
    /// breaks. `expected_version`, when given, must match.
    pub async fn delete_credential(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        expected_version: Option<i64>,
    ) -> Result<Impact, StoreError> {
        let mut tx = self.begin().await?;
        let current = self.credential_in(&mut tx, org, id, false).await?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(StoreError::Conflict);
        }
        let impact = self.impact_in(&mut tx, org, &current).await?;
        sqlx::query("UPDATE credentials SET deleted_at = $1 WHERE id = $2 AND org_id = $3")
            .bind(now())
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "credential.delete",
            id,
            &json!({ "type": current.kind.name(), "used_by": impact.used_by }),
        )
        .await?;
        tx.commit().await?;
        Ok(impact)
    }

    /// Restores a soft-deleted credential within the restore window, if its team's
    /// limits still allow it.
    pub async fn restore_credential(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<Credential, StoreError> {
        let mut tx = self.begin().await?;
        let current = self.credential_in(&mut tx, org, id, true).await?;
        let Some(deleted_at) = current.deleted_at else {
            return Err(StoreError::Rule(crate::Rule::NotDeleted));
        };
        let window = self.limits.restore_window_ms();
        if now() - deleted_at > window {
            return Err(StoreError::Rule(crate::Rule::RestoreWindowPassed {
                days: self.limits.restore_window.as_secs() / 86400,
            }));
        }
        if let Some(team) = &current.apple_team
            && current.kind != Kind::AppleTeam
        {
            self.lock_team(&mut tx, actor, org, team).await?;
            self.check_limits(
                &mut tx,
                org,
                current.kind,
                team,
                &current.metadata,
                Some(id),
            )
            .await?;
        }
        sqlx::query("UPDATE credentials SET deleted_at = NULL WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "credential.restore",
            id,
            &json!({}),
        )
        .await?;
        let c = self.credential_in(&mut tx, org, id, false).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Reads and opens a credential's secret (not a deleted one), auditing the read as
    /// `action`: if the audit record cannot be written, no secret is returned.
    pub async fn read_secret(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        action: &str,
        detail: &Value,
    ) -> Result<(Credential, Zeroizing<Vec<u8>>), StoreError> {
        self.read_secret_inner(actor, org, id, action, detail, false)
            .await
    }

    /// Exports a credential's secret, deleted ones included (export before destroy).
    /// Audited as `credential.export`.
    pub async fn export_secret(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
    ) -> Result<(Credential, Zeroizing<Vec<u8>>), StoreError> {
        self.read_secret_inner(actor, org, id, "credential.export", &json!({}), true)
            .await
    }

    async fn read_secret_inner(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CredentialId,
        action: &str,
        detail: &Value,
        include_deleted: bool,
    ) -> Result<(Credential, Zeroizing<Vec<u8>>), StoreError> {
        let (c, plaintext) = self.open_secret(org, id, include_deleted).await?;
        self.audit_read(crate::audit_log::Entry {
            org: org.clone(),
            actor: actor.clone(),
            action: action.to_owned(),
            target: id.to_string(),
            detail: detail.clone(),
        })
        .await?;
        Ok((c, plaintext))
    }

    /// A credential's decrypted secret, for the server's own use of it (signing): not
    /// audited here, as nothing leaves; the caller audits the use.
    pub(crate) async fn open_secret(
        &self,
        org: &OrgId,
        id: &CredentialId,
        include_deleted: bool,
    ) -> Result<(Credential, Zeroizing<Vec<u8>>), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, sealed FROM credentials WHERE id = $1 AND org_id = $2 AND (deleted_at IS NULL OR $3)"
        ))
        .bind(id)
        .bind(org)
        .bind(include_deleted)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let c = credential(&row)?;
        let sealed = Sealed::from_bytes(row.try_get("sealed")?);
        let bound = derived_in_row(&row)?;
        let plaintext = self.open_sealed(
            &sealed,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: c.kind.name(),
                version: version_u(c.version)?,
                derived: Some(&bound),
            },
        )?;
        drop(conn);
        Ok((c, plaintext))
    }

    /// Destroys credentials deleted longer ago than the restore window, except those a
    /// build set, pair or slot still points at, or a Play App Signing opt-in names. Returns their ids. Safe on any number of
    /// replicas at once.
    pub async fn purge_deleted(&self, actor: &Actor) -> Result<Vec<CredentialId>, StoreError> {
        let window = self.limits.restore_window_ms();
        let cutoff = now().saturating_sub(window);
        let mut tx = self.begin().await?;
        let rows = sqlx::query(
            "SELECT id, org_id, kind FROM credentials c WHERE deleted_at IS NOT NULL AND deleted_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM android_build_sets s WHERE s.keystore_id = c.id) \
             AND NOT EXISTS (SELECT 1 FROM ios_build_pairs p WHERE p.certificate_id = c.id OR p.profile_id = c.id) \
             AND NOT EXISTS (SELECT 1 FROM app_links l WHERE l.credential_id = c.id) \
             AND NOT EXISTS (SELECT 1 FROM play_app_signing g WHERE g.app_signing_keystore_id = c.id OR g.upload_keystore_id = c.id)",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        let mut purged = Vec::new();
        for r in &rows {
            let id: CredentialId = r.try_get("id")?;
            let org: OrgId = r.try_get("org_id")?;
            let kind: String = r.try_get("kind")?;
            // A restore may have won the race since the SELECT: check again.
            let done = sqlx::query(
                "DELETE FROM credentials WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at < $2",
            )
            .bind(&id)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                continue;
            }
            audit(
                &mut tx,
                Some(&org),
                actor,
                "credential.destroy",
                &id,
                &json!({ "type": kind }),
            )
            .await?;
            purged.push(id);
        }
        let versions = sqlx::query(
            "SELECT credential_id, org_id, version FROM credential_versions WHERE replaced_at < $1",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        for r in &versions {
            let id: CredentialId = r.try_get("credential_id")?;
            let org: OrgId = r.try_get("org_id")?;
            let version: i64 = r.try_get("version")?;
            sqlx::query(
                "DELETE FROM credential_versions WHERE credential_id = $1 AND version = $2",
            )
            .bind(&id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            audit(
                &mut tx,
                Some(&org),
                actor,
                "credential.destroy-version",
                &id,
                &json!({ "version": version }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(purged)
    }
}

/// A list's cursor it did not hand out.
pub(crate) fn bad_cursor() -> StoreError {
    StoreError::Invalid {
        field: "cursor",
        reason: "not a cursor of this list".into(),
    }
}

/// The first `limit` of `items` (one more was fetched to know whether a page follows),
/// and the cursor of the next page: `cursor` of the last item kept.
pub(crate) fn paginate<T>(mut items: Vec<T>, limit: i64, cursor: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if more { items.last().map(cursor) } else { None };
    Page { items, next_cursor }
}
