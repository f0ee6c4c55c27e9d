//! Signing with a key that stays on the server: the client computes what must be signed
//! (a JAR signature file, an APK signer's signed data, a code signature's signed
//! attributes), the server checks that each message is one of those and fits the key,
//! signs it, audits each signature with the digest it attests, and returns the signatures
//! and the certificate chain. The artifact and the private key never cross the network.

use std::sync::Arc;

use axum::{Json, extract::State};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use signet_formats::SignatureScheme;
use signet_sign::{Purpose, SigningKey, ToSign};
use signet_store::{BuildKey, SignatureRecord};

use crate::{
    ApiJson, AppState,
    auth::Access,
    error::{ApiError, ApiResult},
};

/// The most messages one request may carry (an IPA's bundles are signed one call each;
/// an APK needs at most two).
const MAX_MESSAGES: usize = 8;

/// What is being signed: it decides which key (build set or pair) and which messages are
/// acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Artifact {
    Apk,
    Aab,
    Ipa,
}

impl Artifact {
    fn name(self) -> &'static str {
        match self {
            Artifact::Apk => "apk",
            Artifact::Aab => "aab",
            Artifact::Ipa => "ipa",
        }
    }

    /// The messages an artifact of this kind has signed.
    fn allows(self, purpose: Purpose) -> bool {
        match self {
            Artifact::Apk => matches!(
                purpose,
                Purpose::JarSignatureFile | Purpose::ApkV2SignedData | Purpose::ApkV3SignedData
            ),
            Artifact::Aab => purpose == Purpose::JarSignatureFile,
            Artifact::Ipa => purpose == Purpose::CmsSignedAttributes,
        }
    }
}

/// One to-be-signed message; the field names are the wire's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)]
pub(crate) struct Message {
    purpose: Purpose,
    algorithm: SignatureScheme,
    /// Base64.
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignBody {
    artifact: Artifact,
    /// Android: the application id and, optionally, the build set (default: the default).
    #[serde(default)]
    application_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// iOS: the bundle id and distribution type of the build pair.
    #[serde(default)]
    bundle_id: Option<String>,
    #[serde(default)]
    distribution: Option<String>,
    /// What to sign. None: only the signer (certificates, and the profile of an iOS pair).
    #[serde(default)]
    messages: Vec<Message>,
}

/// The signer and the signatures.
#[derive(Serialize)]
pub(crate) struct Signed {
    /// The credential that holds the key.
    credential: String,
    /// The key's certificate SHA-256 fingerprint.
    key_sha256: String,
    /// The key's algorithm (`RSA 2048`, `EC P-256`).
    key_algorithm: String,
    /// The certificate chain, leaf first, DER in base64.
    certificates: Vec<String>,
    /// The provisioning profile of an iOS pair, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    /// The keystore alias of an Android build set's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    /// One signature per message, in order, base64.
    signatures: Vec<String>,
}

/// A scheme's wire name (`rsa-pkcs1-sha256`).
fn scheme_name(scheme: SignatureScheme) -> String {
    serde_json::to_value(scheme)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn required<'a>(value: Option<&'a String>, field: &str, artifact: Artifact) -> ApiResult<&'a str> {
    value
        .map(String::as_str)
        .ok_or_else(|| ApiError::invalid(field, format!("required to sign an {}", artifact.name())))
}

