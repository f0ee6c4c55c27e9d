//! The Apple side through App Store Connect: setup, doctor, devices, certificates. The
//! server holds the App Store Connect key; these calls carry none.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};
pub use signet_apple::report::{
    CertificateEntry, CertificateList, DeviceEntry, Distribution, DoctorReport, Finding,
    PairHealth, Revoked, SetupReport, Step,
};

use crate::{Call, Client, ClientError, OrgId};

fn apple_path<'a>(org: &'a OrgId, app: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut p = vec!["v1", "orgs", org.as_str(), "apps", app, "apple"];
    p.extend_from_slice(rest);
    p
}

#[derive(Deserialize)]
struct Devices {
    devices: Vec<DeviceEntry>,
}

impl Client {
    /// `POST …/apps/{app}/ios/{bundle_id}/setup`.
    pub async fn ios_setup(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: &str,
        distribution: Distribution,
        entitlements: Option<&Map<String, Value>>,
    ) -> Result<SetupReport, ClientError> {
        let mut body = json!({ "distribution": distribution.as_str() });
        if let Some(e) = entitlements {
            body["entitlements"] = Value::Object(e.clone());
        }
        self.call(
            Call::new(
                Method::POST,
                &[
                    "v1",
                    "orgs",
                    org.as_str(),
                    "apps",
                    app,
                    "ios",
                    bundle_id,
                    "setup",
                ],
            )
            .body(&body)?,
        )
        .await
    }

    /// `POST …/apps/{app}/apple/doctor`.
    pub async fn apple_doctor(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: Option<&str>,
        fix: bool,
    ) -> Result<DoctorReport, ClientError> {
        let body = json!({ "bundle_id": bundle_id, "fix": fix });
        self.call(Call::new(Method::POST, &apple_path(org, app, &["doctor"])).body(&body)?)
            .await
    }

    /// `GET …/apps/{app}/apple/devices`.
    pub async fn apple_devices(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: Option<&str>,
    ) -> Result<Vec<DeviceEntry>, ClientError> {
        let mut call = Call::get(&apple_path(org, app, &["devices"]));
        if let Some(b) = bundle_id {
            call = call.query("bundle_id", &b);
        }
        self.call::<Devices>(call).await.map(|d| d.devices)
    }

    /// `POST …/apps/{app}/apple/devices`.
    pub async fn apple_add_device(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: Option<&str>,
        udid: &str,
        name: &str,
        platform: &str,
    ) -> Result<DeviceEntry, ClientError> {
        let body =
            json!({ "udid": udid, "name": name, "platform": platform, "bundle_id": bundle_id });
        self.call(Call::new(Method::POST, &apple_path(org, app, &["devices"])).body(&body)?)
            .await
    }

    /// `GET …/apps/{app}/apple/certificates`.
    pub async fn apple_certificates(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: Option<&str>,
    ) -> Result<CertificateList, ClientError> {
        let mut call = Call::get(&apple_path(org, app, &["certificates"]));
        if let Some(b) = bundle_id {
            call = call.query("bundle_id", &b);
        }
        self.call(call).await
    }

    /// `DELETE …/apps/{app}/apple/certificates/{id}`: revokes at Apple.
    pub async fn apple_revoke_certificate(
        &self,
        org: &OrgId,
        app: &str,
        bundle_id: Option<&str>,
        id: &str,
    ) -> Result<Revoked, ClientError> {
        let mut call = Call::new(Method::DELETE, &apple_path(org, app, &["certificates", id]));
        if let Some(b) = bundle_id {
            call = call.query("bundle_id", &b);
        }
        self.call(call).await
    }
}
