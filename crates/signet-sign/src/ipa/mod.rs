//! IPA signing and verification.
//!
//! An IPA is a ZIP holding `Payload/<Name>.app`. Signing unpacks it into a temporary
//! directory (refusing unsafe names and symlinks that leave the archive), embeds the
//! provisioning profile as `embedded.mobileprovision`, derives the entitlements from the
//! profile, lets apple-codesign sign nested bundles inside out and then the main bundle
//! (code directories, `_CodeSignature/CodeResources`, the CMS signature), and zips the
//! result again, keeping symlinks and Unix permissions.
//!
//! Verification checks every Mach-O's signature with apple-codesign, every sealed
//! resource against `CodeResources`, the resource seal against the code directory, the
//! embedded profile, and that the signer is one of the profile's certificates.

mod finding;
mod signer;

pub use finding::IpaFinding;

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Component, Path, PathBuf},
};

use apple_codesign::{MachFile, SettingsScope, SigningSettings, UnifiedSigner};
use aws_lc_rs::digest;
use signet_formats::{
    Certificate,
    apple::{
        check::{self, Distribution, Status},
        mobileprovision::Profile,
    },
};

use crate::{
    SignError,
    apk::Archive,
    error::{IpaError, ZipError},
    key::SigningKey,
    zip,
};

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFDIR: u32 = 0o040_000;

fn codesign(e: impl std::error::Error + Send + Sync + 'static) -> SignError {
    SignError::Ipa(IpaError::Codesign(Box::new(e)))
}

fn identity(e: impl std::fmt::Display) -> SignError {
    SignError::Ipa(IpaError::Identity(e.to_string()))
}

fn entitlements(e: impl std::fmt::Display) -> SignError {
    SignError::Ipa(IpaError::Entitlements(e.to_string()))
}

/// What [`sign`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IpaSignReport {
    /// The main bundle's identifier.
    pub bundle_id: String,
    /// The team the profile belongs to.
    pub team_id: String,
    /// The distribution the profile is for.
    pub distribution: Distribution,
    /// Files written into the new IPA.
    pub files: usize,
}

/// Unpacks an IPA into `dir`, returning the path of `Payload/<Name>.app`.
fn unpack(input: &Path, dir: &Path) -> Result<PathBuf, SignError> {
    let mut archive = Archive::open(input)?;
    let entries = archive.entries.clone();
    for e in &entries {
        let rel = Path::new(&e.name);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(ZipError::BadName(e.name.clone()).into());
        }
        let dest = dir.join(rel);
        let mode = e.unix_mode();
        if e.is_dir() || mode.is_some_and(|m| m & S_IFMT == S_IFDIR) {
            std::fs::create_dir_all(&dest)?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let data = archive.read_entry(e, 4 * 1024 * 1024 * 1024)?;
        if mode.is_some_and(|m| m & S_IFMT == S_IFLNK) {
            let target = String::from_utf8(data).map_err(|_| ZipError::BadName(e.name.clone()))?;
            // A link may point within its bundle, never out of the archive.
            let escapes = Path::new(&target).is_absolute()
                || Path::new(&target)
                    .components()
                    .filter(|c| matches!(c, Component::ParentDir))
                    .count()
                    >= rel.components().count();
            if escapes {
                return Err(ZipError::BadName(format!("{} -> {target}", e.name)).into());
            }
            #[cfg(unix)]
            std::os::unix::fs::symlink(&target, &dest)?;
            continue;
        }
        std::fs::write(&dest, &data)?;
        #[cfg(unix)]
        if let Some(m) = mode {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(m & 0o7777))?;
        }
    }
    let payload = dir.join("Payload");
    let apps: Vec<PathBuf> = std::fs::read_dir(&payload)
        .map_err(|_| IpaError::Layout("no Payload/ directory"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "app") && p.is_dir())
        .collect();
    match apps.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(IpaError::Layout("no Payload/<Name>.app bundle").into()),
        _ => Err(IpaError::Layout("several .app bundles in Payload/").into()),
    }
}

