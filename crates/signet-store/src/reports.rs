//! What the store reports about credentials: the impact of losing one, the expiring
//! report, the audit log.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use crate::{
    Credential, CredentialId, Impact, Kind, OrgId, Page, PageRequest, Store, StoreError,
    credentials::{COLUMNS, bad_cursor, credential, paginate},
    db::now,
};

impl Store {
    /// What stops working if this credential goes.
    pub async fn impact(&self, org: &OrgId, id: &CredentialId) -> Result<Impact, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let c = self.credential_in(&mut conn, org, id, true).await?;
        self.impact_in(&mut conn, org, &c).await
    }

    pub(crate) async fn impact_in(
        &self,
        conn: &mut AnyConnection,
        org: &OrgId,
        c: &Credential,
    ) -> Result<Impact, StoreError> {
        let used_by = uses_in(conn, org, Some(&c.id))
            .await?
            .remove(c.id.as_str())
            .unwrap_or_default();
        let mut affected = Vec::new();
        if c.kind == Kind::AppleDistributionCertificate {
            let sha1 = c
                .metadata
                .certificate()
                .map_or("", |m| m.certificate.sha1.as_str());
            let profiles = sqlx::query(
                "SELECT id, name, metadata FROM credentials WHERE org_id = $1 AND kind = 'apple-provisioning-profile' \
                 AND apple_team = $2 AND deleted_at IS NULL ORDER BY id",
            )
            .bind(org)
            .bind(c.apple_team.clone().unwrap_or_default())
            .fetch_all(&mut *conn)
            .await?;
            for r in &profiles {
                let id: String = r.try_get("id")?;
                let meta: String = r.try_get("metadata")?;
                let profile =
                    crate::metadata::from_row(&id, Kind::AppleProvisioningProfile, &meta)?;
                if profile.profile().is_some_and(|p| p.allows_sha1(sha1)) {
                    let name: String = r.try_get("name")?;
                    affected.push(format!("{id} ({name})"));
                }
            }
        }
        let summary = match c.kind {
            Kind::AppleDistributionCertificate => {
                "its provisioning profiles and the builds that use them stop working at build time; apps already in production are not affected"
            }
            Kind::ApplePushKey => {
                "every app using it loses push notifications at run time until another key is assigned"
            }
            Kind::AppleProvisioningProfile => {
                "the next build of the apps using it fails until another profile is assigned; installed apps are not affected"
            }
            Kind::AndroidKeystore => {
                "builds using it can no longer be signed; if it is an app's upload or app-signing key and no copy exists, that app can never be updated"
            }
            Kind::GoogleServiceAccountKey => {
                "FCM v1 notifications or Play submissions using it stop working"
            }
            Kind::FcmLegacyKey => "legacy FCM notifications using it stop working",
            Kind::AppleTeam => "credentials of this team remain; apps lose the team assignment",
            Kind::AscApiKey => "App Store Connect submissions using it stop working",
        };
        Ok(Impact {
            credential_id: c.id.clone(),
            kind: c.kind,
            summary: format!(
                "{summary}. Removing it from signet does not revoke it at Apple or Google."
            ),
            used_by,
            affected_credentials: affected,
        })
    }

    /// Credentials (not deleted) that expire before `now + within_ms`, soonest first,
    /// including expired ones. The cursor is the last item's `expires_at:id`; its
    /// `expires_at >= t` bound lets a deep page start in the index where the last ended.
    pub async fn expiring(
        &self,
        org: &OrgId,
        within_ms: i64,
        page: &PageRequest,
    ) -> Result<Page<Credential>, StoreError> {
        let limit = page.limit();
        let (after_t, after_id) = match page.cursor.as_deref() {
            Some(cursor) => {
                let (t, id) = cursor.split_once(':').ok_or_else(bad_cursor)?;
                let t = t.parse::<i64>().map_err(|_| bad_cursor())?;
                (t, Some(CredentialId::parse(id).map_err(|_| bad_cursor())?))
            }
            None => (i64::MIN, None),
        };
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credentials WHERE org_id = $1 AND expires_at IS NOT NULL \
             AND expires_at <= $2 AND deleted_at IS NULL \
             AND expires_at >= $3 AND (expires_at > $4 OR id > $5) \
             ORDER BY expires_at, id LIMIT $6"
        ))
        .bind(org)
        .bind(now().saturating_add(within_ms))
        .bind(after_t)
        .bind(after_t)
        .bind(after_id.as_ref().map_or("", CredentialId::as_str))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(paginate(
            rows.iter().map(credential).collect::<Result<_, _>>()?,
            limit,
            |c| format!("{}:{}", c.expires_at.unwrap_or_default(), c.id),
        ))
    }

    /// The audit log of an organization, newest first.
    pub async fn audit_log(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<crate::AuditRecord>, StoreError> {
        self.audit_log_where(org, &AuditFilter::default(), page)
            .await
    }

    /// The audit log of an organization, newest first, only the records that match
    /// `filter` (each given part exactly).
    pub async fn audit_log_where(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::AuditRecord>, StoreError> {
        let limit = page.limit();
        // An audit id is 24 lower-case hex digits (`db::audit_id`); nothing else is a cursor.
        let cursor = match page.cursor.as_deref() {
            Some(c)
                if c.len() == 24 && c.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                c.to_owned()
            }
            Some(_) => return Err(bad_cursor()),
            None => "~".into(),
        };
        let part = |p: &Option<String>| p.clone().unwrap_or_default();
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, ip, request_id, detail FROM audit \
             WHERE org_id = $1 AND id < $2 AND ($3 = '' OR action = $4) \
             AND ($5 = '' OR actor = $6) AND ($7 = '' OR target = $8) ORDER BY id DESC LIMIT $9",
        )
        .bind(org)
        .bind(cursor)
        .bind(part(&filter.action))
        .bind(part(&filter.action))
        .bind(part(&filter.actor))
        .bind(part(&filter.actor))
        .bind(part(&filter.target))
        .bind(part(&filter.target))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(crate::AuditRecord {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    ip: r.try_get("ip")?,
                    request_id: r.try_get("request_id")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(paginate(items, limit, |a| a.id.clone()))
    }

    /// What uses each credential of an organization, by credential id, in the words of
    /// [`Impact::used_by`]: three queries for the whole organization (the credentials
    /// page's "used by" column), where [`Store::impact`] answers for one.
    pub async fn uses(&self, org: &OrgId) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        uses_in(&mut conn, org, None).await
    }
}

