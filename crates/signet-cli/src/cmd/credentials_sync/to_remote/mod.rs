//! `sync --to-remote`: what credentials.json holds, uploaded and made the app's build
//! credentials, all or nothing.
//!
//! 1. Everything is validated locally first, with the server's own checks
//!    (`signet_store::validate::validate` on the upload each file becomes, and the pairing
//!    rules of [`check_pair_metadata`] for each iOS target): a file that does not open with
//!    its password, a missing alias, a profile that does not allow the certificate or match
//!    the bundle id are refused naming credentials.json's field, before the server is
//!    changed.
//! 2. The build set (Android) and pairs (iOS) in use are read with the audited
//!    build-credentials fetch. A part whose credentials are the same is left alone: a
//!    keystore with the same bytes, passwords and alias; a certificate with the same bytes
//!    or SHA-256 (a certificate the organization already holds is reused, not uploaded
//!    again: Apple's per-team limit counts uploads); a profile with the same bytes.
//! 3. What would be replaced is listed and needs `--yes` (or a confirmation on a
//!    terminal). The credentials it replaces are written to
//!    `credentials-backup/<UTC time>/` in the project, as a credentials.json with its files
//!    (0600), so the backup is itself a project `sync --to-remote` can restore. The fetch
//!    that reads them needs the developer role, which changing a build set or pair needs
//!    too: whoever can replace can back up, so there is no `--no-backup`.
//! 4. New credentials are uploaded, then build sets and pairs pointed at them (If-Match
//!    the versions read). If a step fails, the earlier ones are undone in reverse (sets and
//!    pairs pointed back, created ones deleted, uploads deleted), each undo reported; what
//!    could not be undone (deleting needs the admin role) is named.

mod apply;
mod local;

use anyhow::Context;
use serde::Serialize;
use signet_client::{
    AppCredentials, BuildQuery, ClientError, Credential, CredentialFilter, CredentialId, Kind,
    PageRequest,
};
use signet_formats::credentials_json::{self, AndroidKeystore, CredentialsJson, Ios};
use time::OffsetDateTime;

use super::{
    SyncInputs, android_material, application_id, ios_material,
    project::{self, AndroidMaterial, IosMaterial, Project, shown},
    sha256, short_fingerprint,
};
use crate::{UsageError, flags::SyncPlatform, remote::Remote};
use apply::{apply, backup, undo};
use local::{LocalKeystore, LocalTarget, local_keystore, local_target, targets_of};

/// The name of a build set `--to-remote` creates when the application id has none and no
/// `--name` is given.
pub const NEW_BUILD_SET: &str = "release";

/// Where backups go, in the project directory.
pub const BACKUP_DIR: &str = "credentials-backup";

/// What `--to-remote` did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// credentials.json's path.
    pub credentials_json: String,
    /// The backup of what was replaced, if anything was.
    pub backup: Option<String>,
    /// Credentials uploaded.
    pub uploaded: Vec<Uploaded>,
    /// Build sets and pairs changed.
    pub changed: Vec<Change>,
    /// Build sets and pairs that already had credentials.json's credentials.
    pub unchanged: Vec<String>,
    /// Warnings, also printed on standard error.
    pub warnings: Vec<String>,
}

/// A credential uploaded.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    /// Its id.
    pub id: CredentialId,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Its name.
    pub name: String,
}

/// A build set or pair pointed at other credentials.
#[derive(Debug, Serialize)]
pub struct Change {
    /// `android com.acme.app / build set release`, `ios com.acme.app / app-store`.
    pub place: String,
    /// The credentials it used, if it existed.
    pub from: Vec<CredentialId>,
    /// The credentials it uses now.
    pub to: Vec<CredentialId>,
}

impl Report {
    /// Prints the report for a person.
    pub fn print(&self) {
        if let Some(b) = &self.backup {
            println!(
                "Backed up the credentials replaced to {b} (a credentials.json and its files)"
            );
        }
        for u in &self.uploaded {
            println!("Uploaded {} {} ({})", u.kind.name(), u.id, u.name);
        }
        for c in &self.changed {
            let to = join(&c.to);
            if c.from.is_empty() {
                println!("{}: created with {to}", c.place);
            } else {
                println!("{}: {} → {to}", c.place, join(&c.from));
            }
        }
        for u in &self.unchanged {
            println!("{u}: unchanged");
        }
        if self.changed.is_empty() {
            println!(
                "Nothing to change: the server already has the credentials {} holds.",
                self.credentials_json
            );
        }
    }
}

