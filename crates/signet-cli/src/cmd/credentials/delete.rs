//! `signet credentials delete ID [--yes] [--backup-to FILE]`: the impact first (SPEC §1),
//! a backup offered for a keystore, a confirmation, then a soft delete that the restore
//! window can undo.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use signet_client::{Credential, CredentialId, Impact, Kind, Metadata};

use super::{
    export::{self, ExportTo, Exported},
    now_ms,
};
use crate::{
    flags::CredentialsDeleteArgs,
    output,
    remote::{self, Remote},
};

/// The sentence the server ends an impact's summary with; the CLI says it its own way.
const SERVER_NOT_REVOKED: &str = " Removing it from signet does not revoke it at Apple or Google.";

pub fn delete_cmd(args: &CredentialsDeleteArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    delete(
        &remote,
        &args.id,
        &DeleteOptions {
            yes: args.yes,
            backup_to: args.backup_to.clone(),
            force: args.force,
            json: args.output.json,
            typed: false,
        },
    )
}

/// How to delete.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Confirmed already (`--yes`).
    pub yes: bool,
    /// For a keystore: export it here first (its passwords to `FILE.password`). Without
    /// it, a terminal asks; off a terminal there is no backup.
    pub backup_to: Option<PathBuf>,
    /// Overwrite existing backup files.
    pub force: bool,
    /// Print JSON (the impact goes to standard error).
    pub json: bool,
    /// Confirm by typing the credential's name (the menu's way) rather than yes/no.
    pub typed: bool,
}

#[derive(Serialize)]
struct DeletedJson<'a> {
    deleted: &'a CredentialId,
    impact: &'a Impact,
    restorable_until: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<&'a Exported>,
}

/// Shows the impact, offers a keystore's backup, asks, writes the backup, deletes.
pub fn delete(remote: &Remote, id: &CredentialId, options: &DeleteOptions) -> anyhow::Result<()> {
    let credential = remote
        .block_on(remote.client.credential(&remote.org, id))
        .map_err(|e| super::about(id, e))?;
    let impact = remote.block_on(remote.client.impact(&remote.org, id))?;
    let window = remote
        .block_on(remote.client.org(&remote.org))?
        .limits
        .restore_window_days;
    let text = impact_text(&credential, &impact, window);
    if options.json {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    let backup = match (&options.backup_to, credential.kind) {
        (Some(path), Kind::AndroidKeystore) => Some(path.clone()),
        (Some(_), kind) => {
            return Err(crate::UsageError(format!(
                "--backup-to is for keystores; this is an {}: export it with `signet \
                 credentials export {id} --out FILE`",
                kind.name()
            ))
            .into());
        }
        (None, Kind::AndroidKeystore) if remote::interactive() => ask_backup(&credential)?,
        (None, _) => None,
    };
    if options.typed && !options.yes {
        remote::confirm_typed(
            &format!("Type the name ({}) to delete it", credential.name),
            &credential.name,
        )?;
    } else {
        remote::confirm(
            &format!(
                "Delete {} {} ({})",
                credential.kind.name(),
                credential.id,
                credential.name
            ),
            options.yes,
        )?;
    }
    let exported = match &backup {
        Some(path) => {
            let password_out = password_path(path);
            let to = ExportTo {
                out: path,
                force: options.force,
                password_out: Some(&password_out),
                show_secrets: false,
            };
            let e = export::export(remote, id, to)
                .context("the backup failed, so nothing was deleted")?;
            let say = format!(
                "Backed up to {} (its passwords in {}; both mode 0600).",
                path.display(),
                password_out.display()
            );
            if options.json {
                eprintln!("{say}");
            } else {
                println!("{say}");
            }
            Some(e)
        }
        None => None,
    };
    let deleted = remote.block_on(remote.client.delete_credential(&remote.org, id))?;
    let window_ms = i64::try_from(window)
        .unwrap_or(i64::MAX / 2)
        .saturating_mul(86_400_000);
    let until = now_ms().saturating_add(window_ms);
    if options.json {
        return output::json(&DeletedJson {
            deleted: &deleted.deleted,
            impact: &deleted.impact,
            restorable_until: until,
            backup: exported.as_ref(),
        });
    }
    println!(
        "Deleted {} ({}). An admin can restore it for {window} days (until {}) with `signet \
         credentials restore {}`.",
        credential.id,
        credential.name,
        output::date_ms(until),
        credential.id
    );
    Ok(())
}

/// SPEC §1's impact: the summary, what uses it, the credentials affected, and that
/// nothing is revoked.
pub fn impact_text(credential: &Credential, impact: &Impact, window_days: u64) -> String {
    let mut out = format!(
        "Deleting {} {} ({}):\n",
        credential.kind.name(),
        credential.id,
        credential.name
    );
    let summary = impact
        .summary
        .strip_suffix(SERVER_NOT_REVOKED)
        .unwrap_or(&impact.summary);
    out.push_str(&format!("  {summary}\n"));
    if let Metadata::AndroidKeystore(_) = credential.metadata {
        out.push_str(
            "  A keystore must be identical to the one used for the app's earlier uploads to \
             Google Play.\n",
        );
    }
    if impact.used_by.is_empty() {
        out.push_str("Used by: nothing (no build set, build pair or app slot points at it)\n");
    } else {
        out.push_str("Used by:\n");
        for line in &impact.used_by {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if !impact.affected_credentials.is_empty() {
        out.push_str("Also affected:\n");
        for line in &impact.affected_credentials {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!(
        "Nothing is revoked at Apple or Google. It stays restorable for {window_days} days.\n"
    ));
    out
}

/// `FILE.password`.
pub(super) fn password_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".password");
    PathBuf::from(name)
}

/// On a terminal: back the keystore up first? (yes by default), and where.
fn ask_backup(credential: &Credential) -> anyhow::Result<Option<PathBuf>> {
    let wanted = dialoguer::Confirm::new()
        .with_prompt("Back the keystore up to a file before deleting it?")
        .default(true)
        .interact()
        .context("cannot read the answer from the terminal")?;
    if !wanted {
        return Ok(None);
    }
    let extension = match &credential.metadata {
        Metadata::AndroidKeystore(k)
            if k.keystore_type == signet_store::metadata::KeystoreFormat::Jks =>
        {
            "jks"
        }
        _ => "p12",
    };
    let path: String = dialoguer::Input::new()
        .with_prompt("Backup file")
        .default(format!("{}.bak.{extension}", credential.id))
        .interact_text()
        .context("cannot read the answer from the terminal")?;
    Ok(Some(PathBuf::from(path)))
}
