//! PEM (RFC 7468) encoding and decoding, in the exact form keytool writes.

use base64::Engine as _;

use crate::{FormatError, Result};

/// Encodes `der` under `label` in RFC 7468's strict form: 64-character lines, `\n` line
/// ends (what OpenSSL writes).
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Encodes a certificate exactly as `keytool -exportcert -rfc` does: Java's MIME base64
/// encoder joins the 64-character lines with `\r\n`, and keytool ends the last line and
/// the footer with `\n`.
pub fn encode_keytool_rfc(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\r\n")
    )
}

/// Whether the bytes look like PEM text with a block of this label.
pub fn contains_label(bytes: &[u8], label: &str) -> bool {
    let begin = format!("-----BEGIN {label}-----");
    bytes.windows(begin.len()).any(|w| w == begin.as_bytes())
}

/// Decodes every block with `label`, in order. Text outside the blocks is ignored, as
/// OpenSSL does; a block that is not terminated or not base64 is an error.
pub fn decode_all(bytes: &[u8], label: &str) -> Result<Vec<Vec<u8>>> {
    let text = std::str::from_utf8(bytes).map_err(|_| FormatError::Malformed {
        what: "PEM",
        detail: "not UTF-8 text".into(),
    })?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body_start = start + begin.len();
        let stop = rest[body_start..]
            .find(&end)
            .ok_or(FormatError::Truncated { what: "PEM block" })?;
        let body: String = rest[body_start..body_start + stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| FormatError::Malformed {
                what: "PEM block",
                detail: e.to_string(),
            })?;
        out.push(der);
        rest = &rest[body_start + stop + end.len()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_wraps_at_64() {
        let der: Vec<u8> = (0..=255u8).collect();
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("\n-----END CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert_eq!(
            decode_all(pem.as_bytes(), "CERTIFICATE").unwrap(),
            vec![der]
        );
    }

    #[test]
    fn keytool_form_uses_crlf_between_lines_only() {
        let der = [7u8; 100];
        let pem = encode_keytool_rfc("CERTIFICATE", &der);
        assert_eq!(pem.matches("\r\n").count(), 2);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("==\n-----END CERTIFICATE-----\n"));
        assert_eq!(
            decode_all(pem.as_bytes(), "CERTIFICATE").unwrap(),
            vec![der.to_vec()]
        );
    }

    #[test]
    fn unterminated_or_bad_base64_is_an_error() {
        assert_eq!(
            decode_all(b"-----BEGIN CERTIFICATE-----\nAAAA", "CERTIFICATE").unwrap_err(),
            FormatError::Truncated { what: "PEM block" }
        );
        let bad = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            decode_all(bad, "CERTIFICATE"),
            Err(FormatError::Malformed {
                what: "PEM block",
                ..
            })
        ));
    }
}
