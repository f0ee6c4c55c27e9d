//! credentials.json's credentials read and validated as the server will validate them,
//! and the uploads they become.

use anyhow::Context;
use base64::Engine as _;
use signet_client::{AppCredentials, SecretString, Upload};
use signet_formats::{
    Password,
    credentials_json::{AndroidKeystore, Ios, IosTarget},
};
use signet_store::{
    StoreError, check_pair_metadata,
    validate::{CertificateUpload, KeystoreUpload, ProfileUpload, Validated, validate},
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::super::{SyncInputs, only_bundle_id, project::Project};
use crate::UsageError;

/// credentials.json's Android keystore, read and validated.
pub(super) struct LocalKeystore {
    pub(super) section: AndroidKeystore,
    pub(super) bytes: Zeroizing<Vec<u8>>,
    pub(super) validated: Validated,
    /// The alias as the keystore holds it (what the server keeps).
    pub(super) alias: String,
    /// The key password, defaulting to the store password as the server's does.
    pub(super) key_password: Password,
}

/// One iOS target of credentials.json, read and validated.
pub(super) struct LocalTarget {
    pub(super) name: String,
    pub(super) bundle_id: String,
    pub(super) section: IosTarget,
    pub(super) p12: Zeroizing<Vec<u8>>,
    pub(super) profile: Vec<u8>,
    pub(super) certificate: Validated,
}

/// credentials.json's iOS targets with their bundle ids: `(name, bundle id, field prefix,
/// section)`, in credentials.json's order.
pub(super) fn targets_of<'a>(
    section: &'a Ios,
    inputs: &SyncInputs,
    app: &AppCredentials,
) -> anyhow::Result<Vec<(String, String, String, &'a IosTarget)>> {
    match section {
        Ios::Single(target) => {
            let (name, bundle_id) = match (&inputs.bundle_id, inputs.targets.as_slice()) {
                (Some(b), _) => ("app".to_owned(), b.clone()),
                (None, [one]) => (one.name.clone(), one.bundle_id.clone()),
                (None, []) => match only_bundle_id(app, inputs.distribution)? {
                    Some(b) => ("app".to_owned(), b),
                    None => {
                        return Err(UsageError(
                            "give the bundle id of credentials.json's iOS target with --bundle-id"
                                .into(),
                        )
                        .into());
                    }
                },
                (None, _) => {
                    return Err(UsageError(
                        "credentials.json has one iOS target (its single-target form): give its \
                         bundle id with --bundle-id, not several --target"
                            .into(),
                    )
                    .into());
                }
            };
            Ok(vec![(name, bundle_id, "ios".to_owned(), target)])
        }
        Ios::Targets(map) => {
            let names: Vec<&str> = map.keys().map(String::as_str).collect();
            if let Some(t) = inputs.targets.iter().find(|t| !map.contains_key(&t.name)) {
                return Err(UsageError(format!(
                    "--target {}=…: credentials.json has no iOS target `{}` (it has {})",
                    t.name,
                    t.name,
                    names.join(", ")
                ))
                .into());
            }
            let mut out = Vec::new();
            for (name, target) in map {
                let given = inputs.targets.iter().find(|t| &t.name == name);
                let bundle_id = match (given, &inputs.bundle_id) {
                    (Some(t), _) => t.bundle_id.clone(),
                    (None, Some(b)) if map.len() == 1 => b.clone(),
                    _ => {
                        return Err(UsageError(format!(
                            "credentials.json's iOS target `{name}` has no bundle id: give it \
                             with --target {name}=BUNDLE_ID"
                        ))
                        .into());
                    }
                };
                out.push((
                    name.clone(),
                    bundle_id,
                    format!("ios.{}", name.escape_debug()),
                    target,
                ));
            }
            Ok(out)
        }
    }
}

