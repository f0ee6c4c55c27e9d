//! Keys that sign on the server: a build's key unlocked for the server's own use (never
//! handed out), and the audit record of every signature made with it.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use signet_formats::{KeyEntry, Keystore, Password};
use zeroize::Zeroizing;

use crate::{
    Actor, App, Credential, CredentialId, OrgId, Scope, Store, StoreError, validate::SecretString,
};

/// The key of one build, unlocked on the server to sign with. It is never serialized:
/// only its certificates and the signatures it makes leave the server.
pub struct BuildKey {
    /// The app's slug.
    pub app: String,
    /// The credential that holds the key (a keystore or a distribution certificate).
    pub credential: Credential,
    /// The unlocked key and its certificate chain.
    pub key: KeyEntry,
    /// The provisioning profile of an iOS pair (embedded in the IPA), with its id.
    pub profile: Option<(CredentialId, Vec<u8>)>,
    /// Which build set or pair it came from, for the audit record.
    pub chosen: Value,
}

impl std::fmt::Debug for BuildKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildKey")
            .field("credential", &self.credential.id)
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// One signature made with a held key, as the audit log records it.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureRecord {
    /// What was signed (`jar-signature-file`, `apk-v2-signed-data`, …).
    pub purpose: String,
    /// The signature algorithm.
    pub algorithm: String,
    /// The digest the signed message attests, hex (an APK's v2/v3 content digest, a JAR
    /// manifest's digest, a code directory's digest).
    pub digest: String,
    /// That digest's algorithm (`sha256`, …).
    pub digest_algorithm: String,
}

fn malformed(what: &'static str) -> StoreError {
    StoreError::Malformed(what)
}

/// A keystore's stored secret (see `validate`).
#[derive(Deserialize)]
struct KeystoreSecret {
    keystore: SecretString,
    store_password: SecretString,
    key_alias: String,
    key_password: SecretString,
}

/// A distribution certificate's stored secret.
#[derive(Deserialize)]
struct P12Secret {
    p12: SecretString,
    password: SecretString,
}

/// A provisioning profile's stored secret.
#[derive(Deserialize)]
struct ProfileSecret {
    profile: String,
}

fn parse<'a, T: Deserialize<'a>>(secret: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(secret).map_err(|_| malformed("a stored secret is not as written"))
}

fn base64_file(text: &str) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Zeroizing::new)
        .map_err(|_| malformed("a stored secret's file is not base64"))
}

/// Unlocks the key of a keystore's secret.
fn unlock_keystore(secret: &[u8]) -> Result<KeyEntry, StoreError> {
    let s: KeystoreSecret = parse(secret)?;
    let file = base64_file(s.keystore.expose())?;
    let store = Keystore::open(&file, Some(&Password::new(s.store_password.expose())))
        .map_err(|_| malformed("a stored keystore no longer opens with its stored password"))?;
    store
        .unlock(Some(&s.key_alias), &Password::new(s.key_password.expose()))
        .map_err(|_| malformed("a stored key no longer opens with its stored password"))
}

/// Unlocks the key of a distribution certificate's secret (.p12).
fn unlock_p12(secret: &[u8]) -> Result<KeyEntry, StoreError> {
    let s: P12Secret = parse(secret)?;
    let file = base64_file(s.p12.expose())?;
    let pass = Password::new(s.password.expose());
    let store = Keystore::open(&file, Some(&pass))
        .map_err(|_| malformed("a stored .p12 no longer opens with its stored password"))?;
    store
        .unlock(None, &pass)
        .map_err(|_| malformed("a stored .p12's key no longer opens with its stored password"))
}

impl Store {
    /// The key of an Android build set (the named one, or the default), unlocked to sign
    /// with on the server. `app_ref` is checked against the caller's `scope` (403). Not
    /// audited: [`Store::audit_signatures`] records each signature made with it.
    pub async fn android_build_key(
        &self,
        org: &OrgId,
        app_ref: &str,
        scope: &Scope,
        application_id: &str,
        name: Option<&str>,
    ) -> Result<BuildKey, StoreError> {
        let found = self
            .android_build_secret(org, app_ref, scope, application_id, name)
            .await?;
        let key = unlock_keystore(&found.secret)?;
        Ok(BuildKey {
            app: found.app_slug.clone(),
            credential: found.keystore,
            key,
            profile: None,
            chosen: json!({
                "app": found.app_slug,
                "application_id": application_id,
                "build_set": found.set.name,
            }),
        })
    }

    /// The key of an iOS build pair (its distribution certificate) with the pair's
    /// provisioning profile, unlocked to sign with on the server. Not audited:
    /// [`Store::audit_signatures`] records each signature made with it.
    pub async fn ios_build_key(
        &self,
        org: &OrgId,
        app: &App,
        bundle_id: &str,
        distribution: &str,
    ) -> Result<BuildKey, StoreError> {
        let (_, mut opened) = self
            .ios_pair_secrets(org, app, bundle_id, distribution)
            .await?;
        let (Some((profile_record, profile)), Some((certificate, cert_secret))) =
            (opened.pop(), opened.pop())
        else {
            return Err(malformed("a build pair lacks its certificate or profile"));
        };
        let key = unlock_p12(&cert_secret)?;
        let profile: ProfileSecret = parse(&profile)?;
        let profile = base64_file(&profile.profile)?.to_vec();
        Ok(BuildKey {
            app: app.slug.clone(),
            credential: certificate,
            key,
            profile: Some((profile_record.id, profile)),
            chosen: json!({ "app": app.slug, "bundle_id": bundle_id, "distribution": distribution }),
        })
    }

    /// Records every signature `key` made, one audit record each (action `sign`, the
    /// credential as target; the detail names the app, the build set or pair, the
    /// artifact, the key's certificate SHA-256 and what was signed). Returns once all are
    /// committed: a signature is handed out only after its record is.
    pub async fn audit_signatures(
        &self,
        actor: &Actor,
        org: &OrgId,
        key: &BuildKey,
        artifact: &str,
        signatures: &[SignatureRecord],
    ) -> Result<(), StoreError> {
        let fingerprint = key
            .key
            .chain
            .first()
            .map(|c| c.info().fingerprints.sha256.clone())
            .unwrap_or_default();
        let writes = signatures.iter().map(|s| {
            let mut detail = json!({
                "app": key.app,
                "artifact": artifact,
                "key_sha256": fingerprint,
                "purpose": s.purpose,
                "algorithm": s.algorithm,
                "digest": s.digest,
                "digest_algorithm": s.digest_algorithm,
            });
            if let (Some(d), Some(chosen)) = (detail.as_object_mut(), key.chosen.as_object()) {
                d.extend(chosen.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            self.audit_read(crate::audit_log::Entry {
                org: org.clone(),
                actor: actor.clone(),
                action: "sign".into(),
                target: key.credential.id.to_string(),
                detail,
            })
        });
        for result in futures_util::future::join_all(writes).await {
            result?;
        }
        Ok(())
    }

    /// Records that the provisioning profile of `key`'s pair was handed out to sign an
    /// IPA with (action `sign.profile`, the profile as target).
    pub async fn audit_profile_read(
        &self,
        actor: &Actor,
        org: &OrgId,
        key: &BuildKey,
    ) -> Result<(), StoreError> {
        let Some((profile, _)) = &key.profile else {
            return Ok(());
        };
        self.audit_read(crate::audit_log::Entry {
            org: org.clone(),
            actor: actor.clone(),
            action: "sign.profile".into(),
            target: profile.to_string(),
            detail: key.chosen.clone(),
        })
        .await
    }
}
