//! `signet ipa sign|verify`.

use std::io::BufWriter;

use anyhow::{Context, bail};
use signet_client::SignBuild;
use signet_sign::{SigningKey, ipa};

use crate::{
    UsageError,
    cmd::{archive::VerificationFailed, ios::open_identity, keystore::read_file},
    flags::{IpaSignArgs, IpaVerifyArgs},
    output, output_file,
    remote::{Remote, signer::RemoteKey},
};

pub fn sign(args: &IpaSignArgs) -> anyhow::Result<()> {
    if args.out != args.input {
        output_file::check_writable(&args.out, args.force)?;
    }
    if let Some(app) = &args.app {
        return sign_held(args, app);
    }
    let (Some(p12), Some(profile_path)) = (&args.p12, &args.profile) else {
        bail!(UsageError(
            "pass --p12 and --profile, or --app with --bundle-id and --distribution to sign \
             with a build pair the server holds"
                .into()
        ));
    };
    let identity = open_identity(p12, args.p12_pass.as_ref())?;
    let profile = read_file(profile_path)?;
    // Read the profile first, so a bad one is named, not the IPA it was to be embedded in.
    signet_formats::apple::mobileprovision::Profile::parse(&profile)
        .with_context(|| format!("{}", profile_path.display()))?;
    let report = sign_into_out(args, &identity, &profile)?;
    print_signed(args, &report, "")
}

/// Signs with the certificate of a build pair held by the server: the code signatures'
/// signed attributes are signed there, one request per bundle; the pair's profile is
/// embedded.
fn sign_held(args: &IpaSignArgs, app: &str) -> anyhow::Result<()> {
    let (Some(bundle_id), Some(distribution)) = (&args.bundle_id, &args.distribution) else {
        bail!(UsageError(
            "--app needs --bundle-id and --distribution".into()
        ));
    };
    let remote = Remote::connect(&args.remote)?;
    let key = RemoteKey::connect(
        &remote,
        app,
        "ipa",
        SignBuild::Ios {
            bundle_id: bundle_id.clone(),
            distribution: distribution.clone(),
        },
    )?;
    let profile = key
        .profile
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the server sent no provisioning profile for the pair"))?;
    let report = sign_into_out(args, &key, &profile).map_err(|e| match key.take_failure() {
        Some(client) => anyhow::Error::new(client).context(args.input.display().to_string()),
        None => e,
    })?;
    let held = format!(
        " with the key of {app} / {bundle_id} ({distribution}) held by the server \
         (certificate SHA-256 {})",
        key.key_sha256
    );
    print_signed(args, &report, &held)
}

/// Signs into a temporary file beside `--out` and renames it into place.
fn sign_into_out(
    args: &IpaSignArgs,
    key: &dyn SigningKey,
    profile: &[u8],
) -> anyhow::Result<ipa::IpaSignReport> {
    let tmp = output_file::temp_beside(&args.out)?;
    let report = {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        ipa::sign(&args.input, &mut w, key, profile)
            .with_context(|| format!("{}", args.input.display()))?
    };
    output_file::set_mode(tmp.path(), 0o644)?;
    output_file::persist(tmp, &args.out, args.force || args.out == args.input)?;
    Ok(report)
}

fn print_signed(args: &IpaSignArgs, report: &ipa::IpaSignReport, with: &str) -> anyhow::Result<()> {
    if args.output.json {
        return output::json(report);
    }
    eprintln!(
        "Signed {} ({}, {} profile, team {}){with}",
        args.out.display(),
        report.bundle_id,
        report.distribution.name(),
        report.team_id
    );
    Ok(())
}

pub fn verify(args: &IpaVerifyArgs) -> anyhow::Result<()> {
    let report = ipa::verify(&args.input).with_context(|| format!("{}", args.input.display()))?;
    if args.output.json {
        output::json(&report)?;
    } else {
        println!(
            "{}",
            if report.verified {
                "Verifies"
            } else {
                "DOES NOT VERIFY"
            }
        );
        if let Some(b) = &report.bundle_id {
            println!("Bundle id: {b}");
        }
        if let Some(s) = &report.signer {
            println!("Signer: {s}");
        }
        for b in &report.bundles {
            println!("Bundle: {b}");
        }
        for e in &report.errors {
            println!("ERROR: {e}");
        }
    }
    if report.verified {
        Ok(())
    } else {
        Err(VerificationFailed.into())
    }
}
