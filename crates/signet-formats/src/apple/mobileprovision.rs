//! Provisioning profiles (`.mobileprovision`): a property list wrapped in CMS SignedData,
//! signed by Apple. What a profile allows — team, app id, devices, entitlements, the
//! certificates that may sign — and its kind, by the rules of Apple's TN3125:
//!
//! | kind | `ProvisionsAllDevices` | `ProvisionedDevices` | `get-task-allow` |
//! |---|---|---|---|
//! | enterprise (in-house) | true | — | — |
//! | development | — | present | true |
//! | ad-hoc | — | present | false |
//! | app-store | — | absent | false |

use time::OffsetDateTime;

use crate::{Certificate, FormatError, Result, cms::SignedData};

/// SHA-256 fingerprints of Apple's root CAs (Apple Root CA, G2, G3), as Apple publishes
/// them at <https://www.apple.com/certificateauthority/>.
const APPLE_ROOTS_SHA256: [&str; 3] = [
    "B0:B1:73:0E:CB:C7:FF:45:05:14:2C:49:F1:29:5E:6E:DA:6B:CA:ED:7E:2C:68:C5:BE:91:B5:A1:10:01:F0:24",
    "C2:B9:B0:42:DD:57:83:0E:7D:11:7D:AC:55:AC:8A:E1:94:07:D3:8E:41:D8:8F:32:15:BC:3A:89:04:44:A0:50",
    "63:34:3A:BF:B8:9A:6A:03:EB:B5:7E:9B:3F:5F:A7:BE:7C:4F:5C:75:6F:30:17:B3:A8:C4:88:C3:65:3E:91:79",
];

/// How a profile may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    /// App Store distribution (and TestFlight).
    AppStore,
    /// Ad hoc distribution to listed devices.
    AdHoc,
    /// In-house distribution (Apple Developer Enterprise Program).
    Enterprise,
    /// Development builds on listed devices.
    Development,
}

/// A certificate a profile allows to sign.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AllowedCertificate {
    /// Subject common name and more, keytool style.
    pub subject: String,
    /// SHA-1 fingerprint (what Xcode and the portal show).
    pub sha1: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A parsed provisioning profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Profile {
    /// `Name`.
    pub name: String,
    /// `UUID`.
    pub uuid: String,
    /// `TeamIdentifier[0]`.
    pub team_id: String,
    /// `TeamName`.
    pub team_name: String,
    /// `AppIDName`.
    pub app_id_name: String,
    /// `ApplicationIdentifierPrefix[0]`.
    pub app_id_prefix: String,
    /// `Entitlements.application-identifier`, e.g. `A1B2C3D4E5.com.acme.app`.
    pub application_identifier: String,
    /// The bundle id part of it (`com.acme.app`, `com.acme.*` or `*`).
    pub bundle_id: String,
    /// `CreationDate`.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// `ExpirationDate`.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    /// `ProvisionedDevices` (UDIDs).
    pub devices: Vec<String>,
    /// `ProvisionsAllDevices`.
    pub provisions_all_devices: bool,
    /// `Entitlements`, as JSON.
    pub entitlements: serde_json::Value,
    /// The kind, by TN3125's rules.
    pub kind: ProfileKind,
    /// `DeveloperCertificates`.
    pub certificates: Vec<AllowedCertificate>,
    /// The CMS signature verified against the certificate it names.
    pub signature_valid: bool,
    /// The signer chains, within the profile, to one of Apple's root CAs.
    pub apple_signed: bool,
    /// The signer's subject.
    pub signer: Option<String>,
}

fn bad(detail: impl Into<String>) -> FormatError {
    FormatError::Malformed {
        what: "provisioning profile",
        detail: detail.into(),
    }
}

