//! The domain's vocabulary: credential types, roles, who is acting, and the records the
//! store returns. Records never hold secret material; [`crate::Store`] hands that out
//! only through the calls that audit it.

use serde::{Deserialize, Serialize};

use crate::{AppId, BuildPairId, BuildSetId, CredentialId, Metadata, OrgId, TokenId, UserId};

/// The credential types of SPEC §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An Android upload or app-signing keystore.
    AndroidKeystore,
    /// A Google service account key (FCM v1, Play submissions).
    GoogleServiceAccountKey,
    /// An FCM legacy server key.
    FcmLegacyKey,
    /// An Apple developer team.
    AppleTeam,
    /// An Apple distribution (or development) certificate with its private key.
    AppleDistributionCertificate,
    /// An Apple provisioning profile.
    AppleProvisioningProfile,
    /// An APNs push key (.p8).
    ApplePushKey,
    /// An App Store Connect API key (.p8).
    AscApiKey,
}

const KINDS: [(Kind, &str); 8] = [
    (Kind::AndroidKeystore, "android-keystore"),
    (Kind::GoogleServiceAccountKey, "google-service-account-key"),
    (Kind::FcmLegacyKey, "fcm-legacy-key"),
    (Kind::AppleTeam, "apple-team"),
    (
        Kind::AppleDistributionCertificate,
        "apple-distribution-certificate",
    ),
    (Kind::AppleProvisioningProfile, "apple-provisioning-profile"),
    (Kind::ApplePushKey, "apple-push-key"),
    (Kind::AscApiKey, "asc-api-key"),
];

impl Kind {
    /// The stable name used in the API and the database.
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<Kind> {
        KINDS.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// Every name, comma-separated, for error messages.
    pub fn names() -> String {
        KINDS.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let name = String::deserialize(d)?;
        Kind::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown credential type; one of {}", Kind::names()))
        })
    }
}

/// Roles in an organization, each a superset of the one before (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Lists and inspects metadata.
    Viewer,
    /// Creates, updates and assigns credentials; fetches build credentials.
    Developer,
    /// Deletes and restores, exports secrets, manages members below owner and robots.
    Admin,
    /// Manages owners; deletes the organization.
    Owner,
}

impl Role {
    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(name: &str) -> Option<Role> {
        [Role::Viewer, Role::Developer, Role::Admin, Role::Owner]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Role, D::Error> {
        let name = String::deserialize(d)?;
        Role::parse(&name).ok_or_else(|| {
            serde::de::Error::custom("unknown role; one of viewer, developer, admin, owner")
        })
    }
}

/// Who is acting, for the audit log: a user or a robot token, and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:<id>`, `robot:<token id>` or `system`.
    pub who: String,
    /// The client address.
    pub ip: String,
    /// The request id.
    pub request_id: String,
}

impl Actor {
    /// The server itself or an administrator's command.
    pub fn system(what: &str) -> Actor {
        Actor {
            who: format!("system:{what}"),
            ip: String::new(),
            request_id: String::new(),
        }
    }
}

/// What a caller may reach within an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole organization (users, and robots not limited to apps).
    Org,
    /// Only these apps: a robot limited to apps. It may assign a credential to one of them
    /// only when the credential is already assigned to one of them or it created it.
    Apps {
        /// The app ids.
        apps: Vec<AppId>,
        /// The caller's audit name (`robot:<token id>`), matched against a credential's
        /// creator.
        creator: String,
    },
}

impl Scope {
    /// Whether the caller may act on the app with this id.
    pub fn allows(&self, app_id: &AppId) -> bool {
        match self {
            Scope::Org => true,
            Scope::Apps { apps, .. } => apps.iter().any(|a| a == app_id),
        }
    }
}

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// The caller's role in it, when listed for a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login e-mail.
    pub email: String,
}

/// A member of an organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// The user's id.
    pub user_id: UserId,
    /// The user's e-mail.
    pub email: String,
    /// The role.
    pub role: Role,
}

/// An access token's record (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its id.
    pub id: TokenId,
    /// `session` (a user's login) or `robot`.
    pub kind: String,
    /// A name.
    pub name: String,
    /// For robots: the role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// For robots: the apps it is limited to (all when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_ids: Option<Vec<AppId>>,
    /// Created (ms).
    pub created_at: i64,
    /// Expires (ms), if ever.
    pub expires_at: Option<i64>,
    /// Last used (ms; updated at most once a minute).
    pub last_used_at: Option<i64>,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
    /// Who made it: `user:<id>` (a login) or `system:<what>`.
    pub created_by: String,
}