/// Zips `dir` (its `Payload/`) into `out`, keeping symlinks and permissions.
fn pack<W: Write>(dir: &Path, out: &mut W) -> Result<usize, SignError> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.join("Payload")];
    while let Some(d) = stack.pop() {
        files.push(d.clone());
        let mut children: Vec<PathBuf> = std::fs::read_dir(&d)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        children.sort();
        for c in children.into_iter().rev() {
            let meta = std::fs::symlink_metadata(&c)?;
            if meta.is_dir() {
                stack.push(c);
            } else {
                files.push(c);
            }
        }
    }
    files.sort();
    let mut offset = 0u64;
    let mut cd = Vec::new();
    let mut count = 0usize;
    for path in &files {
        let rel = path
            .strip_prefix(dir)
            .map_err(|_| ZipError::Malformed("a packed file outside the work folder".into()))?
            .to_string_lossy()
            .replace('\\', "/");
        let meta = std::fs::symlink_metadata(path)?;
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode()
        };
        #[cfg(not(unix))]
        let mode = if meta.is_dir() {
            S_IFDIR | 0o755
        } else {
            0o100_644
        };
        let (name, data, deflate) = if meta.is_dir() {
            (format!("{rel}/"), Vec::new(), false)
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(path)?;
            (
                rel,
                target.to_string_lossy().into_owned().into_bytes(),
                false,
            )
        } else {
            (rel, std::fs::read(path)?, true)
        };
        let (local, record) =
            zip::write::new_entry_with(&name, &data, offset, deflate, Some(mode))?;
        out.write_all(&local)?;
        offset += local.len() as u64;
        cd.extend_from_slice(&record);
        count += 1;
    }
    out.write_all(&cd)?;
    let entries = u16::try_from(count).map_err(|_| ZipError::Zip64)?;
    out.write_all(&zip::write::eocd(entries, cd.len() as u64, offset)?)?;
    out.flush()?;
    Ok(count)
}

fn info_plist(bundle: &Path) -> Result<plist::Dictionary, SignError> {
    let value = plist::Value::from_file(bundle.join("Info.plist")).map_err(|e| {
        IpaError::InfoPlist(format!(
            "not a property list: {}",
            signet_formats::apple::plist_problem(&e)
        ))
    })?;
    value
        .into_dictionary()
        .ok_or_else(|| IpaError::InfoPlist("not a dictionary".into()).into())
}

/// The entitlements to sign with, from the profile: its wildcard app id made concrete.
fn entitlements_xml(profile: &Profile, bundle_id: &str) -> Result<String, SignError> {
    let mut ent: plist::Dictionary =
        plist::from_value(&plist::to_value(&profile.entitlements).map_err(entitlements)?)
            .map_err(entitlements)?;
    ent.insert(
        "application-identifier".into(),
        plist::Value::String(format!("{}.{bundle_id}", profile.app_id_prefix)),
    );
    let mut out = Vec::new();
    plist::Value::Dictionary(ent)
        .to_writer_xml(&mut out)
        .map_err(entitlements)?;
    String::from_utf8(out).map_err(entitlements)
}

