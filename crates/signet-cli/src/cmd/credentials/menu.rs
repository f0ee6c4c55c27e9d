//! `signet credentials` without an action, on a terminal: the menu of `eas credentials`
//! (platform, app, then what to manage, with eas-cli's wording where it fits). Off a
//! terminal it never prompts: the missing choice is a usage error naming the flag.

use std::path::{Path, PathBuf};

use anyhow::Context;
use dialoguer::{Confirm, Input, Select};
use signet_client::{
    AppCredentials, Credential, CredentialFilter, CredentialId, Kind, Metadata, PageRequest,
};
use signet_formats::Password;

use super::{delete, export, upload};
use crate::cmd::credentials_android::build_sets::{self, KeystoreSource, NewKeystore};
use crate::{
    UsageError,
    flags::{AndroidTarget, RemoteArgs},
    remote::{self, Remote, table::Table},
};

/// The platform the menu manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Android.
    Android,
    /// iOS.
    Ios,
}

/// Runs the menu. `platform` and `app` skip their questions.
pub fn run(
    remote_args: &RemoteArgs,
    platform: Option<Platform>,
    app: Option<&str>,
) -> anyhow::Result<()> {
    if !remote::interactive() {
        return Err(UsageError(
            "`signet credentials` without an action is a menu for a terminal; off one, name \
             the action (`signet credentials list|show|upload|delete|…`, see --help) and its \
             flags (--app, -p/--platform, …)"
                .into(),
        )
        .into());
    }
    let remote = Remote::connect(remote_args)?;
    let platform = match platform {
        Some(p) => p,
        None => match select("Select platform", &["Android", "iOS"])? {
            0 => Platform::Android,
            _ => Platform::Ios,
        },
    };
    let app = match app {
        Some(a) => a.to_owned(),
        None => choose_app(&remote)?,
    };
    match platform {
        Platform::Android => android(&remote, &app),
        Platform::Ios => ios(&remote, &app),
    }
}

fn select(prompt: &str, items: &[&str]) -> anyhow::Result<usize> {
    Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact()
        .context("cannot read the choice from the terminal")
}

fn input(prompt: &str) -> anyhow::Result<String> {
    Input::<String>::new()
        .with_prompt(prompt)
        .interact_text()
        .context("cannot read the answer from the terminal")
}

fn choose_app(remote: &Remote) -> anyhow::Result<String> {
    let apps = remote.apps()?;
    if apps.is_empty() {
        return Err(UsageError(
            "the organization has no apps yet: create one with `signet app create SLUG`".into(),
        )
        .into());
    }
    let slugs: Vec<&str> = apps.iter().map(|a| a.slug.as_str()).collect();
    let i = select("Select app", &slugs)?;
    Ok(apps[i].slug.clone())
}

/// An identifier (application id, bundle id) the app already uses, or a new one.
fn choose_identifier(known: &[String], what: &str) -> anyhow::Result<String> {
    let mut items: Vec<String> = known.to_vec();
    items.push(format!("Another {what}…"));
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    let i = select(&format!("Select {what}"), &refs)?;
    match known.get(i) {
        Some(id) => Ok(id.clone()),
        None => input(&format!("The {what}")),
    }
}

fn app_details(remote: &Remote, app: &str) -> anyhow::Result<AppCredentials> {
    Ok(remote.block_on(remote.client.app(&remote.org, app))?)
}

// --- Android ---------------------------------------------------------------------------

fn android(remote: &Remote, app: &str) -> anyhow::Result<()> {
    let details = app_details(remote, app)?;
    let mut known: Vec<String> = details
        .build_sets
        .iter()
        .map(|s| s.application_id.clone())
        .chain(
            details
                .links
                .iter()
                .filter(|l| l.platform == "android")
                .map(|l| l.identifier.clone()),
        )
        .collect();
    known.sort();
    known.dedup();
    let application_id = choose_identifier(&known, "application id")?;
    loop {
        match select(
            "What do you want to do?",
            &[
                "Keystore: Manage everything needed to build your project",
                "Push Notifications: Manage your FCM API Key",
                "Google Service Account: Manage your Service Account Key",
                "Exit",
            ],
        )? {
            0 => keystore_menu(remote, app, &application_id)?,
            1 => slot_menu(
                remote,
                app,
                "android",
                &application_id,
                "fcm-key",
                Kind::FcmLegacyKey,
            )?,
            2 => {
                let slot = match select(
                    "Which use?",
                    &["FCM V1 (push notifications)", "Google Play submissions"],
                )? {
                    0 => "google-service-account-fcm",
                    _ => "google-service-account-submissions",
                };
                slot_menu(
                    remote,
                    app,
                    "android",
                    &application_id,
                    slot,
                    Kind::GoogleServiceAccountKey,
                )?;
            }
            _ => return Ok(()),
        }
    }
}