fn b64(bytes: &[u8]) -> SecretString {
    SecretString::new(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn read_named(
    project: &Project,
    json_path: &str,
    field: &str,
    path: &str,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    std::fs::read(project.resolve(path))
        .map(Zeroizing::new)
        .with_context(|| format!("{json_path}: {field} names {path}, which cannot be read"))
}

/// A validation refusal in credentials.json's words: the field, the file it is about, why.
fn refused(json_path: &str, field: &str, file: &str, err: StoreError) -> anyhow::Error {
    match err {
        StoreError::Invalid { reason, .. } => {
            anyhow::anyhow!("{json_path}: {field} ({file}): {reason}")
        }
        other => anyhow::Error::new(other).context(format!("{json_path}: {field} ({file})")),
    }
}

pub(super) fn keystore_upload(section: &AndroidKeystore, bytes: &[u8]) -> Upload {
    Upload::AndroidKeystore(KeystoreUpload {
        name: None,
        keystore: b64(bytes),
        store_password: SecretString::new(section.keystore_password.expose()),
        key_alias: Some(section.key_alias.clone()),
        key_password: section
            .key_password
            .as_ref()
            .map(|p| SecretString::new(p.expose())),
    })
}

pub(super) fn certificate_upload(section: &IosTarget, p12: &[u8]) -> Upload {
    Upload::AppleDistributionCertificate(CertificateUpload {
        name: None,
        p12: Some(b64(p12)),
        password: Some(SecretString::new(
            section.distribution_certificate.password.expose(),
        )),
        private_key: None,
        certificate: None,
        team_id: None,
    })
}

pub(super) fn profile_upload(profile: &[u8], bundle_id: &str) -> Upload {
    Upload::AppleProvisioningProfile(ProfileUpload {
        name: None,
        profile: base64::engine::general_purpose::STANDARD.encode(profile),
        bundle_id: Some(bundle_id.to_owned()),
        team_id: None,
    })
}

pub(super) fn local_keystore(
    project: &Project,
    json_path: &str,
    section: &AndroidKeystore,
    now: OffsetDateTime,
) -> anyhow::Result<LocalKeystore> {
    let at = "android.keystore";
    let file = &section.keystore_path;
    let bytes = read_named(project, json_path, &format!("{at}.keystorePath"), file)?;
    let validated = validate(&keystore_upload(section, &bytes), now).map_err(|e| {
        let field = match &e {
            StoreError::Invalid {
                field: "store_password",
                ..
            } => "keystorePassword",
            StoreError::Invalid {
                field: "key_alias", ..
            } => "keyAlias",
            StoreError::Invalid {
                field: "key_password",
                ..
            } => "keyPassword",
            _ => "keystorePath",
        };
        refused(json_path, &format!("{at}.{field}"), file, e)
    })?;
    let alias = match validated.metadata() {
        signet_client::Metadata::AndroidKeystore(k) => k.alias.clone(),
        _ => section.key_alias.clone(),
    };
    let key_password = section
        .key_password
        .clone()
        .unwrap_or_else(|| section.keystore_password.clone());
    Ok(LocalKeystore {
        section: section.clone(),
        bytes,
        validated,
        alias,
        key_password,
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn local_target(
    project: &Project,
    json_path: &str,
    inputs: &SyncInputs,
    name: String,
    bundle_id: String,
    at: &str,
    section: &IosTarget,
    now: OffsetDateTime,
) -> anyhow::Result<LocalTarget> {
    let cert_file = &section.distribution_certificate.path;
    let profile_file = &section.provisioning_profile_path;
    let cert_at = format!("{at}.distributionCertificate");
    let profile_at = format!("{at}.provisioningProfilePath");
    let p12 = read_named(project, json_path, &format!("{cert_at}.path"), cert_file)?;
    let profile = read_named(project, json_path, &profile_at, profile_file)?;
    let certificate = validate(&certificate_upload(section, &p12), now).map_err(|e| {
        let field = match &e {
            StoreError::Invalid {
                field: "password", ..
            } => format!("{cert_at}.password"),
            _ => format!("{cert_at}.path"),
        };
        refused(json_path, &field, cert_file, e)
    })?;
    let profile_validated = validate(&profile_upload(&profile, &bundle_id), now)
        .map_err(|e| refused(json_path, &profile_at, profile_file, e))?;
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    check_pair_metadata(
        (certificate.metadata(), certificate.expires_at()),
        (profile_validated.metadata(), profile_validated.expires_at()),
        &bundle_id,
        inputs.distribution,
        now_ms,
    )
    .map_err(|e| {
        let (field, file) = match &e {
            StoreError::Invalid {
                field: "certificate_id",
                ..
            } => (cert_at.clone(), cert_file),
            _ => (profile_at.clone(), profile_file),
        };
        let file = format!("{file}, for {bundle_id} {} builds", inputs.distribution);
        refused(json_path, &field, &file, e)
    })?;
    Ok(LocalTarget {
        name,
        bundle_id,
        section: section.clone(),
        p12,
        profile: profile.to_vec(),
        certificate,
    })
}
