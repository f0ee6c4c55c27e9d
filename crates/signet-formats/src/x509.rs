//! X.509 certificates (RFC 5280) and what signet shows about them.
//!
//! ```text
//! Certificate ::= SEQUENCE {
//!     tbsCertificate       TBSCertificate,
//!     signatureAlgorithm   AlgorithmIdentifier,
//!     signatureValue       BIT STRING }
//! ```
//!
//! Names are printed the way keytool prints them (`CN=…, OU=…, O=…, C=…`, most specific
//! first), fingerprints in keytool's colon form, so a user can compare signet's output with
//! `keytool -list -v`, the Play Console and the Firebase console by eye.

use aws_lc_rs::{digest, signature};
use base64::Engine as _;
use md5::Digest as _;
use time::{OffsetDateTime, macros::datetime};
use x509_parser::{
    prelude::{FromDer, X509Certificate},
    public_key::PublicKey,
    x509::X509Name,
};

use crate::{FormatError, Result};

/// Google Play requires upload and app-signing certificates valid until at least this day.
pub const PLAY_VALIDITY_DEADLINE: OffsetDateTime = datetime!(2033-10-22 00:00 UTC);

/// The subject of the debug certificate the Android SDK generates.
pub const ANDROID_DEBUG_SUBJECT: &str = "CN=Android Debug, O=Android, C=US";

/// A DER-encoded X.509 certificate, parsed once when read.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    info: CertificateInfo,
    key_bits: Vec<u8>,
    spki: Vec<u8>,
    issuer_der: Vec<u8>,
    serial_der: Vec<u8>,
    tbs: Vec<u8>,
    signature_oid: String,
    signature: Vec<u8>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

/// What signet derives from a certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateInfo {
    /// Subject, keytool style (`CN=…, O=…, C=…`).
    pub subject: String,
    /// Issuer, keytool style.
    pub issuer: String,
    /// Serial number in lower-case hexadecimal without leading zeros, as keytool prints it.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Signature algorithm, in Java's names (`SHA256withRSA`).
    pub signature_algorithm: String,
    /// Key algorithm: `RSA`, `EC` or the OID.
    pub key_algorithm: String,
    /// Key size in bits.
    pub key_size: u32,
    /// EC curve name (`secp256r1`), for EC keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_curve: Option<String>,
    /// MD5, SHA-1 and SHA-256 fingerprints.
    pub fingerprints: Fingerprints,
    /// Whether this is the Android SDK's debug certificate.
    pub is_debug: bool,
    /// For Apple code-signing certificates: kind, team id and name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apple: Option<crate::apple::AppleInfo>,
}

/// Certificate fingerprints: digests of the DER encoding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fingerprints {
    /// MD5, colon-separated upper-case hex.
    pub md5: String,
    /// SHA-1, colon-separated upper-case hex (keytool's `SHA1:` line).
    pub sha1: String,
    /// SHA-256, colon-separated upper-case hex (keytool's `SHA256:` line).
    pub sha256: String,
    /// Base64 of the SHA-1 digest: the "key hash" Facebook Login and some Google sign-in
    /// setups ask for.
    pub base64_sha1: String,
    /// The raw SHA-1 digest.
    #[serde(skip)]
    pub sha1_raw: [u8; 20],
}

impl CertificateInfo {
    /// Whether validity ends before Google Play's 2033-10-22 deadline.
    pub fn expires_before_play_deadline(&self) -> bool {
        self.not_after < PLAY_VALIDITY_DEADLINE
    }

    /// Whether the certificate is outside its validity period at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now > self.not_after
    }

    /// `2048-bit RSA key` / `256-bit EC (secp256r1) key`, as keytool words it.
    pub fn key_description(&self) -> String {
        match &self.key_curve {
            Some(curve) => format!("{}-bit {} ({curve}) key", self.key_size, self.key_algorithm),
            None => format!("{}-bit {} key", self.key_size, self.key_algorithm),
        }
    }
}

