//! What signet derives from each credential type's files (SPEC §1: never taken from the
//! client), as typed values: one struct per type, gathered in [`Metadata`].
//!
//! Serialized once, by serde, to the JSON the API shows and the database holds (the
//! stored form is that JSON as a `serde_json::Value` writes it, keys in order, which is
//! also what a sealed secret's binding covers). A stored row is read back by its type;
//! one that does not parse is [`StoreError::BadMetadata`](crate::StoreError::BadMetadata).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use signet_formats::{
    Certificate,
    apple::mobileprovision::{AllowedCertificate, ProfileKind},
};
use time::OffsetDateTime;

use crate::{StoreError, model::Kind};

/// The facts of a certificate, shown for every type that holds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFacts {
    /// Subject, keytool style.
    pub subject: String,
    /// Issuer, keytool style.
    pub issuer: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// `RSA`, `EC` or the OID.
    pub key_algorithm: String,
    /// Key size in bits.
    pub key_size: u32,
    /// MD5 fingerprint, colon-separated upper-case hex.
    pub md5: String,
    /// SHA-1 fingerprint.
    pub sha1: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// Base64 of the SHA-1 digest (the "Facebook" key hash).
    pub base64_sha1: String,
}

impl CertificateFacts {
    /// The facts of `cert`.
    pub fn of(cert: &Certificate) -> CertificateFacts {
        let i = cert.info();
        CertificateFacts {
            subject: i.subject.clone(),
            issuer: i.issuer.clone(),
            serial: i.serial.clone(),
            not_before: i.not_before,
            not_after: i.not_after,
            key_algorithm: i.key_algorithm.clone(),
            key_size: i.key_size,
            md5: i.fingerprints.md5.clone(),
            sha1: i.fingerprints.sha1.clone(),
            sha256: i.fingerprints.sha256.clone(),
            base64_sha1: i.fingerprints.base64_sha1.clone(),
        }
    }
}

/// A keystore's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeystoreFormat {
    /// Java KeyStore.
    Jks,
    /// PKCS#12.
    Pkcs12,
}

/// `android-keystore`: the key entry's certificate, and the keystore around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeystoreMetadata {
    /// The certificate of the key entry.
    #[serde(flatten)]
    pub certificate: CertificateFacts,
    /// JKS or PKCS#12.
    pub keystore_type: KeystoreFormat,
    /// The key entry's alias.
    pub alias: String,
    /// Every alias in the keystore.
    pub aliases: Vec<String>,
    /// The Android SDK's debug certificate.
    pub is_debug: bool,
    /// Validity ends before Google Play's 2033-10-22 deadline.
    pub expires_before_play_deadline: bool,
}

/// `google-service-account-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountMetadata {
    /// The Google Cloud project.
    pub project_id: String,
    /// The account's e-mail.
    pub client_email: String,
    /// The key's id.
    pub private_key_id: String,
}

/// `fcm-legacy-key`: the ends of the key only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FcmKeyMetadata {
    /// The first four characters.
    pub first4: String,
    /// The last four characters.
    pub last4: String,
}

/// An Apple team's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeamType {
    /// `company`.
    Company,
    /// `individual`.
    Individual,
    /// `in-house` (Apple Developer Enterprise Program).
    InHouse,
}

impl TeamType {
    /// Parses `company`, `individual` or `in-house`.
    pub fn parse(name: &str) -> Option<TeamType> {
        match name {
            "company" => Some(TeamType::Company),
            "individual" => Some(TeamType::Individual),
            "in-house" => Some(TeamType::InHouse),
            _ => None,
        }
    }
}

/// `apple-team`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppleTeamMetadata {
    /// The team id.
    pub team_id: String,
    /// Its name.
    pub team_name: String,
    /// Its type.
    pub team_type: TeamType,
}

/// What an Apple certificate may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateKind {
    /// Apple / iPhone Distribution.
    Distribution,
    /// Apple Development / iPhone Developer.
    Development,
    /// Anything else (Developer ID, other Apple certificates).
    Other,
}

/// `apple-distribution-certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateMetadata {
    /// The certificate.
    #[serde(flatten)]
    pub certificate: CertificateFacts,
    /// The team (subject OU).
    pub team_id: String,
    /// Distribution, development or other.
    pub kind: CertificateKind,
    /// The subject common name.
    pub common_name: String,
    /// The Developer Portal's id, when known (never, so far).
    pub portal_id: Option<String>,
}

