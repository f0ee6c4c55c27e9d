//! Human and JSON output.

use std::io::Write;

use serde::Serialize;
use signet_formats::{CertificateInfo, PLAY_VALIDITY_DEADLINE};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Prints `value` as pretty JSON on standard output.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    // An I/O error stays one (a closed pipe, `signet … --json | head`, is no failure).
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// A date as `2026-11-22 05:01:02 UTC`.
pub fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 3339, for JSON built by hand.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Aligned `label: value` lines, indented.
pub struct Fields {
    indent: usize,
    rows: Vec<(String, String)>,
}

impl Fields {
    pub fn new(indent: usize) -> Fields {
        Fields {
            indent,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, label: &str, value: impl Into<String>) -> &mut Fields {
        self.rows.push((label.to_owned(), value.into()));
        self
    }

    pub fn render(&self) -> String {
        let width = self.rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (label, value) in &self.rows {
            let label = format!("{label}:");
            out.push_str(&format!(
                "{:indent$}{label:<w$} {value}\n",
                "",
                indent = self.indent,
                w = width + 1
            ));
        }
        out
    }
}

/// Human lines for one certificate.
pub fn certificate_fields(info: &CertificateInfo, indent: usize) -> String {
    let mut f = Fields::new(indent);
    f.add("Owner", &info.subject)
        .add("Issuer", &info.issuer)
        .add("Serial number", &info.serial)
        .add("Valid from", date(info.not_before))
        .add("Valid until", date(info.not_after))
        .add("Signature algorithm", &info.signature_algorithm)
        .add("Public key", info.key_description())
        .add("MD5", &info.fingerprints.md5)
        .add("SHA1", &info.fingerprints.sha1)
        .add("SHA256", &info.fingerprints.sha256)
        .add("Base64 SHA1 (key hash)", &info.fingerprints.base64_sha1);
    if let Some(apple) = &info.apple {
        let kind = match apple.kind {
            signet_formats::apple::AppleCertificateKind::Distribution => "distribution",
            signet_formats::apple::AppleCertificateKind::Development => "development",
            signet_formats::apple::AppleCertificateKind::DeveloperId => "Developer ID",
            signet_formats::apple::AppleCertificateKind::Other => "other",
        };
        f.add("Apple certificate", kind);
        f.add(
            "Apple team id",
            apple.team_id.as_deref().unwrap_or("(none)"),
        );
    }
    f.render()
}

/// Warnings about a signing certificate: the debug key, Google Play's validity rule, expiry.
pub fn signing_certificate_warnings(info: &CertificateInfo, now: OffsetDateTime) -> Vec<String> {
    let mut w = Vec::new();
    if info.is_debug {
        w.push(
            "this is the Android debug certificate: Google Play rejects apps signed with it \
             (\"Market does not accept apks signed with the debug certificate\")"
                .to_owned(),
        );
    }
    if info.is_expired_at(now) {
        w.push(format!("certificate expired on {}", date(info.not_after)));
    } else if now < info.not_before {
        w.push(format!(
            "certificate is not valid until {}",
            date(info.not_before)
        ));
    }
    if info.expires_before_play_deadline() {
        w.push(format!(
            "certificate expires on {}, before {}: Google Play requires keys valid until then",
            date(info.not_after),
            PLAY_VALIDITY_DEADLINE.date()
        ));
    }
    w
}

/// A time in milliseconds since the epoch as `2026-11-22 05:01:02 UTC`.
pub fn date_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_or_else(|_| ms.to_string(), date)
}
