//! What a to-be-signed message attests: the check a key held elsewhere (the server) makes
//! before it signs, and the digest it records for the audit log.
//!
//! A held key signs only the messages artifact signing produces, each parsed whole: a JAR
//! signature file, an APK v2/v3 signer's signed data (one content digest, of the
//! algorithm asked for, for the key's own certificate), or the signed attributes of a code
//! signature (content type `data`, one message digest). Anything else is refused, so the
//! key cannot be used as a general-purpose signing oracle (for a certificate, a TLS
//! handshake, a JWT).
//!
//! The digest recorded is one the signature binds whatever the client claims: a .SF's own
//! SHA-256 (its main section's manifest digest is a claim JAR verifiers may skip, falling
//! back to the per-entry digests, so it is not recorded), an APK's v2/v3 content digest (the
//! only digest in the signed data), a code directory's digest.

use base64::Engine;
use signet_formats::{Certificate, SignatureScheme};

use crate::{
    Purpose, SignError,
    apk::{algorithms::ApkSigAlg, length_prefixed::Reader},
};

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

/// Checks that `message` is a well-formed message of `purpose`, to be signed with
/// `scheme`, and, where it names a certificate, that it is `leaf`; returns the digest the
/// signature will bind.
pub fn attest(
    purpose: Purpose,
    scheme: SignatureScheme,
    message: &[u8],
    leaf: &Certificate,
) -> Result<Attested, SignError> {
    match purpose {
        Purpose::JarSignatureFile => jar_signature_file(message),
        Purpose::ApkV2SignedData => apk_signed_data(message, scheme, leaf, false),
        Purpose::ApkV3SignedData => apk_signed_data(message, scheme, leaf, true),
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
    let mut found = None;
    for line in &lines {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        let Some(algorithm) = name
            .to_ascii_uppercase()
            .strip_suffix("-DIGEST-MANIFEST")
            .map(str::to_owned)
        else {
            continue;
        };
        let len = match algorithm.as_str() {
            "SHA-256" => 32,
            "SHA-384" => 48,
            "SHA-512" => 64,
            "SHA1" | "SHA-1" => 20,
            _ => return Err(refuse("the .SF file's manifest digest is malformed")),
        };
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .filter(|d| d.len() == len)
            .ok_or_else(|| refuse("the .SF file's manifest digest is malformed"))?;
        if found.replace(algorithm).is_some() {
            return Err(refuse(
                "the .SF file has more than one digest of the whole manifest",
            ));
        }
    }
    if found.is_none() {
        return Err(refuse("the .SF file has no digest of the whole manifest"));
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
    Ok(Attested {
        digest_algorithm: "sha256-of-signature-file",
        digest: digest.as_ref().to_vec(),
    })
}

/// An APK v2 or v3 signer's signed data: digests, certificates (the first is the
/// signer's), for v3 the SDK range, and attributes, with nothing after.
fn apk_signed_data(
    message: &[u8],
    scheme: SignatureScheme,
    leaf: &Certificate,
    v3: bool,
) -> Result<Attested, SignError> {
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
    // One digest, of the algorithm whose signature is asked for: with two, a verifier
    // that checks only one could accept content the other (the recorded one) does not
    // describe.
    let [only] = digests.as_slice() else {
        return Err(refuse(
            "the signed data must carry exactly one content digest",
        ));
    };
    let mut d = Reader::new(only);
    let algorithm = d.u32().ok_or_else(malformed)?;
    let digest = d.lp().ok_or_else(malformed)?;
    if !d.is_empty() {
        return Err(malformed());
    }
    let Some((alg_scheme, _)) = ApkSigAlg(algorithm).parts() else {
        return Err(refuse("the signed data's algorithm is unknown"));
    };
    if alg_scheme != scheme {
        return Err(refuse(
            "the signed data's algorithm is not the signature scheme asked for",
        ));
    }
    let (digest_algorithm, len) = match algorithm {
        0x0103 | 0x0201 => ("sha256-chunked", 32),
        _ => ("sha512-chunked", 64),
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
/// 1.2.840.113549.1.7.1 data
const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
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
            // Code signatures sign `data`; any other content type is not an IPA's.
            let (tag, value, after) = der(values).ok_or_else(malformed)?;
            if tag != 0x06 || value != DATA || !after.is_empty() || content_type {
                return Err(refuse("the signed attributes' content type is not data"));
            }
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
    use signet_formats::{
        DistinguishedName, KeyAlgorithm, KeyEntry, SignatureScheme as S, generate,
    };

    use super::*;
    use crate::asn1::{oid, seq, set, tlv};

    fn certificate(cn: &str) -> Certificate {
        let dn = DistinguishedName::parse(&format!("CN={cn}")).unwrap();
        let mut e: KeyEntry = generate::key_entry("k", KeyAlgorithm::EcP256, &dn, 30).unwrap();
        e.chain.remove(0)
    }

    fn lp(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    fn signed_data(digests: &[(u32, &[u8])], cert: &[u8], v3: bool) -> Vec<u8> {
        let mut seq_ = Vec::new();
        for (alg, digest) in digests {
            let mut d = alg.to_le_bytes().to_vec();
            d.extend(lp(digest));
            seq_.extend(lp(&d));
        }
        let mut out = lp(&seq_);
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

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn jar_signature_files_attest_their_own_digest() {
        let leaf = certificate("a");
        let jar = |sf: &str| {
            attest(
                Purpose::JarSignatureFile,
                S::EcdsaSha256,
                sf.as_bytes(),
                &leaf,
            )
        };
        let sf = format!(
            "Signature-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\nSHA-256-Digest-Manifest: {}\r\n\r\nName: x\r\nSHA-256-Digest: AA==\r\n\r\n",
            b64(&[0xab; 32])
        );
        // What is recorded is the .SF's own digest: what the signature binds.
        let a = jar(&sf).unwrap();
        let own = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, sf.as_bytes());
        assert_eq!(
            (a.digest_algorithm, a.digest.as_slice()),
            ("sha256-of-signature-file", own.as_ref())
        );
        // A SHA-512 line is longer than 72 bytes and continues on the next line.
        let line = format!("SHA-512-Digest-Manifest: {}", b64(&[0x11; 64]));
        let (first, rest) = line.split_at(70);
        assert!(
            jar(&format!(
                "Signature-Version: 1.0\r\n{first}\r\n {rest}\r\n\r\n"
            ))
            .is_ok()
        );
        // Two claims of the whole manifest's digest (in any case), or none, or a bad one.
        let two = format!(
            "Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: {}\r\nsha-256-digest-manifest: {}\r\n\r\n",
            b64(&[1; 32]),
            b64(&[2; 32])
        );
        assert_eq!(
            refusal(jar(&two)),
            "refused to sign: the .SF file has more than one digest of the whole manifest"
        );
        assert_eq!(
            refusal(jar(
                "Signature-Version: 1.0\r\n\r\nName: x\r\nSHA-256-Digest-Manifest: AAAA\r\n\r\n"
            )),
            "refused to sign: the .SF file has no digest of the whole manifest"
        );
        assert_eq!(
            refusal(jar(
                "Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: AAAA\r\n\r\n"
            )),
            "refused to sign: the .SF file's manifest digest is malformed"
        );
        assert_eq!(
            refusal(jar("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0")),
            "refused to sign: not a JAR signature file (no Signature-Version: 1.0)"
        );
        assert_eq!(
            refusal(attest(
                Purpose::JarSignatureFile,
                S::EcdsaSha256,
                leaf.der(),
                &leaf
            )),
            "refused to sign: a .SF file is UTF-8"
        );
    }

    #[test]
    fn apk_signed_data_attests_one_content_digest_of_the_scheme_for_the_keys_certificate() {
        let leaf = certificate("a");
        let other = certificate("b");
        let v2 = signed_data(&[(0x0201, &[5; 32])], leaf.der(), false);
        let a = attest(Purpose::ApkV2SignedData, S::EcdsaSha256, &v2, &leaf).unwrap();
        assert_eq!(
            (a.digest_algorithm, a.digest),
            ("sha256-chunked", vec![5; 32])
        );
        let v3 = signed_data(&[(0x0104, &[6; 64])], leaf.der(), true);
        let a = attest(Purpose::ApkV3SignedData, S::RsaPkcs1Sha512, &v3, &leaf).unwrap();
        assert_eq!(
            (a.digest_algorithm, a.digest),
            ("sha512-chunked", vec![6; 64])
        );
        let refused = |purpose, scheme, data: &[u8]| refusal(attest(purpose, scheme, data, &leaf));
        // v2's layout is not v3's, and the other way round.
        assert_eq!(
            refused(Purpose::ApkV3SignedData, S::EcdsaSha256, &v2),
            "refused to sign: the APK signed data is malformed"
        );
        assert_eq!(
            refused(Purpose::ApkV2SignedData, S::RsaPkcs1Sha512, &v3),
            "refused to sign: the APK signed data is malformed"
        );
        assert_eq!(
            refused(Purpose::ApkV2SignedData, S::RsaPkcs1Sha256, &v2),
            "refused to sign: the signed data's algorithm is not the signature scheme asked for"
        );
        assert_eq!(
            refused(
                Purpose::ApkV2SignedData,
                S::EcdsaSha256,
                &signed_data(&[(0x0201, &[5; 32])], other.der(), false)
            ),
            "refused to sign: the signed data names another certificate than the held key's"
        );
        assert_eq!(
            refused(
                Purpose::ApkV2SignedData,
                S::EcdsaSha256,
                &signed_data(&[(0x0999, &[5; 32])], leaf.der(), false)
            ),
            "refused to sign: the signed data's algorithm is unknown"
        );
        // Two digests: a verifier checking one could accept what the other describes.
        assert_eq!(
            refused(
                Purpose::ApkV2SignedData,
                S::EcdsaSha256,
                &signed_data(&[(0x0201, &[1; 32]), (0x0202, &[2; 64])], leaf.der(), false)
            ),
            "refused to sign: the signed data must carry exactly one content digest"
        );
        assert_eq!(
            refused(
                Purpose::ApkV2SignedData,
                S::EcdsaSha256,
                &signed_data(&[(0x0201, &[5; 31])], leaf.der(), false)
            ),
            "refused to sign: the APK signed data is malformed"
        );
        let mut trailing = v2.clone();
        trailing.push(0);
        assert_eq!(
            refused(Purpose::ApkV2SignedData, S::EcdsaSha256, &trailing),
            "refused to sign: the APK signed data is malformed"
        );
        // Every prefix is refused, never a panic.
        for n in 0..v2.len() {
            assert!(attest(Purpose::ApkV2SignedData, S::EcdsaSha256, &v2[..n], &leaf).is_err());
        }
    }

    /// 1.2.840.113549.1.9.3 and .4, as encoded OID contents.
    const CONTENT_TYPE_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
    const MESSAGE_DIGEST_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];

    fn attributes(digest: Option<&[u8]>, content_type: Option<&[u8]>) -> Vec<u8> {
        let mut attrs = Vec::new();
        if let Some(ct) = content_type {
            attrs.push(seq(&[&oid(CONTENT_TYPE_OID), &set(&[&oid(ct)])]));
        }
        if let Some(d) = digest {
            attrs.push(seq(&[&oid(MESSAGE_DIGEST_OID), &set(&[&tlv(0x04, d)])]));
        }
        let refs: Vec<&[u8]> = attrs.iter().map(Vec::as_slice).collect();
        set(&refs)
    }

    #[test]
    fn cms_signed_attributes_attest_their_message_digest() {
        let leaf = certificate("a");
        let cms = |data: &[u8]| attest(Purpose::CmsSignedAttributes, S::EcdsaSha256, data, &leaf);
        let data = crate::asn1::oids::DATA;
        let a = cms(&attributes(Some(&[9; 32]), Some(data))).unwrap();
        assert_eq!((a.digest_algorithm, a.digest), ("sha256", vec![9; 32]));
        assert_eq!(
            refusal(cms(&attributes(None, Some(data)))),
            "refused to sign: the signed attributes carry no message digest"
        );
        assert_eq!(
            refusal(cms(&attributes(Some(&[9; 32]), None))),
            "refused to sign: the signed attributes carry no content type"
        );
        // Another content type (signedData) is not a code signature's.
        assert_eq!(
            refusal(cms(&attributes(
                Some(&[9; 32]),
                Some(crate::asn1::oids::SIGNED_DATA)
            ))),
            "refused to sign: the signed attributes' content type is not data"
        );
        // A certificate is DER too, but no SET of attributes.
        assert_eq!(
            refusal(cms(leaf.der())),
            "refused to sign: the signed attributes are malformed"
        );
        let good = attributes(Some(&[9; 32]), Some(data));
        for n in 0..good.len() {
            assert!(cms(&good[..n]).is_err());
        }
    }

    #[test]
    fn other_purposes_are_not_signed_with_a_held_key() {
        let leaf = certificate("a");
        for purpose in [Purpose::ApkV4SignedData, Purpose::LineageNode] {
            assert_eq!(
                refusal(attest(purpose, S::EcdsaSha256, leaf.der(), &leaf)),
                "refused to sign: this kind of message is not signed with a held key"
            );
        }
    }
}
