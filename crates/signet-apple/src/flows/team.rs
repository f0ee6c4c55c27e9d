//! The team's devices and certificates, through an app's App Store Connect key.

use serde_json::json;

use super::{Context, FlowError, REVOKE_IMPACT};
use crate::report::{CertificateList, DeviceEntry, Revoked};

const ALL_SIGNING: [&str; 4] = [
    "IOS_DISTRIBUTION",
    "DISTRIBUTION",
    "IOS_DEVELOPMENT",
    "DEVELOPMENT",
];

/// Apple's UDIDs: 40 hex digits, or 8 and 16 joined by a dash (2018 on).
pub fn check_udid(udid: &str) -> Result<(), FlowError> {
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    let ok = (udid.len() == 40 && hex(udid))
        || (udid.len() == 25 && udid.as_bytes()[8] == b'-' && hex(&udid[..8]) && hex(&udid[9..]));
    if ok {
        Ok(())
    } else {
        Err(FlowError::Invalid {
            field: "udid",
            reason: "a UDID is 40 hex digits, or 8 and 16 hex digits joined by `-`".into(),
        })
    }
}

impl Context<'_> {
    /// The team's registered devices.
    pub async fn devices(&self, bundle_id: Option<&str>) -> Result<Vec<DeviceEntry>, FlowError> {
        let links = self.store.app_credentials(self.org, self.app).await?;
        let asc = self
            .client(&links, bundle_id, "devices", json!("list"))
            .await?;
        Ok(asc
            .devices()
            .await?
            .into_iter()
            .map(|d| DeviceEntry {
                id: d.id,
                name: d.attributes.name.unwrap_or_default(),
                udid: d.attributes.udid.unwrap_or_default(),
                platform: d.attributes.platform.unwrap_or_default(),
                status: d.attributes.status.unwrap_or_default(),
            })
            .collect())
    }

    /// Registers a device (`IOS` unless told).
    pub async fn add_device(
        &self,
        bundle_id: Option<&str>,
        udid: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceEntry, FlowError> {
        check_udid(udid)?;
        if name.trim().is_empty() || name.len() > 50 {
            return Err(FlowError::Invalid {
                field: "name",
                reason: "1 to 50 characters".into(),
            });
        }
        if !matches!(platform, "IOS" | "MAC_OS" | "UNIVERSAL") {
            return Err(FlowError::Invalid {
                field: "platform",
                reason: "IOS, MAC_OS or UNIVERSAL".into(),
            });
        }
        let links = self.store.app_credentials(self.org, self.app).await?;
        let asc = self
            .client(&links, bundle_id, "devices", json!({ "register": udid }))
            .await?;
        let d = asc.register_device(name, udid, platform).await?;
        Ok(DeviceEntry {
            id: d.id,
            name: d.attributes.name.unwrap_or_default(),
            udid: d.attributes.udid.unwrap_or_default(),
            platform: d.attributes.platform.unwrap_or_default(),
            status: d.attributes.status.unwrap_or_default(),
        })
    }

    /// Apple's signing certificates beside signet's.
    pub async fn certificates(
        &self,
        bundle_id: Option<&str>,
    ) -> Result<CertificateList, FlowError> {
        let links = self.store.app_credentials(self.org, self.app).await?;
        let asc = self
            .client(&links, bundle_id, "certificates", json!("list"))
            .await?;
        Ok(CertificateList {
            certificates: self.certificate_entries(&asc, &ALL_SIGNING).await?,
        })
    }

    /// Revokes a certificate at Apple. The stored copy stays (deleting it is
    /// `credentials delete`): builds with it fail from now on.
    pub async fn revoke(&self, bundle_id: Option<&str>, id: &str) -> Result<Revoked, FlowError> {
        let links = self.store.app_credentials(self.org, self.app).await?;
        let asc = self
            .client(&links, bundle_id, "revoke", json!({ "certificate": id }))
            .await?;
        let entry = self
            .certificate_entries(&asc, &ALL_SIGNING)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| FlowError::NoSuchCertificate(id.to_owned()))?;
        asc.revoke_certificate(id).await?;
        tracing::info!(certificate = %id, "revoked at Apple");
        Ok(Revoked {
            certificate: entry,
            impact: REVOKE_IMPACT.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udids_old_and_new_forms() {
        assert!(check_udid("00008101-000A1B2C3D4E5F60").is_ok());
        assert!(check_udid(&"a".repeat(40)).is_ok());
        for bad in [
            "",
            "nope",
            "00008101000A1B2C3D4E5F600",
            &"g".repeat(40),
            "0000810-1000A1B2C3D4E5F60",
        ] {
            assert!(
                matches!(
                    check_udid(bad),
                    Err(FlowError::Invalid { field: "udid", .. })
                ),
                "{bad}"
            );
        }
    }
}
