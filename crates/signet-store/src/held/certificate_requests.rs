//! Apple certificate requests: the server makes an RSA 2048 key (Apple's requirement) and a
//! CSR for it; the key is sealed like every secret (bound to organization, request id, the
//! type `certificate-request` and version 1), the CSR is public. The `.cer` Apple issues
//! for the CSR is posted back: its public key must be the request's, then key and
//! certificate become a `.p12` (3DES/SHA-1, a random password, as `signet ios p12` and
//! Keychain want it) stored as an `apple-distribution-certificate` through upload
//! validation, and the request is completed, once.
//!
//! The table shares the binding columns of `credentials` (`kind`, `version`, `metadata`,
//! `expires_at`, `apple_team`), so the master-key rewrap and `key_usage` treat its sealed
//! keys as they treat credentials'.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use signet_formats::{KeyAlgorithm, PrivateKey, apple::read_certificate, pem};
use sqlx::{Row, any::AnyRow};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::blocking;
use crate::{
    Actor, Binding, Credential, CredentialId, OrgId, Page, PageRequest, Sealed, Store, StoreError,
    credentials::{bad_cursor, derived, derived_in_row, paginate},
    db::{audit, now},
    error::Rule,
    ids::CertificateRequestId,
    validate::{CertificateUpload, SecretString, Upload, validate},
};

/// The type a request's sealed key is bound to.
const KIND: &str = "certificate-request";

/// A certificate request as the API shows it: never its key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertificateRequest {
    /// Its id (`csr_…`).
    pub id: CertificateRequestId,
    /// The CSR's common name.
    pub common_name: String,
    /// The CSR's e-mail address, if given.
    pub email: Option<String>,
    /// The request's public key: SHA-256 of its subjectPublicKey bits, lower-case hex (the
    /// same digest of a certificate's key tells whether it was issued for this request).
    pub public_key_sha256: String,
    /// The CSR (PEM), to upload on Apple's portal.
    pub csr_pem: String,
    /// When it was made (ms since the epoch).
    pub created_at: i64,
    /// Who made it.
    pub created_by: String,
    /// When Apple's certificate was joined to it, if it was.
    pub completed_at: Option<i64>,
    /// The credential made then.
    pub credential_id: Option<CredentialId>,
}

/// The public facts stored as the row's `metadata` (and bound to its sealed key).
#[derive(Serialize, Deserialize)]
struct Facts {
    common_name: String,
    email: Option<String>,
    public_key_sha256: String,
}

const COLUMNS: &str = "id, org_id, kind, version, apple_team, expires_at, metadata, key_id, \
                       sealed, csr_pem, created_at, created_by, completed_at, credential_id";

fn request(row: &AnyRow) -> Result<CertificateRequest, StoreError> {
    let metadata: String = row.try_get("metadata")?;
    let facts: Facts = serde_json::from_str(&metadata)
        .map_err(|_| StoreError::Malformed("certificate request metadata"))?;
    let credential: Option<String> = row.try_get("credential_id")?;
    Ok(CertificateRequest {
        id: row.try_get("id")?,
        common_name: facts.common_name,
        email: facts.email,
        public_key_sha256: facts.public_key_sha256,
        csr_pem: row.try_get("csr_pem")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        completed_at: row.try_get("completed_at")?,
        credential_id: credential
            .map(|c| CredentialId::parse(&c))
            .transpose()
            .map_err(|_| StoreError::Malformed("certificate request credential id"))?,
    })
}

fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    signet_formats::hex_lower(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// The refusal of a request completed before.
fn completed(r: &CertificateRequest) -> StoreError {
    let at = r
        .completed_at
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .map_or_else(|| "earlier".to_owned(), |t| t.date().to_string());
    StoreError::Rule(Rule::RequestCompleted {
        request: r.id.to_string(),
        on: at,
        credential: r
            .credential_id
            .as_ref()
            .map_or_else(String::new, ToString::to_string),
    })
}

impl Store {
    /// Makes an Apple certificate request: an RSA 2048 key generated and sealed here, and
    /// a CSR (`CN=<common_name>`, `emailAddress` when given, SHA-256 with RSA) returned in
    /// [`CertificateRequest::csr_pem`]. Audited as `certificate-request.create`. Other
    /// server code (the Apple automation) calls it directly.
    pub async fn create_certificate_request(
        &self,
        actor: &Actor,
        org: &OrgId,
        common_name: &str,
        email: Option<&str>,
    ) -> Result<CertificateRequest, StoreError> {
        let common_name = common_name.trim().to_owned();
        if common_name.is_empty()
            || common_name.chars().count() > 64
            || common_name.chars().any(char::is_control)
        {
            return Err(invalid("common_name", "1 to 64 printable characters"));
        }
        let email = email.map(str::trim).map(str::to_owned);
        if let Some(e) = &email
            && (e.len() > 254
                || !e.contains('@')
                || !e.is_ascii()
                || e.contains(char::is_whitespace))
        {
            return Err(invalid(
                "email",
                "an ASCII e-mail address of at most 254 bytes",
            ));
        }
        let (cn, em) = (common_name.clone(), email.clone());
        let (pkcs8, public_key, csr_pem) = blocking(move || {
            let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)
                .map_err(|_| StoreError::Crypto("RSA key generation"))?;
            let csr = signet_formats::generate::csr_pem(&key, &cn, em.as_deref(), None)
                .map_err(|e| invalid("common_name", e.to_string()))?;
            let public = key
                .public_key_bits()
                .map_err(|_| StoreError::Crypto("public key"))?;
            Ok((Zeroizing::new(key.pkcs8_der().to_vec()), public, csr))
        })
        .await?;
        let id = CertificateRequestId::mint()?;
        let metadata = serde_json::to_value(Facts {
            common_name,
            email,
            public_key_sha256: sha256_hex(&public_key),
        })
        .map_err(|_| StoreError::Malformed("certificate request metadata"))?
        .to_string();
        let bound = derived(&metadata, None, None);
        let sealed = self.seal(
            &pkcs8,
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: KIND,
                version: 1,
                derived: Some(&bound),
            },
        )?;
        let t = now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO certificate_requests (id, org_id, kind, version, apple_team, expires_at, metadata, key_id, sealed, csr_pem, created_at, created_by) \
             VALUES ($1, $2, $3, 1, NULL, NULL, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(org)
        .bind(KIND)
        .bind(&metadata)
        .bind(sealed.key_id()?.to_owned())
        .bind(sealed.as_bytes().to_vec())
        .bind(&csr_pem)
        .bind(t)
        .bind(&actor.who)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "certificate-request.create",
            &id,
            &json!({ "common_name": &metadata_field(&metadata, "common_name") }),
        )
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificate_requests WHERE id = $1"
        ))
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        let r = request(&row)?;
        tx.commit().await?;
        Ok(r)
    }

    /// One certificate request of the organization.
    pub async fn certificate_request(
        &self,
        org: &OrgId,
        id: &CertificateRequestId,
    ) -> Result<CertificateRequest, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificate_requests WHERE org_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        request(&row)
    }

    /// The organization's certificate requests, by id (completed ones too).
    pub async fn certificate_requests(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<CertificateRequest>, StoreError> {
        let limit = page.limit();
        let after = match page.cursor.as_deref() {
            Some(c) => Some(CertificateRequestId::parse(c).map_err(|_| bad_cursor())?),
            None => None,
        };
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificate_requests WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(org)
        .bind(after.as_ref().map_or("", CertificateRequestId::as_str))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(paginate(
            rows.iter().map(request).collect::<Result<_, _>>()?,
            limit,
            |r| r.id.to_string(),
        ))
    }

    /// Joins the certificate Apple issued for request `id` (`cer`: DER, as Apple's `.cer`
    /// downloads are, or PEM) to the request's key: refused as [`StoreError::Invalid`] on
    /// `certificate` when the certificate's public key is not the request's, then stored
    /// as an `apple-distribution-certificate` (a `.p12` with a random password, validated
    /// as an upload: an Apple certificate naming its team, unexpired, within the team's
    /// limit) named `name` or by the certificate, and the request marked completed, in
    /// one transaction. A second completion is [`Rule::RequestCompleted`]. Other server
    /// code (the Apple automation) calls it directly.
    pub async fn complete_certificate_request(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &CertificateRequestId,
        cer: &[u8],
        name: Option<&str>,
    ) -> Result<Credential, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM certificate_requests WHERE org_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let r = request(&row)?;
        if r.completed_at.is_some() {
            return Err(completed(&r));
        }
        let key_der = self.open_sealed(
            &Sealed::from_bytes(row.try_get("sealed")?),
            &Binding {
                org: org.as_str(),
                record: id.as_str(),
                kind: KIND,
                version: 1,
                derived: Some(&derived_in_row(&row)?),
            },
        )?;
        let cert = read_certificate(cer).map_err(|e| invalid("certificate", e.to_string()))?;
        let cert_key = cert
            .public_key_bits()
            .map_err(|e| invalid("certificate", e.to_string()))?;
        let cert_key_sha256 = sha256_hex(cert_key);
        if cert_key_sha256 != r.public_key_sha256 {
            return Err(invalid(
                "certificate",
                format!(
                    "the certificate's public key is not this request's key (request {id}: key \
                     SHA-256 {}; the certificate's: {cert_key_sha256}); upload the .cer Apple \
                     issued for this request's CSR",
                    r.public_key_sha256
                ),
            ));
        }
        let upload = Upload::AppleDistributionCertificate(CertificateUpload {
            name: name.map(str::to_owned),
            p12: None,
            password: None,
            private_key: Some(SecretString::new(pem::encode("PRIVATE KEY", &key_der))),
            certificate: Some(pem::encode("CERTIFICATE", cert.der())),
            team_id: None,
        });
        let v = blocking(move || validate(&upload, OffsetDateTime::now_utc())).await?;
        let mut tx = self.begin().await?;
        let detail = json!({ "type": v.kind.name(), "name": v.name, "certificate_request": id });
        let credential = self
            .insert_credential(&mut tx, actor, org, v, "credential.create", detail)
            .await?;
        super::mark_held(&mut tx, &credential).await?;
        let done = sqlx::query(
            "UPDATE certificate_requests SET completed_at = $1, completed_by = $2, credential_id = $3 \
             WHERE org_id = $4 AND id = $5 AND completed_at IS NULL",
        )
        .bind(now())
        .bind(&actor.who)
        .bind(&credential)
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            drop(tx);
            // Completed by a concurrent call: say when and by what.
            return Err(completed(&self.certificate_request(org, id).await?));
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "certificate-request.complete",
            id,
            &json!({ "credential": &credential, "certificate_sha1": cert.fingerprints().sha1 }),
        )
        .await?;
        let c = self.credential_in(&mut tx, org, &credential, false).await?;
        tx.commit().await?;
        Ok(c)
    }
}

/// A string field of stored metadata, for an audit detail.
fn metadata_field(metadata: &str, field: &str) -> Value {
    serde_json::from_str::<Value>(metadata)
        .ok()
        .and_then(|v| v.get(field).cloned())
        .unwrap_or(Value::Null)
}
