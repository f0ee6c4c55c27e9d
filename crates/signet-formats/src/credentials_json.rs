//! eas-cli's `credentials.json`, the file a project keeps its local build credentials in:
//!
//! ```json
//! { "android": { "keystore": { "keystorePath": "…", "keystorePassword": "…",
//!                              "keyAlias": "…", "keyPassword": "…" } },
//!   "ios": { "provisioningProfilePath": "…",
//!            "distributionCertificate": { "path": "…", "password": "…" } } }
//! ```
//!
//! `ios` is either one target's credentials, as above, or an object whose keys are target
//! names and whose values are each that object.
//!
//! [`read`] accepts exactly the files eas-cli's reader accepts (its Joi schema in
//! `credentialsJson/types.ts`, run with `stripUnknown`): the whole file is checked whatever
//! section is wanted; `keystorePath`, `keyAlias`, `provisioningProfilePath` and
//! `distributionCertificate.path` are non-empty strings; `keystorePassword` and
//! `distributionCertificate.password` are strings, maybe empty; `keyPassword` is an optional
//! string; keys the schema does not name are ignored, and so is a target whose name is
//! empty. `ios` is one target's credentials when it matches that schema, and a map of
//! targets otherwise.
//!
//! [`with_android_keystore`] and [`with_ios`] write a section while keeping every other
//! key of an existing file, and refuse to write a section eas-cli would refuse to read.
//! Keys come out sorted (serde_json's `Map`), not in the existing file's order.
//! [`android_keystore_file_path`] and [`ios_file_paths`] choose where the credential files
//! go as eas-cli's `credentials.json` update does: the paths the file already names, else
//! eas-cli's defaults ([`ANDROID_KEYSTORE_PATH`], [`default_ios_file_paths`]).
//!
//! This module does no I/O: the caller reads and writes the files.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use crate::{FormatError, Password, Result};

/// Where eas-cli puts the Android keystore when credentials.json names none.
pub const ANDROID_KEYSTORE_PATH: &str = "credentials/android/keystore.jks";

/// The whole file, as eas-cli reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialsJson {
    /// `android.keystore`, when the file has an `android` section.
    pub android: Option<AndroidKeystore>,
    /// `ios`, when the file has one.
    pub ios: Option<Ios>,
}

/// The `android.keystore` object.
#[derive(Clone, PartialEq, Eq)]
pub struct AndroidKeystore {
    /// Path of the keystore, relative to the project directory (where credentials.json is),
    /// or absolute.
    pub keystore_path: String,
    /// The store password.
    pub keystore_password: Password,
    /// The alias of the key entry.
    pub key_alias: String,
    /// The key password; eas-cli allows it to be left out.
    pub key_password: Option<Password>,
}

impl std::fmt::Debug for AndroidKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndroidKeystore")
            .field("keystore_path", &self.keystore_path)
            .field("key_alias", &self.key_alias)
            .finish_non_exhaustive()
    }
}

/// The `ios` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ios {
    /// One target's credentials: eas-cli takes them for the application target.
    Single(IosTarget),
    /// Credentials per target name.
    Targets(BTreeMap<String, IosTarget>),
}

impl Ios {
    /// The section as eas-cli writes it for these targets: the single form for one target,
    /// the map for several.
    pub fn from_targets(mut targets: BTreeMap<String, IosTarget>) -> Ios {
        if targets.len() == 1 {
            if let Some((_, only)) = targets.pop_first() {
                return Ios::Single(only);
            }
        }
        Ios::Targets(targets)
    }

    /// Credentials per target name, as eas-cli's `readIosCredentialsAsync` returns them:
    /// the single form is the application target's.
    pub fn into_targets(self, application_target: &str) -> BTreeMap<String, IosTarget> {
        match self {
            Ios::Single(target) => BTreeMap::from([(application_target.to_owned(), target)]),
            Ios::Targets(targets) => targets,
        }
    }
}

