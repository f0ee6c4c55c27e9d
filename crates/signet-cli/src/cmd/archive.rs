//! `signet apk sign|verify|lineage` and `signet aab sign|verify`.

use std::{io::BufWriter, path::Path};

use anyhow::{Context, bail};
use signet_sign::apk::{
    self, ArchiveKind, SignOptions,
    lineage::{self, Lineage},
};

use signet_client::SignBuild;
use signet_sign::SigningKey;

use crate::{
    UsageError,
    flags::{ApkLineageArgs, ApkRotateArgs, ArchiveSignArgs, ArchiveVerifyArgs},
    output, output_file,
    remote::{Remote, signer::RemoteKey},
    secret_arg::{SecretArg, resolve_or_prompt},
};

/// Verification found problems (exit code 3).
#[derive(Debug)]
pub struct VerificationFailed;

impl std::fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("verification failed")
    }
}

impl std::error::Error for VerificationFailed {}

pub fn sign(args: &ArchiveSignArgs, kind: ArchiveKind) -> anyhow::Result<()> {
    let v4 = args.v4_signing_enabled == Some(true);
    if v4 && kind == ArchiveKind::Aab {
        bail!(UsageError(
            "an AAB is signed with JAR signing (v1) only".into()
        ));
    }
    let idsig_path = {
        let mut p = args.out.clone().into_os_string();
        p.push(".idsig");
        std::path::PathBuf::from(p)
    };
    if v4 {
        output_file::check_writable(&idsig_path, args.force)?;
    }
    if args.out != args.input {
        output_file::check_writable(&args.out, args.force)?;
    }
    if args.lineage.is_some() && kind == ArchiveKind::Aab {
        bail!(UsageError(
            "an AAB is signed with JAR signing (v1) only: --lineage is for APKs".into()
        ));
    }
    if let Some(app) = &args.held.app {
        return sign_held(args, kind, app, &idsig_path);
    }
    let Some(ks) = &args.ks else {
        bail!(UsageError(
            "pass --ks FILE, or --app APP to sign with a key the server holds".into()
        ));
    };
    let key = load_key(&KeyFlags {
        ks,
        ks_pass: args.ks_pass.as_ref(),
        alias: args.ks_key_alias.as_deref(),
        key_pass: args.key_pass.as_ref(),
        prefix: "",
    })?;
    let lineage_and_old = match (&args.lineage, &args.old.old_ks) {
        (Some(path), Some(old_ks)) => {
            let lineage = read_lineage(path)?;
            let old = load_key(&KeyFlags {
                ks: old_ks,
                ks_pass: args.old.old_ks_pass.as_ref(),
                alias: args.old.old_ks_key_alias.as_deref(),
                key_pass: args.old.old_key_pass.as_ref(),
                prefix: "old-",
            })?;
            Some((lineage, old))
        }
        (None, Some(_)) => bail!(UsageError(
            "--old-ks signs v1 and v2 after a key rotation: pass --lineage too".into()
        )),
        _ => None,
    };
    let rotation = lineage_and_old
        .as_ref()
        .map(|(lineage, old)| {
            apk::Rotation::new(lineage, old, &key).with_context(|| {
                format!(
                    "{} with --ks {} and --old-ks {}",
                    args.lineage.as_deref().unwrap_or(Path::new("")).display(),
                    ks.display(),
                    args.old
                        .old_ks
                        .as_deref()
                        .unwrap_or(Path::new(""))
                        .display()
                )
            })
        })
        .transpose()?;
    // The JAR signature files are named after the key that writes them.
    let v1_alias = lineage_and_old
        .as_ref()
        .map_or(&key.alias, |(_, old)| &old.alias);
    let report = sign_into_out(args, kind, &key, rotation.as_ref(), v1_alias, &idsig_path)?;
    print_signed(args, kind, &report, &format!("`{}`", key.alias))
}