fn keystore_menu(remote: &Remote, app: &str, application_id: &str) -> anyhow::Result<()> {
    loop {
        let details = app_details(remote, app)?;
        let sets: Vec<_> = details
            .build_sets
            .iter()
            .filter(|s| s.application_id == application_id)
            .collect();
        let keystores = credentials(remote, Kind::AndroidKeystore)?;
        show_build_sets(&sets, &keystores);
        match select(
            "What do you want to do?",
            &[
                "Set up a new keystore",
                "Change default keystore",
                "Download existing keystore",
                "Delete your keystore",
                "Go back",
            ],
        )? {
            0 => set_up_keystore(remote, app, application_id, sets.is_empty())?,
            1 => {
                let Some(set) = pick_set(&sets)? else {
                    continue;
                };
                let set = remote.block_on(remote.client.make_default(
                    &remote.org,
                    app,
                    application_id,
                    &set,
                ))?;
                eprintln!(
                    "Build set {} is now the default for {application_id}.",
                    set.name
                );
            }
            2 => {
                let Some(set) = pick_set(&sets)? else {
                    continue;
                };
                let Some(set) = sets.iter().find(|s| s.name == set) else {
                    continue;
                };
                let out = PathBuf::from(input("Where to save it")?);
                download_keystore(remote, &set.keystore_id, &out)?;
            }
            3 => {
                let Some(set) = pick_set(&sets)? else {
                    continue;
                };
                let Some(set) = sets.iter().find(|s| s.name == set) else {
                    continue;
                };
                delete_keystore(remote, &set.keystore_id)?;
            }
            _ => return Ok(()),
        }
    }
}

fn credentials(remote: &Remote, kind: Kind) -> anyhow::Result<Vec<Credential>> {
    Ok(
        remote.block_on(remote.client.all(async |page: PageRequest| {
            remote
                .client
                .credentials(
                    &remote.org,
                    CredentialFilter {
                        kind: Some(kind),
                        deleted: false,
                    },
                    &page,
                )
                .await
        }))?,
    )
}

fn show_build_sets(sets: &[&signet_client::BuildSet], keystores: &[Credential]) {
    if sets.is_empty() {
        eprintln!("No keystore yet for this application id.");
        return;
    }
    let mut t = Table::new(&["BUILD SET", "DEFAULT", "KEYSTORE", "SHA-256", "EXPIRES"]);
    for set in sets {
        let keystore = keystores.iter().find(|k| k.id == set.keystore_id);
        let (name, sha256, expires) = match keystore.map(|k| (k, &k.metadata)) {
            Some((k, Metadata::AndroidKeystore(m))) => (
                k.name.clone(),
                super::short_fingerprint(&m.certificate.sha256),
                super::expiry_cell(k.expires_at, super::now_ms()),
            ),
            _ => ("(deleted)".to_owned(), String::new(), String::new()),
        };
        t.row(vec![
            set.name.clone(),
            if set.is_default {
                "*".into()
            } else {
                String::new()
            },
            name,
            sha256,
            expires,
        ]);
    }
    eprint!("{}", t.render());
}

fn pick_set(sets: &[&signet_client::BuildSet]) -> anyhow::Result<Option<String>> {
    if sets.is_empty() {
        eprintln!("There is no keystore for this application id: set one up first.");
        return Ok(None);
    }
    let names: Vec<String> = sets
        .iter()
        .map(|s| {
            if s.is_default {
                format!("{} (default)", s.name)
            } else {
                s.name.clone()
            }
        })
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let i = select("Select build set", &refs)?;
    Ok(sets.get(i).map(|s| s.name.clone()))
}