/// One iOS target's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IosTarget {
    /// `provisioningProfilePath`, relative to the project directory or absolute.
    pub provisioning_profile_path: String,
    /// `distributionCertificate`.
    pub distribution_certificate: DistributionCertificate,
}

/// The `distributionCertificate` object of an iOS target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionCertificate {
    /// Path of the `.p12`, relative to the project directory or absolute.
    pub path: String,
    /// The `.p12` password (may be empty).
    pub password: Password,
}

/// The files of one iOS target, as paths relative to the project directory (or absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IosFilePaths {
    /// Where the provisioning profile goes.
    pub provisioning_profile: String,
    /// Where the distribution certificate (`.p12`) goes.
    pub distribution_certificate: String,
}

/// Reads and checks the whole file as eas-cli does.
pub fn read(bytes: &[u8]) -> Result<CredentialsJson> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
    let root = root
        .as_object()
        .ok_or_else(|| invalid(NOT_AN_OBJECT.into()))?;
    let android = match root.get("android") {
        None => None,
        Some(v) => Some(android(v).map_err(invalid)?),
    };
    let ios = match root.get("ios") {
        None => None,
        Some(v) => Some(ios(v).map_err(invalid)?),
    };
    Ok(CredentialsJson { android, ios })
}

/// Reads `android.keystore`, if the file has an `android` section. The whole file is
/// checked, as eas-cli's `readAndroidCredentialsAsync` does.
pub fn read_android_keystore(bytes: &[u8]) -> Result<Option<AndroidKeystore>> {
    Ok(read(bytes)?.android)
}

/// Reads the `ios` section, if the file has one. The whole file is checked, as eas-cli's
/// `readIosCredentialsAsync` does.
pub fn read_ios(bytes: &[u8]) -> Result<Option<Ios>> {
    Ok(read(bytes)?.ios)
}

/// Whether the file already has an `android.keystore` section.
pub fn has_android_keystore(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .is_some_and(|v| v.get("android").and_then(|a| a.get("keystore")).is_some())
}

/// Sets `android.keystore` in `existing` (or in a new file), keeping every other key;
/// refuses (`InvalidParameter`) a keystore section eas-cli would not read. Returns the new
/// file, pretty-printed with two-space indents as eas-cli writes it.
pub fn with_android_keystore(
    existing: Option<&[u8]>,
    keystore: &AndroidKeystore,
) -> Result<Vec<u8>> {
    let section = android_keystore_value(keystore);
    let mut checked = Map::new();
    checked.insert("keystore".into(), section.clone());
    android(&Value::Object(checked)).map_err(|e| refused(&e))?;

    let mut root = existing_root(existing)?;
    let android = root
        .entry("android")
        .or_insert_with(|| Value::Object(Map::new()));
    let android = android
        .as_object_mut()
        .ok_or_else(|| invalid("`android` is not an object".into()))?;
    android.insert("keystore".into(), section);
    pretty(&root)
}

/// Sets the `ios` section in `existing` (or in a new file), keeping every key outside it;
/// refuses (`InvalidParameter`) a section eas-cli would not read, or one without targets.
/// The section is replaced as a whole, as eas-cli does: it holds the project's targets,
/// and a target left out would be one eas-cli still reads. Returns the new file,
/// pretty-printed with two-space indents as eas-cli writes it.
pub fn with_ios(existing: Option<&[u8]>, section: &Ios) -> Result<Vec<u8>> {
    let value = ios_value(section);
    match section {
        Ios::Targets(targets) if targets.is_empty() => {
            return Err(FormatError::InvalidParameter(
                "credentials.json: an `ios` section needs at least one target".into(),
            ));
        }
        Ios::Targets(targets) if targets.contains_key("") => {
            return Err(FormatError::InvalidParameter(
                "credentials.json: an iOS target name cannot be empty (eas-cli ignores such a \
                 target)"
                    .into(),
            ));
        }
        _ => {}
    }
    ios(&value).map_err(|e| refused(&e))?;
    let mut root = existing_root(existing)?;
    root.insert("ios".into(), value);
    pretty(&root)
}

