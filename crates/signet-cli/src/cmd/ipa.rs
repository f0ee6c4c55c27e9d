//! `signet ipa sign|verify`.

use std::io::BufWriter;

use anyhow::Context;
use signet_sign::ipa;

use crate::{
    cmd::{archive::VerificationFailed, ios::open_identity, keystore::read_file},
    flags::{IpaSignArgs, IpaVerifyArgs},
    output, output_file,
};

pub fn sign(args: &IpaSignArgs) -> anyhow::Result<()> {
    if args.out != args.input {
        output_file::check_writable(&args.out, args.force)?;
    }
    let identity = open_identity(&args.p12, args.p12_pass.as_ref())?;
    let profile = read_file(&args.profile)?;
    // Read the profile first, so a bad one is named, not the IPA it was to be embedded in.
    signet_formats::apple::mobileprovision::Profile::parse(&profile)
        .with_context(|| format!("{}", args.profile.display()))?;
    let tmp = output_file::temp_beside(&args.out)?;
    let report = {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        ipa::sign(&args.input, &mut w, &identity, &profile)
            .with_context(|| format!("{}", args.input.display()))?
    };
    output_file::set_mode(tmp.path(), 0o644)?;
    output_file::persist(tmp, &args.out, args.force || args.out == args.input)?;
    if args.output.json {
        return output::json(&report);
    }
    eprintln!(
        "Signed {} ({}, {} profile, team {})",
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