fn set_up_keystore(
    remote: &Remote,
    app: &str,
    application_id: &str,
    first: bool,
) -> anyhow::Result<()> {
    let name: String = Input::new()
        .with_prompt("Name of the build set")
        .default(if first {
            "release".to_owned()
        } else {
            String::new()
        })
        .interact_text()
        .context("cannot read the answer from the terminal")?;
    let source = match select(
        "How do you want to set up the keystore?",
        &[
            "Generate a new Android Keystore",
            "I want to upload my own keystore",
        ],
    )? {
        0 => KeystoreSource::Generate(NewKeystore::from_flags(None, None, None)?),
        _ => {
            let file = PathBuf::from(input("Path to the keystore file")?);
            let store_pass = rpassword::prompt_password("Keystore password: ")
                .context("cannot read the password from the terminal")?;
            let alias: String = Input::new()
                .with_prompt("Key alias (empty: the only key)")
                .allow_empty(true)
                .interact_text()
                .context("cannot read the answer from the terminal")?;
            let key_pass =
                rpassword::prompt_password("Key password (empty: the keystore password): ")
                    .context("cannot read the password from the terminal")?;
            let bytes = crate::cmd::keystore::read_file(&file)?;
            let upload = upload::keystore_upload(
                &file,
                &bytes,
                Password::new(store_pass),
                (!alias.is_empty()).then_some(alias.as_str()),
                (!key_pass.is_empty()).then(|| Password::new(key_pass)),
                None,
            )?;
            KeystoreSource::Existing(upload::upload(remote, &upload)?.id)
        }
    };
    let default = !first
        && Confirm::new()
            .with_prompt("Make it the default build credentials?")
            .default(true)
            .interact()
            .context("cannot read the answer from the terminal")?;
    let target = AndroidTarget {
        app: app.to_owned(),
        application_id: application_id.to_owned(),
    };
    let created = build_sets::create(remote, &target, &name, source, default)?;
    let set = &created.build_set;
    let sha256 = match created.keystore.as_ref().map(|k| &k.metadata) {
        Some(Metadata::AndroidKeystore(m)) => m.certificate.sha256.clone(),
        _ => "?".to_owned(),
    };
    eprintln!(
        "Keystore {} {}stored on the server (SHA-256 {sha256}); build set {}{} of {application_id}.",
        set.keystore_id,
        if created.generated {
            "generated and "
        } else {
            ""
        },
        set.name,
        if set.is_default { ", the default" } else { "" }
    );
    Ok(())
}

/// Exports a keystore (admin; audited) to `out` and its passwords to `out.password`, 0600,
/// refusing to replace files.
fn download_keystore(remote: &Remote, id: &CredentialId, out: &Path) -> anyhow::Result<()> {
    let password_out = delete::password_path(out);
    let to = export::ExportTo {
        out,
        force: false,
        password_out: Some(&password_out),
        show_secrets: false,
    };
    let exported = export::export(remote, id, to)?;
    export::print_exported(&exported, to, false)
}

/// Deletes a keystore as `credentials delete` does (impact, backup offered), confirmed by
/// typing its name.
fn delete_keystore(remote: &Remote, id: &CredentialId) -> anyhow::Result<()> {
    delete::delete(
        remote,
        id,
        &delete::DeleteOptions {
            typed: true,
            ..delete::DeleteOptions::default()
        },
    )
}

/// A slot (FCM key, service account, push key, ASC key): show it, assign one, clear it.
fn slot_menu(
    remote: &Remote,
    app: &str,
    platform: &str,
    identifier: &str,
    slot: &str,
    kind: Kind,
) -> anyhow::Result<()> {
    let details = app_details(remote, app)?;
    let current = details
        .links
        .iter()
        .find(|l| l.platform == platform && l.identifier == identifier && l.slot == slot);
    let existing = credentials(remote, kind)?;
    match current.and_then(|l| existing.iter().find(|c| c.id == l.credential_id)) {
        Some(c) => eprintln!("{slot}: {} ({})", c.name, c.id),
        None => eprintln!("{slot}: none"),
    }
    match select(
        "What do you want to do?",
        &["Use an existing one", "Remove it from this app", "Go back"],
    )? {
        0 => {
            if existing.is_empty() {
                eprintln!(
                    "None uploaded yet: `signet credentials upload` adds one ({}).",
                    kind.name()
                );
                return Ok(());
            }
            let names: Vec<String> = existing
                .iter()
                .map(|c| format!("{} ({})", c.name, c.id))
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let i = select("Select", &refs)?;
            let link = remote.block_on(remote.client.set_slot(
                &remote.org,
                app,
                platform,
                identifier,
                slot,
                &existing[i].id,
            ))?;
            eprintln!(
                "{} now uses {} for {}.",
                identifier, link.credential_id, link.slot
            );
        }
        1 if current.is_some() => {
            remote.block_on(remote.client.remove_slot(
                &remote.org,
                app,
                platform,
                identifier,
                slot,
            ))?;
            eprintln!("Removed {slot} from {identifier} (the credential itself stays).");
        }
        _ => {}
    }
    Ok(())
}

// --- iOS -------------------------------------------------------------------------------

