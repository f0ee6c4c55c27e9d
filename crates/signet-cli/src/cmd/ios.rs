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
    let (Some(push_key), Some(team_id)) = (&args.push_key, &args.team_id) else {
        return remote_apns_token(args);
    };
    let file_name = push_key
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
    let bytes = read_file(push_key)?;
    let key = p8::AuthKey::parse(&bytes).with_context(|| format!("{}", push_key.display()))?;
    let iat = args
        .iat
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let token = key
        .provider_token(&key_id, team_id, iat)
        .map_err(|e| UsageError(e.to_string()))?;
    if args.output.json {
        return output::json(&TokenJson {
            token: &token,
            key_id: &key_id,
            team_id,
            issued_at: iat,
            expires_at: iat + 3600,
        });
    }
    println!("{token}");
    Ok(())
}

/// `signet ios apns-token --app A [--bundle-id B] [--fresh]`: the token minted on the
/// server with the app's push key. The token is the output (stdout); what it was minted
/// with goes to standard error.
fn remote_apns_token(args: &ApnsTokenArgs) -> anyhow::Result<()> {
    let Some(app) = &args.app else {
        anyhow::bail!(UsageError(
            "give --push-key FILE --team-id T, or --app APP".into()
        ));
    };
    let remote = crate::remote::Remote::connect(&args.remote)?;
    let t = remote.block_on(remote.client.apns_token(
        &remote.org,
        app,
        args.bundle_id.as_deref(),
        args.fresh,
    ))?;
    if args.output.json {
        return output::json(&t);
    }
    println!("{}", t.token.expose());
    eprintln!(
        "{} token of push key {} (key id {}, team {}) for {}, issued {}, valid until {}.",
        if t.cached { "Cached" } else { "New" },
        t.push_key_id,
        t.key_id,
        t.team_id,
        t.bundle_id,
        output::date_ms(t.issued_at.saturating_mul(1000)),
        output::date_ms(t.expires_at.saturating_mul(1000)),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// check

use signet_formats::{
    Keystore,
    apple::{
        check::{self, Distribution, Status},
        mobileprovision::Profile,
    },
};

use crate::flags::{DistributionArg, IosCheckArgs};

pub(crate) fn distribution(d: DistributionArg) -> Distribution {
    match d {
        DistributionArg::AppStore => Distribution::AppStore,
        DistributionArg::AdHoc => Distribution::AdHoc,
        DistributionArg::Enterprise => Distribution::Enterprise,
        DistributionArg::Development => Distribution::Development,
    }
}

/// Opens a .p12 identity and returns its key entry (key matched to the certificate).
pub(crate) fn open_identity(
    path: &std::path::Path,
    pass: Option<&crate::secret_arg::SecretArg>,
) -> anyhow::Result<signet_formats::KeyEntry> {
    let bytes = read_file(path)?;
    let pass = crate::secret_arg::resolve_or_prompt(pass, Some(".p12 password: "))?;
    let pass = pass.ok_or_else(|| {
        UsageError(
            "give the .p12 password with --p12-pass as pass:VALUE, env:VAR, file:PATH or stdin"
                .into(),
        )
    })?;
    let store =
        Keystore::open(&bytes, Some(&pass)).with_context(|| format!("{}", path.display()))?;
    store
        .unlock(None, &pass)
        .with_context(|| format!("{}", path.display()))
}

pub fn check(args: &IosCheckArgs) -> anyhow::Result<()> {
    let identity = match &args.p12 {
        Some(path) => Some(open_identity(path, args.p12_pass.as_ref())?),
        None => None,
    };
    let cert = match &identity {
        Some(id) => Some(
            id.chain
                .first()
                .ok_or_else(|| anyhow::anyhow!("the .p12 holds no certificate"))?,
        ),
        None => None,
    };
    let profile = match &args.profile {
        Some(path) => {
            Some(Profile::parse(&read_file(path)?).with_context(|| format!("{}", path.display()))?)
        }
        None => None,
    };
    let key_id = match &args.push_key {
        Some(path) => {
            p8::AuthKey::parse(&read_file(path)?).with_context(|| format!("{}", path.display()))?;
            let file_name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            Some(
                args.key_id
                    .clone()
                    .or_else(|| p8::key_id_from_file_name(file_name).map(str::to_owned)),
            )
        }
        None => None,
    };
    let inputs = check::Inputs {
        identity: cert,
        profile: profile.as_ref(),
        bundle_id: args.bundle_id.as_deref(),
        distribution: args.distribution.map(distribution),
        push_key: key_id.as_ref().map(|k| check::PushKey {
            key_id: k.as_deref(),
            team_id: args.team_id.as_deref(),
        }),
    };
    let findings = check::run(&inputs, time::OffsetDateTime::now_utc());
    if findings.is_empty() {
        return Err(
            UsageError("nothing to check: give --p12, --profile and/or --push-key".into()).into(),
        );
    }
    let failed = findings.iter().any(|x| x.status == Status::Fail);
    if args.output.json {
        output::json(&serde_json::json!({ "ok": !failed, "checks": findings }))?;
    } else {
        print!("{}", render_findings(&findings));
    }
    if failed {
        Err(crate::cmd::archive::VerificationFailed.into())
    } else {
        Ok(())
    }
}

/// One line per check: `pass|warn|FAIL  name  detail`.
pub(crate) fn render_findings(findings: &[check::Finding]) -> String {
    let width = findings.iter().map(|x| x.check.len()).max().unwrap_or(0);
    let mut out = String::new();
    for x in findings {
        let status = match x.status {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        out.push_str(&format!("{status}  {:<width$}  {}\n", x.check, x.detail));
    }
    out
}

// ---------------------------------------------------------------------------------------
// csr, p12

use signet_formats::{
    KeyAlgorithm, Password, PrivateKey,
    apple::{identity_p12, read_certificate, read_private_key},
    pem,
};

use crate::{
    flags::{IosCsrArgs, IosP12Args},
    output_file,
};

pub fn csr(args: &IosCsrArgs) -> anyhow::Result<()> {
    output_file::check_writable(&args.key_out, args.force)?;
    output_file::check_writable(&args.csr_out, args.force)?;
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048)?;
    let request = signet_formats::generate::csr_pem(
        &key,
        &args.common_name,
        args.email.as_deref(),
        Some("US"),
    )
    .map_err(|e| UsageError(e.to_string()))?;
    // The key first: a request without its key is useless, the reverse is harmless.
    output_file::write_atomic(
        &args.key_out,
        pem::encode("PRIVATE KEY", key.pkcs8_der()).as_bytes(),
        args.force,
        true,
    )?;
    output_file::write_atomic(&args.csr_out, request.as_bytes(), args.force, false)?;
    eprintln!(
        "Wrote {} (RSA 2048, keep it secret) and {}.\nUpload the request at developer.apple.com → Certificates, \
         then run `signet ios p12 --key {} --cer <downloaded .cer> --out <identity.p12>`.",
        args.key_out.display(),
        args.csr_out.display(),
        args.key_out.display()
    );
    Ok(())
}

pub fn p12(args: &IosP12Args) -> anyhow::Result<()> {
    output_file::check_writable(&args.out, args.force)?;
    let key = read_private_key(&read_file(&args.key)?)
        .with_context(|| format!("{}", args.key.display()))?;
    let cert = read_certificate(&read_file(&args.cer)?)
        .with_context(|| format!("{}", args.cer.display()))?;
    let generated = args.pass.is_none();
    let password = match &args.pass {
        Some(p) => p.resolve()?,
        None => Password::generate()?,
    };
    let encryption = if args.modern {
        signet_formats::Pkcs12Encryption::Modern
    } else {
        signet_formats::Pkcs12Encryption::Legacy
    };
    let name = cert
        .info()
        .apple
        .as_ref()
        .map_or_else(|| cert.info().subject.clone(), |a| a.name.clone());
    let bytes = identity_p12(key, cert, &password, encryption)
        .with_context(|| format!("{} and {}", args.cer.display(), args.key.display()))?;
    output_file::write_atomic(&args.out, &bytes, args.force, true)?;
    println!("Wrote {} ({name})", args.out.display());
    if generated {
        println!(
            "Password: {}\nIt is shown only once: save it now.",
            password.expose()
        );
    }
    Ok(())
}
