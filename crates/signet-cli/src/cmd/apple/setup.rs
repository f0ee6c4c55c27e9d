//! `signet ios setup`: one call to the server, which does the work at Apple; at the team's
//! certificate limit, on a terminal, a choice of certificate to revoke (its impact shown
//! first), then the call again.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::{Map, Value};
use signet_client::{
    ClientError,
    apple::{CertificateEntry, Distribution, SetupReport},
};

use super::{certificate_table, revoke_impact};
use crate::{
    flags::{DistributionArg, IosSetupArgs},
    output,
    remote::{self, Remote},
};

fn distribution(d: DistributionArg) -> Distribution {
    match d {
        DistributionArg::AppStore => Distribution::AppStore,
        DistributionArg::AdHoc => Distribution::AdHoc,
        DistributionArg::Enterprise => Distribution::Enterprise,
        DistributionArg::Development => Distribution::Development,
    }
}

fn plist_to_json(v: &plist::Value) -> Value {
    match v {
        plist::Value::Dictionary(d) => Value::Object(
            d.iter()
                .map(|(k, v)| (k.clone(), plist_to_json(v)))
                .collect(),
        ),
        plist::Value::Array(a) => Value::Array(a.iter().map(plist_to_json).collect()),
        plist::Value::Boolean(b) => Value::Bool(*b),
        plist::Value::String(s) => Value::String(s.clone()),
        plist::Value::Integer(i) => i
            .as_signed()
            .map(Value::from)
            .or_else(|| i.as_unsigned().map(Value::from))
            .unwrap_or(Value::Null),
        plist::Value::Real(r) => {
            serde_json::Number::from_f64(*r).map_or(Value::Null, Value::Number)
        }
        plist::Value::Date(d) => Value::String(d.to_xml_format()),
        plist::Value::Data(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        _ => Value::Null,
    }
}

/// Reads an entitlements file (a property list holding a dictionary).
pub fn read_entitlements(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = plist::Value::from_reader(std::io::Cursor::new(&bytes)).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a property list ({})",
            path.display(),
            signet_formats::apple::plist_problem(&e)
        )
    })?;
    match plist_to_json(&value) {
        Value::Object(m) => Ok(m),
        _ => anyhow::bail!("{}: the entitlements must be a dictionary", path.display()),
    }
}

/// `signet ios setup`.
pub fn run(args: &IosSetupArgs) -> anyhow::Result<()> {
    let entitlements = args
        .entitlements
        .as_deref()
        .map(read_entitlements)
        .transpose()?;
    let remote = Remote::connect(&args.remote)?;
    let d = distribution(args.distribution);
    let report = setup(
        &remote,
        &args.app,
        &args.bundle_id,
        d,
        entitlements.as_ref(),
        args.yes,
    )?;
    if args.output.json {
        return output::json(&report);
    }
    print_report(&report);
    Ok(())
}

/// Sets the app up; at the certificate limit on a terminal (without `yes`), asks which
/// certificate to revoke, shows its impact, confirms, revokes and tries again.
pub fn setup(
    remote: &Remote,
    app: &str,
    bundle_id: &str,
    d: Distribution,
    entitlements: Option<&Map<String, Value>>,
    yes: bool,
) -> anyhow::Result<SetupReport> {
    loop {
        let result =
            remote.block_on(
                remote
                    .client
                    .ios_setup(&remote.org, app, bundle_id, d, entitlements),
            );
        let problem = match result {
            Ok(r) => return Ok(r),
            Err(ClientError::Problem(p)) if p.kind == "certificate-limit" => p,
            Err(e) => return Err(e.into()),
        };
        let certificates: Vec<CertificateEntry> =
            serde_json::from_value(problem.body["certificates"].clone()).unwrap_or_default();
        eprintln!("Apple: {}", problem.detail);
        eprintln!("The team's certificates at Apple:");
        eprint!("{}", certificate_table(&certificates));
        if yes || !remote::interactive() {
            anyhow::bail!(
                "the team is at its distribution certificate limit; nothing was revoked. Revoke one \
                 with `signet ios certificate revoke <APPLE ID> --app {app}` (admin), or run this on a \
                 terminal to choose"
            );
        }
        let mut items: Vec<String> = certificates
            .iter()
            .map(|c| {
                format!(
                    "{}  {}  expires {}  {}",
                    c.id,
                    c.name,
                    c.expires.get(..10).unwrap_or(&c.expires),
                    if c.held_by.is_some() {
                        "signet holds its key"
                    } else {
                        "key not in signet"
                    }
                )
            })
            .collect();
        items.push("Cancel (revoke nothing)".into());
        let choice = dialoguer::Select::new()
            .with_prompt("Revoke which certificate to make room?")
            .items(&items)
            .default(items.len() - 1)
            .interact()
            .context("cannot read the answer from the terminal")?;
        let Some(chosen) = certificates.get(choice) else {
            return Err(remote::Cancelled.into());
        };
        eprint!("{}", revoke_impact(chosen));
        remote::confirm(&format!("Revoke {} at Apple", chosen.id), false)?;
        let revoked = remote.block_on(remote.client.apple_revoke_certificate(
            &remote.org,
            app,
            Some(bundle_id),
            &chosen.id,
        ))?;
        eprintln!("Revoked {} at Apple.", revoked.certificate.id);
    }
}

pub fn print_report(r: &SetupReport) {
    for s in &r.steps {
        let verb = match s.action.as_str() {
            "reused" => "Reused",
            "created" => "Created",
            "enabled" => "Enabled",
            "set" => "Set",
            "deleted" => "Deleted",
            _ => "Unchanged",
        };
        println!("{verb} {}: {}", s.what.replace('-', " "), s.detail);
    }
    let made = r.created_at_apple();
    if made == 0 {
        println!("Nothing was created at Apple.");
    } else {
        println!("{made} thing(s) created at Apple.");
    }
    println!(
        "{} is ready for {} builds: certificate {}, profile {}.",
        r.bundle_id,
        r.distribution.as_str(),
        r.certificate_id,
        r.profile_id
    );
    for n in &r.notes {
        eprintln!("note: {n}");
    }
}
