//! `signet keystore generate`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;
use signet_formats::{
    CertificateInfo, DistinguishedName, KeyAlgorithm, KeystoreType, Password, WriteOptions,
    credentials_json,
};
use time::OffsetDateTime;

use super::{keystore_type, pkcs12_encryption};
use crate::{
    UsageError,
    flags::{GenerateArgs, KeyAlgArg},
    output, output_file,
};

#[derive(Serialize)]
struct GenerateReport<'a> {
    file: String,
    #[serde(rename = "type")]
    kind: KeystoreType,
    alias: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_password: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_password: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials_json: Option<String>,
    certificate: &'a CertificateInfo,
    warnings: Vec<String>,
}

pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let kind = keystore_type(args.store_type);
    let family = match args.key_alg {
        KeyAlgArg::Rsa => "rsa",
        KeyAlgArg::Ec => "ec",
    };
    // Validate everything before any work or output.
    let algorithm = KeyAlgorithm::from_name_and_size(family, args.key_size)
        .map_err(|e| UsageError(e.to_string()))?;
    let dname = DistinguishedName::parse(&args.dname).map_err(|e| UsageError(e.to_string()))?;
    let ends_in_range = OffsetDateTime::now_utc()
        .checked_add(time::Duration::days(i64::from(args.validity_days)))
        .is_some_and(|t| t.year() <= 9999);
    if args.validity_days == 0 || !ends_in_range {
        bail!(UsageError(
            "--validity-days must be at least 1 and end before the year 10000".into()
        ));
    }
    if args.alias.as_deref() == Some("") {
        bail!(UsageError("--alias cannot be empty".into()));
    }
    let secrets_generated = args.store_pass.is_none();
    if args.output.json
        && secrets_generated
        && !args.show_secrets
        && args.credentials_json.is_none()
    {
        bail!(UsageError(
            "the generated store password would be lost: with --json, give --store-pass, \
             --credentials-json FILE or --show-secrets"
                .into()
        ));
    }
    output_file::check_writable(&args.out, args.force)?;

    let alias = match &args.alias {
        Some(a) => a.clone(),
        None => signet_formats::random_hex32()?,
    };
    let store_pass = match &args.store_pass {
        Some(s) => s.resolve()?,
        None => Password::generate()?,
    };
    let key_pass = match &args.key_pass {
        Some(s) => s.resolve()?,
        None => store_pass.clone(),
    };
    if kind == KeystoreType::Pkcs12 && key_pass != store_pass {
        bail!(UsageError(
            "a PKCS#12 keystore has a single password: drop --key-pass or use --type jks".into()
        ));
    }

    // JKS stores aliases in lower case (Java looks them up that way).
    let stored_alias = match kind {
        KeystoreType::Jks => alias.to_lowercase(),
        KeystoreType::Pkcs12 => alias.clone(),
    };
    // Prepare credentials.json before the keystore exists, so a bad credentials.json
    // cannot leave a keystore behind whose generated password nobody saw.
    let credentials = match &args.credentials_json {
        Some(path) => Some((
            path,
            credentials_json_bytes(
                path,
                &args.out,
                &stored_alias,
                &store_pass,
                &key_pass,
                args.force,
            )?,
        )),
        None => None,
    };

    let entry = signet_formats::generate::key_entry(&alias, algorithm, &dname, args.validity_days)?;
    let options = WriteOptions {
        kind,
        store_password: store_pass.clone(),
        key_password: Some(key_pass.clone()),
        pkcs12_encryption: pkcs12_encryption(args.legacy_pkcs12),
    };
    let bytes = signet_formats::write(std::slice::from_ref(&entry), &[], &options)?;
    output_file::write_atomic(&args.out, &bytes, args.force, true)?;
    let alias = stored_alias;
    let credentials_json = match credentials {
        Some((path, bytes)) => {
            if let Err(e) = output_file::write_atomic(path, &bytes, true, true) {
                // Do not leave a keystore whose password is lost.
                let _ = std::fs::remove_file(&args.out);
                return Err(e);
            }
            Some(path.display().to_string())
        }
        None => None,
    };

    let cert = entry.chain[0].info();
    let warnings = output::signing_certificate_warnings(cert, OffsetDateTime::now_utc());
    let show = args.show_secrets || (!args.output.json && credentials_json.is_none());
    let report = GenerateReport {
        file: args.out.display().to_string(),
        kind,
        alias: &alias,
        store_password: (show && args.store_pass.is_none()).then(|| store_pass.expose()),
        key_password: (show && args.store_pass.is_none() && args.key_pass.is_none())
            .then(|| key_pass.expose()),
        credentials_json,
        certificate: cert,
        warnings,
    };
    if args.output.json {
        return output::json(&report);
    }
    let mut f = output::Fields::new(2);
    f.add("Keystore", &report.file)
        .add("Type", kind.keytool_name())
        .add("Alias", report.alias)
        .add("Key", cert.key_description())
        .add("Owner", &cert.subject)
        .add("Valid until", output::date(cert.not_after))
        .add("SHA1", &cert.fingerprints.sha1)
        .add("SHA256", &cert.fingerprints.sha256);
    if let Some(p) = report.store_password {
        f.add("Store password", p);
    }
    if let Some(p) = report.key_password {
        f.add("Key password", p);
    }
    if let Some(c) = &report.credentials_json {
        f.add("Credentials", format!("written to {c}"));
    }
    print!("Generated keystore\n{}", f.render());
    if report.store_password.is_some() {
        println!(
            "\nThe password above is shown only once and is not stored anywhere else: save it now.\n\
             Losing an app-signing key means the app can never be updated."
        );
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    Ok(())
}

fn credentials_json_bytes(
    path: &Path,
    keystore: &Path,
    alias: &str,
    store_pass: &Password,
    key_pass: &Password,
    force: bool,
) -> anyhow::Result<Vec<u8>> {
    let existing = match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !force
        && existing
            .as_deref()
            .is_some_and(credentials_json::has_android_keystore)
    {
        bail!(
            "{} already has an android.keystore section (it may hold the only copy of another \
             key's password); pass --force to replace it",
            path.display()
        );
    }
    let entry = credentials_json::AndroidKeystore {
        keystore_path: relative_keystore_path(path, keystore),
        keystore_password: store_pass.clone(),
        key_alias: alias.to_owned(),
        key_password: Some(key_pass.clone()),
    };
    credentials_json::with_android_keystore(existing.as_deref(), &entry)
        .with_context(|| format!("{}", path.display()))
}

/// eas-cli resolves `keystorePath` against the project directory, where credentials.json
/// lives: write the path relative to it when the keystore is inside it, else absolute.
fn relative_keystore_path(credentials: &Path, keystore: &Path) -> String {
    let abs = |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
    let dir = abs(credentials)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let ks = abs(keystore);
    let dir = dir.canonicalize().unwrap_or(dir);
    let ks = ks.canonicalize().unwrap_or(ks);
    match ks.strip_prefix(&dir) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => ks.display().to_string(),
    }
}
