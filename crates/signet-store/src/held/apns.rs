//! APNs provider tokens minted on the server: which push key an app's bundle id uses, and
//! the audit of a token served without reading the key (from a server's cache).

use serde_json::Value;
use sqlx::Row;

use crate::{Actor, App, Credential, CredentialId, OrgId, Store, StoreError, error::Rule};

fn invalid(reason: String) -> StoreError {
    StoreError::Invalid {
        field: "bundle_id",
        reason,
    }
}

impl Store {
    /// The push key in the `push-key` slot of `bundle_id` of `app`, or, without a bundle
    /// id, of the app's only iOS bundle id that has one: `(bundle id, its record)`. No push
    /// key, or several bundle ids with one and none named, is [`StoreError::Invalid`] on
    /// `bundle_id` listing those that have one; a deleted key is
    /// [`Rule::DeletedPushKey`].
    pub async fn app_push_key(
        &self,
        org: &OrgId,
        app: &App,
        bundle_id: Option<&str>,
    ) -> Result<(String, Credential), StoreError> {
        let rows = sqlx::query(
            "SELECT identifier, credential_id FROM app_links \
             WHERE org_id = $1 AND app_id = $2 AND platform = 'ios' AND slot = 'push-key' \
             ORDER BY identifier",
        )
        .bind(org)
        .bind(&app.id)
        .fetch_all(&self.pool)
        .await?;
        let mut keys = Vec::new();
        for r in &rows {
            let identifier: String = r.try_get("identifier")?;
            let id: CredentialId = r.try_get("credential_id")?;
            keys.push((identifier, id));
        }
        let with_key = || {
            keys.iter()
                .map(|(b, _)| b.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (bundle, id) = match bundle_id {
            Some(b) => keys
                .iter()
                .find(|(identifier, _)| identifier == b)
                .cloned()
                .ok_or_else(|| {
                    invalid(if keys.is_empty() {
                        format!(
                            "app {} has no push key (no iOS bundle id has one)",
                            app.slug
                        )
                    } else {
                        format!(
                            "bundle id {b} of app {} has no push key; these have one: {}",
                            app.slug,
                            with_key()
                        )
                    })
                })?,
            None => match keys.as_slice() {
                [only] => only.clone(),
                [] => {
                    return Err(invalid(format!(
                        "app {} has no push key (no iOS bundle id has one); assign one to a \
                         bundle id's push-key slot",
                        app.slug
                    )));
                }
                _ => {
                    return Err(invalid(format!(
                        "app {} has push keys for several bundle ids; name one of: {}",
                        app.slug,
                        with_key()
                    )));
                }
            },
        };
        let c = self.credential(org, &id, true).await?;
        if c.deleted_at.is_some() {
            return Err(StoreError::Rule(Rule::DeletedPushKey {
                bundle_id: bundle,
                credential: id.to_string(),
            }));
        }
        Ok((bundle, c))
    }

    /// Writes the audit record of something done with a held key that reads no secret
    /// (an APNs provider token served from a server's cache); it is committed before this
    /// returns, so the caller answers only once the record exists.
    pub async fn audit_use(
        &self,
        actor: &Actor,
        org: &OrgId,
        action: &str,
        target: &str,
        detail: Value,
    ) -> Result<(), StoreError> {
        self.audit_read(crate::audit_log::Entry {
            org: org.clone(),
            actor: actor.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail,
        })
        .await
    }
}
