//! Keys made on the server, whose private half need never reach a client: Android
//! keystores generated for build sets ([`KeystoreSpec`], [`Store::generate_keystore`]) and
//! Apple certificate requests (`certificate_requests.rs`: the key sealed here, the CSR
//! handed out, the `.cer` Apple returns joined to the key into the stored `.p12`), and
//! the push key behind an app's APNs provider tokens (`apns.rs`), and Play App Signing
//! opt-ins (`play_signing.rs`: a new upload key generated, the old key marked as the
//! app-signing key Google holds).

mod apns;
mod certificate_requests;
mod play_signing;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use signet_formats::{
    DistinguishedName, KeyAlgorithm, KeystoreType, Password, Pkcs12Encryption, WriteOptions,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use certificate_requests::CertificateRequest;
pub use play_signing::{OptedIn, PlayAppSigning};

use crate::{
    Actor, Credential, OrgId, Store, StoreError,
    validate::{KeystoreUpload, MAX_FIELD_BYTES, SecretString, Upload, Validated, validate},
};

/// The subject of a generated keystore's certificate unless the spec names one (as `signet
/// keystore generate`).
pub const DEFAULT_DNAME: &str = "CN=Android Upload Key";
/// Days a generated certificate is valid unless the spec says otherwise (eas-cli's and
/// `signet keystore generate`'s 10 000).
pub const DEFAULT_VALIDITY_DAYS: u32 = 10_000;

/// What to generate: every field optional, with `signet keystore generate`'s defaults (a
/// PKCS#12 as keytool writes it, RSA 2048, `CN=Android Upload Key`, 10 000 days, a random
/// 32-hex alias and password). The request body of `POST …/credentials/generate`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreSpec {
    /// The credential's display name [default: the alias and the SHA-1 prefix, as an
    /// upload's].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key's alias [default: 32 random hex characters].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The certificate's subject in keytool's syntax [default: `CN=Android Upload Key`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dname: Option<String>,
    /// `rsa` or `ec` [default: `rsa`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_alg: Option<String>,
    /// Key size in bits [default: 2048 for RSA, 256 for EC].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_size: Option<u32>,
    /// Days the certificate is valid [default: 10 000].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_days: Option<u32>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl KeystoreSpec {
    /// Generates the keystore the spec describes and runs it through upload validation
    /// (so what is stored is derived as an upload's is). CPU work (key generation and the
    /// PKCS#12 key derivation): call it off the async workers. A bad field is
    /// [`StoreError::Invalid`] naming it.
    pub fn generate(&self, now: OffsetDateTime) -> Result<Validated, StoreError> {
        self.generate_with_certificate(now).map(|(v, _)| v)
    }

    /// [`KeystoreSpec::generate`], with the new certificate (DER).
    pub(crate) fn generate_with_certificate(
        &self,
        now: OffsetDateTime,
    ) -> Result<(Validated, Vec<u8>), StoreError> {
        let alias = match &self.alias {
            Some(a) if a.trim().is_empty() || a.len() > MAX_FIELD_BYTES => {
                return Err(invalid("alias", "1 to 1024 bytes, not blank"));
            }
            Some(a) if a.chars().any(char::is_control) => {
                return Err(invalid("alias", "no control characters"));
            }
            Some(a) => a.clone(),
            None => signet_formats::random_hex32().map_err(|_| StoreError::Crypto("random"))?,
        };
        let dname = DistinguishedName::parse(self.dname.as_deref().unwrap_or(DEFAULT_DNAME))
            .map_err(|e| invalid("dname", e.to_string()))?;
        let family = self.key_alg.as_deref().unwrap_or("rsa");
        if !matches!(family, "rsa" | "ec") {
            return Err(invalid("key_alg", "one of: rsa, ec"));
        }
        let algorithm = KeyAlgorithm::from_name_and_size(family, self.key_size)
            .map_err(|e| invalid("key_size", e.to_string()))?;
        let days = self.validity_days.unwrap_or(DEFAULT_VALIDITY_DAYS);
        let in_range = now
            .checked_add(time::Duration::days(i64::from(days)))
            .is_some_and(|t| t.year() <= 9999);
        if days == 0 || !in_range {
            return Err(invalid(
                "validity_days",
                "at least 1, ending before the year 10000",
            ));
        }
        let password = Password::generate().map_err(|_| StoreError::Crypto("random"))?;
        let entry = signet_formats::generate::key_entry(&alias, algorithm, &dname, days)
            .map_err(|e| invalid("dname", e.to_string()))?;
        let bytes = Zeroizing::new(
            signet_formats::write(
                std::slice::from_ref(&entry),
                &[],
                &WriteOptions {
                    kind: KeystoreType::Pkcs12,
                    store_password: password.clone(),
                    key_password: None,
                    pkcs12_encryption: Pkcs12Encryption::Modern,
                },
            )
            .map_err(|_| StoreError::Crypto("writing the keystore"))?,
        );
        let certificate = entry
            .chain
            .first()
            .map(|c| c.der().to_vec())
            .ok_or(StoreError::Crypto("no certificate generated"))?;
        let v = validate(
            &Upload::AndroidKeystore(KeystoreUpload {
                name: self.name.clone(),
                keystore: SecretString::new(
                    base64::engine::general_purpose::STANDARD.encode(&*bytes),
                ),
                store_password: SecretString::new(password.expose()),
                key_alias: Some(alias),
                key_password: None,
            }),
            now,
        )?;
        Ok((v, certificate))
    }
}

/// Runs CPU-bound work (key generation, key derivation) on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| StoreError::Crypto("key generation did not finish"))?
}

/// Marks a credential whose key was made here as held: the build-credentials fetch hands
/// it out to admins only (others sign with it on the server).
pub(crate) async fn mark_held(
    tx: &mut sqlx::AnyConnection,
    id: &crate::CredentialId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE credentials SET held = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Store {
    /// Generates an Android keystore on the server (see [`KeystoreSpec`]) and stores it as
    /// an `android-keystore` credential, audited as `credential.generate`. The key and its
    /// random password never leave the server unless an admin exports them.
    pub async fn generate_keystore(
        &self,
        actor: &Actor,
        org: &OrgId,
        spec: KeystoreSpec,
    ) -> Result<Credential, StoreError> {
        let v = blocking(move || spec.generate(OffsetDateTime::now_utc())).await?;
        let mut tx = self.begin().await?;
        let detail = json!({ "type": v.kind.name(), "name": v.name, "generated": true });
        let id = self
            .insert_credential(&mut tx, actor, org, v, "credential.generate", detail)
            .await?;
        mark_held(&mut tx, &id).await?;
        let c = self.credential_in(&mut tx, org, &id, false).await?;
        tx.commit().await?;
        Ok(c)
    }
}