/// Signs the IPA at `input` with `identity` under `profile_bytes`, writing the signed IPA
/// to `output`. Refuses when `signet ios check` would fail for this combination.
///
/// The identity's key signs each bundle's CMS signed attributes
/// ([`crate::Purpose::CmsSignedAttributes`], one call per Mach-O slice signed); it may be
/// held elsewhere. RSA and EC P-256 keys are accepted, as Apple issues them.
pub fn sign<W: Write>(
    input: &Path,
    output: &mut W,
    identity_key: &dyn SigningKey,
    profile_bytes: &[u8],
) -> Result<IpaSignReport, SignError> {
    let profile = Profile::parse(profile_bytes)?;
    let chain = identity_key.certificates();
    let cert = chain.first().ok_or_else(|| identity("no certificate"))?;
    let work = tempfile::tempdir()?;
    let app = unpack(input, work.path())?;
    let info = info_plist(&app)?;
    let bundle_id = info
        .get("CFBundleIdentifier")
        .and_then(plist::Value::as_string)
        .ok_or_else(|| IpaError::InfoPlist("no CFBundleIdentifier".into()))?
        .to_owned();
    let distribution = Distribution::of_profile(profile.kind);
    let findings = check::run(
        &check::Inputs {
            identity: Some(cert),
            profile: Some(&profile),
            bundle_id: Some(&bundle_id),
            distribution: Some(distribution),
            push_key: None,
        },
        time::OffsetDateTime::now_utc(),
    );
    if let Some(fail) = findings.iter().find(|f| f.status == Status::Fail) {
        return Err(IpaError::Check {
            check: fail.check.to_string(),
            detail: fail.detail.clone(),
        }
        .into());
    }

    std::fs::write(app.join("embedded.mobileprovision"), profile_bytes)?;
    let captured = x509_certificate::CapturedX509Certificate::from_der(cert.der().to_vec())
        .map_err(identity)?;
    let key = signer::CodesignKey::new(identity_key, captured.clone())?;
    let mut settings = SigningSettings::default();
    settings.set_signing_key(&key, captured);
    settings.chain_apple_certificates();
    for extra in chain.iter().skip(1) {
        if let Ok(c) = x509_certificate::CapturedX509Certificate::from_der(extra.der().to_vec()) {
            settings.chain_certificate(c);
        }
    }
    settings.set_team_id(&profile.team_id);
    settings
        .set_entitlements_xml(SettingsScope::Main, entitlements_xml(&profile, &bundle_id)?)
        .map_err(codesign)?;
    UnifiedSigner::new(settings)
        .sign_path_in_place(&app)
        // The key's own error where it failed (a remote signer's, typed), else apple-codesign's.
        .map_err(|e| key.take_failure().unwrap_or_else(|| codesign(e)))?;

    let files = pack(work.path(), output)?;
    Ok(IpaSignReport {
        bundle_id,
        team_id: profile.team_id.clone(),
        distribution,
        files,
    })
}

/// What [`verify`] found.
#[derive(Debug, Default, serde::Serialize)]
pub struct IpaVerifyReport {
    /// Whether every check passed.
    pub verified: bool,
    /// The main bundle's identifier.
    pub bundle_id: Option<String>,
    /// The signer's subject.
    pub signer: Option<String>,
    /// Bundles whose signatures were checked.
    pub bundles: Vec<String>,
    /// Problems, one per cause; each displays as the sentence `ipa verify` prints.
    pub errors: Vec<IpaFinding>,
}

/// Verifies a signed IPA.
pub fn verify(input: &Path) -> Result<IpaVerifyReport, SignError> {
    let work = tempfile::tempdir()?;
    let app = unpack(input, work.path())?;
    let mut report = IpaVerifyReport::default();
    let info = info_plist(&app)?;
    report.bundle_id = info
        .get("CFBundleIdentifier")
        .and_then(plist::Value::as_string)
        .map(str::to_owned);

    // Every bundle: the main one and any nested .app/.appex/.framework.
    let mut bundles = vec![app.clone()];
    let mut stack = vec![app.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)?.filter_map(Result::ok) {
            let p = e.path();
            if std::fs::symlink_metadata(&p)?.is_dir() {
                if p.extension()
                    .is_some_and(|x| x == "app" || x == "appex" || x == "framework")
                {
                    bundles.push(p.clone());
                }
                stack.push(p);
            }
        }
    }
    let mut signer: Option<Certificate> = None;
    let mut signed_entitlements: Option<serde_json::Value> = None;
    let mut main_verified = false;
    for bundle in &bundles {
        let rel = bundle
            .strip_prefix(work.path())
            .unwrap_or(bundle)
            .display()
            .to_string();
        match verify_bundle(bundle, &rel) {
            Ok((cert, entitlements, problems)) => {
                if bundle == &app {
                    signer = cert;
                    signed_entitlements = entitlements;
                    main_verified = problems.is_empty();
                }
                report.errors.extend(problems);
            }
            Err(problems) => report.errors.extend(problems),
        }
        report.bundles.push(rel);
    }

    match std::fs::read(app.join("embedded.mobileprovision")) {
        Err(_) => report.errors.push(IpaFinding::NoProfile),
        Ok(bytes) => match Profile::parse(&bytes) {
            Err(error) => report.errors.push(IpaFinding::MalformedProfile { error }),
            Ok(profile) => {
                if !profile.signature_valid {
                    report.errors.push(IpaFinding::ProfileModified);
                }
                if let Some(b) = &report.bundle_id {
                    if !profile.matches_bundle_id(b) {
                        report.errors.push(IpaFinding::BundleIdMismatch {
                            bundle_id: b.clone(),
                            application_identifier: profile.application_identifier.clone(),
                        });
                    }
                }
                if let Some(signed) = &signed_entitlements {
                    report
                        .errors
                        .extend(entitlements_outside(signed, &profile.entitlements));
                }
                match &signer {
                    Some(cert) if profile.allows(cert) => {}
                    Some(cert) => report.errors.push(IpaFinding::SignerNotInProfile {
                        subject: cert.info().subject.clone(),
                    }),
                    // A main bundle that failed verification has its error already.
                    None if main_verified => report.errors.push(IpaFinding::NoSigningCertificate),
                    None => {}
                }
            }
        },
    }
    report.signer = signer.map(|c| c.info().subject.clone());
    report.verified = report.errors.is_empty();
    Ok(report)
}

