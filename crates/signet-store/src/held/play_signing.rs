//! Play App Signing opt-in (as `expo opt-in-google-play-signing` did): the application
//! id's current keystore becomes the app-signing key that Google holds, a new upload key is
//! generated here and made the default build set, in one transaction. The old keystore is
//! never deleted by this flow; the `play_app_signing` row marks it, so `credentials android
//! show`, its impact and its delete say what it is, and the purge never destroys it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Row, any::AnyRow};
use time::OffsetDateTime;

use super::{KeystoreSpec, blocking};
use crate::{
    Actor, App, AppId, BuildSet, BuildSetId, Credential, CredentialId, OrgId, Store, StoreError,
    apps::{SET_COLUMNS, check_build_set_name, check_identifier, set_row},
    db::{audit, now, unique_violation},
    error::Rule,
};

/// An application id's opt-in to Play App Signing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlayAppSigning {
    /// The application id (package name).
    pub application_id: String,
    /// The keystore whose key Google now signs releases with (kept, never deleted by the
    /// opt-in).
    pub app_signing_keystore_id: CredentialId,
    /// The upload keystore generated at the opt-in.
    pub upload_keystore_id: CredentialId,
    /// When (ms since the epoch).
    pub opted_in_at: i64,
    /// Who.
    pub opted_in_by: String,
}

/// What an opt-in did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OptedIn {
    /// The marking.
    pub play_app_signing: PlayAppSigning,
    /// The new default build set, signing with the upload key.
    pub build_set: BuildSet,
    /// The upload keystore's record.
    pub upload_keystore: Credential,
    /// The upload certificate as `keytool -exportcert -rfc` writes it, for the Play
    /// Console.
    pub upload_certificate_pem: String,
}

const COLUMNS: &str =
    "application_id, app_signing_keystore_id, upload_keystore_id, opted_in_at, opted_in_by";

pub(crate) fn opt_in_row(r: &AnyRow) -> Result<PlayAppSigning, StoreError> {
    Ok(PlayAppSigning {
        application_id: r.try_get("application_id")?,
        app_signing_keystore_id: r.try_get("app_signing_keystore_id")?,
        upload_keystore_id: r.try_get("upload_keystore_id")?,
        opted_in_at: r.try_get("opted_in_at")?,
        opted_in_by: r.try_get("opted_in_by")?,
    })
}

/// The opt-in of `application_id` of `app`, if there is one (`lock`: `FOR UPDATE` or "").
async fn opt_in_of(
    conn: &mut sqlx::AnyConnection,
    app: &AppId,
    application_id: &str,
    lock: &str,
) -> Result<Option<PlayAppSigning>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM play_app_signing WHERE app_id = $1 AND application_id = $2{lock}"
    ))
    .bind(app)
    .bind(application_id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(opt_in_row)
    .transpose()
}

fn done_before(p: &PlayAppSigning) -> StoreError {
    let on = OffsetDateTime::from_unix_timestamp_nanos(i128::from(p.opted_in_at) * 1_000_000)
        .map_or_else(|_| "earlier".to_owned(), |t| t.date().to_string());
    StoreError::Rule(Rule::PlayAppSigningDone {
        application_id: p.application_id.clone(),
        on,
        app_signing_keystore: p.app_signing_keystore_id.to_string(),
    })
}