fn join(ids: &[CredentialId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Where a build set or pair gets a credential from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum From {
    /// A credential the server holds: the one in use, or the organization's same one.
    Server(CredentialId),
    /// An upload of this run (an index into the uploads).
    Upload(usize),
}

/// A credential to upload.
enum Pending {
    Keystore,
    Certificate(usize),
    Profile(usize),
}

struct AndroidStep {
    application_id: String,
    name: String,
    /// The set's version and keystore, when it exists.
    existing: Option<(i64, CredentialId)>,
    /// What the set's keystore holds now (none when it is deleted).
    current: Option<AndroidMaterial>,
    keystore: From,
}

struct PairStep {
    target: usize,
    existing: Option<(i64, CredentialId, CredentialId)>,
    current: Option<IosMaterial>,
    certificate: From,
    profile: From,
}

/// Uploads credentials.json's credentials to the app and makes its builds use them.
pub fn run(remote: &Remote, inputs: &SyncInputs) -> anyhow::Result<Report> {
    let project = Project::open(&inputs.project_dir)?;
    let json_path = shown(&project.credentials_json());
    let Some(bytes) = project.existing.as_deref() else {
        return Err(anyhow::anyhow!(
            "{json_path} not found: there is nothing to upload (`signet credentials sync \
             --to-local` writes one)"
        ));
    };
    let file = credentials_json::read(bytes).with_context(|| json_path.clone())?;
    let (android, ios) = sections(&file, inputs.platform, &json_path)?;

    let app = remote.block_on(remote.client.app(&remote.org, &inputs.app))?;
    let now = OffsetDateTime::now_utc();
    let fail = |e: anyhow::Error| ending(&e, "nothing was changed on the server");

    // 1. Everything local, validated as the server will.
    let keystore = match android {
        Some(section) => Some(local_keystore(&project, &json_path, section, now).map_err(fail)?),
        None => None,
    };
    let targets = match ios {
        Some(section) => {
            let named = targets_of(section, inputs, &app)?;
            let mut out = Vec::new();
            for (name, bundle_id, at, section) in named {
                out.push(
                    local_target(
                        &project, &json_path, inputs, name, bundle_id, &at, section, now,
                    )
                    .map_err(fail)?,
                );
            }
            out
        }
        None => Vec::new(),
    };

    // The names the server will be asked to use, checked as it checks them, so that a bad
    // one is refused before anything is uploaded.
    let checked = |e: signet_store::StoreError| fail(UsageError(e.to_string()).into());
    if keystore.is_some() {
        if let Some(id) = &inputs.application_id {
            signet_store::check_identifier("application_id", id).map_err(checked)?;
        }
        signet_store::check_build_set_name(inputs.name.as_deref().unwrap_or(NEW_BUILD_SET))
            .map_err(checked)?;
    }
    for target in &targets {
        signet_store::check_identifier("bundle_id", &target.bundle_id).map_err(checked)?;
    }

    // 2. What the server has, and what changes.
    let mut pending: Vec<Pending> = Vec::new();
    let android_step = match &keystore {
        Some(local) => Some(android_step(remote, inputs, &app, local, &mut pending)?),
        None => None,
    };
    let mut org_certificates: Option<Vec<Credential>> = None;
    let mut pair_steps = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        pair_steps.push(pair_step(
            remote,
            inputs,
            &app,
            &targets,
            i,
            target,
            &mut pending,
            &mut org_certificates,
        )?);
    }

    let mut unchanged = Vec::new();
    let mut replaced = Vec::new();
    if let Some(step) = &android_step {
        let place = set_place(&step.application_id, &step.name);
        match &step.existing {
            Some((_, id)) if step.keystore == From::Server(id.clone()) => unchanged.push(place),
            Some((_, id)) => replaced.push(format!(
                "{place}: keystore {id}, to be replaced by {}",
                local_description(keystore.as_ref())
            )),
            None => {}
        }
    }
    for step in &pair_steps {
        let place = pair_place(&targets, step.target, inputs.distribution);
        match &step.existing {
            Some((_, c, p))
                if step.certificate == From::Server(c.clone())
                    && step.profile == From::Server(p.clone()) =>
            {
                unchanged.push(place);
            }
            Some((_, c, p)) => {
                let local = &targets[step.target].section;
                replaced.push(format!(
                    "{place}: certificate {c} and profile {p}, to be replaced by {} and {}",
                    local.distribution_certificate.path, local.provisioning_profile_path
                ));
            }
            None => {}
        }
    }
    let changes = android_step.iter().count() + pair_steps.len() - unchanged.len();
    let mut report = Report {
        credentials_json: json_path.clone(),
        backup: None,
        uploaded: Vec::new(),
        changed: Vec::new(),
        unchanged,
        warnings: Vec::new(),
    };
    if changes == 0 {
        return Ok(report);
    }

    // 3. Confirmation, and the backup of what is replaced.
    if !replaced.is_empty() {
        eprintln!("These build credentials on the server would be replaced by {json_path}'s:");
        for r in &replaced {
            eprintln!("  {r}");
        }
        crate::remote::confirm(
            "replace them (the old ones are backed up first)",
            inputs.yes,
        )?;
        report.backup = backup(&project, android_step.as_ref(), &pair_steps, &targets, now)?;
        if let Some(b) = &report.backup {
            let json = format!("{b}/{}", project::CREDENTIALS_JSON);
            let named = format!(
                "{BACKUP_DIR}/{}/{}",
                backup_name(b),
                project::CREDENTIALS_JSON
            );
            report
                .warnings
                .extend(project::not_ignored_warning(&project.dir, &[(named, json)]));
        }
    }

    // 4. Uploads, then the build sets and pairs; undone in reverse if a step fails.
    let mut uploaded: Vec<Credential> = Vec::new();
    let result = apply(
        remote,
        inputs,
        keystore.as_ref(),
        &targets,
        &pending,
        android_step.as_ref(),
        &pair_steps,
        &mut uploaded,
        &mut report,
    );
    if let Err((done, err)) = result {
        let undone = undo(remote, inputs, done, &uploaded);
        if !undone.lines.is_empty() {
            eprintln!("A step failed; undoing the changes made before it:");
        }
        for line in &undone.lines {
            eprintln!("  {line}");
        }
        let outcome = if undone.lines.is_empty() {
            "nothing was changed on the server"
        } else if undone.complete {
            "every change was undone"
        } else {
            "NOT every change could be undone (see above)"
        };
        return Err(ending(&err, outcome));
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(report)
}

/// The last component of a path.
fn backup_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The keystore credentials.json names, for the confirmation: its path and short SHA-256.
fn local_description(keystore: Option<&LocalKeystore>) -> String {
    keystore.map_or_else(String::new, |k| {
        let fp = sha256(k.validated.metadata()).map(short_fingerprint);
        match fp {
            Some(fp) => format!("{} ({fp})", k.section.keystore_path),
            None => k.section.keystore_path.clone(),
        }
    })
}

/// `err`, all its causes on one line, then `; what`: the sentence a refusal ends with
/// (the causes are all in the message, so nothing repeats them).
fn ending(err: &anyhow::Error, what: &str) -> anyhow::Error {
    anyhow::anyhow!("{err:#}; {what}")
}

/// The sections of credentials.json the platform choice covers.
fn sections<'a>(
    file: &'a CredentialsJson,
    platform: SyncPlatform,
    json_path: &str,
) -> anyhow::Result<(Option<&'a AndroidKeystore>, Option<&'a Ios>)> {
    let missing = |what: &str| {
        anyhow::anyhow!("{json_path} has no {what} section: there is nothing to upload")
    };
    Ok(match platform {
        SyncPlatform::Android => (
            Some(file.android.as_ref().ok_or_else(|| missing("android"))?),
            None,
        ),
        SyncPlatform::Ios => (None, Some(file.ios.as_ref().ok_or_else(|| missing("ios"))?)),
        SyncPlatform::All => {
            if file.android.is_none() && file.ios.is_none() {
                return Err(missing("android or ios"));
            }
            (file.android.as_ref(), file.ios.as_ref())
        }
    })
}

fn set_place(application_id: &str, name: &str) -> String {
    format!("android {application_id} / build set {name}")
}

fn pair_place(targets: &[LocalTarget], i: usize, distribution: &str) -> String {
    let t = &targets[i];
    if targets.len() > 1 {
        format!("ios {} / {distribution} (target {})", t.bundle_id, t.name)
    } else {
        format!("ios {} / {distribution}", t.bundle_id)
    }
}

/// The build credentials a set or pair points at now, or `None` when one of them is
/// deleted (nothing to compare with or back up).
fn current(
    remote: &Remote,
    inputs: &SyncInputs,
    query: &BuildQuery,
) -> anyhow::Result<Option<signet_client::BuildCredentials>> {
    match remote.block_on(
        remote
            .client
            .build_credentials(&remote.org, &inputs.app, query),
    ) {
        Ok(b) => Ok(Some(b)),
        Err(ClientError::Problem(p)) if p.kind == "deleted-credential" => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn android_step(
    remote: &Remote,
    inputs: &SyncInputs,
    app: &AppCredentials,
    local: &LocalKeystore,
    pending: &mut Vec<Pending>,
) -> anyhow::Result<AndroidStep> {
    let Some(application_id) = application_id(app, inputs.application_id.as_deref())? else {
        return Err(UsageError(format!(
            "app `{}` has no Android build set yet: give the application id to create one for \
             with --application-id",
            app.app.slug
        ))
        .into());
    };
    let set = app.build_sets.iter().find(|s| {
        s.application_id == application_id
            && match &inputs.name {
                Some(n) => &s.name == n,
                None => s.is_default,
            }
    });
    let name = inputs
        .name
        .clone()
        .or_else(|| set.map(|s| s.name.clone()))
        .unwrap_or_else(|| NEW_BUILD_SET.to_owned());
    let mut step = AndroidStep {
        application_id: application_id.clone(),
        name: name.clone(),
        existing: set.map(|s| (s.version, s.keystore_id.clone())),
        current: None,
        keystore: From::Upload(0),
    };
    if let Some(set) = set {
        let query = BuildQuery::Android {
            application_id,
            name: Some(name),
        };
        step.current = current(remote, inputs, &query)?
            .as_ref()
            .and_then(android_material);
        let same = step.current.as_ref().is_some_and(|c| {
            *c.keystore == *local.bytes
                && c.store_password == local.section.keystore_password
                && c.key_alias == local.alias
                && c.key_password == local.key_password
        });
        if same {
            step.keystore = From::Server(set.keystore_id.clone());
            return Ok(step);
        }
    }
    pending.push(Pending::Keystore);
    step.keystore = From::Upload(pending.len() - 1);
    Ok(step)
}

#[allow(clippy::too_many_arguments)]
fn pair_step(
    remote: &Remote,
    inputs: &SyncInputs,
    app: &AppCredentials,
    targets: &[LocalTarget],
    i: usize,
    local: &LocalTarget,
    pending: &mut Vec<Pending>,
    org_certificates: &mut Option<Vec<Credential>>,
) -> anyhow::Result<PairStep> {
    let pair = app
        .build_pairs
        .iter()
        .find(|p| p.bundle_id == local.bundle_id && p.distribution == inputs.distribution);
    let mut step = PairStep {
        target: i,
        existing: pair.map(|p| (p.version, p.certificate_id.clone(), p.profile_id.clone())),
        current: None,
        certificate: From::Upload(0),
        profile: From::Upload(0),
    };
    let local_sha256 = sha256(local.certificate.metadata())
        .unwrap_or_default()
        .to_owned();
    let mut current_sha256 = None;
    if pair.is_some() {
        let query = BuildQuery::Ios {
            bundle_id: local.bundle_id.clone(),
            distribution: inputs.distribution.to_owned(),
        };
        let build = current(remote, inputs, &query)?;
        if let Some(signet_client::BuildCredentials::Ios {
            distribution_certificate,
            ..
        }) = &build
        {
            current_sha256 =
                sha256(&distribution_certificate.credential.metadata).map(str::to_owned);
        }
        step.current = build.as_ref().and_then(ios_material);
    }
    // The certificate: the one in use if it is the same, else the organization's same
    // one, else one this run uploads already, else an upload.
    step.certificate = match (&pair, &step.current) {
        (Some(p), Some(c))
            if (*c.p12 == *local.p12
                && c.password == local.section.distribution_certificate.password)
                || current_sha256.as_deref() == Some(local_sha256.as_str()) =>
        {
            From::Server(p.certificate_id.clone())
        }
        _ => {
            let known = org_certificate(remote, org_certificates, &local_sha256)?;
            match known {
                Some(id) => From::Server(id),
                None => {
                    let earlier = pending.iter().position(|p| match p {
                        Pending::Certificate(t) => {
                            sha256(targets[*t].certificate.metadata())
                                == Some(local_sha256.as_str())
                        }
                        _ => false,
                    });
                    From::Upload(earlier.unwrap_or_else(|| {
                        pending.push(Pending::Certificate(i));
                        pending.len() - 1
                    }))
                }
            }
        }
    };
    step.profile = match (&pair, &step.current) {
        (Some(p), Some(c)) if c.profile == local.profile => From::Server(p.profile_id.clone()),
        _ => {
            let earlier = pending.iter().position(|p| match p {
                Pending::Profile(t) => targets[*t].profile == local.profile,
                _ => false,
            });
            From::Upload(earlier.unwrap_or_else(|| {
                pending.push(Pending::Profile(i));
                pending.len() - 1
            }))
        }
    };
    Ok(step)
}

/// A live certificate of the organization with this SHA-256, if the caller may list them
/// (a robot limited to apps may not: then none).
fn org_certificate(
    remote: &Remote,
    cache: &mut Option<Vec<Credential>>,
    sha: &str,
) -> anyhow::Result<Option<CredentialId>> {
    if cache.is_none() {
        let filter = CredentialFilter {
            kind: Some(Kind::AppleDistributionCertificate),
            deleted: false,
        };
        let listed = remote.block_on(remote.client.all(async |page: PageRequest| {
            remote.client.credentials(&remote.org, filter, &page).await
        }));
        *cache = Some(match listed {
            Ok(list) => list,
            Err(e) if e.status() == Some(403) => Vec::new(),
            Err(e) => return Err(e.into()),
        });
    }
    Ok(cache.as_ref().and_then(|list| {
        list.iter()
            .find(|c| c.deleted_at.is_none() && sha256(&c.metadata) == Some(sha))
            .map(|c| c.id.clone())
    }))
}
