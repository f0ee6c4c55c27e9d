//! A project's local credentials: eas-cli's credentials.json and the files it names.
//!
//! [`plan`] works out what writing build credentials into a project changes (files at
//! the paths credentials.json already names, else at eas-cli's defaults; credentials.json
//! with its other keys kept), without touching anything; [`Plan::write`] then writes every
//! changed file (0600, missing directories 0700) through temporary files that are renamed
//! into place only once all are written, credentials.json last, so it never names a file
//! that is not there yet. `--to-local`, `build-credentials fetch` and the backups of
//! `--to-remote` all write through here.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::Context;
use serde_json::Value;
use signet_formats::{
    Password,
    credentials_json::{self, AndroidKeystore, DistributionCertificate, Ios, IosTarget},
};
use zeroize::Zeroizing;

use crate::output_file;

/// The file name eas-cli reads in the project directory.
pub const CREDENTIALS_JSON: &str = "credentials.json";

/// A project directory and its credentials.json as it is now.
pub struct Project {
    /// The directory.
    pub dir: PathBuf,
    /// credentials.json's bytes, when there is one.
    pub existing: Option<Zeroizing<Vec<u8>>>,
}

impl Project {
    /// Reads the project's credentials.json, if it has one.
    pub fn open(dir: &Path) -> anyhow::Result<Project> {
        let project = Project {
            dir: dir.to_path_buf(),
            existing: None,
        };
        let path = project.credentials_json();
        let existing = match std::fs::read(&path) {
            Ok(bytes) => Some(Zeroizing::new(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", shown(&path)));
            }
        };
        Ok(Project {
            existing,
            ..project
        })
    }

    /// Where credentials.json is.
    pub fn credentials_json(&self) -> PathBuf {
        self.resolve(CREDENTIALS_JSON)
    }

    /// A path credentials.json names, as eas-cli resolves it: absolute, or relative to the
    /// project directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() || self.dir == Path::new(".") {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
}

/// A path for messages: without a leading `./`.
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    match text.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => text,
    }
}

/// An Android keystore and what opens it.
pub struct AndroidMaterial {
    /// The keystore file.
    pub keystore: Zeroizing<Vec<u8>>,
    /// The store password.
    pub store_password: Password,
    /// The key's alias.
    pub key_alias: String,
    /// The key password.
    pub key_password: Password,
}

/// One iOS target's distribution certificate and provisioning profile.
pub struct IosMaterial {
    /// The .p12.
    pub p12: Zeroizing<Vec<u8>>,
    /// Its password.
    pub password: Password,
    /// The .mobileprovision.
    pub profile: Vec<u8>,
}

/// The iOS section to write: targets by name, in the order given; one target is written
/// in eas-cli's single-target form.
pub struct IosMaterials {
    /// The application target (the first of `targets`).
    pub application_target: String,
    /// Each target's material.
    pub targets: Vec<(String, IosMaterial)>,
}

/// What writing a file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// The file is not there yet.
    New,
    /// The file holds these bytes already (credentials.json: the same JSON).
    Unchanged,
    /// The file is there and differs (credentials.json: a section written differs).
    Replaces,
    /// credentials.json gains a section; nothing in it is replaced.
    Extends,
}

/// One file to write.
pub struct PlannedFile {
    /// The path as credentials.json names it: relative to the project directory, or
    /// absolute (credentials.json itself: `credentials.json`).
    pub named: String,
    /// The path for messages: relative to the working directory, or absolute.
    pub shown: String,
    /// What is written there: `keystore`, `provisioning profile`, …
    pub what: String,
    path: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
    /// What writing it does.
    pub state: FileState,
}

/// What writing build credentials into a project changes.
pub struct Plan {
    /// The credential files, then credentials.json.
    pub files: Vec<PlannedFile>,
    /// The sections of credentials.json that are replaced (`android.keystore`, `ios`).
    pub replaced_sections: Vec<&'static str>,
}