/// `apple-provisioning-profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileMetadata {
    /// `UUID`.
    pub uuid: String,
    /// `Name`.
    pub name: String,
    /// `TeamIdentifier[0]`.
    pub team_id: String,
    /// `TeamName`.
    pub team_name: String,
    /// `AppIDName`.
    pub app_id_name: String,
    /// `Entitlements.application-identifier`.
    pub application_identifier: String,
    /// Its bundle id part (`com.acme.app`, `com.acme.*` or `*`).
    pub bundle_id: String,
    /// App Store, ad hoc, enterprise or development.
    pub kind: ProfileKind,
    /// `CreationDate`.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// `ExpirationDate`.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    /// `ProvisionedDevices`.
    pub devices: Vec<String>,
    /// `ProvisionsAllDevices`.
    pub provisions_all_devices: bool,
    /// `Entitlements`.
    pub entitlements: Value,
    /// `DeveloperCertificates`.
    pub certificates: Vec<AllowedCertificate>,
    /// Signed by a chain to Apple's roots.
    pub apple_signed: bool,
}

impl ProfileMetadata {
    /// Whether the profile allows the certificate with this SHA-1 fingerprint.
    pub fn allows_sha1(&self, sha1: &str) -> bool {
        self.certificates.iter().any(|c| c.sha1 == sha1)
    }
}

/// `apple-push-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushKeyMetadata {
    /// The key id.
    pub key_id: String,
    /// The team id.
    pub team_id: String,
    /// The curve (`P-256`).
    pub curve: String,
}

/// `asc-api-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AscKeyMetadata {
    /// The key id.
    pub key_id: String,
    /// The issuer id.
    pub issuer_id: String,
    /// The team, when given.
    pub team_id: Option<String>,
    /// The key's roles.
    pub roles: Vec<String>,
}

/// A credential's derived metadata, by type. Serializes as the type's struct alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Metadata {
    /// `android-keystore`.
    AndroidKeystore(KeystoreMetadata),
    /// `google-service-account-key`.
    GoogleServiceAccountKey(ServiceAccountMetadata),
    /// `fcm-legacy-key`.
    FcmLegacyKey(FcmKeyMetadata),
    /// `apple-team`.
    AppleTeam(AppleTeamMetadata),
    /// `apple-distribution-certificate`.
    AppleDistributionCertificate(CertificateMetadata),
    /// `apple-provisioning-profile`.
    AppleProvisioningProfile(ProfileMetadata),
    /// `apple-push-key`.
    ApplePushKey(PushKeyMetadata),
    /// `asc-api-key`.
    AscApiKey(AscKeyMetadata),
}

impl Metadata {
    /// The credential type it belongs to.
    pub fn kind(&self) -> Kind {
        match self {
            Metadata::AndroidKeystore(_) => Kind::AndroidKeystore,
            Metadata::GoogleServiceAccountKey(_) => Kind::GoogleServiceAccountKey,
            Metadata::FcmLegacyKey(_) => Kind::FcmLegacyKey,
            Metadata::AppleTeam(_) => Kind::AppleTeam,
            Metadata::AppleDistributionCertificate(_) => Kind::AppleDistributionCertificate,
            Metadata::AppleProvisioningProfile(_) => Kind::AppleProvisioningProfile,
            Metadata::ApplePushKey(_) => Kind::ApplePushKey,
            Metadata::AscApiKey(_) => Kind::AscApiKey,
        }
    }

    /// Reads the metadata of a credential of type `kind` from its JSON value (as the API
    /// shows it).
    pub fn from_value(kind: Kind, json: Value) -> Result<Metadata, serde_json::Error> {
        Metadata::read(kind, json)
    }

