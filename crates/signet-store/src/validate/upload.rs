//! What a client uploads: one variant per credential type of SPEC §1, each with exactly
//! the fields that type takes. The JSON is `{"type": "<type>", <fields>}`; a field another
//! type takes is an unknown field here. Files are base64 (`.p8` and service-account JSON
//! are text).

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::{StoreError, model::Kind};

/// A string that holds a secret: zeroized on drop, `[redacted]` in `Debug`.
#[derive(Clone, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> SecretString {
        SecretString(Zeroizing::new(value.into()))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretString::new)
    }
}

impl serde::Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// What a client uploads to create or replace a credential, by type.
///
/// [`Upload::from_json`] reads a request body with the answers the API gives; the derived
/// `Deserialize` reads the same JSON with serde's own errors.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Upload {
    /// `android-keystore`.
    AndroidKeystore(KeystoreUpload),
    /// `google-service-account-key`.
    GoogleServiceAccountKey(ServiceAccountUpload),
    /// `fcm-legacy-key`.
    FcmLegacyKey(FcmKeyUpload),
    /// `apple-team`.
    AppleTeam(AppleTeamUpload),
    /// `apple-distribution-certificate`.
    AppleDistributionCertificate(CertificateUpload),
    /// `apple-provisioning-profile`.
    AppleProvisioningProfile(ProfileUpload),
    /// `apple-push-key`.
    ApplePushKey(PushKeyUpload),
    /// `asc-api-key`.
    AscApiKey(AscKeyUpload),
}

/// An Android keystore.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreUpload {
    /// A display name; derived from the file when absent.
    pub name: Option<String>,
    /// The JKS or PKCS#12 file, base64.
    pub keystore: SecretString,
    /// The store password.
    pub store_password: SecretString,
    /// The key alias (optional when the keystore holds one key).
    pub key_alias: Option<String>,
    /// The key password (defaults to the store password).
    pub key_password: Option<SecretString>,
}

/// A Google service account key.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountUpload {
    /// A display name; the client e-mail when absent.
    pub name: Option<String>,
    /// The JSON key file, as text.
    pub json: SecretString,
}

/// An FCM legacy server key.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FcmKeyUpload {
    /// A display name; derived from the key when absent.
    pub name: Option<String>,
    /// The server key.
    pub server_key: SecretString,
}

/// An Apple team.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppleTeamUpload {
    /// A display name; the team's name when absent.
    pub name: Option<String>,
    /// The team id.
    pub team_id: String,
    /// The team's name (the team id when absent).
    pub team_name: Option<String>,
    /// `company` (when absent), `individual` or `in-house`.
    pub team_type: Option<String>,
}

/// An Apple distribution (or development) certificate: a `.p12`, or a private key and
/// Apple's `.cer` that signet makes into one.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateUpload {
    /// A display name; the certificate's common name when absent.
    pub name: Option<String>,
    /// The .p12, base64.
    pub p12: Option<SecretString>,
    /// The .p12 password (for a .p12 built from `private_key` and `certificate`, the
    /// password to give it; generated when absent).
    pub password: Option<SecretString>,
    /// Instead of `p12`: the PKCS#8 private key (PEM).
    pub private_key: Option<SecretString>,
    /// Instead of `p12`: Apple's `.cer` (base64 DER, or PEM).
    pub certificate: Option<String>,
    /// The team the certificate must belong to, when given.
    pub team_id: Option<String>,
}

/// An Apple provisioning profile.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpload {
    /// A display name; the profile's name when absent.
    pub name: Option<String>,
    /// The .mobileprovision, base64.
    pub profile: String,
    /// The bundle id it must match, when given.
    pub bundle_id: Option<String>,
    /// The team it must belong to, when given.
    pub team_id: Option<String>,
}

/// An APNs push key.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PushKeyUpload {
    /// A display name; derived from the key id when absent.
    pub name: Option<String>,
    /// The .p8 (PEM text).
    pub p8: SecretString,
    /// The key id.
    pub key_id: String,
    /// The team id.
    pub team_id: String,
}

