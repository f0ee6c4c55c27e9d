//! `signet credentials android …`: an app's Android build credential sets (which keystore
//! builds of an application id sign with, by name, one of them the default) and its slots
//! (FCM server key, the Google service accounts of FCM v1 and of Play submissions).
//!
//! Each action is a function of a [`Remote`] and parsed values, apart from the flags, so
//! that the interactive menu can call it; those that change what builds sign with print
//! the impact on standard error and ask first ([`remote::confirm`]).

use anyhow::{Context, bail};
use base64::Engine;
use serde::Serialize;
use serde_json::json;
use signet_client::{
    App, AppCredentials, BuildSet, Credential, CredentialId, Link, Metadata, SecretString, Upload,
};
use signet_formats::{
    DistinguishedName, KeyAlgorithm, KeystoreType, Password, Pkcs12Encryption, WriteOptions,
};
use signet_store::validate::KeystoreUpload;
use zeroize::Zeroizing;

use crate::{
    UsageError,
    flags::{
        AndroidShowArgs, AndroidSlot, AndroidSlotCommand, AndroidTarget, BuildSetCommand,
        BuildSetCreateArgs, CredentialsAndroidCommand, KeyAlgArg,
    },
    output,
    remote::{self, Remote, describe, table::Table},
};

/// The subject of a generated keystore's certificate unless `--dname` says otherwise (as
/// `signet keystore generate`).
const DEFAULT_DNAME: &str = "CN=Android Upload Key";
/// Days a generated certificate is valid (as `signet keystore generate` and eas-cli).
const VALIDITY_DAYS: u32 = 10_000;

/// Runs one `signet credentials android` command.
pub fn run(command: &CredentialsAndroidCommand) -> anyhow::Result<()> {
    match command {
        CredentialsAndroidCommand::Show(args) => show(args, true),
        CredentialsAndroidCommand::BuildSet(c) => build_set(c),
        CredentialsAndroidCommand::Slot(c) => slot(c),
    }
}

fn build_set(command: &BuildSetCommand) -> anyhow::Result<()> {
    match command {
        BuildSetCommand::List(args) => show(args, false),
        BuildSetCommand::Create(args) => create_command(args),
        BuildSetCommand::Default(args) => {
            let remote = Remote::connect(&args.remote)?;
            let set = make_default(&remote, &args.target, &args.name)?;
            if args.output.json {
                return output::json(&set);
            }
            println!(
                "Build set `{}` is now the default of {} (builds that name no set use it).",
                set.name, set.application_id
            );
            Ok(())
        }
        BuildSetCommand::Rename(args) => {
            let remote = Remote::connect(&args.remote)?;
            let set = rename(&remote, &args.target, &args.name, &args.new_name)?;
            if args.output.json {
                return output::json(&set);
            }
            println!(
                "Renamed build set `{}` of {} to `{}`; builds that name it must use the new name.",
                args.name, set.application_id, set.name
            );
            Ok(())
        }
        BuildSetCommand::Swap(args) => {
            let remote = Remote::connect(&args.remote)?;
            let set = swap(&remote, &args.target, &args.name, &args.keystore, args.yes)?;
            if args.output.json {
                return output::json(&set);
            }
            println!(
                "Build set `{}` of {} now signs with keystore {}.",
                set.name, set.application_id, set.keystore_id
            );
            Ok(())
        }
        BuildSetCommand::Delete(args) => {
            let remote = Remote::connect(&args.remote)?;
            let set = delete(&remote, &args.target, &args.name, args.yes)?;
            if args.output.json {
                return output::json(&json!({ "deleted": set }));
            }
            println!(
                "Deleted build set `{}` of {}; keystore {} stays.",
                set.name, set.application_id, set.keystore_id
            );
            Ok(())
        }
    }
}