/// Whether `value` is allowed by `pattern`, where a trailing `*` matches any suffix.
fn wildcard_allows(pattern: &serde_json::Value, value: &serde_json::Value) -> bool {
    match (pattern, value) {
        (serde_json::Value::String(p), serde_json::Value::String(v)) => match p.strip_suffix('*') {
            Some(prefix) => v.starts_with(prefix),
            None => p == v,
        },
        (p, v) => p == v,
    }
}

/// Signed entitlements the profile does not grant.
fn entitlements_outside(
    signed: &serde_json::Value,
    profile: &serde_json::Value,
) -> Vec<IpaFinding> {
    let mut problems = Vec::new();
    let Some(signed) = signed.as_object() else {
        return problems;
    };
    for (key, value) in signed {
        let Some(granted) = profile.get(key) else {
            problems.push(IpaFinding::EntitlementNotGranted { key: key.clone() });
            continue;
        };
        let ok = match (granted, value) {
            (serde_json::Value::Array(allowed), serde_json::Value::Array(used)) => used
                .iter()
                .all(|u| allowed.iter().any(|a| wildcard_allows(a, u))),
            (g, v) => wildcard_allows(g, v),
        };
        if !ok {
            problems.push(IpaFinding::EntitlementOutsideProfile {
                key: key.clone(),
                value: value.clone(),
                granted: granted.clone(),
            });
        }
    }
    problems
}

/// Checks one bundle (`rel`, its path inside the IPA): its main executable's signature,
/// and every sealed resource. Returns the signing certificate, the signed entitlements
/// and what was found wrong with the resources.
fn verify_bundle(
    bundle: &Path,
    rel: &str,
) -> Result<
    (
        Option<Certificate>,
        Option<serde_json::Value>,
        Vec<IpaFinding>,
    ),
    Vec<IpaFinding>,