/// Signs with the key of a build set held by the server: every digest is computed here,
/// the server signs the few to-be-signed messages (two round trips for v1 + v2/v3).
fn sign_held(
    args: &ArchiveSignArgs,
    kind: ArchiveKind,
    app: &str,
    idsig_path: &Path,
) -> anyhow::Result<()> {
    if args.v4_signing_enabled == Some(true) {
        bail!(UsageError(
            "--v4-signing-enabled with --app: APK Signature Scheme v4 is not signed with a \
             server-held key yet; sign v4 with a local --ks"
                .into()
        ));
    }
    let remote = Remote::connect(&args.held.remote)?;
    let application_id = match &args.held.application_id {
        Some(id) => id.clone(),
        None => only_application_id(&remote, app)?,
    };
    let artifact = match kind {
        ArchiveKind::Apk => "apk",
        ArchiveKind::Aab => "aab",
    };
    let key = RemoteKey::connect(
        &remote,
        app,
        artifact,
        SignBuild::Android {
            application_id: application_id.clone(),
            name: args.held.name.clone(),
        },
    )?;
    // The .SF/.RSA files are named after the keystore's alias, as apksigner names them.
    let v1_alias = key.alias.clone().unwrap_or_else(|| "CERT".into());
    let report =
        sign_into_out(args, kind, &key, None, &v1_alias, idsig_path).map_err(|e| {
            match key.take_failure() {
                Some(client) => {
                    anyhow::Error::new(client).context(args.input.display().to_string())
                }
                None => e,
            }
        })?;
    let who = format!(
        "the key of {app} / {application_id} held by the server (certificate SHA-256 {})",
        key.key_sha256
    );
    print_signed(args, kind, &report, &who)
}

/// The app's only application id with a build set; refuses when there are none or several.
fn only_application_id(remote: &Remote, app: &str) -> anyhow::Result<String> {
    let details = remote.block_on(remote.client.app(&remote.org, app))?;
    let mut ids: Vec<&str> = details
        .build_sets
        .iter()
        .map(|s| s.application_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => bail!(
            "app {app} has no Android build set to sign with: create one with `signet \
             credentials android build-set create NAME --app {app} --application-id ID --generate`"
        ),
        several => bail!(UsageError(format!(
            "app {app} has build sets for several application ids ({}): pass --application-id",
            several.join(", ")
        ))),
    }
}

/// Signs `args.input` into a temporary file beside `--out`, writes `<out>.idsig` when v4
/// is asked for, and renames both into place: a failure leaves neither.
fn sign_into_out(
    args: &ArchiveSignArgs,
    kind: ArchiveKind,
    key: &dyn SigningKey,
    rotation: Option<&apk::Rotation<'_>>,
    v1_alias: &str,
    idsig_path: &Path,
) -> anyhow::Result<apk::SignReport> {
    let v4 = args.v4_signing_enabled == Some(true);
    let options = SignOptions {
        kind,
        min_sdk: args.min_sdk_version,
        v1: args.v1_signing_enabled,
        v2: args.v2_signing_enabled,
        v3: args.v3_signing_enabled,
        v1_basename: apk::v1::basename_for_alias(v1_alias),
        allow_debug_key: args.allow_debug_key,
    };
    let tmp = output_file::temp_beside(&args.out)?;
    let report = {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        let name = args.input.display();
        apk::sign_rotated(&args.input, &mut w, key, rotation, &options)
            .with_context(|| format!("{name}"))?
    };
    // No fsync: the rename still makes the output appear whole or not at all to readers,
    // and an APK, unlike a keystore, can be rebuilt after a crash (cp and apksigner do not
    // sync either; syncing 200 MB costs more than signing it).
    let idsig = if v4 {
        let (alg, digest) = report.content_digest.clone().ok_or_else(|| {
            UsageError("v4 signs over the v2/v3 digest: enable --v2-signing-enabled or --v3-signing-enabled".into())
        })?;
        let mut f = std::fs::File::open(tmp.path())?;
        let len = f.metadata()?.len();
        let idsig = apk::v4::sign(&mut std::io::BufReader::new(&mut f), len, key, alg, &digest)?;
        // Written before the APK is renamed into place, so a failure leaves neither.
        Some(output_file::prepare(idsig_path, &idsig, false)?)
    } else {
        None
    };
    output_file::set_mode(tmp.path(), 0o644)?;
    output_file::persist(tmp, &args.out, args.force || args.out == args.input)?;
    if let Some(idsig) = idsig {
        output_file::persist(idsig, idsig_path, true)?;
    }
    Ok(report)
}

