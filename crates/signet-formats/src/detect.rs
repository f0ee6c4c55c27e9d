//! Telling credential files apart by their content.

use crate::{FormatError, KeystoreType, Result, keystore, pem};

/// What a file holds, judged by its bytes alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A JKS or PKCS#12 keystore.
    Keystore(KeystoreType),
    /// One or more PEM `CERTIFICATE` blocks.
    PemCertificate,
    /// A DER X.509 certificate.
    DerCertificate,
    /// An Apple provisioning profile (CMS SignedData around a property list).
    ProvisioningProfile,
    /// A PEM PKCS#8 private key (an APNs / App Store Connect `.p8`).
    PrivateKey,
    /// A ZIP archive whose first entry is under `Payload/`: an iOS app (.ipa).
    Ipa,
}

/// SignedData's OID, which sits in the first bytes of a CMS ContentInfo.
const SIGNED_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];

/// Detects the kind of a credential file. JCEKS and empty files are errors that say so.
pub fn detect_file(bytes: &[u8]) -> Result<FileKind> {
    match keystore::detect(bytes) {
        Ok(kind) => return Ok(FileKind::Keystore(kind)),
        Err(FormatError::NotAKeystore) => {}
        Err(e) => return Err(e),
    }
    if pem::contains_label(bytes, "CERTIFICATE") {
        return Ok(FileKind::PemCertificate);
    }
    if pem::contains_label(bytes, "PRIVATE KEY") {
        return Ok(FileKind::PrivateKey);
    }
    // A local file header whose name starts with Payload/.
    if bytes.starts_with(b"PK\x03\x04") {
        let name_len = bytes
            .get(26..28)
            .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
        if bytes
            .get(30..30 + name_len)
            .is_some_and(|n| n.starts_with(b"Payload/"))
        {
            return Ok(FileKind::Ipa);
        }
    }
    if bytes.first() == Some(&0x30)
        && bytes
            .get(..24)
            .is_some_and(|h| h.windows(SIGNED_DATA.len()).any(|w| w == SIGNED_DATA))
    {
        return Ok(FileKind::ProvisioningProfile);
    }
    // A certificate is SEQUENCE { SEQUENCE (tbsCertificate) … }.
    if bytes.first() == Some(&0x30) && crate::Certificate::from_der(bytes).is_ok() {
        return Ok(FileKind::DerCertificate);
    }
    Err(FormatError::Malformed {
        what: "file",
        detail: "not a keystore (JKS, PKCS#12), an X.509 certificate (PEM, DER), a provisioning profile or a .p8 key".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(
            detect_file(&[0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]).unwrap(),
            FileKind::Keystore(KeystoreType::Jks)
        );
        assert_eq!(
            detect_file(&[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30]).unwrap(),
            FileKind::Keystore(KeystoreType::Pkcs12)
        );
        assert_eq!(
            detect_file(&[0xCE, 0xCE, 0xCE, 0xCE]).unwrap_err(),
            FormatError::UnsupportedJceks
        );
        assert_eq!(detect_file(&[]).unwrap_err(), FormatError::Empty);
        assert!(matches!(
            detect_file(b"hello world"),
            Err(FormatError::Malformed { what: "file", detail }) if detail.starts_with("not a keystore")
        ));
        assert_eq!(
            detect_file(b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n").unwrap(),
            FileKind::PemCertificate
        );
    }
}