/// Where eas-cli's update puts the Android keystore: the `keystorePath` the file already
/// names, else [`ANDROID_KEYSTORE_PATH`].
pub fn android_keystore_file_path(existing: Option<&[u8]>) -> Result<String> {
    let root = existing_root(existing)?;
    Ok(root
        .get("android")
        .and_then(|a| a.get("keystore"))
        .and_then(|k| named_path(k.get("keystorePath")))
        .unwrap_or_else(|| ANDROID_KEYSTORE_PATH.to_owned()))
}

/// eas-cli's default files of an iOS target: `credentials/ios/profile.mobileprovision` and
/// `credentials/ios/dist-cert.p12`, or, when the project has several targets, the same
/// with the target name and `-` before the file name
/// (`credentials/ios/<target>-profile.mobileprovision`).
pub fn default_ios_file_paths(target: &str, several_targets: bool) -> IosFilePaths {
    let prefix = if several_targets {
        format!("{target}-")
    } else {
        String::new()
    };
    IosFilePaths {
        provisioning_profile: format!("credentials/ios/{prefix}profile.mobileprovision"),
        distribution_certificate: format!("credentials/ios/{prefix}dist-cert.p12"),
    }
}

/// Where eas-cli's update puts each target's files (its `createTargetCredentialsPathsMap`):
/// the paths `existing` names for the target (a single-form `ios` section is the
/// application target's), else [`default_ios_file_paths`]; a path already taken by an
/// earlier target gets the target name and `-` before its file name. Targets are taken in
/// the order eas-cli's object keeps them (names that are array indices first, ascending,
/// then the rest as given). A path the file gives that is not a non-empty string is
/// ignored (eas-cli would fail on it).
///
/// Returns the targets in that order. `targets` must be distinct, non-empty and hold
/// `application_target`.
pub fn ios_file_paths(
    existing: Option<&[u8]>,
    application_target: &str,
    targets: &[&str],
) -> Result<Vec<(String, IosFilePaths)>> {
    let mut seen = HashSet::new();
    if let Some(dup) = targets.iter().find(|t| !seen.insert(**t)) {
        return Err(FormatError::InvalidParameter(format!(
            "iOS target `{}` is named twice",
            dup.escape_debug()
        )));
    }
    if targets.contains(&"") {
        return Err(FormatError::InvalidParameter(
            "an iOS target name cannot be empty".into(),
        ));
    }
    if !targets.contains(&application_target) {
        return Err(FormatError::InvalidParameter(format!(
            "the application target `{}` is not among the targets",
            application_target.escape_debug()
        )));
    }
    let root = existing_root(existing)?;
    let section = root.get("ios");
    let single = section
        .and_then(|s| s.get("provisioningProfilePath"))
        .is_some_and(Value::is_string);
    let several = targets.len() > 1;
    let mut ordered = targets.to_vec();
    ordered.sort_by_key(|t| js_array_index(t).map_or((1, 0), |i| (0, i)));

    let mut used_profiles = HashSet::new();
    let mut used_certificates = HashSet::new();
    let mut out = Vec::with_capacity(ordered.len());
    for target in ordered {
        let named = if single {
            section.filter(|_| target == application_target)
        } else {
            section.and_then(|s| s.get(target))
        };
        let default = default_ios_file_paths(target, several);
        let profile = named
            .and_then(|n| named_path(n.get("provisioningProfilePath")))
            .unwrap_or(default.provisioning_profile);
        let certificate = named
            .and_then(|n| n.get("distributionCertificate"))
            .and_then(|c| named_path(c.get("path")))
            .unwrap_or(default.distribution_certificate);
        let profile = unused(profile, target, &mut used_profiles);
        let certificate = unused(certificate, target, &mut used_certificates);
        out.push((
            target.to_owned(),
            IosFilePaths {
                provisioning_profile: profile,
                distribution_certificate: certificate,
            },
        ));
    }
    Ok(out)
}

