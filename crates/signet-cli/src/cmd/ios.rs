//! `signet ios …`: Apple credentials.

use anyhow::Context;
use signet_formats::apple::p8;

use crate::{UsageError, cmd::keystore::read_file, flags::ApnsTokenArgs, output};

#[derive(serde::Serialize)]
struct TokenJson<'a> {
    token: &'a str,
    key_id: &'a str,
    team_id: &'a str,
    issued_at: i64,
    /// APNs accepts a token for an hour and asks for it to be refreshed no more often
    /// than every 20 minutes.
    expires_at: i64,
}

pub fn apns_token(args: &ApnsTokenArgs) -> anyhow::Result<()> {
    let file_name = args
        .push_key
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let key_id = match &args.key_id {
        Some(k) => k.clone(),
        None => p8::key_id_from_file_name(file_name)
            .ok_or_else(|| {
                UsageError(format!(
                    "pass --key-id: `{file_name}` is not named AuthKey_<KEYID>.p8"
                ))
            })?
            .to_owned(),
    };
    let bytes = read_file(&args.push_key)?;
    let key = p8::AuthKey::parse(&bytes).with_context(|| format!("{}", args.push_key.display()))?;
    let iat = args
        .iat
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let token = key
        .provider_token(&key_id, &args.team_id, iat)
        .map_err(|e| UsageError(e.to_string()))?;
    if args.output.json {
        return output::json(&TokenJson {
            token: &token,
            key_id: &key_id,
            team_id: &args.team_id,
            issued_at: iat,
            expires_at: iat + 3600,
        });
    }
    println!("{token}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// check

use signet_formats::{
    Keystore,
    apple::{
        AppleCertificateKind,
        mobileprovision::{Profile, ProfileKind},
    },
};

use crate::flags::{DistributionArg, IosCheckArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(serde::Serialize)]
struct Check {
    #[serde(rename = "check")]
    name: &'static str,
    status: Status,
    detail: String,
}

struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, check: &'static str, status: Status, detail: impl Into<String>) {
        self.0.push(Check {
            name: check,
            status,
            detail: detail.into(),
        });
    }

    fn expiry(&mut self, check: &'static str, what: &str, not_after: time::OffsetDateTime) {
        let now = time::OffsetDateTime::now_utc();
        let date = output::date(not_after);
        if not_after < now {
            self.add(check, Status::Fail, format!("{what} expired on {date}"));
        } else if not_after - now < time::Duration::days(30) {
            self.add(
                check,
                Status::Warn,
                format!("{what} expires on {date}, within 30 days"),
            );
        } else {
            self.add(check, Status::Pass, format!("{what} valid until {date}"));
        }
    }
}

fn distribution_name(d: DistributionArg) -> &'static str {
    match d {
        DistributionArg::AppStore => "app-store",
        DistributionArg::AdHoc => "ad-hoc",
        DistributionArg::Enterprise => "enterprise",
        DistributionArg::Development => "development",
    }
}

fn profile_kind_name(k: ProfileKind) -> &'static str {
    match k {
        ProfileKind::AppStore => "app-store",
        ProfileKind::AdHoc => "ad-hoc",
        ProfileKind::Enterprise => "enterprise",
        ProfileKind::Development => "development",
    }
}

