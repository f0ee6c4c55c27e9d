//! `signet credentials upload <type> …`: each credential type of SPEC §1, checked here as
//! far as it is cheap (the file is there and readable, a keystore or .p12 opens with its
//! password, a key matches its certificate, a profile or .p8 parses) so that a mistake
//! gets the same error and hint as the local commands, then sent as signet-store's
//! [`Upload`] for the server to validate, derive the metadata of, and store.

use std::path::Path;

use anyhow::Context;
use base64::Engine as _;
use signet_client::{ClientError, Credential, Kind, SecretString, Upload};
use signet_formats::{
    Keystore, Password,
    apple::{mobileprovision::Profile, p8, read_certificate, read_private_key},
    pem,
};
use signet_store::validate::{
    AppleTeamUpload, AscKeyUpload, CertificateUpload, FcmKeyUpload, KeystoreUpload, ProfileUpload,
    PushKeyUpload, ServiceAccountUpload,
};

use super::show::describe;
use crate::{
    UsageError,
    cmd::keystore::{self, read_file},
    flags::{
        TeamTypeArg, UploadAppleTeamArgs, UploadAscKeyArgs, UploadCommand, UploadDistCertArgs,
        UploadFcmKeyArgs, UploadKeystoreArgs, UploadProfileArgs, UploadPushKeyArgs,
        UploadServiceAccountArgs,
    },
    output,
    remote::Remote,
    secret_arg::{SecretArg, resolve_or_prompt},
};

pub fn upload_cmd(command: &UploadCommand) -> anyhow::Result<()> {
    let (body, common) = match command {
        UploadCommand::Keystore(a) => (keystore_args(a)?, &a.common),
        UploadCommand::DistCert(a) => (dist_cert_args(a)?, &a.common),
        UploadCommand::Profile(a) => (profile_args(a)?, &a.common),
        UploadCommand::PushKey(a) => (push_key_args(a)?, &a.common),
        UploadCommand::ServiceAccount(a) => (service_account_args(a)?, &a.common),
        UploadCommand::FcmKey(a) => (fcm_key_args(a)?, &a.common),
        UploadCommand::AscKey(a) => (asc_key_args(a)?, &a.common),
        UploadCommand::AppleTeam(a) => (apple_team_args(a), &a.common),
    };
    let remote = Remote::connect(&common.remote)?;
    let credential = upload(&remote, &body)?;
    print_uploaded(&credential, common.output.json)
}

/// Sends an upload; a refusal naming a field says which flag it came from.
pub fn upload(remote: &Remote, upload: &Upload) -> anyhow::Result<Credential> {
    remote
        .block_on(remote.client.upload(&remote.org, upload))
        .map_err(|e| refused(upload.kind(), e))
}

/// Prints the stored record (`--json`: the record, which holds no secret).
pub fn print_uploaded(credential: &Credential, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(credential);
    }
    println!("Uploaded {} ({}).", credential.id, credential.name);
    print!("{}", describe(credential));
    Ok(())
}

/// A server's 422 names the API's field; the context names the flag (or file) it came
/// from. The server's detail follows it in the message.
fn refused(kind: Kind, e: ClientError) -> anyhow::Error {
    let flag = match e.problem() {
        Some(p) if p.status == 422 => p.field.as_deref().map(|f| flag_of(kind, f)),
        _ => None,
    };
    match flag {
        Some(flag) => {
            anyhow::Error::new(e).context(format!("the server refused the upload ({flag})"))
        }
        None => anyhow::Error::new(e),
    }
}

/// The flag (or argument) an upload field comes from.
fn flag_of(kind: Kind, field: &str) -> String {
    let flag = match (kind, field) {
        (_, "keystore" | "profile" | "json" | "p8")
        | (Kind::AppleDistributionCertificate, "p12") => {
            return "the file".to_owned();
        }
        (Kind::AppleDistributionCertificate, "password") => "p12-pass",
        (_, "store_password") => "store-pass",
        (_, "key_password") => "key-pass",
        (_, "key_alias") => "alias",
        (_, "private_key") => "key",
        (_, "certificate") => "cer",
        (_, "roles") => "role",
        (_, "type") => return "the type".to_owned(),
        (_, other) => return format!("--{}", other.replace('_', "-")),
    };
    format!("--{flag}")
}