impl Store {
    /// The Play App Signing opt-ins of an app, by application id.
    pub async fn play_app_signing(
        &self,
        org: &OrgId,
        app: &AppId,
    ) -> Result<Vec<PlayAppSigning>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM play_app_signing WHERE org_id = $1 AND app_id = $2 ORDER BY application_id"
        ))
        .bind(org)
        .bind(app)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(opt_in_row).collect()
    }

    /// Opts `application_id` of `app` in to Play App Signing: its default build set's
    /// keystore is marked as the app-signing key held by Google (kept as it is), and a new
    /// upload keystore (generated here, as [`KeystoreSpec`]'s defaults make it) becomes
    /// the default, in a new build set `build_set` (`upload` unless named). One
    /// transaction: a failure changes nothing. Audited as `play-app-signing.opt-in` (and
    /// the keystore as `credential.generate`). A second opt-in is
    /// [`Rule::PlayAppSigningDone`], naming when the first was made.
    pub async fn opt_in_play_app_signing(
        &self,
        actor: &Actor,
        org: &OrgId,
        app: &App,
        application_id: &str,
        build_set: Option<&str>,
    ) -> Result<OptedIn, StoreError> {
        check_identifier("application_id", application_id)?;
        let name = build_set.unwrap_or("upload").to_owned();
        check_build_set_name(&name)?;
        // Refused before a key is generated, and again under the transaction.
        {
            let mut conn = self.pool.acquire().await?;
            if let Some(p) = opt_in_of(&mut conn, &app.id, application_id, "").await? {
                return Err(done_before(&p));
            }
        }
        let spec = KeystoreSpec {
            name: Some(format!("{} {application_id} upload key", app.slug)),
            ..KeystoreSpec::default()
        };
        let (v, certificate) =
            blocking(move || spec.generate_with_certificate(OffsetDateTime::now_utc())).await?;
        let upload_certificate_pem =
            signet_formats::pem::encode_keytool_rfc("CERTIFICATE", &certificate);

        let mut tx = self.begin().await?;
        if let Some(p) = opt_in_of(&mut tx, &app.id, application_id, self.for_update()).await? {
            return Err(done_before(&p));
        }
        let default = sqlx::query(&format!(
            "SELECT {SET_COLUMNS} FROM android_build_sets WHERE app_id = $1 AND application_id = $2 AND is_default = 1{}",
            self.for_update()
        ))
        .bind(&app.id)
        .bind(application_id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(set_row)
        .transpose()?
        .ok_or_else(|| StoreError::Invalid {
            field: "application_id",
            reason: format!(
                "{application_id} of app {} has no build set: there is no key to hand to Google",
                app.slug
            ),
        })?;
        let old = self
            .credential_in(&mut tx, org, &default.keystore_id, false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => StoreError::Rule(Rule::DeletedKeystore {
                    build_set: default.name.clone(),
                }),
                other => other,
            })?;
        if self
            .build_set_in(&mut tx, &app.id, application_id, &name)
            .await?
            .is_some()
        {
            return Err(StoreError::Exists(format!(
                "build set `{name}` of {application_id}; name the upload key's build set otherwise"
            )));
        }
        let detail = json!({ "type": v.kind.name(), "name": v.name, "generated": true,
                             "play_app_signing": application_id });
        let upload = self
            .insert_credential(&mut tx, actor, org, v, "credential.generate", detail)
            .await?;
        super::mark_held(&mut tx, &upload).await?;
        let t = now();
        let set_id = BuildSetId::mint()?;
        sqlx::query(
            "INSERT INTO android_build_sets (id, org_id, app_id, application_id, name, keystore_id, is_default, version, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 1, $7)",
        )
        .bind(&set_id)
        .bind(org)
        .bind(&app.id)
        .bind(application_id)
        .bind(&name)
        .bind(&upload)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.move_default(&mut tx, &app.id, application_id, &set_id)
            .await?;
        sqlx::query(
            "INSERT INTO play_app_signing (app_id, org_id, application_id, app_signing_keystore_id, upload_keystore_id, opted_in_at, opted_in_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&app.id)
        .bind(org)
        .bind(application_id)
        .bind(&old.id)
        .bind(&upload)
        .bind(t)
        .bind(&actor.who)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, || format!("a Play App Signing opt-in of {application_id}")))?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "play-app-signing.opt-in",
            &old.id,
            &json!({ "app": app.slug, "application_id": application_id,
                     "app_signing_keystore": old.id, "upload_keystore": upload,
                     "build_set": name, "previous_default": default.name }),
        )
        .await?;
        let marking = opt_in_of(&mut tx, &app.id, application_id, "")
            .await?
            .ok_or(StoreError::NotFound)?;
        let opted = OptedIn {
            play_app_signing: marking,
            build_set: self
                .build_set_in(&mut tx, &app.id, application_id, &name)
                .await?
                .ok_or(StoreError::NotFound)?,
            upload_keystore: self.credential_in(&mut tx, org, &upload, false).await?,
            upload_certificate_pem,
        };
        tx.commit().await?;
        Ok(opted)
    }
}
