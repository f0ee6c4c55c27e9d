//! Android build credential sets: named, one default per application id.

use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{SET_COLUMNS, check_identifier, invalid, set_row};
use crate::{
    Actor, App, AppId, BuildSet, BuildSetId, CredentialId, Kind, Named, OrgId, Rule, Scope, Store,
    StoreError,
    db::{audit, now, unique_violation},
};

impl Store {
    pub(crate) async fn build_set_in(
        &self,
        conn: &mut AnyConnection,
        app: &AppId,
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
        org: &OrgId,
        app: &App,
        application_id: &str,
        name: &str,
        keystore_id: &Named<CredentialId>,
        make_default: bool,
        expected_version: Option<i64>,
        scope: &Scope,
    ) -> Result<(BuildSet, bool), StoreError> {
        check_identifier("application_id", application_id)?;
        super::check_build_set_name(name)?;
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
                .bind(&keystore.id)
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
                let id = BuildSetId::mint()?;
                sqlx::query(
                    "INSERT INTO android_build_sets (id, org_id, app_id, application_id, name, keystore_id, is_default, version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
                )
                .bind(&id)
                .bind(org)
                .bind(&app.id)
                .bind(application_id)
                .bind(name)
                .bind(&keystore.id)
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

    pub(crate) async fn move_default(
        &self,
        conn: &mut AnyConnection,
        app: &AppId,
        application_id: &str,
        to: &BuildSetId,
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
        org: &OrgId,
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
        org: &OrgId,
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
}
