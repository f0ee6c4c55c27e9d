//! `signet keystore inspect` (and `signet inspect` of a keystore).

use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use signet_formats::{CertificateInfo, FormatError, KeystoreType};
use time::OffsetDateTime;

use super::{Opened, open};
use crate::{flags::KeystoreInspectArgs, output};

#[derive(Serialize)]
pub struct InspectReport {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    integrity_checked: bool,
    entries: Vec<EntryReport>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct EntryReport {
    alias: String,
    entry_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_password: Option<&'static str>,
    certificates: Vec<CertificateInfo>,
    warnings: Vec<String>,
}

pub fn inspect(args: &KeystoreInspectArgs) -> anyhow::Result<()> {
    let opened = open(&args.store)?;
    inspect_opened(
        &opened,
        &args.store.file,
        args.alias.as_deref(),
        args.output.json,
    )
}

pub fn inspect_opened(
    opened: &Opened,
    file: &Path,
    alias: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let store = &opened.store;
    let now = OffsetDateTime::now_utc();
    let selected: Vec<&signet_formats::Entry> = match alias {
        Some(a) => vec![
            store
                .entry(a)
                .with_context(|| format!("{}", file.display()))?,
        ],
        None => store.entries().iter().collect(),
    };

    let mut entries = Vec::with_capacity(selected.len());
    for entry in selected {
        let certificates: Vec<CertificateInfo> = entry
            .certificates()
            .iter()
            .map(|c| c.info().clone())
            .collect();
        let mut warnings = Vec::new();
        let key_password = if entry.is_private_key() {
            if let Some(leaf) = certificates.first() {
                warnings.extend(output::signing_certificate_warnings(leaf, now));
            }
            let (status, warning) = key_status(opened, entry.alias())?;
            warnings.extend(warning);
            Some(status)
        } else {
            None
        };
        entries.push(EntryReport {
            alias: entry.alias().to_owned(),
            entry_type: if entry.is_private_key() {
                "private-key"
            } else {
                "trusted-certificate"
            },
            created: entry.created().map(output::rfc3339),
            key_password,
            certificates,
            warnings,
        });
    }
    let mut warnings = Vec::new();
    if store.kind() == KeystoreType::Pkcs12 && !store.integrity_checked() {
        warnings.push(
            "this PKCS#12 file has no MAC: its password and integrity were not checked".to_owned(),
        );
    }
    if store.secret_entries() > 0 {
        warnings.push(format!(
            "{} secret-key entries are not shown",
            store.secret_entries()
        ));
    }
    let report = InspectReport {
        file: file.display().to_string(),
        kind: store.kind(),
        integrity_checked: store.integrity_checked(),
        entries,
        warnings,
    };
    if json {
        return output::json(&report);
    }
    print!("{}", render_inspect(&report));
    Ok(())
}

/// Opens the key: `ok`; `differs` (the store password does not open it and no
/// `--key-pass` was given); `not-checked` (no password); `unusable` (a key type signet
/// cannot sign with, reported as a warning, not an error: keytool lists such keys too).
/// A wrong explicit `--key-pass` is an error.
fn key_status(opened: &Opened, alias: &str) -> anyhow::Result<(&'static str, Option<String>)> {
    let Some(password) = opened.key_password() else {
        return Ok(("not-checked", None));
    };
    match opened.store.unlock(Some(alias), password) {
        Ok(_) => Ok(("ok", None)),
        Err(FormatError::WrongKeyPassword { .. }) if opened.key_pass.is_none() => {
            Ok(("differs", None))
        }
        Err(e @ FormatError::WrongKeyPassword { .. }) => Err(e.into()),
        Err(e) => Ok((
            "unusable",
            Some(format!("signet cannot sign with this key: {e}")),
        )),
    }
}

fn render_inspect(report: &InspectReport) -> String {
    let mut out = String::new();
    let mut f = output::Fields::new(0);
    f.add("Keystore", &report.file)
        .add("Type", report.kind.keytool_name())
        .add(
            "Integrity",
            if report.integrity_checked {
                "verified with the store password"
            } else {
                "NOT checked"
            },
        )
        .add("Entries", report.entries.len().to_string());
    out.push_str(&f.render());
    for w in &report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for e in &report.entries {
        out.push('\n');
        let mut f = output::Fields::new(0);
        f.add("Alias", &e.alias).add(
            "Entry type",
            if e.entry_type == "private-key" {
                "PrivateKeyEntry"
            } else {
                "trustedCertEntry"
            },
        );
        if let Some(c) = &e.created {
            f.add("Created", c.clone());
        }
        if let Some(k) = e.key_password {
            f.add(
                "Key password",
                match k {
                    "ok" => "ok",
                    "differs" => "differs from the store password (pass --key-pass to check it)",
                    "unusable" => "opens, but the key type is not one signet can sign with",
                    _ => "not checked",
                },
            );
        }
        f.add("Chain length", e.certificates.len().to_string());
        out.push_str(&f.render());
        for (i, c) in e.certificates.iter().enumerate() {
            out.push_str(&format!("Certificate[{}]:\n", i + 1));
            out.push_str(&output::certificate_fields(c, 2));
        }
        for w in &e.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
    }
    out
}
