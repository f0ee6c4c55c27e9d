//! `signet credentials sync --to-local|--to-remote`: eas-cli's credentials.json and the
//! server's build credentials of an app, either way.
//!
//! [`run`] turns the flags into [`SyncInputs`] and calls [`to_local::run`] or
//! [`to_remote::run`], plain functions of parsed inputs that the interactive menu can call
//! too. What the server holds is read with the developer's audited build-credentials
//! fetch; the files are written by [`project`].

pub mod project;
pub mod to_local;
pub mod to_remote;

use std::{collections::BTreeSet, path::PathBuf};

use signet_client::{AppCredentials, BuildCredentials, SecretString};
use signet_formats::Password;
use zeroize::Zeroizing;

use crate::{
    UsageError,
    flags::{SyncArgs, SyncPlatform, TargetArg},
    output,
    remote::Remote,
};

use project::{AndroidMaterial, IosMaterial};

/// What a sync is asked to do, parsed.
#[derive(Debug, Clone)]
pub struct SyncInputs {
    /// The app (slug or id).
    pub app: String,
    /// Which platforms.
    pub platform: SyncPlatform,
    /// Android: the application id, when given.
    pub application_id: Option<String>,
    /// Android: the build set, when given.
    pub name: Option<String>,
    /// iOS, one target: its bundle id, when given.
    pub bundle_id: Option<String>,
    /// iOS, several targets: names and bundle ids, the application target first.
    pub targets: Vec<TargetArg>,
    /// iOS: `app-store`, `ad-hoc`, `enterprise` or `development`.
    pub distribution: &'static str,
    /// Where credentials.json is.
    pub project_dir: PathBuf,
    /// Replace what differs without asking.
    pub yes: bool,
}

impl SyncInputs {
    /// Whether the platform choice covers Android.
    pub fn android(&self) -> bool {
        matches!(self.platform, SyncPlatform::Android | SyncPlatform::All)
    }

    /// Whether the platform choice covers iOS.
    pub fn ios(&self) -> bool {
        matches!(self.platform, SyncPlatform::Ios | SyncPlatform::All)
    }
}

/// `signet credentials sync`.
pub fn run(args: &SyncArgs) -> anyhow::Result<()> {
    let inputs = inputs(args)?;
    let remote = Remote::connect(&args.remote)?;
    if args.to_local {
        let report = to_local::run(&remote, &inputs)?;
        if args.output.json {
            return output::json(&report);
        }
        report.print();
    } else {
        let report = to_remote::run(&remote, &inputs)?;
        if args.output.json {
            return output::json(&report);
        }
        report.print();
    }
    Ok(())
}

fn inputs(args: &SyncArgs) -> anyhow::Result<SyncInputs> {
    let mut seen = BTreeSet::new();
    for t in &args.target {
        if !seen.insert(t.name.as_str()) {
            return Err(UsageError(format!("--target {}=… is given twice", t.name)).into());
        }
    }
    Ok(SyncInputs {
        app: args.app.clone(),
        platform: args.platform,
        application_id: args.application_id.clone(),
        name: args.name.clone(),
        bundle_id: args.bundle_id.clone(),
        targets: args.target.clone(),
        distribution: crate::cmd::ios::distribution(args.distribution).name(),
        project_dir: args.project_dir.clone(),
        yes: args.yes,
    })
}

/// The application id to act on: the one given, else the only one the app has build sets
/// for; `None` when it has none.
pub fn application_id(app: &AppCredentials, given: Option<&str>) -> anyhow::Result<Option<String>> {
    if let Some(given) = given {
        return Ok(Some(given.to_owned()));
    }
    let ids: BTreeSet<&str> = app
        .build_sets
        .iter()
        .map(|s| s.application_id.as_str())
        .collect();
    match ids.len() {
        0 => Ok(None),
        1 => Ok(ids.first().map(|s| (*s).to_owned())),
        _ => Err(UsageError(format!(
            "app `{}` has build sets for several application ids ({}): choose one with \
             --application-id",
            app.app.slug,
            ids.into_iter().collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}

/// The only bundle id the app has a build pair of `distribution` for; `None` when it has
/// none.
pub fn only_bundle_id(app: &AppCredentials, distribution: &str) -> anyhow::Result<Option<String>> {
    let ids: BTreeSet<&str> = app
        .build_pairs
        .iter()
        .filter(|p| p.distribution == distribution)
        .map(|p| p.bundle_id.as_str())
        .collect();
    match ids.len() {
        0 => Ok(None),
        1 => Ok(ids.first().map(|s| (*s).to_owned())),
        _ => Err(UsageError(format!(
            "app `{}` has {distribution} build pairs for several bundle ids ({}): choose one \
             with --bundle-id, or give each target's with --target NAME=BUNDLE_ID",
            app.app.slug,
            ids.into_iter().collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}

/// A secret string as a password.
fn password(s: &SecretString) -> Password {
    Password::new(s.expose().to_owned())
}

/// An Android build's keystore as files to write; `None` for an iOS build.
pub fn android_material(build: &BuildCredentials) -> Option<AndroidMaterial> {
    match build {
        BuildCredentials::Android { keystore, .. } => Some(AndroidMaterial {
            keystore: Zeroizing::new(keystore.keystore.expose().to_vec()),
            store_password: password(&keystore.store_password),
            key_alias: keystore.key_alias.clone(),
            key_password: password(&keystore.key_password),
        }),
        BuildCredentials::Ios { .. } => None,
    }
}

/// An iOS build's certificate and profile as files to write; `None` for an Android build.
pub fn ios_material(build: &BuildCredentials) -> Option<IosMaterial> {
    match build {
        BuildCredentials::Ios {
            distribution_certificate,
            provisioning_profile,
            ..
        } => Some(IosMaterial {
            p12: Zeroizing::new(distribution_certificate.p12.expose().to_vec()),
            password: password(&distribution_certificate.password),
            profile: provisioning_profile.profile.expose().to_vec(),
        }),
        BuildCredentials::Android { .. } => None,
    }
}

/// The first 8 pairs of a colon-separated fingerprint (`AB:CD:…`), as tables show them.
pub fn short_fingerprint(fingerprint: &str) -> String {
    fingerprint.split(':').take(8).collect::<Vec<_>>().join(":")
}

/// The SHA-256 fingerprint a credential's metadata holds, if its type has one.
pub fn sha256(metadata: &signet_client::Metadata) -> Option<&str> {
    use signet_client::Metadata;
    match metadata {
        Metadata::AndroidKeystore(k) => Some(&k.certificate.sha256),
        Metadata::AppleDistributionCertificate(c) => Some(&c.certificate.sha256),
        _ => None,
    }
}