> {
    let info = info_plist(bundle).map_err(|e| {
        vec![IpaFinding::InfoPlist {
            bundle: rel.to_owned(),
            reason: e.to_string(),
        }]
    })?;
    let exe_name = info
        .get("CFBundleExecutable")
        .and_then(plist::Value::as_string)
        .ok_or_else(|| {
            vec![IpaFinding::NoExecutable {
                bundle: rel.to_owned(),
            }]
        })?;
    let executable = || exe_name.to_owned();
    let bad_macho = |e: &dyn std::fmt::Display| {
        vec![IpaFinding::MalformedMachO {
            bundle: rel.to_owned(),
            executable: executable(),
            reason: e.to_string(),
        }]
    };
    let exe = std::fs::read(bundle.join(exe_name)).map_err(|e| {
        vec![IpaFinding::ExecutableUnreadable {
            bundle: rel.to_owned(),
            executable: executable(),
            reason: e.to_string(),
        }]
    })?;
    let problems = apple_codesign::verify_macho_data(&exe);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| IpaFinding::CodeSignature {
                bundle: rel.to_owned(),
                executable: executable(),
                problem: p.to_string(),
            })
            .collect());
    }
    let mach = MachFile::parse(&exe).map_err(|e| bad_macho(&e))?;
    let macho = mach.nth_macho(0).map_err(|e| bad_macho(&e))?;
    let sig = macho
        .code_signature()
        .map_err(|e| bad_macho(&e))?
        .ok_or_else(|| {
            vec![IpaFinding::NotSigned {
                bundle: rel.to_owned(),
                executable: executable(),
            }]
        })?;
    let cd = sig
        .code_directory()
        .map_err(|e| bad_macho(&e))?
        .ok_or_else(|| {
            vec![IpaFinding::NoCodeDirectory {
                bundle: rel.to_owned(),
                executable: executable(),
            }]
        })?;

    // The resource seal: CodeResources' hash in the code directory, each file's hash in it.
    let resources_path = bundle.join("_CodeSignature/CodeResources");
    let resources = std::fs::read(&resources_path).map_err(|_| {
        vec![IpaFinding::NoCodeResources {
            bundle: rel.to_owned(),
        }]
    })?;
    let slot = cd
        .special_digests
        .get(&apple_codesign::CodeSigningSlot::ResourceDir)
        .map(|h| h.data.to_vec());
    let alg = if cd.digest_size == 20 {
        &digest::SHA1_FOR_LEGACY_USE_ONLY
    } else {
        &digest::SHA256
    };
    if slot.as_deref() != Some(digest::digest(alg, &resources).as_ref()) {
        return Err(vec![IpaFinding::ResourceSealMismatch {
            bundle: rel.to_owned(),
        }]);
    }
    let sealed = sealed_files(&resources, rel).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    for (file, expected) in &sealed {
        match std::fs::read(bundle.join(file)) {
            Ok(data) => {
                if digest::digest(&digest::SHA256, &data).as_ref() != expected.as_slice() {
                    problems.push(IpaFinding::ResourceModified {
                        bundle: rel.to_owned(),
                        file: file.clone(),
                    });
                }
            }
            Err(_) => problems.push(IpaFinding::ResourceMissing {
                bundle: rel.to_owned(),
                file: file.clone(),
            }),
        }
    }
    let cert = sig
        .signature_data()
        .ok()
        .flatten()
        .and_then(|cms| signet_formats::cms::SignedData::parse(cms).ok())
        .and_then(|cms| cms.signer_certificate().cloned());
    let bad_entitlements = |e: &dyn std::fmt::Display| {
        vec![IpaFinding::MalformedEntitlements {
            bundle: rel.to_owned(),
            executable: executable(),
            reason: e.to_string(),
        }]
    };
    let entitlements = match sig.entitlements() {
        Ok(Some(blob)) => {
            let value: plist::Value = plist::from_bytes(blob.as_str().as_bytes())
                .map_err(|e| bad_entitlements(&signet_formats::apple::plist_problem(&e)))?;
            Some(serde_json::to_value(value).map_err(|e| bad_entitlements(&e))?)
        }
        Ok(None) => None,
        Err(e) => return Err(bad_entitlements(&e)),
    };
    Ok((cert, entitlements, problems))
}

/// `files2` of CodeResources (of the bundle `rel`): sealed regular files and their
/// SHA-256 (`hash2`).
fn sealed_files(resources: &[u8], rel: &str) -> Result<BTreeMap<String, Vec<u8>>, IpaFinding> {
    let v: plist::Value =
        plist::from_bytes(resources).map_err(|e| IpaFinding::MalformedCodeResources {
            bundle: rel.to_owned(),
            reason: signet_formats::apple::plist_problem(&e),
        })?;
    let files2 = v
        .as_dictionary()
        .and_then(|d| d.get("files2"))
        .and_then(plist::Value::as_dictionary)
        .ok_or_else(|| IpaFinding::NoSealedFiles {
            bundle: rel.to_owned(),
        })?;
    let mut out = BTreeMap::new();
    for (name, entry) in files2 {
        let hash = entry
            .as_dictionary()
            .and_then(|d| d.get("hash2"))
            .and_then(plist::Value::as_data)
            .map(<[u8]>::to_vec);
        if let Some(h) = hash {
            out.insert(name.clone(), h);
        }
    }
    Ok(out)
}
