//! Apps and what they build with: Android build credential sets (named, exactly one
//! default per application id), iOS build credential pairs (one per bundle id and
//! distribution type), credentials assigned to slots, and the build-credentials fetch.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row};
use zeroize::Zeroizing;

use crate::{
    Actor, App, BuildPair, BuildSet, Credential, Kind, Link, Page, PageRequest, Rule, Scope, Store,
    StoreError,
    credentials::paginate,
    db::{audit, new_id, now, unique_violation},
};

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

/// Application ids (`com.acme.app`) and bundle ids: dot-separated identifiers.
fn check_identifier(field: &'static str, id: &str) -> Result<(), StoreError> {
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

fn set_row(r: &sqlx::any::AnyRow) -> Result<BuildSet, StoreError> {
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
#[derive(Debug, Clone, Serialize)]
pub struct AppCredentials {
    /// The app.
    pub app: App,
    /// Android build credential sets.
    pub build_sets: Vec<BuildSet>,
    /// iOS build credential pairs.
    pub build_pairs: Vec<BuildPair>,
    /// Credentials in slots.
    pub links: Vec<Link>,
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

const SET_COLUMNS: &str = "id, application_id, name, keystore_id, is_default, version";
const PAIR_COLUMNS: &str = "id, bundle_id, distribution, certificate_id, profile_id, version";

impl Store {
    /// Creates an app.
    pub async fn create_app(
        &self,
        actor: &Actor,
        org: &str,
        slug: &str,
    ) -> Result<App, StoreError> {
        check_slug(slug)?;
        let app = App {
            id: new_id("app")?,
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
    pub async fn apps(&self, org: &str, page: &PageRequest) -> Result<Page<App>, StoreError> {
        let limit = page.limit();
        let rows = sqlx::query(
            "SELECT id, slug, created_at FROM apps WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(org)
        .bind(page.cursor.clone().unwrap_or_default())
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(paginate(
            rows.iter().map(app_row).collect::<Result<_, _>>()?,
            limit,
            |a| a.id.clone(),
        ))
    }

    /// An app by id or slug.
    pub async fn app(&self, org: &str, id_or_slug: &str) -> Result<App, StoreError> {
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
    pub async fn delete_app(&self, actor: &Actor, org: &str, app: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for table in ["app_links", "ios_build_pairs", "android_build_sets"] {
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
        org: &str,
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
        Ok(AppCredentials {
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
        org: &str,
        id: &str,
        kind: Kind,
        field: &'static str,
    ) -> Result<Credential, StoreError> {
        let c = self
            .credential_in(conn, org, id, false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    invalid(field, format!("no credential `{id}` in this organization"))
                }
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
            if apps.contains(&row.try_get::<String, _>("app_id")?) {
                return Ok(());
            }
        }
        Err(StoreError::Forbidden(format!(
            "`{field}`: this token is limited to some apps; it may assign only credentials \
             already assigned to one of them, or that it uploaded itself"
        )))
    }

    async fn build_set_in(
        &self,
        conn: &mut AnyConnection,
        app: &str,
        application_id: &str,
        name: &str,
    ) -> Result<Option<BuildSet>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SET_COLUMNS} FROM android_build_sets WHERE app_id = $1 AND application_id = $2 AND name = $3"
        ))
        .bind(app)
        .bind(application_id)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref().map(set_row).transpose()
    }

    /// Creates or updates a build credential set; says whether it created one. An update
    /// names the version it read (`expected_version`; without one it is
    /// [`StoreError::VersionRequired`]); creating one when none exists for the application
    /// id makes it the default. `make_default` moves the default to it.
    pub async fn put_build_set(
        &self,
        actor: &Actor,
        org: &str,
        app: &App,
        application_id: &str,
        name: &str,
        keystore_id: &str,
        make_default: bool,
        expected_version: Option<i64>,
        scope: &Scope,
    ) -> Result<(BuildSet, bool), StoreError> {
        check_identifier("application_id", application_id)?;
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(invalid("name", "1 to 100 printable characters"));
        }
        let mut tx = self.begin().await?;
        let keystore = self
            .expect_kind(
                &mut tx,
                org,
                keystore_id,
                Kind::AndroidKeystore,
                "keystore_id",
            )
            .await?;
        let existing = self
            .build_set_in(&mut tx, &app.id, application_id, name)
            .await?;
        if existing
            .as_ref()
            .is_none_or(|set| set.keystore_id != keystore.id)
        {
            self.check_assignable(&mut tx, scope, &keystore, "keystore_id")
                .await?;
        }
        let t = now();
        let id = match (&existing, expected_version) {
            (Some(set), Some(v)) if set.version == v => {
                let done = sqlx::query(
                    "UPDATE android_build_sets SET keystore_id = $1, version = version + 1, updated_at = $2 \
                     WHERE id = $3 AND version = $4",
                )
                .bind(keystore_id)
                .bind(t)
                .bind(&set.id)
                .bind(v)
                .execute(&mut *tx)
                .await?;
                // A concurrent writer moved the version since it was read (PostgreSQL's
                // read committed lets both read it): the loser is told, not dropped.
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict);
                }
                set.id.clone()
            }
            (Some(_), None) => return Err(StoreError::VersionRequired),
            (Some(_), Some(_)) => return Err(StoreError::Conflict),
            (None, Some(_)) => return Err(StoreError::NotFound),
            (None, None) => {
                let any = sqlx::query(
                    "SELECT COUNT(*) AS n FROM android_build_sets WHERE app_id = $1 AND application_id = $2",
                )
                .bind(&app.id)
                .bind(application_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get::<i64, _>("n")?;
                let id = new_id("bset")?;
                sqlx::query(
                    "INSERT INTO android_build_sets (id, org_id, app_id, application_id, name, keystore_id, is_default, version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
                )
                .bind(&id)
                .bind(org)
                .bind(&app.id)
                .bind(application_id)
                .bind(name)
                .bind(keystore_id)
                .bind(i64::from(any == 0))
                .bind(t)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        if make_default {
            self.move_default(&mut tx, &app.id, application_id, &id)
                .await?;
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "build-set.put",
            &id,
            &json!({ "app": app.slug, "application_id": application_id, "name": name,
                     "keystore_id": keystore.id, "default": make_default }),
        )
        .await?;
        let set = self
            .build_set_in(&mut tx, &app.id, application_id, name)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((set, existing.is_none()))
    }

    async fn move_default(
        &self,
        conn: &mut AnyConnection,
        app: &str,
        application_id: &str,
        to: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE android_build_sets SET is_default = 0, version = version + 1 \
             WHERE app_id = $1 AND application_id = $2 AND is_default = 1 AND id <> $3",
        )
        .bind(app)
        .bind(application_id)
        .bind(to)
        .execute(&mut *conn)
        .await?;
        // Two concurrent moves of one application id's default can meet here on
        // PostgreSQL: the index keeps one default, and the loser is told to read again.
        sqlx::query(
            "UPDATE android_build_sets SET is_default = 1, version = version + 1 WHERE id = $1 AND is_default = 0",
        )
        .bind(to)
        .execute(&mut *conn)
        .await
        .map_err(|e| match unique_violation(e, String::new) {
            StoreError::Exists(_) => StoreError::Conflict,
            other => other,
        })?;
        Ok(())
    }

    /// Renames a build set (If-Match on its version).
    pub async fn rename_build_set(
        &self,
        actor: &Actor,
        org: &str,
        app: &App,
        application_id: &str,
        name: &str,
        new_name: &str,
        expected_version: i64,
    ) -> Result<BuildSet, StoreError> {
        if new_name.is_empty() || new_name.len() > 100 || new_name.chars().any(char::is_control) {
            return Err(invalid("name", "1 to 100 printable characters"));
        }
        let mut tx = self.begin().await?;
        let set = self
            .build_set_in(&mut tx, &app.id, application_id, name)
            .await?
            .ok_or(StoreError::NotFound)?;
        if set.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let done = sqlx::query(
            "UPDATE android_build_sets SET name = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND version = $4",
        )
        .bind(new_name)
        .bind(now())
        .bind(&set.id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, || format!("a build set named `{new_name}`")))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "build-set.rename",
            &set.id,
            &json!({ "from": name, "to": new_name }),
        )
        .await?;
        let out = self
            .build_set_in(&mut tx, &app.id, application_id, new_name)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(out)
    }

    /// Deletes a build set. The default can only go when it is the last one.
    pub async fn delete_build_set(
        &self,
        actor: &Actor,
        org: &str,
        app: &App,
        application_id: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let set = self
            .build_set_in(&mut tx, &app.id, application_id, name)
            .await?
            .ok_or(StoreError::NotFound)?;
        if set.is_default {
            let others = sqlx::query(
                "SELECT COUNT(*) AS n FROM android_build_sets WHERE app_id = $1 AND application_id = $2 AND id <> $3",
            )
            .bind(&app.id)
            .bind(application_id)
            .bind(&set.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>("n")?;
            if others > 0 {
                return Err(StoreError::Rule(Rule::DefaultBuildSet));
            }
        }
        sqlx::query("DELETE FROM android_build_sets WHERE id = $1")
            .bind(&set.id)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "build-set.delete",
            &set.id,
            &json!({ "name": name }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a credential to one of an app's slots (see [`SLOTS`]).
    pub async fn set_link(
        &self,
        actor: &Actor,
        org: &str,
        app: &App,
        platform: &str,
        identifier: &str,
        slot: &str,
        credential_id: &str,
        scope: &Scope,
    ) -> Result<Link, StoreError> {
        check_identifier("identifier", identifier)?;
        let kind = SLOTS
            .iter()
            .find(|(p, s, _)| *p == platform && *s == slot)
            .map(|(_, _, k)| *k)
            .ok_or_else(|| {
                invalid(
                    "slot",
                    format!(
                        "no slot `{slot}` for {platform}; slots: {}",
                        SLOTS
                            .iter()
                            .filter(|(p, _, _)| *p == platform)
                            .map(|(_, s, _)| *s)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let mut tx = self.begin().await?;
        let c = self
            .expect_kind(&mut tx, org, credential_id, kind, "credential_id")
            .await?;
        self.check_assignable(&mut tx, scope, &c, "credential_id")
            .await?;
        if kind == Kind::ApplePushKey || kind == Kind::AscApiKey {
            let team = self.linked_team(&mut tx, &app.id, identifier).await?;
            if let (Some(team), Some(key_team)) = (team, &c.apple_team)
                && team != *key_team
            {
                return Err(invalid(
                    "credential_id",
                    format!("the key belongs to team {key_team}, the app's team is {team}"),
                ));
            }
        }
        sqlx::query(
            "DELETE FROM app_links WHERE app_id = $1 AND platform = $2 AND identifier = $3 AND slot = $4",
        )
        .bind(&app.id)
        .bind(platform)
        .bind(identifier)
        .bind(slot)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO app_links (org_id, app_id, platform, identifier, slot, credential_id, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org)
        .bind(&app.id)
        .bind(platform)
        .bind(identifier)
        .bind(slot)
        .bind(credential_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "app-link.set",
            credential_id,
            &json!({ "app": app.slug, "platform": platform, "identifier": identifier, "slot": slot }),
        )
        .await?;
        tx.commit().await?;
        Ok(Link {
            platform: platform.to_owned(),
            identifier: identifier.to_owned(),
            slot: slot.to_owned(),
            credential_id: credential_id.to_owned(),
        })
    }

    async fn linked_team(
        &self,
        conn: &mut AnyConnection,
        app: &str,
        bundle_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT c.apple_team FROM app_links l JOIN credentials c ON c.id = l.credential_id \
             WHERE l.app_id = $1 AND l.platform = 'ios' AND l.identifier = $2 AND l.slot = 'apple-team'",
        )
        .bind(app)
        .bind(bundle_id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match row {
            Some(r) => r.try_get("apple_team")?,
            None => None,
        })
    }

    /// Removes a slot's assignment.
    pub async fn remove_link(
        &self,
        actor: &Actor,
        org: &str,
        app: &App,
        platform: &str,
        identifier: &str,
        slot: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "DELETE FROM app_links WHERE app_id = $1 AND platform = $2 AND identifier = $3 AND slot = $4",
        )
        .bind(&app.id)
        .bind(platform)
        .bind(identifier)
        .bind(slot)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "app-link.remove",
            &app.id,
            &json!({ "platform": platform, "identifier": identifier, "slot": slot }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

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

    /// The decrypted material of one Android build: the named build set's keystore, or
    /// the default's. `app_ref` is the app's id or slug, checked against the caller's
    /// `scope` here (403), not by the guard: one query finds app, set and keystore, as
    /// this is what every CI build calls. Audited.
    pub async fn android_build_credentials(
        &self,
        actor: &Actor,
        org: &str,
        app_ref: &str,
        scope: &Scope,
        application_id: &str,
        name: Option<&str>,
    ) -> Result<BuildCredentials, StoreError> {
        let forbidden = || StoreError::Forbidden("this token may not act on this app".into());
        let row = sqlx::query(
            "SELECT a.id AS app_id, a.slug, \
                    s.id AS set_id, s.name AS set_name, s.is_default, s.version AS set_version, \
                    c.id, c.kind, c.name, c.apple_team, c.expires_at, c.version, c.metadata, \
                    c.created_at, c.updated_at, c.deleted_at, c.sealed \
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
        if !scope.allows(&row.try_get::<String, _>("app_id")?) {
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
        let bound = crate::credentials::derived_of(&cred);
        let secret = self.open_sealed(
            &sealed,
            &crate::Binding {
                org,
                record: &cred.id,
                kind: cred.kind.name(),
                version: u64::try_from(cred.version)
                    .map_err(|_| StoreError::Malformed("negative version"))?,
                derived: Some(&bound),
            },
        )?;
        self.audit_read(crate::audit_log::Entry {
            org: org.to_owned(),
            actor: actor.clone(),
            action: "build-credentials.fetch".into(),
            target: cred.id.clone(),
            detail: json!({ "app": app_slug, "application_id": application_id, "build_set": set.name }),
        })
        .await?;
        Ok(BuildCredentials {
            credentials: vec![cred],
            secrets: vec![secret],
            chosen: json!({ "build_set": set }),
        })
    }

    /// The decrypted material of one iOS build: the pair for the bundle id and
    /// distribution type (certificate, then profile). Audited.
    pub async fn ios_build_credentials(
        &self,
        actor: &Actor,
        org: &str,
        app: &App,
        bundle_id: &str,
        distribution: &str,
    ) -> Result<BuildCredentials, StoreError> {
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
        let detail =
            json!({ "app": app.slug, "bundle_id": bundle_id, "distribution": distribution });
        let mut credentials = Vec::new();
        let mut secrets = Vec::new();
        for id in [&pair.certificate_id, &pair.profile_id] {
            let (c, s) = self
                .read_secret(actor, org, id, "build-credentials.fetch", &detail)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => StoreError::Rule(Rule::DeletedInPair {
                        distribution: distribution.to_owned(),
                        credential: id.clone(),
                    }),
                    other => other,
                })?;
            credentials.push(c);
            secrets.push(s);
        }
        Ok(BuildCredentials {
            credentials,
            secrets,
            chosen: json!({ "build_pair": pair }),
        })
    }
}

/// SPEC §1's pairing rules, on derived metadata.
fn check_pair(
    cert: &Credential,
    profile: &Credential,
    bundle_id: &str,
    distribution: &str,
) -> Result<(), StoreError> {
    let cert_kind = cert.metadata["kind"].as_str().unwrap_or("other");
    if cert_kind == "development" && distribution != "development" {
        return Err(invalid(
            "certificate_id",
            format!(
                "a development certificate cannot sign {distribution} builds (stores reject them: \"Application failed codesign verification\")"
            ),
        ));
    }
    if cert_kind == "distribution" && distribution == "development" {
        return Err(invalid(
            "certificate_id",
            "a distribution certificate cannot sign development builds",
        ));
    }
    let profile_kind = profile.metadata["kind"].as_str().unwrap_or("");
    if profile_kind != distribution {
        return Err(invalid(
            "profile_id",
            format!("the profile is for {profile_kind} builds, not {distribution}"),
        ));
    }
    let sha1 = cert.metadata["sha1"].as_str().unwrap_or("");
    let allows = profile.metadata["certificates"]
        .as_array()
        .is_some_and(|a| a.iter().any(|c| c["sha1"] == sha1));
    if !allows {
        return Err(invalid(
            "profile_id",
            "the profile does not allow this certificate (not among its DeveloperCertificates)",
        ));
    }
    let pattern = profile.metadata["bundle_id"].as_str().unwrap_or("");
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