/// Works out the files and the credentials.json that put `android` and `ios` into
/// `project`, changing nothing.
pub fn plan(
    project: &Project,
    android: Option<&AndroidMaterial>,
    ios: Option<&IosMaterials>,
) -> anyhow::Result<Plan> {
    let json_path = project.credentials_json();
    let json_shown = shown(&json_path);
    let existing = project.existing.as_deref().map(Vec::as_slice);
    let mut files = Vec::new();
    let mut json: Option<Zeroizing<Vec<u8>>> = None;
    if let Some(a) = android {
        let path = credentials_json::android_keystore_file_path(existing)
            .with_context(|| json_shown.clone())?;
        files.push(planned(project, &path, "keystore", &a.keystore)?);
        let section = AndroidKeystore {
            keystore_path: path,
            keystore_password: a.store_password.clone(),
            key_alias: a.key_alias.clone(),
            key_password: Some(a.key_password.clone()),
        };
        json = Some(Zeroizing::new(
            credentials_json::with_android_keystore(existing, &section)
                .with_context(|| json_shown.clone())?,
        ));
    }
    if let Some(ios) = ios {
        let names: Vec<&str> = ios.targets.iter().map(|(n, _)| n.as_str()).collect();
        let paths = credentials_json::ios_file_paths(existing, &ios.application_target, &names)
            .with_context(|| json_shown.clone())?;
        let several = ios.targets.len() > 1;
        let mut section = BTreeMap::new();
        for (name, material) in &ios.targets {
            let Some((_, p)) = paths.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let of = if several {
                format!(" of target {name}")
            } else {
                String::new()
            };
            files.push(planned(
                project,
                &p.provisioning_profile,
                &format!("provisioning profile{of}"),
                &material.profile,
            )?);
            files.push(planned(
                project,
                &p.distribution_certificate,
                &format!("distribution certificate{of}"),
                &material.p12,
            )?);
            section.insert(
                name.clone(),
                IosTarget {
                    provisioning_profile_path: p.provisioning_profile.clone(),
                    distribution_certificate: DistributionCertificate {
                        path: p.distribution_certificate.clone(),
                        password: material.password.clone(),
                    },
                },
            );
        }
        let base = json.as_deref().map(Vec::as_slice).or(existing);
        json = Some(Zeroizing::new(
            credentials_json::with_ios(base, &Ios::from_targets(section))
                .with_context(|| json_shown.clone())?,
        ));
    }
    let Some(json) = json else {
        anyhow::bail!("nothing to write");
    };
    let (state, replaced_sections) = json_state(existing, &json, android.is_some(), ios.is_some());
    files.push(PlannedFile {
        named: CREDENTIALS_JSON.into(),
        shown: json_shown,
        what: "credentials".into(),
        path: json_path,
        bytes: json,
        state,
    });
    Ok(Plan {
        files,
        replaced_sections,
    })
}

fn planned(project: &Project, path: &str, what: &str, bytes: &[u8]) -> anyhow::Result<PlannedFile> {
    // credentials.json may come with the repository (a pull request can change it): what
    // it names is written only inside the project directory.
    if !inside(path) {
        return Err(crate::UsageError(format!(
            "credentials.json names `{path}` for the {what}: signet writes credentials only \
             inside the project directory (a relative path without `..`); change the path"
        ))
        .into());
    }
    let full = project.resolve(path);
    let state = match std::fs::read(&full) {
        Ok(old) if old == bytes => FileState::Unchanged,
        Ok(_) => FileState::Replaces,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::New,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", shown(&full))),
    };
    Ok(PlannedFile {
        named: path.to_owned(),
        shown: shown(&full),
        what: what.to_owned(),
        path: full,
        bytes: Zeroizing::new(bytes.to_vec()),
        state,
    })
}