fn slot(command: &AndroidSlotCommand) -> anyhow::Result<()> {
    match command {
        AndroidSlotCommand::Set(args) => {
            let remote = Remote::connect(&args.remote)?;
            let (link, before) = set_slot(&remote, &args.target, args.slot, &args.credential)?;
            if args.output.json {
                return output::json(&link);
            }
            let was = before.map(|b| format!(" (was {b})")).unwrap_or_default();
            println!(
                "{} of {} is now {}{was}.",
                slot_name(args.slot),
                link.identifier,
                link.credential_id
            );
            Ok(())
        }
        AndroidSlotCommand::Clear(args) => {
            let remote = Remote::connect(&args.remote)?;
            let link = clear_slot(&remote, &args.target, args.slot, args.yes)?;
            if args.output.json {
                return output::json(&json!({ "cleared": link }));
            }
            println!(
                "Cleared {} of {}; credential {} stays.",
                link.slot, link.identifier, link.credential_id
            );
            Ok(())
        }
    }
}

/// The API's name of a slot.
pub fn slot_name(slot: AndroidSlot) -> &'static str {
    match slot {
        AndroidSlot::FcmKey => "fcm-key",
        AndroidSlot::GoogleServiceAccountFcm => "google-service-account-fcm",
        AndroidSlot::GoogleServiceAccountSubmissions => "google-service-account-submissions",
    }
}

/// What stops when a slot is emptied.
fn slot_impact(slot: &str, application_id: &str) -> String {
    match slot {
        "fcm-key" => format!(
            "push notifications to {application_id} sent with the FCM legacy server key stop"
        ),
        "google-service-account-fcm" => {
            format!("FCM v1 push notifications to {application_id} lose their service account")
        }
        _ => format!("submissions of {application_id} to Google Play lose their service account"),
    }
}

// --- reading ---------------------------------------------------------------------------

/// A build set with its keystore (`None` when the keystore is deleted).
#[derive(Debug, Serialize)]
pub struct SetView {
    /// The set.
    #[serde(flatten)]
    pub set: BuildSet,
    /// Its keystore's record.
    pub keystore: Option<Credential>,
}

/// A slot with its credential (`None` when deleted).
#[derive(Debug, Serialize)]
pub struct SlotView {
    /// The assignment.
    #[serde(flatten)]
    pub link: Link,
    /// The credential's record.
    pub credential: Option<Credential>,
}

/// What an app uses on Android.
#[derive(Debug, Serialize)]
pub struct AndroidView {
    /// The app.
    pub app: App,
    /// Its build sets, default first within an application id.
    pub build_sets: Vec<SetView>,
    /// Its Android slots.
    pub slots: Vec<SlotView>,
}

/// What `app` uses on Android, for one application id or all.
pub fn view(
    remote: &Remote,
    app: &str,
    application_id: Option<&str>,
) -> anyhow::Result<AndroidView> {
    let details = describe::app(remote, app)?;
    let wanted = |id: &str| application_id.is_none_or(|a| a == id);
    let mut sets: Vec<BuildSet> = details
        .build_sets
        .into_iter()
        .filter(|s| wanted(&s.application_id))
        .collect();
    sets.sort_by(|a, b| {
        (&a.application_id, !a.is_default, &a.name).cmp(&(
            &b.application_id,
            !b.is_default,
            &b.name,
        ))
    });
    let links: Vec<Link> = details
        .links
        .into_iter()
        .filter(|l| l.platform == "android" && wanted(&l.identifier))
        .collect();
    let records = describe::credentials(
        remote,
        sets.iter()
            .map(|s| &s.keystore_id)
            .chain(links.iter().map(|l| &l.credential_id)),
    )?;
    let record = |id: &CredentialId| records.get(id).cloned().flatten();
    Ok(AndroidView {
        app: details.app,
        build_sets: sets
            .into_iter()
            .map(|set| SetView {
                keystore: record(&set.keystore_id),
                set,
            })
            .collect(),
        slots: links
            .into_iter()
            .map(|link| SlotView {
                credential: record(&link.credential_id),
                link,
            })
            .collect(),
    })
}

