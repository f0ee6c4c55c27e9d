//! `signet credentials ios …`: an app's iOS build credentials (the distribution
//! certificate and provisioning profile of each bundle id and distribution type, which the
//! server checks against SPEC's pairing rules) and its slots (push key, App Store Connect
//! API key, Apple team).
//!
//! Each action is a function of a [`Remote`] and parsed values, apart from the flags, so
//! that the interactive menu can call it.

use anyhow::bail;
use serde::Serialize;
use serde_json::json;
use signet_client::{App, BuildPair, Credential, CredentialId, Link};

use crate::{
    flags::{
        BuildPairCommand, CredentialsIosCommand, DistributionArg, IosShowArgs, IosSlot,
        IosSlotCommand, IosTarget,
    },
    output,
    remote::{self, Remote, describe, table::Table},
};

/// Runs one `signet credentials ios` command.
pub fn run(command: &CredentialsIosCommand) -> anyhow::Result<()> {
    match command {
        CredentialsIosCommand::Show(args) => show(args, true),
        CredentialsIosCommand::BuildPair(c) => build_pair(c),
        CredentialsIosCommand::Slot(c) => slot(c),
        CredentialsIosCommand::Csr(args) => super::certificate_requests::csr(args),
        CredentialsIosCommand::ImportCer(args) => super::certificate_requests::import_cer(args),
        CredentialsIosCommand::Requests(args) => super::certificate_requests::list(args),
    }
}

fn build_pair(command: &BuildPairCommand) -> anyhow::Result<()> {
    match command {
        BuildPairCommand::List(args) => show(args, false),
        BuildPairCommand::Set(args) => {
            let remote = Remote::connect(&args.remote)?;
            let (pair, before) = set_pair(
                &remote,
                &args.target,
                args.distribution,
                &args.certificate,
                &args.profile,
            )?;
            if args.output.json {
                return output::json(&pair);
            }
            let was = before.map_or_else(String::new, |b| {
                format!(
                    " (was certificate {}, profile {})",
                    b.certificate_id, b.profile_id
                )
            });
            println!(
                "{} builds of {} now sign with certificate {} and profile {}{was}.",
                pair.distribution, pair.bundle_id, pair.certificate_id, pair.profile_id
            );
            Ok(())
        }
        BuildPairCommand::Delete(args) => {
            let remote = Remote::connect(&args.remote)?;
            let pair = delete_pair(&remote, &args.target, args.distribution, args.yes)?;
            if args.output.json {
                return output::json(&json!({ "deleted": pair }));
            }
            println!(
                "Removed the {} pair of {}; certificate {} and profile {} stay.",
                pair.distribution, pair.bundle_id, pair.certificate_id, pair.profile_id
            );
            Ok(())
        }
    }
}