/// Verification failed: some check failed (exit code 3). Shares the archive one's exit.
pub fn check(args: &IosCheckArgs) -> anyhow::Result<()> {
    let mut c = Checks(Vec::new());

    // The identity.
    let identity = match &args.p12 {
        Some(path) => {
            let bytes = read_file(path)?;
            let pass = crate::secret_arg::resolve_or_prompt(
                args.p12_pass.as_ref(),
                Some(".p12 password: "),
            )?;
            let store = Keystore::open(&bytes, pass.as_ref())
                .with_context(|| format!("{}", path.display()))?;
            let key = store
                .unlock(
                    None,
                    pass.as_ref()
                        .ok_or_else(|| UsageError("pass --p12-pass".into()))?,
                )
                .with_context(|| format!("{}", path.display()))?;
            let cert = key
                .chain
                .first()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("the .p12 holds no certificate"))?;
            c.add(
                "identity",
                Status::Pass,
                format!("{} (private key matches)", cert.info().subject),
            );
            c.expiry("certificate-expiry", "certificate", cert.info().not_after);
            Some(cert)
        }
        None => None,
    };
    let apple = identity.as_ref().and_then(|cert| cert.info().apple.clone());
    if let (Some(cert), Some(dist)) = (&identity, args.distribution) {
        let want = distribution_name(dist);
        match apple.as_ref().map(|a| a.kind) {
            Some(AppleCertificateKind::Development) if dist != DistributionArg::Development => c.add(
                "certificate-kind",
                Status::Fail,
                format!(
                    "a development certificate cannot sign for {want}: Apple rejects the upload \
                     (\"Application failed codesign verification\")"
                ),
            ),
            Some(AppleCertificateKind::Distribution) if dist == DistributionArg::Development => c.add(
                "certificate-kind",
                Status::Fail,
                "a distribution certificate cannot sign development builds; use an Apple Development certificate",
            ),
            Some(AppleCertificateKind::Development | AppleCertificateKind::Distribution) => {
                c.add("certificate-kind", Status::Pass, format!("fits {want}"));
            }
            Some(_) | None => c.add(
                "certificate-kind",
                Status::Fail,
                format!("{} is not an Apple Development or Distribution certificate", cert.info().subject),
            ),
        }
    }

    // The profile.
    let profile = match &args.profile {
        Some(path) => {
            let bytes = read_file(path)?;
            Some(Profile::parse(&bytes).with_context(|| format!("{}", path.display()))?)
        }
        None => None,
    };
    if let Some(p) = &profile {
        if p.signature_valid {
            c.add(
                "profile-signature",
                Status::Pass,
                "the CMS signature verifies",
            );
        } else {
            c.add(
                "profile-signature",
                Status::Fail,
                "the profile was modified after it was signed",
            );
        }
        if p.apple_signed {
            c.add("profile-signer", Status::Pass, "signed by Apple");
        } else {
            c.add(
                "profile-signer",
                Status::Warn,
                "not signed by an Apple CA: devices and App Store Connect will reject it",
            );
        }
        c.expiry("profile-expiry", "profile", p.expires);
        if let Some(cert) = &identity {
            if p.allows(cert) {
                c.add(
                    "profile-allows-certificate",
                    Status::Pass,
                    format!("SHA-1 {} is in the profile", cert.fingerprints().sha1),
                );
            } else {
                c.add(
                    "profile-allows-certificate",
                    Status::Fail,
                    format!(
                        "the profile does not include certificate SHA-1 {}",
                        cert.fingerprints().sha1
                    ),
                );
            }
        }
        if let Some(bundle) = &args.bundle_id {
            if p.matches_bundle_id(bundle) {
                c.add(
                    "bundle-id",
                    Status::Pass,
                    format!("{bundle} matches {}", p.application_identifier),
                );
            } else {
                c.add(
                    "bundle-id",
                    Status::Fail,
                    format!(
                        "{bundle} does not match the profile's {}",
                        p.application_identifier
                    ),
                );
            }
        }
        if let Some(dist) = args.distribution {
            let want = distribution_name(dist);
            let got = profile_kind_name(p.kind);
            if want == got {
                c.add("profile-kind", Status::Pass, format!("{got} profile"));
            } else {
                c.add(
                    "profile-kind",
                    Status::Fail,
                    format!("a {got} profile cannot be used for {want}"),
                );
            }
        }
        if let Some(team) = apple.as_ref().and_then(|a| a.team_id.as_deref()) {
            if team == p.team_id {
                c.add(
                    "team",
                    Status::Pass,
                    format!("certificate and profile belong to team {team}"),
                );
            } else {
                c.add(
                    "team",
                    Status::Fail,
                    format!("certificate is team {team}, profile is team {}", p.team_id),
                );
            }
        }
    }

    // The push key.
    if let Some(path) = &args.push_key {
        let bytes = read_file(path)?;
        p8::AuthKey::parse(&bytes).with_context(|| format!("{}", path.display()))?;
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let key_id = args
            .key_id
            .clone()
            .or_else(|| p8::key_id_from_file_name(file_name).map(str::to_owned));
        match key_id {
            Some(k) if p8::check_id("key id", &k).is_ok() => {
                c.add("push-key", Status::Pass, format!("EC P-256 key {k}"));
            }
            _ => c.add(
                "push-key",
                Status::Fail,
                "no valid key id: pass --key-id (10 characters)",
            ),
        }
        if let (Some(team), Some(p)) = (&args.team_id, &profile) {
            if *team == p.team_id {
                c.add(
                    "push-key-team",
                    Status::Pass,
                    format!("push key and profile belong to team {team}"),
                );
            } else {
                c.add(
                    "push-key-team",
                    Status::Fail,
                    format!("push key is team {team}, profile is team {}", p.team_id),
                );
            }
        }
        if let Some(p) = &profile {
            match p.entitlements.get("aps-environment").and_then(|v| v.as_str()) {
                Some(env) => c.add("aps-environment", Status::Pass, format!("aps-environment is {env}")),
                None => c.add(
                    "aps-environment",
                    Status::Fail,
                    "the profile has no aps-environment entitlement: push notifications will not work",
                ),
            }
        }
    }

    if c.0.is_empty() {
        return Err(
            UsageError("nothing to check: give --p12, --profile and/or --push-key".into()).into(),
        );
    }
    let failed = c.0.iter().any(|x| x.status == Status::Fail);
    if args.output.json {
        output::json(&serde_json::json!({ "ok": !failed, "checks": c.0 }))?;
    } else {
        let width = c.0.iter().map(|x| x.name.len()).max().unwrap_or(0);
        for x in &c.0 {
            let status = match x.status {
                Status::Pass => "pass",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            println!("{status}  {:<width$}  {}", x.name, x.detail);
        }
    }
    if failed {
        Err(crate::cmd::archive::VerificationFailed.into())
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// csr, p12

use signet_formats::{Certificate, KeyAlgorithm, Password, PrivateKey, pem};

use crate::{
    flags::{IosCsrArgs, IosP12Args},
    fsx,
};

pub fn csr(args: &IosCsrArgs) -> anyhow::Result<()> {
    fsx::check_writable(&args.key_out, args.force)?;
    fsx::check_writable(&args.csr_out, args.force)?;
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
    let request = signet_formats::generate::csr_pem(
        &key,
        &args.common_name,
        args.email.as_deref(),
        Some("US"),
    )
    .map_err(|e| UsageError(e.to_string()))?;
    // The key first: a request without its key is useless, the reverse is harmless.
    fsx::write_atomic(
        &args.key_out,
        pem::encode("PRIVATE KEY", key.pkcs8_der()).as_bytes(),
        args.force,
        true,
    )?;
    fsx::write_atomic(&args.csr_out, request.as_bytes(), args.force, false)?;
    eprintln!(
        "Wrote {} (RSA 2048, keep it secret) and {}.\nUpload the request at developer.apple.com → Certificates, \
         then run `signet ios p12 --key {} --cer <downloaded .cer> --out <identity.p12>`.",
        args.key_out.display(),
        args.csr_out.display(),
        args.key_out.display()
    );
    Ok(())
}

fn read_private_key(bytes: &[u8]) -> anyhow::Result<PrivateKey> {
    if pem::contains_label(bytes, "RSA PRIVATE KEY") || pem::contains_label(bytes, "EC PRIVATE KEY")
    {
        anyhow::bail!(
            "the key is in a traditional OpenSSL format; convert it with \
             `openssl pkcs8 -topk8 -nocrypt -in KEY -out key.p8.pem`"
        );
    }
    let der = if pem::contains_label(bytes, "PRIVATE KEY") {
        pem::decode_all(bytes, "PRIVATE KEY")?
            .into_iter()
            .next()
            .unwrap_or_default()
    } else {
        bytes.to_vec()
    };
    Ok(PrivateKey::from_pkcs8_der(&der)?)
}

fn read_certificate(bytes: &[u8]) -> anyhow::Result<Certificate> {
    let der = if pem::contains_label(bytes, "CERTIFICATE") {
        pem::decode_all(bytes, "CERTIFICATE")?
            .into_iter()
            .next()
            .unwrap_or_default()
    } else {
        bytes.to_vec()
    };
    Ok(Certificate::from_der(&der)?)
}

pub fn p12(args: &IosP12Args) -> anyhow::Result<()> {
    fsx::check_writable(&args.out, args.force)?;
    let key = read_private_key(&read_file(&args.key)?)
        .with_context(|| format!("{}", args.key.display()))?;
    let cert = read_certificate(&read_file(&args.cer)?)
        .with_context(|| format!("{}", args.cer.display()))?;
    if !key.matches(&cert)? {
        anyhow::bail!(
            "{} was not issued for the key in {}: use the key the request was made with",
            args.cer.display(),
            args.key.display()
        );
    }
    let generated = args.pass.is_none();
    let password = match &args.pass {
        Some(p) => p.resolve()?,
        None => Password::generate()?,
    };
    let alias = cert
        .info()
        .apple
        .as_ref()
        .map_or_else(|| cert.info().subject.clone(), |a| a.name.clone());
    let entry = signet_formats::KeyEntry {
        alias,
        created: None,
        key,
        chain: vec![cert],
    };
    let options = signet_formats::WriteOptions {
        kind: signet_formats::KeystoreType::Pkcs12,
        store_password: password.clone(),
        key_password: None,
        pkcs12_encryption: if args.modern {
            signet_formats::Pkcs12Encryption::Modern
        } else {
            signet_formats::Pkcs12Encryption::Legacy
        },
    };
    let bytes = signet_formats::write(std::slice::from_ref(&entry), &[], &options)?;
    fsx::write_atomic(&args.out, &bytes, args.force, true)?;
    println!("Wrote {} ({})", args.out.display(), entry.alias);
    if generated {
        println!(
            "Password: {}\nIt is shown only once: save it now.",
            password.expose()
        );
    }
    Ok(())
}
