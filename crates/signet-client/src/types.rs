//! The API's answers that are not records of the store: who the caller is, a login, a
//! robot's one-time token, and secret material (build credentials, exports), typed by
//! credential type. Records (credentials, apps, build sets, …) are signet-store's own
//! types, read back.
//!
//! Secret values are [`SecretString`] and [`SecretBytes`]: zeroized on drop, `[redacted]`
//! in `Debug`.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use signet_store::{
    AppId, Credential, CredentialId, Impact, Kind, Org, OrgId, Role, TokenId, TokenInfo, User,
    validate::SecretString,
};
use zeroize::Zeroizing;

/// Bytes that are secret (a keystore, a .p12): zeroized on drop, never printed.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[redacted {} bytes]", self.0.len())
    }
}

/// Base64 on the wire.
impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecretBytes, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(SecretBytes::new)
            .map_err(|_| serde::de::Error::custom("a file that is not base64"))
    }
}

/// A bearer token (`sgu_…` for a login, `sgr_…` for a robot).
pub type Token = SecretString;

/// `POST /v1/setup`'s answer.
#[derive(Debug, Clone, Deserialize)]
pub struct SetupDone {
    /// The first user.
    pub user: User,
    /// The first organization.
    pub org: Org,
}

/// `POST /v1/auth/login`'s answer.
#[derive(Debug, Clone, Deserialize)]
pub struct LoggedIn {
    /// Who logged in.
    pub user: User,
    /// The session's record.
    pub session: TokenInfo,
    /// The session token, shown once.
    pub token: Token,
}

/// `GET /v1/me`: who a token belongs to.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Me {
    /// A user's login session.
    User {
        /// The user.
        user: User,
        /// Their organizations, each with their role.
        orgs: Vec<Org>,
        /// Their sessions.
        sessions: Vec<TokenInfo>,
        /// The id of the session in use.
        token_id: TokenId,
    },
    /// A robot token.
    Robot {
        /// Its id.
        token_id: TokenId,
        /// Its organization.
        org: OrgId,
        /// Its role.
        role: Role,
        /// The apps it is limited to (all of the organization's when absent).
        app_ids: Option<Vec<AppId>>,
    },
}

/// `GET /v1/orgs/{org}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgDetails {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// The caller's role.
    pub role: Role,
    /// The server's limits.
    pub limits: OrgLimits,
}

/// The limits a server enforces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgLimits {
    /// Distribution certificates per Apple team.
    pub distribution_certificates_per_apple_team: u64,
    /// Push keys per Apple team.
    pub push_keys_per_apple_team: u64,
    /// Days a deleted credential can be restored.
    pub restore_window_days: u64,
}

/// `POST …/robots`' answer.
#[derive(Debug, Clone, Deserialize)]
pub struct RobotCreated {
    /// The robot's record.
    pub robot: TokenInfo,
    /// The token, shown once.
    pub token: Token,
}

/// What a new robot may do.
#[derive(Debug, Clone, Serialize)]
pub struct NewRobot {
    /// A name.
    pub name: String,
    /// Its role (below owner).
    pub role: Role,
    /// The apps it is limited to; all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_ids: Option<Vec<AppId>>,
    /// Days until it expires; never when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// `DELETE …/credentials/{id}`'s answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Deleted {
    /// The credential deleted.
    pub deleted: CredentialId,
    /// What stops working.
    pub impact: Impact,
}

/// A previous version of a credential (`GET …/versions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The version it had.
    pub version: i64,
    /// Its name then.
    pub name: String,
    /// The Apple team, for Apple types.
    pub apple_team: Option<String>,
    /// When it stops working (ms), if it does.
    pub expires_at: Option<i64>,
    /// Derived metadata, as the API shows it.
    pub metadata: Value,
    /// When it was replaced (ms).
    pub replaced_at: i64,
    /// Who replaced it.
    pub replaced_by: String,
    /// When it is destroyed (ms).
    pub purge_after: i64,
}

