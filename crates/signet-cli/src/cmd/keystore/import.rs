//! `signet keystore import`: a PEM private key and its certificate chain as a key entry of a
//! new or an existing keystore (what `openssl pkcs12 -export -inkey KEY -in CHAIN -name
//! ALIAS` makes, or `keytool -importkeystore` from that file into an existing one).

use anyhow::{Context, bail};
use serde::Serialize;
use signet_formats::{CertificateInfo, FormatError, KeyEntry, Keystore, KeystoreType};

use super::{
    keystore_type, pkcs12_encryption, read_file,
    write_back::{Destination, open_for_edit},
};
use crate::{
    UsageError,
    flags::{EditArgs, ImportArgs},
    output,
    secret_arg::resolve_or_prompt,
};

#[derive(Serialize)]
struct ImportReport {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    alias: String,
    /// Whether the keystore was created.
    created: bool,
    /// Whether an entry of that alias was replaced (`--force`).
    replaced: bool,
    chain_length: usize,
    certificate: CertificateInfo,
    aliases: Vec<String>,
}

pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    // The key and chain first: bad input is reported before a password is asked for.
    let entry =
        KeyEntry::from_key_and_chain(&args.alias, &read_file(&args.key)?, &read_file(&args.cert)?)
            .with_context(|| format!("{} and {}", args.key.display(), args.cert.display()))?;
    let exists = args.file.symlink_metadata().is_ok();
    if exists && args.legacy_pkcs12 {
        bail!(UsageError(
            "--legacy-pkcs12 applies to a new keystore; an existing PKCS#12 keeps its algorithms"
                .into()
        ));
    }
    let dest = Destination::new(&args.file, args.out.as_deref(), args.force)?;
    let name = args.file.display();
    let context = || format!("{name}");

    let (mut store, store_pass) = if exists {
        let target = EditArgs {
            file: args.file.clone(),
            store_pass: args.store_pass.clone(),
            out: args.out.clone(),
        };
        let (store, pass) = open_for_edit(&target)?;
        if let Some(asked) = args.store_type.map(keystore_type) {
            if asked != store.kind() {
                bail!(UsageError(format!(
                    "{name} is a {} keystore, not {}: drop --type, or convert it first with \
                     `signet keystore convert`",
                    store.kind().keytool_name(),
                    asked.keytool_name()
                )));
            }
        }
        (store, pass)
    } else {
        if args.out.is_some() {
            // Reading FILE is the point of --out; a missing one is an error, not a new store.
            read_file(&args.file)?;
        }
        let kind = args.store_type.map_or(KeystoreType::Pkcs12, keystore_type);
        let pass = resolve_or_prompt(args.store_pass.as_ref(), Some("New keystore password: "))?
            .ok_or_else(|| {
                UsageError("a new keystore needs a store password: pass --store-pass".into())
            })?;
        let store = Keystore::new(kind, pkcs12_encryption(args.legacy_pkcs12));
        (store, pass)
    };
    let key_pass = match &args.key_pass {
        Some(s) => s.resolve()?,
        None => store_pass.clone(),
    };
    if store.kind() == KeystoreType::Pkcs12 && key_pass != store_pass {
        return Err(FormatError::Pkcs12KeyPassword).with_context(context);
    }

    let replaced = store.entry(&args.alias).is_ok();
    let chain_length = entry.chain.len();
    let certificate = entry.chain[0].info().clone();
    let alias = match store.set_key_entry(entry, &key_pass, args.force) {
        Err(e @ FormatError::AliasExists { .. }) => {
            bail!("{name}: {e}; pass --force to replace it")
        }
        // The key and its chain do not fit together: name those files.
        other => {
            other.with_context(|| format!("{} and {}", args.key.display(), args.cert.display()))?
        }
    };
    let written = dest
        .write(&store, &store_pass, |w| {
            w.unlock(Some(&alias), &key_pass)?;
            Ok(())
        })
        .with_context(context)?;

    let report = ImportReport {
        file: dest.shown.display().to_string(),
        kind: written.kind(),
        alias,
        created: !exists,
        replaced,
        chain_length,
        certificate,
        aliases: written.aliases(),
    };
    if args.output.json {
        return output::json(&report);
    }
    let mut f = output::Fields::new(2);
    f.add("Keystore", &report.file)
        .add("Type", report.kind.keytool_name())
        .add("Alias", &report.alias)
        .add("Chain", format!("{} certificate(s)", report.chain_length))
        .add("Owner", &report.certificate.subject)
        .add("SHA1", &report.certificate.fingerprints.sha1)
        .add("SHA256", &report.certificate.fingerprints.sha256);
    let what = match (report.created, report.replaced) {
        (true, _) => "Created keystore with the key entry",
        (false, true) => "Replaced the key entry",
        (false, false) => "Added the key entry",
    };
    print!("{what}\n{}", f.render());
    Ok(())
}
