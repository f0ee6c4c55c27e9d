//! The resources of Apple's provisioning API that signet reads, typed from the schemas of
//! `asc-provisioning-openapi.json` (4.4.1): only the fields used.

use serde::Deserialize;

/// A resource: its id and attributes (`Certificate`, `Profile`, `BundleId`, `Device`,
/// `BundleIdCapability`).
#[derive(Debug, Clone, Deserialize)]
pub struct Resource<A> {
    /// Apple's id.
    pub id: String,
    /// The attributes.
    #[serde(default)]
    pub attributes: A,
}

/// `Certificate.attributes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAttributes {
    /// The common name.
    pub name: Option<String>,
    /// `CertificateType` (`IOS_DISTRIBUTION`, `DISTRIBUTION`, …).
    pub certificate_type: Option<String>,
    /// The name Apple shows.
    pub display_name: Option<String>,
    /// The serial number, hex.
    pub serial_number: Option<String>,
    /// Expiry (RFC 3339).
    pub expiration_date: Option<String>,
    /// The certificate, base64 DER.
    pub certificate_content: Option<String>,
}

/// `Profile.attributes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAttributes {
    /// Name.
    pub name: Option<String>,
    /// `IOS_APP_STORE`, `IOS_APP_ADHOC`, `IOS_APP_INHOUSE`, `IOS_APP_DEVELOPMENT`, …
    pub profile_type: Option<String>,
    /// `ACTIVE` or `INVALID`.
    pub profile_state: Option<String>,
    /// The .mobileprovision, base64.
    pub profile_content: Option<String>,
    /// The profile's UUID.
    pub uuid: Option<String>,
    /// Expiry (RFC 3339).
    pub expiration_date: Option<String>,
}

impl ProfileAttributes {
    /// Whether Apple marks it `ACTIVE`.
    pub fn is_active(&self) -> bool {
        self.profile_state.as_deref() == Some("ACTIVE")
    }
}

/// `BundleId.attributes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleIdAttributes {
    /// The bundle identifier.
    pub identifier: Option<String>,
    /// The name Apple shows.
    pub name: Option<String>,
    /// `IOS`, `MAC_OS` or `UNIVERSAL`.
    pub platform: Option<String>,
    /// The team's seed id (app id prefix).
    pub seed_id: Option<String>,
}

/// `Device.attributes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAttributes {
    /// The device's name.
    pub name: Option<String>,
    /// `IOS`, `MAC_OS` or `UNIVERSAL`.
    pub platform: Option<String>,
    /// The UDID.
    pub udid: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub status: Option<String>,
}

/// `BundleIdCapability.attributes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityAttributes {
    /// `CapabilityType`.
    pub capability_type: Option<String>,
}

/// A certificate.
pub type AscCertificate = Resource<CertificateAttributes>;
/// A provisioning profile.
pub type AscProfile = Resource<ProfileAttributes>;
/// A bundle id.
pub type AscBundleId = Resource<BundleIdAttributes>;
/// A registered device.
pub type AscDevice = Resource<DeviceAttributes>;
/// A capability enabled on a bundle id.
pub type AscCapability = Resource<CapabilityAttributes>;

/// A relationship's linkage (`{type, id}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Linkage {
    /// The related resource's id.
    pub id: String,
}

/// `{"data": …}` answers (`…Response`).
#[derive(Debug, Deserialize)]
pub(crate) struct One<T> {
    pub(crate) data: T,
}

/// `{"data": [...], "links": {"next"?}}` answers (`…sResponse`).
#[derive(Debug, Deserialize)]
pub(crate) struct Many<T> {
    pub(crate) data: Vec<T>,
    #[serde(default)]
    pub(crate) links: Option<PagedLinks>,
}

/// `PagedDocumentLinks`.
#[derive(Debug, Deserialize)]
pub(crate) struct PagedLinks {
    pub(crate) next: Option<String>,
}

/// Apple's `ErrorResponse`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorResponse {
    pub(crate) errors: Vec<crate::AppleError>,
}