/// A credential's secret material, by type (what was uploaded, normalized by the server).
#[derive(Debug, Clone)]
pub enum SecretMaterial {
    /// An Android keystore.
    AndroidKeystore(KeystoreSecret),
    /// A Google service account key: its JSON file.
    GoogleServiceAccountKey {
        /// The key file's text.
        json: SecretString,
    },
    /// An FCM legacy server key.
    FcmLegacyKey {
        /// The key.
        server_key: SecretString,
    },
    /// An Apple team (no secret).
    AppleTeam,
    /// A distribution certificate with its key.
    AppleDistributionCertificate(CertificateSecret),
    /// A provisioning profile (not secret, handed out with the rest).
    AppleProvisioningProfile {
        /// The .mobileprovision file.
        profile: SecretBytes,
    },
    /// An APNs key.
    ApplePushKey {
        /// The .p8 (PEM).
        p8: SecretString,
        /// Its key id.
        key_id: String,
        /// Its team.
        team_id: String,
    },
    /// An App Store Connect API key.
    AscApiKey {
        /// The .p8 (PEM).
        p8: SecretString,
        /// Its key id.
        key_id: String,
        /// Its issuer id.
        issuer_id: String,
    },
}

/// An Android keystore and what opens it.
#[derive(Debug, Clone, Deserialize)]
pub struct KeystoreSecret {
    /// The JKS or PKCS#12 file.
    pub keystore: SecretBytes,
    /// The store password.
    pub store_password: SecretString,
    /// The key's alias.
    pub key_alias: String,
    /// The key password.
    pub key_password: SecretString,
}

/// A .p12 and its password.
#[derive(Debug, Clone, Deserialize)]
pub struct CertificateSecret {
    /// The .p12 file.
    pub p12: SecretBytes,
    /// Its password.
    pub password: SecretString,
}

impl SecretMaterial {
    /// Reads the secret of a credential of type `kind` from the JSON the server sends.
    pub fn from_value(kind: Kind, value: Value) -> Result<SecretMaterial, serde_json::Error> {
        #[derive(Deserialize)]
        struct Json {
            json: SecretString,
        }
        #[derive(Deserialize)]
        struct Fcm {
            server_key: SecretString,
        }
        #[derive(Deserialize)]
        struct Profile {
            profile: SecretBytes,
        }
        #[derive(Deserialize)]
        struct Push {
            p8: SecretString,
            key_id: String,
            team_id: String,
        }
        #[derive(Deserialize)]
        struct Asc {
            p8: SecretString,
            key_id: String,
            issuer_id: String,
        }
        Ok(match kind {
            Kind::AndroidKeystore => {
                SecretMaterial::AndroidKeystore(serde_json::from_value(value)?)
            }
            Kind::GoogleServiceAccountKey => {
                let Json { json } = serde_json::from_value(value)?;
                SecretMaterial::GoogleServiceAccountKey { json }
            }
            Kind::FcmLegacyKey => {
                let Fcm { server_key } = serde_json::from_value(value)?;
                SecretMaterial::FcmLegacyKey { server_key }
            }
            Kind::AppleTeam => SecretMaterial::AppleTeam,
            Kind::AppleDistributionCertificate => {
                SecretMaterial::AppleDistributionCertificate(serde_json::from_value(value)?)
            }
            Kind::AppleProvisioningProfile => {
                let Profile { profile } = serde_json::from_value(value)?;
                SecretMaterial::AppleProvisioningProfile { profile }
            }
            Kind::ApplePushKey => {
                let Push {
                    p8,
                    key_id,
                    team_id,
                } = serde_json::from_value(value)?;
                SecretMaterial::ApplePushKey {
                    p8,
                    key_id,
                    team_id,
                }
            }
            Kind::AscApiKey => {
                let Asc {
                    p8,
                    key_id,
                    issuer_id,
                } = serde_json::from_value(value)?;
                SecretMaterial::AscApiKey {
                    p8,
                    key_id,
                    issuer_id,
                }
            }
        })
    }
}

/// `GET …/credentials/{id}/secret`: a credential and its secret material (admin, audited).
#[derive(Debug, Clone)]
pub struct Export {
    /// The credential.
    pub credential: Credential,
    /// Its secret material.
    pub secret: SecretMaterial,
}