/// An app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// Its id.
    pub id: AppId,
    /// Its slug, unique in the organization.
    pub slug: String,
    /// Created (ms).
    pub created_at: i64,
}

/// A credential's record: derived metadata, never secret material.
#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    /// Its id.
    pub id: CredentialId,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Display name.
    pub name: String,
    /// The Apple team, for Apple types.
    pub apple_team: Option<String>,
    /// When it stops working (ms), if it does.
    pub expires_at: Option<i64>,
    /// The version (ETag).
    pub version: i64,
    /// Derived metadata.
    pub metadata: Metadata,
    /// Created (ms).
    pub created_at: i64,
    /// Updated (ms).
    pub updated_at: i64,
    /// Soft-deleted (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
}

/// A credential as the API shows it, read back (by a client): the metadata is read by the
/// credential's type, as the store reads its rows.
impl<'de> Deserialize<'de> for Credential {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Credential, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            id: CredentialId,
            #[serde(rename = "type")]
            kind: Kind,
            name: String,
            apple_team: Option<String>,
            expires_at: Option<i64>,
            version: i64,
            metadata: serde_json::Value,
            created_at: i64,
            updated_at: i64,
            #[serde(default)]
            deleted_at: Option<i64>,
        }
        let w = Wire::deserialize(d)?;
        let metadata = Metadata::from_value(w.kind, w.metadata).map_err(|e| {
            serde::de::Error::custom(format!("metadata of a {}: {e}", w.kind.name()))
        })?;
        Ok(Credential {
            id: w.id,
            kind: w.kind,
            name: w.name,
            apple_team: w.apple_team,
            expires_at: w.expires_at,
            version: w.version,
            metadata,
            created_at: w.created_at,
            updated_at: w.updated_at,
            deleted_at: w.deleted_at,
        })
    }
}

/// One audit record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Its id (time-ordered).
    pub id: String,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What: `credential.create`, `build-credentials.fetch`, …
    pub action: String,
    /// On what (an id).
    pub target: String,
    /// From where.
    pub ip: String,
    /// The request id.
    pub request_id: String,
    /// More, as JSON text (never a secret).
    pub detail: String,
}

/// An Android build credential set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildSet {
    /// Its id.
    pub id: BuildSetId,
    /// The application id (package name).
    pub application_id: String,
    /// Its name, unique per application id.
    pub name: String,
    /// The keystore it signs with.
    pub keystore_id: CredentialId,
    /// Whether builds use it when none is named.
    pub is_default: bool,
    /// The version (ETag).
    pub version: i64,
}

/// An iOS build credential pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildPair {
    /// Its id.
    pub id: BuildPairId,
    /// The bundle id.
    pub bundle_id: String,
    /// app-store, ad-hoc, enterprise or development.
    pub distribution: String,
    /// The distribution certificate.
    pub certificate_id: CredentialId,
    /// The provisioning profile.
    pub profile_id: CredentialId,
    /// The version (ETag).
    pub version: i64,
}

/// A credential assigned to an app in a named slot (`fcm-key`, `push-key`, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    /// `android` or `ios`.
    pub platform: String,
    /// Application id or bundle id.
    pub identifier: String,
    /// The slot.
    pub slot: String,
    /// The credential.
    pub credential_id: CredentialId,
}

/// One page of a list, and where the next starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A previous version of a credential, kept when it was replaced: restorable and
/// exportable (by an admin) until the restore window has passed.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialVersion {
    /// The version it had.
    pub version: i64,
    /// Its name then.
    pub name: String,
    /// The Apple team, for Apple types.
    pub apple_team: Option<String>,
    /// When it stops working (ms), if it does.
    pub expires_at: Option<i64>,
    /// Derived metadata.
    pub metadata: Metadata,
    /// When it was replaced (ms).
    pub replaced_at: i64,
    /// Who replaced it.
    pub replaced_by: String,
    /// When it is destroyed (ms).
    pub purge_after: i64,
}

/// What stops working if a credential is revoked or deleted (SPEC §1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Impact {
    /// The credential.
    pub credential_id: CredentialId,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The consequence in one sentence.
    pub summary: String,
    /// What uses it, one line each (`app acme / com.acme.app / build set release`).
    pub used_by: Vec<String>,
    /// Other credentials affected (profiles allowing a certificate).
    pub affected_credentials: Vec<String>,
}