/// What `sign` prints: the report as JSON, or one line on stderr.
fn print_signed(
    args: &ArchiveSignArgs,
    kind: ArchiveKind,
    report: &apk::SignReport,
    with: &str,
) -> anyhow::Result<()> {
    if args.output.json {
        return output::json(report);
    }
    let v4 = args.v4_signing_enabled == Some(true);
    let schemes: Vec<&str> = [
        (report.v1, "v1"),
        (report.v2, "v2"),
        (report.v3, "v3"),
        (v4, "v4"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| *n)
    .collect();
    if kind == ArchiveKind::Aab {
        // A bundle has no min SDK of its own here and only a JAR signature.
        eprintln!(
            "Signed {} (JAR signature, as jarsigner) with {with}",
            args.out.display(),
        );
    } else {
        eprintln!(
            "Signed {} ({}; min SDK {}) with {with}",
            args.out.display(),
            schemes.join(", "),
            report.min_sdk,
        );
    }
    Ok(())
}

/// The flags that name one key: its keystore, passwords and alias (`--ks …`, or with a
/// prefix, `--old-ks …`).
struct KeyFlags<'a> {
    ks: &'a Path,
    ks_pass: Option<&'a SecretArg>,
    alias: Option<&'a str>,
    key_pass: Option<&'a SecretArg>,
    /// `""`, `"old-"` or `"new-"`.
    prefix: &'a str,
}

/// Opens the keystore and unlocks the key the flags name.
fn load_key(flags: &KeyFlags<'_>) -> anyhow::Result<signet_formats::KeyEntry> {
    let p = flags.prefix;
    let bytes = crate::cmd::keystore::read_file(flags.ks)?;
    let ks_name = flags.ks.display();
    signet_formats::detect(&bytes).with_context(|| format!("{ks_name}"))?;
    let prompt = match p {
        "old-" => "Old keystore password: ",
        "new-" => "New keystore password: ",
        _ => "Keystore password: ",
    };
    let store_pass = resolve_or_prompt(flags.ks_pass, Some(prompt))?;
    let key_pass = flags.key_pass.map(SecretArg::resolve).transpose()?;
    let store = signet_formats::Keystore::open(&bytes, store_pass.as_ref())
        .with_context(|| format!("{ks_name}"))?;
    let key_password = key_pass.as_ref().or(store_pass.as_ref()).ok_or_else(|| {
        UsageError(format!(
            "pass --{p}ks-pass (and --{p}key-pass if the key has its own)"
        ))
    })?;
    store
        .unlock(flags.alias, key_password)
        .with_context(|| format!("{ks_name}"))
}

pub fn rotate(args: &ApkRotateArgs) -> anyhow::Result<()> {
    let old_ks = args.old.old_ks.as_deref().ok_or_else(|| {
        UsageError("pass --old-ks: the keystore of the key to rotate from".into())
    })?;
    output_file::check_writable(&args.out, args.force)?;
    let old = load_key(&KeyFlags {
        ks: old_ks,
        ks_pass: args.old.old_ks_pass.as_ref(),
        alias: args.old.old_ks_key_alias.as_deref(),
        key_pass: args.old.old_key_pass.as_ref(),
        prefix: "old-",
    })?;
    let new = load_key(&KeyFlags {
        ks: &args.new.new_ks,
        ks_pass: args.new.new_ks_pass.as_ref(),
        alias: args.new.new_ks_key_alias.as_deref(),
        key_pass: args.new.new_key_pass.as_ref(),
        prefix: "new-",
    })?;
    let lineage = match &args.input {
        Some(path) => read_lineage(path)?
            .extend(&old, &new)
            .with_context(|| format!("{} with --old-ks {}", path.display(), old_ks.display()))?,
        None => Lineage::rotate(&old, &new)?,
    };
    output_file::write_atomic(&args.out, &lineage.to_file(), args.force, false)?;
    eprintln!(
        "Wrote {}: a signing certificate lineage of {} certificates, from `{}` in {} to `{}` in {}",
        args.out.display(),
        lineage.nodes.len(),
        old.alias,
        old_ks.display(),
        new.alias,
        args.new.new_ks.display()
    );
    Ok(())
}

