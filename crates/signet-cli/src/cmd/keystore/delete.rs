//! `signet keystore delete`: keytool's `-delete`.

use anyhow::Context;
use serde::Serialize;
use signet_formats::KeystoreType;

use super::write_back::{Destination, open_for_edit};
use crate::{flags::DeleteArgs, output};

#[derive(Serialize)]
struct DeleteReport {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    deleted: String,
    entry_type: &'static str,
    /// SHA-256 of the deleted entry's (leaf) certificate, to tell which key went.
    sha256: Option<String>,
    aliases: Vec<String>,
}

pub fn delete(args: &DeleteArgs) -> anyhow::Result<()> {
    let dest = Destination::new(&args.target.file, args.target.out.as_deref(), args.force)?;
    let name = args.target.file.display();
    let (mut store, store_pass) = open_for_edit(&args.target)?;
    let context = || format!("{name}");
    let deleted = store.delete(&args.alias).with_context(context)?;
    let written = dest
        .write(&store, &store_pass, |_| Ok(()))
        .with_context(context)?;

    let report = DeleteReport {
        file: dest.shown.display().to_string(),
        kind: written.kind(),
        deleted: deleted.alias().to_owned(),
        entry_type: if deleted.is_private_key() {
            "PrivateKeyEntry"
        } else {
            "trustedCertEntry"
        },
        sha256: deleted
            .certificates()
            .first()
            .map(|c| c.fingerprints().sha256.clone()),
        aliases: written.aliases(),
    };
    if args.output.json {
        return output::json(&report);
    }
    println!(
        "Deleted `{}` ({}{}) from {}",
        report.deleted,
        report.entry_type,
        report
            .sha256
            .as_ref()
            .map(|s| format!(", SHA256 {s}"))
            .unwrap_or_default(),
        report.file
    );
    Ok(())
}