impl Profile {
    /// Parses a `.mobileprovision` (DER or BER CMS). A profile whose CMS signature does
    /// not verify is still returned, with `signature_valid` false; one not signed by Apple
    /// has `apple_signed` false.
    pub fn parse(bytes: &[u8]) -> Result<Profile> {
        let cms = SignedData::parse(bytes).map_err(|e| match e {
            FormatError::Empty => FormatError::Empty,
            _ => FormatError::NotAProvisioningProfile,
        })?;
        let content = cms
            .content
            .as_deref()
            .ok_or_else(|| bad("no property list inside the signature"))?;
        let (signature_valid, signer) = match cms.verify(None) {
            Ok(cert) => (true, Some(cert)),
            Err(FormatError::SignatureInvalid(_)) => (false, None),
            Err(e) => return Err(e),
        };
        let apple_signed = signer
            .as_ref()
            .is_some_and(|s| chains_to_apple(s, &cms.certificates));

        let plist: plist::Value = plist::from_bytes(content)
            .map_err(|e| bad(format!("property list: {}", super::plist_problem(&e))))?;
        let dict = plist
            .as_dictionary()
            .ok_or_else(|| bad("property list is not a dictionary"))?;
        let string = |k: &str| {
            dict.get(k)
                .and_then(plist::Value::as_string)
                .map(str::to_owned)
        };
        let first_string = |k: &str| {
            dict.get(k)
                .and_then(plist::Value::as_array)
                .and_then(|a| a.first())
                .and_then(plist::Value::as_string)
                .map(str::to_owned)
        };
        let date = |k: &str| -> Result<OffsetDateTime> {
            let d = dict
                .get(k)
                .and_then(plist::Value::as_date)
                .ok_or_else(|| bad(format!("missing {k}")))?;
            Ok(OffsetDateTime::from(std::time::SystemTime::from(d)))
        };
        let entitlements_dict = dict
            .get("Entitlements")
            .and_then(plist::Value::as_dictionary)
            .ok_or_else(|| bad("missing Entitlements"))?;
        let application_identifier = entitlements_dict
            .get("application-identifier")
            .and_then(plist::Value::as_string)
            .ok_or_else(|| bad("missing Entitlements.application-identifier"))?
            .to_owned();
        let team_id =
            first_string("TeamIdentifier").ok_or_else(|| bad("missing TeamIdentifier"))?;
        let app_id_prefix =
            first_string("ApplicationIdentifierPrefix").unwrap_or_else(|| team_id.clone());
        let bundle_id = application_identifier
            .split_once('.')
            .map_or_else(|| application_identifier.clone(), |(_, b)| b.to_owned());
        let devices: Vec<String> = dict
            .get("ProvisionedDevices")
            .and_then(plist::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(plist::Value::as_string)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let has_devices = dict.contains_key("ProvisionedDevices");
        let provisions_all_devices = dict
            .get("ProvisionsAllDevices")
            .and_then(plist::Value::as_boolean)
            .unwrap_or(false);
        let get_task_allow = entitlements_dict
            .get("get-task-allow")
            .and_then(plist::Value::as_boolean)
            .unwrap_or(false);
        let kind = match (provisions_all_devices, has_devices, get_task_allow) {
            (true, _, _) => ProfileKind::Enterprise,
            (false, true, true) => ProfileKind::Development,
            (false, true, false) => ProfileKind::AdHoc,
            (false, false, _) => ProfileKind::AppStore,
        };
        let mut certificates = Vec::new();
        for c in dict
            .get("DeveloperCertificates")
            .and_then(plist::Value::as_array)
            .into_iter()
            .flatten()
        {
            let der = c
                .as_data()
                .ok_or_else(|| bad("DeveloperCertificates holds a non-data value"))?;
            let cert = Certificate::from_der(der)?;
            let info = cert.info();
            certificates.push(AllowedCertificate {
                subject: info.subject.clone(),
                sha1: info.fingerprints.sha1.clone(),
                sha256: info.fingerprints.sha256.clone(),
                not_after: info.not_after,
            });
        }
        let entitlements = serde_json::to_value(entitlements_dict)
            .map_err(|e| bad(format!("entitlements: {e}")))?;
        Ok(Profile {
            name: string("Name").unwrap_or_default(),
            uuid: string("UUID").ok_or_else(|| bad("missing UUID"))?,
            team_id,
            team_name: string("TeamName").unwrap_or_default(),
            app_id_name: string("AppIDName").unwrap_or_default(),
            app_id_prefix,
            application_identifier,
            bundle_id,
            created: date("CreationDate")?,
            expires: date("ExpirationDate")?,
            devices,
            provisions_all_devices,
            entitlements,
            kind,
            certificates,
            signature_valid,
            apple_signed,
            signer: signer.map(|s| s.info().subject.clone()),
        })
    }

    /// Whether the profile's app id covers `bundle_id` (`*` and `prefix.*` wildcards).
    pub fn matches_bundle_id(&self, bundle_id: &str) -> bool {
        bundle_id_matches(&self.bundle_id, bundle_id)
    }

    /// Whether the profile allows `cert` to sign (its SHA-1 is among DeveloperCertificates).
    pub fn allows(&self, cert: &Certificate) -> bool {
        self.certificates
            .iter()
            .any(|c| c.sha1 == cert.fingerprints().sha1)
    }
}

/// Whether `bundle_id` matches a profile's app id pattern: exact, `*`, or a prefix
/// ending in `*` followed by at least one character.
pub fn bundle_id_matches(pattern: &str, bundle_id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => bundle_id.starts_with(prefix) && bundle_id.len() > prefix.len(),
        None => pattern == bundle_id,
    }
}

