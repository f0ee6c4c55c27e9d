//! `signet keystore upload-cert`.

use anyhow::Context;

use super::open;
use crate::{flags::UploadCertArgs, output_file};

pub fn upload_cert(args: &UploadCertArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        output_file::check_writable(out, args.force)?;
    }
    let opened = open(&args.store)?;
    let entry = opened
        .store
        .key_entry(args.alias.as_deref())
        .with_context(|| format!("{}", args.store.file.display()))?;
    let leaf = entry
        .certificates()
        .first()
        .ok_or_else(|| anyhow::anyhow!("alias `{}` has no certificate", entry.alias()))?;
    let pem = leaf.to_pem();
    match &args.out {
        Some(out) => {
            output_file::write_atomic(out, pem.as_bytes(), args.force, false)?;
            eprintln!(
                "Wrote {} (the certificate of `{}`, {}; SHA-256 {})",
                out.display(),
                entry.alias(),
                leaf.info().subject,
                leaf.info().fingerprints.sha256
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(pem.as_bytes())?;
        }
    }
    Ok(())
}