    /// Reads the stored JSON of a credential of type `kind`.
    pub fn parse(kind: Kind, json: &str) -> Result<Metadata, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(json);
        let metadata = Metadata::read(kind, &mut de)?;
        de.end()?;
        Ok(metadata)
    }

    fn read<'de, D>(kind: Kind, d: D) -> Result<Metadata, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        Ok(match kind {
            Kind::AndroidKeystore => Metadata::AndroidKeystore(Deserialize::deserialize(d)?),
            Kind::GoogleServiceAccountKey => {
                Metadata::GoogleServiceAccountKey(Deserialize::deserialize(d)?)
            }
            Kind::FcmLegacyKey => Metadata::FcmLegacyKey(Deserialize::deserialize(d)?),
            Kind::AppleTeam => Metadata::AppleTeam(Deserialize::deserialize(d)?),
            Kind::AppleDistributionCertificate => {
                Metadata::AppleDistributionCertificate(Deserialize::deserialize(d)?)
            }
            Kind::AppleProvisioningProfile => {
                Metadata::AppleProvisioningProfile(Deserialize::deserialize(d)?)
            }
            Kind::ApplePushKey => Metadata::ApplePushKey(Deserialize::deserialize(d)?),
            Kind::AscApiKey => Metadata::AscApiKey(Deserialize::deserialize(d)?),
        })
    }

    /// The stored form: the JSON text as `serde_json::Value` writes it (keys in order),
    /// the form rows have always held and sealed secrets are bound to.
    pub(crate) fn stored(&self) -> Result<String, StoreError> {
        serde_json::to_value(self)
            .map(|v| v.to_string())
            .map_err(|_| StoreError::Malformed("metadata encoding"))
    }

    /// An Apple certificate's metadata, if this is one.
    pub fn certificate(&self) -> Option<&CertificateMetadata> {
        match self {
            Metadata::AppleDistributionCertificate(c) => Some(c),
            _ => None,
        }
    }

    /// A provisioning profile's metadata, if this is one.
    pub fn profile(&self) -> Option<&ProfileMetadata> {
        match self {
            Metadata::AppleProvisioningProfile(p) => Some(p),
            _ => None,
        }
    }

    /// Whether this is a distribution certificate (the kind Apple limits per team).
    pub fn is_distribution_certificate(&self) -> bool {
        self.certificate()
            .is_some_and(|c| c.kind == CertificateKind::Distribution)
    }
}

/// The metadata of row `id` of type `kind`, or [`StoreError::BadMetadata`].
pub(crate) fn from_row(id: &str, kind: Kind, json: &str) -> Result<Metadata, StoreError> {
    Metadata::parse(kind, json).map_err(|e| StoreError::BadMetadata {
        id: id.to_owned(),
        kind: kind.name(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The JSON of a keystore row as signet wrote it before the metadata was typed
    /// (`json!` then `Value::to_string`).
    fn keystore_row() -> String {
        json!({
            "subject": "CN=Acme", "issuer": "CN=Acme", "serial": "1f",
            "not_before": "2024-01-02T03:04:05Z", "not_after": "2034-01-02T03:04:05Z",
            "key_algorithm": "EC", "key_size": 256, "md5": "AA", "sha1": "BB", "sha256": "CC",
            "base64_sha1": "u7s=", "keystore_type": "pkcs12", "alias": "upload",
            "aliases": ["upload"], "is_debug": false, "expires_before_play_deadline": false,
        })
        .to_string()
    }

    #[test]
    fn a_stored_row_reads_back_to_the_same_text() {
        let row = keystore_row();
        let m = Metadata::parse(Kind::AndroidKeystore, &row).unwrap();
        let Metadata::AndroidKeystore(k) = &m else {
            panic!("{m:?}")
        };
        assert_eq!(k.keystore_type, KeystoreFormat::Pkcs12);
        assert_eq!(k.certificate.key_size, 256);
        assert_eq!(k.certificate.not_after.year(), 2034);
        assert_eq!(m.stored().unwrap(), row);
    }

    #[test]
    fn a_row_of_another_shape_is_bad_metadata_naming_the_row() {
        let e = from_row(
            "cred_1",
            Kind::AppleDistributionCertificate,
            &keystore_row(),
        )
        .unwrap_err();
        match e {
            StoreError::BadMetadata { id, kind, reason } => {
                assert_eq!(id, "cred_1");
                assert_eq!(kind, "apple-distribution-certificate");
                assert!(reason.contains("missing field `team_id`"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_row("cred_2", Kind::FcmLegacyKey, "not json"),
            Err(StoreError::BadMetadata { .. })
        ));
    }
}