#[derive(serde::Serialize)]
struct VerifyJson<'a> {
    #[serde(flatten)]
    report: &'a apk::VerifyReport,
    signers: Vec<&'a signet_formats::CertificateInfo>,
    /// The v3 signer's lineage, oldest first, when its key rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    lineage: Option<Vec<LineageJson<'a>>>,
}

/// Reads a `.idsig`, refusing one larger than any v4 signature of `apk` can be (its Merkle
/// tree is 1/128 of the APK; the rest is a few kilobytes) before reading it into memory.
fn read_idsig(path: &std::path::Path, apk: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let size = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .with_context(|| format!("{}", p.display()))
    };
    let limit = size(apk)? / 64 + (1 << 20);
    let len = size(path)?;
    if len > limit {
        bail!(
            "{}: {len} bytes, too large to be a v4 signature of {} (at most {limit})",
            path.display(),
            apk.display()
        );
    }
    std::fs::read(path).with_context(|| format!("{}", path.display()))
}

pub fn verify(args: &ArchiveVerifyArgs, kind: ArchiveKind) -> anyhow::Result<()> {
    let name = args.input.display();
    if kind == ArchiveKind::Aab && args.v4_signature_file.is_some() {
        bail!(UsageError(
            "an AAB has no v4 signature: --v4-signature-file is for APKs".into()
        ));
    }
    let idsig = args
        .v4_signature_file
        .as_ref()
        .map(|p| read_idsig(p, &args.input))
        .transpose()?;
    let report = apk::verify_with(
        &args.input,
        &apk::VerifyOptions {
            kind,
            min_sdk: args.min_sdk_version,
            v4_signature: idsig.as_deref(),
        },
    )
    .with_context(|| format!("{name}"))?;
    if args.output.json {
        output::json(&VerifyJson {
            report: &report,
            signers: report
                .signers
                .iter()
                .map(signet_formats::Certificate::info)
                .collect(),
            lineage: report.lineage.as_ref().map(lineage_json),
        })?;
    } else {
        print!("{}", render(&report, kind, args.verbose, args.print_certs));
    }
    if report.verified {
        Ok(())
    } else {
        Err(VerificationFailed.into())
    }
}

/// Output in `apksigner verify -v --print-certs` form.
fn render(
    report: &apk::VerifyReport,
    kind: ArchiveKind,
    verbose: bool,
    print_certs: bool,
) -> String {
    let mut out = String::new();
    if report.verified {
        out.push_str("Verifies\n");
    } else {
        out.push_str("DOES NOT VERIFY\n");
    }
    if verbose {
        out.push_str(&format!(
            "Verified using v1 scheme (JAR signing): {}\n",
            report.v1
        ));
        if kind == ArchiveKind::Apk {
            out.push_str(&format!(
                "Verified using v2 scheme (APK Signature Scheme v2): {}\n",
                report.v2
            ));
            out.push_str(&format!(
                "Verified using v3 scheme (APK Signature Scheme v3): {}\n",
                report.v3
            ));
            out.push_str(&format!(
                "Verified using v4 scheme (APK Signature Scheme v4): {}\n",
                report.v4
            ));
            out.push_str("Verified for SourceStamp: false\n");
        }
        out.push_str(&format!("Number of signers: {}\n", report.signers.len()));
    }
    if print_certs {
        for (i, c) in report.signers.iter().enumerate() {
            certificate_lines(&mut out, &format!("Signer #{}", i + 1), c, verbose);
        }
    }
    for e in &report.errors {
        out.push_str(&format!("ERROR: {e}\n"));
    }
    out
}