const NOT_AN_OBJECT: &str = "the top level is not an object";

/// A path the existing file names, if it is one eas-cli could use.
fn named_path(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `path` if no earlier target took it, else eas-cli's
/// `path.join(path.dirname(p), `${target}-${path.basename(p)}`)`.
fn unused(path: String, target: &str, used: &mut HashSet<String>) -> String {
    let path = if used.contains(&path) {
        let (dir, base) = node_split(&path);
        node_normalize(&format!("{dir}/{target}-{base}"))
    } else {
        path
    };
    used.insert(path.clone());
    path
}

/// Node's `path.posix.dirname` and `path.posix.basename` of `p`.
fn node_split(p: &str) -> (&str, &str) {
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        // "" or only slashes.
        return (if p.is_empty() { "." } else { "/" }, "");
    }
    match trimmed.rfind('/') {
        None => (".", trimmed),
        Some(i) => {
            let dir = trimmed[..i].trim_end_matches('/');
            (if dir.is_empty() { "/" } else { dir }, &trimmed[i + 1..])
        }
    }
}

/// Node's `path.posix.normalize`.
fn node_normalize(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let mut out = parts.join("/");
    if out.is_empty() && !absolute {
        out.push('.');
    }
    if p.ends_with('/') && !out.is_empty() {
        out.push('/');
    }
    if absolute {
        out.insert(0, '/');
    }
    out
}

/// The index of a JavaScript array-index key (a canonical decimal below 2³² − 1), which
/// JavaScript objects order before every other key.
fn js_array_index(key: &str) -> Option<u32> {
    let i: u32 = key.parse().ok()?;
    (i < u32::MAX && i.to_string() == key).then_some(i)
}

fn existing_root(existing: Option<&[u8]>) -> Result<Map<String, Value>> {
    match existing {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            match serde_json::from_slice::<Value>(bytes).map_err(|e| malformed(&e))? {
                Value::Object(map) => Ok(map),
                _ => Err(invalid(NOT_AN_OBJECT.into())),
            }
        }
        _ => Ok(Map::new()),
    }
}

fn pretty(root: &Map<String, Value>) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(root).map_err(|e| malformed(&e))?;
    out.push(b'\n');
    Ok(out)
}

fn android_keystore_value(keystore: &AndroidKeystore) -> Value {
    let mut m = Map::new();
    m.insert("keystorePath".into(), keystore.keystore_path.clone().into());
    m.insert(
        "keystorePassword".into(),
        keystore.keystore_password.expose().into(),
    );
    m.insert("keyAlias".into(), keystore.key_alias.clone().into());
    if let Some(p) = &keystore.key_password {
        m.insert("keyPassword".into(), p.expose().into());
    }
    Value::Object(m)
}

fn ios_value(section: &Ios) -> Value {
    match section {
        Ios::Single(target) => ios_target_value(target),
        Ios::Targets(targets) => Value::Object(
            targets
                .iter()
                .map(|(name, target)| (name.clone(), ios_target_value(target)))
                .collect(),
        ),
    }
}

fn ios_target_value(target: &IosTarget) -> Value {
    let mut certificate = Map::new();
    certificate.insert(
        "path".into(),
        target.distribution_certificate.path.clone().into(),
    );
    certificate.insert(
        "password".into(),
        target.distribution_certificate.password.expose().into(),
    );
    let mut m = Map::new();
    m.insert(
        "provisioningProfilePath".into(),
        target.provisioning_profile_path.clone().into(),
    );
    m.insert("distributionCertificate".into(), Value::Object(certificate));
    Value::Object(m)
}

// The checks below return what is wrong as a sentence naming the field, never its value.

