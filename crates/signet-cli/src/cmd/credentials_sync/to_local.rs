//! `sync --to-local`: the server's build credentials of an app into credentials.json and
//! the files it names, as eas-cli's `credentials.json` update writes them.
//!
//! Android: the default build set of the application id (or `--name`). iOS: for each target,
//! its bundle id's pair of the distribution type; targets come from `--target NAME=BUNDLE_ID`
//! (every target an existing credentials.json names needs one), or one target from
//! `--bundle-id` or the app's only bundle id. Files that differ from the server's are
//! listed and replaced only with `--yes` or a confirmation on a terminal.

use serde::Serialize;
use signet_client::{AppCredentials, BuildCredentials, BuildQuery};

use super::{
    SyncInputs, android_material, application_id, ios_material, only_bundle_id,
    project::{self, FileState, IosMaterials, Project},
    short_fingerprint,
};
use crate::{UsageError, remote::Remote};

/// What `--to-local` did.
#[derive(Debug, Serialize)]
pub struct Report {
    /// credentials.json's path.
    pub credentials_json: String,
    /// Files written (new or replaced).
    pub written: Vec<String>,
    /// Files that already held the server's content.
    pub unchanged: Vec<String>,
    /// Where each build's credentials came from.
    pub sources: Vec<Source>,
    /// Warnings (files git does not ignore), also printed on standard error.
    pub warnings: Vec<String>,
}

/// One build's credentials that were synced.
#[derive(Debug, Serialize)]
pub struct Source {
    /// `android` or `ios`.
    pub platform: &'static str,
    /// `android com.acme.app / build set release`, `ios com.acme.app / app-store`.
    pub place: String,
    /// The iOS target in credentials.json.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The credentials' ids and short SHA-256 fingerprints.
    pub credentials: Vec<String>,
}

impl Report {
    /// Prints the report for a person.
    pub fn print(&self) {
        for f in &self.written {
            println!("Wrote {f}");
        }
        for f in &self.unchanged {
            println!("Unchanged {f}");
        }
        for s in &self.sources {
            let target = s
                .target
                .as_ref()
                .map_or_else(String::new, |t| format!(" (target {t})"));
            println!("{}{target}: {}", s.place, s.credentials.join(", "));
        }
        println!(
            "{} is synced with the build credentials stored on the server.",
            self.credentials_json
        );
    }
}

/// Writes the server's build credentials of `inputs.app` into the project.
pub fn run(remote: &Remote, inputs: &SyncInputs) -> anyhow::Result<Report> {
    let project = Project::open(&inputs.project_dir)?;
    let app = remote.block_on(remote.client.app(&remote.org, &inputs.app))?;

    let android = android_query(&app, inputs)?;
    let targets = ios_targets(&app, inputs, &project)?;
    if android.is_none() && targets.is_empty() {
        return Err(anyhow::anyhow!(
            "app `{}` has no build credentials to sync: no Android build set and no iOS {} \
             build pair",
            app.app.slug,
            inputs.distribution
        ));
    }

    // Every build's credentials are read before anything is written.
    let mut sources = Vec::new();
    let mut android_files = None;
    if let Some(query) = android {
        let build = remote.block_on(remote.client.build_credentials(
            &remote.org,
            &inputs.app,
            &query,
        ))?;
        sources.push(source(&build, None));
        android_files = android_material(&build);
    }
    let mut ios_files = Vec::new();
    for (target, bundle_id) in &targets {
        let query = BuildQuery::Ios {
            bundle_id: bundle_id.clone(),
            distribution: inputs.distribution.to_owned(),
        };
        let build = remote.block_on(remote.client.build_credentials(
            &remote.org,
            &inputs.app,
            &query,
        ))?;
        sources.push(source(&build, (targets.len() > 1).then(|| target.clone())));
        if let Some(m) = ios_material(&build) {
            ios_files.push((target.clone(), m));
        }
    }
    let ios = (!ios_files.is_empty()).then(|| IosMaterials {
        application_target: targets.first().map(|(t, _)| t.clone()).unwrap_or_default(),
        targets: ios_files,
    });

    let plan = project::plan(&project, android_files.as_ref(), ios.as_ref())?;
    let replaced = plan.replaced();
    if !replaced.is_empty() {
        eprintln!("These local files differ from the server's build credentials:");
        for r in &replaced {
            eprintln!("  {r}");
        }
        crate::remote::confirm("replace them with the server's", inputs.yes)?;
    }
    plan.write()?;

    let warnings: Vec<String> = plan.not_ignored_warning(&project).into_iter().collect();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let (unchanged, written): (Vec<_>, Vec<_>) = plan
        .files
        .iter()
        .partition(|f| f.state == FileState::Unchanged);
    Ok(Report {
        credentials_json: project::shown(&project.credentials_json()),
        written: written.iter().map(|f| f.shown.clone()).collect(),
        unchanged: unchanged.iter().map(|f| f.shown.clone()).collect(),
        sources,
        warnings,
    })
}