fn slot(command: &IosSlotCommand) -> anyhow::Result<()> {
    match command {
        IosSlotCommand::Set(args) => {
            let remote = Remote::connect(&args.remote)?;
            let (link, before) = set_slot(&remote, &args.target, args.slot, &args.credential)?;
            if args.output.json {
                return output::json(&link);
            }
            let was = before.map(|b| format!(" (was {b})")).unwrap_or_default();
            println!(
                "{} of {} is now {}{was}.",
                link.slot, link.identifier, link.credential_id
            );
            Ok(())
        }
        IosSlotCommand::Clear(args) => {
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

/// The API's name of a distribution type.
pub fn distribution_name(d: DistributionArg) -> &'static str {
    super::ios::distribution(d).name()
}

/// The API's name of a slot.
pub fn slot_name(slot: IosSlot) -> &'static str {
    match slot {
        IosSlot::PushKey => "push-key",
        IosSlot::AscApiKey => "asc-api-key",
        IosSlot::AppleTeam => "apple-team",
    }
}

/// What stops when a slot is emptied.
fn slot_impact(slot: &str, bundle_id: &str) -> String {
    match slot {
        "push-key" => format!("push notifications to {bundle_id} lose their APNs key"),
        "asc-api-key" => format!(
            "App Store Connect actions for {bundle_id} (submissions, `signet ios setup`) lose \
             their API key"
        ),
        _ => format!(
            "{bundle_id} is tied to no Apple team (pairs and keys are no longer checked against it)"
        ),
    }
}

// --- reading ---------------------------------------------------------------------------

/// A build pair with its certificate and profile (`None` when deleted).
#[derive(Debug, Serialize)]
pub struct PairView {
    /// The pair.
    #[serde(flatten)]
    pub pair: BuildPair,
    /// The certificate's record.
    pub certificate: Option<Credential>,
    /// The profile's record.
    pub profile: Option<Credential>,
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

/// What an app uses on iOS.
#[derive(Debug, Serialize)]
pub struct IosView {
    /// The app.
    pub app: App,
    /// Its build pairs.
    pub build_pairs: Vec<PairView>,
    /// Its iOS slots.
    pub slots: Vec<SlotView>,
    /// The caller may not read credentials' records (a robot limited to apps): only ids.
    #[serde(skip)]
    pub hidden: bool,
}

/// What `app` uses on iOS, for one bundle id or all.
pub fn view(remote: &Remote, app: &str, bundle_id: Option<&str>) -> anyhow::Result<IosView> {
    let details = describe::app(remote, app)?;
    let wanted = |id: &str| bundle_id.is_none_or(|b| b == id);
    let mut pairs: Vec<BuildPair> = details
        .build_pairs
        .into_iter()
        .filter(|p| wanted(&p.bundle_id))
        .collect();
    pairs.sort_by(|a, b| (&a.bundle_id, &a.distribution).cmp(&(&b.bundle_id, &b.distribution)));
    let links: Vec<Link> = details
        .links
        .into_iter()
        .filter(|l| l.platform == "ios" && wanted(&l.identifier))
        .collect();
    let records = describe::credentials(
        remote,
        pairs
            .iter()
            .flat_map(|p| [&p.certificate_id, &p.profile_id])
            .chain(links.iter().map(|l| &l.credential_id)),
    )?;
    let record = |id: &CredentialId| records.get(id);
    Ok(IosView {
        hidden: records.hidden,
        app: details.app,
        build_pairs: pairs
            .into_iter()
            .map(|pair| PairView {
                certificate: record(&pair.certificate_id),
                profile: record(&pair.profile_id),
                pair,
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

fn show(args: &IosShowArgs, with_slots: bool) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let v = view(&remote, &args.app, args.bundle_id.as_deref())?;
    if args.output.json {
        return if with_slots {
            output::json(&v)
        } else {
            output::json(&v.build_pairs)
        };
    }
    let now = describe::now_ms();
    let mut warnings = Vec::new();
    if with_slots {
        println!("iOS credentials of app {} ({})\n", v.app.slug, v.app.id);
    }
    let cells =
        |c: &Option<Credential>, id: &CredentialId, warnings: &mut Vec<String>, what| match c {
            Some(c) => {
                warnings.extend(describe::expiry_warning(what, c, now));
                (
                    c.id.to_string(),
                    describe::summary(c),
                    describe::expiry(c.expires_at, now),
                )
            }
            None => (describe::missing(id, v.hidden), "-".into(), "-".into()),
        };
    if v.build_pairs.is_empty() {
        println!(
            "No build credentials yet: set them with `signet credentials ios build-pair set \
             --app {} --bundle-id ID --distribution D --certificate ID --profile ID`.",
            v.app.slug
        );
    } else {
        let mut t = Table::new(&[
            "BUNDLE ID",
            "DISTRIBUTION",
            "CERTIFICATE",
            "SHA-1",
            "EXPIRES",
            "PROFILE",
            "EXPIRES",
        ]);
        for p in &v.build_pairs {
            let (cert, _, cert_expires) = cells(
                &p.certificate,
                &p.pair.certificate_id,
                &mut warnings,
                "certificate",
            );
            let (profile, _, profile_expires) =
                cells(&p.profile, &p.pair.profile_id, &mut warnings, "profile");
            t.row(vec![
                p.pair.bundle_id.clone(),
                p.pair.distribution.clone(),
                cert,
                p.certificate
                    .as_ref()
                    .map_or_else(|| "-".into(), describe::fingerprint),
                cert_expires,
                profile,
                profile_expires,
            ]);
        }
        print!("{}", t.render());
    }
    if with_slots {
        println!();
        if v.slots.is_empty() {
            println!("No push key, App Store Connect API key or Apple team assigned.");
        } else {
            let mut t = Table::new(&["BUNDLE ID", "SLOT", "CREDENTIAL", "WHAT", "EXPIRES"]);
            for s in &v.slots {
                let (id, what, expires) = cells(
                    &s.credential,
                    &s.link.credential_id,
                    &mut warnings,
                    &s.link.slot,
                );
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
    // A credential in several places is warned about once.
    warnings.dedup();
    for w in warnings {
        println!("{w}");
    }
    Ok(())
}

// --- build pairs -----------------------------------------------------------------------

/// Sets the certificate and profile of a distribution type (replacing the pair under the
/// version read); the server refuses a pair that breaks a rule, naming it. Returns the
/// pair and the one it replaced.
pub fn set_pair(
    remote: &Remote,
    target: &IosTarget,
    distribution: DistributionArg,
    certificate: &CredentialId,
    profile: &CredentialId,
) -> anyhow::Result<(BuildPair, Option<BuildPair>)> {
    let details = describe::app(remote, &target.app)?;
    let distribution = distribution_name(distribution);
    let before = details
        .build_pairs
        .iter()
        .find(|p| p.bundle_id == target.bundle_id && p.distribution == distribution)
        .cloned();
    let pair = remote.block_on(remote.client.put_build_pair(
        &remote.org,
        details.app.id.as_str(),
        &target.bundle_id,
        distribution,
        certificate,
        profile,
        before.as_ref().map(|p| p.version),
    ))?;
    Ok((pair, before))
}

/// Removes the pair of a distribution type after showing what stops and asking.
pub fn delete_pair(
    remote: &Remote,
    target: &IosTarget,
    distribution: DistributionArg,
    yes: bool,
) -> anyhow::Result<BuildPair> {
    let details = describe::app(remote, &target.app)?;
    let distribution = distribution_name(distribution);
    let Some(pair) = details
        .build_pairs
        .iter()
        .find(|p| p.bundle_id == target.bundle_id && p.distribution == distribution)
        .cloned()
    else {
        bail!(
            "{} of app {} has no {distribution} build credentials",
            target.bundle_id,
            details.app.slug
        );
    };
    eprintln!(
        "{distribution} builds of {} will have no credentials. Certificate {} and profile {} \
         stay on the server.",
        pair.bundle_id, pair.certificate_id, pair.profile_id
    );
    remote::confirm(
        &format!("Remove the {distribution} pair of {}", pair.bundle_id),
        yes,
    )?;
    remote.block_on(remote.client.delete_build_pair(
        &remote.org,
        details.app.id.as_str(),
        &target.bundle_id,
        distribution,
    ))?;
    Ok(pair)
}

// --- slots -----------------------------------------------------------------------------

/// Assigns `credential` to a slot; returns the assignment and the credential it replaced.
pub fn set_slot(
    remote: &Remote,
    target: &IosTarget,
    slot: IosSlot,
    credential: &CredentialId,
) -> anyhow::Result<(Link, Option<CredentialId>)> {
    remote::slots::set(remote, &slot_ref(target, slot), credential)
}

/// Empties a slot after showing what stops and asking; the credential stays.
pub fn clear_slot(
    remote: &Remote,
    target: &IosTarget,
    slot: IosSlot,
    yes: bool,
) -> anyhow::Result<Link> {
    let at = slot_ref(target, slot);
    remote::slots::clear(remote, &at, &slot_impact(at.slot, &target.bundle_id), yes)
}

fn slot_ref(target: &IosTarget, slot: IosSlot) -> remote::slots::SlotRef<'_> {
    remote::slots::SlotRef {
        app: &target.app,
        platform: "ios",
        identifier: &target.bundle_id,
        slot: slot_name(slot),
    }
}
