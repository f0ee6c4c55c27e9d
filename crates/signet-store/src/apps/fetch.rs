//! The build-credentials fetch: one build's decrypted material, audited.

use serde_json::json;
use sqlx::Row;

use zeroize::Zeroizing;

use super::{BuildCredentials, PAIR_COLUMNS, pair_row};
use crate::{
    Actor, App, AppId, BuildPair, BuildSet, Credential, OrgId, Rule, Scope, Store, StoreError,
};

/// A build set's keystore, decrypted.
pub(crate) struct AndroidSecret {
    pub app_slug: String,
    pub set: BuildSet,
    pub keystore: Credential,
    pub secret: Zeroizing<Vec<u8>>,
    /// The keystore was made on the server (see `held::mark_held`).
    pub held: bool,
}

/// Why a held key is not handed out: it signs on the server.
fn held_refusal(what: &str, sign: &str) -> StoreError {
    StoreError::Forbidden(format!(
        "{what} was made on the server and does not leave it below the admin role: sign \
         with `{sign}` (the server signs; the key stays), or have an admin export it"
    ))
}

impl Store {
    /// The decrypted material of one Android build: the named build set's keystore, or
    /// the default's. `app_ref` is the app's id or slug, checked against the caller's
    /// `scope` here (403), not by the guard: one query finds app, set and keystore, as
    /// this is what every CI build calls. A keystore made on the server is handed out only
    /// when `held_ok` (the caller is an admin): others sign with it on the server. Audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn android_build_credentials(
        &self,
        actor: &Actor,
        org: &OrgId,
        app_ref: &str,
        scope: &Scope,
        application_id: &str,
        name: Option<&str>,
        held_ok: bool,
    ) -> Result<BuildCredentials, StoreError> {
        let found = self
            .android_build_secret(org, app_ref, scope, application_id, name)
            .await?;
        if found.held && !held_ok {
            return Err(held_refusal(
                "this build set's keystore",
                "signet apk sign --app",
            ));
        }
        self.audit_read(crate::audit_log::Entry {
            org: org.clone(),
            actor: actor.clone(),
            action: "build-credentials.fetch".into(),
            target: found.keystore.id.to_string(),
            detail: json!({ "app": found.app_slug, "application_id": application_id, "build_set": found.set.name }),
        })
        .await?;
        Ok(BuildCredentials {
            credentials: vec![found.keystore],
            secrets: vec![found.secret],
            chosen: json!({ "build_set": found.set }),
        })
    }

    /// The build set's keystore and its decrypted secret, not audited: the callers audit
    /// what they do with it (hand it out, or sign with it).
    pub(crate) async fn android_build_secret(
        &self,
        org: &OrgId,
        app_ref: &str,
        scope: &Scope,
        application_id: &str,
        name: Option<&str>,
    ) -> Result<AndroidSecret, StoreError> {
        let forbidden = || StoreError::Forbidden("this token may not act on this app".into());
        let row = sqlx::query(
            "SELECT a.id AS app_id, a.slug, \
                    s.id AS set_id, s.name AS set_name, s.is_default, s.version AS set_version, \
                    c.id, c.kind, c.name, c.apple_team, c.expires_at, c.version, c.metadata, \
                    c.created_at, c.updated_at, c.deleted_at, c.sealed, c.held \
             FROM apps a JOIN android_build_sets s ON s.app_id = a.id \
             JOIN credentials c ON c.id = s.keystore_id \
             WHERE a.org_id = $1 AND (a.id = $2 OR a.slug = $3) AND s.application_id = $4 \
             AND (s.name = $5 OR ($6 AND s.is_default = 1))",
        )
        .bind(org)
        .bind(app_ref)
        .bind(app_ref)
        .bind(application_id)
        .bind(name.unwrap_or_default())
        .bind(name.is_none())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // No such app (404), or out of scope (403), or no such build set (404).
            let app = self.app(org, app_ref).await?;
            return Err(if scope.allows(&app.id) {
                StoreError::NotFound
            } else {
                forbidden()
            });
        };
        if !scope.allows(&row.try_get::<AppId, _>("app_id")?) {
            return Err(forbidden());
        }
        let app_slug: String = row.try_get("slug")?;
        let set = BuildSet {
            id: row.try_get("set_id")?,
            application_id: application_id.to_owned(),
            name: row.try_get("set_name")?,
            keystore_id: row.try_get("id")?,
            is_default: row.try_get::<i64, _>("is_default")? == 1,
            version: row.try_get("set_version")?,
        };
        let cred = crate::credentials::credential(&row)?;
        if cred.deleted_at.is_some() {
            return Err(StoreError::Rule(Rule::DeletedKeystore {
                build_set: set.name,
            }));
        }
        let sealed = crate::Sealed::from_bytes(row.try_get("sealed")?);
        let bound = crate::credentials::derived_in_row(&row)?;
        let secret = self.open_sealed(
            &sealed,
            &crate::Binding {
                org: org.as_str(),
                record: cred.id.as_str(),
                kind: cred.kind.name(),
                version: u64::try_from(cred.version)
                    .map_err(|_| StoreError::Malformed("negative version"))?,
                derived: Some(&bound),
            },
        )?;
        Ok(AndroidSecret {
            app_slug,
            set,
            keystore: cred,
            secret,
            held: row.try_get::<i64, _>("held")? == 1,
        })
    }

    /// The decrypted material of one iOS build: the pair for the bundle id and
    /// distribution type (certificate, then profile). Audited.
    ///
    /// A certificate whose key was made on the server is handed out only when `held_ok`
    /// (the caller is an admin): others sign with it on the server.
    pub async fn ios_build_credentials(
        &self,
        actor: &Actor,
        org: &OrgId,
        app: &App,
        bundle_id: &str,
        distribution: &str,
        held_ok: bool,
    ) -> Result<BuildCredentials, StoreError> {
        let (pair, opened) = self
            .ios_pair_secrets(org, app, bundle_id, distribution)
            .await?;
        if !held_ok {
            let held = sqlx::query("SELECT held FROM credentials WHERE id = $1 AND org_id = $2")
                .bind(&pair.certificate_id)
                .bind(org)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get::<i64, _>("held"))
                .transpose()?;
            if held == Some(1) {
                return Err(held_refusal(
                    "this pair's certificate key",
                    "signet ipa sign --app",
                ));
            }
        }
        let detail =
            json!({ "app": app.slug, "bundle_id": bundle_id, "distribution": distribution });
        let mut credentials = Vec::new();
        let mut secrets = Vec::new();
        for (c, s) in opened {
            self.audit_read(crate::audit_log::Entry {
                org: org.clone(),
                actor: actor.clone(),
                action: "build-credentials.fetch".into(),
                target: c.id.to_string(),
                detail: detail.clone(),
            })
            .await?;
            credentials.push(c);
            secrets.push(s);
        }
        Ok(BuildCredentials {
            credentials,
            secrets,
            chosen: json!({ "build_pair": pair }),
        })
    }

    /// The pair's certificate and profile with their decrypted secrets, not audited: the
    /// callers audit what they do with them.
    pub(crate) async fn ios_pair_secrets(
        &self,
        org: &OrgId,
        app: &App,
        bundle_id: &str,
        distribution: &str,
    ) -> Result<(BuildPair, Vec<(Credential, Zeroizing<Vec<u8>>)>), StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PAIR_COLUMNS} FROM ios_build_pairs WHERE app_id = $1 AND bundle_id = $2 AND distribution = $3"
        ))
        .bind(&app.id)
        .bind(bundle_id)
        .bind(distribution)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let pair = pair_row(&row)?;
        let mut opened = Vec::with_capacity(2);
        for id in [&pair.certificate_id, &pair.profile_id] {
            let found = self
                .open_secret(org, id, false)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => StoreError::Rule(Rule::DeletedInPair {
                        distribution: distribution.to_owned(),
                        credential: id.to_string(),
                    }),
                    other => other,
                })?;
            opened.push(found);
        }
        Ok((pair, opened))
    }
}