impl Certificate {
    /// Parses DER, rejecting bytes after the certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| {
            FormatError::BadCertificate(
                match e {
                    x509_parser::nom::Err::Incomplete(_) => "the DER data ends early (truncated)",
                    _ => "not an X.509 certificate (its DER structure does not parse)",
                }
                .to_owned(),
            )
        })?;
        if !rest.is_empty() {
            return Err(FormatError::TrailingData("certificate"));
        }
        let info = inspect(&cert, der)?;
        let key_bits = cert.public_key().subject_public_key.data.to_vec();
        Ok(Certificate {
            der: der.to_vec(),
            info,
            key_bits,
            spki: cert.public_key().raw.to_vec(),
            issuer_der: cert.issuer().as_raw().to_vec(),
            serial_der: cert.raw_serial().to_vec(),
            tbs: cert.tbs_certificate.as_ref().to_vec(),
            signature_oid: cert.signature_algorithm.algorithm.to_id_string(),
            signature: cert.signature_value.data.to_vec(),
        })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// What signet derived from the certificate.
    pub fn info(&self) -> &CertificateInfo {
        &self.info
    }

    /// Shorthand for `info().fingerprints`.
    pub fn fingerprints(&self) -> &Fingerprints {
        &self.info.fingerprints
    }

    /// The contents of the `subjectPublicKey` bit string.
    pub fn public_key_bits(&self) -> Result<&[u8]> {
        Ok(&self.key_bits)
    }

    /// PEM, byte for byte what `keytool -exportcert -rfc` writes (see
    /// [`crate::pem::encode_keytool_rfc`]).
    pub fn to_pem(&self) -> String {
        crate::pem::encode_keytool_rfc("CERTIFICATE", &self.der)
    }

    /// Verifies a signature made by [`crate::PrivateKey::sign`] with this certificate's key.
    pub fn verify_signature(&self, message: &[u8], sig: &[u8]) -> Result<bool> {
        let scheme = match (
            self.info.key_algorithm.as_str(),
            self.info.key_curve.as_deref(),
        ) {
            ("RSA", _) => crate::SignatureScheme::RsaPkcs1Sha256,
            ("EC", Some("secp256r1")) => crate::SignatureScheme::EcdsaSha256,
            ("EC", Some("secp384r1")) => crate::SignatureScheme::EcdsaSha384,
            (alg, _) => return Err(FormatError::UnsupportedAlgorithm(format!("{alg} key"))),
        };
        self.verify_with(scheme, message, sig)
    }
}

impl Certificate {
    /// Verifies `sig` over `message` under an explicit scheme with this certificate's key.
    /// `Ok(false)` is a signature that does not verify; an error is a scheme that does not
    /// fit the key.
    pub fn verify_with(
        &self,
        scheme: crate::SignatureScheme,
        message: &[u8],
        sig: &[u8],
    ) -> Result<bool> {
        use crate::SignatureScheme as S;
        let curve = self.info.key_curve.as_deref();
        let alg: &dyn signature::VerificationAlgorithm =
            match (scheme, self.info.key_algorithm.as_str(), curve) {
                (S::RsaPkcs1Sha1, "RSA", _) => {
                    &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
                }
                (S::RsaPkcs1Sha256, "RSA", _) => {
                    &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
                }
                (S::RsaPkcs1Sha512, "RSA", _) => {
                    &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
                }
                (S::EcdsaSha256, "EC", Some("secp256r1")) => &signature::ECDSA_P256_SHA256_ASN1,
                (S::EcdsaSha384, "EC", Some("secp256r1")) => &signature::ECDSA_P256_SHA384_ASN1,
                (S::EcdsaSha512, "EC", Some("secp256r1")) => &signature::ECDSA_P256_SHA512_ASN1,
                (S::EcdsaSha384, "EC", Some("secp384r1")) => &signature::ECDSA_P384_SHA384_ASN1,
                (S::EcdsaSha256, "EC", Some("secp384r1")) => &signature::ECDSA_P384_SHA256_ASN1,
                (S::EcdsaSha512, "EC", Some("secp384r1")) => &signature::ECDSA_P384_SHA512_ASN1,
                (scheme, alg, _) => {
                    return Err(FormatError::UnsupportedAlgorithm(format!(
                        "{scheme:?} with a {alg} key"
                    )));
                }
            };
        Ok(signature::UnparsedPublicKey::new(alg, &self.key_bits)
            .verify(message, sig)
            .is_ok())
    }