/// Which audit records to list: each part given must match exactly.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The action (`credential.create`, …).
    pub action: Option<String>,
    /// The actor (`user:<id>`, `robot:<token id>`).
    pub actor: Option<String>,
    /// The target (a credential's id, …).
    pub target: Option<String>,
}

/// What uses the credentials of `org` (only `only`, when given), by credential id, one line
/// each (`app acme / android com.acme / build set release`): build sets, then pairs, then
/// slots, each ordered by app. The one derivation behind [`Store::impact`] and
/// [`Store::uses`].
async fn uses_in(
    conn: &mut AnyConnection,
    org: &OrgId,
    only: Option<&CredentialId>,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let filter = |clause: &'static str| if only.is_some() { clause } else { "" };
    let mut uses: HashMap<String, Vec<String>> = HashMap::new();
    let sql = format!(
        "SELECT s.keystore_id, a.slug, s.application_id, s.name FROM android_build_sets s \
         JOIN apps a ON a.id = s.app_id WHERE s.org_id = $1{} ORDER BY a.slug, s.name",
        filter(" AND s.keystore_id = $2")
    );
    let mut query = sqlx::query(&sql).bind(org);
    if let Some(id) = only {
        query = query.bind(id);
    }
    let sets = query.fetch_all(&mut *conn).await?;
    for r in &sets {
        let slug: String = r.try_get("slug")?;
        let appid: String = r.try_get("application_id")?;
        let name: String = r.try_get("name")?;
        uses.entry(r.try_get("keystore_id")?)
            .or_default()
            .push(format!("app {slug} / android {appid} / build set {name}"));
    }
    let sql = format!(
        "SELECT p.certificate_id, p.profile_id, a.slug, p.bundle_id, p.distribution \
         FROM ios_build_pairs p JOIN apps a ON a.id = p.app_id WHERE p.org_id = $1{} \
         ORDER BY a.slug, p.bundle_id",
        filter(" AND (p.certificate_id = $2 OR p.profile_id = $3)")
    );
    let mut query = sqlx::query(&sql).bind(org);
    if let Some(id) = only {
        query = query.bind(id).bind(id);
    }
    let pairs = query.fetch_all(&mut *conn).await?;
    for r in &pairs {
        let slug: String = r.try_get("slug")?;
        let bundle: String = r.try_get("bundle_id")?;
        let dist: String = r.try_get("distribution")?;
        let line = format!("app {slug} / ios {bundle} / {dist} builds");
        for column in ["certificate_id", "profile_id"] {
            uses.entry(r.try_get(column)?)
                .or_default()
                .push(line.clone());
        }
    }
    let sql = format!(
        "SELECT l.credential_id, a.slug, l.platform, l.identifier, l.slot FROM app_links l \
         JOIN apps a ON a.id = l.app_id WHERE l.org_id = $1{} ORDER BY a.slug, l.identifier",
        filter(" AND l.credential_id = $2")
    );
    let mut query = sqlx::query(&sql).bind(org);
    if let Some(id) = only {
        query = query.bind(id);
    }
    let links = query.fetch_all(&mut *conn).await?;
    for r in &links {
        let slug: String = r.try_get("slug")?;
        let platform: String = r.try_get("platform")?;
        let ident: String = r.try_get("identifier")?;
        let slot: String = r.try_get("slot")?;
        uses.entry(r.try_get("credential_id")?)
            .or_default()
            .push(format!("app {slug} / {platform} {ident} / {slot}"));
    }
    let sql = format!(
        "SELECT g.app_signing_keystore_id, a.slug, g.application_id FROM play_app_signing g \
         JOIN apps a ON a.id = g.app_id WHERE g.org_id = $1{} ORDER BY a.slug, g.application_id",
        filter(" AND g.app_signing_keystore_id = $2")
    );
    let mut query = sqlx::query(&sql).bind(org);
    if let Some(id) = only {
        query = query.bind(id);
    }
    let held = query.fetch_all(&mut *conn).await?;
    for r in &held {
        let slug: String = r.try_get("slug")?;
        let appid: String = r.try_get("application_id")?;
        uses.entry(r.try_get("app_signing_keystore_id")?)
            .or_default()
            .push(format!(
                "app {slug} / android {appid} / app-signing key, held by Google (Play App \
                 Signing): keep it, it is the only copy outside Google"
            ));
    }
    Ok(uses)
}