/// Whether `path` stays inside the directory it is relative to: not absolute, no `..`.
fn inside(path: &str) -> bool {
    use std::path::Component;
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// What writing `new` over `existing` does to credentials.json, and the sections it
/// replaces (present before and different now).
fn json_state(
    existing: Option<&[u8]>,
    new: &[u8],
    android: bool,
    ios: bool,
) -> (FileState, Vec<&'static str>) {
    let Some(existing) = existing else {
        return (FileState::New, Vec::new());
    };
    let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
    let (old, new) = (parse(existing), parse(new));
    if old == new {
        return (FileState::Unchanged, Vec::new());
    }
    let mut replaced = Vec::new();
    let keystore = |v: &Value| v.get("android").and_then(|a| a.get("keystore")).cloned();
    if android && keystore(&old).is_some_and(|k| Some(k) != keystore(&new)) {
        replaced.push("android.keystore");
    }
    if ios && old.get("ios").is_some_and(|s| Some(s) != new.get("ios")) {
        replaced.push("ios");
    }
    let state = if replaced.is_empty() {
        FileState::Extends
    } else {
        FileState::Replaces
    };
    (state, replaced)
}

impl Plan {
    /// The files whose content would be replaced, credentials.json with its sections.
    pub fn replaced(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|f| f.state == FileState::Replaces)
            .map(|f| {
                if f.what == "credentials" {
                    format!("{} ({})", f.shown, self.replaced_sections.join(", "))
                } else {
                    format!("{} ({})", f.shown, f.what)
                }
            })
            .collect()
    }

    /// Every path of the plan, for messages, credentials.json last.
    pub fn paths(&self) -> Vec<String> {
        self.files.iter().map(|f| f.shown.clone()).collect()
    }

    /// eas-cli's warning about the plan's files that git does not ignore, if any.
    pub fn not_ignored_warning(&self, project: &Project) -> Option<String> {
        let files: Vec<(String, String)> = self
            .files
            .iter()
            .map(|f| (f.named.clone(), f.shown.clone()))
            .collect();
        not_ignored_warning(&project.dir, &files)
    }

    /// Writes every file that changes: each to a temporary file beside it (missing
    /// directories made 0700), synced, and only then all renamed into place, credentials.json
    /// last. Files are 0600.
    pub fn write(&self) -> anyhow::Result<()> {
        let mut ready = Vec::new();
        for f in self
            .files
            .iter()
            .filter(|f| f.state != FileState::Unchanged)
        {
            if let Some(parent) = f.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                make_private_dirs(parent)?;
            }
            ready.push((output_file::prepare(&f.path, &f.bytes, true)?, &f.path));
        }
        for (tmp, path) in ready {
            output_file::persist(tmp, path, true)?;
        }
        Ok(())
    }
}

/// Makes `dir` and any missing parents, mode 0700.
pub fn make_private_dirs(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create the directory {}", shown(dir)))
}

/// The files (each `(path relative to dir or absolute, path for messages)`) that git does
/// not ignore, for messages, when `dir` is in a git work tree; none outside one, or
/// without git.
pub fn not_ignored(dir: &Path, files: &[(String, String)]) -> Vec<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            // A repository's own config can run programs (core.fsmonitor): they get no token.
            .env_remove("SIGNET_TOKEN")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
    };
    let inside = git(&["rev-parse", "--is-inside-work-tree"])
        .is_some_and(|o| o.status.success() && o.stdout.trim_ascii() == b"true");
    if !inside {
        return Vec::new();
    }
    files
        .iter()
        // 0: ignored; 1: not ignored; 128: outside the work tree, or another error.
        .filter(|(named, _)| {
            git(&["check-ignore", "-q", "--", named]).is_some_and(|o| o.status.code() == Some(1))
        })
        .map(|(_, shown)| shown.clone())
        .collect()
}

/// eas-cli's warning about files that hold secrets and are not ignored by git, or `None`.
pub fn not_ignored_warning(dir: &Path, files: &[(String, String)]) -> Option<String> {
    let unignored = not_ignored(dir, files);
    match unignored.as_slice() {
        [] => None,
        [one] => Some(format!(
            "{one} is not ignored by git: add it to .gitignore, or encrypt it (e.g. with \
             git-crypt); it holds signing credentials"
        )),
        many => Some(format!(
            "{} are not ignored by git: add them to .gitignore, or encrypt them (e.g. with \
             git-crypt); they hold signing credentials",
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod confinement_tests {
    use super::inside;

    #[test]
    fn only_relative_paths_without_dot_dot_are_inside() {
        assert!(inside("credentials/android/keystore.jks"));
        assert!(inside("./keystore.jks"));
        assert!(!inside("/tmp/victim"));
        assert!(!inside("../victim.jks"));
        assert!(!inside("credentials/../../victim.jks"));
        assert!(!inside(""));
    }
}