/// An App Store Connect API key.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AscKeyUpload {
    /// A display name; derived from the key id when absent.
    pub name: Option<String>,
    /// The .p8 (PEM text).
    pub p8: SecretString,
    /// The key id.
    pub key_id: String,
    /// The issuer id (a UUID).
    pub issuer_id: String,
    /// The team id, when known.
    pub team_id: Option<String>,
    /// The key's roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Why an upload's JSON is refused before it is validated.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Refused as validation refuses ([`StoreError::Invalid`] naming the field): an
    /// unknown or oversized `type`, a field the type requires that is missing.
    #[error(transparent)]
    Invalid(StoreError),
    /// Not the shape of its type: no `type`, an unknown field, a value of the wrong JSON
    /// type. The message names the field and never holds a value.
    #[error("{0}")]
    Shape(String),
}

/// Every field name an upload may carry, so that an error can name one as `'static`.
const FIELDS: [&str; 21] = [
    "type",
    "name",
    "keystore",
    "store_password",
    "key_alias",
    "key_password",
    "json",
    "server_key",
    "team_id",
    "team_name",
    "team_type",
    "p12",
    "password",
    "private_key",
    "certificate",
    "profile",
    "bundle_id",
    "p8",
    "key_id",
    "issuer_id",
    "roles",
];

/// The longest value of a short field (a name, id, alias or password) an upload may
/// carry: nothing real comes near it. Files are bounded by the server's body limit.
pub const MAX_FIELD_BYTES: usize = 1024;

pub(super) fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn shape(detail: impl Into<String>) -> UploadError {
    UploadError::Shape(detail.into())
}

/// The variant's fields from the body without `type`, with errors that name the field
/// (serde's own name none inside an internally tagged enum) and echo no value.
fn fields<T: DeserializeOwned>(body: Value) -> Result<T, UploadError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let message = e.inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
            .and_then(|name| FIELDS.iter().find(|f| **f == name));
        if let Some(field) = missing {
            return UploadError::Invalid(invalid(field, "required for this type"));
        }
        if message.starts_with("unknown field `") {
            return UploadError::Shape(message);
        }
        match e.path().to_string() {
            root if root == "." => shape("a value has the wrong type"),
            path => shape(format!("`{path}` has the wrong type or value")),
        }
    })
}

impl Upload {
    /// Reads a request body. An unknown type (or one over [`MAX_FIELD_BYTES`]) and a
    /// missing required field are [`UploadError::Invalid`] naming the field, as
    /// validation's refusals are; anything else that is not the type's shape is
    /// [`UploadError::Shape`].
    pub fn from_json(body: Value) -> Result<Upload, UploadError> {
        let Value::Object(mut body) = body else {
            return Err(shape("a value has the wrong type"));
        };
        let kind = match body.remove("type") {
            Some(Value::String(kind)) => kind,
            Some(_) => return Err(shape("`type` has the wrong type or value")),
            None => return Err(shape("missing field `type`")),
        };
        if kind.len() > MAX_FIELD_BYTES {
            return Err(UploadError::Invalid(invalid(
                "type",
                format!("at most {MAX_FIELD_BYTES} bytes"),
            )));
        }
        let kind = Kind::parse(&kind).ok_or_else(|| {
            UploadError::Invalid(invalid(
                "type",
                format!("unknown type `{kind}`; one of: {}", Kind::names()),
            ))
        })?;
        let body = Value::Object(body);
        Ok(match kind {
            Kind::AndroidKeystore => Upload::AndroidKeystore(fields(body)?),
            Kind::GoogleServiceAccountKey => Upload::GoogleServiceAccountKey(fields(body)?),
            Kind::FcmLegacyKey => Upload::FcmLegacyKey(fields(body)?),
            Kind::AppleTeam => Upload::AppleTeam(fields(body)?),
            Kind::AppleDistributionCertificate => {
                Upload::AppleDistributionCertificate(fields(body)?)
            }
            Kind::AppleProvisioningProfile => Upload::AppleProvisioningProfile(fields(body)?),
            Kind::ApplePushKey => Upload::ApplePushKey(fields(body)?),
            Kind::AscApiKey => Upload::AscApiKey(fields(body)?),
        })
    }

