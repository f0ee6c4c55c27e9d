//! `signet credentials android …`: an app's Android build credential sets (which keystore
//! builds of an application id sign with, by name, one of them the default) and its slots
//! (FCM server key, the Google service accounts of FCM v1 and of Play submissions).
//!
//! Each action is a function of a [`Remote`] and parsed values, apart from the flags, so
//! that the interactive menu can call it; those that change what builds sign with print
//! the impact on standard error and ask first ([`crate::remote::confirm`]).

pub mod build_sets;
pub mod play_signing;
pub mod slots;

use anyhow::bail;
use serde::Serialize;
use serde_json::json;
use signet_client::{App, BuildSet, Credential, CredentialId, Link, Metadata};

use self::{
    build_sets::{KeystoreSource, NewKeystore, create, delete, make_default, rename, swap},
    slots::{clear_slot, set_slot, slot_name},
};
use crate::{
    UsageError,
    flags::{
        AndroidShowArgs, AndroidSlotCommand, BuildSetCommand, BuildSetCreateArgs,
        CredentialsAndroidCommand,
    },
    output,
    remote::{Remote, describe, table::Table},
};

/// Runs one `signet credentials android` command.
pub fn run(command: &CredentialsAndroidCommand) -> anyhow::Result<()> {
    match command {
        CredentialsAndroidCommand::Show(args) => show(args, true),
        CredentialsAndroidCommand::BuildSet(c) => build_set(c),
        CredentialsAndroidCommand::Slot(c) => slot(c),
        CredentialsAndroidCommand::OptInPlaySigning(args) => play_signing::run(args),
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
    /// Its Play App Signing opt-ins: which keystore is the app-signing key Google holds.
    pub play_app_signing: Vec<signet_client::PlayAppSigning>,
    /// The caller may not read credentials' records (a robot limited to apps): only ids.
    #[serde(skip)]
    pub hidden: bool,
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
    let play_app_signing: Vec<_> = details
        .play_app_signing
        .into_iter()
        .filter(|p| wanted(&p.application_id))
        .collect();
    let records = describe::credentials(
        remote,
        sets.iter()
            .map(|s| &s.keystore_id)
            .chain(links.iter().map(|l| &l.credential_id)),
    )?;
    let record = |id: &CredentialId| records.get(id);
    Ok(AndroidView {
        play_app_signing,
        hidden: records.hidden,
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
                    describe::missing(&s.set.keystore_id, v.hidden),
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
    for p in &v.play_app_signing {
        println!(
            "Play App Signing of {} (since {}): keystore {} is the app-signing key, held by \
             Google; keep it. Builds sign with upload keystore {}.",
            p.application_id,
            output::date_ms(p.opted_in_at),
            p.app_signing_keystore_id,
            p.upload_keystore_id
        );
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
                        describe::missing(&s.link.credential_id, v.hidden),
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
    let summary = created
        .keystore
        .as_ref()
        .map(|k| format!(" ({})", describe::summary(k)))
        .unwrap_or_default();
    println!(
        "Created build set `{}` of {}{default}, signing with {how} {}{summary}.",
        set.name, set.application_id, set.keystore_id,
    );
    if created.generated {
        if let Some(Metadata::AndroidKeystore(m)) = created.keystore.as_ref().map(|k| &k.metadata) {
            let c = &m.certificate;
            println!(
                "Certificate (generated on the server):\n  Subject:     {}\n  Key:         {} {}\n  \
                 Valid until: {}\n  SHA-1:       {}\n  SHA-256:     {}",
                c.subject,
                c.key_algorithm,
                c.key_size,
                c.not_after.date(),
                c.sha1,
                c.sha256
            );
        }
        println!(
            "The key and its passwords are kept on the server only; an admin can export the \
             keystore with `signet credentials export {}`.",
            set.keystore_id
        );
    }
    Ok(())
}