/// apksigner's lines for one certificate: its DN and digests, and in verbose mode its key.
fn certificate_lines(
    out: &mut String,
    label: &str,
    c: &signet_formats::Certificate,
    verbose: bool,
) {
    let info = c.info();
    let hex = |s: &str| s.replace(':', "").to_ascii_lowercase();
    out.push_str(&format!("{label} certificate DN: {}\n", info.subject));
    out.push_str(&format!(
        "{label} certificate SHA-256 digest: {}\n",
        hex(&info.fingerprints.sha256)
    ));
    out.push_str(&format!(
        "{label} certificate SHA-1 digest: {}\n",
        hex(&info.fingerprints.sha1)
    ));
    out.push_str(&format!(
        "{label} certificate MD5 digest: {}\n",
        hex(&info.fingerprints.md5)
    ));
    // apksigner shows the key only in verbose mode.
    if verbose {
        out.push_str(&format!("{label} key algorithm: {}\n", info.key_algorithm));
        out.push_str(&format!("{label} key size (bits): {}\n", info.key_size));
        let key = signet_formats::fingerprints(c.subject_public_key_info());
        out.push_str(&format!(
            "{label} public key SHA-256 digest: {}\n",
            hex(&key.sha256)
        ));
        out.push_str(&format!(
            "{label} public key SHA-1 digest: {}\n",
            hex(&key.sha1)
        ));
        out.push_str(&format!(
            "{label} public key MD5 digest: {}\n",
            hex(&key.md5)
        ));
    }
}

/// Reads a lineage from a lineage file, or from the verified v3 signature of an APK.
fn read_lineage(path: &Path) -> anyhow::Result<Lineage> {
    let name = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("{name}"))?;
    if bytes.starts_with(&lineage::MAGIC.to_le_bytes()) {
        return Lineage::from_file(&bytes).with_context(|| format!("{name}"));
    }
    if !bytes.starts_with(b"PK") {
        bail!("{name}: neither a signing certificate lineage nor an APK");
    }
    let report = apk::verify(path, ArchiveKind::Apk, None).with_context(|| format!("{name}"))?;
    if !report.verified {
        let first = report
            .errors
            .first()
            .map_or_else(String::new, |e| format!(": {e}"));
        bail!("{name}: the APK does not verify, so its lineage cannot be trusted{first}");
    }
    report.lineage.with_context(|| {
        format!("{name}: the APK's v3 signature carries no signing certificate lineage (its key was never rotated)")
    })
}

/// A lineage's certificates and capabilities, in `apksigner lineage --print-certs` form.
fn render_lineage(lineage: &Lineage, verbose: bool) -> String {
    let mut out = String::new();
    for (i, node) in lineage.nodes.iter().enumerate() {
        certificate_lines(
            &mut out,
            &format!("Signer #{} in lineage", i + 1),
            &node.certificate,
            verbose,
        );
        let caps = Capabilities::of(node.flags);
        out.push_str(&format!(
            "Has installed data capability: {}\n",
            caps.installed_data
        ));
        out.push_str(&format!(
            "Has shared UID capability    : {}\n",
            caps.shared_uid
        ));
        out.push_str(&format!(
            "Has permission capability    : {}\n",
            caps.permission
        ));
        out.push_str(&format!(
            "Has rollback capability      : {}\n",
            caps.rollback
        ));
        out.push_str(&format!("Has auth capability          : {}\n", caps.auth));
    }
    out
}

/// What a past certificate may still do (apksigner's `PAST_CERT_*` flags).
#[derive(serde::Serialize)]
struct Capabilities {
    installed_data: bool,
    shared_uid: bool,
    permission: bool,
    rollback: bool,
    auth: bool,
}

impl Capabilities {
    fn of(flags: u32) -> Capabilities {
        Capabilities {
            installed_data: flags & 1 != 0,
            shared_uid: flags & 2 != 0,
            permission: flags & 4 != 0,
            rollback: flags & 8 != 0,
            auth: flags & 16 != 0,
        }
    }
}

#[derive(serde::Serialize)]
struct LineageJson<'a> {
    #[serde(flatten)]
    certificate: &'a signet_formats::CertificateInfo,
    capabilities: Capabilities,
}

fn lineage_json(lineage: &Lineage) -> Vec<LineageJson<'_>> {
    lineage
        .nodes
        .iter()
        .map(|n| LineageJson {
            certificate: n.certificate.info(),
            capabilities: Capabilities::of(n.flags),
        })
        .collect()
}

pub fn lineage(args: &ApkLineageArgs) -> anyhow::Result<()> {
    let lineage = read_lineage(&args.input)?;
    if args.output.json {
        return output::json(&lineage_json(&lineage));
    }
    print!("{}", render_lineage(&lineage, args.verbose));
    Ok(())
}
