//! `signet inspect FILE`: any supported credential file, detected by content.

use anyhow::Context;
use serde::Serialize;
use signet_formats::{
    Certificate, CertificateInfo, FileKind,
    apple::mobileprovision::{Profile, ProfileKind},
    pem,
};

use crate::{cmd::keystore, flags::InspectArgs, output};

#[derive(Serialize)]
struct CertificatesReport {
    file: String,
    kind: FileKind,
    certificates: Vec<CertificateInfo>,
    warnings: Vec<String>,
}

pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let bytes = keystore::read_file(&args.file)?;
    let name = args.file.display();
    let kind = match signet_formats::detect_file(&bytes) {
        Ok(kind) => kind,
        // Content decides what a file is; when it fits nothing, the extension says what
        // the user expected, and that type's own reader says what is wrong.
        Err(e) => match extension_kind(&args.file) {
            Some(kind) => kind,
            None => return Err(e).with_context(|| format!("{name}")),
        },
    };
    let ders = match kind {
        FileKind::Keystore(_) => {
            let opened = keystore::open_bytes(&bytes, &args.file, args.pass.as_ref(), None)?;
            return keystore::inspect_opened(&opened, &args.file, None, args.output.json);
        }
        FileKind::PemCertificate => {
            pem::decode_all(&bytes, "CERTIFICATE").with_context(|| format!("{name}"))?
        }
        FileKind::DerCertificate => vec![bytes],
        FileKind::ProvisioningProfile => return profile(&bytes, &args.file, args.output.json),
        FileKind::PrivateKey => return private_key(&bytes, &args.file, args.output.json),
        FileKind::Ipa => return ipa(&args.file, args.output.json),
    };
    let certificates = ders
        .iter()
        .map(|d| Certificate::from_der(d).map(|c| c.info().clone()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{name}"))?;
    let now = time::OffsetDateTime::now_utc();
    // The first certificate is the one that signs (a leaf, then its chain).
    let warnings = certificates
        .first()
        .map(|c| output::signing_certificate_warnings(c, now))
        .unwrap_or_default();
    let report = CertificatesReport {
        file: name.to_string(),
        kind,
        certificates,
        warnings,
    };
    if args.output.json {
        return output::json(&report);
    }
    let label = match kind {
        FileKind::PemCertificate => "PEM",
        _ => "DER",
    };
    println!(
        "{}: X.509 certificate ({label}), {} in file",
        report.file,
        report.certificates.len()
    );
    let now = time::OffsetDateTime::now_utc();
    for (i, c) in report.certificates.iter().enumerate() {
        println!("\nCertificate[{}]:", i + 1);
        print!("{}", output::certificate_fields(c, 2));
        if c.is_expired_at(now) {
            println!(
                "warning: certificate expired on {}",
                output::date(c.not_after)
            );
        }
    }
    Ok(())
}

fn profile(bytes: &[u8], path: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let p = Profile::parse(bytes).with_context(|| format!("{}", path.display()))?;
    let now = time::OffsetDateTime::now_utc();
    let mut warnings = Vec::new();
    if !p.signature_valid {
        warnings.push(
            "the profile's signature does not verify: it was modified after signing".to_owned(),
        );
    } else if !p.apple_signed {
        warnings.push(
            "the profile is not signed by Apple (its signer does not chain to an Apple root CA)"
                .to_owned(),
        );
    }
    if p.expires < now {
        warnings.push(format!(
            "the profile expired on {}",
            output::date(p.expires)
        ));
    } else if p.expires - now < time::Duration::days(30) {
        warnings.push(format!(
            "the profile expires on {}, within 30 days",
            output::date(p.expires)
        ));
    }
    if json {
        #[derive(Serialize)]
        struct ProfileJson<'a> {
            file: String,
            kind: FileKind,
            profile: &'a Profile,
            warnings: &'a [String],
        }
        return output::json(&ProfileJson {
            file: path.display().to_string(),
            kind: FileKind::ProvisioningProfile,
            profile: &p,
            warnings: &warnings,
        });
    }
    let kind = match p.kind {
        ProfileKind::AppStore => "app-store",
        ProfileKind::AdHoc => "ad-hoc",
        ProfileKind::Enterprise => "enterprise",
        ProfileKind::Development => "development",
    };
    let mut f = output::Fields::new(0);
    f.add("Provisioning profile", path.display().to_string())
        .add("Name", &p.name)
        .add("UUID", &p.uuid)
        .add("Kind", kind)
        .add("Team", format!("{} ({})", p.team_name, p.team_id))
        .add("App id", &p.application_identifier)
        .add("Bundle id", &p.bundle_id)
        .add("Created", output::date(p.created))
        .add("Expires", output::date(p.expires))
        .add(
            "Devices",
            if p.provisions_all_devices {
                "all (enterprise)".to_owned()
            } else {
                p.devices.len().to_string()
            },
        )
        .add(
            "Signature",
            if p.signature_valid {
                "valid"
            } else {
                "INVALID"
            },
        )
        .add("Signed by Apple", if p.apple_signed { "yes" } else { "no" });
    print!("{}", f.render());
    println!("Certificates allowed to sign:");
    for c in &p.certificates {
        println!("  {}  SHA1 {}", c.subject, c.sha1);
    }
    println!("Entitlements:");
    if let Some(map) = p.entitlements.as_object() {
        for (k, v) in map {
            println!("  {k}: {v}");
        }
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(())
}

fn private_key(bytes: &[u8], path: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let name = path.display();
    // Parsing validates it: a PKCS#8 EC P-256 key.
    signet_formats::apple::p8::AuthKey::parse(bytes).with_context(|| format!("{name}"))?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let key_id = signet_formats::apple::p8::key_id_from_file_name(file_name);
    if json {
        return output::json(&serde_json::json!({
            "file": name.to_string(),
            "kind": "private-key",
            "key_algorithm": "EC",
            "key_curve": "secp256r1",
            "apple_key_id": key_id,
        }));
    }
    let mut f = output::Fields::new(0);
    f.add("Key file", name.to_string())
        .add(
            "Key",
            "EC P-256 (PKCS#8): an APNs or App Store Connect API key",
        )
        .add(
            "Key id",
            key_id.unwrap_or("(not in the file name; Apple names it AuthKey_<KEYID>.p8)"),
        );
    print!("{}", f.render());
    Ok(())
}

/// The type a file's extension names, for files whose content fits no type.
fn extension_kind(path: &std::path::Path) -> Option<FileKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "mobileprovision" | "provisionprofile" => Some(FileKind::ProvisioningProfile),
        "ipa" => Some(FileKind::Ipa),
        _ => None,
    }
}

fn ipa(path: &std::path::Path, json: bool) -> anyhow::Result<()> {
    // Inspecting an IPA is verifying it; problems are reported, not an error.
    let report = signet_sign::ipa::verify(path).with_context(|| format!("{}", path.display()))?;
    if json {
        return output::json(
            &serde_json::json!({ "file": path.display().to_string(), "kind": "ipa", "ipa": report }),
        );
    }
    let mut f = output::Fields::new(0);
    f.add("IPA", path.display().to_string())
        .add("Bundle id", report.bundle_id.clone().unwrap_or_default())
        .add(
            "Signer",
            report.signer.clone().unwrap_or_else(|| "(none)".into()),
        )
        .add("Bundles", report.bundles.join(", "))
        .add(
            "Signature",
            if report.verified { "valid" } else { "INVALID" },
        );
    print!("{}", f.render());
    for e in &report.errors {
        println!("warning: {e}");
    }
    Ok(())
}