fn secret(p: &Password) -> SecretString {
    SecretString::new(p.expose())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A required secret: the flag, else asked on a terminal, else a usage error naming it.
fn required_secret(arg: Option<&SecretArg>, flag: &str, prompt: &str) -> anyhow::Result<Password> {
    resolve_or_prompt(arg, Some(prompt))?.ok_or_else(|| {
        UsageError(format!(
            "{flag} is needed when standard input is not a terminal (pass:VALUE, env:VAR, \
             file:PATH or stdin)"
        ))
        .into()
    })
}

// --- keystore ------------------------------------------------------------------------

fn keystore_args(a: &UploadKeystoreArgs) -> anyhow::Result<Upload> {
    let bytes = read_file(&a.file)?;
    // A file that is no keystore says so before a password is asked for.
    keystore::detect(&bytes, &a.file)?;
    let store_pass = required_secret(a.store_pass.as_ref(), "--store-pass", "Keystore password: ")?;
    let key_pass = a.key_pass.as_ref().map(SecretArg::resolve).transpose()?;
    keystore_upload(
        &a.file,
        &bytes,
        store_pass,
        a.alias.as_deref(),
        key_pass,
        a.common.name.clone(),
    )
}

/// An Android keystore, opened here first with its passwords (as `signet keystore inspect`
/// opens it: the same errors and hints), its key entry found and unlocked.
pub fn keystore_upload(
    path: &Path,
    bytes: &[u8],
    store_pass: Password,
    alias: Option<&str>,
    key_pass: Option<Password>,
    name: Option<String>,
) -> anyhow::Result<Upload> {
    let opened = keystore::open_with(bytes, path, Some(store_pass), key_pass)?;
    let file = || format!("{}", path.display());
    let alias = opened
        .store
        .key_entry(alias)
        .with_context(file)?
        .alias()
        .to_owned();
    if let Some(password) = opened.key_password() {
        opened
            .store
            .unlock(Some(&alias), password)
            .with_context(file)?;
    }
    Ok(Upload::AndroidKeystore(KeystoreUpload {
        name,
        keystore: SecretString::new(b64(bytes)),
        store_password: opened.store_pass.as_ref().map(secret).unwrap_or_default(),
        key_alias: Some(alias),
        key_password: opened.key_pass.as_ref().map(secret),
    }))
}

// --- Apple certificate ---------------------------------------------------------------

fn dist_cert_args(a: &UploadDistCertArgs) -> anyhow::Result<Upload> {
    let team_id = a.team_id.clone();
    let name = a.common.name.clone();
    match (&a.p12, &a.key, &a.cer) {
        (Some(p12), _, _) => {
            let bytes = read_file(p12)?;
            let pass = required_secret(a.p12_pass.as_ref(), "--p12-pass", ".p12 password: ")?;
            dist_cert_p12(p12, &bytes, &pass, team_id, name)
        }
        (None, Some(key), Some(cer)) => {
            let key_bytes = read_file(key)?;
            let cer_bytes = read_file(cer)?;
            let pass = a.p12_pass.as_ref().map(SecretArg::resolve).transpose()?;
            dist_cert_parts(
                key,
                &key_bytes,
                cer,
                &cer_bytes,
                pass.as_ref(),
                team_id,
                name,
            )
        }
        _ => Err(UsageError("give --p12 (with --p12-pass), or --key and --cer".into()).into()),
    }
}

/// A distribution certificate as a .p12, opened here first with its password.
pub fn dist_cert_p12(
    path: &Path,
    bytes: &[u8],
    password: &Password,
    team_id: Option<String>,
    name: Option<String>,
) -> anyhow::Result<Upload> {
    let file = || format!("{}", path.display());
    let store = Keystore::open(bytes, Some(password)).with_context(file)?;
    store.unlock(None, password).with_context(file)?;
    Ok(Upload::AppleDistributionCertificate(CertificateUpload {
        name,
        p12: Some(SecretString::new(b64(bytes))),
        password: Some(secret(password)),
        private_key: None,
        certificate: None,
        team_id,
    }))
}

/// A distribution certificate as the private key and the .cer Apple issued for it
/// (checked to belong together here); the server makes the .p12, with `password` or one
/// it generates.
pub fn dist_cert_parts(
    key_path: &Path,
    key: &[u8],
    cer_path: &Path,
    cer: &[u8],
    password: Option<&Password>,
    team_id: Option<String>,
    name: Option<String>,
) -> anyhow::Result<Upload> {
    let private_key = read_private_key(key).with_context(|| format!("{}", key_path.display()))?;
    let certificate = read_certificate(cer).with_context(|| format!("{}", cer_path.display()))?;
    if !private_key
        .matches(&certificate)
        .with_context(|| format!("{}", key_path.display()))?
    {
        anyhow::bail!(
            "{} was not issued for the key in {}: use the key the certificate request was made \
             with",
            cer_path.display(),
            key_path.display()
        );
    }
    Ok(Upload::AppleDistributionCertificate(CertificateUpload {
        name,
        p12: None,
        password: password.map(secret),
        private_key: Some(SecretString::new(pem::encode(
            "PRIVATE KEY",
            private_key.pkcs8_der(),
        ))),
        certificate: Some(b64(certificate.der())),
        team_id,
    }))
}

// --- profile -------------------------------------------------------------------------

fn profile_args(a: &UploadProfileArgs) -> anyhow::Result<Upload> {
    let bytes = read_file(&a.file)?;
    profile_upload(
        &a.file,
        &bytes,
        a.bundle_id.clone(),
        a.team_id.clone(),
        a.common.name.clone(),
    )
}

/// A provisioning profile, parsed here first.
pub fn profile_upload(
    path: &Path,
    bytes: &[u8],
    bundle_id: Option<String>,
    team_id: Option<String>,
    name: Option<String>,
) -> anyhow::Result<Upload> {
    Profile::parse(bytes).with_context(|| format!("{}", path.display()))?;
    Ok(Upload::AppleProvisioningProfile(ProfileUpload {
        name,
        profile: b64(bytes),
        bundle_id,
        team_id,
    }))
}

// --- .p8 keys ------------------------------------------------------------------------

/// A .p8 checked here (PKCS#8 EC P-256), as PEM text, and its key id: the one given, or
/// the one in Apple's file name `AuthKey_<KEYID>.p8`.
fn p8_key(
    path: &Path,
    bytes: &[u8],
    key_id: Option<&str>,
) -> anyhow::Result<(SecretString, String)> {
    p8::AuthKey::parse(bytes).with_context(|| format!("{}", path.display()))?;
    let key_id = match key_id {
        Some(k) => k.to_owned(),
        None => {
            let file_name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            p8::key_id_from_file_name(file_name)
                .ok_or_else(|| {
                    UsageError(format!(
                        "pass --key-id: `{file_name}` is not named AuthKey_<KEYID>.p8"
                    ))
                })?
                .to_owned()
        }
    };
    let text = if pem::contains_label(bytes, "PRIVATE KEY") {
        std::str::from_utf8(bytes)
            .with_context(|| format!("{}: the PEM text is not UTF-8", path.display()))?
            .to_owned()
    } else {
        pem::encode("PRIVATE KEY", bytes)
    };
    Ok((SecretString::new(text), key_id))
}

fn push_key_args(a: &UploadPushKeyArgs) -> anyhow::Result<Upload> {
    let bytes = read_file(&a.file)?;
    push_key_upload(
        &a.file,
        &bytes,
        a.key_id.as_deref(),
        &a.team_id,
        a.common.name.clone(),
    )
}

/// An APNs key.
pub fn push_key_upload(
    path: &Path,
    bytes: &[u8],
    key_id: Option<&str>,
    team_id: &str,
    name: Option<String>,
) -> anyhow::Result<Upload> {
    let (p8, key_id) = p8_key(path, bytes, key_id)?;
    Ok(Upload::ApplePushKey(PushKeyUpload {
        name,
        p8,
        key_id,
        team_id: team_id.to_owned(),
    }))
}

fn asc_key_args(a: &UploadAscKeyArgs) -> anyhow::Result<Upload> {
    let bytes = read_file(&a.file)?;
    let (p8, key_id) = p8_key(&a.file, &bytes, a.key_id.as_deref())?;
    Ok(Upload::AscApiKey(AscKeyUpload {
        name: a.common.name.clone(),
        p8,
        key_id,
        issuer_id: a.issuer_id.clone(),
        team_id: a.team_id.clone(),
        roles: a.roles.clone(),
    }))
}

// --- Google and FCM ------------------------------------------------------------------

fn service_account_args(a: &UploadServiceAccountArgs) -> anyhow::Result<Upload> {
    let bytes = read_file(&a.file)?;
    service_account_upload(&a.file, bytes, a.common.name.clone())
}

/// A Google service account key file, checked here to be JSON.
pub fn service_account_upload(
    path: &Path,
    bytes: Vec<u8>,
    name: Option<String>,
) -> anyhow::Result<Upload> {
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{}: not a JSON key file (not UTF-8 text)", path.display()))?;
    let text = SecretString::new(text);
    // serde_json's message names a line and column, never the text.
    serde_json::from_str::<serde::de::IgnoredAny>(text.expose())
        .with_context(|| format!("{}: not a JSON key file", path.display()))?;
    Ok(Upload::GoogleServiceAccountKey(ServiceAccountUpload {
        name,
        json: text,
    }))
}

fn fcm_key_args(a: &UploadFcmKeyArgs) -> anyhow::Result<Upload> {
    let key = a.server_key.resolve()?;
    Ok(Upload::FcmLegacyKey(FcmKeyUpload {
        name: a.common.name.clone(),
        server_key: secret(&key),
    }))
}

// --- Apple team ----------------------------------------------------------------------

fn apple_team_args(a: &UploadAppleTeamArgs) -> Upload {
    Upload::AppleTeam(AppleTeamUpload {
        name: a.common.name.clone(),
        team_id: a.team_id.clone(),
        team_name: a.team_name.clone(),
        team_type: a.team_type.map(|t| {
            match t {
                TeamTypeArg::Company => "company",
                TeamTypeArg::Individual => "individual",
                TeamTypeArg::InHouse => "in-house",
            }
            .to_owned()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_name_their_flags() {
        assert_eq!(flag_of(Kind::AndroidKeystore, "key_password"), "--key-pass");
        assert_eq!(flag_of(Kind::AndroidKeystore, "keystore"), "the file");
        assert_eq!(
            flag_of(Kind::AppleDistributionCertificate, "password"),
            "--p12-pass"
        );
        assert_eq!(
            flag_of(Kind::AppleDistributionCertificate, "p12"),
            "the file"
        );
        assert_eq!(flag_of(Kind::AscApiKey, "issuer_id"), "--issuer-id");
        assert_eq!(flag_of(Kind::AppleTeam, "team_type"), "--team-type");
    }
}
