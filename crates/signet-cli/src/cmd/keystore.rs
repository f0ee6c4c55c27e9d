//! `signet keystore generate | inspect | upload-cert | convert`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;
use signet_formats::{
    CertificateInfo, DistinguishedName, FormatError, KeyAlgorithm, Keystore, KeystoreType,
    Password, Pkcs12Encryption, WriteOptions, credentials_json,
};
use time::OffsetDateTime;

use crate::{
    UsageError,
    flags::{
        ConvertArgs, GenerateArgs, KeyAlgArg, KeystoreInspectArgs, StoreArgs, StoreTypeArg,
        UploadCertArgs,
    },
    output, output_file,
    secret_arg::resolve_or_prompt,
};

fn keystore_type(arg: StoreTypeArg) -> KeystoreType {
    match arg {
        StoreTypeArg::Pkcs12 => KeystoreType::Pkcs12,
        StoreTypeArg::Jks => KeystoreType::Jks,
    }
}

fn pkcs12_encryption(legacy: bool) -> Pkcs12Encryption {
    if legacy {
        Pkcs12Encryption::Legacy
    } else {
        Pkcs12Encryption::Modern
    }
}

/// Reads a file, naming it in the error.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A keystore opened from the command line, with the passwords it was opened with.
pub struct Opened {
    pub store: Keystore,
    pub store_pass: Option<Password>,
    pub key_pass: Option<Password>,
}

/// Opens the keystore named by `args`, asking for the store password on a terminal.
pub fn open(args: &StoreArgs) -> anyhow::Result<Opened> {
    let bytes = read_file(&args.file)?;
    open_bytes(
        &bytes,
        &args.file,
        args.store_pass.as_ref(),
        args.key_pass.as_ref(),
    )
}

pub fn open_bytes(
    bytes: &[u8],
    path: &Path,
    store_pass: Option<&crate::secret_arg::SecretArg>,
    key_pass: Option<&crate::secret_arg::SecretArg>,
) -> anyhow::Result<Opened> {
    let name = path.display();
    // Detect first, so a file that is no keystore says so before a password is asked for.
    signet_formats::detect(bytes).with_context(|| format!("{name}"))?;
    let store_pass = resolve_or_prompt(store_pass, Some("Keystore password: "))?;
    let key_pass = key_pass
        .map(crate::secret_arg::SecretArg::resolve)
        .transpose()?;
    let store = Keystore::open(bytes, store_pass.as_ref()).with_context(|| format!("{name}"))?;
    Ok(Opened {
        store,
        store_pass,
        key_pass,
    })
}

impl Opened {
    /// The password to decrypt keys with: `--key-pass`, else the store password.
    fn key_password(&self) -> Option<&Password> {
        self.key_pass.as_ref().or(self.store_pass.as_ref())
    }
}

// ---------------------------------------------------------------------------------------
// generate

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
        key_password: key_pass.clone(),
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

// ---------------------------------------------------------------------------------------
// inspect

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

// ---------------------------------------------------------------------------------------
// upload-cert

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
        Some(out) => output_file::write_atomic(out, pem.as_bytes(), args.force, false)?,
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(pem.as_bytes())?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// convert

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
    println!(
        "Converted {} ({}) to {} ({}): {}",
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