impl<'de> Deserialize<'de> for Export {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Export, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            credential: Credential,
            secret: Value,
        }
        let w = Wire::deserialize(d)?;
        let mut secret = w.secret;
        let material = SecretMaterial::from_value(w.credential.kind, secret.take())
            .map_err(|e| serde::de::Error::custom(format!("the secret: {e}")));
        zeroize_value(&mut secret);
        Ok(Export {
            credential: w.credential,
            secret: material?,
        })
    }
}

/// Overwrites the strings of a JSON value that held secrets before it is dropped.
fn zeroize_value(value: &mut Value) {
    use zeroize::Zeroize;
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(zeroize_value),
        Value::Object(map) => map.values_mut().for_each(zeroize_value),
        _ => {}
    }
}

/// One build's credentials (`GET …/apps/{app}/build-credentials`, developer, audited).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "platform", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)] // one per call
pub enum BuildCredentials {
    /// An Android build: the keystore of the chosen build set.
    Android {
        /// The application id.
        application_id: String,
        /// What was chosen (`{"build_set": name, …}`).
        chosen: Value,
        /// The keystore.
        keystore: BuildKeystore,
    },
    /// An iOS build: the pair of the distribution type.
    Ios {
        /// The bundle id.
        bundle_id: String,
        /// The distribution type.
        distribution: String,
        /// What was chosen.
        chosen: Value,
        /// The certificate with its key.
        distribution_certificate: BuildCertificate,
        /// The profile.
        provisioning_profile: BuildProfile,
    },
}

/// The keystore of an Android build.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildKeystore {
    /// Its record.
    pub credential: Credential,
    /// The file.
    pub keystore: SecretBytes,
    /// The store password.
    pub store_password: SecretString,
    /// The key's alias.
    pub key_alias: String,
    /// The key password.
    pub key_password: SecretString,
}

/// The certificate of an iOS build.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildCertificate {
    /// Its record.
    pub credential: Credential,
    /// The .p12.
    pub p12: SecretBytes,
    /// Its password.
    pub password: SecretString,
}

/// The profile of an iOS build.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildProfile {
    /// Its record.
    pub credential: Credential,
    /// The .mobileprovision.
    pub profile: SecretBytes,
}

/// What to fetch for a build.
#[derive(Debug, Clone)]
pub enum BuildQuery {
    /// Android: an application id, and a build set by name (the default when absent).
    Android {
        /// The application id.
        application_id: String,
        /// The build set; the default when absent.
        name: Option<String>,
    },
    /// iOS: a bundle id and a distribution type.
    Ios {
        /// The bundle id.
        bundle_id: String,
        /// `app-store`, `ad-hoc`, `enterprise` or `development`.
        distribution: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let s = SecretMaterial::from_value(
            Kind::AndroidKeystore,
            serde_json::json!({"keystore": "c2VjcmV0", "store_password": "hunter22",
                               "key_alias": "upload", "key_password": "hunter23"}),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("upload"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        let SecretMaterial::AndroidKeystore(k) = s else {
            panic!("read as another type")
        };
        assert_eq!(k.keystore.expose(), b"secret");
    }

    #[test]
    fn a_secret_of_the_wrong_shape_is_refused() {
        let err = SecretMaterial::from_value(
            Kind::AppleDistributionCertificate,
            serde_json::json!({"p12": "not base64!", "password": "x"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
    }
}

/// An APNs provider token minted on the server (`POST …/apps/{app}/apns-token`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApnsToken {
    /// The ES256 JWT to send as `authorization: bearer …` to APNs.
    pub token: SecretString,
    /// The push key's Apple key id (the JWT's `kid`).
    pub key_id: String,
    /// The Apple team id (the JWT's `iss`).
    pub team_id: String,
    /// The bundle id whose push key minted it.
    pub bundle_id: String,
    /// The push key's credential.
    pub push_key_id: CredentialId,
    /// When it was minted (the JWT's `iat`, seconds since the epoch).
    pub issued_at: i64,
    /// When Apple stops accepting it (an hour later).
    pub expires_at: i64,
    /// Whether the server handed out a token it minted earlier.
    pub cached: bool,
}
