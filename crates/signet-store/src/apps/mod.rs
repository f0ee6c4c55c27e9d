//! Apps and what they build with: Android build credential sets (named, exactly one
//! default per application id), iOS build credential pairs (one per bundle id and
//! distribution type), credentials assigned to slots, and the build-credentials fetch.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row};
use zeroize::Zeroizing;

use crate::{
    Actor, App, AppId, BuildPair, BuildSet, Credential, CredentialId, Kind, Link, Named, OrgId,
    Page, PageRequest, Scope, Store, StoreError,
    credentials::{bad_cursor, paginate},
    db::{audit, now, unique_violation},
    ids::no_such_credential,
};

mod build_pairs;

pub use build_pairs::check_pair_metadata;
mod build_sets;
mod fetch;
mod slots;

/// Distribution types of iOS builds.
pub const DISTRIBUTIONS: [&str; 4] = ["app-store", "ad-hoc", "enterprise", "development"];

/// The slots an app can assign a credential to, by platform, and the type each takes.
pub const SLOTS: [(&str, &str, Kind); 6] = [
    ("android", "fcm-key", Kind::FcmLegacyKey),
    (
        "android",
        "google-service-account-fcm",
        Kind::GoogleServiceAccountKey,
    ),
    (
        "android",
        "google-service-account-submissions",
        Kind::GoogleServiceAccountKey,
    ),
    ("ios", "apple-team", Kind::AppleTeam),
    ("ios", "push-key", Kind::ApplePushKey),
    ("ios", "asc-api-key", Kind::AscApiKey),
];

fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Application ids (`com.acme.app`) and bundle ids: dot-separated identifiers. (Public so
/// that a client can check one before it changes anything.)
pub fn check_identifier(field: &'static str, id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("`{id}` is not an application or bundle identifier"),
        ))
    }
}

/// A build set's name: 1 to 100 printable characters.
pub fn check_build_set_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name", "1 to 100 printable characters"));
    }
    Ok(())
}

fn check_slug(slug: &str) -> Result<(), StoreError> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(invalid(
            "slug",
            "1 to 64 lower-case letters, digits, `-` or `_`",
        ));
    }
    // Apps are addressed by id or slug: a slug shaped like an id could name another app.
    if slug.starts_with("app_") {
        return Err(invalid("slug", "must not start with `app_` (app ids do)"));
    }
    Ok(())
}