/// Follows issuers through `pool` from `leaf` to a self-signed root, checking each
/// signature, and compares the root with Apple's.
fn chains_to_apple(leaf: &Certificate, pool: &[Certificate]) -> bool {
    let mut current = leaf.clone();
    for _ in 0..8 {
        if APPLE_ROOTS_SHA256.contains(&current.fingerprints().sha256.as_str()) {
            return true;
        }
        let Some(issuer) = pool
            .iter()
            .find(|c| current.is_issued_by(c).unwrap_or(false))
        else {
            return false;
        };
        if issuer == &current {
            return false;
        }
        current = issuer.clone();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile_with(bundle: &str) -> Profile {
        Profile {
            name: String::new(),
            uuid: String::new(),
            team_id: "A1B2C3D4E5".into(),
            team_name: String::new(),
            app_id_name: String::new(),
            app_id_prefix: String::new(),
            application_identifier: format!("A1B2C3D4E5.{bundle}"),
            bundle_id: bundle.into(),
            created: OffsetDateTime::UNIX_EPOCH,
            expires: OffsetDateTime::UNIX_EPOCH,
            devices: vec![],
            provisions_all_devices: false,
            entitlements: serde_json::Value::Null,
            kind: ProfileKind::AppStore,
            certificates: vec![],
            signature_valid: true,
            apple_signed: false,
            signer: None,
        }
    }

    #[test]
    fn bundle_id_wildcards() {
        assert!(profile_with("*").matches_bundle_id("com.acme.app"));
        assert!(profile_with("com.acme.*").matches_bundle_id("com.acme.app"));
        assert!(!profile_with("com.acme.*").matches_bundle_id("com.other.app"));
        assert!(!profile_with("com.acme.*").matches_bundle_id("com.acme."));
        assert!(profile_with("com.acme.app").matches_bundle_id("com.acme.app"));
        assert!(!profile_with("com.acme.app").matches_bundle_id("com.acme.app2"));
    }

    #[test]
    fn garbage_is_an_error() {
        // A profile is CMS signed data around a plist: a bare plist is not one.
        for bad in [&b""[..], b"<?xml version=\"1.0\"?><plist/>"] {
            assert!(
                matches!(
                    Profile::parse(bad),
                    Err(FormatError::NotAProvisioningProfile)
                ),
                "{:?}",
                Profile::parse(bad).err()
            );
        }
    }
}
