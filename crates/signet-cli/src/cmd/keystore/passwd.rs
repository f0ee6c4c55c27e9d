//! `signet keystore passwd`: keytool's `-storepasswd` and `-keypasswd`.

use anyhow::{Context, bail};
use serde::Serialize;
use signet_formats::{KeystoreType, Password};

use super::write_back::{Destination, open_for_edit};
use crate::{UsageError, flags::PasswdArgs, output};

#[derive(Serialize)]
struct PasswdReport {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    store_password_changed: bool,
    /// The entry whose key password changed (JKS).
    #[serde(skip_serializing_if = "Option::is_none")]
    key_password_changed: Option<String>,
    aliases: Vec<String>,
}

pub fn passwd(args: &PasswdArgs) -> anyhow::Result<()> {
    if args.new_store_pass.is_none() && args.new_key_pass.is_none() {
        bail!(UsageError(
            "nothing to change: pass --new-store-pass, --new-key-pass or both".into()
        ));
    }
    let dest = Destination::new(&args.target.file, args.target.out.as_deref(), args.force)?;
    let name = args.target.file.display();
    let (mut store, store_pass) = open_for_edit(&args.target)?;
    let new_store_pass = match &args.new_store_pass {
        Some(s) => s.resolve()?,
        None => store_pass.clone(),
    };
    let mut changed_key: Option<(String, Password)> = None;
    if let Some(new_key_pass) = &args.new_key_pass {
        let new_key_pass = new_key_pass.resolve()?;
        let old_key_pass = match &args.key_pass {
            Some(s) => s.resolve()?,
            None => store_pass.clone(),
        };
        let alias = store
            .change_key_password(args.alias.as_deref(), &old_key_pass, &new_key_pass)
            .with_context(|| format!("{name}"))?;
        changed_key = Some((alias, new_key_pass));
    }
    let written = dest
        .write(&store, &new_store_pass, |w| {
            if let Some((alias, key_pass)) = &changed_key {
                w.unlock(Some(alias), key_pass)?;
            }
            Ok(())
        })
        .with_context(|| format!("{name}"))?;

    let report = PasswdReport {
        file: dest.shown.display().to_string(),
        kind: written.kind(),
        store_password_changed: args.new_store_pass.is_some(),
        key_password_changed: changed_key.map(|(alias, _)| alias),
        aliases: written.aliases(),
    };
    if args.output.json {
        return output::json(&report);
    }
    if report.store_password_changed {
        let keys = match (report.kind, &report.key_password_changed) {
            (KeystoreType::Pkcs12, _) => "; it protects the keys too (PKCS#12 has one password)",
            (KeystoreType::Jks, None) => "; key passwords are unchanged",
            (KeystoreType::Jks, Some(_)) => "",
        };
        println!("Changed the store password of {}{keys}", report.file);
    }
    if let Some(alias) = &report.key_password_changed {
        println!("Changed the key password of `{alias}` in {}", report.file);
    }
    Ok(())
}
