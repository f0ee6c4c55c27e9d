//! Credentials assigned to an app's slots (FCM key, service accounts, Apple team, push key,
//! ASC key).

use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{SLOTS, check_identifier, invalid};
use crate::{
    Actor, App, AppId, CredentialId, Kind, Link, Named, OrgId, Scope, Store, StoreError,
    db::{audit, now},
};

impl Store {
    /// Assigns a credential to one of an app's slots (see [`SLOTS`]).
    pub async fn set_link(
        &self,
        actor: &Actor,
        org: &OrgId,
        app: &App,
        platform: &str,
        identifier: &str,
        slot: &str,
        credential_id: &Named<CredentialId>,
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
        .bind(&c.id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "app-link.set",
            &c.id,
            &json!({ "app": app.slug, "platform": platform, "identifier": identifier, "slot": slot }),
        )
        .await?;
        tx.commit().await?;
        Ok(Link {
            platform: platform.to_owned(),
            identifier: identifier.to_owned(),
            slot: slot.to_owned(),
            credential_id: c.id,
        })
    }

    pub(super) async fn linked_team(
        &self,
        conn: &mut AnyConnection,
        app: &AppId,
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
        org: &OrgId,
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
}