    /// Whether `issuer` signed this certificate (names match and the signature verifies).
    pub fn is_issued_by(&self, issuer: &Certificate) -> Result<bool> {
        use crate::SignatureScheme as S;
        if self.info.issuer != issuer.info.subject {
            return Ok(false);
        }
        let scheme = match self.signature_oid.as_str() {
            "1.2.840.113549.1.1.5" => S::RsaPkcs1Sha1,
            "1.2.840.113549.1.1.11" => S::RsaPkcs1Sha256,
            "1.2.840.113549.1.1.12" => S::RsaPkcs1Sha384,
            "1.2.840.113549.1.1.13" => S::RsaPkcs1Sha512,
            "1.2.840.10045.4.3.2" => S::EcdsaSha256,
            "1.2.840.10045.4.3.3" => S::EcdsaSha384,
            "1.2.840.10045.4.3.4" => S::EcdsaSha512,
            other => {
                return Err(FormatError::UnsupportedAlgorithm(format!(
                    "certificate signature {other}"
                )));
            }
        };
        issuer.verify_with(scheme, &self.tbs, &self.signature)
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn subject_public_key_info(&self) -> &[u8] {
        &self.spki
    }

    /// The DER encoding of the issuer name and the serial number's content bytes, as a
    /// CMS `IssuerAndSerialNumber` needs them.
    pub fn issuer_and_serial(&self) -> (&[u8], &[u8]) {
        (&self.issuer_der, &self.serial_der)
    }
}

fn inspect(cert: &X509Certificate<'_>, der: &[u8]) -> Result<CertificateInfo> {
    let subject = format_name(cert.subject());
    let issuer = format_name(cert.issuer());
    let validity = cert.validity();
    let not_before = validity.not_before.to_datetime();
    let not_after = validity.not_after.to_datetime();

    let spki = cert.public_key();
    let (key_algorithm, key_size, key_curve) = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".to_owned(), rsa.key_size(), None),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| curve_name(&oid.to_id_string()));
            let size = match curve.as_deref() {
                Some("secp256r1") => 256,
                Some("secp384r1") => 384,
                Some("secp521r1") => 521,
                _ => point.key_size(),
            };
            ("EC".to_owned(), size, curve)
        }
        Ok(other) => (
            spki.algorithm.algorithm.to_id_string(),
            other.key_size(),
            None,
        ),
        Err(e) => return Err(FormatError::BadCertificate(format!("public key: {e}"))),
    };

    let signature_algorithm = signature_name(&cert.signature_algorithm.algorithm.to_id_string());
    let is_debug = subject == ANDROID_DEBUG_SUBJECT;
    let first = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.next().and_then(|a| a.as_str().ok()).map(str::to_owned)
    };
    let common_name = first(&mut cert.subject().iter_common_name());
    let unit = first(&mut cert.subject().iter_organizational_unit());
    let extension_oids: Vec<String> = cert
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    let apple = crate::apple::classify(common_name.as_deref(), unit.as_deref(), &extension_oids);
    Ok(CertificateInfo {
        subject,
        issuer,
        serial: serial_hex(cert.raw_serial()),
        not_before,
        not_after,
        signature_algorithm,
        key_algorithm,
        key_size: u32::try_from(key_size).unwrap_or(0),
        key_curve,
        fingerprints: fingerprints(der),
        is_debug,
        apple,
    })
}

/// Computes the fingerprints of a DER certificate.
pub fn fingerprints(der: &[u8]) -> Fingerprints {
    let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    let sha256 = digest::digest(&digest::SHA256, der);
    let md5 = md5::Md5::digest(der);
    let mut sha1_raw = [0u8; 20];
    sha1_raw.copy_from_slice(sha1.as_ref());
    Fingerprints {
        md5: colon_hex(&md5),
        sha1: colon_hex(sha1.as_ref()),
        sha256: colon_hex(sha256.as_ref()),
        base64_sha1: base64::engine::general_purpose::STANDARD.encode(sha1.as_ref()),
        sha1_raw,
    }
}

/// `AB:CD:…`, as keytool prints digests.
pub fn colon_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0xf)]));
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Lower-case hex without separators.
pub fn hex_lower(bytes: &[u8]) -> String {
    const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0xf)]));
    }
    out
}

