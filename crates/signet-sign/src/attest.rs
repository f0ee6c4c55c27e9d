//! What a to-be-signed message attests: the check a key held elsewhere (the server) makes
//! before it signs, and the digest it records for the audit log.
//!
//! A held key signs only the messages artifact signing produces, each parsed whole: a JAR
//! signature file (its manifest digest), an APK v2/v3 signer's signed data (its content
//! digest, for the key's own certificate), or the signed attributes of a code signature
//! (their message digest). Anything else is refused, so the key cannot be used as a
//! general-purpose signing oracle (for a certificate, a TLS handshake, a JWT).

use base64::Engine;
use signet_formats::Certificate;

use crate::{Purpose, SignError, apk::length_prefixed::Reader};

/// The digest a message commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The digest's algorithm: `sha256`, `sha256-chunked` (an APK's v2/v3 content
    /// digest), ….
    pub digest_algorithm: &'static str,
    /// The digest.
    pub digest: Vec<u8>,
}

impl Attested {
    /// The digest in lower-case hex.
    pub fn digest_hex(&self) -> String {
        use std::fmt::Write as _;
        self.digest
            .iter()
            .fold(String::with_capacity(self.digest.len() * 2), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

fn refuse(what: &str) -> SignError {
    SignError::Config(format!("refused to sign: {what}"))
}

/// Checks that `message` is a well-formed message of `purpose` and, where it names a
/// certificate, that it is `leaf`; returns the digest it attests.
pub fn attest(purpose: Purpose, message: &[u8], leaf: &Certificate) -> Result<Attested, SignError> {
    match purpose {
        Purpose::JarSignatureFile => jar_signature_file(message),
        Purpose::ApkV2SignedData => apk_signed_data(message, leaf, false),
        Purpose::ApkV3SignedData => apk_signed_data(message, leaf, true),
        Purpose::CmsSignedAttributes => cms_signed_attributes(message),
        _ => Err(refuse("this kind of message is not signed with a held key")),
    }
}

/// A JAR signature file (`.SF`): `Signature-Version: 1.0` first, and the digest of the
/// whole manifest in its main section.
fn jar_signature_file(message: &[u8]) -> Result<Attested, SignError> {
    let text = std::str::from_utf8(message).map_err(|_| refuse("a .SF file is UTF-8"))?;
    if !text.starts_with("Signature-Version: 1.0\r\n") {
        return Err(refuse(
            "not a JAR signature file (no Signature-Version: 1.0)",
        ));
    }
    let main = text.split("\r\n\r\n").next().unwrap_or_default();
    // Attribute lines wrap at 72 bytes: a line starting with a space continues the last.
    let mut lines: Vec<String> = Vec::new();
    for line in main.split("\r\n") {
        match (line.strip_prefix(' '), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(line.to_owned()),
        }
    }
    for (name, algorithm, len) in [
        ("SHA-256-Digest-Manifest", "sha256", 32),
        ("SHA-512-Digest-Manifest", "sha512", 64),
        ("SHA-384-Digest-Manifest", "sha384", 48),
        ("SHA1-Digest-Manifest", "sha1", 20),
    ] {
        let prefix = format!("{name}: ");
        if let Some(value) = lines.iter().find_map(|l| l.strip_prefix(&prefix)) {
            let digest = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
                .filter(|d| d.len() == len)
                .ok_or_else(|| refuse("the .SF file's manifest digest is malformed"))?;
            return Ok(Attested {
                digest_algorithm: algorithm,
                digest,
            });
        }
    }
    Err(refuse("the .SF file has no digest of the whole manifest"))
}

/// An APK v2 or v3 signer's signed data: digests, certificates (the first is the
/// signer's), for v3 the SDK range, and attributes, with nothing after.
fn apk_signed_data(message: &[u8], leaf: &Certificate, v3: bool) -> Result<Attested, SignError> {
    let malformed = || refuse("the APK signed data is malformed");
    let mut r = Reader::new(message);
    let digests = Reader::new(r.lp().ok_or_else(malformed)?)
        .all()
        .ok_or_else(malformed)?;
    let certificates = Reader::new(r.lp().ok_or_else(malformed)?)
        .all()
        .ok_or_else(malformed)?;
    if v3 {
        let min = r.u32().ok_or_else(malformed)?;
        let max = r.u32().ok_or_else(malformed)?;
        if min > max {
            return Err(malformed());
        }
    }
    Reader::new(r.lp().ok_or_else(malformed)?)
        .all()
        .ok_or_else(malformed)?;
    if !r.is_empty() {
        return Err(malformed());
    }
    if certificates.first() != Some(&leaf.der()) {
        return Err(refuse(
            "the signed data names another certificate than the held key's",
        ));
    }
    let first = digests.first().ok_or_else(malformed)?;
    let mut d = Reader::new(first);
    let algorithm = d.u32().ok_or_else(malformed)?;
    let digest = d.lp().ok_or_else(malformed)?;
    if !d.is_empty() {
        return Err(malformed());
    }
    let (digest_algorithm, len) = match algorithm {
        0x0101 | 0x0103 | 0x0201 | 0x0301 => ("sha256-chunked", 32),
        0x0102 | 0x0104 | 0x0202 => ("sha512-chunked", 64),
        0x0421 | 0x0423 | 0x0425 => ("sha256-verity", 40),
        _ => return Err(refuse("the signed data's algorithm is unknown")),
    };
    if digest.len() != len {
        return Err(malformed());
    }
    Ok(Attested {
        digest_algorithm,
        digest: digest.to_vec(),
    })
}

/// One DER element: tag, content, rest. Definite lengths only (DER).
fn der(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        let len = bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, rest.get(n..)?)
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

/// 1.2.840.113549.1.9.3 contentType
const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// 1.2.840.113549.1.9.4 messageDigest
const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];

/// CMS signed attributes (`SET OF Attribute`, DER): a content type and the message
/// digest of the signed content (for a code signature, its code directory's digest).
fn cms_signed_attributes(message: &[u8]) -> Result<Attested, SignError> {
    let malformed = || refuse("the signed attributes are malformed");
    let (tag, mut attrs, rest) = der(message).ok_or_else(malformed)?;
    if tag != 0x31 || !rest.is_empty() {
        return Err(malformed());
    }
    let mut digest = None;
    let mut content_type = false;
    while !attrs.is_empty() {
        let (tag, attr, next) = der(attrs).ok_or_else(malformed)?;
        attrs = next;
        if tag != 0x30 {
            return Err(malformed());
        }
        let (tag, oid, values) = der(attr).ok_or_else(malformed)?;
        if tag != 0x06 {
            return Err(malformed());
        }
        let (tag, values, after) = der(values).ok_or_else(malformed)?;
        if tag != 0x31 || !after.is_empty() {
            return Err(malformed());
        }
        if oid == CONTENT_TYPE {
            content_type = true;
        } else if oid == MESSAGE_DIGEST {
            let (tag, value, after) = der(values).ok_or_else(malformed)?;
            if tag != 0x04 || !after.is_empty() || digest.is_some() {
                return Err(malformed());
            }
            digest = Some(value.to_vec());
        }
    }
    let digest = digest.ok_or_else(|| refuse("the signed attributes carry no message digest"))?;
    if !content_type {
        return Err(refuse("the signed attributes carry no content type"));
    }
    let digest_algorithm = match digest.len() {
        20 => "sha1",
        32 => "sha256",
        48 => "sha384",
        64 => "sha512",
        _ => return Err(malformed()),
    };
    Ok(Attested {
        digest_algorithm,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use signet_formats::{DistinguishedName, KeyAlgorithm, KeyEntry, generate};

    use super::*;
    use crate::asn1::{oid, seq, set, tlv};

    fn entry(cn: &str) -> KeyEntry {
        let dn = DistinguishedName::parse(&format!("CN={cn}")).unwrap();
        generate::key_entry("k", KeyAlgorithm::EcP256, &dn, 30).unwrap()
    }

    fn lp(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    fn signed_data(alg: u32, digest: &[u8], cert: &[u8], v3: bool) -> Vec<u8> {
        let mut d = alg.to_le_bytes().to_vec();
        d.extend(lp(digest));
        let mut out = lp(&lp(&d));
        out.extend(lp(&lp(cert)));
        if v3 {
            out.extend(24u32.to_le_bytes());
            out.extend(i32::MAX.to_le_bytes());
        }
        out.extend(lp(&[]));
        out
    }

    fn refusal(r: Result<Attested, SignError>) -> String {
        match r {
            Err(SignError::Config(m)) => m,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn jar_signature_files_attest_the_manifest_digest_even_wrapped() {
        let leaf = entry("a").chain.remove(0);
        let sha256 = [0xabu8; 32];
        let sf = format!(
            "Signature-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\nSHA-256-Digest-Manifest: {}\r\n\r\nName: x\r\nSHA-256-Digest: AA==\r\n\r\n",
            base64::engine::general_purpose::STANDARD.encode(sha256)
        );
        let a = attest(Purpose::JarSignatureFile, sf.as_bytes(), &leaf).unwrap();
        assert_eq!(
            (a.digest_algorithm, a.digest_hex()),
            ("sha256", "ab".repeat(32))
        );
        // A SHA-512 line is longer than 72 bytes and continues on the next line.
        let b64 = base64::engine::general_purpose::STANDARD.encode([0x11u8; 64]);
        let line = format!("SHA-512-Digest-Manifest: {b64}");
        let (first, rest) = line.split_at(70);
        let sf = format!("Signature-Version: 1.0\r\n{first}\r\n {rest}\r\n\r\n");
        let a = attest(Purpose::JarSignatureFile, sf.as_bytes(), &leaf).unwrap();
        assert_eq!((a.digest_algorithm, a.digest), ("sha512", vec![0x11; 64]));
        // The per-entry sections never stand in for the whole manifest's digest.
        let sf = "Signature-Version: 1.0\r\n\r\nName: x\r\nSHA-256-Digest-Manifest: AAAA\r\n\r\n";
        assert_eq!(
            refusal(attest(Purpose::JarSignatureFile, sf.as_bytes(), &leaf)),
            "refused to sign: the .SF file has no digest of the whole manifest"
        );
        let sf = "Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: AAAA\r\n\r\n";
        assert_eq!(
            refusal(attest(Purpose::JarSignatureFile, sf.as_bytes(), &leaf)),
            "refused to sign: the .SF file's manifest digest is malformed"
        );
        assert_eq!(
            refusal(attest(Purpose::JarSignatureFile, leaf.der(), &leaf)),
            "refused to sign: a .SF file is UTF-8"
        );
    }

    #[test]
    fn apk_signed_data_attests_its_content_digest_for_the_keys_certificate_only() {
        let mut k = entry("a");
        let leaf = k.chain.remove(0);
        let other = entry("b").chain.remove(0);
        let v2 = signed_data(0x0201, &[5; 32], leaf.der(), false);
        let a = attest(Purpose::ApkV2SignedData, &v2, &leaf).unwrap();
        assert_eq!(
            (a.digest_algorithm, a.digest),
            ("sha256-chunked", vec![5; 32])
        );
        let v3 = signed_data(0x0104, &[6; 64], leaf.der(), true);
        let a = attest(Purpose::ApkV3SignedData, &v3, &leaf).unwrap();
        assert_eq!(
            (a.digest_algorithm, a.digest),
            ("sha512-chunked", vec![6; 64])
        );
        // v2's layout is not v3's, and the other way round.
        for (purpose, data) in [
            (Purpose::ApkV3SignedData, &v2),
            (Purpose::ApkV2SignedData, &v3),
        ] {
            assert_eq!(
                refusal(attest(purpose, data, &leaf)),
                "refused to sign: the APK signed data is malformed"
            );
        }
        assert_eq!(
            refusal(attest(
                Purpose::ApkV2SignedData,
                &signed_data(0x0201, &[5; 32], other.der(), false),
                &leaf
            )),
            "refused to sign: the signed data names another certificate than the held key's"
        );
        assert_eq!(
            refusal(attest(
                Purpose::ApkV2SignedData,
                &signed_data(0x0999, &[5; 32], leaf.der(), false),
                &leaf
            )),
            "refused to sign: the signed data's algorithm is unknown"
        );
        // A digest of the wrong length, and trailing bytes.
        assert_eq!(
            refusal(attest(
                Purpose::ApkV2SignedData,
                &signed_data(0x0201, &[5; 31], leaf.der(), false),
                &leaf
            )),
            "refused to sign: the APK signed data is malformed"
        );
        let mut trailing = v2.clone();
        trailing.push(0);
        assert_eq!(
            refusal(attest(Purpose::ApkV2SignedData, &trailing, &leaf)),
            "refused to sign: the APK signed data is malformed"
        );
        // Every prefix is refused, never a panic.
        for n in 0..v2.len() {
            assert!(attest(Purpose::ApkV2SignedData, &v2[..n], &leaf).is_err());
        }
    }

    /// 1.2.840.113549.1.9.3 and .4, as encoded OID contents.
    const CONTENT_TYPE_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
    const MESSAGE_DIGEST_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];

    fn attributes(digest: Option<&[u8]>, content_type: bool) -> Vec<u8> {
        let mut attrs = Vec::new();
        if content_type {
            attrs.push(seq(&[
                &oid(CONTENT_TYPE_OID),
                &set(&[&oid(crate::asn1::oids::DATA)]),
            ]));
        }
        if let Some(d) = digest {
            attrs.push(seq(&[&oid(MESSAGE_DIGEST_OID), &set(&[&tlv(0x04, d)])]));
        }
        let refs: Vec<&[u8]> = attrs.iter().map(Vec::as_slice).collect();
        set(&refs)
    }

    #[test]
    fn cms_signed_attributes_attest_their_message_digest() {
        let leaf = entry("a").chain.remove(0);
        let a = attest(
            Purpose::CmsSignedAttributes,
            &attributes(Some(&[9; 32]), true),
            &leaf,
        )
        .unwrap();
        assert_eq!((a.digest_algorithm, a.digest), ("sha256", vec![9; 32]));
        assert_eq!(
            refusal(attest(
                Purpose::CmsSignedAttributes,
                &attributes(None, true),
                &leaf
            )),
            "refused to sign: the signed attributes carry no message digest"
        );
        assert_eq!(
            refusal(attest(
                Purpose::CmsSignedAttributes,
                &attributes(Some(&[9; 32]), false),
                &leaf
            )),
            "refused to sign: the signed attributes carry no content type"
        );
        // A certificate is DER too, but no SET of attributes.
        assert_eq!(
            refusal(attest(Purpose::CmsSignedAttributes, leaf.der(), &leaf)),
            "refused to sign: the signed attributes are malformed"
        );
        let good = attributes(Some(&[9; 32]), true);
        for n in 0..good.len() {
            assert!(attest(Purpose::CmsSignedAttributes, &good[..n], &leaf).is_err());
        }
    }

    #[test]
    fn other_purposes_are_not_signed_with_a_held_key() {
        let leaf = entry("a").chain.remove(0);
        for purpose in [Purpose::ApkV4SignedData, Purpose::LineageNode] {
            assert_eq!(
                refusal(attest(purpose, leaf.der(), &leaf)),
                "refused to sign: this kind of message is not signed with a held key"
            );
        }
    }
}
