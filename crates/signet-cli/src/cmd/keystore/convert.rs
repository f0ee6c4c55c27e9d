//! `signet keystore convert`.

use anyhow::{Context, bail};
use serde::Serialize;
use signet_formats::{Keystore, KeystoreType, WriteOptions};

use super::{keystore_type, open, pkcs12_encryption};
use crate::{UsageError, flags::ConvertArgs, output, output_file};

#[derive(Serialize)]
struct ConvertReport {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    from: String,
    from_type: KeystoreType,
    aliases: Vec<String>,
}

pub fn convert(args: &ConvertArgs) -> anyhow::Result<()> {
    let kind = keystore_type(args.store_type);
    output_file::check_writable(&args.out, args.force)?;
    let opened = open(&args.store)?;
    let name = args.store.file.display();
    let key_password = opened.key_password().ok_or_else(|| {
        UsageError("converting needs the store password: pass --store-pass".into())
    })?;
    let mut keys = Vec::new();
    for entry in opened.store.entries().iter().filter(|e| e.is_private_key()) {
        let key = opened
            .store
            .unlock(Some(entry.alias()), key_password)
            .with_context(|| format!("{name}"))?;
        keys.push(key);
    }
    let trusted = opened.store.trusted_entries();
    let new_store_pass = match &args.new_store_pass {
        Some(s) => s.resolve()?,
        None => opened
            .store_pass
            .clone()
            .ok_or_else(|| UsageError("pass --store-pass or --new-store-pass".into()))?,
    };
    let new_key_pass = args
        .new_key_pass
        .as_ref()
        .map(crate::secret_arg::SecretArg::resolve)
        .transpose()?;
    if kind == KeystoreType::Pkcs12 && new_key_pass.as_ref().is_some_and(|k| k != &new_store_pass) {
        bail!(UsageError(
            "a PKCS#12 keystore has a single password: drop --new-key-pass or use --type jks"
                .into()
        ));
    }
    let options = WriteOptions {
        kind,
        store_password: new_store_pass,
        key_password: new_key_pass,
        pkcs12_encryption: pkcs12_encryption(args.legacy_pkcs12),
    };
    let bytes = signet_formats::write(&keys, &trusted, &options)?;
    // Prove the result opens before it replaces anything.
    let check = Keystore::open(&bytes, Some(&options.store_password))?;
    if check.entries().len() != keys.len() + trusted.len() {
        bail!("the converted keystore lost entries; nothing was written");
    }
    output_file::write_atomic(&args.out, &bytes, args.force, true)?;

    let report = ConvertReport {
        file: args.out.display().to_string(),
        kind,
        from: name.to_string(),
        from_type: opened.store.kind(),
        aliases: check.aliases(),
    };
    if args.output.json {
        return output::json(&report);
    }
    let password = if args.new_store_pass.is_some() {
        "the one given with --new-store-pass"
    } else {
        "the same as the original's"
    };
    println!(
        "Converted {} ({}) to {} ({}): {}; its store password is {password}",
        report.from,
        report.from_type.keytool_name(),
        report.file,
        kind.keytool_name(),
        report
            .aliases
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