/// The app, and the named set of the application id (its version is the one sent as
/// If-Match).
fn find_set(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
) -> anyhow::Result<(AppCredentials, BuildSet)> {
    let details = describe::app(remote, &target.app)?;
    let found = details
        .build_sets
        .iter()
        .find(|s| s.application_id == target.application_id && s.name == name)
        .cloned();
    match found {
        Some(set) => Ok((details, set)),
        None => {
            let mut names: Vec<&str> = details
                .build_sets
                .iter()
                .filter(|s| s.application_id == target.application_id)
                .map(|s| s.name.as_str())
                .collect();
            names.sort_unstable();
            if names.is_empty() {
                bail!(
                    "{} of app {} has no build sets yet",
                    target.application_id,
                    details.app.slug
                );
            }
            bail!(
                "no build set `{name}` for {} of app {}; it has: {}",
                target.application_id,
                details.app.slug,
                names.join(", ")
            )
        }
    }
}

fn show(args: &AndroidShowArgs, with_slots: bool) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let v = view(&remote, &args.app, args.application_id.as_deref())?;
    if args.output.json {
        return if with_slots {
            output::json(&v)
        } else {
            output::json(&v.build_sets)
        };
    }
    let now = describe::now_ms();
    let mut warnings = Vec::new();
    if with_slots {
        println!("Android credentials of app {} ({})\n", v.app.slug, v.app.id);
    }
    if v.build_sets.is_empty() {
        println!(
            "No build sets yet: create one with `signet credentials android build-set create \
             NAME --app {} --application-id ID --generate`.",
            v.app.slug
        );
    } else {
        let mut t = Table::new(&[
            "APPLICATION ID",
            "BUILD SET",
            "DEFAULT",
            "KEYSTORE",
            "SHA-256",
            "EXPIRES",
        ]);
        for s in &v.build_sets {
            let (keystore, fingerprint, expires) = match &s.keystore {
                Some(k) => {
                    warnings.extend(describe::expiry_warning("keystore", k, now));
                    (
                        k.id.to_string(),
                        describe::fingerprint(k),
                        describe::expiry(k.expires_at, now),
                    )
                }
                None => (
                    format!("{} (deleted)", s.set.keystore_id),
                    "-".into(),
                    "-".into(),
                ),
            };
            t.row(vec![
                s.set.application_id.clone(),
                s.set.name.clone(),
                if s.set.is_default { "yes" } else { "" }.into(),
                keystore,
                fingerprint,
                expires,
            ]);
        }
        print!("{}", t.render());
    }
    if with_slots {
        println!();
        if v.slots.is_empty() {
            println!("No FCM key or service account assigned.");
        } else {
            let mut t = Table::new(&["APPLICATION ID", "SLOT", "CREDENTIAL", "WHAT", "EXPIRES"]);
            for s in &v.slots {
                let (id, what, expires) = match &s.credential {
                    Some(c) => {
                        warnings.extend(describe::expiry_warning(&s.link.slot, c, now));
                        (
                            c.id.to_string(),
                            describe::summary(c),
                            describe::expiry(c.expires_at, now),
                        )
                    }
                    None => (
                        format!("{} (deleted)", s.link.credential_id),
                        "-".into(),
                        "-".into(),
                    ),
                };
                t.row(vec![
                    s.link.identifier.clone(),
                    s.link.slot.clone(),
                    id,
                    what,
                    expires,
                ]);
            }
            print!("{}", t.render());
        }
    }
    for w in warnings {
        println!("{w}");
    }
    Ok(())
}

// --- build sets ------------------------------------------------------------------------

/// Where a new build set's keystore comes from.
pub enum KeystoreSource {
    /// A keystore already on the server.
    Existing(CredentialId),
    /// A new one, generated here and uploaded.
    Generate(NewKeystore),
}