/// The `android` section.
fn android(value: &Value) -> Result<AndroidKeystore, String> {
    let section = object(Some(value), "android")?;
    let at = "android.keystore";
    let keystore = object(section.get("keystore"), at)?;
    Ok(AndroidKeystore {
        keystore_path: string(keystore, at, "keystorePath", Str::NonEmpty)?,
        keystore_password: Password::new(string(keystore, at, "keystorePassword", Str::Any)?),
        key_alias: string(keystore, at, "keyAlias", Str::NonEmpty)?,
        key_password: optional_string(keystore, at, "keyPassword")?.map(Password::new),
    })
}

/// The `ios` section: one target's credentials if it reads as them, else a map of targets.
fn ios(value: &Value) -> Result<Ios, String> {
    let section = object(Some(value), "ios")?;
    let single = ios_target(section, "ios");
    let single_error = match single {
        Ok(target) => return Ok(Ios::Single(target)),
        Err(e) => e,
    };
    let mut targets = BTreeMap::new();
    let mut map_error = None;
    for (name, value) in section {
        if name.is_empty() {
            continue; // eas-cli's schema does not match an empty key, and drops it.
        }
        let at = format!("ios.{}", name.escape_debug());
        match object(Some(value), &at).and_then(|t| ios_target(t, &at)) {
            Ok(target) => {
                targets.insert(name.clone(), target);
            }
            Err(e) => {
                map_error.get_or_insert(e);
            }
        }
    }
    match map_error {
        None => Ok(Ios::Targets(targets)),
        // Both forms failed: explain the one the file seems to be written in.
        Some(_)
            if section.contains_key("provisioningProfilePath")
                || section.contains_key("distributionCertificate") =>
        {
            Err(single_error)
        }
        Some(e) => Err(e),
    }
}

fn ios_target(target: &Map<String, Value>, at: &str) -> Result<IosTarget, String> {
    let provisioning_profile_path = string(target, at, "provisioningProfilePath", Str::NonEmpty)?;
    let cert_at = format!("{at}.distributionCertificate");
    let certificate = object(target.get("distributionCertificate"), &cert_at)?;
    Ok(IosTarget {
        provisioning_profile_path,
        distribution_certificate: DistributionCertificate {
            path: string(certificate, &cert_at, "path", Str::NonEmpty)?,
            password: Password::new(string(certificate, &cert_at, "password", Str::Any)?),
        },
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Str {
    NonEmpty,
    Any,
}

fn object<'a>(value: Option<&'a Value>, at: &str) -> Result<&'a Map<String, Value>, String> {
    match value {
        None => Err(format!("`{at}` is missing")),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(format!("`{at}` is not an object")),
    }
}

fn string(map: &Map<String, Value>, at: &str, key: &str, rule: Str) -> Result<String, String> {
    optional_string(map, at, key)?
        .ok_or_else(|| format!("`{at}.{key}` is missing"))
        .and_then(|s| {
            if rule == Str::NonEmpty && s.is_empty() {
                Err(format!("`{at}.{key}` is empty"))
            } else {
                Ok(s)
            }
        })
}

fn optional_string(
    map: &Map<String, Value>,
    at: &str,
    key: &str,
) -> Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{at}.{key}` is not a string")),
    }
}

fn invalid(detail: String) -> FormatError {
    FormatError::Malformed {
        what: "credentials.json",
        detail,
    }
}

fn refused(detail: &str) -> FormatError {
    FormatError::InvalidParameter(format!(
        "credentials.json: eas-cli would refuse this section: {detail}"
    ))
}

fn malformed(e: &serde_json::Error) -> FormatError {
    // serde_json's own messages can quote a value (`invalid type: integer `123``), and a
    // value here may be a password: report only the kind of error and where.
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Syntax => "invalid JSON",
        Category::Eof => "JSON ends early",
        Category::Data => "unexpected value",
        Category::Io => "read error",
    };
    let detail = if e.line() > 0 {
        format!("{kind} at line {} column {}", e.line(), e.column())
    } else {
        kind.to_owned()
    };
    invalid(detail)
}

#[cfg(test)]
#[path = "credentials_json_tests.rs"]
mod tests;