    /// The credential type.
    pub fn kind(&self) -> Kind {
        match self {
            Upload::AndroidKeystore(_) => Kind::AndroidKeystore,
            Upload::GoogleServiceAccountKey(_) => Kind::GoogleServiceAccountKey,
            Upload::FcmLegacyKey(_) => Kind::FcmLegacyKey,
            Upload::AppleTeam(_) => Kind::AppleTeam,
            Upload::AppleDistributionCertificate(_) => Kind::AppleDistributionCertificate,
            Upload::AppleProvisioningProfile(_) => Kind::AppleProvisioningProfile,
            Upload::ApplePushKey(_) => Kind::ApplePushKey,
            Upload::AscApiKey(_) => Kind::AscApiKey,
        }
    }

    /// The display name asked for, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Upload::AndroidKeystore(u) => u.name.as_deref(),
            Upload::GoogleServiceAccountKey(u) => u.name.as_deref(),
            Upload::FcmLegacyKey(u) => u.name.as_deref(),
            Upload::AppleTeam(u) => u.name.as_deref(),
            Upload::AppleDistributionCertificate(u) => u.name.as_deref(),
            Upload::AppleProvisioningProfile(u) => u.name.as_deref(),
            Upload::ApplePushKey(u) => u.name.as_deref(),
            Upload::AscApiKey(u) => u.name.as_deref(),
        }
    }

    /// Refuses oversized short fields before anything reads them (or echoes them in an
    /// error).
    pub(super) fn check_lengths(&self) -> Result<(), StoreError> {
        let secret = |s: &SecretString| Some(s.expose().len());
        let secret_opt = |s: &Option<SecretString>| s.as_ref().map(|s| s.expose().len());
        let plain = |s: &str| Some(s.len());
        let plain_opt = |s: &Option<String>| s.as_deref().map(str::len);
        let short: Vec<(&'static str, Option<usize>)> = match self {
            Upload::AndroidKeystore(u) => vec![
                ("store_password", secret(&u.store_password)),
                ("key_alias", plain_opt(&u.key_alias)),
                ("key_password", secret_opt(&u.key_password)),
            ],
            Upload::GoogleServiceAccountKey(_) => vec![],
            Upload::FcmLegacyKey(u) => vec![("server_key", secret(&u.server_key))],
            Upload::AppleTeam(u) => vec![
                ("team_id", plain(&u.team_id)),
                ("team_name", plain_opt(&u.team_name)),
                ("team_type", plain_opt(&u.team_type)),
            ],
            Upload::AppleDistributionCertificate(u) => vec![
                ("password", secret_opt(&u.password)),
                ("team_id", plain_opt(&u.team_id)),
            ],
            Upload::AppleProvisioningProfile(u) => vec![
                ("bundle_id", plain_opt(&u.bundle_id)),
                ("team_id", plain_opt(&u.team_id)),
            ],
            Upload::ApplePushKey(u) => {
                vec![("key_id", plain(&u.key_id)), ("team_id", plain(&u.team_id))]
            }
            Upload::AscApiKey(u) => vec![
                ("key_id", plain(&u.key_id)),
                ("issuer_id", plain(&u.issuer_id)),
                ("team_id", plain_opt(&u.team_id)),
            ],
        };
        let name = ("name", self.name().map(str::len));
        for (field, len) in std::iter::once(name).chain(short) {
            if len.is_some_and(|n| n > MAX_FIELD_BYTES) {
                return Err(invalid(field, format!("at most {MAX_FIELD_BYTES} bytes")));
            }
        }
        if let Upload::AscApiKey(u) = self
            && (u.roles.len() > 32 || u.roles.iter().any(|role| role.len() > 64))
        {
            return Err(invalid("roles", "at most 32 roles of 64 bytes"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(body: Value) -> UploadError {
        Upload::from_json(body).expect_err("refused")
    }

    fn invalid_field(e: UploadError) -> (&'static str, String) {
        match e {
            UploadError::Invalid(StoreError::Invalid { field, reason }) => (field, reason),
            other => panic!("not Invalid: {other:?}"),
        }
    }

    #[test]
    fn reads_each_type_by_its_tag() {
        let u = Upload::from_json(json!({ "type": "fcm-legacy-key", "server_key": "k" })).unwrap();
        assert!(matches!(&u, Upload::FcmLegacyKey(f) if f.server_key.expose() == "k"));
        let u = Upload::from_json(json!({
            "type": "asc-api-key", "p8": "x", "key_id": "K", "issuer_id": "I"
        }))
        .unwrap();
        assert_eq!(u.kind(), Kind::AscApiKey);
        assert!(matches!(&u, Upload::AscApiKey(a) if a.roles.is_empty() && a.team_id.is_none()));
        // The derived `Deserialize` reads the same JSON.
        let u: Upload =
            serde_json::from_value(json!({ "type": "apple-team", "team_id": "T", "name": "n" }))
                .unwrap();
        assert_eq!(u.name(), Some("n"));
        assert_eq!(u.kind(), Kind::AppleTeam);
    }

    #[test]
    fn refuses_a_field_of_another_type() {
        let e = refused(json!({ "type": "fcm-legacy-key", "server_key": "k", "p8": "secret" }));
        match e {
            UploadError::Shape(m) => {
                assert!(m.starts_with("unknown field `p8`"), "{m}");
                assert!(!m.contains("secret"), "{m}");
            }
            other @ UploadError::Invalid(_) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_required_field_is_invalid_naming_it() {
        let (field, reason) =
            invalid_field(refused(json!({ "type": "apple-push-key", "p8": "x" })));
        assert_eq!(
            (field, reason.as_str()),
            ("key_id", "required for this type")
        );
    }

    #[test]
    fn unknown_and_oversized_types_name_type_without_echoing_a_long_value() {
        let (field, reason) = invalid_field(refused(json!({ "type": "nope" })));
        assert_eq!(field, "type");
        assert!(reason.starts_with("unknown type `nope`; one of: android-keystore"));
        let (field, reason) = invalid_field(refused(json!({ "type": "t".repeat(2000) })));
        assert_eq!((field, reason.as_str()), ("type", "at most 1024 bytes"));
    }

    #[test]
    fn wrong_value_types_name_the_field_not_the_value() {
        let e = refused(json!({ "type": "fcm-legacy-key", "server_key": ["hidden"] }));
        assert!(
            matches!(&e, UploadError::Shape(m) if m == "`server_key` has the wrong type or value"),
            "{e:?}"
        );
        let e = refused(json!(["hidden"]));
        assert!(
            matches!(&e, UploadError::Shape(m) if m == "a value has the wrong type"),
            "{e:?}"
        );
        let e = refused(json!({ "type": 1 }));
        assert!(
            matches!(&e, UploadError::Shape(m) if m == "`type` has the wrong type or value"),
            "{e:?}"
        );
        let e = refused(json!({ "server_key": "k" }));
        assert!(
            matches!(&e, UploadError::Shape(m) if m == "missing field `type`"),
            "{e:?}"
        );
    }

    #[test]
    fn debug_hides_every_secret_field() {
        let u = Upload::from_json(json!({
            "type": "android-keystore", "keystore": "FILE-BYTES", "store_password": "STORE-PW",
            "key_password": "KEY-PW"
        }))
        .unwrap();
        let debug = format!("{u:?}");
        for secret in ["FILE-BYTES", "STORE-PW", "KEY-PW"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
