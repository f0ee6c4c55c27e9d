//! What the provisioning routes answer: shared by the server (which serializes them) and
//! signet-client (which reads them back).

use serde::{Deserialize, Serialize};

/// A distribution type and what it needs at Apple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// The App Store (and TestFlight).
    AppStore,
    /// Ad hoc: registered devices.
    AdHoc,
    /// In-house (Apple Developer Enterprise Program).
    Enterprise,
    /// Development: registered devices, a development certificate.
    Development,
}

impl Distribution {
    /// Every type, as SPEC names them.
    pub const ALL: [Distribution; 4] = [
        Distribution::AppStore,
        Distribution::AdHoc,
        Distribution::Enterprise,
        Distribution::Development,
    ];

    /// Reads `app-store`, `ad-hoc`, `enterprise` or `development`.
    pub fn parse(s: &str) -> Option<Distribution> {
        Distribution::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::AppStore => "app-store",
            Distribution::AdHoc => "ad-hoc",
            Distribution::Enterprise => "enterprise",
            Distribution::Development => "development",
        }
    }

    /// Apple's `profileType`.
    pub fn profile_type(self) -> &'static str {
        match self {
            Distribution::AppStore => "IOS_APP_STORE",
            Distribution::AdHoc => "IOS_APP_ADHOC",
            Distribution::Enterprise => "IOS_APP_INHOUSE",
            Distribution::Development => "IOS_APP_DEVELOPMENT",
        }
    }

    /// The `certificateType`s that can sign for it (the first is the one created).
    pub fn certificate_types(self) -> &'static [&'static str] {
        match self {
            Distribution::Development => &["IOS_DEVELOPMENT", "DEVELOPMENT"],
            _ => &["IOS_DISTRIBUTION", "DISTRIBUTION"],
        }
    }

    /// Whether its profiles list devices.
    pub fn needs_devices(self) -> bool {
        matches!(self, Distribution::AdHoc | Distribution::Development)
    }
}

/// One step of a setup: what was reused, created, enabled or set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `bundle-id`, `capability`, `certificate`, `profile`, `build-pair`.
    pub what: String,
    /// `reused`, `created`, `enabled`, `set`, `unchanged`.
    pub action: String,
    /// In words.
    pub detail: String,
}

/// The answer of a setup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupReport {
    /// The bundle id.
    pub bundle_id: String,
    /// The distribution type.
    pub distribution: Distribution,
    /// Apple's id of the bundle id.
    pub apple_bundle_id: String,
    /// The stored certificate the pair uses.
    pub certificate_id: signet_store::CredentialId,
    /// The stored profile the pair uses.
    pub profile_id: signet_store::CredentialId,
    /// What happened, in order.
    pub steps: Vec<Step>,
    /// Whether the bundle id has a push key in its slot.
    pub push_key: bool,
    /// Things to know (a missing push key and how to add one).
    pub notes: Vec<String>,
}

impl SetupReport {
    /// How many things were made at Apple.
    pub fn created_at_apple(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.action == "created" || s.action == "enabled")
            .count()
    }
}

/// One of Apple's certificates beside what signet knows of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateEntry {
    /// Apple's id.
    pub id: String,
    /// Apple's `certificateType`.
    pub certificate_type: String,
    /// The name Apple shows.
    pub name: String,
    /// The serial number (hex).
    pub serial: String,
    /// Expiry (RFC 3339), as Apple gives it.
    pub expires: String,
    /// The SHA-1 fingerprint (colon hex), when Apple sent the certificate.
    pub sha1: Option<String>,
    /// The stored certificate holding its key, if signet holds one.
    pub held_by: Option<signet_store::CredentialId>,
    /// What uses that stored certificate (build pairs), one line each.
    pub used_by: Vec<String>,
}

/// Apple's certificates of the team.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateList {
    /// Every certificate Apple lists (distribution and development).
    pub certificates: Vec<CertificateEntry>,
}

/// What revoking a certificate does, and what was revoked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revoked {
    /// The certificate.
    pub certificate: CertificateEntry,
    /// The consequence in words.
    pub impact: String,
}

/// A registered device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceEntry {
    /// Apple's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The UDID.
    pub udid: String,
    /// `IOS`, `MAC_OS` or `UNIVERSAL`.
    pub platform: String,
    /// `ENABLED` or `DISABLED`.
    pub status: String,
}

/// One problem the doctor found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `certificate-not-listed`, `profile-invalid`, `profile-expired`,
    /// `profile-not-listed`, `profile-missing-devices`, `no-asc-key`.
    pub code: String,
    /// In words.
    pub detail: String,
}

/// The doctor's word on one build pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairHealth {
    /// The bundle id.
    pub bundle_id: String,
    /// The distribution type.
    pub distribution: String,
    /// Problems; empty when healthy.
    pub findings: Vec<Finding>,
    /// With `fix`: the setup that repaired it.
    pub fixed: Option<SetupReport>,
}

/// The doctor's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DoctorReport {
    /// One per build pair of the app.
    pub pairs: Vec<PairHealth>,
}