/// A keystore to generate: what `--alias`, `--dname` and `--key-alg` asked for.
pub struct NewKeystore {
    /// The alias [random when `None`].
    pub alias: Option<String>,
    /// The certificate's subject.
    pub dname: DistinguishedName,
    /// The key algorithm.
    pub algorithm: KeyAlgorithm,
}

impl NewKeystore {
    /// Checks the flags of `--generate` before anything is done.
    pub fn from_flags(
        alias: Option<&str>,
        dname: Option<&str>,
        key_alg: Option<KeyAlgArg>,
    ) -> anyhow::Result<NewKeystore> {
        if alias == Some("") {
            bail!(UsageError("--alias cannot be empty".into()));
        }
        let dname = DistinguishedName::parse(dname.unwrap_or(DEFAULT_DNAME))
            .map_err(|e| UsageError(format!("--dname: {e}")))?;
        let family = match key_alg.unwrap_or(KeyAlgArg::Rsa) {
            KeyAlgArg::Rsa => "rsa",
            KeyAlgArg::Ec => "ec",
        };
        let algorithm = KeyAlgorithm::from_name_and_size(family, None)
            .map_err(|e| UsageError(e.to_string()))?;
        Ok(NewKeystore {
            alias: alias.map(str::to_owned),
            dname,
            algorithm,
        })
    }
}

/// A build set just made, and its keystore.
#[derive(Debug, Serialize)]
pub struct Created {
    /// The set.
    pub build_set: BuildSet,
    /// Its keystore (generated, or the one named).
    pub keystore: Credential,
    /// Whether the keystore was generated for it.
    pub generated: bool,
}

fn create_command(args: &BuildSetCreateArgs) -> anyhow::Result<()> {
    let source = if args.generate {
        KeystoreSource::Generate(NewKeystore::from_flags(
            args.alias.as_deref(),
            args.dname.as_deref(),
            args.key_alg,
        )?)
    } else {
        match &args.keystore {
            Some(id) => KeystoreSource::Existing(id.clone()),
            None => bail!(UsageError("give --keystore ID or --generate".into())),
        }
    };
    let remote = Remote::connect(&args.remote)?;
    let created = create(&remote, &args.target, &args.name, source, args.default)?;
    if args.output.json {
        return output::json(&created);
    }
    let set = &created.build_set;
    let default = if set.is_default { ", the default" } else { "" };
    let how = if created.generated {
        "a new keystore"
    } else {
        "keystore"
    };
    println!(
        "Created build set `{}` of {}{default}, signing with {how} {} ({}).",
        set.name,
        set.application_id,
        created.keystore.id,
        describe::summary(&created.keystore)
    );
    if created.generated {
        println!(
            "Its passwords are kept on the server only; an admin can export the keystore with \
             `signet credentials export {}`.",
            created.keystore.id
        );
    }
    Ok(())
}

/// Creates build set `name` of the target's application id, with a keystore on the server
/// or one generated for it (uploaded, never written to disk or shown: its passwords live
/// on the server). `default` makes it the default even when another one is.
pub fn create(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    source: KeystoreSource,
    default: bool,
) -> anyhow::Result<Created> {
    let details = describe::app(remote, &target.app)?;
    if let Some(existing) = details
        .build_sets
        .iter()
        .find(|s| s.application_id == target.application_id && s.name == name)
    {
        bail!(
            "{} already has a build set `{name}` (keystore {}); change its keystore with \
             `signet credentials android build-set swap`",
            target.application_id,
            existing.keystore_id
        );
    }
    let (keystore, generated) = match source {
        KeystoreSource::Existing(id) => (describe::credential(remote, &id)?, false),
        KeystoreSource::Generate(spec) => {
            let upload = generated_upload(&spec, &details.app, &target.application_id, name)?;
            let keystore = remote.block_on(remote.client.upload(&remote.org, &upload))?;
            (keystore, true)
        }
    };
    if !matches!(keystore.metadata, Metadata::AndroidKeystore(_)) {
        bail!(
            "credential {} is a {}, not an android-keystore",
            keystore.id,
            keystore.kind.name()
        );
    }
    let set = remote
        .block_on(remote.client.put_build_set(
            &remote.org,
            details.app.id.as_str(),
            &target.application_id,
            name,
            &keystore.id,
            default,
            None,
        ))
        .map_err(|e| {
            let err = anyhow::Error::new(e);
            if generated {
                err.context(format!(
                    "the new keystore was uploaded as {}, but the build set was not created \
                     (retry with --keystore {})",
                    keystore.id, keystore.id
                ))
            } else {
                err
            }
        })?;
    Ok(Created {
        build_set: set,
        keystore,
        generated,
    })
}