/// `POST /v1/orgs/{org}/apps/{app}/sign` (developer; robots of the app): sign the
/// to-be-signed messages of one artifact with its build's held key.
pub(crate) async fn sign(
    State(state): State<Arc<AppState>>,
    access: Access,
    ApiJson(body): ApiJson<SignBody>,
) -> ApiResult<Json<Signed>> {
    let app = access.app()?;
    if body.messages.len() > MAX_MESSAGES {
        return Err(ApiError::invalid(
            "messages",
            format!("at most {MAX_MESSAGES} messages per request"),
        ));
    }
    let key: BuildKey = match body.artifact {
        Artifact::Apk | Artifact::Aab => {
            if body.bundle_id.is_some() || body.distribution.is_some() {
                return Err(ApiError::invalid(
                    "bundle_id",
                    "an Android artifact is signed with a build set: give application_id (and name)",
                ));
            }
            let application_id = required(
                body.application_id.as_ref(),
                "application_id",
                body.artifact,
            )?;
            signet_store::check_identifier("application_id", application_id)?;
            state
                .store
                .android_build_key(
                    &access.org,
                    app.id.as_str(),
                    &access.scope,
                    application_id,
                    body.name.as_deref(),
                )
                .await?
        }
        Artifact::Ipa => {
            if body.application_id.is_some() || body.name.is_some() {
                return Err(ApiError::invalid(
                    "application_id",
                    "an IPA is signed with a build pair: give bundle_id and distribution",
                ));
            }
            let bundle_id = required(body.bundle_id.as_ref(), "bundle_id", body.artifact)?;
            let distribution = required(body.distribution.as_ref(), "distribution", body.artifact)?;
            signet_store::check_identifier("bundle_id", bundle_id)?;
            if !signet_store::DISTRIBUTIONS.contains(&distribution) {
                return Err(ApiError::invalid(
                    "distribution",
                    format!("one of: {}", signet_store::DISTRIBUTIONS.join(", ")),
                ));
            }
            state
                .store
                .ios_build_key(&access.org, app, bundle_id, distribution)
                .await?
        }
    };
    let leaf = key
        .key
        .chain
        .first()
        .ok_or_else(|| ApiError::invalid("build", "the held key has no certificate"))?;
    let key_sha256 = leaf.info().fingerprints.sha256.clone();

    // Every message is checked before anything is signed: all or nothing.
    let mut decoded = Vec::with_capacity(body.messages.len());
    let mut records = Vec::with_capacity(body.messages.len());
    for (i, m) in body.messages.iter().enumerate() {
        let field = format!("messages[{i}]");
        if !body.artifact.allows(m.purpose) {
            return Err(ApiError::invalid(
                &field,
                format!(
                    "{} is not part of signing an {}",
                    m.purpose.as_str(),
                    body.artifact.name()
                ),
            ));
        }
        if m.algorithm.is_rsa() != (key.key.algorithm().family() == "RSA") {
            return Err(ApiError::invalid(
                &field,
                format!(
                    "{} does not fit the held key ({} {})",
                    scheme_name(m.algorithm),
                    key.key.algorithm().family(),
                    key.key.algorithm().bits()
                ),
            ));
        }
        let bytes = STANDARD
            .decode(&m.message)
            .map_err(|_| ApiError::invalid(&field, "the message is not base64"))?;
        let attested = signet_sign::attest(m.purpose, m.algorithm, &bytes, leaf)
            .map_err(|e| ApiError::invalid(&field, e.to_string()))?;
        records.push(SignatureRecord {
            purpose: m.purpose.as_str().to_owned(),
            algorithm: scheme_name(m.algorithm),
            digest: attested.digest_hex(),
            digest_algorithm: attested.digest_algorithm.to_owned(),
        });
        decoded.push((m.purpose, m.algorithm, bytes));
    }

    let key = Arc::new(key);
    let signer = Arc::clone(&key);
    let signatures = tokio::task::spawn_blocking(move || {
        let batch: Vec<ToSign<'_>> = decoded
            .iter()
            .map(|(purpose, scheme, message)| ToSign {
                purpose: *purpose,
                scheme: *scheme,
                message,
            })
            .collect();
        signer.key.sign(&batch)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|e| ApiError::invalid("messages", e.to_string()))?;

    if records.is_empty() {
        state
            .store
            .audit_profile_read(&access.actor, &access.org, &key)
            .await?;
    } else {
        state
            .store
            .audit_signatures(
                &access.actor,
                &access.org,
                &key,
                body.artifact.name(),
                &records,
            )
            .await?;
    }
    Ok(Json(Signed {
        credential: key.credential.id.to_string(),
        key_sha256,
        key_algorithm: format!(
            "{} {}",
            key.key.algorithm().family(),
            key.key.algorithm().bits()
        ),
        certificates: key
            .key
            .chain
            .iter()
            .map(|c| STANDARD.encode(c.der()))
            .collect(),
        // The profile comes with the signer, whose request audits it, not with signatures.
        profile: key
            .profile
            .as_ref()
            .filter(|_| records.is_empty())
            .map(|(_, p)| STANDARD.encode(p)),
        alias: key.profile.is_none().then(|| key.key.alias.clone()),
        signatures: signatures.iter().map(|s| STANDARD.encode(s)).collect(),
    }))
}