fn ios(remote: &Remote, app: &str) -> anyhow::Result<()> {
    let details = app_details(remote, app)?;
    let mut known: Vec<String> = details
        .build_pairs
        .iter()
        .map(|p| p.bundle_id.clone())
        .chain(
            details
                .links
                .iter()
                .filter(|l| l.platform == "ios")
                .map(|l| l.identifier.clone()),
        )
        .collect();
    known.sort();
    known.dedup();
    let bundle_id = choose_identifier(&known, "bundle id")?;
    loop {
        match select(
            "What do you want to do?",
            &[
                "Build Credentials: Manage everything needed to build your project",
                "Push Notifications: Manage your Apple Push Notifications Key",
                "App Store Connect: Manage your API Key",
                "Apple Team: the team this bundle id builds for",
                "Exit",
            ],
        )? {
            0 => build_pair_menu(remote, app, &bundle_id)?,
            1 => slot_menu(
                remote,
                app,
                "ios",
                &bundle_id,
                "push-key",
                Kind::ApplePushKey,
            )?,
            2 => slot_menu(
                remote,
                app,
                "ios",
                &bundle_id,
                "asc-api-key",
                Kind::AscApiKey,
            )?,
            3 => slot_menu(
                remote,
                app,
                "ios",
                &bundle_id,
                "apple-team",
                Kind::AppleTeam,
            )?,
            _ => return Ok(()),
        }
    }
}

const DISTRIBUTIONS: [&str; 4] = ["app-store", "ad-hoc", "enterprise", "development"];

fn build_pair_menu(remote: &Remote, app: &str, bundle_id: &str) -> anyhow::Result<()> {
    let details = app_details(remote, app)?;
    let pairs: Vec<_> = details
        .build_pairs
        .iter()
        .filter(|p| p.bundle_id == bundle_id)
        .collect();
    let certificates = credentials(remote, Kind::AppleDistributionCertificate)?;
    let profiles = credentials(remote, Kind::AppleProvisioningProfile)?;
    let name_of = |list: &[Credential], id: &CredentialId| {
        list.iter()
            .find(|c| &c.id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    if pairs.is_empty() {
        eprintln!("No build credentials yet for {bundle_id}.");
    } else {
        let mut t = Table::new(&["DISTRIBUTION", "CERTIFICATE", "PROFILE"]);
        for p in &pairs {
            t.row(vec![
                p.distribution.clone(),
                name_of(&certificates, &p.certificate_id),
                name_of(&profiles, &p.profile_id),
            ]);
        }
        eprint!("{}", t.render());
    }
    match select(
        "What do you want to do?",
        &[
            "Set up with Apple: create what is missing through App Store Connect (certificate, profile)",
            "Distribution Certificate and Provisioning Profile: use existing ones for a distribution type",
            "Provisioning Profile: Delete the pair of a distribution type from your project",
            "Go back",
        ],
    )? {
        0 => {
            let d = DISTRIBUTIONS[select("Distribution type", &DISTRIBUTIONS)?];
            let d = signet_client::apple::Distribution::parse(d)
                .ok_or_else(|| anyhow::anyhow!("unknown distribution {d}"))?;
            let report = crate::cmd::apple::setup::setup(remote, app, bundle_id, d, None, false)?;
            crate::cmd::apple::setup::print_report(&report);
        }
        1 => {
            let d = DISTRIBUTIONS[select("Distribution type", &DISTRIBUTIONS)?];
            if certificates.is_empty() || profiles.is_empty() {
                eprintln!(
                    "Upload a distribution certificate and a provisioning profile first \
                     (`signet credentials upload dist-cert|profile`)."
                );
                return Ok(());
            }
            let names: Vec<String> = certificates
                .iter()
                .map(|c| format!("{} ({})", c.name, c.id))
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let cert = &certificates[select("Distribution certificate", &refs)?];
            let names: Vec<String> = profiles
                .iter()
                .map(|c| format!("{} ({})", c.name, c.id))
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let profile = &profiles[select("Provisioning profile", &refs)?];
            let current = pairs
                .iter()
                .find(|p| p.distribution == d)
                .map(|p| p.version);
            let pair = remote.block_on(remote.client.put_build_pair(
                &remote.org,
                app,
                bundle_id,
                d,
                &cert.id,
                &profile.id,
                current,
            ))?;
            eprintln!(
                "{bundle_id} {} builds now use {} and {}.",
                pair.distribution, cert.name, profile.name
            );
        }
        2 => {
            if pairs.is_empty() {
                return Ok(());
            }
            let ds: Vec<&str> = pairs.iter().map(|p| p.distribution.as_str()).collect();
            let d = ds[select("Distribution type", &ds)?];
            eprintln!(
                "The next {d} build of {bundle_id} will have no credentials until a new pair is set. \
                 Nothing is revoked at Apple."
            );
            remote::confirm(
                &format!("Remove the {d} build credentials of {bundle_id}?"),
                false,
            )?;
            remote.block_on(
                remote
                    .client
                    .delete_build_pair(&remote.org, app, bundle_id, d),
            )?;
            eprintln!("Removed.");
        }
        _ => {}
    }
    Ok(())
}