/// A JKS keystore generated for a build set, as an upload: random store password (the
/// key's too), random alias unless given. Nothing is written to disk.
fn generated_upload(
    spec: &NewKeystore,
    app: &App,
    application_id: &str,
    set: &str,
) -> anyhow::Result<Upload> {
    let alias = match &spec.alias {
        Some(a) => a.clone(),
        None => signet_formats::random_hex32()?,
    };
    let password = Password::generate()?;
    let entry =
        signet_formats::generate::key_entry(&alias, spec.algorithm, &spec.dname, VALIDITY_DAYS)?;
    let options = WriteOptions {
        kind: KeystoreType::Jks,
        store_password: password.clone(),
        key_password: None,
        pkcs12_encryption: Pkcs12Encryption::Modern,
    };
    let bytes = Zeroizing::new(signet_formats::write(
        std::slice::from_ref(&entry),
        &[],
        &options,
    )?);
    Ok(Upload::AndroidKeystore(KeystoreUpload {
        name: Some(format!("{} {application_id} {set}", app.slug)),
        keystore: SecretString::new(base64::engine::general_purpose::STANDARD.encode(&*bytes)),
        store_password: SecretString::new(password.expose()),
        // JKS keeps aliases in lower case.
        key_alias: Some(alias.to_lowercase()),
        key_password: None,
    }))
}

/// Makes build set `name` the default of its application id.
pub fn make_default(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
) -> anyhow::Result<BuildSet> {
    let (details, _) = find_set(remote, target, name)?;
    Ok(remote.block_on(remote.client.make_default(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
    ))?)
}

/// Renames build set `name` (If-Match on the version read).
pub fn rename(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    new_name: &str,
) -> anyhow::Result<BuildSet> {
    let (details, set) = find_set(remote, target, name)?;
    Ok(remote.block_on(remote.client.rename_build_set(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
        new_name,
        set.version,
    ))?)
}

/// Makes build set `name` sign with `keystore`: shows which key builds change to (and
/// what that means on Google Play), asks, then swaps under the version read.
pub fn swap(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    keystore: &CredentialId,
    yes: bool,
) -> anyhow::Result<BuildSet> {
    let (details, set) = find_set(remote, target, name)?;
    let new = describe::credential(remote, keystore)?;
    let Metadata::AndroidKeystore(new_meta) = &new.metadata else {
        bail!(
            "credential {} is a {}, not an android-keystore",
            new.id,
            new.kind.name()
        );
    };
    if set.keystore_id == new.id {
        bail!(
            "build set `{name}` of {} already signs with keystore {}",
            set.application_id,
            new.id
        );
    }
    let old = describe::credentials(remote, [&set.keystore_id])?
        .remove(&set.keystore_id)
        .flatten();
    let same_key = old.as_ref().is_some_and(|o| match &o.metadata {
        Metadata::AndroidKeystore(m) => m.certificate.sha256 == new_meta.certificate.sha256,
        _ => false,
    });
    let default = if set.is_default { " (the default)" } else { "" };
    let old_desc = old.as_ref().map_or_else(
        || format!("{} (deleted)", set.keystore_id),
        |o| format!("{} ({})", o.id, describe::summary(o)),
    );
    eprintln!(
        "Build set `{name}`{default} of {} signs with keystore {old_desc}.\n\
         After the swap, its builds sign with keystore {} ({}).",
        set.application_id,
        new.id,
        describe::summary(&new)
    );
    if same_key {
        eprintln!("Both hold the same certificate: the signing key does not change.");
    } else {
        eprintln!(
            "This changes the signing key. If {app} is on Google Play, Play rejects updates \
             signed with an upload key it does not know until you reset the upload key in Play \
             Console (Setup > App integrity), with the new key's certificate (`signet keystore \
             upload-cert`). Without Play App Signing the key cannot change at all: the app \
             could never be updated.",
            app = set.application_id
        );
        remote::confirm(
            &format!(
                "Swap the keystore of build set `{name}` of {}",
                set.application_id
            ),
            yes,
        )?;
    }
    Ok(remote.block_on(remote.client.put_build_set(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
        &new.id,
        false,
        Some(set.version),
    ))?)
}