/// The Android build to fetch, if Android is synced and the app has one.
fn android_query(app: &AppCredentials, inputs: &SyncInputs) -> anyhow::Result<Option<BuildQuery>> {
    if !inputs.android() {
        return Ok(None);
    }
    let Some(application_id) = application_id(app, inputs.application_id.as_deref())? else {
        if inputs.platform == crate::flags::SyncPlatform::Android {
            return Err(anyhow::anyhow!(
                "app `{}` has no Android build set: there are no Android credentials to sync",
                app.app.slug
            ));
        }
        return Ok(None);
    };
    let sets: Vec<_> = app
        .build_sets
        .iter()
        .filter(|s| s.application_id == application_id)
        .collect();
    if sets.is_empty() {
        return Err(anyhow::anyhow!(
            "app `{}` has no build set for {application_id}",
            app.app.slug
        ));
    }
    if let Some(name) = &inputs.name
        && !sets.iter().any(|s| &s.name == name)
    {
        return Err(anyhow::anyhow!(
            "app `{}` has no build set `{name}` for {application_id}; it has: {}",
            app.app.slug,
            sets.iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Some(BuildQuery::Android {
        application_id,
        name: inputs.name.clone(),
    }))
}

/// The iOS targets to write, with their bundle ids, the application target first; none
/// when iOS is not synced or (with `--platform all`) the app has no pair to sync.
fn ios_targets(
    app: &AppCredentials,
    inputs: &SyncInputs,
    project: &Project,
) -> anyhow::Result<Vec<(String, String)>> {
    if !inputs.ios() {
        return Ok(Vec::new());
    }
    // The targets credentials.json names already: each needs a bundle id, or it would be
    // dropped from the file. Read from the `ios` object alone, so that a file eas-cli
    // refuses elsewhere can still be repaired.
    let named = named_targets(project.existing.as_deref().map(Vec::as_slice));
    let targets: Vec<(String, String)> = if inputs.targets.is_empty() {
        if named.len() > 1 {
            return Err(UsageError(format!(
                "credentials.json has the iOS targets {}: give each its bundle id with \
                 --target NAME=BUNDLE_ID",
                named.join(", ")
            ))
            .into());
        }
        let bundle_id = match &inputs.bundle_id {
            Some(b) => b.clone(),
            None => match only_bundle_id(app, inputs.distribution)? {
                Some(b) => b,
                None if inputs.platform == crate::flags::SyncPlatform::All => {
                    return Ok(Vec::new());
                }
                None => {
                    return Err(anyhow::anyhow!(
                        "app `{}` has no iOS {} build pair: there are no iOS credentials to sync",
                        app.app.slug,
                        inputs.distribution
                    ));
                }
            },
        };
        let name = named.first().cloned().unwrap_or_else(|| "app".to_owned());
        vec![(name, bundle_id)]
    } else {
        if let Some(missing) = named
            .iter()
            .find(|n| !inputs.targets.iter().any(|t| &t.name == *n))
        {
            return Err(UsageError(format!(
                "credentials.json's iOS target `{missing}` has no bundle id: give it with \
                 --target {missing}=BUNDLE_ID"
            ))
            .into());
        }
        inputs
            .targets
            .iter()
            .map(|t| (t.name.clone(), t.bundle_id.clone()))
            .collect()
    };
    let missing: Vec<String> = targets
        .iter()
        .filter(|(_, b)| {
            !app.build_pairs
                .iter()
                .any(|p| &p.bundle_id == b && p.distribution == inputs.distribution)
        })
        .map(|(t, b)| {
            if targets.len() > 1 {
                format!("{t} (bundle id {b})")
            } else {
                b.clone()
            }
        })
        .collect();
    if !missing.is_empty() {
        return Err(anyhow::anyhow!(
            "app `{}` has no iOS {} build pair for {}: there are no credentials to sync for it",
            app.app.slug,
            inputs.distribution,
            missing.join(", ")
        ));
    }
    Ok(targets)
}

/// The target names of credentials.json's `ios` map (none for the single-target form, or
/// without one).
fn named_targets(existing: Option<&[u8]>) -> Vec<String> {
    let root: Option<serde_json::Value> = existing.and_then(|b| serde_json::from_slice(b).ok());
    let Some(ios) = root
        .as_ref()
        .and_then(|r| r.get("ios"))
        .and_then(|i| i.as_object())
    else {
        return Vec::new();
    };
    if ios
        .get("provisioningProfilePath")
        .is_some_and(serde_json::Value::is_string)
    {
        return Vec::new();
    }
    ios.iter()
        .filter(|(name, target)| !name.is_empty() && target.is_object())
        .map(|(name, _)| name.clone())
        .collect()
}

/// Where a build's credentials came from, for the report.
fn source(build: &BuildCredentials, target: Option<String>) -> Source {
    let describe = |c: &signet_client::Credential| match super::sha256(&c.metadata) {
        Some(fp) => format!("{} {} ({})", c.kind.name(), c.id, short_fingerprint(fp)),
        None => format!("{} {}", c.kind.name(), c.id),
    };
    match build {
        BuildCredentials::Android {
            application_id,
            chosen,
            keystore,
        } => Source {
            platform: "android",
            place: format!(
                "android {application_id} / build set {}",
                chosen["build_set"]["name"].as_str().unwrap_or("?")
            ),
            target,
            credentials: vec![describe(&keystore.credential)],
        },
        BuildCredentials::Ios {
            bundle_id,
            distribution,
            distribution_certificate,
            provisioning_profile,
            ..
        } => Source {
            platform: "ios",
            place: format!("ios {bundle_id} / {distribution}"),
            target,
            credentials: vec![
                describe(&distribution_certificate.credential),
                describe(&provisioning_profile.credential),
            ],
        },
    }
}
