//! `signet inspect FILE`: any supported credential file, detected by content.

use anyhow::Context;
use serde::Serialize;
use signet_formats::{Certificate, CertificateInfo, FileKind, pem};

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
    let kind = signet_formats::detect_file(&bytes).with_context(|| format!("{name}"))?;
    let ders = match kind {
        FileKind::Keystore(_) => {
            let opened = keystore::open_bytes(&bytes, &args.file, args.pass.as_ref(), None)?;
            return keystore::inspect_opened(&opened, &args.file, None, args.output.json);
        }
        FileKind::PemCertificate => {
            pem::decode_all(&bytes, "CERTIFICATE").with_context(|| format!("{name}"))?
        }
        FileKind::DerCertificate => vec![bytes],
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