/// Deletes build set `name` after showing what stops and asking; the keystore stays.
pub fn delete(
    remote: &Remote,
    target: &AndroidTarget,
    name: &str,
    yes: bool,
) -> anyhow::Result<BuildSet> {
    let (details, set) = find_set(remote, target, name)?;
    let default = if set.is_default {
        format!(
            "; it is the default, so builds of {} that name no set get no credentials",
            set.application_id
        )
    } else {
        String::new()
    };
    eprintln!(
        "Builds of {} that name build set `{name}` will fail{default}. Keystore {} stays on \
         the server.",
        set.application_id, set.keystore_id
    );
    remote::confirm(
        &format!("Delete build set `{name}` of {}", set.application_id),
        yes,
    )?;
    remote.block_on(remote.client.delete_build_set(
        &remote.org,
        details.app.id.as_str(),
        &target.application_id,
        name,
    ))?;
    Ok(set)
}

// --- slots -----------------------------------------------------------------------------

/// Assigns `credential` to a slot; returns the assignment and the credential it replaced.
pub fn set_slot(
    remote: &Remote,
    target: &AndroidTarget,
    slot: AndroidSlot,
    credential: &CredentialId,
) -> anyhow::Result<(Link, Option<CredentialId>)> {
    let details = describe::app(remote, &target.app)?;
    let slot = slot_name(slot);
    let before = details
        .links
        .iter()
        .find(|l| {
            l.platform == "android" && l.identifier == target.application_id && l.slot == slot
        })
        .map(|l| l.credential_id.clone());
    let link = remote.block_on(remote.client.set_slot(
        &remote.org,
        details.app.id.as_str(),
        "android",
        &target.application_id,
        slot,
        credential,
    ))?;
    Ok((link, before.filter(|b| b != credential)))
}

/// Empties a slot after showing what stops and asking; the credential stays.
pub fn clear_slot(
    remote: &Remote,
    target: &AndroidTarget,
    slot: AndroidSlot,
    yes: bool,
) -> anyhow::Result<Link> {
    let details = describe::app(remote, &target.app)?;
    let slot = slot_name(slot);
    let Some(link) = details
        .links
        .iter()
        .find(|l| {
            l.platform == "android" && l.identifier == target.application_id && l.slot == slot
        })
        .cloned()
    else {
        bail!(
            "{slot} of {} in app {} is empty",
            target.application_id,
            details.app.slug
        );
    };
    eprintln!(
        "Without it, {}. Credential {} stays on the server.",
        slot_impact(slot, &target.application_id),
        link.credential_id
    );
    remote::confirm(&format!("Clear {slot} of {}", target.application_id), yes)?;
    remote
        .block_on(remote.client.remove_slot(
            &remote.org,
            details.app.id.as_str(),
            "android",
            &target.application_id,
            slot,
        ))
        .context("clearing the slot")?;
    Ok(link)
}
