//! `signet ios setup|doctor|device|certificate`: the Apple side through the server's App
//! Store Connect key (issue 12). The server holds the key and makes certificates' private
//! keys; these commands only ask it and show what it did.

pub mod setup;

use serde_json::json;
use signet_client::apple::{CertificateEntry, CertificateList};

use crate::{
    flags::{CertificateCommand, DeviceCommand, IosDoctorArgs},
    output,
    remote::{self, Remote, table::Table},
};

/// Apple's certificates as a table: which signet holds the key for and what uses them.
pub fn certificate_table(certs: &[CertificateEntry]) -> String {
    let mut t = Table::new(&[
        "APPLE ID",
        "TYPE",
        "NAME",
        "EXPIRES",
        "SIGNET HOLDS KEY",
        "USED BY",
    ]);
    for c in certs {
        t.row(vec![
            c.id.clone(),
            c.certificate_type.clone(),
            c.name.clone(),
            c.expires.get(..10).unwrap_or(&c.expires).to_owned(),
            c.held_by
                .as_ref()
                .map_or_else(|| "no".to_owned(), |id| format!("yes ({id})")),
            if c.used_by.is_empty() {
                "-".to_owned()
            } else {
                c.used_by.join("; ")
            },
        ]);
    }
    t.render()
}

/// What revoking `c` does, in words.
pub fn revoke_impact(c: &CertificateEntry) -> String {
    let mut out = format!(
        "Revoking {} ({}, {}):\n  {}\n",
        c.id,
        c.name,
        c.certificate_type,
        signet_apple_impact()
    );
    match &c.held_by {
        Some(id) if c.used_by.is_empty() => out.push_str(&format!(
            "  signet holds its key ({id}); no build pair uses it.\n"
        )),
        Some(id) => {
            out.push_str(&format!(
                "  signet holds its key ({id}); these builds will fail until set up again:\n"
            ));
            for u in &c.used_by {
                out.push_str(&format!("    - {u}\n"));
            }
        }
        None => out.push_str(
            "  signet does not hold its key: it was made elsewhere (another Mac, fastlane, EAS).\n",
        ),
    }
    out
}

fn signet_apple_impact() -> &'static str {
    "profiles that allow it become invalid, so the next builds signed with them fail until \
     new profiles are made; apps already in the App Store are not affected"
}

/// `signet ios doctor`.
pub fn doctor(args: &IosDoctorArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let report = remote.block_on(remote.client.apple_doctor(
        &remote.org,
        &args.app,
        args.bundle_id.as_deref(),
        args.fix,
    ))?;
    if args.output.json {
        return output::json(&report);
    }
    if report.pairs.is_empty() {
        println!(
            "{} has no iOS build pairs: run `signet ios setup` first.",
            args.app
        );
        return Ok(());
    }
    let mut unhealthy = 0;
    for p in &report.pairs {
        if p.findings.is_empty() {
            println!("ok    {} {}", p.bundle_id, p.distribution);
            continue;
        }
        unhealthy += 1;
        println!("FAIL  {} {}", p.bundle_id, p.distribution);
        for f in &p.findings {
            println!("        {}: {}", f.code, f.detail);
        }
        if let Some(fixed) = &p.fixed {
            for s in &fixed.steps {
                println!("        fixed: {} {}: {}", s.action, s.what, s.detail);
            }
        }
    }
    if unhealthy > 0 && !args.fix {
        anyhow::bail!(
            "{unhealthy} build pair(s) need repair: run `signet ios doctor --app {} --fix`",
            args.app
        );
    }
    Ok(())
}

/// `signet ios device add|list`.
pub fn device(command: &DeviceCommand) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Add(args) => {
            let remote = Remote::connect(&args.remote)?;
            let d = remote.block_on(remote.client.apple_add_device(
                &remote.org,
                &args.target.app,
                args.target.bundle_id.as_deref(),
                &args.udid,
                &args.name,
                args.platform.apple(),
            ))?;
            if args.output.json {
                return output::json(&d);
            }
            println!(
                "Registered {} ({}) as {}. Ad hoc and development profiles include it from the next `signet ios setup`.",
                d.name, d.udid, d.id
            );
            Ok(())
        }
        DeviceCommand::List(args) => {
            let remote = Remote::connect(&args.remote)?;
            let devices = remote.block_on(remote.client.apple_devices(
                &remote.org,
                &args.target.app,
                args.target.bundle_id.as_deref(),
            ))?;
            if args.output.json {
                return output::json(&json!({ "devices": devices }));
            }
            let mut t = Table::new(&["APPLE ID", "NAME", "UDID", "PLATFORM", "STATUS"]);
            for d in &devices {
                t.row(vec![
                    d.id.clone(),
                    d.name.clone(),
                    d.udid.clone(),
                    d.platform.clone(),
                    d.status.clone(),
                ]);
            }
            if t.is_empty() {
                println!("No devices are registered with the team.");
            } else {
                print!("{}", t.render());
            }
            Ok(())
        }
    }
}

/// `signet ios certificate list|revoke`.
pub fn certificate(command: &CertificateCommand) -> anyhow::Result<()> {
    match command {
        CertificateCommand::List(args) => {
            let remote = Remote::connect(&args.remote)?;
            let list: CertificateList = remote.block_on(remote.client.apple_certificates(
                &remote.org,
                &args.target.app,
                args.target.bundle_id.as_deref(),
            ))?;
            if args.output.json {
                return output::json(&list);
            }
            if list.certificates.is_empty() {
                println!("Apple lists no signing certificates for the team.");
            } else {
                print!("{}", certificate_table(&list.certificates));
            }
            Ok(())
        }
        CertificateCommand::Revoke(args) => {
            let remote = Remote::connect(&args.remote)?;
            let list = remote.block_on(remote.client.apple_certificates(
                &remote.org,
                &args.target.app,
                args.target.bundle_id.as_deref(),
            ))?;
            let Some(entry) = list.certificates.iter().find(|c| c.id == args.id) else {
                anyhow::bail!(
                    "Apple lists no certificate {} for the team; `signet ios certificate list` shows them",
                    args.id
                );
            };
            eprint!("{}", revoke_impact(entry));
            remote::confirm(&format!("Revoke {} at Apple", entry.id), args.yes)?;
            let revoked = remote.block_on(remote.client.apple_revoke_certificate(
                &remote.org,
                &args.target.app,
                args.target.bundle_id.as_deref(),
                &args.id,
            ))?;
            if args.output.json {
                return output::json(&revoked);
            }
            println!(
                "Revoked {} ({}) at Apple.",
                revoked.certificate.id, revoked.certificate.name
            );
            Ok(())
        }
    }
}