fn app_row(r: &sqlx::any::AnyRow) -> Result<App, StoreError> {
    Ok(App {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) fn set_row(r: &sqlx::any::AnyRow) -> Result<BuildSet, StoreError> {
    Ok(BuildSet {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        name: r.try_get("name")?,
        keystore_id: r.try_get("keystore_id")?,
        is_default: r.try_get::<i64, _>("is_default")? == 1,
        version: r.try_get("version")?,
    })
}

fn pair_row(r: &sqlx::any::AnyRow) -> Result<BuildPair, StoreError> {
    Ok(BuildPair {
        id: r.try_get("id")?,
        bundle_id: r.try_get("bundle_id")?,
        distribution: r.try_get("distribution")?,
        certificate_id: r.try_get("certificate_id")?,
        profile_id: r.try_get("profile_id")?,
        version: r.try_get("version")?,
    })
}

/// An app's credentials for one platform.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AppCredentials {
    /// The app.
    pub app: App,
    /// Android build credential sets.
    pub build_sets: Vec<BuildSet>,
    /// iOS build credential pairs.
    pub build_pairs: Vec<BuildPair>,
    /// Credentials in slots.
    pub links: Vec<Link>,
    /// Play App Signing opt-ins, by application id.
    #[serde(default)]
    pub play_app_signing: Vec<crate::PlayAppSigning>,
}

/// One build's decrypted material.
pub struct BuildCredentials {
    /// The records of the credentials handed out.
    pub credentials: Vec<Credential>,
    /// Their secrets (JSON), in the same order.
    pub secrets: Vec<Zeroizing<Vec<u8>>>,
    /// What was chosen (`build set release`, `app-store pair`).
    pub chosen: Value,
}

pub(crate) const SET_COLUMNS: &str = "id, application_id, name, keystore_id, is_default, version";
const PAIR_COLUMNS: &str = "id, bundle_id, distribution, certificate_id, profile_id, version";

impl Store {
    /// Creates an app.
    pub async fn create_app(
        &self,
        actor: &Actor,
        org: &OrgId,
        slug: &str,
    ) -> Result<App, StoreError> {
        check_slug(slug)?;
        let app = App {
            id: AppId::mint()?,
            slug: slug.to_owned(),
            created_at: now(),
        };
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO apps (id, org_id, slug, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&app.id)
            .bind(org)
            .bind(slug)
            .bind(app.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_violation(e, || format!("an app with slug `{slug}`")))?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "app.create",
            &app.id,
            &json!({ "slug": slug }),
        )
        .await?;
        tx.commit().await?;
        Ok(app)
    }

    /// Lists apps.
    pub async fn apps(&self, org: &OrgId, page: &PageRequest) -> Result<Page<App>, StoreError> {
        let limit = page.limit();
        let after = match page.cursor.as_deref() {
            Some(cursor) => Some(AppId::parse(cursor).map_err(|_| bad_cursor())?),
            None => None,
        };
        let rows = sqlx::query(
            "SELECT id, slug, created_at FROM apps WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(org)
        .bind(after.as_ref().map_or("", AppId::as_str))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(paginate(
            rows.iter().map(app_row).collect::<Result<_, _>>()?,
            limit,
            |a| a.id.to_string(),
        ))
    }

    /// An app by id or slug.
    pub async fn app(&self, org: &OrgId, id_or_slug: &str) -> Result<App, StoreError> {
        let row = sqlx::query(
            "SELECT id, slug, created_at FROM apps WHERE org_id = $1 AND (id = $2 OR slug = $3)",
        )
        .bind(org)
        .bind(id_or_slug)
        .bind(id_or_slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        app_row(&row)
    }

    /// Deletes an app and its assignments (the credentials stay).
    pub async fn delete_app(
        &self,
        actor: &Actor,
        org: &OrgId,
        app: &AppId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for table in [
            "play_app_signing",
            "app_links",
            "ios_build_pairs",
            "android_build_sets",
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE app_id = $1 AND org_id = $2"
            ))
            .bind(app)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        }
        let done = sqlx::query("DELETE FROM apps WHERE id = $1 AND org_id = $2")
            .bind(app)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        audit(&mut tx, Some(org), actor, "app.delete", app, &json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Everything an app builds with.
    pub async fn app_credentials(
        &self,
        org: &OrgId,
        app: &App,
    ) -> Result<AppCredentials, StoreError> {
        let sets = sqlx::query(&format!(
            "SELECT {SET_COLUMNS} FROM android_build_sets WHERE org_id = $1 AND app_id = $2 ORDER BY application_id, name"
        ))
        .bind(org)
        .bind(&app.id)
        .fetch_all(&self.pool)
        .await?;
        let pairs = sqlx::query(&format!(
            "SELECT {PAIR_COLUMNS} FROM ios_build_pairs WHERE org_id = $1 AND app_id = $2 ORDER BY bundle_id, distribution"
        ))
        .bind(org)
        .bind(&app.id)
        .fetch_all(&self.pool)
        .await?;
        let links = sqlx::query(
            "SELECT platform, identifier, slot, credential_id FROM app_links WHERE org_id = $1 AND app_id = $2 \
             ORDER BY platform, identifier, slot",
        )
        .bind(org)
        .bind(&app.id)
        .fetch_all(&self.pool)
        .await?;
        let play_app_signing = self.play_app_signing(org, &app.id).await?;
        Ok(AppCredentials {
            play_app_signing,
            app: app.clone(),
            build_sets: sets.iter().map(set_row).collect::<Result<_, _>>()?,
            build_pairs: pairs.iter().map(pair_row).collect::<Result<_, _>>()?,
            links: links
                .iter()
                .map(|r| {
                    Ok(Link {
                        platform: r.try_get("platform")?,
                        identifier: r.try_get("identifier")?,
                        slot: r.try_get("slot")?,
                        credential_id: r.try_get("credential_id")?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        })
    }

    async fn expect_kind(
        &self,
        conn: &mut AnyConnection,
        org: &OrgId,
        id: &Named<CredentialId>,
        kind: Kind,
        field: &'static str,
    ) -> Result<Credential, StoreError> {
        let id = match id {
            Named::Id(id) => id,
            Named::Nothing(value) => return Err(no_such_credential(field, value)),
        };
        let c = self
            .credential_in(conn, org, id, false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => no_such_credential(field, id.as_str()),
                other => other,
            })?;
        if c.kind != kind {
            return Err(invalid(
                field,
                format!("`{id}` is a {}, not a {}", c.kind.name(), kind.name()),
            ));
        }
        Ok(c)
    }

    /// SPEC §3: a caller limited to apps never obtains secret material not assigned to one
    /// of its apps. Assigning a credential to its app would let it fetch the secret, so it
    /// may assign only what is already assigned to one of its apps, or what it created.
    /// Checked inside the assigning transaction.
    async fn check_assignable(
        &self,
        conn: &mut AnyConnection,
        scope: &Scope,
        credential: &Credential,
        field: &'static str,
    ) -> Result<(), StoreError> {
        let Scope::Apps { apps, creator } = scope else {
            return Ok(());
        };
        let created_by: Option<String> =
            sqlx::query("SELECT created_by FROM credentials WHERE id = $1")
                .bind(&credential.id)
                .fetch_one(&mut *conn)
                .await?
                .try_get("created_by")?;
        if created_by.as_deref() == Some(creator.as_str()) {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT app_id FROM android_build_sets WHERE keystore_id = $1 \
             UNION SELECT app_id FROM ios_build_pairs WHERE certificate_id = $2 OR profile_id = $3 \
             UNION SELECT app_id FROM app_links WHERE credential_id = $4",
        )
        .bind(&credential.id)
        .bind(&credential.id)
        .bind(&credential.id)
        .bind(&credential.id)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            if apps.contains(&row.try_get::<AppId, _>("app_id")?) {
                return Ok(());
            }
        }
        Err(StoreError::Forbidden(format!(
            "`{field}`: this token is limited to some apps; it may assign only credentials \
             already assigned to one of them, or that it uploaded itself"
        )))
    }
}