/// Java's `BigInteger.toString(16)` of a positive serial: lower case, no leading zeros.
fn serial_hex(raw: &[u8]) -> String {
    let hex = hex_lower(raw);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Formats a name as Java's `X500Name.toString()` does: RDNs most-specific first,
/// separated by `, `, attribute keywords as RFC 1779 (plus keytool's extras).
pub(crate) fn format_name(name: &X509Name<'_>) -> String {
    let mut rdns: Vec<String> = Vec::new();
    for rdn in name.iter() {
        let parts: Vec<String> = rdn
            .iter()
            .map(|atv| {
                let oid = atv.attr_type().to_id_string();
                let key =
                    attribute_keyword(&oid).map_or_else(|| format!("OID.{oid}"), str::to_owned);
                let value = atv.as_str().map_or_else(
                    |_| format!("#{}", hex_lower(atv.attr_value().data)),
                    quote_value,
                );
                format!("{key}={value}")
            })
            .collect();
        rdns.push(parts.join(" + "));
    }
    rdns.reverse();
    rdns.join(", ")
}

fn quote_value(s: &str) -> String {
    let special = |c: char| {
        matches!(
            c,
            ',' | '+' | '=' | '<' | '>' | '#' | ';' | '"' | '\\' | '\n'
        )
    };
    if s.contains(special) || s.starts_with(' ') || s.ends_with(' ') {
        let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    } else {
        s.to_owned()
    }
}

/// The keyword Java prints for an attribute OID, and accepts in `-dname`.
pub(crate) fn attribute_keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.12" => "T",
        "1.2.840.113549.1.9.1" => "EMAILADDRESS",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "secp256r1".into(),
        "1.3.132.0.34" => "secp384r1".into(),
        "1.3.132.0.35" => "secp521r1".into(),
        other => other.into(),
    }
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "MD5withRSA".into(),
        "1.2.840.113549.1.1.5" => "SHA1withRSA".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.113549.1.1.11" => "SHA256withRSA".into(),
        "1.2.840.113549.1.1.12" => "SHA384withRSA".into(),
        "1.2.840.113549.1.1.13" => "SHA512withRSA".into(),
        "1.2.840.10045.4.1" => "SHA1withECDSA".into(),
        "1.2.840.10045.4.3.2" => "SHA256withECDSA".into(),
        "1.2.840.10045.4.3.3" => "SHA384withECDSA".into(),
        "1.2.840.10045.4.3.4" => "SHA512withECDSA".into(),
        "1.2.840.10040.4.3" => "SHA1withDSA".into(),
        "2.16.840.1.101.3.4.3.2" => "SHA256withDSA".into(),
        "1.3.101.112" => "Ed25519".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_printed_like_biginteger() {
        assert_eq!(serial_hex(&[0x00, 0x0a, 0xbc]), "abc");
        assert_eq!(serial_hex(&[0x00]), "0");
        assert_eq!(serial_hex(&[0x7f, 0x01]), "7f01");
    }

    #[test]
    fn colon_hex_is_upper_case() {
        assert_eq!(colon_hex(&[0x0a, 0xff, 0x00]), "0A:FF:00");
        assert_eq!(colon_hex(&[]), "");
    }

    #[test]
    fn values_with_specials_are_quoted() {
        assert_eq!(quote_value("Acme, Inc."), "\"Acme, Inc.\"");
        assert_eq!(quote_value("plain"), "plain");
        assert_eq!(quote_value("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn rejects_garbage_and_trailing_bytes() {
        for bad in [&b"not a certificate"[..], &[]] {
            assert!(matches!(
                Certificate::from_der(bad),
                Err(FormatError::BadCertificate(_))
            ));
        }
        let key = crate::PrivateKey::generate(crate::KeyAlgorithm::EcP256).unwrap();
        let dn = crate::DistinguishedName::parse("CN=t").unwrap();
        let cert = crate::generate::self_signed(&key, &dn, 1).unwrap();
        let mut der = cert.der().to_vec();
        der.push(0);
        assert_eq!(
            Certificate::from_der(&der).unwrap_err(),
            FormatError::TrailingData("certificate")
        );
    }

    #[test]
    fn debug_subject_is_flagged_and_play_deadline_checked() {
        let key = crate::PrivateKey::generate(crate::KeyAlgorithm::EcP256).unwrap();
        let dn = crate::DistinguishedName::parse(ANDROID_DEBUG_SUBJECT).unwrap();
        let cert = crate::generate::self_signed(&key, &dn, 365).unwrap();
        assert!(cert.info().is_debug);
        assert_eq!(cert.info().subject, ANDROID_DEBUG_SUBJECT);
        assert!(cert.info().expires_before_play_deadline());

        let dn = crate::DistinguishedName::parse("CN=Release, O=Android, C=US").unwrap();
        let cert = crate::generate::self_signed(&key, &dn, 10_000).unwrap();
        assert!(!cert.info().is_debug);
        assert!(!cert.info().expires_before_play_deadline());
    }

    #[test]
    fn signatures_verify_only_with_the_matching_certificate() {
        let dn = crate::DistinguishedName::parse("CN=t").unwrap();
        for alg in [
            crate::KeyAlgorithm::Rsa2048,
            crate::KeyAlgorithm::EcP256,
            crate::KeyAlgorithm::EcP384,
        ] {
            let key = crate::PrivateKey::generate(alg).unwrap();
            let cert = crate::generate::self_signed(&key, &dn, 1).unwrap();
            let sig = key.sign(b"message").unwrap();
            assert!(cert.verify_signature(b"message", &sig).unwrap(), "{alg:?}");
            assert!(!cert.verify_signature(b"massage", &sig).unwrap(), "{alg:?}");
            assert!(key.matches(&cert).unwrap());
            let other = crate::PrivateKey::generate(alg).unwrap();
            assert!(!other.matches(&cert).unwrap());
        }
    }
}
